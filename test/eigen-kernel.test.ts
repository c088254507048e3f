// The WebAssembly eigen-solver kernel (tools/eigen-wasm → core/phonon/eigen-kernel.wasm) against
// the TypeScript reference solver: eigenvalues, eigenvectors (degenerate eigenspaces compared as
// subspaces, through their projectors), the kernel's special branches (zero columns, splits,
// already tridiagonal input, graded entries), and that the shipped bytes are the built ones.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../core/paths.js';
import { EIGEN_KERNEL_SHA256, EIGEN_KERNEL_WASM_BASE64 } from '../core/phonon/eigen-kernel-wasm.js';
import { type HermitianEigenResult, hermitianEigen, hermitianEigenBackend, hermitianEigenReference } from '../core/phonon/eigen.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

interface Mat {
  n: number;
  re: Float64Array;
  im: Float64Array;
}

function zeros(n: number): Mat {
  return { n, re: new Float64Array(n * n), im: new Float64Array(n * n) };
}

function randomHermitian(n: number, seed: number): Mat {
  const r = rng(seed);
  const m = zeros(n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      const a = r();
      const b = i === j ? 0 : r();
      m.re[i * n + j] = a;
      m.re[j * n + i] = a;
      m.im[i * n + j] = b;
      m.im[j * n + i] = -b;
    }
  return m;
}

/** A random unitary matrix (modified Gram–Schmidt on random complex columns), columns = basis. */
function randomUnitary(n: number, seed: number): Mat {
  const r = rng(seed);
  const U = zeros(n);
  for (let k = 0; k < n * n; k++) {
    U.re[k] = r();
    U.im[k] = r();
  }
  for (let c = 0; c < n; c++) {
    for (let p = 0; p < c; p++) {
      // x_c ← x_c − (u_p† x_c) u_p
      let dr = 0;
      let di = 0;
      for (let i = 0; i < n; i++) {
        const ur = U.re[i * n + p]!;
        const ui = U.im[i * n + p]!;
        const xr = U.re[i * n + c]!;
        const xi = U.im[i * n + c]!;
        dr += ur * xr + ui * xi;
        di += ur * xi - ui * xr;
      }
      for (let i = 0; i < n; i++) {
        const ur = U.re[i * n + p]!;
        const ui = U.im[i * n + p]!;
        U.re[i * n + c] = U.re[i * n + c]! - (dr * ur - di * ui);
        U.im[i * n + c] = U.im[i * n + c]! - (dr * ui + di * ur);
      }
    }
    let nrm = 0;
    for (let i = 0; i < n; i++) nrm += U.re[i * n + c]! ** 2 + U.im[i * n + c]! ** 2;
    nrm = Math.sqrt(nrm);
    for (let i = 0; i < n; i++) {
      U.re[i * n + c] = U.re[i * n + c]! / nrm;
      U.im[i * n + c] = U.im[i * n + c]! / nrm;
    }
  }
  return U;
}

/** U diag(λ) U†: a Hermitian matrix with exactly the spectrum λ (degeneracies included). */
function withSpectrum(lambda: readonly number[], seed: number): Mat {
  const n = lambda.length;
  const U = randomUnitary(n, seed);
  const A = zeros(n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let sr = 0;
      let si = 0;
      for (let k = 0; k < n; k++) {
        // U_ik λ_k conj(U_jk)
        const ar = U.re[i * n + k]!;
        const ai = U.im[i * n + k]!;
        const br = U.re[j * n + k]!;
        const bi = -U.im[j * n + k]!;
        sr += lambda[k]! * (ar * br - ai * bi);
        si += lambda[k]! * (ar * bi + ai * br);
      }
      A.re[i * n + j] = sr;
      A.im[i * n + j] = si;
    }
  // exactly Hermitian
  for (let i = 0; i < n; i++) {
    A.im[i * n + i] = 0;
    for (let j = 0; j < i; j++) {
      const ar = (A.re[i * n + j]! + A.re[j * n + i]!) / 2;
      const ai = (A.im[i * n + j]! - A.im[j * n + i]!) / 2;
      A.re[i * n + j] = ar;
      A.re[j * n + i] = ar;
      A.im[i * n + j] = ai;
      A.im[j * n + i] = -ai;
    }
  }
  return A;
}

function maxAbs(xs: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, Math.abs(xs[i]!));
  return m;
}

/** max |λ_kernel − λ_reference| / max(‖λ‖∞, tiny) */
function valueGap(A: Mat): number {
  const a = hermitianEigen(A.re, A.im, A.n).values;
  const b = hermitianEigenReference(A.re, A.im, A.n).values;
  let d = 0;
  for (let k = 0; k < A.n; k++) d = Math.max(d, Math.abs(a[k]! - b[k]!));
  return d / Math.max(maxAbs(b), 1e-300);
}

/** residual max |A x − λ x| and orthonormality max |X†X − I| of a result with vectors */
function checkVectors(A: Mat, r: HermitianEigenResult): { res: number; orth: number } {
  const n = A.n;
  const X = { re: r.vecRe!, im: r.vecIm! };
  let res = 0;
  let orth = 0;
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      let sr = 0;
      let si = 0;
      for (let j = 0; j < n; j++) {
        const ar = A.re[i * n + j]!;
        const ai = A.im[i * n + j]!;
        const xr = X.re[j * n + k]!;
        const xi = X.im[j * n + k]!;
        sr += ar * xr - ai * xi;
        si += ar * xi + ai * xr;
      }
      res = Math.max(res, Math.abs(sr - r.values[k]! * X.re[i * n + k]!), Math.abs(si - r.values[k]! * X.im[i * n + k]!));
    }
    for (let l = 0; l <= k; l++) {
      let dr = 0;
      let di = 0;
      for (let i = 0; i < n; i++) {
        dr += X.re[i * n + k]! * X.re[i * n + l]! + X.im[i * n + k]! * X.im[i * n + l]!;
        di += X.re[i * n + k]! * X.im[i * n + l]! - X.im[i * n + k]! * X.re[i * n + l]!;
      }
      orth = Math.max(orth, Math.abs(dr - (k === l ? 1 : 0)), Math.abs(di));
    }
  }
  return { res, orth };
}

/** Projector Σ_{k∈cluster} x_k x_k† onto the eigenspace of columns k0..k1−1. */
function projector(r: HermitianEigenResult, n: number, k0: number, k1: number): Mat {
  const P = zeros(n);
  for (let k = k0; k < k1; k++)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const ar = r.vecRe![i * n + k]!;
        const ai = r.vecIm![i * n + k]!;
        const br = r.vecRe![j * n + k]!;
        const bi = -r.vecIm![j * n + k]!;
        P.re[i * n + j] = P.re[i * n + j]! + ar * br - ai * bi;
        P.im[i * n + j] = P.im[i * n + j]! + ar * bi + ai * br;
      }
  return P;
}

/** clusters of (numerically) equal eigenvalues: [start, end) column ranges */
function clusters(values: Float64Array, tol: number): [number, number][] {
  const out: [number, number][] = [];
  let s = 0;
  for (let k = 1; k <= values.length; k++)
    if (k === values.length || values[k]! - values[k - 1]! > tol) {
      out.push([s, k]);
      s = k;
    }
  return out;
}

describe('eigen kernel (WebAssembly SIMD) against the TypeScript reference', () => {
  it('is the implementation in use, and the shipped module is the one tools/eigen-wasm/build.sh wrote', () => {
    expect(hermitianEigenBackend()).toBe('wasm-simd');
    const file = readFileSync(join(repoRoot(), 'core', 'phonon', 'eigen-kernel.wasm'));
    const embedded = Buffer.from(EIGEN_KERNEL_WASM_BASE64, 'base64');
    expect(embedded.equals(file)).toBe(true);
    expect(createHash('sha256').update(file).digest('hex')).toBe(EIGEN_KERNEL_SHA256);
  });

  it('gives the reference eigenvalues on random Hermitian matrices of every small size and 150', () => {
    // odd and even n cover the paired storage's ragged edges and the single-row tail
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 31, 33, 64, 97, 150]) {
      for (const seed of [1, 2]) expect(valueGap(randomHermitian(n, 1000 * n + seed))).toBeLessThan(1e-13);
    }
  });

  it('finds a prescribed degenerate spectrum, with eigenvectors spanning the reference eigenspaces', () => {
    // multiplicities as in phonon spectra at high-symmetry q (3-fold acoustic at Γ, 2-fold, ...)
    const lambda = [0, 0, 0, 0.7, 0.7, 1.3, 2, 2, 2, 2, -0.4, 3.1, 3.1, 5, 5, 5, 0.05, 1.9, 1.9, 4.4, 4.4, 4.4, 4.4, 4.4];
    const n = lambda.length;
    const A = withSpectrum(lambda, 42);
    const want = Float64Array.from(lambda).sort();
    const w = hermitianEigen(A.re, A.im, n, true);
    const ref = hermitianEigenReference(A.re, A.im, n, true);
    for (let k = 0; k < n; k++) {
      expect(Math.abs(w.values[k]! - want[k]!)).toBeLessThan(1e-13);
      expect(Math.abs(w.values[k]! - ref.values[k]!)).toBeLessThan(1e-13);
    }
    const { res, orth } = checkVectors(A, w);
    expect(res).toBeLessThan(1e-13);
    expect(orth).toBeLessThan(1e-13);
    const cl = clusters(want, 1e-9);
    expect(cl.map(([a, b]) => b - a)).toEqual([1, 3, 1, 2, 1, 2, 4, 2, 5, 3]);
    for (const [k0, k1] of cl) {
      const P = projector(w, n, k0, k1);
      const Q = projector(ref, n, k0, k1);
      let d = 0;
      for (let t = 0; t < n * n; t++) d = Math.max(d, Math.abs(P.re[t]! - Q.re[t]!), Math.abs(P.im[t]! - Q.im[t]!));
      expect(d).toBeLessThan(1e-12);
    }
  });

  it('eigenvectors of random matrices: residual, orthonormality, and the reference’s (phase-free) projectors', () => {
    for (const n of [5, 24, 61]) {
      const A = randomHermitian(n, 7 * n);
      const w = hermitianEigen(A.re, A.im, n, true);
      const ref = hermitianEigenReference(A.re, A.im, n, true);
      const { res, orth } = checkVectors(A, w);
      expect(res).toBeLessThan(1e-12);
      expect(orth).toBeLessThan(1e-12);
      // simple spectrum: each x x† is unique (the phase of x is not)
      for (const k of [0, Math.floor(n / 2), n - 1]) {
        const P = projector(w, n, k, k + 1);
        const Q = projector(ref, n, k, k + 1);
        for (let t = 0; t < n * n; t++) {
          expect(Math.abs(P.re[t]! - Q.re[t]!)).toBeLessThan(1e-10);
          expect(Math.abs(P.im[t]! - Q.im[t]!)).toBeLessThan(1e-10);
        }
      }
    }
  });

  it('block-diagonal input: zero columns below the diagonal mid-reduction (τ = 0 with an update pending)', () => {
    // blocks of 1, 5, 2, 7, 3 on the diagonal: the reduction meets zero sub-columns at the block
    // ends while the previous step's rank-2 update is still to be applied
    const sizes = [1, 5, 2, 7, 3];
    const n = sizes.reduce((a, b) => a + b, 0);
    const A = zeros(n);
    const want: number[] = [];
    let o = 0;
    sizes.forEach((m, b) => {
      const B = randomHermitian(m, 300 + b);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < m; j++) {
          A.re[(o + i) * n + o + j] = B.re[i * m + j]! + (i === j ? 3 * b : 0);
          A.im[(o + i) * n + o + j] = B.im[i * m + j]!;
        }
      const bv = hermitianEigenReference(B.re, B.im, m).values;
      bv.forEach((x) => want.push(x + 3 * b));
      o += m;
    });
    want.sort((a, b) => a - b);
    const w = hermitianEigen(A.re, A.im, n, true);
    w.values.forEach((x, k) => expect(Math.abs(x - want[k]!)).toBeLessThan(1e-13));
    const { res, orth } = checkVectors(A, w);
    expect(res).toBeLessThan(1e-13);
    expect(orth).toBeLessThan(1e-13);
    expect(valueGap(A)).toBeLessThan(1e-13);
  });

  it('tridiagonal, graded and split input (the root-free QL of the values-only path)', () => {
    for (const n of [2, 3, 10, 40, 101]) {
      const r = rng(n);
      for (const kind of ['tridiagonal', 'graded', 'split', 'constant-diagonal'] as const) {
        const A = zeros(n);
        for (let i = 0; i < n; i++) {
          const g = kind === 'graded' ? 10 ** (-(i % 10)) : 1;
          A.re[i * n + i] = kind === 'constant-diagonal' ? 1 : r() * g;
          if (i > 0) {
            const split = (kind === 'split' || kind === 'constant-diagonal') && i % 4 === 0;
            const br = split ? 0 : r() * g;
            const bi = split ? 0 : r() * g;
            A.re[i * n + i - 1] = br;
            A.im[i * n + i - 1] = bi;
            A.re[(i - 1) * n + i] = br;
            A.im[(i - 1) * n + i] = -bi;
          }
        }
        expect(valueGap(A)).toBeLessThan(1e-13);
        const w = hermitianEigen(A.re, A.im, n, true);
        const { res, orth } = checkVectors(A, w);
        expect(res).toBeLessThan(1e-13);
        expect(orth).toBeLessThan(1e-13);
      }
    }
  });

  it('a real dynamical-matrix-like spectrum at n = 300: values to 1e-13 of the norm', () => {
    // positive semi-definite with three zero modes and a dense band, as a force-constant matrix
    const n = 300;
    const r = rng(5);
    const lambda = Array.from({ length: n }, (_, k) => (k < 3 ? 0 : 1 + 40 * Math.abs(r())));
    const A = withSpectrum(lambda, 9);
    const w = hermitianEigen(A.re, A.im, n).values;
    const want = Float64Array.from(lambda).sort();
    w.forEach((x, k) => expect(Math.abs(x - want[k]!)).toBeLessThan(1e-12 * 41));
    expect(valueGap(A)).toBeLessThan(1e-13);
  }, 60_000);

  it('rejects non-finite entries anywhere in the lower triangle (real or imaginary part)', () => {
    const n = 9;
    for (const [at, part, bad] of [[n + 1, 're', Number.NaN], [5 * n + 2, 'im', Number.NaN], [8 * n + 8, 're', Number.POSITIVE_INFINITY], [3 * n, 'im', Number.NEGATIVE_INFINITY]] as const) {
      const A = randomHermitian(n, 3);
      A[part][at] = bad;
      expect(() => hermitianEigen(A.re, A.im, n)).toThrow(/non-finite/);
    }
  });
});
