// Messages between the activity worker's main thread and its compute threads.
import type { RelaxProtocol } from '../../config/relax.js';
import type { DisplaceOut, DisplaceParams, PhononOut, PhononParams, StructureJson } from './science.js';

export type Job =
  | { kind: 'validate'; structure: StructureJson; model: string; params: { symprec: number } }
  | { kind: 'relax'; structure: StructureJson; model: string; protocol: RelaxProtocol; resumeFrom: unknown; checkpointEvery: number }
  | { kind: 'displace'; structure: StructureJson; params: DisplaceParams }
  | { kind: 'forces'; supercell: StructureJson; displacements: { atom: number; displacement: number[] }[]; model: string }
  | { kind: 'phonons'; structure: StructureJson; displace: DisplaceOut; forces: number[][][]; params: PhononParams }
  | { kind: 'classify'; phonons: PhononOut; preset: string }
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
