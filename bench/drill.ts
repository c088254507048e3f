// npm run drill → bench/results/faults.json
//
// Fault drill of engine rule 4 ("nothing is lost"), issue #14 item 7. Each fault kind is applied
// at several seeded random moments of a real campaign (`softmode run`, embedded Temporal dev
// server + PostgreSQL, its own worker child process), each moment in a fresh campaign directory:
//
//   worker    kill -9 of the worker child process (dist/workers/main.js) of `softmode run`;
//             the supervisor starts a new one
//   temporal  kill -9 of the Temporal dev server; the service watch restarts it on its SQLite file
//   postgres  kill -9 of PostgreSQL's postmaster; the watch restarts it on its cluster. One moment
//             is a long outage: every postmaster that comes back is killed again until
//             --long-outage-s have passed (the old engine failed items after ~63 s)
//   cli       kill -9 of `softmode run` itself, then the same command again (what a user does)
//   chgnet-resume  once, on chgnet-0.3.0 with slow model calls (SOFTMODE_FAULT_SLOW_MODEL_MS):
//             kill -9 of the worker as soon as a relaxation has heartbeated a checkpoint; the
//             retry must resume from it (attempts outcome 'resumed' > 0)
//
// Moments: uniform in [0, 0.9·T) after the command starts, T the wall time of a clean run of the
// same campaign measured first (the 0.9 keeps a fault from landing after the end when the run is
// a little faster than the clean one). A fault whose target is not up yet at its moment (e.g. the
// worker before the services have started) is applied as soon as the target exists.
//
// After every (kind, moment), from the campaign's store: items, results, duplicates (results
// beyond one per item), completed steps recomputed (provenanceCounts().recomputedSteps), steps
// lost (done item without result, a result's step key missing from step_results, a step
// attempt recorded 'computed' with no stored use), recovered without a human (the command —
// for `cli` the rerun — exits 0 with every item finished as in the clean run and nothing
// failed, no further intervention), seconds to recover (fault → the first new step result or
// finished item after the killed process is running again, or the end of the campaign), and
// relaxations resumed from a checkpoint. Summary per kind; everything written to
// bench/results/faults.json (rewritten after every moment, so an interrupted drill keeps what it
// measured). A moment that does not recover keeps its campaign directory
// (.campaigns/drill/<kind>-<n>) and records `softmode status`, the command's log tail and the
// service logs' tails.
import { mulberry32 } from '../core/math/random.js';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';
import { postgresPid, postgresState, startPostgres, stopPostgres, stopServices, temporalPid } from '../engine/services/index.js';
import type { PostgresState } from '../engine/services/postgres.js';
import { REPO_ROOT, isAlive, portAccepts, readJson, sleep } from '../engine/services/util.js';
import { Store } from '../store/index.js';
import { median } from './stats.js';
import { type Checks, type InputSet, campaignChecks, mattergenInputs } from './drill-checks.js';

const KINDS = ['worker', 'temporal', 'postgres', 'cli', 'chgnet-resume'] as const;
type Kind = (typeof KINDS)[number];

const OPTIONS = {
  seed: { kind: 'int', default: 20_260_514, help: 'seed of the fault schedule (default 20260514)' },
  moments: { kind: 'positive-int', default: 5, help: 'random moments per fault kind (default 5)' },
  quick: { kind: 'boolean', help: 'smoke run: one moment per kind' },
  kinds: { kind: 'list', default: [...KINDS], help: `fault kinds to drill (default all: ${KINDS.join(',')})` },
  structures: { kind: 'positive-int', default: 20, help: 'MatterGen structures of the Lennard-Jones campaigns (default 20, ≤ 6 atoms each)' },
  'chgnet-structures': { kind: 'positive-int', default: 3, help: 'MatterGen structures of the CHGNet resume campaign (default 3, the smallest)' },
  'heartbeat-ms': {
    kind: 'int',
    min: 0,
    default: 10_000,
    help: 'activity heartbeat timeout of the drill campaigns (SOFTMODE_HEARTBEAT_MS;\ndefault 10000; 0 = the engine default, 60 s): a killed worker\'s\nactivities are retried after it',
  },
  'long-outage-s': { kind: 'number', min: 0, default: 75, help: 'length of the long PostgreSQL outage (default 75 s; 0 = none)' },
  'slow-model-ms': { kind: 'positive-int', default: 250, help: 'SOFTMODE_FAULT_SLOW_MODEL_MS of the CHGNet resume campaign (default 250)' },
  'clean-seconds': { kind: 'number', positive: true, metavar: 'S', help: 'skip the clean run and take its wall time as S (the schedule then differs)' },
  keep: { kind: 'boolean', help: 'keep every campaign directory (default: only those that did not recover)' },
  out: { kind: 'string', default: 'faults', metavar: 'NAME', help: 'bench/results/NAME.json (default faults)' },
} as const satisfies OptionsSpec;

const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');
const BASE = join(REPO_ROOT, '.campaigns', 'drill');
const MATTERGEN = join(REPO_ROOT, '..', 'shared', 'data', 'structures', 'mattergen');
const CAMPAIGN = 'drill';

// ------------------------------------------------------------------ small utilities

/** the seeded PRNG of core/math (the schedule is reproducible from --seed) */
const rng = mulberry32;

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const now = () => Date.now();

function log(m: string): void {
  process.stdout.write(`[drill ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
}

/** Parent pid of a process (from /proc/<pid>/stat; the command name may hold spaces or parens). */
function ppidOf(pid: number): number | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return Number(rest[1]);
  } catch {
    return undefined;
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const f of readdirSync('/proc')) {
    if (!/^\d+$/.test(f)) continue;
    const pid = Number(f);
    if (ppidOf(pid) === ppid) out.push(pid);
  }
  return out;
}

/** The worker process (dist/workers/main.js) a `softmode run` started, if one runs now. */
function workerPidOf(cliPid: number): number | undefined {
  return childrenOf(cliPid).find((p) => cmdlineOf(p).includes(join('dist', 'workers', 'main.js')));
}

function kill9(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

function tailOf(path: string, lines = 30): string[] {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines);
  } catch {
    return [];
  }
}

function loadAvg(): { '1m': number; '5m': number; '15m': number } {
  const [a, b, c] = loadavg();
  return { '1m': round(a ?? 0, 2), '5m': round(b ?? 0, 2), '15m': round(c ?? 0, 2) };
}

// ------------------------------------------------------------------ inputs

/** MatterGen structures with ≤ maxAtoms atoms (not the *_symmetrized duplicates), by path, the first n. */
function prepareInputs(name: string, n: number, maxAtoms: number, order: 'path' | 'size'): InputSet {
  return mattergenInputs(MATTERGEN, join(BASE, name), n, maxAtoms, order);
}

// ------------------------------------------------------------------ the campaign command

interface Cmd {
  proc: ChildProcess;
  startedAt: number;
  exited: Promise<number | null>;
  code: number | null | undefined;
  stdout: string;
  stderrTail: string[];
}

function startCli(args: string[], env: Record<string, string>, logPath: string): Cmd {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const file = createWriteStream(logPath, { flags: 'a' });
  file.write(`\n=== ${new Date().toISOString()} softmode ${args.join(' ')} (pid ${proc.pid})\n`);
  const cmd: Cmd = { proc, startedAt: now(), exited: undefined as unknown as Promise<number | null>, code: undefined, stdout: '', stderrTail: [] };
  proc.stdout?.on('data', (d: Buffer) => {
    cmd.stdout += d.toString();
    file.write(d);
  });
  proc.stderr?.on('data', (d: Buffer) => {
    file.write(d);
    for (const l of d.toString().split(/\r?\n/)) if (l.trim()) cmd.stderrTail.push(l);
    if (cmd.stderrTail.length > 400) cmd.stderrTail.splice(0, cmd.stderrTail.length - 400);
  });
  cmd.exited = new Promise((res) =>
    proc.on('close', (code, signal) => {
      cmd.code = code ?? (signal ? -1 : null);
      file.end(`=== exit ${code ?? signal}\n`);
      res(cmd.code);
    }),
  );
  return cmd;
}

function running(c: Cmd): boolean {
  return c.code === undefined;
}

// ------------------------------------------------------------------ watching the store

interface Metric {
  /** step results used + items finished: grows whenever the campaign makes progress */
  progress: number;
  items: number;
  finished: number;
}

/** Reads the campaign's progress straight from its PostgreSQL (credentials in postgres/state.json). */
class StoreProbe {
  private pool: pg.Pool | undefined;
  private port = 0;
  constructor(private readonly dir: string) {}

  private poolFor(): pg.Pool | undefined {
    const st = postgresState(this.dir);
    if (!st || !st.port) return undefined;
    if (this.pool && this.port === st.port) return this.pool;
    void this.pool?.end().catch(() => undefined);
    this.port = st.port;
    this.pool = new pg.Pool({ host: '127.0.0.1', port: st.port, user: st.user, password: st.password, database: st.database, max: 2, connectionTimeoutMillis: 2000, idleTimeoutMillis: 5000 });
    this.pool.on('error', () => undefined);
    return this.pool;
  }

  async read(): Promise<Metric | undefined> {
    const p = this.poolFor();
    if (!p) return undefined;
    const q = p.query<{ uses: string; items: string; finished: string }>(
      `select (select count(*) from step_uses u join campaign_items i on i.id = u.campaign_item_id where i.campaign_id = c.id) as uses,
              (select count(*) from campaign_items i where i.campaign_id = c.id) as items,
              (select count(*) from campaign_items i where i.campaign_id = c.id and i.status in ('done', 'failed', 'rejected')) as finished
       from campaigns c where c.name = $1`,
      [CAMPAIGN],
    );
    const r = await Promise.race([q, sleep(3000).then(() => undefined)]);
    q.catch(() => undefined);
    if (!r) return undefined;
    const row = r.rows[0];
    // the campaign is not created yet (the command is still ingesting): nothing done so far
    if (!row) return { progress: 0, items: 0, finished: 0 };
    return { progress: Number(row.uses) + Number(row.finished), items: Number(row.items), finished: Number(row.finished) };
  }

  async readOrUndefined(): Promise<Metric | undefined> {
    try {
      return await this.read();
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    await this.pool?.end().catch(() => undefined);
    this.pool = undefined;
  }
}

// ------------------------------------------------------------------ checks after a campaign

async function checkCampaign(dir: string): Promise<Checks> {
  const pgh = await startPostgres(dir);
  const store = new Store(pgh.url);
  try {
    return await campaignChecks(store, CAMPAIGN);
  } finally {
    await store.close().catch(() => undefined);
    if (pgh.started) await stopPostgres(dir);
  }
}

// ------------------------------------------------------------------ one (kind, moment)

interface Moment {
  kind: Kind | 'clean';
  index: number;
  model: string;
  planned_at_s: number | null;
  fault_applied: boolean;
  fault_at_s: number | null;
  /** what was killed (pids), and how often for the long outage */
  target: Record<string, unknown>;
  items_finished_at_fault: number | null;
  /** fault → the killed process running again (a new worker, the server answering, the rerun started) */
  down_s: number | null;
  seconds_to_recover: number | null;
  recovered_without_human: boolean;
  why_not_recovered: string | null;
  human_actions: string[];
  exit_codes: (number | null)[];
  wall_s: number;
  checks: Checks | null;
  services_left_running: { postgres?: number; temporal?: number };
  events: string[];
  diagnostics?: Record<string, unknown>;
  /** a command that exited without finishing was run once more (as a user would): did that finish it? */
  rerun?: { exit_code: number | null; wall_s: number; recovered?: boolean };
  campaign_dir: string | null;
}

interface Plan {
  kind: Kind | 'clean';
  index: number;
  plannedS: number | null;
  longOutageS: number;
}

interface Ctx {
  lj: InputSet;
  chgnet: InputSet | undefined;
  heartbeatMs: number;
  slowModelMs: number;
  cleanS: number;
  baseline: { done: number; rejected: number; failed: number } | undefined;
  keep: boolean;
}

const EVENT_RE = /restart|does not answer|is back|exited|adopting|note:|interrupted|down \d|failed|error|resuming campaign|Error/i;

async function runMoment(plan: Plan, ctx: Ctx): Promise<Moment> {
  const chg = plan.kind === 'chgnet-resume';
  const inputs = chg ? ctx.chgnet! : ctx.lj;
  const model = chg ? 'chgnet-0.3.0' : 'lennard-jones';
  const dir = join(BASE, `${plan.kind}-${plan.index}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const logPath = join(BASE, `${plan.kind}-${plan.index}.log`);
  rmSync(logPath, { force: true });
  const args = ['run', inputs.dir, '--model', model, '--supercell', '2', '--campaign-dir', dir, '--name', CAMPAIGN, '--json'];
  const env: Record<string, string> = {};
  const hb = chg ? 3000 : ctx.heartbeatMs;
  if (hb > 0) env['SOFTMODE_HEARTBEAT_MS'] = String(hb);
  if (chg) env['SOFTMODE_FAULT_SLOW_MODEL_MS'] = String(ctx.slowModelMs);

  const m: Moment = {
    kind: plan.kind,
    index: plan.index,
    model,
    planned_at_s: plan.plannedS === null ? null : round(plan.plannedS, 2),
    fault_applied: false,
    fault_at_s: null,
    target: {},
    items_finished_at_fault: null,
    down_s: null,
    seconds_to_recover: null,
    recovered_without_human: false,
    why_not_recovered: null,
    human_actions: [],
    exit_codes: [],
    wall_s: 0,
    checks: null,
    services_left_running: {},
    events: [],
    campaign_dir: relative(REPO_ROOT, dir),
  };
  const probe = new StoreProbe(dir);
  const cmds: Cmd[] = [];
  let cmd = startCli(args, env, logPath);
  cmds.push(cmd);
  const t0 = cmd.startedAt;
  // a campaign that is stuck is given up after this (and recorded as not recovered)
  const deadline = t0 + 1000 * (Math.max(300, 4 * ctx.cleanS) + (plan.kind === 'postgres' ? plan.longOutageS + 120 : 0) + (chg ? 600 : 0));
  const atS = () => (now() - t0) / 1000;
  const current = () => cmds[cmds.length - 1]!;

  let faultAt: number | null = null;
  let backAt: number | null = null;
  let recoveredAt: number | null = null;

  try {
    // ------------------------------------------------ apply the fault
    if (plan.kind !== 'clean') {
      const waitUntil = async (cond: () => Promise<boolean> | boolean, stepMs = 100): Promise<boolean> => {
        for (;;) {
          if (await cond()) return true;
          if (!running(current()) || now() > deadline) return false;
          await sleep(stepMs);
        }
      };
      if (chg) {
        const found = await waitUntil(() => relaxWithCheckpoint(dir), 500);
        if (found) faultAt = now();
      } else {
        await waitUntil(() => now() >= t0 + plan.plannedS! * 1000, 50);
      }
      if (running(cmd)) {
        m.items_finished_at_fault = (await probe.readOrUndefined())?.finished ?? null;
        switch (plan.kind) {
          case 'worker':
          case 'chgnet-resume': {
            let wpid: number | undefined;
            await waitUntil(() => (wpid = workerPidOf(cmd.proc.pid!)) !== undefined, 100);
            if (wpid !== undefined && running(cmd)) {
              faultAt = now();
              kill9(wpid);
              m.target = { worker_pid: wpid };
              if (await waitUntil(() => {
                const w = workerPidOf(cmd.proc.pid!);
                return w !== undefined && w !== wpid;
              })) backAt = now();
            }
            break;
          }
          case 'temporal': {
            let tpid: number | undefined;
            await waitUntil(() => (tpid = temporalPid(dir)) !== undefined, 100);
            if (tpid !== undefined && running(cmd)) {
              faultAt = now();
              kill9(tpid);
              m.target = { temporal_pid: tpid };
              if (await waitUntil(async () => {
                const p = temporalPid(dir);
                const st = readJson<{ port: number }>(join(dir, 'temporal', 'state.json'));
                return p !== undefined && p !== tpid && st !== undefined && (await portAccepts(st.port));
              }, 250)) backAt = now();
            }
            break;
          }
          case 'postgres': {
            let ppid: number | undefined;
            await waitUntil(() => (ppid = postgresPid(dir)) !== undefined, 100);
            if (ppid !== undefined && running(cmd)) {
              faultAt = now();
              kill9(ppid);
              const killed = [ppid];
              if (plan.longOutageS > 0) {
                // keep it down: every postmaster the watch starts is killed again at once
                while (now() - faultAt < plan.longOutageS * 1000 && running(cmd)) {
                  const p = postgresPid(dir);
                  if (p !== undefined && !killed.includes(p)) {
                    kill9(p);
                    killed.push(p);
                  }
                  await sleep(50);
                }
              }
              m.target = { postmaster_pids_killed: killed, kept_down_s: plan.longOutageS };
              // back: a postmaster we did not kill answers (an old backend may answer for a moment after its postmaster died)
              if (await waitUntil(async () => {
                const p = postgresPid(dir);
                return p !== undefined && !killed.includes(p) && (await probe.readOrUndefined()) !== undefined;
              }, 250)) backAt = now();
            }
            break;
          }
          case 'cli': {
            const wpid = workerPidOf(cmd.proc.pid!);
            faultAt = now();
            kill9(cmd.proc.pid!);
            await cmd.exited;
            m.target = { cli_pid: cmd.proc.pid, worker_pid: wpid ?? null };
            // the worker child must go with its parent (no orphan keeps computing)
            if (wpid !== undefined) {
              const t = now();
              while (isAlive(wpid) && now() - t < 10_000) await sleep(100);
              m.target['worker_exited_with_cli'] = !isAlive(wpid);
              m.target['worker_exit_s'] = round((now() - t) / 1000, 2);
            }
            await sleep(1000);
            m.human_actions.push(`ran the same command again: softmode ${args.join(' ')}`);
            cmd = startCli(args, env, logPath);
            cmds.push(cmd);
            backAt = now();
            break;
          }
        }
      }
      m.fault_applied = faultAt !== null;
      if (faultAt !== null) {
        m.fault_at_s = round((faultAt - t0) / 1000, 2);
        if (backAt !== null) m.down_s = round((backAt - faultAt) / 1000, 2);
      }
    }

    // ------------------------------------------------ progress after recovery, then the end
    let baseline: number | undefined;
    for (;;) {
      if (faultAt !== null && backAt !== null && recoveredAt === null) {
        const r = await probe.readOrUndefined();
        if (r) {
          if (baseline === undefined) baseline = r.progress;
          else if (r.progress > baseline) recoveredAt = now();
        }
      }
      if (!running(current())) break;
      if (now() > deadline) break;
      await sleep(500);
    }
    const stopCmd = async (c: Cmd) => {
      c.proc.kill('SIGINT');
      const stopped = await Promise.race([c.exited.then(() => true), sleep(30_000).then(() => false)]);
      if (!stopped) {
        c.proc.kill('SIGKILL');
        await c.exited;
      }
    };
    if (running(current())) {
      m.why_not_recovered = `the campaign did not finish within ${round((deadline - t0) / 1000, 0)} s`;
      m.diagnostics = await diagnose(dir, current());
      await stopCmd(current());
    } else if (plan.kind !== 'clean' && current().code !== 0) {
      // not recovered by itself: record why, then do what a user would do (run the same
      // command again) to learn whether that is enough
      const lastLines = current().stderrTail.filter((l) => !/^\[[#-]+\]/.test(l) && l.trim() && !/^\s/.test(l)).slice(-3);
      m.why_not_recovered = `the command exited ${current().code}: ${lastLines.join(' | ')}`;
      m.diagnostics = await diagnose(dir, current());
      m.human_actions.push(`ran the same command again after it exited ${current().code}`);
      const again = startCli(args, env, logPath);
      cmds.push(again);
      const until = now() + 1000 * Math.max(300, 4 * ctx.cleanS);
      while (running(again) && now() < until) await sleep(500);
      if (running(again)) await stopCmd(again);
      m.rerun = { exit_code: again.code ?? null, wall_s: round((now() - again.startedAt) / 1000, 2) };
    }
    const end = now();
    if (faultAt !== null && recoveredAt === null && current().code === 0 && m.why_not_recovered === null) recoveredAt = end;
    m.wall_s = round((end - t0) / 1000, 2);
    m.exit_codes = cmds.map((c) => c.code ?? null);
    if (faultAt !== null && recoveredAt !== null) m.seconds_to_recover = round((recoveredAt - faultAt) / 1000, 2);
    m.events = cmds.flatMap((c) => c.stderrTail.filter((l) => EVENT_RE.test(l) && !/^\[[#-]+\]/.test(l))).slice(-40);
  } finally {
    await probe.close();
  }

  // services must be gone when the command has exited (it stops what it started or adopted)
  await sleep(500);
  const left = { ...(postgresPid(dir) ? { postgres: postgresPid(dir)! } : {}), ...(temporalPid(dir) ? { temporal: temporalPid(dir)! } : {}) };
  m.services_left_running = left;
  await stopServices(dir).catch(() => undefined);

  let checkError: string | null = null;
  try {
    m.checks = await checkCampaign(dir);
  } catch (e) {
    checkError = `checks failed: ${(e as Error).message}`;
  }
  const c = m.checks;
  // the clean run is the reference of the Lennard-Jones campaigns; the CHGNet one has none
  const base = chg ? undefined : ctx.baseline;
  const last = cmds[cmds.length - 1]!;
  let verdict: string | null = null;
  if (checkError) verdict = checkError;
  else if (last.code !== 0) verdict = `the command exited ${last.code}`;
  else if (!c) verdict = 'no checks';
  else if (c.unfinished > 0) verdict = `${c.unfinished} items unfinished`;
  else if (c.failed > (base?.failed ?? 0)) verdict = `${c.failed} items failed`;
  else if (base && (c.done !== base.done || c.rejected !== base.rejected)) verdict = `done ${c.done} / rejected ${c.rejected} differ from the clean run (${base.done} / ${base.rejected})`;
  else if (chg && c.resumed_relaxations === 0) verdict = 'no relaxation resumed from its checkpoint';
  if (m.rerun) m.rerun.recovered = verdict === null;
  m.why_not_recovered ??= verdict;
  m.recovered_without_human = m.why_not_recovered === null;
  if (!m.recovered_without_human && !m.diagnostics) m.diagnostics = await diagnose(dir, last);
  if (m.recovered_without_human && !ctx.keep) {
    rmSync(dir, { recursive: true, force: true });
    rmSync(logPath, { force: true });
    m.campaign_dir = null;
  }
  return m;
}

/** A structure workflow whose relaxStep is running and has heartbeated a checkpoint (as in engine-faults.test.ts). */
async function relaxWithCheckpoint(dir: string): Promise<boolean> {
  const st = readJson<{ port: number }>(join(dir, 'temporal', 'state.json'));
  const ps: PostgresState | undefined = postgresState(dir);
  if (!st || !ps) return false;
  let connection: Connection | undefined;
  const db = new pg.Client({ host: '127.0.0.1', port: ps.port, user: ps.user, password: ps.password, database: ps.database, connectionTimeoutMillis: 2000 });
  db.on('error', () => undefined);
  try {
    await db.connect();
    const rows = await db.query<{ workflow_id: string }>(
      `select i.workflow_id from campaign_items i join campaigns c on c.id = i.campaign_id where c.name = $1 and i.status = 'running' and i.workflow_id is not null`,
      [CAMPAIGN],
    );
    if (rows.rows.length === 0) return false;
    connection = await Connection.connect({ address: `127.0.0.1:${st.port}`, connectTimeout: 2000 });
    const client = new Client({ connection });
    for (const r of rows.rows) {
      const d = await client.workflow.getHandle(r.workflow_id).describe();
      for (const a of d.raw.pendingActivities ?? [])
        if (a.activityType?.name === 'relaxStep' && (a.heartbeatDetails?.payloads ?? []).some((x) => Buffer.from(x.data ?? []).toString().includes('"checkpoint"'))) return true;
    }
    return false;
  } catch {
    return false;
  } finally {
    await db.end().catch(() => undefined);
    await connection?.close().catch(() => undefined);
  }
}

/** What a person would look at: `softmode status`, the command's last lines, the services' logs. */
async function diagnose(dir: string, cmd: Cmd): Promise<Record<string, unknown>> {
  const st = spawnSync(process.execPath, [CLI, 'status', '--campaign-dir', dir, '--json'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  let status: unknown = st.stdout;
  try {
    status = JSON.parse(st.stdout);
  } catch {
    status = { stdout: st.stdout.slice(-2000), stderr: (st.stderr ?? '').slice(-2000), code: st.status };
  }
  return {
    status,
    command_stderr_tail: cmd.stderrTail.filter((l) => !/^\[[#-]+\]/.test(l)).slice(-40),
    postgres_log_tail: tailOf(join(dir, 'postgres', 'postgres.log'), 25),
    temporal_log_tail: tailOf(join(dir, 'temporal', 'server.log'), 25),
  };
}

// ------------------------------------------------------------------ summary

interface KindSummary {
  moments: number;
  faults_applied: number;
  items_per_campaign: number | null;
  duplicates: number;
  lost: number;
  recomputed: number;
  overlapping_computations: number;
  recovered: string;
  recovery_s_median: number | null;
  recovery_s_max: number | null;
  down_s_max: number | null;
  resumed_relaxations: number;
  /** of the moments that did not recover by themselves, those that one rerun of the command finished */
  finished_by_a_rerun: number;
  ok: boolean;
}

function summarise(ms: Moment[]): KindSummary {
  const applied = ms.filter((m) => m.fault_applied);
  const rec = applied.map((m) => m.seconds_to_recover).filter((x): x is number => x !== null);
  const sum = (f: (c: Checks) => number) => ms.reduce((a, m) => a + (m.checks ? f(m.checks) : 0), 0);
  const nRec = ms.filter((m) => m.recovered_without_human).length;
  const s: KindSummary = {
    moments: ms.length,
    faults_applied: applied.length,
    items_per_campaign: ms[0]?.checks?.items ?? null,
    duplicates: sum((c) => c.duplicates),
    lost: sum((c) => c.steps_lost),
    recomputed: sum((c) => c.recomputed_steps),
    overlapping_computations: sum((c) => c.overlapping_computations),
    recovered: nRec === ms.length ? 'yes' : `no (${nRec} of ${ms.length})`,
    recovery_s_median: rec.length ? round(median(rec)!, 1) : null,
    recovery_s_max: rec.length ? round(Math.max(...rec), 1) : null,
    down_s_max: applied.some((m) => m.down_s !== null) ? round(Math.max(...applied.map((m) => m.down_s ?? 0)), 1) : null,
    resumed_relaxations: sum((c) => c.resumed_relaxations),
    finished_by_a_rerun: ms.filter((m) => m.rerun?.recovered).length,
    ok: false,
  };
  s.ok = s.duplicates === 0 && s.lost === 0 && s.recomputed === 0 && nRec === ms.length && applied.length === ms.length && ms.every((m) => m.checks !== null);
  return s;
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const { values: v, argv } = parseProcessArgs('drill', OPTIONS);
  const unknown = v.kinds.filter((k) => !(KINDS as readonly string[]).includes(k));
  if (unknown.length) {
    console.error(`drill: unknown fault kind(s) ${unknown.join(', ')} (known: ${KINDS.join(', ')})`);
    process.exit(2);
  }
  const kinds = KINDS.filter((k) => v.kinds.includes(k));
  const perKind = v.quick ? 1 : v.moments;
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: npm run build`);
  if (!existsSync(MATTERGEN)) throw new Error(`no MatterGen structures at ${MATTERGEN}`);
  mkdirSync(BASE, { recursive: true });
  // the PostgreSQL user (not root) must traverse every parent of a campaign directory
  for (const d of [join(REPO_ROOT, '.campaigns'), BASE]) chmodSync(d, 0o755);

  const t0 = now();
  const outPath = join(REPO_ROOT, 'bench', 'results', `${v.out}.json`);
  const loadSamples: number[] = [loadavg()[0]!];
  const loadTimer = setInterval(() => loadSamples.push(loadavg()[0]!), 15_000);
  loadTimer.unref();
  const lj = prepareInputs('inputs-lj', v.structures, 6, 'path');
  const chgnet = kinds.includes('chgnet-resume') ? prepareInputs('inputs-chgnet', v['chgnet-structures'], 4, 'size') : undefined;
  const ctx: Ctx = { lj, chgnet, heartbeatMs: v['heartbeat-ms'], slowModelMs: v['slow-model-ms'], cleanS: v['clean-seconds'] ?? 0, baseline: undefined, keep: v.keep };

  const out: Record<string, unknown> = {
    name: 'fault drill (engine rule 4: nothing is lost)',
    seed: v.seed,
    command: `npm run drill${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    argv: process.argv.slice(1),
    started_at: new Date(t0).toISOString(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? null, load_average_at_start: loadAvg() },
    settings: {
      moments_per_kind: perKind,
      kinds,
      lennard_jones_campaign: { model: 'lennard-jones', supercell: '2', structures: lj.files.length, inputs: lj.files.map((f) => `${f.source} (${f.atoms} atoms)`) },
      chgnet_campaign: chgnet
        ? { model: 'chgnet-0.3.0', supercell: '2', structures: chgnet.files.length, inputs: chgnet.files.map((f) => `${f.source} (${f.atoms} atoms)`), slow_model_ms: v['slow-model-ms'], heartbeat_ms: 3000 }
        : null,
      heartbeat_ms: v['heartbeat-ms'] || 'engine default (60000)',
      long_postgres_outage_s: v['long-outage-s'],
      moments: 'uniform in [0, 0.9 T) after the command starts, T = the clean run\'s wall time',
      recovery: 'seconds from the fault to the first new step result or finished item recorded after the killed process runs again (or to the end of the campaign)',
    },
  };
  const runs: Moment[] = [];
  const write = () => {
    const byKind: Record<string, KindSummary> = {};
    for (const k of kinds) {
      const ms = runs.filter((m) => m.kind === k);
      if (ms.length) byKind[k] = summarise(ms);
    }
    out['runs'] = runs;
    out['summary'] = byKind;
    out['all_ok'] = Object.keys(byKind).length === kinds.length && Object.values(byKind).every((s) => s.ok) && runs.filter((m) => m.kind === 'clean').every((m) => m.recovered_without_human);
    out['failures'] = runs.filter((m) => !m.recovered_without_human || (m.checks && (m.checks.duplicates || m.checks.steps_lost || m.checks.recomputed_steps))).map((m) => ({ kind: m.kind, index: m.index, why: m.why_not_recovered, fault_at_s: m.fault_at_s, rerun: m.rerun ?? null, checks: m.checks ? { duplicates: m.checks.duplicates, lost: m.checks.steps_lost, recomputed: m.checks.recomputed_steps, failed: m.checks.failed } : null, campaign_dir: m.campaign_dir }));
    out['wall_s'] = round((now() - t0) / 1000, 1);
    out['machine'] = { ...(out['machine'] as object), load_average_at_end: loadAvg(), load_average_1m_during: { mean: round(loadSamples.reduce((a, b) => a + b, 0) / loadSamples.length, 2), max: round(Math.max(...loadSamples), 2), samples: loadSamples.length } };
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, JSON.stringify(out, null, 2) + '\n');
  };

  // interrupting the drill leaves no campaign running behind it
  let current: string | undefined;
  const onSignal = () => {
    log('interrupted: stopping the current campaign directory\'s services');
    if (current) void stopServices(current).finally(() => process.exit(130));
    else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const ljKinds = kinds.filter((k) => k !== 'chgnet-resume');
  if (ljKinds.length) {
    log(`clean run: ${lj.files.length} MatterGen structures, lennard-jones, supercell 2`);
    current = join(BASE, 'clean-0');
    const clean = await runMoment({ kind: 'clean', index: 0, plannedS: null, longOutageS: 0 }, { ...ctx, cleanS: ctx.cleanS || 120 });
    runs.push(clean);
    write();
    if (!clean.recovered_without_human || !clean.checks) throw new Error(`the clean run did not complete (${clean.why_not_recovered}); see ${clean.campaign_dir}`);
    ctx.baseline = { done: clean.checks.done, rejected: clean.checks.rejected, failed: clean.checks.failed };
    if (!v['clean-seconds']) ctx.cleanS = clean.wall_s;
    out['clean_run'] = { wall_s: clean.wall_s, T_s_for_moments: ctx.cleanS, items: clean.checks.items, done: clean.checks.done, rejected: clean.checks.rejected, failed: clean.checks.failed, labels: clean.checks.labels };
    log(`clean run: ${clean.wall_s} s, done ${clean.checks.done}/${clean.checks.items}`);
  }

  // the schedule: a fixed order of draws, so a seed names one schedule
  const rand = rng(v.seed);
  const plans: Plan[] = [];
  for (const k of ljKinds)
    for (let i = 0; i < perKind; i++) plans.push({ kind: k, index: i, plannedS: rand() * 0.9 * ctx.cleanS, longOutageS: 0 });
  // the long PostgreSQL outage: the moment nearest mid-run (the services are up, items in flight)
  const pgPlans = plans.filter((p) => p.kind === 'postgres');
  if (pgPlans.length && v['long-outage-s'] > 0)
    pgPlans.reduce((a, b) => (Math.abs(b.plannedS! - ctx.cleanS / 2) < Math.abs(a.plannedS! - ctx.cleanS / 2) ? b : a)).longOutageS = v['long-outage-s'];
  if (kinds.includes('chgnet-resume')) plans.push({ kind: 'chgnet-resume', index: 0, plannedS: null, longOutageS: 0 });
  out['schedule'] = plans.map((p) => ({ kind: p.kind, index: p.index, planned_at_s: p.plannedS === null ? 'first checkpointed relaxation' : round(p.plannedS, 2), ...(p.longOutageS ? { long_outage_s: p.longOutageS } : {}) }));

  for (const p of plans) {
    current = join(BASE, `${p.kind}-${p.index}`);
    log(`${p.kind} #${p.index}: fault at ${p.plannedS === null ? 'the first checkpointed relaxation' : `${round(p.plannedS, 1)} s`}${p.longOutageS ? ` (kept down ${p.longOutageS} s)` : ''}`);
    const m = await runMoment(p, ctx);
    runs.push(m);
    write();
    const c = m.checks;
    log(
      `${p.kind} #${p.index}: fault at ${m.fault_at_s ?? '-'} s, back after ${m.down_s ?? '-'} s, progress again after ${m.seconds_to_recover ?? '-'} s; ` +
        `items ${c?.items ?? '?'}, results ${c?.results ?? '?'}, duplicates ${c?.duplicates ?? '?'}, lost ${c?.steps_lost ?? '?'}, recomputed ${c?.recomputed_steps ?? '?'}, resumed ${c?.resumed_relaxations ?? '?'}; ` +
        `recovered ${m.recovered_without_human ? 'yes' : `NO (${m.why_not_recovered})`}; wall ${m.wall_s} s`,
    );
  }
  current = undefined;
  clearInterval(loadTimer);
  write();
  const summary = out['summary'] as Record<string, KindSummary>;
  console.log('\nkind            moments  dup  lost  recomputed  recovered       recovery s (median / max)  resumed');
  for (const [k, s] of Object.entries(summary))
    console.log(
      `${k.padEnd(16)}${String(s.faults_applied).padStart(4)}/${s.moments}${String(s.duplicates).padStart(5)}${String(s.lost).padStart(6)}${String(s.recomputed).padStart(12)}  ${s.recovered.padEnd(16)}${`${s.recovery_s_median ?? '-'} / ${s.recovery_s_max ?? '-'}`.padEnd(27)}${s.resumed_relaxations}`,
    );
  console.log(`\n${out['all_ok'] ? 'all faults recovered, nothing lost' : 'NOT all ok: see failures'} in ${out['wall_s']} s → ${relative(REPO_ROOT, outPath)}`);
  process.exitCode = out['all_ok'] ? 0 : 1;
}

main().catch((e: unknown) => {
  console.error(`drill: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
