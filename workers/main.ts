// Worker process entry point: `node dist/workers/main.js --queue light,inference
// [--inference-slots N] [--light-slots N]` with TEMPORAL_ADDRESS and DATABASE_URL in the
// environment. Started by engine/supervisor.ts (softmode run, softmode worker) or directly on
// any node. When it was started with an IPC channel and that channel closes (its parent died,
// even by kill -9), it exits at once: no orphan keeps computing for a dead campaign command.
import type { QueueName } from '../engine/supervisor.js';
import { startWorkers } from './index.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function positiveInt(name: string): number | undefined {
  const v = arg(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`worker: --${name} must be a positive integer (got '${v}')\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<number> {
  const temporalAddress = process.env['TEMPORAL_ADDRESS'];
  const databaseUrl = process.env['DATABASE_URL'];
  if (!temporalAddress || !databaseUrl) {
    process.stderr.write('worker: TEMPORAL_ADDRESS and DATABASE_URL must be set\n');
    return 2;
  }
  const queues = (arg('queue') ?? 'light,inference').split(',') as QueueName[];
  if (queues.length === 0 || queues.some((q) => q !== 'light' && q !== 'inference')) {
    process.stderr.write(`worker: --queue takes light, inference or both (comma-separated)\n`);
    return 2;
  }
  const inferenceSlots = positiveInt('inference-slots');
  const lightSlots = positiveInt('light-slots');
  const set = await startWorkers({
    temporalAddress,
    databaseUrl,
    queues,
    ...(inferenceSlots !== undefined ? { inferenceSlots } : {}),
    ...(lightSlots !== undefined ? { lightSlots } : {}),
    log: (m) => process.stderr.write(m + '\n'),
  });
  if (process.send) process.on('disconnect', () => process.exit(1));
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    void set.shutdown();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await set.done;
    return 0;
  } catch (e) {
    process.stderr.write(`worker: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await set.shutdown();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`worker: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
