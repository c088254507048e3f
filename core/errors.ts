// Errors say whose fault (docs/architecture.md):
// - StructureError: the structure itself is invalid (unparsable, non-finite, atoms too close,
//   unknown element, too many atoms, ...). Its `code` is stable and stored in the database as
//   the error class; the engine never retries it and marks the structure *rejected* (engine
//   rule 3).
// - UsageError: a bad option, setting or argument: the user's fault. The CLI exits 2 with one
//   line; the engine fails the item (not rejected: the structure may be fine) without retrying.
// - InfrastructureError: the store or Temporal is unreachable, the disk is full: retried.
// - StepNotAvailableError: a step's implementation is absent from this build (deployment).
// Anything else thrown is a bug: retried a few times, then *failed* with its stack kept.
// (core/potential's ModelIntegrityError, a deployment fault, is handled by the engine like
// UsageError: failed, not retried, under its own class name.)

/** What is wrong with a structure (stored as the rejected item's error class). */
export type StructureErrorCode =
  | 'unparsable'
  | 'no_cell'
  | 'non_finite'
  | 'bad_volume'
  | 'atoms_too_close'
  /** an atom with no neighbour within the model's cutoff (the model refuses isolated atoms) */
  | 'isolated_atom'
  | 'unknown_element'
  | 'unsupported_element'
  | 'too_many_atoms'
  | 'partial_occupancy'
  | 'empty_structure'
  | 'unsupported_format'
  | 'symmetry_failed'
  | 'file_too_large'
  | 'unreadable_file';

export type UsageErrorCode = 'invalid_argument';

export type InputErrorCode = StructureErrorCode | UsageErrorCode;

/**
 * The common base of StructureError and UsageError: "the input is wrong, not the program" (the
 * CLI's `instanceof SoftmodeInputError` → exit 2). Throw one of the subclasses; a bare
 * SoftmodeInputError (older code) is taken as usage when its code is 'invalid_argument', else as
 * a structure problem.
 */
export class SoftmodeInputError extends Error {
  readonly code: InputErrorCode;
  readonly detail: Record<string, unknown> | undefined;
  constructor(code: InputErrorCode, message: string, detail?: Record<string, unknown>) {
    super(message);
    this.name = 'SoftmodeInputError';
    this.code = code;
    this.detail = detail;
  }
}

/** The structure itself is invalid: reject it (never retried). */
export class StructureError extends SoftmodeInputError {
  declare readonly code: StructureErrorCode;
  constructor(code: StructureErrorCode, message: string, detail?: Record<string, unknown>) {
    super(code, message, detail);
    this.name = 'StructureError';
  }
}

/** A bad option, setting or argument: the user's fault (CLI exit 2; engine: failed, not retried). */
export class UsageError extends SoftmodeInputError {
  declare readonly code: UsageErrorCode;
  constructor(message: string, detail?: Record<string, unknown>, code: UsageErrorCode = 'invalid_argument') {
    super(code, message, detail);
    this.name = 'UsageError';
  }
}

/** The store, Temporal or the disk failed: not the structure's fault and not a bug; retried. */
export class InfrastructureError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InfrastructureError';
  }
}

/**
 * This worker's code or configuration is not what the campaign's settings froze (a step cache
 * version, a config area's version): it must not compute results under the campaign's keys.
 * A deployment fault: the item is failed (not retried) and the message names the worker.
 */
export class WorkerMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerMismatchError';
  }
}

/** A step whose core/ implementation is absent from this build: a deployment fault, never a result. */
export class StepNotAvailableError extends Error {
  constructor(what: string) {
    super(`${what} is not available in this build`);
    this.name = 'StepNotAvailableError';
  }
}

/**
 * "This structure is bad": the engine rejects it. A UsageError is not (the structure may be
 * fine); a bare SoftmodeInputError with a structure code (older code) still is.
 */
export function isInputError(e: unknown): e is SoftmodeInputError & { code: StructureErrorCode } {
  return e instanceof StructureError || (e instanceof SoftmodeInputError && !(e instanceof UsageError) && e.code !== 'invalid_argument');
}

/** A bad option, setting or argument (a UsageError, or a bare SoftmodeInputError 'invalid_argument'). */
export function isUsageError(e: unknown): e is SoftmodeInputError & { code: UsageErrorCode } {
  return e instanceof SoftmodeInputError && !isInputError(e);
}
