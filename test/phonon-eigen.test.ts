import { describe, expect, it } from 'vitest';
import { hermitianEigen as hermitianEigenDefault, hermitianEigenReference } from '../core/phonon/eigen.js';

// deterministic pseudo-random numbers (LCG) so the test is reproducible
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

function randomHermitian(n: number, seed: number): { re: Float64Array; im: Float64Array } {
  const r = rng(seed);
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      const a = r();
      const b = i === j ? 0 : r();
      re[i * n + j] = a;
      re[j * n + i] = a;
      im[i * n + j] = b;
      im[j * n + i] = -b;
    }
  return { re, im };
}

// Every test below runs on both implementations: the WebAssembly kernel (the default) and the
// TypeScript reference it is checked against (test/eigen-kernel.test.ts compares the two).
for (const [impl, hermitianEigen] of [
  ['wasm kernel', hermitianEigenDefault],
  ['TypeScript reference', hermitianEigenReference],
] as const)
describe(`hermitianEigen (${impl})`, () => {
  it('satisfies A x = λ x with orthonormal vectors (n = 37)', () => {
    const n = 37;
    const { re, im } = randomHermitian(n, 7);
    const { values, vecRe, vecIm } = hermitianEigen(re, im, n, true);
    let maxRes = 0;
    let maxOrth = 0;
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < n; i++) {
        let sr = 0;
        let si = 0;
        for (let j = 0; j < n; j++) {
          const ar = re[i * n + j]!;
          const ai = im[i * n + j]!;
          const xr = vecRe![j * n + k]!;
          const xi = vecIm![j * n + k]!;
          sr += ar * xr - ai * xi;
          si += ar * xi + ai * xr;
        }
        maxRes = Math.max(maxRes, Math.abs(sr - values[k]! * vecRe![i * n + k]!), Math.abs(si - values[k]! * vecIm![i * n + k]!));
      }
      for (let l = 0; l < n; l++) {
        let dr = 0;
        let di = 0;
        for (let i = 0; i < n; i++) {
          dr += vecRe![i * n + k]! * vecRe![i * n + l]! + vecIm![i * n + k]! * vecIm![i * n + l]!;
          di += vecRe![i * n + k]! * vecIm![i * n + l]! - vecIm![i * n + k]! * vecRe![i * n + l]!;
        }
        maxOrth = Math.max(maxOrth, Math.abs(dr - (k === l ? 1 : 0)), Math.abs(di));
      }
    }
    expect(maxRes).toBeLessThan(1e-12);
    expect(maxOrth).toBeLessThan(1e-12);
    for (let k = 1; k < n; k++) expect(values[k]!).toBeGreaterThanOrEqual(values[k - 1]!);
  });

  it('matches the eigenvalues of the real 2n embedding (each twice)', () => {
    const n = 12;
    const { re, im } = randomHermitian(n, 3);
    const N = 2 * n;
    const bigRe = new Float64Array(N * N);
    const bigIm = new Float64Array(N * N);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        bigRe[i * N + j] = re[i * n + j]!;
        bigRe[(i + n) * N + j + n] = re[i * n + j]!;
        bigRe[i * N + j + n] = -im[i * n + j]!;
        bigRe[(i + n) * N + j] = im[i * n + j]!;
      }
    const small = hermitianEigen(re, im, n).values;
    const big = hermitianEigen(bigRe, bigIm, N).values;
    for (let k = 0; k < n; k++) {
      expect(big[2 * k]!).toBeCloseTo(small[k]!, 12);
      expect(big[2 * k + 1]!).toBeCloseTo(small[k]!, 12);
    }
  });

  it('is exact under power-of-two scaling and right at any scale of the double range', () => {
    const n = 24;
    const { re, im } = randomHermitian(n, 11);
    const ref = hermitianEigen(re, im, n, true);
    const scaled = (f: number) => ({ re: re.map((x) => x * f), im: im.map((x) => x * f) });
    // an exact power of two changes nothing but the exponent (values and vectors bit for bit)
    for (const k of [-400, -100, 100, 400]) {
      const f = 2 ** k;
      const m = scaled(f);
      const r = hermitianEigen(m.re, m.im, n, true);
      expect(Array.from(r.values)).toEqual(Array.from(ref.values, (x) => x * f));
      expect(Array.from(r.vecRe!)).toEqual(Array.from(ref.vecRe!));
      expect(Array.from(r.vecIm!)).toEqual(Array.from(ref.vecIm!));
    }
    // decimal scales down to nearly zero matrices (1e-57 is what a force-constant matrix of
    // rounding noise gave) and up: these failed to converge or came out wrong before scaling
    for (const f of [1e-200, 1e-80, 1e-57, 1e100, 1e200]) {
      const m = scaled(f);
      const values = hermitianEigen(m.re, m.im, n).values;
      values.forEach((x, i) => expect(Math.abs(x / f - ref.values[i]!)).toBeLessThan(1e-12));
    }
    const zero = new Float64Array(n * n);
    expect(Array.from(hermitianEigen(zero, zero, n).values)).toEqual(new Array(n).fill(0));
    const bad = Float64Array.from(re);
    bad[n + 1] = Number.NaN;
    expect(() => hermitianEigen(bad, im, n)).toThrow(/non-finite/);
  });

  it('handles a diagonal matrix and degenerate eigenvalues', () => {
    const n = 5;
    const re = new Float64Array(n * n);
    const im = new Float64Array(n * n);
    [3, -1, 3, 0, 2].forEach((v, i) => (re[i * n + i] = v));
    expect(Array.from(hermitianEigen(re, im, n).values)).toEqual([-1, 0, 2, 3, 3]);
  });

  it('solves 600×600 in well under the budget', () => {
    const n = 600;
    const { re, im } = randomHermitian(n, 11);
    const t0 = performance.now();
    const { values } = hermitianEigen(re, im, n);
    const ms = performance.now() - t0;
    // trace is preserved
    let tr = 0;
    for (let i = 0; i < n; i++) tr += re[i * n + i]!;
    const sum = values.reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - tr)).toBeLessThan(1e-9);
    expect(ms).toBeLessThan(3000);
  });
});
