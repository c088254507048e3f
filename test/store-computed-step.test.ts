// store.putComputedStep writes in one statement exactly what putStep + recordAttempt write in four
// (the step's row, the item's use of it, the 'computed' attempt, the item's attempt counter),
// and a second store of the same key counts as putStep's does; store.serveStep likewise for
// getStep + a 'served' attempt. Real embedded PostgreSQL.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaign } from '../engine/campaign.js';
import { ingest } from '../engine/ingest.js';
import { type PutStep, Store } from '../store/index.js';
import { embeddedStore } from './engine-harness.js';

const poscar = (a: number) => `x\n1.0\n${a} 0 0\n0 ${a} 0\n0 0 ${a}\nCu\n1\nDirect\n0 0 0\n`;

describe('store: a computed step in one commit', () => {
  let dir = '';
  let store: Store;
  let close: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    ({ dir, store, close } = await embeddedStore('store-computed-step-'));
  }, 120_000);

  afterAll(() => close());

  it('writes the same rows as putStep + recordAttempt, and counts a repeated store the same way', async () => {
    const inputs = join(dir, 'inputs');
    mkdirSync(inputs, { recursive: true });
    for (let i = 0; i < 2; i++) writeFileSync(join(inputs, `s${i}.vasp`), poscar(2.5 + 0.01 * i));
    const { campaign } = await createCampaign(store, { name: 'one-commit', model: 'lennard-jones', preset: 'full-bz', relaxProtocol: 'phononbench', supercell: undefined, inputs: [inputs] });
    await ingest(store, campaign.id, 1, [inputs]);
    const ids = (await store.pool.query<{ id: string }>('select id from campaign_items where campaign_id = $1 order by id', [campaign.id])).rows.map((r) => Number(r.id));
    expect(ids).toHaveLength(2);
    let startedAt = await store.now();
    const step = (key: string): PutStep => ({ key, step: 'relax', cacheVersion: 'relax-x', inputRefs: ['abc'], params: { fmax: 0.01 }, modelName: 'm', modelSha256: 'sha', codeSha: 'code', host: 'h', durationMs: 12.5, modelMs: 10, payload: { energy: -1.25, forces: [[0, 0, 1e-3]] }, startedAt });

    const a = { itemId: ids[0]!, generation: 1 };
    await store.putStep(step('key-a'), a);
    await store.recordAttempt({ ...a, step: 'relax', activityAttempt: 2, outcome: 'computed', host: 'h', durationMs: 12.5 });
    const b = { itemId: ids[1]!, generation: 1 };
    await store.putComputedStep(step('key-b'), b, 2);

    const rows = async (table: string, where: string, arg: unknown, drop: string[]) =>
      (await store.pool.query(`select * from ${table} where ${where} = $1`, [arg])).rows.map((r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => !drop.includes(k))));
    const stepRow = (key: string) => rows('step_results', 'key', key, ['key', 'created_at']);
    expect(await stepRow('key-b')).toEqual(await stepRow('key-a'));
    expect(await stepRow('key-b')).toHaveLength(1);
    const uses = (item: number) => rows('step_uses', 'campaign_item_id', item, ['campaign_item_id', 'key', 'at']);
    expect(await uses(b.itemId)).toEqual(await uses(a.itemId));
    expect(await uses(b.itemId)).toEqual([{ generation: 1, step: 'relax', served_from_store: false }]);
    const attempts = (item: number) => rows('attempts', 'campaign_item_id', item, ['id', 'campaign_item_id', 'at', 'created_at']);
    expect(await attempts(b.itemId)).toEqual(await attempts(a.itemId));
    expect(await attempts(b.itemId)).toHaveLength(1);
    const counter = async (item: number) => (await store.pool.query<{ attempts: number }>('select attempts from campaign_items where id = $1', [item])).rows[0]!.attempts;
    expect(await counter(b.itemId)).toBe(1);
    expect(await counter(b.itemId)).toBe(await counter(a.itemId));

    // the same key stored again by this item (a retried activity): the row counts it, the use stays one
    // (started more than 1 s after the first was stored: a recomputation, not an overlap)
    await new Promise((r) => setTimeout(r, 1100));
    startedAt = await store.now();
    await store.putStep(step('key-a'), a);
    await store.recordAttempt({ ...a, step: 'relax', activityAttempt: 3, outcome: 'computed', host: 'h', durationMs: 12.5 });
    await store.putComputedStep(step('key-b'), b, 3);
    expect(await stepRow('key-b')).toEqual(await stepRow('key-a'));
    expect((await stepRow('key-b'))[0]!['computations']).toBe(2);
    expect(await uses(b.itemId)).toHaveLength(1);
    expect(await attempts(b.itemId)).toEqual(await attempts(a.itemId));
    expect(await counter(b.itemId)).toBe(2);

    // served: serveStep writes what getStep + a 'served' recordAttempt write; a miss writes nothing
    const [c, d] = [{ itemId: ids[0]!, generation: 2 }, { itemId: ids[1]!, generation: 2 }];
    const viaGet = await store.getStep<{ energy: number }>('key-a', c);
    await store.recordAttempt({ ...c, step: 'relax', activityAttempt: 1, outcome: 'served', host: 'h', durationMs: 0 });
    const viaServe = await store.serveStep<{ energy: number }>('key-b', d, { step: 'relax', activityAttempt: 1, host: 'h' });
    expect(viaServe).toEqual({ ...viaGet, key: 'key-b' });
    expect(viaServe!.payload.energy).toBe(-1.25);
    expect(await stepRow('key-b')).toEqual(await stepRow('key-a'));
    expect((await stepRow('key-b'))[0]!['hits']).toBe(1);
    expect(await uses(d.itemId)).toEqual(await uses(c.itemId));
    expect(await attempts(d.itemId)).toEqual(await attempts(c.itemId));
    expect(await counter(d.itemId)).toBe(3);
    const before = { attempts: await attempts(d.itemId), uses: await uses(d.itemId), counter: await counter(d.itemId) };
    expect(await store.serveStep('no-such-key', d, { step: 'relax', activityAttempt: 1, host: 'h' })).toBeUndefined();
    expect({ attempts: await attempts(d.itemId), uses: await uses(d.itemId), counter: await counter(d.itemId) }).toEqual(before);
  }, 60_000);
});
