import { describe, expect, it } from 'vitest';
import { expm, expmFrechet, logm, mul, sqrtm } from '../core/relax/matrix.js';
import { prng } from './relax-fixtures.js';

function taylorExp(a: Float64Array, n: number): Float64Array {
  // plain Taylor series with scaling and squaring, an independent reference
  let s = 0;
  let nrm = 0;
  for (const x of a) nrm = Math.max(nrm, Math.abs(x));
  while (nrm * n > 0.1) {
    nrm /= 2;
    s++;
  }
  const A = a.map((x) => x / 2 ** s);
  let term: Float64Array = new Float64Array(n * n);
  for (let i = 0; i < n; i++) term[i * n + i] = 1;
  const sum = Float64Array.from(term);
  for (let k = 1; k < 30; k++) {
    term = mul(term, A, n).map((x) => x / k);
    for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + term[i]!;
  }
  let R: Float64Array = sum;
  for (let k = 0; k < s; k++) R = mul(R, R, n);
  return R;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('small-matrix functions', () => {
  const r = prng(3);
  const mats = [0.01, 0.2, 1.5, 7].map((amp) => Float64Array.from({ length: 9 }, () => amp * r()));

  it('expm matches a Taylor reference', () => {
    for (const A of mats) {
      const E = expm(A, 3);
      const T = taylorExp(A, 3);
      const size = Math.max(...Array.from(T, Math.abs));
      expect(maxDiff(E, T)).toBeLessThan(1e-13 * size);
    }
  });

  it('logm inverts expm (principal branch)', () => {
    for (const A of mats.slice(0, 3)) {
      expect(maxDiff(logm(expm(A, 3), 3), A)).toBeLessThan(1e-12);
    }
    const near = Float64Array.from([1.01, 0.002, -0.003, 0.001, 0.995, 0.004, 0, -0.002, 1.02]);
    expect(maxDiff(expm(logm(near, 3), 3), near)).toBeLessThan(1e-15);
  });

  it('sqrtm squares back', () => {
    const S = Float64Array.from([2, 0.3, 0.1, 0.3, 1.5, -0.2, 0.1, -0.2, 1]);
    const q = sqrtm(S, 3);
    expect(maxDiff(mul(q, q, 3), S)).toBeLessThan(1e-14);
  });

  it('Fréchet derivative matches central differences of expm', () => {
    for (const A of mats.slice(0, 3)) {
      const E = Float64Array.from({ length: 9 }, () => r());
      const L = expmFrechet(A, E, 3);
      const h = 1e-6;
      const fd = expm(A.map((x, i) => x + h * E[i]!), 3).map((x, i) => (x - expm(A.map((y, j) => y - h * E[j]!), 3)[i]!) / (2 * h));
      expect(maxDiff(L, fd)).toBeLessThan(1e-8);
    }
  });
});
