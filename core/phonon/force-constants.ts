// Second-order force constants from finite displacements (physics.md §2).
// Φ[i][j][α][β] = −∂F_jβ/∂u_iα in eV/Å², stored flat: data[((i·n + j)·3 + α)·3 + β].
import { PHONON_CONFIG } from '../../config/phonon.js';
import { StructureError, UsageError } from '../errors.js';
import { type Mat3, det3, inv3 } from '../math/linalg.js';
import { getSymmetry, type SymmetryOperation } from '../symmetry/index.js';
import type { SupercellSymmetry } from '../symmetry/supercell-symmetry.js';
import type { Structure } from '../structure/structure.js';
import type { DisplacementForces } from './displacements.js';
import { AtomLocator, cartesianRotation, imageOf, operationPermutation, siteOperationIndices } from './symmetry-tools.js';

export interface ForceConstants {
  /** number of supercell atoms */
  natoms: number;
  /** n·n·3·3 values, eV/Å² (or the file's force/length² unit) */
  data: Float64Array;
}

export interface ForceConstantOptions {
  symprec?: number;
  /** subtract the mean force of each displaced supercell (default true) */
  removeDrift?: boolean;
  /** phonopy level-N translational/permutation symmetrization; 0 = off (default 1) */
  symmetrizeLevel?: number;
  /** precomputed supercell symmetry operations (fractional, supercell basis) */
  operations?: readonly SymmetryOperation[];
  /**
   * precomputed supercell symmetry with atom permutations (core/symmetry/supercell-symmetry.ts):
   * its permutations replace the position look-ups. Takes precedence over `operations`.
   */
  symmetry?: Pick<SupercellSymmetry, 'operations' | 'permutation' | 'imageOf'>;
}

export function fcBlock(fc: ForceConstants, i: number, j: number): Mat3 {
  const o = (i * fc.natoms + j) * 9;
  const d = fc.data;
  return [
    [d[o]!, d[o + 1]!, d[o + 2]!],
    [d[o + 3]!, d[o + 4]!, d[o + 5]!],
    [d[o + 6]!, d[o + 7]!, d[o + 8]!],
  ];
}

function checkSets(n: number, sets: readonly DisplacementForces[]): void {
  if (sets.length === 0) throw new UsageError('no displacement–force sets');
  sets.forEach((s, k) => {
    if (!Number.isInteger(s.atom) || s.atom < 0 || s.atom >= n) throw new UsageError(`set ${k}: atom index ${s.atom} out of range`);
    if (s.forces.length !== n) throw new UsageError(`set ${k}: ${s.forces.length} force rows for ${n} atoms`);
    for (const r of s.forces) for (let a = 0; a < 3; a++) if (!Number.isFinite(r[a])) throw new StructureError('non_finite', `set ${k}: non-finite force`);
    if (s.displacement.some((x) => !Number.isFinite(x)) || Math.hypot(...s.displacement) === 0)
      throw new UsageError(`set ${k}: displacement must be finite and non-zero`);
  });
}

/**
 * Force constants of a supercell from displacement–force sets: drift removal, site-symmetry
 * pseudo-inverse solve per displaced atom, distribution to all atoms by the space group,
 * optional level-1 symmetrization.
 */
export function computeForceConstants(supercell: Structure, sets: readonly DisplacementForces[], opts: ForceConstantOptions = {}): ForceConstants {
  const n = supercell.numbers.length;
  checkSets(n, sets);
  const symprec = opts.symprec ?? PHONON_CONFIG.symprec;
  const removeDrift = opts.removeDrift ?? PHONON_CONFIG.removeDrift;
  const level = opts.symmetrizeLevel ?? PHONON_CONFIG.symmetrizeLevel;
  const given = opts.symmetry;
  const ops = given ? given.operations : (opts.operations ?? getSymmetry(supercell, symprec).operations);
  const loc = new AtomLocator(supercell.lattice, supercell.frac, symprec);
  const data = new Float64Array(n * n * 9);
  const fc: ForceConstants = { natoms: n, data };
  const cartOf = new Map<number, Mat3>();
  const cart = (k: number): Mat3 => {
    let R = cartOf.get(k);
    if (!R) {
      R = cartesianRotation(supercell.lattice, ops[k]!.rotation);
      cartOf.set(k, R);
    }
    return R;
  };
  const permOf = new Map<number, Int32Array>();
  const perm = (k: number): Int32Array => {
    let p = permOf.get(k);
    if (!p) {
      p = given ? given.permutation(k) : operationPermutation(supercell, loc, ops[k]!);
      permOf.set(k, p);
    }
    return p;
  };

  // forces with drift removed, as flat arrays
  const forces = sets.map((s) => {
    const f = new Float64Array(n * 3);
    let mx = 0;
    let my = 0;
    let mz = 0;
    for (let i = 0; i < n; i++) {
      const r = s.forces[i]!;
      f[3 * i] = r[0]!;
      f[3 * i + 1] = r[1]!;
      f[3 * i + 2] = r[2]!;
      mx += r[0]!;
      my += r[1]!;
      mz += r[2]!;
    }
    if (removeDrift)
      for (let i = 0; i < n; i++) {
        f[3 * i] = f[3 * i]! - mx / n;
        f[3 * i + 1] = f[3 * i + 1]! - my / n;
        f[3 * i + 2] = f[3 * i + 2]! - mz / n;
      }
    return f;
  });

  const solved: number[] = [];
  const displacedAtoms = [...new Set(sets.map((s) => s.atom))].sort((a, b) => a - b);
  for (const d of displacedAtoms) {
    const mine = sets.map((s, k) => [s, k] as const).filter(([s]) => s.atom === d);
    const site = siteOperationIndices(supercell, ops, d, symprec);
    // π_s = inverse of the forward permutation: the atom sent onto i by the site operation
    const pis = site.map((k) => {
      const p = perm(k);
      const inv = new Int32Array(n);
      for (let i = 0; i < n; i++) inv[p[i]!] = i;
      return inv;
    });
    const Rs = site.map(cart);
    // rotated displacements u' = R_s u and G = Σ u' u'ᵀ
    const ups: number[][] = [];
    const G: Mat3 = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ];
    for (const [s] of mine)
      for (const R of Rs) {
        const u = s.displacement;
        const v = [0, 1, 2].map((a) => R[a]![0]! * u[0]! + R[a]![1]! * u[1]! + R[a]![2]! * u[2]!);
        ups.push(v);
        for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) G[a]![b] = G[a]![b]! + v[a]! * v[b]!;
      }
    const tr = G[0][0] + G[1][1] + G[2][2];
    if (!(det3(G) > 1e-10 * Math.pow(tr / 3, 3)))
      throw new UsageError(`displacements of atom ${d + 1} and its site symmetry do not span three dimensions`);
    const Gi = inv3(G);
    for (let i = 0; i < n; i++) {
      const M = [0, 0, 0, 0, 0, 0, 0, 0, 0];
      let row = 0;
      for (const [, k] of mine) {
        const f = forces[k]!;
        for (let t = 0; t < Rs.length; t++) {
          const R = Rs[t]!;
          const j = pis[t]![i]!;
          const fx = f[3 * j]!;
          const fy = f[3 * j + 1]!;
          const fz = f[3 * j + 2]!;
          const v = ups[row++]!;
          for (let b = 0; b < 3; b++) {
            const fb = R[b]![0]! * fx + R[b]![1]! * fy + R[b]![2]! * fz;
            M[b] = M[b]! + v[0]! * fb;
            M[3 + b] = M[3 + b]! + v[1]! * fb;
            M[6 + b] = M[6 + b]! + v[2]! * fb;
          }
        }
      }
      const o = (d * n + i) * 9;
      for (let a = 0; a < 3; a++)
        for (let b = 0; b < 3; b++) data[o + a * 3 + b] = -(Gi[a]![0]! * M[b]! + Gi[a]![1]! * M[3 + b]! + Gi[a]![2]! * M[6 + b]!);
    }
    solved.push(d);
  }

  // Distribute: Φ(i, o) = Rᵀ Φ(a, g(o)) R with g the first operation sending i onto a solved atom a.
  const isSolved = new Uint8Array(n);
  for (const d of solved) isSolved[d] = 1;
  for (let i = 0; i < n; i++) {
    if (isSolved[i]) continue;
    let found = -1;
    let target = -1;
    for (let k = 0; k < ops.length && found < 0; k++) {
      const a = given ? given.imageOf(k, i) : imageOf(supercell, loc, ops[k]!, i);
      if (a >= 0 && isSolved[a]) {
        found = k;
        target = a;
      }
    }
    if (found < 0)
      throw new UsageError(`atom ${i + 1} is not equivalent by symmetry to any displaced atom: the displacement set is incomplete`);
    const p = perm(found);
    const R = cart(found);
    for (let o = 0; o < n; o++) {
      const src = (target * n + p[o]!) * 9;
      const dst = (i * n + o) * 9;
      // (Rᵀ Φ R)_ab = Σ_cd R_ca Φ_cd R_db
      for (let a = 0; a < 3; a++)
        for (let b = 0; b < 3; b++) {
          let s = 0;
          for (let c = 0; c < 3; c++) {
            const rca = R[c]![a]!;
            s += rca * (data[src + c * 3]! * R[0]![b]! + data[src + c * 3 + 1]! * R[1]![b]! + data[src + c * 3 + 2]! * R[2]![b]!);
          }
          data[dst + a * 3 + b] = s;
        }
    }
  }
  if (level > 0) symmetrizeForceConstants(fc, level);
  return fc;
}

/**
 * phonopy's level-N symmetrization: N times (subtract column means, subtract row means,
 * average Φ[i,j]_ab with Φ[j,i]_ba), then Φ[i,i] = −(S + Sᵀ)/2 with S = Σ_{j≠i} Φ[i,j].
 */
export function symmetrizeForceConstants(fc: ForceConstants, level = 1): void {
  const n = fc.natoms;
  const d = fc.data;
  const acc = new Float64Array(9);
  for (let it = 0; it < level; it++) {
    for (let j = 0; j < n; j++) {
      acc.fill(0);
      for (let i = 0; i < n; i++) for (let k = 0; k < 9; k++) acc[k] = acc[k]! + d[(i * n + j) * 9 + k]!;
      for (let k = 0; k < 9; k++) acc[k] = acc[k]! / n;
      for (let i = 0; i < n; i++) for (let k = 0; k < 9; k++) d[(i * n + j) * 9 + k] = d[(i * n + j) * 9 + k]! - acc[k]!;
    }
    for (let i = 0; i < n; i++) {
      acc.fill(0);
      for (let j = 0; j < n; j++) for (let k = 0; k < 9; k++) acc[k] = acc[k]! + d[(i * n + j) * 9 + k]!;
      for (let k = 0; k < 9; k++) acc[k] = acc[k]! / n;
      for (let j = 0; j < n; j++) for (let k = 0; k < 9; k++) d[(i * n + j) * 9 + k] = d[(i * n + j) * 9 + k]! - acc[k]!;
    }
    for (let i = 0; i < n; i++)
      for (let j = i; j < n; j++)
        for (let a = 0; a < 3; a++)
          for (let b = 0; b < 3; b++) {
            const p = (i * n + j) * 9 + a * 3 + b;
            const q = (j * n + i) * 9 + b * 3 + a;
            const avg = (d[p]! + d[q]!) / 2;
            d[p] = avg;
            d[q] = avg;
          }
  }
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    for (let j = 0; j < n; j++) if (j !== i) for (let k = 0; k < 9; k++) acc[k] = acc[k]! + d[(i * n + j) * 9 + k]!;
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) d[(i * n + i) * 9 + a * 3 + b] = -(acc[a * 3 + b]! + acc[b * 3 + a]!) / 2;
  }
}
