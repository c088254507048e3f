// Hostile inputs through a real `softmode run` (issue #14 item 5; the full set is
// `npm run bench:hostile`, bench/results/hostile-inputs.json): a subset of ~18 inputs, among
// them a CIF with a 1e308 Å cell, a 10,000-atom cell, a file name that is not UTF-8, a
// multi-block CIF with one bad block, a directory cycle, a broken link, a FIFO, a 60 MB file,
// Og and Am. The run must not crash nor hang, and every entry of the folder must be an item or
// in the skipped list (compared with a directory listing): nothing is skipped silently.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostileInput, type HostileRun, type InputReport, buildHostileInputs, reportInputs, runHostileCampaign } from '../bench/hostile-inputs.js';
import { stopServices } from '../engine/services/index.js';
import { collectStructureFiles } from '../engine/ingest.js';
import { readCif, readCifDetailed, readPoscar } from '../core/structure/io/index.js';
import { HAS_TEMPORAL, NO_TEMPORAL, ensureBuilt, tempDir } from './engine-harness.js';

describe('the readers and the collector on hostile inputs', () => {
  const cell = '_cell_length_a 3.6\n_cell_length_b 3.6\n_cell_length_c 3.6\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n';
  const sites = 'loop_\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nCu 0 0 0\n';
  it('a CIF is read block by block: a syntax or a value error ends its block only', () => {
    const text = `data_meta\n_journal_year 2024\ndata_a\n${cell}${sites}data_dup\n${cell}_cell_length_a 4\n${sites}data_bad\n${cell.replace('3.6', 'x')}${sites}data_b\n${cell}${sites}`;
    const r = readCifDetailed(text, 'multi.cif');
    // the metadata block holds no structure and takes no index (as before)
    expect(r.structures.map((x) => [x.index, x.structure.name])).toEqual([
      [0, 'a'],
      [3, 'b'],
    ]);
    expect(r.failures.map((f) => [f.index, f.name, f.error.code])).toEqual([
      [1, 'dup', 'unparsable'],
      [2, 'bad', 'unparsable'],
    ]);
    expect(r.failures[0]!.error.message).toMatch(/data_dup.*appears twice/);
    // readCif keeps its contract: any bad block fails the text
    expect(() => readCif(text)).toThrow(/appears twice/);
    expect(readCif(`data_a\n${cell}${sites}data_b\n${cell}${sites}`).length).toBe(2);
  });

  it('Og (element 118) is read by its IUPAC name', () => {
    const s = readPoscar('Og\n1.0\n5 0 0\n0 5 0\n0 0 5\nOg\n1\nDirect\n0 0 0\n');
    expect(s[0]!.numbers).toEqual([118]);
    expect(readCif(`data_og\n${cell}${sites.replace('Cu', 'Og')}`)[0]!.numbers).toEqual([118]);
  });

  it('a directory reached twice (a link cycle) is listed as skipped, not dropped', () => {
    const base = tempDir('collect-');
    try {
      const d = join(base, 'in');
      buildHostileInputs(d, { subset: true });
      const c = collectStructureFiles([d]);
      expect(c.skipped.find((x) => x.path === join(d, 'loop-dir'))?.reason).toMatch(/already walked/);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!HAS_TEMPORAL)('hostile inputs through softmode run', () => {
  let base = '';
  let folder = '';
  let inputs: HostileInput[] = [];
  let run: HostileRun;
  let reports: InputReport[];
  const byName = (name: string): InputReport => {
    const r = reports.find((x) => x.name === name);
    if (!r) throw new Error(`no input ${name}`);
    return r;
  };

  beforeAll(async () => {
    if (!HAS_TEMPORAL) console.warn(NO_TEMPORAL);
    ensureBuilt();
    base = tempDir('hostile-');
    folder = join(base, 'inputs');
    inputs = buildHostileInputs(folder, { subset: true });
    // one limit for the whole run (the subset takes ~20 s alone on two cores)
    run = await runHostileCampaign(folder, join(base, 'campaign'), { limitMs: 480_000 });
    reports = reportInputs(folder, inputs, run);
  }, 600_000);

  afterAll(async () => {
    if (base) {
      await stopServices(join(base, 'campaign')).catch(() => undefined);
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('builds at least 15 inputs, the issue cases among them', () => {
    expect(inputs.length).toBeGreaterThanOrEqual(15);
    for (const n of ['cell-1e308.cif', 'atoms-10000.vasp', 'multi-block.cif', 'bad-name-\\xff\\xfe\\x80.cif', 'loop-dir', 'broken-link.cif', 'og.cif', 'am.vasp', 'fifo.cif'])
      expect(inputs.map((i) => i.name)).toContain(n);
  });

  it('the run neither crashes nor hangs, and nothing is skipped silently', () => {
    expect(run.timedOut, run.stderrTail).toBe(false);
    expect(run.crashed, run.stderrTail).toBe(false);
    expect(run.exitCode, run.stderrTail).toBe(0);
    expect(run.hangs).toEqual([]);
    expect(run.silentSkips).toEqual([]);
    expect(reports.filter((r) => r.outcomes.includes('missing')).map((r) => r.name)).toEqual([]);
    // every entry of the folder is accounted for; the run reported every skipped path
    expect(run.listing.length).toBeGreaterThanOrEqual(inputs.length);
    expect(run.skippedReported).toBe(run.skipped.length);
    // no input made a program fault
    expect(run.items.filter((i) => i.outcome === 'failed')).toEqual([]);
  });

  it('each issue case has its typed outcome', () => {
    const one = (name: string) => {
      const r = byName(name);
      expect(r.items.length, name).toBe(1);
      return r.items[0]!;
    };
    expect(one('cell-1e308.cif')).toMatchObject({ outcome: 'rejected_at_ingest', errorClass: 'bad_volume' });
    expect(one('atoms-10000.vasp')).toMatchObject({ outcome: 'rejected_at_ingest', errorClass: 'too_many_atoms' });
    expect(one('zero-bytes.vasp')).toMatchObject({ outcome: 'rejected_at_ingest', errorClass: 'unparsable' });
    expect(one('huge-60MB.xyz')).toMatchObject({ outcome: 'rejected_at_ingest', errorClass: 'file_too_large' });
    expect(one('junk.cif')).toMatchObject({ outcome: 'rejected_at_ingest', errorClass: 'unparsable' });
    expect(one('good-si.vasp').outcome).toBe('done');
    expect(byName('dir-named.cif').outcomes).toEqual(['done']);
    // Og (Z 118, read now that the reader knows its IUPAC name) and Am: lennard-jones has radii
    // for both, the phonon step has no atomic mass for either: rejected, typed, with the reason
    for (const n of ['og.cif', 'am.vasp']) {
      const it = one(n);
      expect(it.outcome, n).not.toBe('rejected_at_ingest');
      expect(it.errorClass, n).toBe('unsupported_element');
      expect(it.message, n).toMatch(/no standard atomic mass/);
    }
    const skipped = (name: string) => byName(name).skipped ?? '';
    expect(skipped('bad-name-\\xff\\xfe\\x80.cif')).toMatch(/not valid UTF-8/);
    expect(skipped('noext-cif')).toMatch(/not a structure file name/);
    expect(skipped('broken-link.cif')).toMatch(/broken symbolic link/);
    expect(skipped('loop-dir')).toMatch(/directory already walked/);
    expect(skipped('fifo.cif')).toMatch(/not a regular file|not a structure/);
  });

  it('a multi-block CIF keeps its good blocks; the bad block is rejected on its own', () => {
    const items = byName('multi-block.cif').items.sort((a, b) => a.index - b.index);
    expect(items.map((i) => [i.index, i.outcome])).toEqual([
      [0, 'done'],
      [1, 'done'],
      [2, 'rejected_at_ingest'],
      [3, 'done'],
    ]);
    expect(items[2]!.name).toBe('bad_c');
    expect(items[2]!.errorClass).toBe('unparsable');
    expect(items[2]!.message).toMatch(/data_bad_c.*_cell_length_a 'abc' is not a number/);
  });
});
