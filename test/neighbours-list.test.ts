import { describe, expect, it } from 'vitest';
import { neighbourList, perpendicularWidths } from '../core/neighbours/index.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';
import { type Mat3, det3 } from '../core/math/linalg.js';
import { SoftmodeInputError } from '../core/errors.js';
import { mulberry32 } from '../core/math/random.js';


/** Brute force: every j and every offset that can be within the cutoff, from the unwrapped positions. */
function bruteForce(s: Structure, cutoff: number): string[] {
  const L = s.lattice;
  const wd = perpendicularWidths(L);
  const out: string[] = [];
  const n = s.numbers.length;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const df = [0, 1, 2].map((k) => s.frac[j]![k]! - s.frac[i]![k]!);
      const lo = [0, 1, 2].map((k) => Math.floor(-cutoff / wd[k]! - df[k]!) - 1);
      const hi = [0, 1, 2].map((k) => Math.ceil(cutoff / wd[k]! - df[k]!) + 1);
      for (let a = lo[0]!; a <= hi[0]!; a++)
        for (let b = lo[1]!; b <= hi[1]!; b++)
          for (let c = lo[2]!; c <= hi[2]!; c++) {
            if (i === j && a === 0 && b === 0 && c === 0) continue;
            const x = [df[0]! + a, df[1]! + b, df[2]! + c];
            const v = [0, 1, 2].map((q) => x[0]! * L[0]![q]! + x[1]! * L[1]![q]! + x[2]! * L[2]![q]!);
            const d = Math.hypot(v[0]!, v[1]!, v[2]!);
            if (d < cutoff) out.push(`${i} ${j} ${a} ${b} ${c}`);
          }
    }
  return out;
}

function keys(nl: ReturnType<typeof neighbourList>): string[] {
  const out: string[] = [];
  for (let p = 0; p < nl.centers.length; p++)
    out.push(`${nl.centers[p]} ${nl.neighbours[p]} ${nl.images[3 * p]} ${nl.images[3 * p + 1]} ${nl.images[3 * p + 2]}`);
  return out;
}

function randomStructure(rnd: () => number, n: number, skew: number, outside = false): Structure {
  let L: Mat3;
  do {
    L = [
      [2 + 5 * rnd(), (rnd() - 0.5) * 2, (rnd() - 0.5) * 2],
      [(rnd() - 0.5) * skew, 2 + 5 * rnd(), (rnd() - 0.5) * 2],
      [(rnd() - 0.5) * skew, (rnd() - 0.5) * skew, 2 + 5 * rnd()],
    ];
  } while (Math.abs(det3(L)) < 3);
  const frac = Array.from({ length: n }, () => [0, 1, 2].map(() => (outside ? (rnd() - 0.5) * 6 : rnd())));
  return makeStructure({ lattice: L, frac, numbers: Array.from({ length: n }, () => 14) });
}

function checkAgainstBrute(s: Structure, cutoff: number): void {
  const nl = neighbourList(s, cutoff);
  const got = keys(nl);
  const ref = bruteForce(s, cutoff);
  // deterministic order: sorted by centre, neighbour, offset — brute force enumerates in that order
  expect(got).toEqual(ref);
  // vectors and distances are consistent with the reported offsets
  for (let p = 0; p < nl.centers.length; p++) {
    const i = nl.centers[p]!, j = nl.neighbours[p]!;
    const x = [0, 1, 2].map((k) => s.frac[j]![k]! + nl.images[3 * p + k]! - s.frac[i]![k]!);
    for (let q = 0; q < 3; q++) {
      const v = x[0]! * s.lattice[0]![q]! + x[1]! * s.lattice[1]![q]! + x[2]! * s.lattice[2]![q]!;
      expect(Math.abs(nl.vectors[3 * p + q]! - v)).toBeLessThan(1e-9);
    }
    expect(nl.distances[p]!).toBeLessThan(cutoff);
    expect(Math.abs(nl.distances[p]! - Math.hypot(nl.vectors[3 * p]!, nl.vectors[3 * p + 1]!, nl.vectors[3 * p + 2]!))).toBeLessThan(1e-12);
  }
}

describe('neighbourList', () => {
  it('equals brute force on random cells', () => {
    const rnd = mulberry32(1);
    for (let t = 0; t < 15; t++) checkAgainstBrute(randomStructure(rnd, 1 + Math.floor(rnd() * 12), 2), 1 + 4 * rnd());
  });

  it('equals brute force on very skewed cells and with positions outside [0,1)', () => {
    const rnd = mulberry32(2);
    for (let t = 0; t < 15; t++) checkAgainstBrute(randomStructure(rnd, 1 + Math.floor(rnd() * 8), 40, t % 2 === 0), 2 + 4 * rnd());
  });

  it('equals brute force when the cutoff is several times the cell', () => {
    const rnd = mulberry32(3);
    for (let t = 0; t < 6; t++) checkAgainstBrute(randomStructure(rnd, 1 + Math.floor(rnd() * 3), 10, true), 8 + 4 * rnd());
  });

  it('equals brute force for a flat, needle-like cell', () => {
    const s = makeStructure({
      lattice: [[1.1, 0, 0], [37.3, 0.9, 0], [-12.2, 25.0, 30.0]],
      frac: [[0.1, 0.2, 0.3], [0.7, -0.4, 2.2], [0.5, 0.5, 0.5]],
      numbers: [1, 8, 8],
    });
    checkAgainstBrute(s, 5.5);
  });

  it('equals brute force for a left-handed cell and for a single atom with cutoff ≫ cell', () => {
    const left = makeStructure({ lattice: [[0, 3.1, 0.2], [2.9, 0, 0], [0.4, -1.1, 3.7]], frac: [[0.1, 0.9, 0.5], [0.6, 0.2, -0.3]], numbers: [8, 14] });
    expect(det3(left.lattice)).toBeLessThan(0);
    checkAgainstBrute(left, 6.5);
    const one = makeStructure({ lattice: [[1.5, 0, 0], [0.7, 1.4, 0], [0.2, 0.3, 1.6]], frac: [[0.3, -2.2, 7.9]], numbers: [1] });
    checkAgainstBrute(one, 7);
  });

  it('has the right coordination for fcc and includes self-images', () => {
    const a = 3.6;
    const s = makeStructure({ lattice: [[0, a / 2, a / 2], [a / 2, 0, a / 2], [a / 2, a / 2, 0]], frac: [[0, 0, 0]], numbers: [29] });
    const nl = neighbourList(s, a / Math.SQRT2 + 0.01);
    expect(nl.centers.length).toBe(12);
    for (const d of nl.distances) expect(d).toBeCloseTo(a / Math.SQRT2, 10);
    // strict cutoff: exactly at the nearest-neighbour distance nothing is found
    expect(neighbourList(s, a / Math.SQRT2 - 1e-9).centers.length).toBe(0);
  });

  it('is symmetric: every (i, j, o) has its (j, i, −o) partner', () => {
    const rnd = mulberry32(4);
    const s = randomStructure(rnd, 20, 6, true);
    const nl = neighbourList(s, 5);
    const set = new Set(keys(nl));
    for (let p = 0; p < nl.centers.length; p++)
      expect(set.has(`${nl.neighbours[p]} ${nl.centers[p]} ${-nl.images[3 * p]! || 0} ${-nl.images[3 * p + 1]! || 0} ${-nl.images[3 * p + 2]! || 0}`)).toBe(true);
  });

  it('scales linearly: a 2000-atom cell finishes fast and matches the count per atom of a small one', () => {
    const rnd = mulberry32(5);
    const n = 2000;
    const side = Math.cbrt(n * 20); // 20 Å³ per atom
    const s = makeStructure({
      lattice: [[side, 0, 0], [0.3 * side, side, 0], [0, 0.2 * side, side]],
      frac: Array.from({ length: n }, () => [rnd(), rnd(), rnd()]),
      numbers: Array.from({ length: n }, () => 6),
    });
    const t0 = performance.now();
    const nl = neighbourList(s, 6);
    const ms = performance.now() - t0;
    const expected = ((4 / 3) * Math.PI * 216) / 20; // mean neighbours per atom for a uniform gas
    expect(nl.centers.length / n).toBeGreaterThan(expected * 0.9);
    expect(nl.centers.length / n).toBeLessThan(expected * 1.1);
    expect(ms).toBeLessThan(5000);
  });

  it('rejects bad cutoffs and singular cells with typed errors', () => {
    const s = makeStructure({ lattice: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], frac: [[0, 0, 0]], numbers: [1] });
    expect(() => neighbourList(s, 0)).toThrow(SoftmodeInputError);
    expect(() => neighbourList(s, NaN)).toThrow(SoftmodeInputError);
    const flat = makeStructure({ lattice: [[3, 0, 0], [6, 0, 0], [0, 0, 3]], frac: [[0, 0, 0]], numbers: [1] });
    expect(() => neighbourList(flat, 2)).toThrow(SoftmodeInputError);
  });

  it('returns empty arrays for an empty structure', () => {
    const s = makeStructure({ lattice: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], frac: [], numbers: [] });
    expect(neighbourList(s, 4).centers.length).toBe(0);
  });
});
