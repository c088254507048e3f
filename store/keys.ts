// Content addressing (engine rule 1) and payload encoding for stored step results.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { canonicalJson } from '../config/index.js';

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

export function encodePayload(value: unknown): { bytes: Buffer; rawBytes: number } {
  const raw = Buffer.from(JSON.stringify(value));
  return { bytes: gzipSync(raw, { level: 6 }), rawBytes: raw.length };
}

export function decodePayload<T>(bytes: Buffer): T {
  return JSON.parse(gunzipSync(bytes).toString('utf8')) as T;
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}
