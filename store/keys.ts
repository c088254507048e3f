// Content addressing (engine rule 1) and payload encoding for stored step results.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../config/index.js';
import { decodeAnyPayload, encodePayloadV2 } from './codec.js';

export interface StepKeyInput {
  step: string;
  /** bumped by hand when the step's code changes what it computes */
  cacheVersion: string;
  /** keys (sha256) of the step results / structure hashes this step consumes, in order */
  inputRefs: readonly string[];
  /** every parameter that changes the output */
  params: unknown;
  /** model checkpoint sha256, or null for steps that do not evaluate a model */
  modelSha256: string | null;
}

/** key = sha256(canonical input refs + params + model checkpoint sha256 + step cache-version) */
export function stepKey(k: StepKeyInput): string {
  return createHash('sha256')
    .update(canonicalJson({ step: k.step, cacheVersion: k.cacheVersion, inputRefs: k.inputRefs, params: k.params ?? null, modelSha256: k.modelSha256 }))
    .digest('hex');
}

/**
 * A step payload as stored (store/codec.ts, format 2: numbers in binary, lossless); `rawBytes`
 * is the length of its JSON text.
 */
export function encodePayload(value: unknown): { bytes: Buffer; rawBytes: number } {
  return encodePayloadV2(value);
}

/** Either format: payloads stored before format 2 (gzip of JSON text) are read as they were. */
export function decodePayload<T>(bytes: Buffer): T {
  return decodeAnyPayload<T>(bytes);
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}
