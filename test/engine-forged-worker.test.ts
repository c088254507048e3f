// A worker whose science differs from the campaign's cannot poison the store (issue #14): a
// `softmode worker` run from a copy of the build whose pair-potential ε was changed (as a
// checkout with edited parameters would be) serves a campaign created by the honest code. It
// must refuse every model step with a typed error naming itself, store no model-dependent
// result, and leave the items failed (retryable once an honest worker is there). Then an honest
// worker completes the campaign, and its energies equal those of a campaign that never met the
// forged worker.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Services, ensureServices, stopServices } from '../engine/services/index.js';
import { exampleStructures, writeExamples } from '../examples/structures.js';
import { Store } from '../store/index.js';
import { HAS_TEMPORAL, NO_TEMPORAL, cli, cliBackground, ensureBuilt, tempDir, waitFor } from './engine-harness.js';
import { REPO_ROOT } from './helpers.js';

describe.skipIf(!HAS_TEMPORAL)('engine: a forged worker stores nothing', () => {
  let dir = '';
  let inputs = '';
  let forged = '';
  let services: Services;
  let store: Store;
  let db: pg.Client;
  let env: Record<string, string>;
  const procs: ChildProcess[] = [];

  beforeAll(async () => {
    if (!HAS_TEMPORAL) console.warn(NO_TEMPORAL);
    ensureBuilt();
    dir = tempDir('engine-forged-');
    inputs = join(dir, 'inputs');
    writeExamples(inputs, exampleStructures().filter((s) => ['NaCl-rocksalt', 'MgO-rocksalt', 'Cu-fcc'].includes(s.name!)));
    // the forged build: the same compiled code, ε of the pair potential doubled
    forged = join(dir, 'forged');
    cpSync(join(REPO_ROOT, 'dist'), join(forged, 'dist'), { recursive: true });
    cpSync(join(REPO_ROOT, 'package.json'), join(forged, 'package.json'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(forged, 'node_modules'));
    const cfg = join(forged, 'dist', 'config', 'pair-potential.js');
    const text = readFileSync(cfg, 'utf8');
    expect(text).toMatch(/epsilon: 0\.1,/);
    writeFileSync(cfg, text.replace(/epsilon: 0\.1,/, 'epsilon: 0.2,'));
    services = await ensureServices(dir);
    store = new Store(services.databaseUrl);
    await store.migrate();
    db = new pg.Client({ connectionString: services.databaseUrl });
    await db.connect();
    env = { TEMPORAL_ADDRESS: services.temporalAddress, DATABASE_URL: services.databaseUrl };
  }, 180_000);

  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await db?.end().catch(() => undefined);
    await store?.close();
    await stopServices(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses every model step, stores no model result, and the honest rerun is unaffected', async () => {
    const orchestrator = cliBackground(['run', inputs, '--model', 'lennard-jones', '--supercell', '2', '--no-workers', '--name', 'forged', '--campaign-dir', dir], env);
    procs.push(orchestrator);
    const c = await waitFor('campaign row', async () => store.getCampaign('forged'), 60_000);
    const worker = spawn(process.execPath, [join(forged, 'dist', 'cli', 'main.js'), 'worker', '--queue', 'all'], { env: { ...process.env, ...env }, cwd: forged });
    procs.push(worker);
    let workerLog = '';
    worker.stderr?.on('data', (d) => (workerLog += d));
    const p = await waitFor('every item finished', async () => {
      const x = await store.progress(c.id);
      return x.total === 3 && x.pending + x.running === 0 ? x : undefined;
    }, 180_000);
    // the parents close on the (forged) worker's light queue, then the orchestrator exits
    await waitFor('orchestrator exits', async () => orchestrator.exitCode !== null, 180_000);
    worker.kill('SIGTERM');
    await waitFor('forged worker exits', async () => worker.exitCode !== null || worker.signalCode !== null, 60_000);
    expect(p.failed, workerLog).toBe(3);
    expect(p.done).toBe(0);
    const classes = await store.errorClasses(c.id);
    expect(classes).toEqual([expect.objectContaining({ status: 'failed', error_class: 'ModelIntegrityError', n: 3 })]);
    // the refusal names the worker and says why
    const att = await db.query(`select error_message from attempts where error_class = 'ModelIntegrityError' limit 1`);
    expect(att.rows[0].error_message).toMatch(/refuses/);
    expect(att.rows[0].error_message).toMatch(/checkpointSha256/);
    // nothing model-dependent reached the store
    const steps = await db.query(`select step, count(*)::int as n from step_results group by step order by step`);
    const byStep = Object.fromEntries(steps.rows.map((r: { step: string; n: number }) => [r.step, r.n]));
    for (const s of ['relax', 'displace', 'forces', 'phonons', 'classify']) expect(byStep[s] ?? 0, s).toBe(0);
    expect((await db.query('select count(*)::int as n from results')).rows[0].n).toBe(0);

    // the honest code retries the failed items and completes them
    const retry = await cli(['retry-failed', '--campaign', 'forged', '--error-class', 'ModelIntegrityError', '--campaign-dir', dir], env);
    expect(retry.code, retry.stderr).toBe(0);
    const honest = await cli(['run', '--name', 'forged', '--campaign-dir', dir, '--json'], env, 300_000);
    expect(honest.code, honest.stderr).toBe(0);
    const after = await store.progress(c.id);
    expect(after.done).toBe(3);

    // a campaign that never met the forged worker gets the same energies (same keys: served)
    const fresh = await cli(['run', inputs, '--model', 'lennard-jones', '--supercell', '2', '--name', 'clean', '--campaign-dir', dir, '--json'], env, 300_000);
    expect(fresh.code, fresh.stderr).toBe(0);
    const energies = async (name: string) => {
      const id = (await store.getCampaign(name))!.id;
      const rows = await store.exportPage(id, 0, 100);
      return Object.fromEntries(rows.map((r) => [String(r['source_name']), r['energy_relaxed_ev']]));
    };
    expect(await energies('clean')).toEqual(await energies('forged'));
  }, 600_000);
});
