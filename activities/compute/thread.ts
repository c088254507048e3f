// Compute thread: runs one job at a time for the pool in pool.ts. Loaded from dist/ (compiled
// JavaScript) by node:worker_threads.
import { parentPort } from 'node:worker_threads';
import { InfrastructureError, StepNotAvailableError, StructureError, UsageError } from '../../core/errors.js';
import { ModelIntegrityError } from '../../core/potential/model-error.js';
import { type Job, type ThreadMessage, toJobError } from './jobs.js';
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
    case 'throw':
      return throwTestError(job.error);
  }
}

/** Test hook: one error of each kind, thrown as the real code would. */
function throwTestError(kind: Extract<Job, { kind: 'throw' }>['error']): never {
  switch (kind) {
    case 'structure':
      throw new StructureError('atoms_too_close', 'test: atoms 1 and 2 are too close', { atoms: [0, 1] });
    case 'usage':
      throw new UsageError('test: symprec must be positive, got -1');
    case 'model_integrity':
      throw new ModelIntegrityError('model_checksum_mismatch', 'test: model checkpoint does not match its manifest', { model: 'test' });
    case 'step_not_available':
      throw new StepNotAvailableError('test step');
    case 'infrastructure':
      throw new InfrastructureError('test: store unreachable');
    case 'disk_full':
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    case 'bug':
      return internalInvariant();
  }
}

function internalInvariant(): never {
  throw new RangeError('test: have 3 force sets for 4 displacements');
}

const port = parentPort;
if (!port) throw new Error('compute thread must run inside a worker thread');
port.on('message', (msg: { id: number; job: Job }) => {
  const post = (m: ThreadMessage) => port.postMessage(m);
  run(msg.job, (state) => post({ id: msg.id, type: 'checkpoint', state })).then(
    (result) => post({ id: msg.id, type: 'done', result }),
    // the error's kind (whose fault), code and stack cross the boundary; pool.ts rebuilds it
    (e: unknown) => {
      const error = toJobError(e);
      try {
        post({ id: msg.id, type: 'error', error });
      } catch {
        // a detail that cannot be structured-cloned: send the error without it
        const { detail: _detail, ...rest } = error;
        post({ id: msg.id, type: 'error', error: rest });
      }
    },
  );
});
