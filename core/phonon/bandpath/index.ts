// HPKOT band path (Hinuma, Pizzi, Kumagai, Oba, Tanaka, Comput. Mater. Sci. 128, 140 (2017)).
// FIRST VERSION OF THE SIGNATURE ONLY: the implementation follows in the next commits.
import type { Vec3 } from '../../math/linalg.js';
import type { Structure } from '../../structure/structure.js';

export interface BandPathOptions {
  /** moyo tolerance, Å */
  symprec?: number;
  /** q-points on the longest segment (default 101) */
  pointsOnLongestSegment?: number;
  /** use the HPKOT coordinates verbatim as fractional coordinates of the input cell (PhononBench) */
  phononbenchCompat?: boolean;
  /** default true (phonons): no −k augmentation of the path */
  withTimeReversal?: boolean;
}

export interface BandPathSegment {
  labels: [string, string];
  qpoints: Vec3[];
}

export interface BandPath {
  extendedBravais: string;
  spaceGroup: number;
  hpkotPrimitive: Structure;
  points: Record<string, Vec3>;
  path: [string, string][];
  segments: BandPathSegment[];
  qpointsBasis: 'input' | 'hpkot-primitive';
}

export function bandPath(_structure: Structure, _opts: BandPathOptions = {}): BandPath {
  throw new Error('bandPath: not implemented yet (helper D is writing it)');
}
