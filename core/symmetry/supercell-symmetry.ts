// Space-group operations of a supercell derived from its unit cell, without a symmetry search
// on the (large) supercell itself.
//
// Why: moyo's search on the supercell grows much faster than linearly (NaCl 4×4×4, 512 atoms:
// ~20 s; 1,024 atoms: minutes), while the answer is known: every operation of the supercell is
// an operation of the unit cell (rotation R_u, translation t_u) whose rotation maps the supercell
// lattice onto itself, combined with one of the pure translations of the crystal inside the
// supercell (unit-cell lattice points and centring translations).
//
// Bases (phonopy column convention, core/structure/supercell.ts): x_unit = M · x_super, so
//   R_s = M⁻¹ R_u M (kept only if integer),  t_s = M⁻¹ t_u,  pure translations M⁻¹ (l + c).
//
// ORDER matters (phonopy's displacement choice tries site operations in order; the force-constant
// solve sums over them in order and distributes with the first matching operation), so the list
// reproduces the order moyo returns for the supercell itself: moyo lists
//   for each pure translation τ (outer) · for each coset representative (inner): (R, t + τ)
// with the coset representatives in the order of its primitive-cell search (the same list it
// returns, as the first block, for the unit cell) and the pure translations in the order of the
// atoms of the pivot species (the species with the fewest atoms, ties → smallest Z) that the
// first pivot atom can be translated onto. Checked against moyo on the supercell in
// test/symmetry-supercell.test.ts (identical lists for the golden phonopy cells).
// If some unit-cell rotations drop out (non-diagonal M), the set still equals moyo's, but moyo
// re-derives the smaller group and may list it in another order.
import { SoftmodeInputError } from '../errors.js';
import { type Mat3, type Vec3, det3, inv3, matmul3, matvec3 } from '../math/linalg.js';
import { AtomLocator } from '../phonon/symmetry-tools.js';
import type { Supercell } from '../structure/supercell.js';
import { type Structure, makeStructure } from '../structure/structure.js';
import { getSymmetry, type SymmetryInfo, type SymmetryOperation } from './index.js';

export interface SupercellSymmetry {
  /** space-group number and symbol: the unit cell's when every unit-cell operation survives;
   *  0 and '' when the supercell lattice breaks some (then only the operations are known) */
  number: number;
  symbol: string;
  /** operations in supercell fractional coordinates, in moyo's order for the supercell */
  operations: SymmetryOperation[];
  /** per supercell atom: index of the first atom of its orbit (spglib/moyo equivalent_atoms) */
  equivalentAtoms: number[];
  /** perm[i] = j with R·x_i + t ≡ x_j (cached; built from two small tables, O(N)) */
  permutation(k: number): Int32Array;
  /** image of atom i under operation k (O(1)) */
  imageOf(k: number, i: number): number;
  /** number of unit-cell operations whose rotation is not a symmetry of the supercell lattice */
  droppedRotations: number;
  /** the unit cell's own symmetry analysis */
  unitcellSymmetry: SymmetryInfo;
}

const ROUND_TOL = 1e-8;

function isIdentity(R: Readonly<Mat3>): boolean {
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) if (R[i]![j] !== (i === j ? 1 : 0)) return false;
  return true;
}

/** M⁻¹ R M rounded, or null when it is not an integer matrix (rotation breaks the supercell lattice). */
function rotationInSupercell(Minv: Mat3, M: Mat3, R: Readonly<Mat3>): Mat3 | null {
  const X = matmul3(matmul3(Minv, R), M);
  const out = X.map((r) => r.map((v) => Math.round(v))) as Mat3;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) if (Math.abs(X[i]![j]! - out[i]![j]!) > ROUND_TOL) return null;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out[i]![j] = out[i]![j]! + 0; // no −0
  return out;
}

function mapPositions(s: Structure, loc: AtomLocator, R: Readonly<Mat3>, t: readonly number[], what: string): Int32Array {
  const n = s.frac.length;
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = s.frac[i]!;
    const j = loc.find(
      R[0][0] * p[0] + R[0][1] * p[1] + R[0][2] * p[2] + t[0]!,
      R[1][0] * p[0] + R[1][1] * p[1] + R[1][2] * p[2] + t[1]!,
      R[2][0] * p[0] + R[2][1] * p[1] + R[2][2] * p[2] + t[2]!,
    );
    if (j < 0 || s.numbers[j] !== s.numbers[i])
      throw new SoftmodeInputError('symmetry_failed', `${what} does not map supercell atom ${i} onto an atom of the same species (is the supercell made from this unit cell?)`);
    perm[i] = j;
  }
  return perm;
}

const IDENTITY: Mat3 = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

/**
 * The unit cell a Supercell was built from, reconstructed from the supercell (lattice M⁻ᵀ·L_s,
 * positions M·x_s of each unit atom's first copy). For callers that only hold the Supercell.
 */
export function unitcellOfSupercell(sc: Supercell): Structure {
  const M = sc.matrix;
  const s = sc.structure;
  const Minv = inv3(M);
  // rows: L_s = Mᵀ L_u  ⇒  L_u = M⁻ᵀ L_s
  const MinvT: Mat3 = [
    [Minv[0][0], Minv[1][0], Minv[2][0]],
    [Minv[0][1], Minv[1][1], Minv[2][1]],
    [Minv[0][2], Minv[1][2], Minv[2][2]],
  ];
  const lattice = matmul3(MinvT, s.lattice);
  const frac = sc.u2s.map((k) => {
    const x = matvec3(M, s.frac[k]!);
    return x.map((v) => v - Math.floor(v)) as Vec3;
  });
  return makeStructure({ lattice, frac, numbers: sc.u2s.map((k) => s.numbers[k]!) });
}

/**
 * Supercell operations and atom permutations from the unit cell's symmetry (see header).
 * Cost: one moyo call on the unit cell plus O((N_rot + N_trans)·N_atoms) lookups.
 */
export function supercellSymmetry(unitcell: Structure, supercell: Supercell, symprec = 1e-5, unitSym?: SymmetryInfo): SupercellSymmetry {
  const s = supercell.structure;
  const n = s.numbers.length;
  const M = supercell.matrix;
  const det = Math.round(Math.abs(det3(M)));
  if (n !== det * unitcell.numbers.length || supercell.s2u.length !== n || supercell.u2s.length !== unitcell.numbers.length)
    throw new SoftmodeInputError('invalid_argument', `supercell has ${n} atoms, expected |det M|·${unitcell.numbers.length} = ${det * unitcell.numbers.length}`);
  const us = unitSym ?? getSymmetry(unitcell, symprec);
  const Minv = inv3(M);

  // Coset representatives: moyo lists the unit cell's operations as (pure translations) × (coset
  // representatives), identity translation first, so the first occurrence of each rotation is
  // the representative in moyo's order. Pure translations of the unit cell = identity rotations.
  const reps: SymmetryOperation[] = [];
  const centrings: Vec3[] = [];
  const seen = new Set<string>();
  for (const op of us.operations) {
    if (isIdentity(op.rotation)) centrings.push(op.translation);
    const key = op.rotation.flat().join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    reps.push(op);
  }
  const kept: SymmetryOperation[] = [];
  for (const op of reps) {
    const R = rotationInSupercell(Minv, M, op.rotation);
    if (!R) continue;
    const t = matvec3(Minv, op.translation);
    kept.push({ rotation: R, translation: t });
  }
  const droppedRotations = reps.length - kept.length;

  // Pure translations of the crystal in the supercell: lattice points (the copies of unit atom 0,
  // relative to its first copy) plus the unit cell's centring translations.
  const a0 = supercell.u2s[0]!;
  const x0 = s.frac[a0]!;
  const pure: Vec3[] = [];
  for (const c of centrings) {
    const cs = matvec3(Minv, c);
    for (let j = 0; j < n; j++) {
      if (supercell.s2u[j] !== 0) continue;
      const p = s.frac[j]!;
      const v: Vec3 = [p[0]! - x0[0]! + cs[0], p[1]! - x0[1]! + cs[1], p[2]! - x0[2]! + cs[2]];
      pure.push(v.map((x) => x - Math.floor(x)) as Vec3);
    }
  }
  // moyo's order: atoms of the pivot species (fewest atoms, ties → smallest Z) in index order;
  // translation x_dst − x_src accepted when it is a pure translation.
  const counts = new Map<number, number>();
  for (const z of s.numbers) counts.set(z, (counts.get(z) ?? 0) + 1);
  let pivotZ = -1;
  let pivotCount = Infinity;
  for (const [z, c] of [...counts.entries()].sort((p, q) => p[0] - q[0]))
    if (c < pivotCount) {
      pivotCount = c;
      pivotZ = z;
    }
  const pureLoc = new AtomLocator(s.lattice, pure, symprec);
  const src = s.numbers.indexOf(pivotZ);
  const xs = s.frac[src]!;
  const translations: Vec3[] = [];
  const usedPure = new Uint8Array(pure.length);
  for (let dst = 0; dst < n; dst++) {
    if (s.numbers[dst] !== pivotZ) continue;
    const p = s.frac[dst]!;
    const d: Vec3 = [p[0]! - xs[0]!, p[1]! - xs[1]!, p[2]! - xs[2]!];
    const k = pureLoc.find(d[0], d[1], d[2]);
    if (k < 0 || usedPure[k]) continue;
    usedPure[k] = 1;
    translations.push(pure[k]!);
  }
  if (translations.length !== pure.length)
    throw new SoftmodeInputError('symmetry_failed', `found ${translations.length} of ${pure.length} pure translations of the supercell: is it made from this unit cell?`);

  const loc = new AtomLocator(s.lattice, s.frac, symprec);
  const transPerm = translations.map((t) => mapPositions(s, loc, IDENTITY, t, 'a pure translation'));
  const repPerm = kept.map((op) => mapPositions(s, loc, op.rotation, op.translation, 'a unit-cell operation'));
  const m = kept.length;
  const operations: SymmetryOperation[] = [];
  for (const t of translations)
    for (const op of kept) {
      const v = [op.translation[0] + t[0], op.translation[1] + t[1], op.translation[2] + t[2]].map((x) => x - Math.floor(x));
      operations.push({ rotation: op.rotation, translation: [v[0]!, v[1]!, v[2]!] });
    }

  // (R, t + τ) x_i = τ + (R x_i + t): first the representative, then the translation
  const imageOf = (k: number, i: number): number => transPerm[Math.floor(k / m)]![repPerm[k % m]![i]!]!;
  const cache = new Map<number, Int32Array>();
  const permutation = (k: number): Int32Array => {
    if (!(k >= 0 && k < operations.length)) throw new SoftmodeInputError('invalid_argument', `operation index ${k} out of range`);
    let p = cache.get(k);
    if (!p) {
      const T = transPerm[Math.floor(k / m)]!;
      const P = repPerm[k % m]!;
      p = new Int32Array(n);
      for (let i = 0; i < n; i++) p[i] = T[P[i]!]!;
      cache.set(k, p);
    }
    return p;
  };

  // orbits: union of the generators' cycles; representative = smallest index (first member)
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  for (const P of [...transPerm, ...repPerm])
    for (let i = 0; i < n; i++) {
      const a = root(i);
      const b = root(P[i]!);
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    }
  const equivalentAtoms = Array.from({ length: n }, (_, i) => root(i));

  return {
    number: droppedRotations === 0 ? us.number : 0,
    symbol: droppedRotations === 0 ? us.symbol : '',
    operations,
    equivalentAtoms,
    permutation,
    imageOf,
    droppedRotations,
    unitcellSymmetry: us,
  };
}
