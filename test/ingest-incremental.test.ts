// Incremental ingest (issue 18): a restart does not read input files again whose size and mtime
// are those recorded when the campaign read them; changed files are read again and reported; new
// files are added. Real embedded PostgreSQL, the engine's own ingest.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaign } from '../engine/campaign.js';
import { collectStructureFiles, ingest } from '../engine/ingest.js';
import { Store } from '../store/index.js';
import { embeddedStore } from './engine-harness.js';

const poscar = (a: number, el = 'Cu') => `x\n1.0\n${a} 0 0\n0 ${a} 0\n0 0 ${a}\n${el}\n1\nDirect\n0 0 0\n`;

describe('engine: incremental ingest', () => {
  let dir = '';
  let store: Store;
  let close: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    ({ dir, store, close } = await embeddedStore('ingest-incremental-'));
  }, 120_000);

  afterAll(() => close());

  it('reads each file once; a changed file is read again and named; a new file is added', async () => {
    const inputs = join(dir, 'inputs');
    mkdirSync(inputs, { recursive: true });
    for (let i = 0; i < 5; i++) writeFileSync(join(inputs, `s${i}.vasp`), poscar(2.5 + 0.01 * i), { flag: 'w' });
    // one unreadable-as-structure file: rejected once, not read again either
    writeFileSync(join(inputs, 'bad.vasp'), 'not a poscar\n');
    const { campaign } = await createCampaign(store, { name: 'inc', model: 'lennard-jones', preset: 'full-bz', relaxProtocol: 'phononbench', supercell: undefined, inputs: [inputs] });
    const files = () => collectStructureFiles([inputs]).files;

    const first = await ingest(store, campaign.id, 1, files());
    expect(first).toMatchObject({ files: 6, structures: 5, rejectedAtIngest: 1, newItems: 6, unchanged: 0, changed: [] });

    const again = await ingest(store, campaign.id, 1, files());
    expect(again).toMatchObject({ files: 6, structures: 0, rejectedAtIngest: 0, newItems: 0, unchanged: 6, changed: [] });

    // a changed file: read again, reported, its item keeps the first content (no new item)
    writeFileSync(join(inputs, 's2.vasp'), poscar(2.9));
    const later = new Date(Date.now() + 5_000);
    utimesSync(join(inputs, 's2.vasp'), later, later);
    // a new file
    writeFileSync(join(inputs, 's9.vasp'), poscar(3.1, 'Ag'));
    const third = await ingest(store, campaign.id, 1, files());
    expect(third.unchanged).toBe(5);
    expect(third.changed).toEqual([join(inputs, 's2.vasp')]);
    expect(third.structures).toBe(2);
    expect(third.newItems).toBe(1);
    const p = await store.progress(campaign.id);
    expect(p.total).toBe(7);

    // and now all seven are known
    const fourth = await ingest(store, campaign.id, 1, files());
    expect(fourth).toMatchObject({ unchanged: 7, newItems: 0, changed: [] });
  }, 120_000);
});
