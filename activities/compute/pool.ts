// A pool of compute threads (node:worker_threads running the compiled dist/ code). Activities
// hand CPU-heavy jobs to it and stay free to heartbeat. A job whose activity is cancelled (or
// whose thread dies) gets its thread terminated and replaced.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InfrastructureError, StepNotAvailableError, StructureError, type StructureErrorCode, UsageError, type UsageErrorCode } from '../../core/errors.js';
import { repoRoot } from '../../core/paths.js';
import { type ModelErrorCode, ModelIntegrityError } from '../../core/potential/model-error.js';
import type { Job, JobError, ThreadMessage } from './jobs.js';

/** A bug in a compute thread (kind 'bug'): keeps the thread's error name and stack. */
export class JobFailed extends Error {
  readonly code: string | undefined;
  constructor(e: JobError) {
    super(e.message);
    this.name = e.name;
    this.code = e.code;
    if (e.stack) this.stack = e.stack;
  }
}

/** The typed error a compute thread threw, rebuilt on this side from its kind, code and stack. */
export function rebuildError(e: JobError): Error {
  let err: Error;
  switch (e.kind) {
    case 'structure':
      err = new StructureError((e.code ?? 'unparsable') as StructureErrorCode, e.message, e.detail);
      break;
    case 'usage':
      err = new UsageError(e.message, e.detail, (e.code ?? 'invalid_argument') as UsageErrorCode);
      break;
    case 'model_integrity':
      err = new ModelIntegrityError((e.code ?? 'model_output_invalid') as ModelErrorCode, e.message, e.detail);
      break;
    case 'step_not_available':
      err = new StepNotAvailableError('');
      err.message = e.message;
      break;
    case 'infrastructure':
      err = new InfrastructureError(e.message);
      break;
    default:
      return new JobFailed(e);
  }
  if (e.stack) err.stack = e.stack;
  return err;
}

/** The compiled thread entry (the thread always runs JavaScript from dist/). */
export function threadScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const sibling = join(here, 'thread.js');
  if (import.meta.url.endsWith('.js') && existsSync(sibling)) return sibling;
  const dist = join(repoRoot(), 'dist', 'activities', 'compute', 'thread.js');
  if (!existsSync(dist)) throw new Error(`compute thread ${dist} is missing: run 'npx tsc -p .' first`);
  return dist;
}

interface Pending {
  id: number;
  job: Job;
  onCheckpoint: ((s: unknown) => void) | undefined;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  signal: AbortSignal | undefined;
}

interface Slot {
  worker: Worker;
  busy: Pending | undefined;
}

export class ComputePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  readonly size: number;
  private readonly script: string;

  constructor(size: number) {
    this.size = Math.max(1, Math.floor(size));
    this.script = threadScript();
  }

  run<T>(job: Job, opts: { onCheckpoint?: (s: unknown) => void; signal?: AbortSignal } = {}): Promise<T> {
    if (this.closed) return Promise.reject(new Error('compute pool is closed'));
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { id: this.nextId++, job, onCheckpoint: opts.onCheckpoint, resolve: resolve as (v: unknown) => void, reject, signal: opts.signal };
      if (opts.signal) {
        if (opts.signal.aborted) return reject(opts.signal.reason ?? new Error('aborted'));
        opts.signal.addEventListener('abort', () => this.abort(p), { once: true });
      }
      this.queue.push(p);
      this.pump();
    });
  }

  private abort(p: Pending): void {
    const qi = this.queue.indexOf(p);
    if (qi >= 0) {
      this.queue.splice(qi, 1);
      p.reject(p.signal?.reason ?? new Error('aborted'));
      return;
    }
    const slot = this.slots.find((s) => s.busy === p);
    if (slot) {
      slot.busy = undefined;
      this.replace(slot);
      p.reject(p.signal?.reason ?? new Error('aborted'));
    }
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.script), busy: undefined };
    slot.worker.on('message', (m: ThreadMessage) => {
      const p = slot.busy;
      if (!p || p.id !== m.id) return;
      if (m.type === 'checkpoint') {
        p.onCheckpoint?.(m.state);
        return;
      }
      slot.busy = undefined;
      if (m.type === 'done') p.resolve(m.result);
      else p.reject(rebuildError(m.error));
      this.pump();
    });
    slot.worker.on('error', (e) => {
      const p = slot.busy;
      slot.busy = undefined;
      p?.reject(e);
      this.replace(slot);
    });
    slot.worker.on('exit', () => {
      const p = slot.busy;
      if (p) {
        slot.busy = undefined;
        p.reject(new Error('compute thread exited'));
      }
    });
    slot.worker.unref();
    return slot;
  }

  private replace(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    void slot.worker.terminate();
    if (i >= 0) this.slots.splice(i, 1);
    this.pump();
  }

  private pump(): void {
    while (this.queue.length) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot) {
        if (this.slots.length >= this.size || this.closed) return;
        slot = this.spawn();
        this.slots.push(slot);
      }
      const p = this.queue.shift()!;
      slot.busy = p;
      slot.worker.postMessage({ id: p.id, job: p.job });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('compute pool closed'));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }
}
