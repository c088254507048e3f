// latticeRotations (spglib's ideal cell, ASE refine_symmetry) enumerates the integer rotations that
// keep a metric column by column; this checks it against the definition, all 3⁹ matrices with
// entries −1, 0, 1 and the same tolerance test, on lattices of every crystal family.
import { describe, expect, it } from 'vitest';
import { type Mat3, matmul3, transpose3 } from '../core/math/linalg.js';
import { latticeRotations, latticeRotationsByEnumeration } from '../core/symmetry/standardize.js';

describe('latticeRotations', () => {
  it('gives the same rotations, in the same order, as the 3⁹ enumeration', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const h = Math.sqrt(3) / 2;
    const families: Mat3[] = [
      [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
      [[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]],
      [[-0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.5, 0.5, -0.5]],
      [[1, 0, 0], [-0.5, h, 0], [0, 0, 1.6]],
      [[1, 0, 0], [0, 1, 0], [0, 0, 1.3]],
      [[1, 0, 0], [0, 1.2, 0], [0, 0, 1.5]],
      [[1, 0, 0], [0.3, 1.1, 0], [0.2, 0.1, 1.4]],
    ];
    const counts = new Set<number>();
    for (let trial = 0; trial < 140; trial++) {
      const U: Mat3 = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
      const i = Math.floor(rnd() * 3);
      const j = (i + 1 + Math.floor(rnd() * 2)) % 3;
      for (let c = 0; c < 3; c++) U[i]![c] = U[i]![c]! + (rnd() < 0.5 ? 1 : -1) * U[j]![c]!;
      const scale = 2 + 6 * rnd();
      const noise = [0, 1e-6, 1e-3, 0.02][trial % 4]!;
      const L = matmul3(U, families[trial % families.length]!).map((r) => r.map((x) => x * scale + noise * (rnd() - 0.5))) as Mat3;
      const G = matmul3(L, transpose3(L));
      const tol = 0.05 * scale * [1, 0.1, 3][trial % 3]!;
      const got = latticeRotations(G, tol);
      expect(got).toEqual(latticeRotationsByEnumeration(G, tol));
      counts.add(got.length);
    }
    // the lattices exercise many group sizes (cubic 24 down to 1)
    expect(counts.size).toBeGreaterThan(4);
    expect(Math.max(...counts)).toBe(24);
  });
});
