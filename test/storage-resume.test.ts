// Issue 18 item 4 (storage at 10^5), end to end with real services (lennard-jones, fast):
// - a campaign stores compact phonon results (phonons-3) and prunes each structure's displaced-
//   supercell forces once its phonons are stored: the rows, keys and provenance stay;
// - re-running it, and a second campaign over the same structures, compute nothing: every
//   completed step, the pruned forces included, is served from the store;
// - the report still draws every structure's band structure and DOS from the stored results;
// - a campaign that needs those forces again (other phonon settings: another phonon key over the
//   same forces keys) recomputes them into the pruned rows, bit for bit what they were (the
//   phonons made from them again equal the stored ones), and prunes them once more after.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createActivities } from '../activities/index.js';
import { ComputePool } from '../activities/compute/pool.js';
import { stopServices, ensureServices } from '../engine/services/index.js';
import { writeExamples } from '../examples/structures.js';
import type { CampaignSettings } from '../pipeline/settings.js';
import { type ForcesOut, type PhononOut, phononStep } from '../pipeline/steps.js';
import { compactBand, phononDos } from '../report/spectrum.js';
import { Store, decodePayload, isPrunedPayload } from '../store/index.js';
import { samplePayloads, stepSizes } from '../store/storage-stats.js';
import { HAS_TEMPORAL, NO_TEMPORAL, cli, ensureBuilt, lastJsonLine, tempDir } from './engine-harness.js';

describe.skipIf(!HAS_TEMPORAL)('storage at 10^5: pruned forces, compact phonons, resume serves every completed step', () => {
  let dir = '';
  let inputs = '';
  let store: Store | undefined;
  const common = ['--model', 'lennard-jones', '--supercell', 'phononbench', '--inference-slots', '2', '--light-slots', '2'];

  beforeAll(() => {
    if (!HAS_TEMPORAL) console.warn(NO_TEMPORAL);
    ensureBuilt();
    dir = tempDir('storage-resume-');
    inputs = join(dir, 'inputs');
    writeExamples(inputs);
  });

  afterAll(async () => {
    await store?.close();
    await stopServices(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prunes consumed forces, keeps compact phonons, and a re-run or a second campaign computes nothing', async () => {
    const r1 = await cli(['run', inputs, ...common, '--campaign-dir', dir, '--name', 'first', '--json', '--keep-services']);
    expect(r1.code, r1.stderr).toBe(0);
    const s1 = lastJsonLine(r1.stdout) as { progress: Record<string, number>; provenance: Record<string, number>; computedThisRun: number };
    const done = s1.progress['done']!;
    expect(done).toBeGreaterThan(8);
    expect(s1.provenance['recomputedSteps']).toBe(0);

    const svc = await ensureServices(dir);
    store = new Store(svc.databaseUrl);
    const c = (await store.getCampaign('first'))!;
    expect((c.config as unknown as CampaignSettings).cacheVersions.phonons).toBe('phonons-3');
    const sizes = Object.fromEntries((await stepSizes(store, c.id)).map((s) => [s.step, s]));
    expect(sizes['forces']!.results).toBeGreaterThanOrEqual(done);
    expect(sizes['forces']!.pruned).toBe(sizes['forces']!.results);
    for (const step of ['validate', 'relax', 'displace', 'phonons', 'classify']) expect(sizes[step]?.pruned ?? 0, step).toBe(0);
    // the report draws band + DOS of every structure from what is stored
    const phonons = (await samplePayloads(store, c.id, 'phonons', 100)).map((b) => decodePayload<PhononOut>(b));
    expect(phonons.length).toBe(sizes['phonons']!.results);
    for (const ph of phonons) {
      expect(ph.storage).toBe('compact');
      expect(compactBand(ph)?.nu.length).toBeGreaterThan(0);
      expect(phononDos(ph)?.values.some((v) => v > 0)).toBe(true);
    }

    // re-running the finished campaign: nothing computed
    const r2 = await cli(['run', inputs, ...common, '--campaign-dir', dir, '--name', 'first', '--json', '--keep-services']);
    expect(r2.code, r2.stderr).toBe(0);
    expect(lastJsonLine(r2.stdout)['computedThisRun']).toBe(0);
    // a second campaign over the same structures: every step served, the pruned forces included
    const r3 = await cli(['run', inputs, ...common, '--campaign-dir', dir, '--name', 'second', '--json', '--keep-services']);
    expect(r3.code, r3.stderr).toBe(0);
    const s3 = lastJsonLine(r3.stdout) as { progress: Record<string, number>; computedThisRun: number; servedThisRun: number; provenance: Record<string, number> };
    expect(s3.progress['done']).toBe(done);
    expect(s3.computedThisRun).toBe(0);
    expect(s3.servedThisRun).toBe(s1.computedThisRun);
    expect(s3.provenance['recomputedSteps']).toBe(0);
  }, 600_000);

  it('recomputes pruned forces bit for bit when other phonon settings need them, then prunes them again', async () => {
    const s = store!;
    const first = (await s.getCampaign('first'))!;
    const settings = first.config as unknown as CampaignSettings;
    // another mesh density: another phonons key over the same displace and forces keys
    const other: CampaignSettings = { ...settings, phonons: { ...settings.phonons, meshLength: settings.phonons.meshLength * 0.6 } };
    const { campaign: third } = await s.createCampaign({
      name: 'third', modelName: first.model_name, modelSha256: first.model_sha256, modelPrecision: first.model_precision, modelManifest: first.model_manifest,
      preset: first.preset, codeSha: first.code_sha, config: other, configSha256: 'test-other-mesh', windowSize: first.window_size, partitions: first.partitions,
    });
    const row = (await s.exportPage(first.id, 0, 1))[0]!;
    const itemId = Number(row['item_id']);
    const audit = await s.auditItem(itemId);
    const displaceKey = String(audit.steps.find((x) => x['step'] === 'displace')!['key']);
    const forcesKeys = audit.steps.filter((x) => x['step'] === 'forces').map((x) => String(x['key']));
    const storedPhonons = (await s.peekStep<PhononOut>(String(row['phonon_key'])))!.payload;
    for (const k of forcesKeys) expect(isPrunedPayload((await s.peekStep(k))!.payload)).toBe(true);

    const pool = new ComputePool(1);
    // the potential's jobs go to their own threads (only those load model sessions)
    const inferencePool = new ComputePool(1);
    const lightJobs = vi.spyOn(pool, 'run');
    const inferenceJobs = vi.spyOn(inferencePool, 'run');
    try {
      const acts = createActivities({ store: s, pool, inferencePool, host: 'storage-test', codeSha: first.code_sha });
      const ctx = { campaignId: third.id, itemId, generation: 0 };
      const keys: string[] = [];
      const d = (await s.peekStep<{ batches: number; unitCell: never; supercellMatrix: number[][]; supercell: never; displacements: never; rule: unknown }>(displaceKey))!.payload;
      for (let b = 0; b < d.batches; b++) keys.push((await acts.forcesStep(ctx, displaceKey, b)).forcesKey);
      expect([...keys].sort()).toEqual([...forcesKeys].sort());
      // restored: the forces again, and the phonons of the first campaign's settings made from them are what was stored
      const forces: number[][][] = [];
      for (const k of keys) {
        const f = (await s.peekStep<ForcesOut>(k))!.payload;
        expect(isPrunedPayload(f)).toBe(false);
        forces.push(...f.forces);
      }
      const again = phononStep(d.unitCell, d as never, forces, settings.phonons);
      expect(JSON.stringify(again.commensurate)).toBe(JSON.stringify(storedPhonons.commensurate));
      expect(JSON.stringify(again.band?.frequencies)).toBe(JSON.stringify(storedPhonons.band?.frequencies));
      // the other settings' phonons compute from them, and the forces are pruned once more
      const ph = await acts.phononStep(ctx, displaceKey, keys);
      expect(ph.phononKey).not.toBe(String(row['phonon_key']));
      for (const k of keys) expect(isPrunedPayload((await s.peekStep(k))!.payload)).toBe(true);
      // served again (pruned) now that this campaign's phonons are stored: nothing recomputed
      const before = (await s.auditItem(itemId)).attempts.length;
      await acts.forcesStep(ctx, displaceKey, 0);
      const after = (await s.auditItem(itemId)).attempts.slice(before);
      expect(after.map((a) => a['outcome'])).toEqual(['served']);
      const kinds = (spy: typeof lightJobs) => [...new Set(spy.mock.calls.map(([job]) => job.kind))].sort();
      expect(kinds(inferenceJobs)).toEqual(['forces']);
      expect(kinds(lightJobs)).toEqual(['phonons']);
    } finally {
      await pool.close();
      await inferencePool.close();
    }
  }, 300_000);
});
