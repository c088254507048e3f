// Messages between the activity worker's main thread and its compute threads.
import type { RelaxProtocol } from '../../config/relax.js';
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
  | { kind: 'spin'; ms: number };

export interface JobError {
  name: string;
  message: string;
  /** SoftmodeInputError code: invalid input, never retried */
  code?: string;
  stack?: string;
}

export type ThreadMessage =
  | { id: number; type: 'checkpoint'; state: unknown }
  | { id: number; type: 'done'; result: unknown }
  | { id: number; type: 'error'; error: JobError };
