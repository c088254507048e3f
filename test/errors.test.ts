// Errors say whose fault (docs/architecture.md): each kind crosses the compute-thread boundary
// with its type, and the activities' toFailure turns it into what Temporal should do: an invalid
// structure is a non-retryable rejection; a bad setting, a corrupt model or a missing step is a
// non-retryable failure under its class name; infrastructure faults and bugs are retried, a bug
// keeping its stack. A program fault is never a rejection.
import { ApplicationFailure } from '@temporalio/activity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComputePool, JobFailed } from '../activities/compute/pool.js';
import { errorKind, toJobError } from '../activities/compute/jobs.js';
import { toFailure } from '../activities/index.js';
import { InfrastructureError, SoftmodeInputError, StepNotAvailableError, StructureError, UsageError, isInputError, isUsageError } from '../core/errors.js';
import { ModelIntegrityError } from '../core/potential/model-error.js';
import { StepNotAvailableError as StepNotAvailableFromSteps } from '../pipeline/steps.js';
import { ensureBuilt } from './engine-harness.js';

/** The structure workflow's test (workflows/index.ts describeFailure): rejected, else failed. */
function rejects(f: unknown): boolean {
  return f instanceof ApplicationFailure && Boolean(f.nonRetryable) && f.details?.[0] === 'input';
}

describe('error classes', () => {
  it('StructureError and UsageError share the CLI base class; only StructureError means "the structure is bad"', () => {
    const s = new StructureError('atoms_too_close', 'too close');
    const u = new UsageError('--symprec must be positive');
    for (const e of [s, u]) expect(e).toBeInstanceOf(SoftmodeInputError);
    expect(s.name).toBe('StructureError');
    expect(u.name).toBe('UsageError');
    expect(u.code).toBe('invalid_argument');
    expect(isInputError(s)).toBe(true);
    expect(isInputError(u)).toBe(false);
    expect(isUsageError(u)).toBe(true);
    expect(isUsageError(s)).toBe(false);
    // older code throwing the base class directly: classified by its code
    expect(isInputError(new SoftmodeInputError('unparsable', 'x'))).toBe(true);
    expect(isUsageError(new SoftmodeInputError('invalid_argument', 'x'))).toBe(true);
    for (const e of [new InfrastructureError('db down'), new RangeError('bug'), new ModelIntegrityError('model_not_found', 'm')]) {
      expect(isInputError(e)).toBe(false);
      expect(isUsageError(e)).toBe(false);
    }
    // pipeline/steps.ts re-exports the one class
    expect(StepNotAvailableFromSteps).toBe(StepNotAvailableError);
  });

  it('errorKind: system and PostgreSQL connection or disk faults are infrastructure, the rest of plain errors bugs', () => {
    const sys = (code: string) => Object.assign(new Error(code), { code });
    expect(errorKind(sys('ECONNREFUSED'))).toBe('infrastructure');
    expect(errorKind(sys('ENOSPC'))).toBe('infrastructure');
    expect(errorKind(sys('08006'))).toBe('infrastructure'); // connection_failure
    expect(errorKind(sys('53100'))).toBe('infrastructure'); // disk_full
    expect(errorKind(sys('57P01'))).toBe('infrastructure'); // admin_shutdown
    expect(errorKind(sys('23505'))).toBe('bug'); // unique_violation: our fault
    expect(errorKind(sys('ENOENT'))).toBe('bug');
    expect(errorKind(new TypeError('x is undefined'))).toBe('bug');
    expect(errorKind('a string')).toBe('bug');
    expect(toJobError('a string')).toMatchObject({ kind: 'bug', name: 'Error', message: 'a string' });
  });
});

describe('errors across the compute-thread boundary', () => {
  let pool: ComputePool;
  beforeAll(() => {
    ensureBuilt();
    pool = new ComputePool(1);
  });
  afterAll(async () => {
    await pool?.close();
  });
  const caught = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
  const throwing = (error: 'structure' | 'usage' | 'infrastructure' | 'model_integrity' | 'step_not_available' | 'bug' | 'disk_full') => caught(pool.run({ kind: 'throw', error }));
  const validateParams = { symprec: 1e-5, validationVersion: 'validation-1', supportedElements: null };
  const cubic = (frac: number[][]) => ({ lattice: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], frac, numbers: frac.map(() => 14) });

  it('StructureError (atoms on top of each other) arrives typed with code and detail, and is rejected', async () => {
    const e = await caught(pool.run({ kind: 'validate', structure: cubic([[0, 0, 0], [0, 0, 0.001]]), params: validateParams }));
    expect(e).toBeInstanceOf(StructureError);
    expect(e).toBeInstanceOf(SoftmodeInputError);
    expect((e as StructureError).code).toBe('atoms_too_close');
    expect((e as StructureError).detail).toMatchObject({ atoms: [0, 1] });
    expect((e as Error).stack).toContain('StructureError');
    const f = toFailure(e);
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect((f as ApplicationFailure).type).toBe('atoms_too_close');
    expect((f as ApplicationFailure).nonRetryable).toBe(true);
    expect(rejects(f)).toBe(true);
    // the test hook's StructureError too
    const h = await throwing('structure');
    expect(h).toBeInstanceOf(StructureError);
    expect(rejects(toFailure(h))).toBe(true);
  });

  it('UsageError (a bad setting) arrives typed and fails the item without retry, not a rejection', async () => {
    // a real one: a negative symprec for a valid structure
    const e = await caught(pool.run({ kind: 'validate', structure: cubic([[0, 0, 0], [0.5, 0.5, 0.5]]), params: { ...validateParams, symprec: -1 } }));
    expect(e).toBeInstanceOf(UsageError);
    expect(e).toBeInstanceOf(SoftmodeInputError); // the CLI's exit-2 test still holds
    expect((e as UsageError).code).toBe('invalid_argument');
    expect((e as Error).message).toContain('symprec');
    // and an unknown stability preset in the classify step
    const c = await caught(pool.run({ kind: 'classify', phonons: {} as never, preset: 'nope', rules: {} as never }));
    expect(c).toBeInstanceOf(UsageError);
    for (const x of [e, c, await throwing('usage')]) {
      const f = toFailure(x) as ApplicationFailure;
      expect(f).toBeInstanceOf(ApplicationFailure);
      expect(f.type).toBe('UsageError');
      expect(f.nonRetryable).toBe(true);
      expect(rejects(f)).toBe(false);
    }
  });

  it('ModelIntegrityError arrives typed and fails under its class name (retry-failed --error-class ModelIntegrityError)', async () => {
    const e = await throwing('model_integrity');
    expect(e).toBeInstanceOf(ModelIntegrityError);
    expect((e as ModelIntegrityError).code).toBe('model_checksum_mismatch');
    expect((e as ModelIntegrityError).detail).toEqual({ model: 'test' });
    const f = toFailure(e) as ApplicationFailure;
    expect(f.type).toBe('ModelIntegrityError');
    expect(f.nonRetryable).toBe(true);
    expect(f.details).toEqual(['model_integrity', 'model_checksum_mismatch']);
    expect(rejects(f)).toBe(false);
  });

  it('StepNotAvailableError arrives typed (by class, not by name string) and fails without retry', async () => {
    const e = await throwing('step_not_available');
    expect(e).toBeInstanceOf(StepNotAvailableError);
    expect((e as Error).message).toBe('test step is not available in this build');
    const f = toFailure(e) as ApplicationFailure;
    expect(f.type).toBe('StepNotAvailableError');
    expect(f.nonRetryable).toBe(true);
    expect(rejects(f)).toBe(false);
  });

  it('InfrastructureError (and a full disk) arrives typed and is retried', async () => {
    for (const x of [await throwing('infrastructure'), await throwing('disk_full')]) {
      expect(x).toBeInstanceOf(InfrastructureError);
      const f = toFailure(x) as ApplicationFailure;
      expect(f).toBeInstanceOf(ApplicationFailure);
      expect(f.type).toBe('InfrastructureError');
      expect(f.nonRetryable).toBe(false);
      expect(rejects(f)).toBe(false);
    }
    expect(((await throwing('disk_full')) as Error).message).toContain('ENOSPC');
  });

  it('a program fault is a bug: not a rejection, retried, its name and thread stack kept', async () => {
    const e = await throwing('bug');
    expect(e).toBeInstanceOf(JobFailed);
    expect(e).not.toBeInstanceOf(SoftmodeInputError);
    expect((e as Error).name).toBe('RangeError');
    expect((e as Error).stack).toContain('internalInvariant'); // the frame inside the compute thread
    const f = toFailure(e) as ApplicationFailure;
    expect(f).toBeInstanceOf(ApplicationFailure);
    expect(f.type).toBe('RangeError');
    expect(f.nonRetryable).toBe(false);
    expect(f.stack).toContain('internalInvariant');
    expect(rejects(f)).toBe(false);

    // a real one: the phonon step given fewer force sets than displacements (an internal invariant)
    const disp = { supercellMatrix: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], supercell: cubic([[0, 0, 0]]), displacements: [{ atom: 0, displacement: [0.01, 0, 0] }], rule: 'explicit' };
    const p = await caught(pool.run({ kind: 'phonons', structure: cubic([[0, 0, 0]]), displace: disp as never, forces: [], params: {} as never }));
    expect(p).toBeInstanceOf(JobFailed);
    expect((p as Error).message).toBe('have 0 force sets for 1 displacements');
    const fp = toFailure(p) as ApplicationFailure;
    expect(fp.type).toBe('Error');
    expect(fp.nonRetryable).toBe(false);
    expect(rejects(fp)).toBe(false);
  });

  it('errors thrown on the main thread map the same way; Temporal failures pass through', () => {
    expect(rejects(toFailure(new StructureError('too_many_atoms', 'big')))).toBe(true);
    expect((toFailure(new UsageError('bad')) as ApplicationFailure).type).toBe('UsageError');
    expect((toFailure(new ModelIntegrityError('model_not_found', 'gone')) as ApplicationFailure).type).toBe('ModelIntegrityError');
    const pg = toFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })) as ApplicationFailure;
    expect(pg.type).toBe('InfrastructureError');
    expect(pg.nonRetryable).toBe(false);
    const bug = toFailure(new TypeError("cannot read properties of undefined (reading 'x')")) as ApplicationFailure;
    expect(bug.type).toBe('TypeError');
    expect(bug.nonRetryable).toBe(false);
    expect(rejects(bug)).toBe(false);
    const own = ApplicationFailure.create({ message: 'no structure', type: 'no_structure', nonRetryable: true });
    expect(toFailure(own)).toBe(own);
  });
});
