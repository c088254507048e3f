// Symmetry-reduced finite displacements (physics.md §1, phonopy's displacement semantics).
import { PHONON_CONFIG } from '../../config/phonon.js';
import { UsageError } from '../errors.js';
import { type Mat3, type Vec3, norm3, vecmat3 } from '../math/linalg.js';
import { getSymmetry, type SymmetryOperation } from '../symmetry/index.js';
import { supercellSymmetry, unitcellOfSupercell } from '../symmetry/supercell-symmetry.js';
import type { Supercell } from '../structure/supercell.js';
import type { Structure } from '../structure/structure.js';
import { siteOperationIndices } from './symmetry-tools.js';

/** One displaced supercell: atom index (0-based, supercell) and Cartesian displacement (Å). */
export interface Displacement {
  atom: number;
  /** Cartesian displacement, Å */
  displacement: Vec3;
  /** integer direction in the supercell's fractional basis (absent when read from a file) */
  direction?: Vec3;
}

/** A displacement with the forces (eV/Å, one row per supercell atom) it produced. */
export interface DisplacementForces extends Displacement {
  forces: readonly (readonly number[])[];
}

export interface DisplacementOptions {
  /** Å, default 0.01 */
  amplitude?: number;
  /** diagonal directions (phonopy default) or the three axes only (PhononBench, Loew) */
  diagonal?: boolean;
  /** 'auto' (default), true (always ±) or false (only +) */
  plusMinus?: 'auto' | boolean;
  symprec?: number;
  /** precomputed supercell symmetry operations (fractional, supercell basis) */
  operations?: readonly SymmetryOperation[];
  /** precomputed spglib-style equivalent atoms */
  equivalentAtoms?: readonly number[];
  /**
   * How to find the supercell's operations when none are given and a Supercell (not a bare
   * Structure) is passed: 'unitcell' (default) derives them from the unit cell's symmetry
   * (core/symmetry/supercell-symmetry.ts, fast); 'direct' runs moyo on the whole supercell.
   * A bare Structure always uses 'direct' (the unit cell is unknown).
   */
  symmetrySource?: 'unitcell' | 'direct';
  /** the unit cell the Supercell was made from (default: reconstructed from the Supercell) */
  unitcell?: Structure;
}

function isSupercell(x: Structure | Supercell): x is Supercell {
  return (x as Supercell).structure !== undefined && (x as Supercell).matrix !== undefined;
}

const AXES: Vec3[] = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];
const DIAGONAL: Vec3[] = [
  ...AXES,
  [1, 1, 0],
  [1, 0, 1],
  [0, 1, 1],
  [1, -1, 0],
  [1, 0, -1],
  [0, 1, -1],
  [1, 1, 1],
  [1, 1, -1],
  [1, -1, 1],
  [-1, 1, 1],
];

function rot(R: Readonly<Mat3>, d: readonly number[]): Vec3 {
  return [
    R[0][0] * d[0]! + R[0][1] * d[1]! + R[0][2] * d[2]!,
    R[1][0] * d[0]! + R[1][1] * d[1]! + R[1][2] * d[2]!,
    R[2][0] * d[0]! + R[2][1] * d[1]! + R[2][2] * d[2]!,
  ];
}

function det(a: readonly number[], b: readonly number[], c: readonly number[]): number {
  return a[0]! * (b[1]! * c[2]! - b[2]! * c[1]!) - a[1]! * (b[0]! * c[2]! - b[2]! * c[0]!) + a[2]! * (b[0]! * c[1]! - b[1]! * c[0]!);
}

/**
 * Directions for one atom with site rotations `site` (fractional, integer): one direction whose
 * images under two site operations span space; else a pair (d, d2); else the three axes.
 */
export function siteDirections(site: readonly Readonly<Mat3>[], candidates: readonly Vec3[]): Vec3[] {
  for (const d of candidates) {
    const rd = site.map((R) => rot(R, d));
    for (let i = 0; i < rd.length; i++) for (let j = i + 1; j < rd.length; j++) if (det(d, rd[i]!, rd[j]!) !== 0) return [d];
  }
  for (const d of candidates) {
    const rd = site.map((R) => rot(R, d));
    for (let i = 0; i < rd.length; i++) for (const d2 of candidates) if (det(d, rd[i]!, d2) !== 0) return [d, d2];
  }
  return [candidates[0]!, candidates[1]!, candidates[2]!];
}

/** True unless some site rotation maps d exactly onto −d (then −d is redundant). */
function needsMinus(d: Vec3, site: readonly Readonly<Mat3>[]): boolean {
  for (const R of site) {
    const r = rot(R, d);
    if (r[0] + d[0] === 0 && r[1] + d[1] === 0 && r[2] + d[2] === 0) return false;
  }
  return true;
}

/** Symmetry-reduced displacements of a supercell, in phonopy's order. */
export function generateDisplacements(cell: Structure | Supercell, opts: DisplacementOptions = {}): Displacement[] {
  const supercell = isSupercell(cell) ? cell.structure : cell;
  const amplitude = opts.amplitude ?? PHONON_CONFIG.displacementAmplitude;
  if (!(amplitude > 0) || !Number.isFinite(amplitude)) throw new UsageError(`displacement amplitude must be > 0 (got ${amplitude})`);
  const diagonal = opts.diagonal ?? PHONON_CONFIG.diagonalDisplacements;
  const plusMinus = opts.plusMinus ?? PHONON_CONFIG.plusMinus;
  const symprec = opts.symprec ?? PHONON_CONFIG.symprec;
  let ops = opts.operations;
  let equiv = opts.equivalentAtoms;
  if (!ops || !equiv) {
    const sym =
      isSupercell(cell) && (opts.symmetrySource ?? 'unitcell') === 'unitcell'
        ? supercellSymmetry(opts.unitcell ?? unitcellOfSupercell(cell), cell, symprec)
        : getSymmetry(supercell, symprec);
    ops = sym.operations;
    equiv = sym.equivalentAtoms;
  }
  const candidates = diagonal ? DIAGONAL : AXES;
  const out: Displacement[] = [];
  const L = supercell.lattice;
  const cart = (d: Vec3): Vec3 => {
    const v = vecmat3(d, L);
    const s = amplitude / norm3(v);
    return [v[0] * s, v[1] * s, v[2] * s];
  };
  for (let atom = 0; atom < supercell.numbers.length; atom++) {
    if (equiv[atom] !== atom) continue;
    const site = siteOperationIndices(supercell, ops, atom, symprec).map((k) => ops![k]!.rotation);
    for (const d of siteDirections(site, candidates)) {
      out.push({ atom, direction: d, displacement: cart(d) });
      if (plusMinus === true || (plusMinus === 'auto' && needsMinus(d, site))) {
        const m: Vec3 = [-d[0] || 0, -d[1] || 0, -d[2] || 0];
        out.push({ atom, direction: m, displacement: cart(m) });
      }
    }
  }
  return out;
}
