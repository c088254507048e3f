// Fault suite (engine rule 4): mid-campaign, each of these happens — kill -9 of the inference
// worker during a relaxation, stop/start of the Temporal server, stop/start of PostgreSQL, kill -9
// of the CLI — and the campaign still ends with every structure having exactly one result, the
// killed relaxation resumed from its heartbeated optimizer state, and no completed step
// recomputed. Real Temporal dev server + real embedded PostgreSQL; classical pair potential with
// a fault-injection delay per model call so relaxations last long enough to be interrupted.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Services, ensureServices, startPostgres, startTemporal, stopPostgres, stopServices, stopTemporal } from '../engine/services/index.js';
import { exampleStructures, writeExamples } from '../examples/structures.js';
import { Store } from '../store/index.js';
import { HAS_TEMPORAL, NO_TEMPORAL, cli, cliBackground, ensureBuilt, lastJsonLine, sleep, tempDir, waitFor } from './engine-harness.js';

describe.skipIf(!HAS_TEMPORAL)('engine: fault suite', () => {
  let dir = '';
  let inputs = '';
  let services: Services;
  let store: Store;
  const procs: ChildProcess[] = [];
  let env: Record<string, string> = {};

  beforeAll(async () => {
    if (!HAS_TEMPORAL) console.warn(NO_TEMPORAL);
    ensureBuilt();
    dir = tempDir('engine-faults-');
    inputs = join(dir, 'inputs');
    writeExamples(inputs, exampleStructures().slice(0, 12));
    services = await ensureServices(dir);
    store = new Store(services.databaseUrl);
    await store.migrate();
    env = {
      TEMPORAL_ADDRESS: services.temporalAddress,
      DATABASE_URL: services.databaseUrl,
      SOFTMODE_HEARTBEAT_MS: '3000',
      SOFTMODE_RETRY_INITIAL_MS: '300',
      SOFTMODE_RECONCILE_MS: '5000',
      SOFTMODE_FAULT_SLOW_MODEL_MS: '100',
    };
  }, 120_000);

  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await store?.close().catch(() => undefined);
    await stopServices(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  function worker(queue: 'light' | 'inference'): ChildProcess & { output: () => string } {
    const p = cliBackground(['worker', '--queue', queue, '--slots', '1'], env);
    procs.push(p);
    return p;
  }

  async function progress() {
    const c = await store.getCampaign('faults');
    return c ? store.progress(c.id) : undefined;
  }

  /** A structure workflow whose relaxStep activity is running and has heartbeated a checkpoint. */
  async function relaxWithCheckpoint(client: Client): Promise<string | false> {
    const c = await store.getCampaign('faults');
    if (!c) return false;
    const rows = await store.pool.query<{ workflow_id: string }>(`select workflow_id from campaign_items where campaign_id = $1 and status = 'running' and workflow_id is not null`, [c.id]);
    for (const r of rows.rows) {
      const d = await client.workflow.getHandle(r.workflow_id).describe();
      for (const a of d.raw.pendingActivities ?? [])
        if (a.activityType?.name === 'relaxStep' && (a.heartbeatDetails?.payloads ?? []).some((x) => Buffer.from(x.data ?? []).toString().includes('"checkpoint"')))
          return r.workflow_id;
    }
    return false;
  }

  it('every structure ends with exactly one result and no completed step is recomputed', async () => {
    const lightW = worker('light');
    let infW = worker('inference');
    const cli1 = cliBackground(['run', inputs, '--model', 'lennard-jones', '--supercell', '2', '--window', '3', '--no-workers', '--name', 'faults', '--campaign-dir', dir, '--json'], env);
    procs.push(cli1);
    const connection = await Connection.connect({ address: services.temporalAddress });
    const client = new Client({ connection });
    const mid = async (what: string) => {
      const p = await progress();
      expect(p, what).toBeTruthy();
      expect(p!.done, `${what} must happen mid-campaign`).toBeLessThan(12);
    };

    // 1. kill -9 of the inference worker during a relaxation (after it heartbeated a checkpoint)
    await waitFor('a relaxation with a heartbeated checkpoint', () => relaxWithCheckpoint(client), 120_000, 100);
    await mid('worker kill');
    infW.kill('SIGKILL');
    await sleep(500);
    infW = worker('inference');

    // 2. stop/start of the Temporal server
    await waitFor('2 structures done', async () => ((await progress())?.done ?? 0) >= 2, 120_000);
    await mid('Temporal restart');
    await connection.close();
    expect(await stopTemporal(dir)).toBe(true);
    await sleep(2000);
    const t = await startTemporal(dir);
    expect(t.address).toBe(services.temporalAddress);

    // 3. stop/start of PostgreSQL
    await waitFor('4 structures done', async () => ((await progress())?.done ?? 0) >= 4, 180_000);
    await mid('PostgreSQL restart');
    expect(await stopPostgres(dir)).toBe(true);
    await sleep(1500);
    const pg = await startPostgres(dir);
    expect(pg.url).toBe(services.databaseUrl);

    // 4. kill -9 of the CLI; run it again (now with its own in-process workers) to the end
    await waitFor('6 structures done', async () => ((await progress())?.done ?? 0) >= 6, 180_000);
    await mid('CLI kill');
    cli1.kill('SIGKILL');
    lightW.kill('SIGTERM');
    infW.kill('SIGTERM');
    const r = await cli(['run', inputs, '--model', 'lennard-jones', '--supercell', '2', '--name', 'faults', '--campaign-dir', dir, '--json', '--keep-services'], env, 300_000);
    expect(r.code, r.stderr).toBe(0);
    const summary = lastJsonLine(r.stdout) as { progress: Record<string, number>; provenance: Record<string, number> };
    expect(summary.progress['done']).toBe(12);

    // every structure: exactly one result; no completed step recomputed
    const c = (await store.getCampaign('faults'))!;
    const items = await store.pool.query<{ id: string; status: string; n: string }>(
      `select i.id, i.status, (select count(*) from results r where r.campaign_item_id = i.id) as n from campaign_items i where i.campaign_id = $1`,
      [c.id],
    );
    expect(items.rows).toHaveLength(12);
    for (const it of items.rows) {
      expect(it.status).toBe('done');
      expect(Number(it.n)).toBe(1);
    }
    const prov = await store.provenanceCounts(c.id);
    expect(prov.recomputedSteps).toBe(0);
    expect(prov.itemsWithResults).toBe(12);
    const recomputed = await store.pool.query(`select key, step, computations from step_results where computations > 1`);
    expect(recomputed.rows).toEqual([]);

    // the killed relaxation resumed from its checkpoint rather than starting over
    const resumed = await store.pool.query(`select count(*)::int as n from attempts a join campaign_items i on i.id = a.campaign_item_id where i.campaign_id = $1 and a.step = 'relax' and a.outcome = 'resumed'`, [c.id]);
    expect(resumed.rows[0].n).toBeGreaterThanOrEqual(1);
    const resumedRelax = await store.pool.query<{ payload: Buffer }>(
      `select s.key from step_results s join step_uses u on u.key = s.key join campaign_items i on i.id = u.campaign_item_id where i.campaign_id = $1 and s.step = 'relax'`,
      [c.id],
    );
    let sawResumedPayload = false;
    for (const row of resumedRelax.rows as unknown as { key: string }[]) {
      const st = await store.peekStep<{ resumed: boolean }>(row.key);
      if (st?.payload.resumed) sawResumedPayload = true;
    }
    expect(sawResumedPayload).toBe(true);
  }, 600_000);
});
