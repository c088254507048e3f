// Temporal workers. Two task queues: `inference` (relaxation, forces: slots = cores or GPUs) and
// `light` (everything else, plus the workflow tasks). A worker process serves one or both; many
// processes on many nodes can serve one campaign (TEMPORAL_ADDRESS, DATABASE_URL).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { ENGINE_DEFAULTS, defaultSlots } from '../config/engine.js';
import { repoRoot } from '../core/paths.js';
import { codeVersion } from '../engine/code-version.js';
import { Store } from '../store/index.js';
import { createActivities, inferenceActivities, lightActivities } from '../activities/index.js';
import { ComputePool } from '../activities/compute/pool.js';

export type { QueueName } from '../engine/supervisor.js';
import type { QueueName } from '../engine/supervisor.js';

export interface WorkerSetOptions {
  temporalAddress: string;
  databaseUrl: string;
  queues: readonly QueueName[];
  namespace?: string;
  inferenceSlots?: number;
  lightSlots?: number;
  /** how long running activities get to finish on shutdown before they are cancelled */
  shutdownGraceMs?: number;
  log?: (m: string) => void;
}

export interface WorkerSet {
  /** resolves when every worker has stopped; rejects if one fails */
  done: Promise<void>;
  shutdown(): Promise<void>;
  store: Store;
}

let runtimeInstalled = false;
function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env['SOFTMODE_TEMPORAL_LOG'] ?? 'ERROR') as 'ERROR';
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // already installed by the embedding program
  }
}

/** The compiled workflow sources the bundle is built from. */
function workflowsPath(): string {
  const p = join(repoRoot(), 'dist', 'workflows', 'index.js');
  if (!existsSync(p)) throw new Error(`${p} is missing: build first ('npx tsc -p .')`);
  return p;
}

/**
 * Bundle the workflows (webpack, from dist/) once per distinct source and cache the result, so
 * starting a worker does not re-bundle each time.
 */
export async function workflowBundle(): Promise<{ codePath: string }> {
  const src = workflowsPath();
  const dir = join(repoRoot(), 'dist', 'workflows');
  const h = createHash('sha256');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.js')).sort()) h.update(f).update(readFileSync(join(dir, f)));
  h.update(readFileSync(join(repoRoot(), 'node_modules', '@temporalio', 'workflow', 'package.json')));
  const cacheDir = join(repoRoot(), 'dist', '.workflow-bundles');
  const codePath = join(cacheDir, `${h.digest('hex').slice(0, 16)}.js`);
  if (!existsSync(codePath)) {
    const { code } = await bundleWorkflowCode({ workflowsPath: src, logger: new DefaultLogger('WARN') });
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(codePath + `.${process.pid}.tmp`, code);
    renameSync(codePath + `.${process.pid}.tmp`, codePath);
  }
  return { codePath };
}

export async function startWorkers(o: WorkerSetOptions): Promise<WorkerSet> {
  installRuntime();
  const inferenceSlots = o.inferenceSlots ?? defaultSlots().inference;
  const lightSlots = o.lightSlots ?? defaultSlots().light;
  const store = new Store(o.databaseUrl, { max: Math.min(20, inferenceSlots + lightSlots + 4) });
  await store.migrate();
  // one thread per slot, the inference queue's apart (only those threads load model sessions)
  const pool = new ComputePool(o.queues.includes('light') ? lightSlots : 0);
  const inferencePool = o.queues.includes('inference') ? new ComputePool(inferenceSlots) : pool;
  const closePools = () => Promise.all([pool.close(), inferencePool.close()]);
  const host = hostname();
  const acts = createActivities({ store, pool, inferencePool, host, codeSha: codeVersion() });
  const connection = await NativeConnection.connect({ address: o.temporalAddress });
  const namespace = o.namespace ?? 'default';
  const grace = o.shutdownGraceMs ?? 3000;
  const workers: Worker[] = [];
  try {
    if (o.queues.includes('light')) {
      workers.push(
        await Worker.create({
          connection,
          namespace,
          taskQueue: ENGINE_DEFAULTS.taskQueues.light,
          workflowBundle: await workflowBundle(),
          activities: lightActivities(acts),
          maxConcurrentActivityTaskExecutions: lightSlots,
          shutdownGraceTime: grace,
        }),
      );
    }
    if (o.queues.includes('inference')) {
      workers.push(
        await Worker.create({
          connection,
          namespace,
          taskQueue: ENGINE_DEFAULTS.taskQueues.inference,
          activities: inferenceActivities(acts),
          maxConcurrentActivityTaskExecutions: inferenceSlots,
          // relaxation checkpoints travel as heartbeat details: send them at least every 5 s so
          // a crash loses little work (the SDK otherwise waits up to 0.8 × heartbeat timeout)
          maxHeartbeatThrottleInterval: 5_000,
          shutdownGraceTime: grace,
        }),
      );
    }
  } catch (e) {
    await connection.close().catch(() => undefined);
    await closePools();
    await store.close();
    throw e;
  }
  o.log?.(`workers up: ${o.queues.join(', ')} (inference slots ${inferenceSlots}, light slots ${lightSlots}) on ${o.temporalAddress}`);
  const done = Promise.all(workers.map((w) => w.run())).then(() => undefined);
  let closing: Promise<void> | undefined;
  const shutdown = () =>
    (closing ??= (async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done.catch(() => undefined);
      await connection.close().catch(() => undefined);
      await closePools();
      await store.close().catch(() => undefined);
    })());
  return { done, shutdown, store };
}
