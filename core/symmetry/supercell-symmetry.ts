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
import { StructureError } from '../errors.js';
import { type Mat3, type Vec3, det3, inv3, matmul3, matvec3 } from '../math/linalg.js';
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

const IDENTITY: Mat3 = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

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

/** Unit-cell fractional coordinates (x_u = M·x_s, not wrapped) of each unit atom's first copy. */
function sc2unitFrac(sc: Supercell, M: Readonly<Mat3>): Vec3[] {
  return sc.u2s.map((k) => matvec3(M, sc.structure.frac[k]!));
}

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
  const frac = sc2unitFrac(sc, M).map((x) => x.map((v) => v - Math.floor(v)) as Vec3);
  return makeStructure({ lattice, frac, numbers: sc.u2s.map((k) => s.numbers[k]!) });
}

/**
 * Supercell operations and atom permutations from the unit cell's symmetry (see header).
 * Cost: one moyo call on the unit cell, N_rot·N_atoms position look-ups, O(N_atoms) integer
 * tables; an image under any operation is then O(1), a permutation O(N_atoms).
 */
export function supercellSymmetry(unitcell: Structure, supercell: Supercell, symprec = 1e-5, unitSym?: SymmetryInfo): SupercellSymmetry {
  const s = supercell.structure;
  const n = s.numbers.length;
  const M = supercell.matrix;
  const det = Math.round(Math.abs(det3(M)));
  if (n !== det * unitcell.numbers.length || supercell.s2u.length !== n || supercell.u2s.length !== unitcell.numbers.length)
    throw new RangeError(`supercell has ${n} atoms, expected |det M|·${unitcell.numbers.length} = ${det * unitcell.numbers.length}`);
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
  const keptUnit: SymmetryOperation[] = [];
  for (const op of reps) {
    const R = rotationInSupercell(Minv, M, op.rotation);
    if (!R) continue;
    const t = matvec3(Minv, op.translation);
    kept.push({ rotation: R, translation: t });
    keptUnit.push(op);
  }
  const droppedRotations = reps.length - kept.length;

  // Pure translations act on atoms by integer arithmetic, without position look-ups: supercell
  // atom i = (unit atom u_i, lattice point g_i), g_i = D·(x_i − x_first copy of u_i) mod D
  // (integer, D = |det M|; D·M⁻¹ is an integer matrix).
  const D = det;
  const DMinv = Minv.map((r) => r.map((v) => Math.round(v * D))) as Mat3;
  const nu = unitcell.numbers.length;
  const code = (g0: number, g1: number, g2: number): number => ((((g0 % D) + D) % D) * D + (((g1 % D) + D) % D)) * D + (((g2 % D) + D) % D);
  const D3 = D * D * D;
  const unitOf = Int32Array.from(supercell.s2u);
  const g = new Int32Array(3 * n);
  const atomAt = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const f = s.frac[supercell.u2s[unitOf[i]!]!]!;
    const x = s.frac[i]!;
    for (let a = 0; a < 3; a++) {
      const v = D * (x[a]! - f[a]!);
      const r = Math.round(v);
      if (Math.abs(v - r) > 1e-6)
        throw new RangeError(`supercell atom ${i} is not a lattice translate of its unit-cell atom ${unitOf[i]}: atom order is not makeSupercell's`);
      g[3 * i + a] = ((r % D) + D) % D;
    }
    atomAt.set(unitOf[i]! * D3 + code(g[3 * i]!, g[3 * i + 1]!, g[3 * i + 2]!), i);
  }
  if (atomAt.size !== n) throw new RangeError('supercell has two atoms at the same lattice point of one unit-cell atom');
  // centring c sends unit atom u to cp[c][u], with x_u + c = x_cp(u) + w: δg = D·M⁻¹·w
  const xu = sc2unitFrac(supercell, M);
  const Lu = unitcell.lattice;
  /** unit atom u → v with R·x_u + t = x_v + w (within symprec), and δg = D·M⁻¹·w per atom */
  const unitMap = (R: Readonly<Mat3>, t: readonly number[], what: string): { to: Int32Array; d: Int32Array } => {
    const to = new Int32Array(nu).fill(-1);
    const d = new Int32Array(3 * nu);
    for (let u = 0; u < nu; u++) {
      const x = xu[u]!;
      const y = [0, 1, 2].map((a) => R[a]![0]! * x[0] + R[a]![1]! * x[1] + R[a]![2]! * x[2] + t[a]!);
      for (let v = 0; v < nu && to[u]! < 0; v++) {
        if (unitcell.numbers[v] !== unitcell.numbers[u]) continue;
        const w = [0, 1, 2].map((a) => Math.round(y[a]! - xu[v]![a]!));
        const r = [0, 1, 2].map((a) => y[a]! - xu[v]![a]! - w[a]!);
        const cart = [0, 1, 2].map((b) => r[0]! * Lu[0]![b]! + r[1]! * Lu[1]![b]! + r[2]! * Lu[2]![b]!);
        if (Math.hypot(cart[0]!, cart[1]!, cart[2]!) < symprec) {
          to[u] = v;
          for (let a = 0; a < 3; a++) d[3 * u + a] = DMinv[a]![0]! * w[0]! + DMinv[a]![1]! * w[1]! + DMinv[a]![2]! * w[2]!;
        }
      }
      if (to[u]! < 0) throw new StructureError('symmetry_failed', `${what} of the unit cell does not map unit atom ${u} onto an atom of the same species`);
    }
    return { to, d };
  };
  const cp: Int32Array[] = [];
  const dg: Int32Array[] = [];
  for (const c of centrings) {
    const { to, d } = unitMap(IDENTITY, c, 'a centring translation');
    cp.push(to);
    dg.push(d);
  }
  const lookup = (v: number, g0: number, g1: number, g2: number, i: number): number => {
    const j = atomAt.get(v * D3 + code(g0, g1, g2));
    if (j === undefined) throw new StructureError('symmetry_failed', `an operation finds no image of supercell atom ${i}: is the supercell made from this unit cell?`);
    return j;
  };
  /** atom i moved by pure translation (centring c, lattice point gt) */
  const translate = (c: number, gt: Int32Array, i: number): number => {
    const u = unitOf[i]!;
    const d = dg[c]!;
    return lookup(cp[c]![u]!, g[3 * i]! + gt[0]! + d[3 * u]!, g[3 * i + 1]! + gt[1]! + d[3 * u + 1]!, g[3 * i + 2]! + gt[2]! + d[3 * u + 2]!, i);
  };

  // moyo's order of pure translations: atoms of the pivot species (fewest atoms, ties → smallest
  // Z) in index order; the translation moving the first onto each one (one per atom here, since
  // every pure translation moves the first pivot atom onto a distinct pivot atom).
  const counts = new Map<number, number>();
  for (const z of s.numbers) counts.set(z, (counts.get(z) ?? 0) + 1);
  let pivotZ = -1;
  let pivotCount = Infinity;
  for (const [z, c] of [...counts.entries()].sort((p, q) => p[0] - q[0]))
    if (c < pivotCount) {
      pivotCount = c;
      pivotZ = z;
    }
  const src = s.numbers.indexOf(pivotZ);
  const us0 = unitOf[src]!;
  const tCentring: number[] = [];
  const tLattice: Int32Array[] = [];
  const translations: Vec3[] = [];
  for (let dst = 0; dst < n; dst++) {
    if (s.numbers[dst] !== pivotZ) continue;
    const c = cp.findIndex((to) => to[us0] === unitOf[dst]);
    if (c < 0) continue;
    const gt = new Int32Array(3);
    for (let a = 0; a < 3; a++) gt[a] = (((g[3 * dst + a]! - g[3 * src + a]! - dg[c]![3 * us0 + a]!) % D) + D) % D;
    tCentring.push(c);
    tLattice.push(gt);
    const cs = matvec3(Minv, centrings[c]!);
    translations.push([0, 1, 2].map((a) => {
      const v = cs[a]! + gt[a]! / D;
      return v - Math.floor(v);
    }) as Vec3);
  }
  if (translations.length !== centrings.length * D)
    throw new StructureError('symmetry_failed', `found ${translations.length} of ${centrings.length * D} pure translations of the supercell: is it made from this unit cell?`);

  // coset representative (R_u, t_u): (u, g) → (v, R_s·g + D·M⁻¹·w), with R_u x_u + t_u = x_v + w
  const repPerm = kept.map((op, r) => {
    const { to, d } = unitMap(keptUnit[r]!.rotation, keptUnit[r]!.translation, 'an operation');
    const R = op.rotation;
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const u = unitOf[i]!;
      const g0 = g[3 * i]!;
      const g1 = g[3 * i + 1]!;
      const g2 = g[3 * i + 2]!;
      p[i] = lookup(
        to[u]!,
        R[0][0] * g0 + R[0][1] * g1 + R[0][2] * g2 + d[3 * u]!,
        R[1][0] * g0 + R[1][1] * g1 + R[1][2] * g2 + d[3 * u + 1]!,
        R[2][0] * g0 + R[2][1] * g1 + R[2][2] * g2 + d[3 * u + 2]!,
        i,
      );
    }
    return p;
  });
  const m = kept.length;
  const operations: SymmetryOperation[] = [];
  for (const t of translations)
    for (const op of kept) {
      const v = [op.translation[0] + t[0], op.translation[1] + t[1], op.translation[2] + t[2]].map((x) => x - Math.floor(x));
      operations.push({ rotation: op.rotation, translation: [v[0]!, v[1]!, v[2]!] });
    }

  // (R, t + τ) x_i = τ + (R x_i + t): first the representative, then the translation
  const imageOf = (k: number, i: number): number => {
    const t = Math.floor(k / m);
    return translate(tCentring[t]!, tLattice[t]!, repPerm[k % m]![i]!);
  };
  const cache = new Map<number, Int32Array>();
  const permutation = (k: number): Int32Array => {
    if (!(Number.isInteger(k) && k >= 0 && k < operations.length)) throw new RangeError(`operation index ${k} out of range`);
    let p = cache.get(k);
    if (!p) {
      p = new Int32Array(n);
      for (let i = 0; i < n; i++) p[i] = imageOf(k, i);
      cache.set(k, p);
    }
    return p;
  };

  // orbits: lattice translations join all copies of a unit atom, centrings join unit atoms,
  // the coset representatives do the rest; representative = smallest index (first member)
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const join = (i: number, j: number): void => {
    const a = root(i);
    const b = root(j);
    if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
  };
  for (let i = 0; i < n; i++) join(i, supercell.u2s[unitOf[i]!]!);
  for (const to of cp) for (let u = 0; u < nu; u++) join(supercell.u2s[u]!, supercell.u2s[to[u]!]!);
  for (const P of repPerm) for (let i = 0; i < n; i++) join(i, P[i]!);
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
