// One campaign command per campaign directory at a time (issue #14): a lock file with the
// owner's pid beside the embedded services. A second `softmode run` on the same directory is
// refused with a clear message (workers are added with `softmode worker`, which takes no lock);
// a lock whose owner died (kill -9) is stale and taken over, and with it the services the dead
// owner left running, which the new owner then stops at its exit.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { isAlive } from './services/util.js';

export interface RunLockOwner {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

export function runLockPath(campaignDir: string): string {
  return join(campaignDir, 'run.lock');
}

export function readRunLock(campaignDir: string): RunLockOwner | undefined {
  try {
    return JSON.parse(readFileSync(runLockPath(campaignDir), 'utf8')) as RunLockOwner;
  } catch {
    return undefined;
  }
}

/** The live owner of the directory's run lock, if any (a dead owner's lock is stale). */
export function liveRunLockOwner(campaignDir: string): RunLockOwner | undefined {
  const o = readRunLock(campaignDir);
  return o && o.host === hostname() && isAlive(o.pid) && o.pid !== process.pid ? o : undefined;
}

export interface RunLock {
  /** the previous owner had died without releasing it */
  tookOverStale: RunLockOwner | undefined;
  release(): void;
}

export function acquireRunLock(campaignDir: string, command: string): RunLock {
  mkdirSync(campaignDir, { recursive: true });
  const path = runLockPath(campaignDir);
  let stale: RunLockOwner | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command } satisfies RunLockOwner));
      closeSync(fd);
      let released = false;
      return {
        tookOverStale: stale,
        release() {
          if (released) return;
          released = true;
          if (readRunLock(campaignDir)?.pid === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = readRunLock(campaignDir);
      if (owner && owner.pid !== process.pid && (owner.host !== hostname() || isAlive(owner.pid)))
        throw new UsageError(
          `campaign directory ${campaignDir} is in use by '${owner.command}' (pid ${owner.pid} on ${owner.host}, since ${owner.startedAt}). ` +
            `To add workers to that campaign: softmode worker --campaign-dir ${campaignDir}`,
        );
      stale = owner;
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not take the run lock ${path}`);
}
