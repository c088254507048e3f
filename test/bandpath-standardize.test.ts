// Building blocks of the HPKOT standardization: moyo's transformation semantics, the Niggli
// reduction used for triclinic cells, the setting test behind the spglib-like basis choice.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Mat3, det3, dot3, inv3, matmul3, norm3, transpose3 } from '../core/math/linalg.js';
import { hpkotCell, latticeParams, niggliReduce } from '../core/phonon/bandpath/index.js';
import { keepsSetting } from '../core/phonon/bandpath/canonical.js';
import { SoftmodeInputError } from '../core/errors.js';
import { readPoscar } from '../core/structure/io/poscar.js';
import { type Structure, makeStructure, volume } from '../core/structure/structure.js';
import { getSymmetry } from '../core/symmetry/index.js';
import { HAS_SHARED, SHARED_MISSING, sharedPath } from './helpers.js';

function rows9(a: readonly number[]): Mat3 {
  return [
    [a[0]!, a[1]!, a[2]!],
    [a[3]!, a[4]!, a[5]!],
    [a[6]!, a[7]!, a[8]!],
  ];
}

/** deterministic pseudo-random numbers (xorshift) */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

function maxAbsDiff(a: Mat3, b: Mat3): number {
  let m = 0;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) m = Math.max(m, Math.abs(a[i]![j]! - b[i]![j]!));
  return m;
}

describe('moyo standardization semantics (as read by the band-path code)', () => {
  // a rutile-like tetragonal cell given in a sheared, rotated basis
  const a = 4.6;
  const c = 2.95;
  const u = 0.305;
  const std = makeStructure({
    lattice: [
      [a, 0, 0],
      [0, a, 0],
      [0, 0, c],
    ],
    frac: [
      [0, 0, 0],
      [0.5, 0.5, 0.5],
      [u, u, 0],
      [-u, -u, 0],
      [0.5 + u, 0.5 - u, 0.5],
      [0.5 - u, 0.5 + u, 0.5],
    ],
    numbers: [22, 22, 8, 8, 8, 8],
  });
  const U: Mat3 = [
    [1, 0, 1],
    [1, 1, 0],
    [0, 0, 1],
  ];
  const th = 0.4;
  const R: Mat3 = [
    [Math.cos(th), -Math.sin(th), 0],
    [Math.sin(th), Math.cos(th), 0],
    [0, 0, 1],
  ];
  const L = matmul3(matmul3(U, std.lattice), transpose3(R));
  const input = makeStructure({ lattice: L, frac: std.frac.map((f) => [0, 1, 2].map((j) => dot3(f, transpose3(inv3(U))[j]!))), numbers: std.numbers });

  it('conv rows = std_linear · input rows; std rows = conv rows · std_rotation_matrix', () => {
    const ds = getSymmetry(input, 1e-5, 'Spglib').dataset;
    expect(ds.number).toBe(136);
    const conv = matmul3(rows9(ds.std_linear), L);
    const stdRows = rows9(ds.std_cell.lattice.basis);
    expect(maxAbsDiff(matmul3(conv, rows9(ds.std_rotation_matrix)), stdRows)).toBeLessThan(1e-9);
    // the transposed reading of std_linear (not symmetric here) would be wrong
    expect(maxAbsDiff(matmul3(transpose3(rows9(ds.std_linear)), L), conv)).toBeGreaterThan(0.1);
  });

  it('std_rotation_matrix read row by row (a case where it is not symmetric)', () => {
    const Rz: Mat3 = [
      [Math.cos(0.3), -Math.sin(0.3), 0],
      [Math.sin(0.3), Math.cos(0.3), 0],
      [0, 0, 1],
    ];
    const lat = matmul3(
      [
        [0, 5, 0],
        [0, 0, 7],
        [4, 0, 0],
      ],
      transpose3(Rz),
    );
    const p1 = makeStructure({ lattice: lat, frac: [[0, 0, 0], [0.1, 0.2, 0.3]], numbers: [1, 8] });
    const ds = getSymmetry(p1, 1e-5, 'Spglib').dataset;
    const rot = rows9(ds.std_rotation_matrix);
    expect(maxAbsDiff(rot, transpose3(rot))).toBeGreaterThan(0.1);
    const conv = matmul3(rows9(ds.std_linear), lat);
    const stdRows = rows9(ds.std_cell.lattice.basis);
    expect(maxAbsDiff(matmul3(conv, rot), stdRows)).toBeLessThan(1e-9);
    expect(maxAbsDiff(matmul3(conv, transpose3(rot)), stdRows)).toBeGreaterThan(0.1);
  });

  it('hpkotCell: tP1 cell related to the input by an integer matrix, same volume', () => {
    const cell = hpkotCell(input);
    expect(cell.extendedBravais).toBe('tP1');
    expect(cell.hasInversion).toBe(true);
    const M = cell.hpkotFromInput;
    M.flat().forEach((x) => expect(Math.abs(x - Math.round(x))).toBeLessThan(1e-9));
    expect(Math.abs(det3(M))).toBeCloseTo(1, 12);
    expect(cell.latticeParams.a).toBeCloseTo(a, 8);
    expect(cell.latticeParams.c).toBeCloseTo(c, 8);
    expect(cell.primitive.numbers.length).toBe(6);
  });

  it('invalid structures raise typed input errors', () => {
    const empty = makeStructure({ lattice: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], frac: [], numbers: [] });
    expect(() => hpkotCell(empty)).toThrow(SoftmodeInputError);
  });
});

describe('Niggli reduction (reciprocal cells of the triclinic case)', () => {
  function check(rows: Mat3, eps: number) {
    const { lattice, transform } = niggliReduce(rows, eps);
    // integer, unimodular, and reduced = T · input
    transform.flat().forEach((x) => expect(Number.isInteger(x)).toBe(true));
    expect(Math.abs(det3(transform))).toBe(1);
    expect(maxAbsDiff(matmul3(transform, rows), lattice)).toBeLessThan(1e-9);
    const A = dot3(lattice[0], lattice[0]);
    const B = dot3(lattice[1], lattice[1]);
    const C = dot3(lattice[2], lattice[2]);
    const xi = 2 * dot3(lattice[1], lattice[2]);
    const eta = 2 * dot3(lattice[0], lattice[2]);
    const zeta = 2 * dot3(lattice[0], lattice[1]);
    const tol = 1e-7 * (A + B + C);
    expect(A).toBeLessThanOrEqual(B + tol);
    expect(B).toBeLessThanOrEqual(C + tol);
    expect(Math.abs(xi)).toBeLessThanOrEqual(B + tol);
    expect(Math.abs(eta)).toBeLessThanOrEqual(A + tol);
    expect(Math.abs(zeta)).toBeLessThanOrEqual(A + tol);
    const allPositive = xi > tol && eta > tol && zeta > tol;
    const allNonPositive = xi <= tol && eta <= tol && zeta <= tol;
    expect(allPositive || allNonPositive).toBe(true);
    expect(xi + eta + zeta + A + B).toBeGreaterThanOrEqual(-tol);
    return { A, B, C, xi, eta, zeta };
  }

  it('random skewed lattices reduce to the same Niggli form from any basis', () => {
    const r = rng(12345);
    for (let n = 0; n < 40; n++) {
      const base: Mat3 = [
        [2 + 3 * r(), 0, 0],
        [3 * r() - 1.5, 2 + 3 * r(), 0],
        [3 * r() - 1.5, 3 * r() - 1.5, 2 + 3 * r()],
      ];
      // a random unimodular change of basis (product of shears)
      let U: Mat3 = [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ];
      for (let k = 0; k < 6; k++) {
        const i = Math.floor(3 * r());
        const j = (i + 1 + Math.floor(2 * r())) % 3;
        const E: Mat3 = [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ];
        E[i]![j] = r() < 0.5 ? -1 : 1;
        U = matmul3(E, U);
      }
      const skewed = matmul3(U, base);
      const g1 = check(base, 1e-8);
      const g2 = check(skewed, 1e-8);
      for (const key of ['A', 'B', 'C', 'xi', 'eta', 'zeta'] as const) expect(g2[key]).toBeCloseTo(g1[key], 7);
    }
  });
});

describe.skipIf(!HAS_SHARED)('setting-preserving basis changes', () => {
  if (!HAS_SHARED) console.warn(SHARED_MISSING);
  const read = (type: string, file: string): Structure =>
    readPoscar(readFileSync(sharedPath('data', 'reference', 'seekpath', 'band_path_data', type, file), 'utf8'))[0]!;
  const swapAB: Mat3 = [
    [0, 1, 0],
    [1, 0, 0],
    [0, 0, -1],
  ];
  const swapAC: Mat3 = [
    [0, 0, 1],
    [0, -1, 0],
    [1, 0, 0],
  ];
  const cycle: Mat3 = [
    [0, 1, 0],
    [0, 0, 1],
    [1, 0, 0],
  ];
  const identity: Mat3 = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];

  it('Fmmm keeps its setting under any axis relabelling, Imma only under a↔b, Cmcm under none', () => {
    const fmmm = read('oF3', 'POSCAR_inversion');
    const imma = read('oI3', 'POSCAR_inversion');
    const cmcm = read('oC2', 'POSCAR_inversion');
    const ops = (s: Structure) => {
      const sym = getSymmetry(s);
      return { sg: sym.number, ops: sym.operations };
    };
    const f = ops(fmmm);
    const i = ops(imma);
    const c = ops(cmcm);
    expect([f.sg, i.sg, c.sg]).toEqual([69, 74, 63]);
    for (const Q of [identity, swapAB, swapAC, cycle]) expect(keepsSetting(f.ops, Q)).toBe(true);
    expect(keepsSetting(i.ops, identity)).toBe(true);
    expect(keepsSetting(i.ops, swapAB)).toBe(true);
    expect(keepsSetting(i.ops, swapAC)).toBe(false);
    expect(keepsSetting(c.ops, identity)).toBe(true);
    expect(keepsSetting(c.ops, swapAB)).toBe(false);
    expect(keepsSetting(c.ops, cycle)).toBe(false);
  });

  it('spglib-like choices: Fmmm axes sorted, Imma a ≤ b, monoclinic β ≥ 90°', () => {
    const fmmm = hpkotCell(read('oF1', 'POSCAR_inversion'));
    expect(fmmm.extendedBravais).toBe('oF1');
    const lf = fmmm.latticeParams;
    expect(lf.a).toBeLessThan(lf.b);
    expect(lf.b).toBeLessThan(lf.c);
    const imma = hpkotCell(read('oI3', 'POSCAR_inversion'));
    expect(imma.extendedBravais).toBe('oI3');
    expect(imma.latticeParams.a).toBeLessThan(imma.latticeParams.b);
    for (const file of ['POSCAR_inversion', 'POSCAR_inversion_alternate', 'POSCAR_noinversion']) {
      const mc = hpkotCell(read('mC2', file));
      expect(mc.extendedBravais).toBe('mC2');
      expect(mc.latticeParams.cosBeta).toBeLessThanOrEqual(1e-12);
      // the chosen cell is the input's lattice: integer basis change, same b
      const s = read('mC2', file);
      const rowsIn = matmul3(mc.convFromInput, s.lattice);
      mc.convFromInput.flat().forEach((x) => expect(Math.abs(x - Math.round(x))).toBeLessThan(1e-9));
      expect(volume(s)).toBeGreaterThan(0);
      expect(latticeParams(rowsIn).b).toBeCloseTo(mc.latticeParams.b, 8);
    }
  });
});
