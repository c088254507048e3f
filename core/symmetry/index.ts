// Symmetry service on moyo-wasm. Lattice basis = rows, as in Structure.
//
// moyo's conventions (checked by test/symmetry-*.test.ts): every 3×3 matrix crossing the wasm
// boundary (operation rotations, std_linear, prim_std_linear, std_rotation_matrix) is flattened
// COLUMN-major (nalgebra's as_slice), while lattice.basis flattened is our row-vector lattice.
// With B = column-basis matrix (= Lᵀ), P = std_linear, o = std_origin_shift, Q = rotation:
//   B_std = Q · B · P,  x_std = P⁻¹ (x − o)    ⇔ rows: L_std = Pᵀ · L · Qᵀ.
// Operations act on fractional column vectors of the INPUT cell: x' = W x + w.
import type { MoyoCell, MoyoDataset } from '@spglib/moyo-wasm';
import { StructureError, UsageError } from '../errors.js';
import { type Mat3, type Vec3, det3, inv3, matmul3, matvec3, transpose3, wrap01 } from '../math/linalg.js';
import { type Structure, makeStructure } from '../structure/structure.js';
import { loadMoyo } from './moyo.js';
import { type StandardSetting, fromColumnMajor, standardSetting } from './standardize.js';

export { fromColumnMajor };

/** A space-group operation in fractional coordinates of the analysed cell: x' = R·x + t. */
export interface SymmetryOperation {
  /** integer rotation, rows: R[i][j], acting on column vectors of fractional coordinates */
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
  /** site-symmetry symbols, oriented w.r.t. the standardized cell */
  siteSymmetrySymbols: string[];
  pearsonSymbol: string;
  symprec: number;
  /** raw moyo dataset (standardized and primitive cells, transformations; matrices column-major) */
  dataset: MoyoDataset;
}

export type SymmetrySetting = 'Spglib' | 'Standard';

/**
 * Relation between an input cell and a derived (primitive or standardized) cell, column
 * convention on fractional coordinates as spglib/moyo:
 *   x_input = linear · x_new + originShift,  new column basis = rotation · (input column basis) · linear
 * In row-lattice form: L_new = linearᵀ · L_input · rotationᵀ — exactly for an input that is
 * already symmetric, and up to the symmetrizing strain (≲ symprec) when idealized.
 */
export interface CellTransformation {
  linear: Mat3;
  originShift: Vec3;
  /** rigid Cartesian rotation applied to the new lattice (identity when not idealized) */
  rotation: Mat3;
}

export interface DerivedCell {
  structure: Structure;
  transformation: CellTransformation;
  /** per input atom: index of the atom of the derived cell it maps onto */
  mapping: number[];
}

function checkInput(s: Structure): void {
  // moyo panics (an unrecoverable wasm trap) on inconsistent arrays: guard first.
  const n = s.numbers.length;
  if (n === 0) throw new StructureError('empty_structure', 'structure has no atoms');
  if (s.frac.length !== n) throw new RangeError('positions and numbers differ in length');
  if (s.lattice.length !== 3 || s.lattice.some((r) => r.length !== 3)) throw new StructureError('no_cell', 'lattice must be 3×3');
  for (const row of s.lattice) for (const x of row) if (!Number.isFinite(x)) throw new StructureError('non_finite', 'lattice has a non-finite number');
  for (const p of s.frac) {
    if (p.length !== 3) throw new RangeError('a position does not have 3 coordinates');
    for (const x of p) if (!Number.isFinite(x)) throw new StructureError('non_finite', 'position has a non-finite number');
  }
  for (const z of s.numbers) if (!Number.isInteger(z) || z < 0 || z > 2 ** 31 - 1) throw new StructureError('unknown_element', `bad atomic number ${z}`);
  const det = det3(s.lattice);
  if (!(Math.abs(det) > 1e-8)) throw new StructureError('bad_volume', `lattice is singular (det ${det})`);
}

function runMoyo(s: Structure, symprec: number, setting: SymmetrySetting): MoyoDataset {
  checkInput(s);
  if (!(Number.isFinite(symprec) && symprec > 0)) throw new UsageError(`symprec must be positive, got ${symprec}`);
  const moyo = loadMoyo();
  const cell: MoyoCell = {
    lattice: { basis: s.lattice.flat() as MoyoCell['lattice']['basis'] },
    positions: s.frac.map((p) => [p[0]!, p[1]!, p[2]!]),
    numbers: [...s.numbers],
  };
  try {
    return moyo.analyze_cell(JSON.stringify(cell), symprec, setting);
  } catch (e) {
    throw new StructureError('symmetry_failed', `symmetry search failed at symprec ${symprec}: ${String(e)}`);
  }
}

/** Analyse the space group of a structure at tolerance `symprec` (Å). */
export function getSymmetry(s: Structure, symprec = 1e-5, setting: SymmetrySetting = 'Spglib'): SymmetryInfo {
  const ds = runMoyo(s, symprec, setting);
  return {
    number: ds.number,
    hallNumber: ds.hall_number,
    symbol: ds.hm_symbol,
    operations: ds.operations.map((op) => ({ rotation: fromColumnMajor(op.rotation), translation: [...op.translation] as Vec3 })),
    equivalentAtoms: equivalentFromOrbits(ds.orbits),
    wyckoffs: ds.wyckoffs,
    siteSymmetrySymbols: ds.site_symmetry_symbols,
    pearsonSymbol: ds.pearson_symbol,
    symprec,
    dataset: ds,
  };
}

/** moyo's orbits are already "index of a representative in the input"; normalise to the first member. */
function equivalentFromOrbits(orbits: readonly number[]): number[] {
  const first = new Map<number, number>();
  return orbits.map((o, i) => {
    const f = first.get(o);
    if (f !== undefined) return f;
    first.set(o, i);
    return i;
  });
}

/** Cartesian distance between two fractional points modulo lattice translations (nearest image, small cells ok). */
function periodicDistance(L: Mat3, a: readonly number[], b: readonly number[]): number {
  const d = [0, 1, 2].map((k) => {
    const x = a[k]! - b[k]!;
    return x - Math.round(x);
  });
  let best = Infinity;
  for (let i = -1; i <= 1; i++)
    for (let j = -1; j <= 1; j++)
      for (let k = -1; k <= 1; k++) {
        const f = [d[0]! + i, d[1]! + j, d[2]! + k];
        const c = [0, 1, 2].map((q) => f[0]! * L[0]![q]! + f[1]! * L[1]![q]! + f[2]! * L[2]![q]!);
        best = Math.min(best, Math.hypot(c[0]!, c[1]!, c[2]!));
      }
  return best;
}

/** For each input atom, the derived-cell atom at x_new = P⁻¹(x − o) (mod 1), same species. */
function mapAtoms(s: Structure, t: CellTransformation, derived: Structure, symprec: number): number[] {
  const Pinv = inv3(t.linear);
  return s.frac.map((x, i) => {
    const xn = matvec3(Pinv, [x[0]! - t.originShift[0], x[1]! - t.originShift[1], x[2]! - t.originShift[2]]);
    let best = -1;
    let bestD = Infinity;
    derived.frac.forEach((y, j) => {
      if (derived.numbers[j] !== s.numbers[i]) return;
      const d = periodicDistance(derived.lattice as Mat3, xn, y);
      if (d < bestD) {
        bestD = d;
        best = j;
      }
    });
    if (best < 0 || bestD > Math.max(4 * symprec, 1e-3))
      throw new StructureError('symmetry_failed', `atom ${i} does not map onto the derived cell (off by ${bestD.toFixed(4)} Å)`);
    return best;
  });
}

/** Lower-triangular lattice (rows; a along x, b in the xy plane) with metric G = L·Lᵀ (Cholesky). */
function latticeFromMetric(G: Mat3): Mat3 {
  const ax = Math.sqrt(G[0][0]);
  const bx = G[0][1] / ax;
  const by = Math.sqrt(Math.max(0, G[1][1] - bx * bx));
  const cx = G[0][2] / ax;
  const cy = (G[1][2] - bx * cx) / by;
  const cz = Math.sqrt(Math.max(0, G[2][2] - cx * cx - cy * cy));
  return [
    [ax, 0, 0],
    [bx, by, 0],
    [cx, cy, cz],
  ];
}

/**
 * Symmetrize a lattice: average the metric G = L·Lᵀ over the point-group rotations W (in the
 * basis of L, acting on fractional column vectors: Wᵀ G W = G), then strain L minimally
 * (no extra rotation) onto that metric: L' = chol(G_sym) · chol(G)⁻¹ · L.
 */
export function idealizeLattice(L: readonly (readonly number[])[], rotations: readonly Mat3[]): Mat3 {
  const G = matmul3(L, transpose3(L));
  const Gs: Mat3 = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (const W of rotations) {
    const M = matmul3(matmul3(transpose3(W), G), W);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) Gs[i]![j]! += M[i]![j]! / rotations.length;
  }
  for (let i = 0; i < 3; i++) for (let j = 0; j < i; j++) Gs[i]![j] = Gs[j]![i]!; // exact symmetry
  return matmul3(matmul3(latticeFromMetric(Gs), inv3(latticeFromMetric(G))), L);
}

/** Rotations of the input-cell operations re-expressed in the basis x_input = P x_new (+ o). */
function rotationsInBasis(ds: MoyoDataset, P: Mat3): Mat3[] {
  const Pinv = inv3(P);
  const seen = new Set<string>();
  const out: Mat3[] = [];
  for (const op of ds.operations) {
    const W = matmul3(matmul3(Pinv, fromColumnMajor(op.rotation)), P).map((r) => r.map((x) => Math.round(x))) as Mat3;
    const key = W.flat().join(',');
    if (!seen.has(key)) {
      seen.add(key);
      out.push(W);
    }
  }
  return out;
}

function buildDerived(s: Structure, ds: MoyoDataset, cell: StandardSetting, symprec: number, idealize: boolean): DerivedCell {
  const { linear: P, originShift: o, rotation: Q } = cell;
  // moyo rotates the standardized lattice but does not symmetrize its metric: do it here.
  const ideal = makeStructure({
    lattice: idealizeLattice(cell.lattice, rotationsInBasis(ds, P)),
    frac: cell.frac.map((p) => [wrap01(p[0]), wrap01(p[1]), wrap01(p[2])]),
    numbers: cell.numbers,
  });
  const idealT: CellTransformation = { linear: P, originShift: o, rotation: Q };
  const mapping = mapAtoms(s, idealT, ideal, symprec);
  if (idealize) return { structure: ideal, transformation: idealT, mapping };
  // Not idealized: the lattice is the input lattice transformed (no rotation, no symmetrization),
  // positions are the input positions transformed (first input atom mapping onto each site).
  const Lnew = matmul3(transpose3(P), s.lattice);
  const Pinv = inv3(P);
  const frac: Vec3[] = ideal.frac.map((p) => [p[0], p[1], p[2]]);
  const done = new Array<boolean>(frac.length).fill(false);
  s.frac.forEach((x, i) => {
    const j = mapping[i]!;
    if (done[j]) return;
    done[j] = true;
    const xn = matvec3(Pinv, [x[0]! - o[0], x[1]! - o[1], x[2]! - o[2]]);
    frac[j] = [wrap01(xn[0]), wrap01(xn[1]), wrap01(xn[2])];
  });
  return {
    structure: makeStructure({ lattice: Lnew, frac, numbers: ideal.numbers }),
    transformation: { linear: P, originShift: o, rotation: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] },
    mapping,
  };
}

export interface CellOptions {
  /**
   * true (default, as spglib's standardize_cell): symmetrized lattice and positions, lattice
   * rigidly rotated into the standard orientation. false: input lattice and positions only
   * re-expressed in the new basis (no rotation, no symmetrization).
   */
  idealize?: boolean;
}

/** Primitive cell in the standardized primitive setting (moyo prim_std_cell), with its transformation. */
export function primitiveCell(s: Structure, symprec = 1e-5, opts: CellOptions & { setting?: SymmetrySetting } = {}): DerivedCell {
  const ds = runMoyo(s, symprec, opts.setting ?? 'Spglib');
  return buildDerived(s, ds, standardSetting(ds, 'primitive'), symprec, opts.idealize ?? true);
}

/**
 * Conventional standardized cell, with the transformation to map back. Setting 'Spglib'
 * (default) gives spglib's Hall setting (checked: same Hall number as spglib 2.8 for 223 of 223
 * MatterGen structures whose space group agrees), but where several bases describe the crystal
 * in that one setting moyo may pick another than spglib: monoclinic cells (moyo keeps β up to
 * ~165°, spglib takes β ≥ 90° with the shortest |a| + |c|) and the a/c order of P2₁-type
 * groups. The band-path code re-chooses the basis the spglib way
 * (core/phonon/bandpath/canonical.ts spglibLikeBasis).
 */
export function standardizeCell(s: Structure, symprec = 1e-5, setting: SymmetrySetting = 'Spglib', opts: CellOptions = {}): DerivedCell {
  const ds = runMoyo(s, symprec, setting);
  return buildDerived(s, ds, standardSetting(ds, 'conventional'), symprec, opts.idealize ?? true);
}

/**
 * As spglib's refine_cell / pymatgen's get_refined_structure: the conventional standardized
 * cell with lattice and positions symmetrized to the space group found at `symprec`.
 */
export function refineStructure(s: Structure, symprec = 1e-5, setting: SymmetrySetting = 'Spglib'): Structure {
  return standardizeCell(s, symprec, setting, { idealize: true }).structure;
}

/**
 * The input cell (same basis, same atom order, same orientation) with lattice and positions
 * symmetrized: the idealized standardized cell mapped back through the inverse transformation.
 * Each atom moves by at most about symprec.
 */
export function symmetrizeStructure(s: Structure, symprec = 1e-5): Structure {
  const { structure: std, transformation: t, mapping } = standardizeCell(s, symprec, 'Spglib', { idealize: true });
  // rows: L_std = Pᵀ L Qᵀ  ⇒  L = P⁻ᵀ L_std Q  (Q orthogonal)
  const L = matmul3(matmul3(transpose3(inv3(t.linear)), std.lattice), t.rotation);
  const frac = s.frac.map((x, i) => {
    const y = std.frac[mapping[i]!]!;
    const xi = matvec3(t.linear, y);
    const p = [xi[0] + t.originShift[0], xi[1] + t.originShift[1], xi[2] + t.originShift[2]];
    // keep the atom's own periodic image
    return [0, 1, 2].map((k) => p[k]! + Math.round(x[k]! - p[k]!));
  });
  return makeStructure({
    lattice: L,
    frac,
    numbers: s.numbers,
    ...(s.labels ? { labels: s.labels } : {}),
    ...(s.name !== undefined ? { name: s.name } : {}),
  });
}
