// softmode worker --queue inference|light|all: a worker process for a campaign served from
// anywhere: connects to TEMPORAL_ADDRESS and DATABASE_URL (or, without them, to the embedded
// services of --campaign-dir, starting them if needed). Many can run on many nodes.
import { type Parsed, int, parseArgs, str } from '../lib/args.js';
import { campaignDirOf, openEnv } from '../../engine/campaign.js';
import { WorkerSupervisor } from '../../engine/supervisor.js';
import type { QueueName } from '../../workers/index.js';

export const summary = 'run workers for the inference and/or light task queues (TEMPORAL_ADDRESS, DATABASE_URL)';

export async function run(argv: string[]): Promise<number> {
  let a: Parsed;
  try {
    a = parseArgs(argv, { value: ['queue', 'campaign-dir', 'slots', 'inference-slots', 'light-slots'] });
  } catch (e) {
    console.error(`softmode worker: ${(e as Error).message}`);
    return 2;
  }
  const q = str(a, 'queue') ?? 'all';
  const queues: QueueName[] = q === 'all' ? ['light', 'inference'] : q === 'inference' ? ['inference'] : q === 'light' ? ['light'] : [];
  if (queues.length === 0) {
    console.error('usage: softmode worker --queue inference|light|all [--slots N] [--campaign-dir DIR]');
    return 2;
  }
  const env = await openEnv(campaignDirOf(str(a, 'campaign-dir')), { temporal: true, log: (m) => console.error(m) });
  const slots = int(a, 'slots');
  const sup = new WorkerSupervisor({
    temporalAddress: env.services.temporalAddress,
    databaseUrl: env.services.databaseUrl,
    queues,
    ...((int(a, 'inference-slots') ?? slots) !== undefined ? { inferenceSlots: (int(a, 'inference-slots') ?? slots)! } : {}),
    ...((int(a, 'light-slots') ?? slots) !== undefined ? { lightSlots: (int(a, 'light-slots') ?? slots)! } : {}),
    log: (m) => console.error(m),
  });
  // the worker never owns the services: they belong to whoever runs the campaign
  await env.close({ stopServices: false });
  sup.start();
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.error('worker: shutting down');
  await sup.stop();
  return 0;
}
