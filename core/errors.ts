// Typed errors. `code` is stable and stored in the database as the error class; invalid input
// is never retried (engine rule 3), faults are.
export type InputErrorCode =
  | 'unparsable'
  | 'no_cell'
  | 'non_finite'
  | 'bad_volume'
  | 'atoms_too_close'
  | 'unknown_element'
  | 'unsupported_element'
  | 'too_many_atoms'
  | 'partial_occupancy'
  | 'empty_structure'
  | 'unsupported_format'
  | 'symmetry_failed'
  | 'invalid_argument'
  | 'file_too_large'
  | 'unreadable_file';

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

export function isInputError(e: unknown): e is SoftmodeInputError {
  return e instanceof SoftmodeInputError;
}
