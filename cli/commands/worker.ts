// softmode worker --queue inference|light|all: a worker process for a campaign served from
// anywhere: connects to TEMPORAL_ADDRESS and DATABASE_URL (or, without them, to the embedded
// services of --campaign-dir, starting them if needed). Many can run on many nodes.
import { type OptionsSpec, formatOptions, parseCommandArgs } from '../lib/args.js';
import { campaignDirOf, openEnv } from '../../engine/campaign.js';
import { WorkerSupervisor } from '../../engine/supervisor.js';
import type { QueueName } from '../../engine/supervisor.js';

export const summary = 'run workers for the inference and/or light task queues (TEMPORAL_ADDRESS, DATABASE_URL)';

const SPEC = {
  queue: { kind: 'enum', values: ['inference', 'light', 'all'], default: 'all', help: 'task queue(s) to serve (default all)' },
  slots: { kind: 'int', min: 0, help: 'concurrent activities per queue' },
  'inference-slots': { kind: 'int', min: 0, help: 'concurrent relax/forces activities (default --slots, else cores)' },
  'light-slots': { kind: 'int', min: 0, help: 'concurrent light activities (default --slots)' },
  'campaign-dir': { kind: 'string', metavar: 'DIR', help: 'embedded services to use without TEMPORAL_ADDRESS / DATABASE_URL' },
  temporal: { kind: 'string', metavar: 'HOST:PORT', help: 'the Temporal server (default $TEMPORAL_ADDRESS)' },
  database: { kind: 'string', metavar: 'URL', help: 'the PostgreSQL store, postgres://… (default $DATABASE_URL)' },
} as const satisfies OptionsSpec;

const USAGE = `usage: softmode worker --queue inference|light|all [--slots N] [--temporal HOST:PORT --database URL | --campaign-dir DIR]

options:
${formatOptions(SPEC)}`;

export async function run(argv: string[]): Promise<number> {
  const a = parseCommandArgs('worker', argv, SPEC, USAGE);
  if (typeof a === 'number') return a;
  const v = a.values;
  const q = v.queue;
  const queues: QueueName[] = q === 'all' ? ['light', 'inference'] : q === 'inference' ? ['inference'] : ['light'];
  if (v.temporal) process.env['TEMPORAL_ADDRESS'] = v.temporal;
  if (v.database) process.env['DATABASE_URL'] = v.database;
  const env = await openEnv(campaignDirOf(v['campaign-dir']), { temporal: true, log: (m) => console.error(m) });
  const slots = v.slots;
  const sup = new WorkerSupervisor({
    temporalAddress: env.services.temporalAddress,
    databaseUrl: env.services.databaseUrl,
    queues,
    ...((v['inference-slots'] ?? slots) !== undefined ? { inferenceSlots: (v['inference-slots'] ?? slots)! } : {}),
    ...((v['light-slots'] ?? slots) !== undefined ? { lightSlots: (v['light-slots'] ?? slots)! } : {}),
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
