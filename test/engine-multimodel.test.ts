// Integration: a multi-model campaign (run --model A,B) through a real Temporal dev server and a
// real embedded PostgreSQL, then `softmode compare`. Three one- or two-atom cells under the two
// analytic pair potentials: fcc Cu (stable under both), simple-cubic Cu (unstable under both) and
// rock-salt LiN, which Lennard-Jones finds unstable (a soft branch on the band path) and Morse
// stable: the confusion matrix is not diagonal. The expected table is counted here from the
// per-(structure, model) rows of `softmode export`, never taken from the code under test.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STABILITY_PRESETS } from '../core/stability/index.js';
import { stopServices } from '../engine/services/index.js';
import { startPostgres } from '../engine/services/postgres.js';
import { loadedModelCount, potentialFor } from '../pipeline/potentials.js';
import { Store } from '../store/index.js';
import { HAS_TEMPORAL, NO_TEMPORAL, cli, ensureBuilt, lastJsonLine, tempDir } from './engine-harness.js';

const FCC = 'fcc Cu\n1.0\n0 1.8 1.8\n1.8 0 1.8\n1.8 1.8 0\nCu\n1\nDirect\n0 0 0\n';
const SC = 'sc Cu\n1.0\n2.4 0 0\n0 2.4 0\n0 0 2.4\nCu\n1\nDirect\n0 0 0\n';
const LIN = 'rock-salt LiN\n1.0\n0 1.99 1.99\n1.99 0 1.99\n1.99 1.99 0\nLi N\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n';
const MODELS = ['lennard-jones', 'morse'] as const;

type Row = Record<string, unknown>;

/** The label of an export row under a preset (a failed relaxation fails under every preset). */
function labelUnder(r: Row, preset: string): string | null {
  if (r['label'] === null || r['label'] === undefined) return null;
  if (r['label'] === 'relaxation_failed') return 'relaxation_failed';
  return (r['labels'] as Record<string, string>)[preset] ?? null;
}

describe('worker session cap (pipeline/potentials.ts)', () => {
  it('keeps at most $SOFTMODE_MAX_LOADED_MODELS models loaded, least recently used released', async () => {
    const before = process.env['SOFTMODE_MAX_LOADED_MODELS'];
    process.env['SOFTMODE_MAX_LOADED_MODELS'] = '1';
    try {
      const lj = await potentialFor({ model: 'lennard-jones', threads: 1 });
      expect(await potentialFor({ model: 'lennard-jones', threads: 1 })).toBe(lj); // cached
      expect(loadedModelCount()).toBe(1);
      await potentialFor({ model: 'morse', threads: 1 });
      expect(loadedModelCount()).toBe(1);
      // evicted: a new load, not the cached object
      expect(await potentialFor({ model: 'lennard-jones', threads: 1 })).not.toBe(lj);
      process.env['SOFTMODE_MAX_LOADED_MODELS'] = '2';
      const m = await potentialFor({ model: 'morse', threads: 1 });
      const lj2 = await potentialFor({ model: 'lennard-jones', threads: 1 });
      expect(loadedModelCount()).toBe(2);
      expect(await potentialFor({ model: 'morse', threads: 1 })).toBe(m);
      expect(await potentialFor({ model: 'lennard-jones', threads: 1 })).toBe(lj2);
    } finally {
      if (before === undefined) delete process.env['SOFTMODE_MAX_LOADED_MODELS'];
      else process.env['SOFTMODE_MAX_LOADED_MODELS'] = before;
    }
  });
});

describe.skipIf(!HAS_TEMPORAL)('engine: a campaign under two models, and softmode compare', () => {
  let dir = '';
  let inputs = '';
  let store: Store | undefined;
  const common = ['--supercell', '2', '--inference-slots', '2', '--light-slots', '4'];

  beforeAll(() => {
    if (!HAS_TEMPORAL) console.warn(NO_TEMPORAL);
    ensureBuilt();
    dir = tempDir('engine-multimodel-');
    inputs = join(dir, 'inputs');
    mkdirSync(inputs, { recursive: true });
    writeFileSync(join(inputs, 'fcc-Cu.vasp'), FCC);
    writeFileSync(join(inputs, 'sc-Cu.vasp'), SC);
    writeFileSync(join(inputs, 'rocksalt-LiN.vasp'), LIN);
  });

  afterAll(async () => {
    await store?.close();
    await stopServices(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an unknown or repeated model in the list before anything starts (exit 2)', async () => {
    const bad = join(dir, 'bad-campaign');
    const r1 = await cli(['run', inputs, '--model', 'lennard-jones,no-such-model', '--campaign-dir', bad]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/unknown model 'no-such-model' \(known potentials: .*lennard-jones/);
    const r2 = await cli(['run', inputs, '--model', 'lennard-jones, morse,lennard-jones', '--campaign-dir', bad]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/'lennard-jones' is named twice/);
    const r3 = await cli(['run', inputs, '--model', 'lennard-jones,,morse', '--campaign-dir', bad]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/empty name/);
    // nothing was started: no campaign directory, no services
    expect(existsSync(bad) ? readdirSync(bad) : []).toEqual([]);
  });

  it('runs every structure under every model, validation shared, steps keyed by model; compare tabulates the pair', async () => {
    const t0 = Date.now();
    const r = await cli(['run', inputs, '--model', MODELS.join(','), ...common, '--campaign-dir', dir, '--name', 'mm', '--json', '--keep-services'], {}, 300_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const runSeconds = (Date.now() - t0) / 1000;
    const s = lastJsonLine(r.stdout) as { progress: Record<string, number>; provenance: Record<string, number>; models: Record<string, Record<string, number>> };
    expect(s.progress['total']).toBe(6);
    expect(s.progress['done']).toBe(6);
    expect(s.provenance['recomputedSteps']).toBe(0);
    expect(Object.keys(s.models)).toEqual([...MODELS]);
    for (const m of MODELS) expect(s.models[m]!['done']).toBe(3);

    const pg = await startPostgres(dir);
    store = new Store(pg.url);
    const c = (await store.getCampaign('mm'))!;
    // the frozen settings name both models, in order; the row lists them
    const settings = c.config as { settingsVersion: number; potential: { model: string }; models: { model: string; checkpointSha256: string }[] };
    expect(settings.settingsVersion).toBe(3);
    expect(settings.models.map((m) => m.model)).toEqual([...MODELS]);
    expect(settings.potential.model).toBe(MODELS[0]);
    expect(c.model_name).toBe(MODELS.join(','));

    // one item per (input, model), model-major: every model-0 item before every model-1 item
    const items = (await store.pool.query<{ id: string; source_path: string; model_index: number; status: string }>('select id, source_path, model_index, status from campaign_items where campaign_id = $1 order by id', [c.id])).rows;
    expect(items.map((i) => i.model_index)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(new Set(items.map((i) => `${i.source_path}|${i.model_index}`)).size).toBe(6);

    // validation: one key per structure, used by both models' items; relax and forces: one per (structure, model)
    const uses = (
      await store.pool.query<{ step: string; key: string; model_index: number; source_path: string; model_name: string | null }>(
        `select u.step, u.key, i.model_index, i.source_path, s.model_name from step_uses u join campaign_items i on i.id = u.campaign_item_id
         join step_results s on s.key = u.key where i.campaign_id = $1`,
        [c.id],
      )
    ).rows;
    const keysOf = (step: string) => uses.filter((u) => u.step === step);
    const validate = keysOf('validate');
    expect(validate.length).toBe(6);
    expect(new Set(validate.map((u) => u.key)).size).toBe(3);
    for (const p of new Set(items.map((i) => i.source_path))) expect(new Set(validate.filter((u) => u.source_path === p).map((u) => u.key)).size).toBe(1);
    const relax = keysOf('relax');
    expect(new Set(relax.map((u) => u.key)).size).toBe(6);
    for (const u of [...relax, ...keysOf('forces')]) expect(u.model_name).toBe(MODELS[u.model_index]);

    // export: one row per (structure, model), the model named
    const ex = await cli(['export', '--format', 'jsonl', '--campaign', 'mm', '--campaign-dir', dir]);
    expect(ex.code, ex.stderr).toBe(0);
    const rows = ex.stdout.trim().split('\n').map((l) => JSON.parse(l) as Row);
    expect(rows).toHaveLength(6);
    for (const row of rows) {
      expect(row['status']).toBe('done');
      expect(row['model']).toBe(row['model_name']);
    }
    expect(new Set(rows.map((x) => `${x['source_path']}|${x['model']}`)).size).toBe(6);
    const csv = await cli(['export', '--format', 'csv', '--campaign', 'mm', '--campaign-dir', dir]);
    expect(csv.stdout.split('\n')[0]).toMatch(/,model,/);

    // the expected comparison, counted from the export rows
    const byInput = new Map<string, Map<string, Row>>();
    for (const row of rows) {
      const k = `${row['source_path']}#${row['source_index']}`;
      if (!byInput.has(k)) byInput.set(k, new Map());
      byInput.get(k)!.set(String(row['model']), row);
    }
    const expected = STABILITY_PRESETS.map((preset) => {
      const confusion = [
        [0, 0],
        [0, 0],
      ];
      const disagree: string[] = [];
      for (const [k, m] of byInput) {
        const la = labelUnder(m.get(MODELS[0])!, preset);
        const lb = labelUnder(m.get(MODELS[1])!, preset);
        const i = ['stable', 'unstable'].indexOf(la ?? '');
        const j = ['stable', 'unstable'].indexOf(lb ?? '');
        if (i < 0 || j < 0) continue;
        confusion[i]![j]!++;
        if (i !== j) disagree.push(k);
      }
      return { preset, confusion, disagree: disagree.sort() };
    });
    // the structures were chosen so that the models disagree on one under the campaign's preset
    const fullBz = expected.find((e) => e.preset === 'full-bz')!;
    expect(fullBz.disagree).toHaveLength(1);
    expect(fullBz.disagree[0]).toMatch(/rocksalt-LiN\.vasp#0$/);

    const cmpRun = await cli(['compare', '--campaign', 'mm', '--campaign-dir', dir, '--json']);
    expect(cmpRun.code, cmpRun.stderr).toBe(0);
    const cmp = JSON.parse(cmpRun.stdout) as {
      models: string[];
      presets: { preset: string; pairs: { a: string; b: string; n: number; agree: number; agreement: number | null; confusion: number[][]; disagreements: { source: string; a: { label: string; minFreqThz: number | null }; b: { label: string; minFreqThz: number | null } }[] }[] }[];
    };
    expect(cmp.models).toEqual([...MODELS]);
    expect(cmp.presets.map((p) => p.preset).sort()).toEqual([...STABILITY_PRESETS].sort());
    for (const e of expected) {
      const p = cmp.presets.find((x) => x.preset === e.preset)!;
      expect(p.pairs).toHaveLength(1);
      const pair = p.pairs[0]!;
      expect([pair.a, pair.b]).toEqual([...MODELS]);
      expect(pair.confusion, e.preset).toEqual(e.confusion);
      const n = e.confusion.flat().reduce((x, y) => x + y, 0);
      expect(pair.n).toBe(n);
      expect(pair.agree).toBe(e.confusion[0]![0]! + e.confusion[1]![1]!);
      expect(pair.disagreements.map((d) => d.source).sort()).toEqual(e.disagree);
      // each side's min ν is that model's stored minimum
      for (const d of pair.disagreements) {
        const m = byInput.get(d.source)!;
        expect(d.a.minFreqThz).toBe(m.get(MODELS[0])!['min_freq_thz']);
        expect(d.b.minFreqThz).toBe(m.get(MODELS[1])!['min_freq_thz']);
        expect(d.a.label).toBe(labelUnder(m.get(MODELS[0])!, e.preset));
      }
    }

    // the printed table
    const text = await cli(['compare', '--campaign', 'mm', '--campaign-dir', dir, '--preset', 'full-bz']);
    expect(text.code, text.stderr).toBe(0);
    const [[ss, su], [us, uu]] = fullBz.confusion as [[number, number], [number, number]];
    const nBz = ss + su + us + uu;
    expect(text.stdout).toContain(`lennard-jones vs morse: ${nBz} labelled by both, agreement ${((100 * (ss + uu)) / nBz).toFixed(1)}% (${ss + uu}/${nBz})`);
    expect(text.stdout).toMatch(new RegExp(`lennard-jones stable\\s+${ss}\\s+${su}\\n`));
    expect(text.stdout).toMatch(new RegExp(`lennard-jones unstable\\s+${us}\\s+${uu}\\n`));
    expect(text.stdout).toMatch(/disagreements \(1\):\n\s+rock-salt LiN LiN \[[0-9a-f]{12}\]: lennard-jones (un)?stable, min ν -?\d+\.\d{4} THz .*; morse (un)?stable, min ν/);

    // status counts per model
    const st = await cli(['status', '--campaign', 'mm', '--campaign-dir', dir, '--json']);
    expect(st.code, st.stderr).toBe(0);
    const camp = (JSON.parse(st.stdout) as { models: Record<string, { done: number; stable: number; unstable: number }> }[])[0]!;
    for (const m of MODELS) {
      const mine = rows.filter((x) => x['model'] === m);
      expect(camp.models[m]!.done).toBe(3);
      expect(camp.models[m]!.stable).toBe(mine.filter((x) => x['label'] === 'stable').length);
    }
    const stText = await cli(['status', '--campaign', 'mm', '--campaign-dir', dir]);
    expect(stText.stdout).toMatch(/2 models, every structure under each/);
    expect(stText.stdout).toMatch(/ {4}morse: \[#+\] 3\/3/);

    // audit: both items of the input, each naming its own model
    const au = await cli(['audit', 'rocksalt-LiN.vasp', '--campaign', 'mm', '--campaign-dir', dir]);
    expect(au.code, au.stderr).toBe(0);
    for (const m of MODELS) expect(au.stdout).toMatch(new RegExp(`model ${m} checkpoint sha256 \\S+ \\(float64\\), one of 2 models`));

    // a rerun computes nothing: every (structure, model) is done
    const again = await cli(['run', inputs, '--model', MODELS.join(','), ...common, '--campaign-dir', dir, '--name', 'mm', '--json', '--keep-services'], {}, 120_000);
    expect(again.code, again.stderr).toBe(0);
    expect(lastJsonLine(again.stdout)['nothingToDo']).toBe(true);
    console.log(`multi-model campaign: 3 structures x 2 models in ${runSeconds.toFixed(1)} s`);
  }, 400_000);
});
