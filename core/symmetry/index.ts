// Symmetry service on moyo-wasm. Lattice basis = rows, as in Structure.
import type { MoyoDataset } from '@spglib/moyo-wasm';
import { SoftmodeInputError } from '../errors.js';
import type { Mat3, Vec3 } from '../math/linalg.js';
import type { Structure } from '../structure/structure.js';
import { loadMoyo } from './moyo.js';

/** A space-group operation in fractional coordinates of the analysed cell: x' = R·x + t. */
export interface SymmetryOperation {
  /** integer rotation, rows: R[i][j] */
  rotation: Mat3;
  translation: Vec3;
}

export interface SymmetryInfo {
  number: number;
  hallNumber: number;
  /** Hermann–Mauguin symbol, short */
  symbol: string;
  operations: SymmetryOperation[];
  /** per atom: index of the first atom of its orbit (spglib's equivalent_atoms) */
  equivalentAtoms: number[];
  wyckoffs: string[];
  symprec: number;
  /** raw moyo dataset (standardized and primitive cells, transformations) */
  dataset: MoyoDataset;
}

export type SymmetrySetting = 'Spglib' | 'Standard';

function checkInput(s: Structure): void {
  // moyo panics (an unrecoverable wasm trap) on inconsistent arrays: guard first.
  const n = s.numbers.length;
  if (n === 0) throw new SoftmodeInputError('empty_structure', 'structure has no atoms');
  if (s.frac.length !== n) throw new SoftmodeInputError('invalid_argument', 'positions and numbers differ in length');
  for (const row of s.lattice) for (const x of row) if (!Number.isFinite(x)) throw new SoftmodeInputError('non_finite', 'lattice has a non-finite number');
  for (const p of s.frac) for (const x of p) if (!Number.isFinite(x)) throw new SoftmodeInputError('non_finite', 'position has a non-finite number');
  for (const z of s.numbers) if (!Number.isInteger(z) || z < 0) throw new SoftmodeInputError('invalid_argument', `bad atomic number ${z}`);
}

function toRows9(a: readonly number[]): Mat3 {
  return [
    [a[0]!, a[1]!, a[2]!],
    [a[3]!, a[4]!, a[5]!],
    [a[6]!, a[7]!, a[8]!],
  ];
}

/** Analyse the space group of a structure at tolerance `symprec` (Å). */
export function getSymmetry(s: Structure, symprec = 1e-5, setting: SymmetrySetting = 'Spglib'): SymmetryInfo {
  checkInput(s);
  const moyo = loadMoyo();
  const cell = { lattice: { basis: s.lattice.flat() }, positions: s.frac, numbers: s.numbers };
  let ds: MoyoDataset;
  try {
    ds = moyo.analyze_cell(JSON.stringify(cell), symprec, setting);
  } catch (e) {
    throw new SoftmodeInputError('symmetry_failed', `symmetry search failed at symprec ${symprec}: ${String(e)}`);
  }
  return {
    number: ds.number,
    hallNumber: ds.hall_number,
    symbol: ds.hm_symbol,
    operations: ds.operations.map((op) => ({ rotation: toRows9(op.rotation), translation: [...op.translation] as Vec3 })),
    equivalentAtoms: ds.orbits,
    wyckoffs: ds.wyckoffs,
    symprec,
    dataset: ds,
  };
}
