// Campaign control through signals and the CLI: pause (progress query shows it), resume with a
// new concurrency window, cancel; retry-failed --include-cancelled puts items back under a new
// generation; invalid inputs are rejected with their typed code while the rest completes.
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Services, ensureServices, stopServices } from '../engine/services/index.js';
import { exampleStructures, writeExamples } from '../examples/structures.js';
import { Store } from '../store/index.js';
import { type CampaignProgress, campaignWorkflowId, progressQuery } from '../workflows/definitions.js';
import { HAS_TEMPORAL, NO_TEMPORAL, cli, cliBackground, ensureBuilt, lastJsonLine, tempDir, waitFor } from './engine-harness.js';

describe.skipIf(!HAS_TEMPORAL)('engine: pause / resume / cancel / retry-failed, rejections', () => {
  let dir = '';
  let inputs = '';
  let services: Services;
  let store: Store;
  let connection: Connection;
  let env: Record<string, string>;
  const procs: ChildProcess[] = [];

  beforeAll(async () => {
    if (!HAS_TEMPORAL) console.warn(NO_TEMPORAL);
    ensureBuilt();
    dir = tempDir('engine-control-');
    inputs = join(dir, 'inputs');
    writeExamples(inputs, exampleStructures().slice(0, 4));
    // two invalid inputs: an unreadable file and two atoms 0.03 Å apart
    writeFileSync(join(inputs, 'garbage.vasp'), 'this is not a structure\n\x00\x01\x02');
    writeFileSync(join(inputs, 'overlap.vasp'), 'overlap\n1.0\n4 0 0\n0 4 0\n0 0 4\nSi\n2\nDirect\n0 0 0\n0 0 0.0075\n');
    services = await ensureServices(dir);
    store = new Store(services.databaseUrl);
    connection = await Connection.connect({ address: services.temporalAddress });
    env = { TEMPORAL_ADDRESS: services.temporalAddress, DATABASE_URL: services.databaseUrl };
  }, 120_000);

  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await connection?.close();
    await store?.close();
    await stopServices(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('pause, resume with a new window, cancel, retry, then complete', async () => {
    const client = new Client({ connection });
    // only a light worker: workflows run, relaxations (inference queue) wait, so the control
    // state is observable
    const light = cliBackground(['worker', '--queue', 'light'], env);
    procs.push(light);
    // two partition parents, so signals and cancellation must reach both
    const orchestrator = cliBackground(['run', inputs, '--model', 'lennard-jones', '--supercell', '2', '--no-workers', '--partitions', '2', '--name', 'ctl', '--campaign-dir', dir], env);
    procs.push(orchestrator);
    const c = await waitFor('campaign row', async () => (await store.migrate(), await store.getCampaign('ctl')), 60_000);
    expect(c.partitions).toBe(2);
    const parent = client.workflow.getHandle(campaignWorkflowId(c.id, 0));
    const parent1 = client.workflow.getHandle(campaignWorkflowId(c.id, 1));
    await waitFor('campaign workflows', async () => (await parent.query(progressQuery)).inFlight > 0 && (await parent1.query(progressQuery)).inFlight > 0, 120_000);

    expect((await cli(['pause', '--campaign', 'ctl', '--campaign-dir', dir], env)).code).toBe(0);
    await waitFor('paused', async () => (await parent.query(progressQuery)).paused && (await parent1.query(progressQuery)).paused, 120_000);
    expect((await store.getCampaign('ctl'))!.status).toBe('paused');

    expect((await cli(['resume', '--campaign', 'ctl', '--concurrency', '3', '--campaign-dir', dir], env)).code).toBe(0);
    // a window of 3 over two partitions: 2 per parent
    const resumed = await waitFor('resumed with window 2 per partition', async () => {
      const p: CampaignProgress = await parent.query(progressQuery);
      return !p.paused && p.window === 2 ? p : undefined;
    }, 120_000);
    expect(resumed.window).toBe(2);
    expect((await store.getCampaign('ctl'))!.window_size).toBe(3);

    expect((await cli(['cancel', '--campaign', 'ctl', '--campaign-dir', dir], env)).code).toBe(0);
    await parent.result();
    await parent1.result();
    await waitFor('orchestrator exits', async () => orchestrator.exitCode !== null, 120_000);
    light.kill('SIGTERM');
    const afterCancel = await store.progress(c.id);
    // the unreadable file was rejected at ingest; everything else was cancelled
    expect(afterCancel.rejected).toBeGreaterThanOrEqual(1);
    expect(afterCancel.cancelled).toBeGreaterThanOrEqual(4);
    expect(afterCancel.cancelled + afterCancel.rejected).toBe(6);
    expect(afterCancel.done).toBe(0);

    const rf = await cli(['retry-failed', '--include-cancelled', '--campaign', 'ctl', '--campaign-dir', dir], env);
    expect(rf.code, rf.stderr).toBe(0);
    expect(rf.stdout).toContain(`${afterCancel.cancelled} items reset`);

    const r = await cli(['run', '--name', 'ctl', '--campaign-dir', dir, '--json', '--keep-services', '--inference-slots', '2'], env);
    expect(r.code, r.stderr).toBe(0);
    const s = lastJsonLine(r.stdout) as { progress: { done: number; rejected: number; total: number } };
    expect(s.progress.done).toBe(4);
    expect(s.progress.rejected).toBe(2);
    expect(s.progress.total).toBe(6);
    const rows = await store.pool.query(`select source_name, status, generation, error_class, workflow_id from campaign_items where campaign_id = $1 order by id`, [c.id]);
    for (const x of rows.rows as { status: string; generation: number; workflow_id: string | null }[])
      if (x.status === 'done') {
        expect(x.generation).toBe(1);
        expect(x.workflow_id).toMatch(/-g1$/);
      }
    // typed codes: unreadable at ingest, atoms too close at validation (a non-retryable rejection)
    const garbage = rows.rows.find((x: { source_name: string }) => x.source_name.startsWith('garbage')) as { status: string; error_class: string };
    expect(garbage.status).toBe('rejected');
    expect(garbage.error_class).toMatch(/unparsable|unsupported_format/);
    const overlap = rows.rows.find((x: { source_name: string }) => x.source_name.startsWith('overlap')) as { status: string; error_class: string };
    expect(overlap.status).toBe('rejected');
    expect(overlap.error_class).toBe('atoms_too_close');
  }, 400_000);
});
