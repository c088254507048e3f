// Keeps a worker process running for a campaign command: `dist/workers/main.js` as a child
// process with an IPC channel (it exits by itself if this process dies, even by kill -9). A
// worker that stops (Temporal server gone, connection lost, a crash) is started again after a
// pause until stop() is called. Separate processes keep a crashing worker from taking the
// campaign command down with it, and are what several nodes run too (softmode worker).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../core/paths.js';

export type QueueName = 'inference' | 'light';

export interface SupervisorOptions {
  temporalAddress: string;
  databaseUrl: string;
  queues: readonly QueueName[];
  inferenceSlots?: number;
  lightSlots?: number;
  log?: (m: string) => void;
  restartDelayMs?: number;
  /** extra environment for the worker process */
  env?: Record<string, string>;
}

/** The compiled worker entry point. */
export function workerEntryPoint(): string {
  const p = join(repoRoot(), 'dist', 'workers', 'main.js');
  if (!existsSync(p)) throw new Error(`${p} is missing: build first (npm run build)`);
  return p;
}

export class WorkerSupervisor {
  private stopping = false;
  private child: ChildProcess | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  restarts = 0;

  constructor(private readonly o: SupervisorOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** pid of the running worker process (tests, status) */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private spawnOnce(): Promise<number | null> {
    const args = [workerEntryPoint(), '--queue', this.o.queues.join(',')];
    if (this.o.inferenceSlots !== undefined) args.push('--inference-slots', String(this.o.inferenceSlots));
    if (this.o.lightSlots !== undefined) args.push('--light-slots', String(this.o.lightSlots));
    const child = spawn(process.execPath, args, {
      cwd: repoRoot(),
      env: { ...process.env, ...this.o.env, TEMPORAL_ADDRESS: this.o.temporalAddress, DATABASE_URL: this.o.databaseUrl },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) if (stream) createInterface({ input: stream }).on('line', (l) => this.o.log?.(l));
    return new Promise((resolve) => {
      child.once('error', (e) => {
        this.o.log?.(`worker process failed to start: ${e.message}`);
        resolve(null);
      });
      child.once('exit', (code) => resolve(code));
    });
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const code = await this.spawnOnce();
      this.child = undefined;
      if (this.stopping) break;
      this.o.log?.(`worker process exited (code ${code}); restarting`);
      this.restarts++;
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, this.o.restartDelayMs ?? 2000);
      });
    }
  }

  /** Stop the worker: SIGTERM (running activities get a short grace), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    this.wake?.();
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    await this.loop?.catch(() => undefined);
  }
}
