// Niggli reduction (Křivý & Gruber, Acta Cryst. A32, 297 (1976), with the ε-tolerant comparisons
// of Grosse-Kunstleve, Sauter & Adams, Acta Cryst. A60, 1 (2004)). HPKOT's triclinic case reduces
// the *reciprocal* lattice, so this works on any three row vectors and returns the integer matrix
// T with reduced = T · input (rows).
import { type Mat3, identity3, matmul3 } from '../../math/linalg.js';

export interface NiggliResult {
  /** reduced basis, rows */
  lattice: Mat3;
  /** integer transformation: reduced rows = transform · input rows */
  transform: Mat3;
}

function metric(rows: Mat3): { A: number; B: number; C: number; xi: number; eta: number; zeta: number } {
  const d = (i: number, j: number) =>
    rows[i]![0]! * rows[j]![0]! + rows[i]![1]! * rows[j]![1]! + rows[i]![2]! * rows[j]![2]!;
  return { A: d(0, 0), B: d(1, 1), C: d(2, 2), xi: 2 * d(1, 2), eta: 2 * d(0, 2), zeta: 2 * d(0, 1) };
}

function signWithin(x: number, eps: number): -1 | 0 | 1 {
  return x < -eps ? -1 : x > eps ? 1 : 0;
}

/**
 * Niggli-reduce three row vectors. `eps` is the absolute tolerance on the metric (squared length
 * units of the rows), as in spglib's niggli_reduce.
 */
export function niggliReduce(rows: Mat3, eps = 1e-5, maxIterations = 1000): NiggliResult {
  let transform = identity3();
  let lattice = rows.map((r) => [...r]) as Mat3;

  // Each elementary step is a change of basis M: new rows = M · current rows.
  const apply = (M: Mat3) => {
    lattice = matmul3(M, lattice);
    transform = matmul3(M, transform);
  };

  for (let iter = 0; iter < maxIterations; iter++) {
    let { A, B, C, xi, eta, zeta } = metric(lattice);
    // N1: A ≤ B, ties ordered by |ξ| ≤ |η|
    if (A > B + eps || (Math.abs(A - B) <= eps && Math.abs(xi) > Math.abs(eta) + eps)) {
      apply([
        [0, -1, 0],
        [-1, 0, 0],
        [0, 0, -1],
      ]);
      ({ A, B, xi, eta, zeta } = metric(lattice));
    }
    // N2: B ≤ C, ties ordered by |η| ≤ |ζ|; restart after a swap
    if (B > C + eps || (Math.abs(B - C) <= eps && Math.abs(eta) > Math.abs(zeta) + eps)) {
      apply([
        [-1, 0, 0],
        [0, 0, -1],
        [0, -1, 0],
      ]);
      continue;
    }
    // N3/N4: make ξ, η, ζ all positive or all non-positive
    const l = signWithin(xi, eps);
    const m = signWithin(eta, eps);
    const n = signWithin(zeta, eps);
    if (l * m * n === 1) {
      apply([
        [l, 0, 0],
        [0, m, 0],
        [0, 0, n],
      ]);
    } else if (!(l === -1 && m === -1 && n === -1)) {
      let i = l === 1 ? -1 : 1;
      let j = m === 1 ? -1 : 1;
      let k = n === 1 ? -1 : 1;
      if (i * j * k === -1) {
        // flip an axis whose angle is exactly 90° so that the determinant stays +1
        // (the last such axis, as in spglib, so both give the same reduced basis)
        if (n === 0) k = -1;
        else if (m === 0) j = -1;
        else if (l === 0) i = -1;
      }
      apply([
        [i, 0, 0],
        [0, j, 0],
        [0, 0, k],
      ]);
    }
    ({ A, B, xi, eta, zeta } = metric(lattice));
    // N5: |ξ| ≤ B
    if (
      Math.abs(xi) > B + eps ||
      (Math.abs(B - xi) <= eps && 2 * eta < zeta - eps) ||
      (Math.abs(B + xi) <= eps && zeta < -eps)
    ) {
      const s = xi > 0 ? -1 : 1;
      // c ← c + s·b
      apply([
        [1, 0, 0],
        [0, 1, 0],
        [0, s, 1],
      ]);
      continue;
    }
    // N6: |η| ≤ A
    if (
      Math.abs(eta) > A + eps ||
      (Math.abs(A - eta) <= eps && 2 * xi < zeta - eps) ||
      (Math.abs(A + eta) <= eps && zeta < -eps)
    ) {
      const s = eta > 0 ? -1 : 1;
      // c ← c + s·a
      apply([
        [1, 0, 0],
        [0, 1, 0],
        [s, 0, 1],
      ]);
      continue;
    }
    // N7: |ζ| ≤ A
    if (
      Math.abs(zeta) > A + eps ||
      (Math.abs(A - zeta) <= eps && 2 * xi < eta - eps) ||
      (Math.abs(A + zeta) <= eps && eta < -eps)
    ) {
      const s = zeta > 0 ? -1 : 1;
      // b ← b + s·a
      apply([
        [1, 0, 0],
        [s, 1, 0],
        [0, 0, 1],
      ]);
      continue;
    }
    // N8: ξ + η + ζ + A + B ≥ 0
    const sum = xi + eta + zeta + A + B;
    if (sum < -eps || (Math.abs(sum) <= eps && 2 * (A + eta) + zeta > eps)) {
      // c ← a + b + c
      apply([
        [1, 0, 0],
        [0, 1, 0],
        [1, 1, 1],
      ]);
      continue;
    }
    return { lattice, transform };
  }
  throw new Error(`Niggli reduction did not converge in ${maxIterations} iterations`);
}
