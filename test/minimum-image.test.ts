import { describe, expect, it } from 'vitest';
import { type Mat3, norm3, vecmat3 } from '../core/math/linalg.js';
import { mulberry32 } from '../core/math/random.js';
import { minimumImage, minimumImageDistance } from '../core/structure/minimum-image.js';

/** Nearest image among the 27 neighbours of the rounded difference (reference). */
function bruteForce(L: Mat3, d: readonly number[]): number {
  let best = Infinity;
  for (let i = -2; i <= 2; i++)
    for (let j = -2; j <= 2; j++)
      for (let k = -2; k <= 2; k++) best = Math.min(best, norm3(vecmat3([d[0]! + i, d[1]! + j, d[2]! + k], L)));
  return best;
}

describe('minimumImage', () => {
  it('rounds each fractional component, then goes to Cartesian with the lattice rows', () => {
    const L: Mat3 = [
      [2, 0, 0],
      [0, 3, 0],
      [1, 0, 4],
    ];
    const v = minimumImage(L, [0.75, -0.6, 2.1]);
    // d → (−0.25, 0.4, 0.1); c = d·L
    expect(v[0]).toBeCloseTo(-0.25 * 2 + 0.1 * 1, 14);
    expect(v[1]).toBeCloseTo(0.4 * 3, 14);
    expect(v[2]).toBeCloseTo(0.1 * 4, 14);
    expect(minimumImageDistance(L, [0.75, -0.6, 2.1])).toBe(norm3(v));
  });

  it('is the nearest image in an orthogonal cell, and never shorter than it in a skewed one', () => {
    const r = mulberry32(5);
    const ortho: Mat3 = [
      [3, 0, 0],
      [0, 4, 0],
      [0, 0, 5],
    ];
    const skew: Mat3 = [
      [3, 0, 0],
      [2.5, 3, 0],
      [-1, 1.5, 4],
    ];
    for (let n = 0; n < 500; n++) {
      const d = [4 * r() - 2, 4 * r() - 2, 4 * r() - 2];
      expect(minimumImageDistance(ortho, d)).toBeCloseTo(bruteForce(ortho, d), 12);
      expect(minimumImageDistance(skew, d)).toBeGreaterThanOrEqual(bruteForce(skew, d) - 1e-12);
    }
  });

  it('finds coincident atoms across the cell boundary', () => {
    const L: Mat3 = [
      [5, 0, 0],
      [0, 5, 0],
      [0, 0, 5],
    ];
    expect(minimumImageDistance(L, [0.9999999, -1e-7, 1])).toBeLessThan(1e-5);
  });
});
