// Niggli reduction of a lattice (Křivý & Gruber 1976, with the ε-tolerant tests of
// Grosse-Kunstleve, Sauter & Adams 2004, Acta Cryst. A60, 1).
//
// The algorithm works on the metric parameters A = a·a, B = b·b, C = c·c, ξ = 2 b·c,
// η = 2 a·c, ζ = 2 a·b. Each step is an integer change of basis M on the rows.
//
// The one Niggli reduction of the code base. Two callers need it slightly differently, and
// both are kept bit for bit by explicit options (NiggliOptions):
//   - structures (hash, matcher, neighbours, supercells, shortest vectors): tolerance relative
//     to the cell (ε·V^(2/3)), the first zero-angle axis flipped in N3/N4, and the current basis
//     recomputed as T · L₀ after each step (no accumulated rounding);
//   - the HPKOT triclinic case (reciprocal lattice, as seekpath calls spglib's niggli_reduce):
//     absolute ε, the last zero-angle axis flipped, each step applied to the current basis
//     (spglibNiggliOptions).
import { StructureError } from '../errors.js';
import { type Mat3, copy3, det3, dot3, identity3, matmul3 } from '../math/linalg.js';

export interface NiggliResult {
  /** Niggli-reduced lattice, rows a, b, c (Å) */
  lattice: Mat3;
  /** integer matrix with reduced = transform · lattice (rows); |det| = 1 */
  transform: Mat3;
}

/** Metric parameters in the Křivý–Gruber notation. */
export interface NiggliParameters {
  A: number;
  B: number;
  C: number;
  xi: number;
  eta: number;
  zeta: number;
}

export function niggliParameters(L: readonly (readonly number[])[]): NiggliParameters {
  const [a, b, c] = L as [number[], number[], number[]];
  return { A: dot3(a, a), B: dot3(b, b), C: dot3(c, c), xi: 2 * dot3(b, c), eta: 2 * dot3(a, c), zeta: 2 * dot3(a, b) };
}

/**
 * How the metric comparisons are made: `relative` compares within ε = eps · V^(2/3) (Å², so the
 * result does not depend on the unit of length); `absolute` within eps itself, in the squared
 * length unit of the rows (spglib's niggli_reduce).
 */
export type NiggliTolerance = { kind: 'relative'; eps: number } | { kind: 'absolute'; eps: number };

export interface NiggliOptions {
  /** default { kind: 'relative', eps: 1e-5 } */
  tolerance?: NiggliTolerance;
  /**
   * N3/N4 with an odd number of sign flips needed: which row with a zero (90°) angle parameter
   * takes the extra flip that keeps det's sign, the `first` (a, b, c order; default) or the
   * `last` (c, b, a order, as spglib). Both give a Niggli cell; they may differ by signs.
   */
  zeroAngleFlip?: 'first' | 'last';
  /**
   * `fromInput` (default): after each step the basis is recomputed as T · L₀ from the integer T,
   * so rounding does not accumulate. `stepwise`: each step M is applied to the current basis
   * (M · L, M · T), as spglib does; needed where results must match that arithmetic bit for bit.
   */
  basisUpdate?: 'fromInput' | 'stepwise';
}

/** The options that reproduce spglib's niggli_reduce(eps) as seekpath calls it (HPKOT triclinic). */
export function spglibNiggliOptions(eps = 1e-5): NiggliOptions {
  return { tolerance: { kind: 'absolute', eps }, zeroAngleFlip: 'last', basisUpdate: 'stepwise' };
}

function tolerance(t: number | NiggliTolerance | undefined): NiggliTolerance {
  return typeof t === 'number' ? { kind: 'relative', eps: t } : (t ?? { kind: 'relative', eps: 1e-5 });
}

function absoluteEpsilon(t: NiggliTolerance, vol: number): number {
  return t.kind === 'absolute' ? t.eps : t.eps * Math.pow(vol, 2 / 3);
}

const MAX_STEPS = 10000;

/**
 * Niggli-reduce a lattice (rows). A number is the relative tolerance (see NiggliTolerance);
 * options choose tolerance, zero-angle flip and arithmetic (NiggliOptions). Returns the reduced
 * lattice and the integer transform with reduced = transform · lattice. The handedness (sign of
 * det) of the input is kept.
 */
export function niggliReduce(lattice: readonly (readonly number[])[], opts: number | NiggliOptions = 1e-5): NiggliResult {
  const o: NiggliOptions = typeof opts === 'number' ? { tolerance: { kind: 'relative', eps: opts } } : opts;
  const stepwise = o.basisUpdate === 'stepwise';
  const lastZero = o.zeroAngleFlip === 'last';
  const L0 = copy3(lattice);
  for (const row of L0) for (const x of row) if (!Number.isFinite(x)) throw new StructureError('non_finite', 'lattice has a non-finite number');
  const vol = Math.abs(det3(L0));
  const scale = Math.max(...L0.map((r) => dot3(r, r)));
  if (!(vol > 1e-12 * Math.pow(scale, 1.5)))
    throw new StructureError('bad_volume', `lattice is singular (volume ${vol} Å³)`);
  const e = absoluteEpsilon(tolerance(o.tolerance), vol);

  let T: Mat3 = identity3();
  let L = copy3(L0);
  let p = niggliParameters(L);
  // new rows = M · current rows
  const apply = (M: Mat3): void => {
    T = matmul3(M, T);
    if (stepwise) L = matmul3(M, L);
    else {
      for (const r of T) for (let j = 0; j < 3; j++) r[j] = r[j]! || 0; // no −0 in T
      L = matmul3(T, L0);
    }
    p = niggliParameters(L);
  };
  const sgn = (x: number): number => (x > e ? 1 : x < -e ? -1 : 0);
  // the step that removes x (N5–N7): subtract sign(x) times the other row
  const away = (x: number): number => (x > 0 ? -1 : 1);

  for (let step = 0; step < MAX_STEPS; step++) {
    // N1: A ≤ B, and |ξ| ≤ |η| when A = B.  (a, b, c) → (−b, −a, −c)
    if (p.A > p.B + e || (Math.abs(p.A - p.B) <= e && Math.abs(p.xi) > Math.abs(p.eta) + e)) {
      apply([[0, -1, 0], [-1, 0, 0], [0, 0, -1]]);
    }
    // N2: B ≤ C, and |η| ≤ |ζ| when B = C.  (a, b, c) → (−a, −c, −b), then back to N1
    if (p.B > p.C + e || (Math.abs(p.B - p.C) <= e && Math.abs(p.eta) > Math.abs(p.zeta) + e)) {
      apply([[-1, 0, 0], [0, 0, -1], [0, -1, 0]]);
      continue;
    }
    // N3/N4: ξ, η, ζ all > 0 (type I) or all ≤ 0 (type II), by flipping signs of rows with
    // the product of flips = +1 so the handedness is kept.
    {
      const l = sgn(p.xi), m = sgn(p.eta), n = sgn(p.zeta);
      if (!(l === -1 && m === -1 && n === -1)) {
        let f: [number, number, number];
        if (l * m * n === 1) {
          // ξ' = s_b s_c ξ = s_a ξ (as s_a s_b s_c = 1): s = signs make everything positive
          f = [l, m, n];
        } else {
          f = [l === 1 ? -1 : 1, m === 1 ? -1 : 1, n === 1 ? -1 : 1];
          if (f[0] * f[1] * f[2] < 0) {
            // flip one whose parameter is zero (does not change its sign); one exists here
            const z = lastZero ? (n === 0 ? 2 : m === 0 ? 1 : 0) : l === 0 ? 0 : m === 0 ? 1 : 2;
            f[z] = -f[z]!;
          }
        }
        // stepwise applies f = (1, 1, 1) too (a no-op, except that it turns −0 into 0, as spglib)
        if (stepwise || f[0] !== 1 || f[1] !== 1 || f[2] !== 1) apply([[f[0], 0, 0], [0, f[1], 0], [0, 0, f[2]]]);
      }
    }
    const { A, B, xi, eta, zeta } = p;
    // N5: |ξ| ≤ B.  c → c − sign(ξ) b
    if (Math.abs(xi) > B + e || (Math.abs(xi - B) <= e && 2 * eta < zeta - e) || (Math.abs(xi + B) <= e && zeta < -e)) {
      apply([[1, 0, 0], [0, 1, 0], [0, away(xi), 1]]);
      continue;
    }
    // N6: |η| ≤ A.  c → c − sign(η) a
    if (Math.abs(eta) > A + e || (Math.abs(eta - A) <= e && 2 * xi < zeta - e) || (Math.abs(eta + A) <= e && zeta < -e)) {
      apply([[1, 0, 0], [0, 1, 0], [away(eta), 0, 1]]);
      continue;
    }
    // N7: |ζ| ≤ A.  b → b − sign(ζ) a
    if (Math.abs(zeta) > A + e || (Math.abs(zeta - A) <= e && 2 * xi < eta - e) || (Math.abs(zeta + A) <= e && eta < -e)) {
      apply([[1, 0, 0], [away(zeta), 1, 0], [0, 0, 1]]);
      continue;
    }
    // N8: ξ + η + ζ + A + B ≥ 0.  c → c + a + b
    const s = xi + eta + zeta + A + B;
    if (s < -e || (Math.abs(s) <= e && 2 * (A + eta) + zeta > e)) {
      apply([[1, 0, 0], [0, 1, 0], [1, 1, 1]]);
      continue;
    }
    return { lattice: L, transform: T };
  }
  throw new StructureError('no_cell', `Niggli reduction did not converge in ${MAX_STEPS} steps`);
}

/** True when the lattice satisfies the Niggli conditions (a number: relative tolerance). */
export function isNiggliReduced(lattice: readonly (readonly number[])[], eps: number | NiggliTolerance = 1e-5): boolean {
  const vol = Math.abs(det3(lattice));
  const e = absoluteEpsilon(tolerance(eps), vol);
  const { A, B, C, xi, eta, zeta } = niggliParameters(lattice);
  if (A > B + e || B > C + e) return false;
  if (Math.abs(A - B) <= e && Math.abs(xi) > Math.abs(eta) + e) return false;
  if (Math.abs(B - C) <= e && Math.abs(eta) > Math.abs(zeta) + e) return false;
  const allPos = xi > e && eta > e && zeta > e;
  const allNonPos = xi <= e && eta <= e && zeta <= e;
  if (!allPos && !allNonPos) return false;
  if (Math.abs(xi) > B + e || Math.abs(eta) > A + e || Math.abs(zeta) > A + e) return false;
  if (xi + eta + zeta + A + B < -e) return false;
  // special conditions on the boundaries
  if (Math.abs(xi - B) <= e && zeta > 2 * eta + e) return false;
  if (Math.abs(eta - A) <= e && zeta > 2 * xi + e) return false;
  if (Math.abs(zeta - A) <= e && eta > 2 * xi + e) return false;
  if (Math.abs(xi + B) <= e && zeta < -e) return false;
  if (Math.abs(eta + A) <= e && zeta < -e) return false;
  if (Math.abs(zeta + A) <= e && eta < -e) return false;
  if (Math.abs(xi + eta + zeta + A + B) <= e && 2 * (A + eta) + zeta > e) return false;
  return true;
}
