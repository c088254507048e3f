// Issue #14 §6, the small items, each with its test:
// - read-only and control commands refuse a directory with no campaign cluster (exit 2) and
//   create nothing there (status used to leave a 47 MB cluster in any directory);
// - `softmode status | head` (a reader that goes away): no EPIPE crash, exit 0;
// - a campaign finished by workers alone (no `softmode run` watching) is `done` in status;
// - pause: no new structure starts while paused, the command and status say how many already
//   started still run ('paused (N still running)'), resume completes the campaign;
// - cancel says how many items it cancelled;
// - retry-failed --error-class X targets exactly the items failed with X (the class is the
//   error's real one: ModelIntegrityError end to end is test/engine-forged-worker.test.ts);
// - audit takes '_' and '%' literally.
// The engine items share one set of services (separate small campaigns, lennard-jones).
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFailure } from '../activities/index.js';
import { ModelIntegrityError } from '../core/potential/model-error.js';
import { writePoscar } from '../core/structure/io/index.js';
import { type Services, ensureServices, stopServices } from '../engine/services/index.js';
import { exampleStructures } from '../examples/structures.js';
import { Store, likeLiteral } from '../store/index.js';
import { campaignWorkflowId, progressQuery } from '../workflows/definitions.js';
import { HAS_TEMPORAL, NO_TEMPORAL, cli, cliBackground, ensureBuilt, tempDir, waitFor, sleep } from './engine-harness.js';
import { REPO_ROOT } from './helpers.js';

const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** Run the CLI with its stdout closed by the reader right away (`| head -0`). */
function cliIntoClosedPipe(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    p.stdout.destroy();
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => res({ code, stderr }));
  });
}

describe('commands outside a campaign directory; EPIPE', () => {
  beforeAll(() => ensureBuilt(), 300_000);

  it('status, export, audit, pause, resume, cancel, retry-failed refuse a directory without a cluster (exit 2) and create nothing', async () => {
    const base = tempDir('no-cluster-');
    try {
        const dir = join(base, 'not-a-campaign');
        mkdirSync(dir);
        const noDb = { DATABASE_URL: '', TEMPORAL_ADDRESS: '' };
        for (const cmd of [['status'], ['export'], ['audit', 'x'], ['pause'], ['resume'], ['cancel'], ['retry-failed']]) {
          const r = await cli([...cmd, '--campaign-dir', dir], noDb, 60_000);
          expect(r.code, `${cmd[0]}: ${r.stderr}`).toBe(2);
          expect(r.stderr).toMatch(/no campaign directory at/);
          expect(r.stderr).not.toMatch(/\n\s+at /); // one line, no stack
          expect(readdirSync(dir), cmd[0]).toEqual([]);
        }
        // a directory that does not exist stays so
        const r = await cli(['status', '--campaign-dir', join(base, 'missing')], noDb, 60_000);
        expect(r.code).toBe(2);
        expect(existsSync(join(base, 'missing'))).toBe(false);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  }, 180_000);

  it('output into a closed pipe (softmode … | head) ends quietly', async () => {
    // validate --json writes with process.stdout.write (no console guard): EPIPE used to crash it
    const r = await cliIntoClosedPipe(['validate', join(REPO_ROOT, 'test', 'corpus'), '--json']);
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(r.code).toBe(0); // without the guard: 1 and an 'Unhandled error event' stack
    const h = await cliIntoClosedPipe(['--help']);
    expect(h.stderr).toBe('');
    expect(h.code).toBe(0);
  }, 60_000);

  it('a ModelIntegrityError keeps its class across the activity boundary (what retry-failed --error-class matches)', () => {
    const f = toFailure(new ModelIntegrityError('model_checksum_mismatch', 'sha256 differs')) as ApplicationFailure;
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect(f.type).toBe('ModelIntegrityError');
    expect(f.nonRetryable).toBe(true);
  });

  it('audit patterns: _ and % are literal', () => {
    expect(likeLiteral('a_b%c\\d')).toBe('a\\_b\\%c\\\\d');
  });
});

describe.skipIf(!HAS_TEMPORAL)('engine: small fixes of issue #14 §6', () => {
  let dir = '';
  let inputs = '';
  let services: Services;
  let store: Store;
  let connection: Connection;
  let client: Client;
  let env: Record<string, string>;
  const procs: ChildProcess[] = [];
  const start = (args: string[]): ChildProcess & { output: () => string } => {
    const p = cliBackground(args, env);
    procs.push(p);
    return p;
  };
  const stop = async (p: ChildProcess): Promise<void> => {
    if (p.exitCode !== null || p.signalCode !== null) return;
    p.kill('SIGTERM');
    await waitFor('process exits', async () => p.exitCode !== null || p.signalCode !== null, 60_000);
  };

  beforeAll(async () => {
    if (!HAS_TEMPORAL) console.warn(NO_TEMPORAL);
    ensureBuilt();
    dir = tempDir('engine-small-');
    inputs = join(dir, 'inputs');
    mkdirSync(inputs);
    const ex = exampleStructures();
    const by = (n: string) => ex.find((s) => s.name === n)!;
    // 'cu_1' and 'cux1': the '_' of an audit query must not match the 'x'
    writeFileSync(join(inputs, 'cu_1.vasp'), writePoscar(by('Cu-fcc')));
    writeFileSync(join(inputs, 'cux1.vasp'), writePoscar(by('Al-fcc')));
    writeFileSync(join(inputs, 'nacl.vasp'), writePoscar(by('NaCl-rocksalt')));
    services = await ensureServices(dir);
    store = new Store(services.databaseUrl);
    await store.migrate();
    connection = await Connection.connect({ address: services.temporalAddress });
    client = new Client({ connection });
    env = { TEMPORAL_ADDRESS: services.temporalAddress, DATABASE_URL: services.databaseUrl, SOFTMODE_RECONCILE_MS: '2000' };
  }, 180_000);

  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await connection?.close();
    await store?.close();
    await stopServices(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  const statusJson = async (name: string): Promise<{ status: string; stillRunning?: number; progress: unknown }> => {
    const r = await cli(['status', '--campaign', name, '--json', '--campaign-dir', dir], env);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { status: string; stillRunning?: number; progress: unknown }[])[0]!;
  };

  it('workers alone finish a campaign: status says done; retry-failed --error-class takes that class only; audit is literal; status | head', async () => {
    // the orchestrator starts the parents and dies; workers alone do the rest
    const orch = start(['run', inputs, '--model', 'lennard-jones', '--supercell', '2', '--no-workers', '--name', 'alone', '--campaign-dir', dir]);
    const c = await waitFor('campaign row', async () => store.getCampaign('alone'), 60_000);
    await waitFor('parent started', async () => (await client.workflow.getHandle(campaignWorkflowId(c.id, 0)).describe()).status.name === 'RUNNING', 120_000);
    orch.kill('SIGKILL');
    const worker = start(['worker', '--queue', 'all', '--slots', '2']);
    try {
      await waitFor('every item finished', async () => {
        const p = await store.progress(c.id);
        return p.total === 3 && p.pending + p.running === 0;
      }, 240_000);
      await client.workflow.getHandle(campaignWorkflowId(c.id, 0)).result();
      expect((await store.getCampaign('alone'))!.status).toBe('running'); // nobody watched
      expect((await statusJson('alone')).status).toBe('done');
      expect((await store.getCampaign('alone'))!.status).toBe('done');
      const text = await cli(['status', '--campaign', 'alone', '--campaign-dir', dir], env);
      expect(text.stdout).toMatch(/alone \(id \d+, done\)/);

      // retry-failed --error-class: two items failed with different classes, only one is taken
      const rows = await store.exportPage(c.id, 0, 10);
      const id = (n: string) => Number(rows.find((r) => String(r['source_path']).endsWith(`/${n}`))!['item_id']);
      const gen = async (n: string) => (await store.getItem(id(n)))!.generation;
      const g0 = await gen('cu_1.vasp');
      await store.finishItem(id('cu_1.vasp'), g0, 'failed', { errorClass: 'ModelIntegrityError', message: 'test: checkpoint changed' });
      await store.finishItem(id('nacl.vasp'), await gen('nacl.vasp'), 'failed', { errorClass: 'RangeError', message: 'test: a bug' });
      const rf = await cli(['retry-failed', '--campaign', 'alone', '--error-class', 'ModelIntegrityError', '--campaign-dir', dir], env);
      expect(rf.code, rf.stderr).toBe(0);
      expect(rf.stdout).toContain('1 item reset to pending (error class ModelIntegrityError)');
      expect((await store.getItem(id('cu_1.vasp')))!.status).toBe('pending');
      expect((await store.getItem(id('nacl.vasp')))!.status).toBe('failed');
      await waitFor('retried item done (the worker still runs)', async () => (await store.getItem(id('cu_1.vasp')))!.status === 'done', 180_000);
      expect(await gen('cu_1.vasp')).toBe(g0 + 1);
    } finally {
      await stop(worker);
    }

    // audit: '_' is a character, not a wildcard; '%' matches nothing but itself
    const one = await cli(['audit', 'cu_1.vasp', '--campaign', 'alone', '--json', '--campaign-dir', dir], env);
    expect(one.code, one.stderr).toBe(0);
    const chains = JSON.parse(one.stdout) as { item: { source_path: string } }[];
    expect(chains.map((x) => x.item.source_path)).toEqual([join(inputs, 'cu_1.vasp')]);
    const pct = await cli(['audit', '%', '--campaign', 'alone', '--campaign-dir', dir], env);
    expect(pct.code).toBe(1);
    expect(pct.stderr).toMatch(/nothing matches/);

    // status and export into a pipe its reader has closed
    for (const args of [['status'], ['export', '--format', 'jsonl', '--campaign', 'alone']]) {
      const piped = await cliIntoClosedPipe([...args, '--campaign-dir', dir], env);
      expect(piped.stderr, args[0]).not.toMatch(/EPIPE|Error/);
      expect(piped.code, args[0]).toBe(0);
    }
  }, 600_000);

  it('pause stops new starts and says what still runs; resume completes; cancel counts what it cancelled', async () => {
    // window 1: one structure in flight at a time; only a light worker, so the first one begins,
    // is validated and then waits for a relaxation slot (no inference worker yet)
    const orch = start(['run', inputs, '--model', 'lennard-jones', '--supercell', '2', '--no-workers', '--window', '1', '--name', 'held', '--campaign-dir', dir]);
    const c = await waitFor('campaign row', async () => store.getCampaign('held'), 60_000);
    const light = start(['worker', '--queue', 'light']);
    await waitFor('one item running', async () => (await store.progress(c.id)).running === 1, 120_000);
    const pause = await cli(['pause', '--campaign', 'held', '--campaign-dir', dir], env);
    expect(pause.code, pause.stderr).toBe(0);
    expect(pause.stdout).toMatch(/held: paused \(signalled 1 campaign workflow\); no new structures start; 1 already started still run/);
    const parent = client.workflow.getHandle(campaignWorkflowId(c.id, 0));
    await waitFor('parent paused', async () => (await parent.query(progressQuery)).paused, 60_000);
    const s1 = await statusJson('held');
    expect(s1.status, JSON.stringify(s1)).toBe('paused');
    expect(s1.stillRunning, JSON.stringify(s1)).toBe(1);
    const text = await cli(['status', '--campaign', 'held', '--campaign-dir', dir], env);
    expect(text.stdout).toMatch(/held \(id \d+, paused \(1 still running\)\)/);

    // the started one finishes; nothing new starts while paused
    const inference = start(['worker', '--queue', 'inference', '--slots', '2']);
    await waitFor('the started item done', async () => (await store.progress(c.id)).done === 1, 180_000);
    await sleep(4_000);
    const held = await store.progress(c.id);
    expect(held).toMatchObject({ done: 1, running: 0, pending: 2 });
    expect((await statusJson('held')).stillRunning).toBe(0);

    // resume: the rest completes
    expect((await cli(['resume', '--campaign', 'held', '--campaign-dir', dir], env)).code).toBe(0);
    await waitFor('all done', async () => (await store.progress(c.id)).done === 3, 240_000);
    await stop(inference);
    // its orchestrator sees the campaign finished and exits (it holds the directory's run lock)
    await waitFor('orchestrator exits', async () => orch.exitCode !== null, 180_000);
    expect(orch.exitCode, orch.output()).toBe(0);
    expect((await store.getCampaign('held'))!.status).toBe('done');

    // cancel: a second campaign held at its first structure (light worker only), then cancelled
    start(['run', inputs, '--model', 'lennard-jones', '--supercell', '2', '--no-workers', '--window', '1', '--name', 'dropped', '--campaign-dir', dir]);
    const d = await waitFor('campaign row', async () => store.getCampaign('dropped'), 60_000);
    await waitFor('one item running', async () => (await store.progress(d.id)).running === 1, 120_000);
    const cancel = await cli(['cancel', '--campaign', 'dropped', '--campaign-dir', dir], env);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(/dropped: cancelled 3 items of 3 \(kept: done 0, failed 0, rejected 0\)$/m);
    expect((await store.progress(d.id)).cancelled).toBe(3);
    await stop(light);
  }, 900_000);
});
