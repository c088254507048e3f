// The model files are missing, inconsistent or corrupt: a deployment fault, not bad input.
// (Its own module so the manifest reader, the architecture strategies and the loader can all
// throw it without importing each other.)

export type ModelErrorCode = 'model_not_found' | 'model_manifest_invalid' | 'model_checksum_mismatch' | 'model_output_invalid';

export class ModelIntegrityError extends Error {
  readonly code: ModelErrorCode;
  readonly detail: Record<string, unknown> | undefined;
  constructor(code: ModelErrorCode, message: string, detail?: Record<string, unknown>) {
    super(message);
    this.name = 'ModelIntegrityError';
    this.code = code;
    this.detail = detail;
  }
}
