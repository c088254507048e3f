// Niggli reduction of a lattice (Křivý & Gruber 1976, with the ε-tolerant tests of
// Grosse-Kunstleve, Sauter & Adams 2004, Acta Cryst. A60, 1).
//
// The algorithm works on the metric parameters A = a·a, B = b·b, C = c·c, ξ = 2 b·c,
// η = 2 a·c, ζ = 2 a·b. Each step is applied as an integer change of basis on the lattice
// rows; the current lattice is always recomputed as T · L from the accumulated integer T,
// so floating-point error does not accumulate over many steps.
import { SoftmodeInputError } from '../errors.js';
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

/** Row operations on the integer transform (each keeps |det| = 1 and the sign of det). */
function negRow(r: readonly number[]): [number, number, number] {
  return [-r[0]! || 0, -r[1]! || 0, -r[2]! || 0];
}
function addRows(r: readonly number[], s: readonly number[], k: number): [number, number, number] {
  return [r[0]! + k * s[0]!, r[1]! + k * s[1]!, r[2]! + k * s[2]!];
}

const MAX_STEPS = 10000;

/**
 * Niggli-reduce a lattice (rows in Å). `eps` is relative: comparisons of the metric
 * parameters use ε = eps · V^(2/3) (Å²), so the result does not depend on the unit of length.
 * Returns the reduced lattice and the integer transform with reduced = transform · lattice.
 * The handedness (sign of det) of the input is kept.
 */
export function niggliReduce(lattice: readonly (readonly number[])[], eps = 1e-5): NiggliResult {
  const L0 = copy3(lattice);
  for (const row of L0) for (const x of row) if (!Number.isFinite(x)) throw new SoftmodeInputError('non_finite', 'lattice has a non-finite number');
  const vol = Math.abs(det3(L0));
  const scale = Math.max(...L0.map((r) => dot3(r, r)));
  if (!(vol > 1e-12 * Math.pow(scale, 1.5)))
    throw new SoftmodeInputError('bad_volume', `lattice is singular (volume ${vol} Å³)`);
  const e = eps * Math.pow(vol, 2 / 3);

  let T: Mat3 = identity3();
  let L = copy3(L0);
  let p = niggliParameters(L);
  const apply = (next: Mat3): void => {
    T = next;
    L = matmul3(T, L0);
    p = niggliParameters(L);
  };
  const sgn = (x: number): number => (x > e ? 1 : x < -e ? -1 : 0);

  for (let step = 0; step < MAX_STEPS; step++) {
    const [ta, tb, tc] = T;
    // N1: A ≤ B, and |ξ| ≤ |η| when A = B.  (a, b, c) → (−b, −a, −c)
    if (p.A > p.B + e || (Math.abs(p.A - p.B) <= e && Math.abs(p.xi) > Math.abs(p.eta) + e)) {
      apply([negRow(tb), negRow(ta), negRow(tc)]);
    }
    // N2: B ≤ C, and |η| ≤ |ζ| when B = C.  (a, b, c) → (−a, −c, −b), then back to N1
    {
      const [ua, ub, uc] = T;
      if (p.B > p.C + e || (Math.abs(p.B - p.C) <= e && Math.abs(p.eta) > Math.abs(p.zeta) + e)) {
        apply([negRow(ua), negRow(uc), negRow(ub)]);
        continue;
      }
    }
    // N3/N4: ξ, η, ζ all > 0 (type I) or all ≤ 0 (type II), by flipping signs of rows with
    // the product of flips = +1 so the handedness is kept.
    {
      const l = sgn(p.xi), m = sgn(p.eta), n = sgn(p.zeta);
      const [ua, ub, uc] = T;
      let f: [number, number, number];
      if (l * m * n === 1) {
        // ξ' = s_b s_c ξ = s_a ξ (as s_a s_b s_c = 1): s = signs make everything positive
        f = [l, m, n];
      } else {
        f = [l === 1 ? -1 : 1, m === 1 ? -1 : 1, n === 1 ? -1 : 1];
        if (f[0] * f[1] * f[2] < 0) {
          // flip one whose parameter is zero (does not change its sign); one exists here
          const z = l === 0 ? 0 : m === 0 ? 1 : 2;
          f[z] = -f[z]!;
        }
      }
      if (f[0] !== 1 || f[1] !== 1 || f[2] !== 1) {
        apply([f[0] === 1 ? ua : negRow(ua), f[1] === 1 ? ub : negRow(ub), f[2] === 1 ? uc : negRow(uc)]);
      }
    }
    const [va, vb, vc] = T;
    const { A, B, xi, eta, zeta } = p;
    // N5: |ξ| ≤ B.  c → c − sign(ξ) b
    if (Math.abs(xi) > B + e || (Math.abs(xi - B) <= e && 2 * eta < zeta - e) || (Math.abs(xi + B) <= e && zeta < -e)) {
      apply([va, vb, addRows(vc, vb, -Math.sign(xi))]);
      continue;
    }
    // N6: |η| ≤ A.  c → c − sign(η) a
    if (Math.abs(eta) > A + e || (Math.abs(eta - A) <= e && 2 * xi < zeta - e) || (Math.abs(eta + A) <= e && zeta < -e)) {
      apply([va, vb, addRows(vc, va, -Math.sign(eta))]);
      continue;
    }
    // N7: |ζ| ≤ A.  b → b − sign(ζ) a
    if (Math.abs(zeta) > A + e || (Math.abs(zeta - A) <= e && 2 * xi < eta - e) || (Math.abs(zeta + A) <= e && eta < -e)) {
      apply([va, addRows(vb, va, -Math.sign(zeta)), vc]);
      continue;
    }
    // N8: ξ + η + ζ + A + B ≥ 0.  c → c + a + b
    const s = xi + eta + zeta + A + B;
    if (s < -e || (Math.abs(s) <= e && 2 * (A + eta) + zeta > e)) {
      apply([va, vb, addRows(addRows(vc, va, 1), vb, 1)]);
      continue;
    }
    return { lattice: L, transform: T };
  }
  throw new SoftmodeInputError('invalid_argument', `Niggli reduction did not converge in ${MAX_STEPS} steps`);
}

/** True when the lattice satisfies the Niggli conditions at relative tolerance eps. */
export function isNiggliReduced(lattice: readonly (readonly number[])[], eps = 1e-5): boolean {
  const vol = Math.abs(det3(lattice));
  const e = eps * Math.pow(vol, 2 / 3);
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
