// Messages between the activity worker's main thread and its compute threads, and what kind of
// fault an error is (core/errors.ts: whose fault), so that the kind survives the thread boundary
// (errors are structured-cloned there and lose their class).
import type { RelaxProtocol } from '../../config/relax.js';
import { InfrastructureError, StepNotAvailableError, isInputError, isUsageError } from '../../core/errors.js';
import { ModelIntegrityError } from '../../core/potential/model-error.js';
import type { StabilityRules } from '../../core/stability/index.js';
import type { PotentialSpec } from '../../pipeline/potentials.js';
import type { DisplaceOut, DisplaceParams, PhononOut, PhononParams, StructureJson, ValidateParams } from '../../pipeline/steps.js';

export type Job =
  | { kind: 'validate'; structure: StructureJson; params: ValidateParams }
  | { kind: 'relax'; structure: StructureJson; potential: PotentialSpec; protocol: RelaxProtocol; resumeFrom: unknown; checkpointEvery: number }
  | { kind: 'displace'; structure: StructureJson; params: DisplaceParams }
  | { kind: 'forces'; supercell: StructureJson; displacements: { atom: number; displacement: number[] }[]; potential: PotentialSpec }
  | { kind: 'phonons'; structure: StructureJson; displace: DisplaceOut; forces: number[][][]; params: PhononParams }
  | { kind: 'classify'; phonons: PhononOut; preset: string; rules: StabilityRules }
  /** test hook: burn CPU for `ms` (proves heartbeats survive a busy compute thread) */
  | { kind: 'spin'; ms: number }
  /** test hook: throw an error of this kind (proves each kind crosses the thread boundary typed) */
  | { kind: 'throw'; error: ErrorKind | 'disk_full' };

/**
 * Whose fault an error is. structure: the structure is invalid (rejected, never retried);
 * usage: a bad setting or argument; model_integrity: the model files are missing or corrupt;
 * step_not_available: the build lacks a step (these three: failed, never retried);
 * infrastructure: store, Temporal or disk (retried); bug: anything else (retried a few times,
 * then failed with its stack).
 */
export type ErrorKind = 'structure' | 'usage' | 'infrastructure' | 'model_integrity' | 'step_not_available' | 'bug';

export interface JobError {
  kind: ErrorKind;
  name: string;
  message: string;
  /** StructureError / UsageError / ModelIntegrityError code */
  code?: string;
  detail?: Record<string, unknown>;
  stack?: string;
}

/** Node system errors and PostgreSQL SQLSTATEs that mean "the machine or a service failed". */
const SYSTEM_FAULTS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE', 'ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE']);
// 08: connection exception, 53: insufficient resources (53100 disk full), 57P01-03: shutdown / cannot connect now
const SQLSTATE_FAULT = /^(08[0-9A-Z]{3}|53[0-9A-Z]{3}|57P0[123])$/;

export function errorKind(e: unknown): ErrorKind {
  if (isInputError(e)) return 'structure';
  if (isUsageError(e)) return 'usage';
  if (e instanceof ModelIntegrityError) return 'model_integrity';
  if (e instanceof StepNotAvailableError) return 'step_not_available';
  if (e instanceof InfrastructureError) return 'infrastructure';
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && (SYSTEM_FAULTS.has(code) || SQLSTATE_FAULT.test(code))) return 'infrastructure';
  return 'bug';
}

/** What a compute thread posts for an error (structured-clonable). */
export function toJobError(e: unknown): JobError {
  const err = e instanceof Error ? e : new Error(String(e));
  const kind = errorKind(e);
  const { code, detail } = err as { code?: unknown; detail?: unknown };
  return {
    kind,
    name: err.name,
    message: err.message,
    ...(kind !== 'bug' && kind !== 'infrastructure' && typeof code === 'string' ? { code } : {}),
    ...(kind !== 'bug' && detail && typeof detail === 'object' ? { detail: detail as Record<string, unknown> } : {}),
    ...(err.stack ? { stack: err.stack } : {}),
  };
}

export type ThreadMessage =
  | { id: number; type: 'checkpoint'; state: unknown }
  | { id: number; type: 'done'; result: unknown }
  | { id: number; type: 'error'; error: JobError };
