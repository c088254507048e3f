// The options of the one Niggli reduction (core/structure/niggli.ts): tolerance kind, which
// zero-angle row takes the extra sign flip, and the arithmetic of the basis update.
import { describe, expect, it } from 'vitest';
import { type Mat3, det3, matmul3 } from '../core/math/linalg.js';
import { mulberry32 } from '../core/math/random.js';
import { isNiggliReduced, niggliParameters, niggliReduce, spglibNiggliOptions } from '../core/structure/niggli.js';

function randomSkewed(rnd: () => number): Mat3 {
  const base: Mat3 = [
    [2 + 4 * rnd(), 0, 0],
    [4 * rnd() - 2, 2 + 4 * rnd(), 0],
    [4 * rnd() - 2, 4 * rnd() - 2, 2 + 4 * rnd()],
  ];
  const k = () => Math.floor(rnd() * 5) - 2;
  // a unimodular shear product
  const M: Mat3 = matmul3(
    [
      [1, k(), 0],
      [0, 1, 0],
      [0, 0, 1],
    ],
    [
      [1, 0, 0],
      [0, 1, 0],
      [k(), k(), 1],
    ],
  );
  return matmul3(M, base);
}

describe('niggliReduce options', () => {
  it('zeroAngleFlip: with two 90° angles the extra flip goes to the first or the last of them', () => {
    // ξ > 0, η = ζ = 0: N3/N4 negates a and one of the rows with a zero angle parameter
    const L: Mat3 = [
      [3, 0, 0],
      [0, 4, 0],
      [0, 1, 5],
    ];
    const first = niggliReduce(L, { zeroAngleFlip: 'first' });
    const last = niggliReduce(L, { zeroAngleFlip: 'last' });
    expect(first.transform).toEqual([
      [-1, 0, 0],
      [0, -1, 0],
      [0, 0, 1],
    ]);
    expect(last.transform).toEqual([
      [-1, 0, 0],
      [0, 1, 0],
      [0, 0, -1],
    ]);
    // both are Niggli cells of the same lattice with the same metric
    const p = niggliParameters(first.lattice);
    const q = niggliParameters(last.lattice);
    for (const k of ['A', 'B', 'C', 'xi', 'eta', 'zeta'] as const) expect(p[k] === q[k]).toBe(true); // ±0 alike
    expect(isNiggliReduced(first.lattice)).toBe(true);
    expect(isNiggliReduced(last.lattice)).toBe(true);
  });

  it('a relative tolerance eps is the absolute tolerance eps·V^(2/3)', () => {
    const rnd = mulberry32(7);
    for (let n = 0; n < 50; n++) {
      const L = randomSkewed(rnd);
      const abs = 1e-5 * Math.pow(Math.abs(det3(L)), 2 / 3);
      const rel = niggliReduce(L, 1e-5);
      const same = niggliReduce(L, { tolerance: { kind: 'absolute', eps: abs } });
      expect(same.transform).toEqual(rel.transform);
      expect(same.lattice).toEqual(rel.lattice);
      expect(isNiggliReduced(rel.lattice, { kind: 'absolute', eps: abs })).toBe(true);
    }
  });

  it('relative tolerance does not depend on the unit of length; absolute does', () => {
    // a cell whose angle is 1e-7 rad off 90°: within a relative 1e-5, outside an absolute 1e-9 Å²
    const d = 1e-7;
    const L: Mat3 = [
      [3, 0, 0],
      [3 * Math.sin(d), 3 * Math.cos(d), 0],
      [0, 0, 5],
    ];
    const scaled = L.map((r) => r.map((x) => 1000 * x)) as Mat3;
    expect(niggliReduce(scaled, 1e-5).transform).toEqual(niggliReduce(L, 1e-5).transform);
    const tight = { tolerance: { kind: 'absolute', eps: 1e-9 } } as const;
    const loose = { tolerance: { kind: 'absolute', eps: 1e-3 } } as const;
    expect(niggliReduce(L, tight).transform).not.toEqual(niggliReduce(L, loose).transform);
  });

  it("basisUpdate: 'fromInput' returns exactly T·L; 'stepwise' the same basis up to rounding", () => {
    const rnd = mulberry32(11);
    for (let n = 0; n < 100; n++) {
      const L = randomSkewed(rnd);
      const a = niggliReduce(L, 1e-5);
      const exact = matmul3(a.transform, L);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(a.lattice[i]![j]! === exact[i]![j]!).toBe(true);
      const b = niggliReduce(L, { tolerance: { kind: 'relative', eps: 1e-5 }, basisUpdate: 'stepwise' });
      expect(Math.abs(det3(b.transform))).toBe(1);
      const TL = matmul3(b.transform, L);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(Math.abs(b.lattice[i]![j]! - TL[i]![j]!)).toBeLessThan(1e-12);
      // away from ties, the same reduced metric
      const p = niggliParameters(a.lattice);
      const q = niggliParameters(b.lattice);
      expect(Math.abs(p.A - q.A) + Math.abs(p.B - q.B) + Math.abs(p.C - q.C)).toBeLessThan(1e-9);
    }
  });

  it('spglibNiggliOptions: absolute ε, last zero-angle row, stepwise', () => {
    expect(spglibNiggliOptions(2e-5)).toEqual({ tolerance: { kind: 'absolute', eps: 2e-5 }, zeroAngleFlip: 'last', basisUpdate: 'stepwise' });
    const rnd = mulberry32(3);
    for (let n = 0; n < 50; n++) {
      const L = randomSkewed(rnd);
      const r = niggliReduce(L, spglibNiggliOptions());
      expect(Math.sign(det3(r.lattice))).toBe(Math.sign(det3(L)));
      expect(isNiggliReduced(r.lattice)).toBe(true);
    }
  });
});
