// Compute thread: runs one job at a time for the pool in pool.ts. Loaded from dist/ (compiled
// JavaScript) by node:worker_threads.
import { parentPort } from 'node:worker_threads';
import { isInputError } from '../../core/errors.js';
import type { Job, ThreadMessage } from './jobs.js';
import { potentialFor, trajectoryPotentialFor } from '../../pipeline/potentials.js';
import * as steps from '../../pipeline/steps.js';

async function run(job: Job, checkpoint: (s: unknown) => void): Promise<unknown> {
  switch (job.kind) {
    case 'validate':
      return steps.validateStep(job.structure, job.params);
    case 'relax': {
      const potential = await potentialFor(job.potential);
      const trajectory = await trajectoryPotentialFor(job.potential, potential, job.protocol);
      return steps.relaxStep(job.structure, potential, trajectory, job.protocol, job.resumeFrom, job.checkpointEvery, checkpoint);
    }
    case 'displace':
      return steps.displaceStep(job.structure, job.params);
    case 'forces':
      return steps.forcesStep(job.supercell, job.displacements, await potentialFor(job.potential));
    case 'phonons':
      return steps.phononStep(job.structure, job.displace, job.forces, job.params);
    case 'classify':
      return steps.classifyStep(job.phonons, job.preset, job.rules);
    case 'spin': {
      const t0 = Date.now();
      let x = 0;
      while (Date.now() - t0 < job.ms) x += Math.sqrt(x + 1);
      return { spun: job.ms, x: x > 0 };
    }
  }
}

const port = parentPort;
if (!port) throw new Error('compute thread must run inside a worker thread');
port.on('message', (msg: { id: number; job: Job }) => {
  const post = (m: ThreadMessage) => port.postMessage(m);
  run(msg.job, (state) => post({ id: msg.id, type: 'checkpoint', state })).then(
    (result) => post({ id: msg.id, type: 'done', result }),
    (e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      post({
        id: msg.id,
        type: 'error',
        error: { name: err.name, message: err.message, ...(isInputError(e) ? { code: e.code } : {}), ...(err.stack ? { stack: err.stack } : {}) },
      });
    },
  );
});
