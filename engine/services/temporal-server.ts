// The Temporal server proper (not the dev server) with PostgreSQL persistence, for deployments
// beyond one machine (docs/deploy.md). Binaries: `temporal-server` and `temporal-sql-tool`, built
// from the Go module proxy by tools/cluster/build-temporal.sh into tools/cluster/.build/bin (or
// SOFTMODE_TEMPORAL_SERVER_BIN_DIR). The schema is created and upgraded by Temporal's own SQL
// tool (`create-database`, `setup-schema -v 0.0`, `update-schema --schema-name postgresql/v12/…`),
// never by hand. The server runs detached (it outlives the command that started it), with its
// config, pid and log under <dir>: config.yaml, dynamicconfig.yaml, state.json, server.log.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import pg from 'pg';
import { REPO_ROOT, isAlive, portAccepts, readJson, sleep, waitExit, writeJson } from './util.js';

export interface PgAdmin {
  host: string;
  port: number;
  /** a role that may create roles (the embedded cluster's superuser) */
  user: string;
  password: string;
}

export interface TemporalServerOptions {
  /** where config, state and log live */
  dir: string;
  pg: PgAdmin;
  /** frontend gRPC port; history = +1, matching = +2, worker = +6, membership ports = −300 + the same offsets */
  frontendPort?: number;
  /** the address every service binds and advertises (default 127.0.0.1; a cluster's service address for other network namespaces) */
  bindIp?: string;
  /** fixed at cluster creation, never changeable afterwards (docs/deploy.md) */
  numHistoryShards?: number;
  namespace?: string;
  /** retention of closed workflow histories of the namespace (results live in softmode's store, not there) */
  retentionDays?: number;
  log?: (m: string) => void;
}

export interface TemporalServerState {
  pid: number;
  frontendPort: number;
  bindIp: string;
  dbUser: string;
  dbPassword: string;
  version: string;
}

export function temporalServerBinDir(): string {
  return process.env['SOFTMODE_TEMPORAL_SERVER_BIN_DIR'] ?? join(REPO_ROOT, 'tools', 'cluster', '.build', 'bin');
}

function bin(name: 'temporal-server' | 'temporal-sql-tool'): string {
  const p = join(temporalServerBinDir(), name);
  if (!existsSync(p)) throw new Error(`${p} is missing: build it with tools/cluster/build-temporal.sh (go.temporal.io/server from the Go module proxy)`);
  return p;
}

export function temporalServerVersion(): string {
  const r = spawnSync(bin('temporal-server'), ['--version'], { encoding: 'utf8' });
  return (r.stdout || r.stderr).trim().split(/\s+/).pop() ?? 'unknown';
}

const statePath = (dir: string) => join(resolve(dir), 'state.json');

export function temporalServerState(dir: string): TemporalServerState | undefined {
  return readJson<TemporalServerState>(statePath(dir));
}

/** pid of the running server of `dir` (checked against its command line: pids are reused). */
export function temporalServerPid(dir: string): number | undefined {
  const st = temporalServerState(dir);
  if (!st || !isAlive(st.pid)) return undefined;
  try {
    const cmd = readFileSync(`/proc/${st.pid}/cmdline`, 'utf8');
    if (!cmd.includes(join(resolve(dir), 'config.yaml'))) return undefined;
  } catch {
    return undefined;
  }
  return st.pid;
}

function sqlTool(o: PgAdmin & { db: string }, args: string[]): void {
  const base = ['--plugin', 'postgres12', '--ep', o.host, '-p', String(o.port), '-u', o.user, '--pw', o.password, '--db', o.db];
  const r = spawnSync(bin('temporal-sql-tool'), [...base, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`temporal-sql-tool ${args.join(' ')} on ${o.db} failed (${r.status}): ${(r.stderr || r.stdout || String(r.error)).slice(-1500)}`);
}

async function withPg<T>(a: PgAdmin, database: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host: a.host, port: a.port, user: a.user, password: a.password, database, connectionTimeoutMillis: 5000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * The `temporal` role and the `temporal` and `temporal_visibility` databases with their schema
 * at the binary's version, made by temporal-sql-tool; idempotent (an up-to-date schema is left as
 * it is, an older one is upgraded by `update-schema`).
 */
export async function setupTemporalSchema(dir: string, a: PgAdmin, log: (m: string) => void = () => undefined): Promise<{ user: string; password: string }> {
  mkdirSync(resolve(dir), { recursive: true });
  const prev = temporalServerState(dir);
  const user = 'temporal';
  const password = prev?.dbPassword ?? randomBytes(18).toString('base64url');
  await withPg(a, 'postgres', async (c) => {
    const r = await c.query('select 1 from pg_roles where rolname = $1', [user]);
    if (r.rowCount === 0) await c.query(`create role ${c.escapeIdentifier(user)} login createdb password ${c.escapeLiteral(password)}`);
    else await c.query(`alter role ${c.escapeIdentifier(user)} login createdb password ${c.escapeLiteral(password)}`);
  });
  for (const [db, schema] of [
    ['temporal', 'postgresql/v12/temporal'],
    ['temporal_visibility', 'postgresql/v12/visibility'],
  ] as const) {
    const exists = await withPg(a, 'postgres', async (c) => ((await c.query('select 1 from pg_database where datname = $1', [db])).rowCount ?? 0) > 0);
    const who = { host: a.host, port: a.port, user, password, db };
    if (!exists) {
      sqlTool(who, ['create-database']);
      log(`temporal-sql-tool: created database ${db}`);
    }
    const versioned = await withPg(a, db, async (c) => ((await c.query(`select 1 from information_schema.tables where table_name = 'schema_version'`)).rowCount ?? 0) > 0);
    if (!versioned) sqlTool(who, ['setup-schema', '-v', '0.0']);
    sqlTool(who, ['update-schema', '--schema-name', schema]);
    const v = await withPg(a, db, async (c) => (await c.query<{ curr_version: string }>('select curr_version from schema_version')).rows[0]?.curr_version ?? '?');
    log(`temporal-sql-tool: ${db} schema ${schema} at version ${v}`);
  }
  return { user, password };
}

function configYaml(o: Required<Pick<TemporalServerOptions, 'frontendPort' | 'bindIp' | 'numHistoryShards'>> & { dir: string; pg: PgAdmin; user: string; password: string }): string {
  const f = o.frontendPort;
  const store = (db: string, conns: number) => `      sql:
        pluginName: "postgres12"
        databaseName: "${db}"
        connectAddr: "${o.pg.host}:${o.pg.port}"
        connectProtocol: "tcp"
        user: "${o.user}"
        password: "${o.password}"
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: "1h"`;
  const svc = (name: string, off: number, extra = '') => `  ${name}:
    rpc:
      grpcPort: ${f + off}
      membershipPort: ${f - 300 + off}
${o.bindIp === '127.0.0.1' ? '      bindOnLocalHost: true' : `      bindOnIP: "${o.bindIp}"`}${extra}`;
  return `# written by softmode (engine/services/temporal-server.ts); Temporal server config, PostgreSQL persistence
log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${o.numHistoryShards}
  datastores:
    postgres-default:
${store('temporal', 10)}
    postgres-visibility:
${store('temporal_visibility', 4)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "${o.bindIp}"

services:
${svc('frontend', 0)}
${svc('history', 1)}
${svc('matching', 2)}
${svc('worker', 6)}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "${o.bindIp}:${f}"

dcRedirectionPolicy:
  policy: "noop"

archival:
  history:
    state: "disabled"
  visibility:
    state: "disabled"

namespaceDefaults:
  archival:
    history:
      state: "disabled"
    visibility:
      state: "disabled"

dynamicConfigClient:
  filepath: "${join(resolve(o.dir), 'dynamicconfig.yaml')}"
  pollInterval: "10s"
`;
}

/**
 * Start (or reuse) the server of `dir` on its PostgreSQL; sets the schema up first (idempotent)
 * and makes sure the namespace exists with the retention asked for.
 */
export async function startTemporalServer(o: TemporalServerOptions): Promise<{ address: string; pid: number; started: boolean }> {
  const dir = resolve(o.dir);
  const log = o.log ?? (() => undefined);
  mkdirSync(dir, { recursive: true });
  const prev = temporalServerState(dir);
  const frontendPort = o.frontendPort ?? prev?.frontendPort ?? 17233;
  const bindIp = o.bindIp ?? prev?.bindIp ?? '127.0.0.1';
  const running = temporalServerPid(dir);
  if (running && prev && (await portAccepts(prev.frontendPort, prev.bindIp))) return { address: `${prev.bindIp}:${prev.frontendPort}`, pid: running, started: false };
  if (running) await stopTemporalServer(dir);
  const { user, password } = await setupTemporalSchema(dir, o.pg, log);
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, configYaml({ dir, pg: o.pg, user, password, frontendPort, bindIp, numHistoryShards: o.numHistoryShards ?? 4 }), { mode: 0o600 });
  const dyn = join(dir, 'dynamicconfig.yaml');
  if (!existsSync(dyn)) writeFileSync(dyn, '# dynamic config of the softmode Temporal server (polled every 10 s)\n{}\n');
  const logPath = join(dir, 'server.log');
  const fd = openSync(logPath, 'a');
  const child = spawn(bin('temporal-server'), ['--config-file', cfg, '--allow-no-auth', 'start'], { detached: true, stdio: ['ignore', fd, fd], cwd: dir });
  closeSync(fd);
  child.unref();
  const pid = child.pid ?? 0;
  const version = prev?.version ?? temporalServerVersion();
  writeJson(statePath(dir), { pid, frontendPort, bindIp, dbUser: user, dbPassword: password, version } satisfies TemporalServerState);
  const t0 = Date.now();
  for (;;) {
    if (await portAccepts(frontendPort, bindIp)) break;
    if (!isAlive(pid)) throw new Error(`Temporal server exited during start-up; log tail:\n${tail(logPath)}`);
    if (Date.now() - t0 > 90_000) throw new Error(`Temporal server did not listen within 90 s; log tail:\n${tail(logPath)}`);
    await sleep(200);
  }
  const address = `${bindIp}:${frontendPort}`;
  await ensureNamespace(address, o.namespace ?? 'default', o.retentionDays ?? 7, log);
  log(`Temporal server ${version} started on ${bindIp}:${frontendPort} (pid ${pid}), PostgreSQL ${o.pg.host}:${o.pg.port}`);
  return { address, pid, started: true };
}

/** Register the namespace (or set its retention); retried while the server is still starting. */
export async function ensureNamespace(address: string, namespace: string, retentionDays: number, log: (m: string) => void = () => undefined): Promise<void> {
  const retention = msToTs(retentionDays * 86_400_000);
  const t0 = Date.now();
  for (;;) {
    let conn: Connection | undefined;
    try {
      conn = await Connection.connect({ address, connectTimeout: 5000 });
      try {
        await conn.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: retention });
        log(`namespace ${namespace} registered (retention ${retentionDays} d)`);
      } catch (e) {
        if (!/already exists|AlreadyExists/i.test((e as Error).message)) throw e;
        await conn.workflowService.updateNamespace({ namespace, config: { workflowExecutionRetentionTtl: retention } });
      }
      // the namespace registry is cached by every service: wait until a call on it is served
      for (;;) {
        try {
          await conn.workflowService.describeNamespace({ namespace });
          await conn.workflowService.listOpenWorkflowExecutions({ namespace, maximumPageSize: 1 });
          return;
        } catch (e) {
          if (Date.now() - t0 > 90_000) throw e;
          await sleep(500);
        }
      }
    } catch (e) {
      if (Date.now() - t0 > 90_000) throw new Error(`namespace ${namespace} on ${address}: ${(e as Error).message}`);
      await sleep(1000);
    } finally {
      await conn?.close().catch(() => undefined);
    }
  }
}

export async function stopTemporalServer(dir: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
  const pid = temporalServerPid(dir);
  if (!pid) return false;
  process.kill(pid, signal);
  if (signal === 'SIGKILL') return waitExit(pid, 10_000);
  if (await waitExit(pid, 30_000)) return true;
  process.kill(pid, 'SIGKILL');
  return waitExit(pid, 10_000);
}

function tail(p: string): string {
  try {
    return readFileSync(p, 'utf8').slice(-3000);
  } catch {
    return '';
  }
}
