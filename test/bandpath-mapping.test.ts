// The mapped band path must describe the same Cartesian q-points whatever cell the caller
// diagonalizes in: rotated, non-reduced, supercell, atoms shuffled. Also the sampling rules and
// PhononBench's verbatim-coordinates quirk.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Mat3, type Vec3, det3, inv3, matmul3, norm3, sub3, transpose3, vecmat3 } from '../core/math/linalg.js';
import {
  bandPath,
  reciprocalRows,
  rintHalfEven,
  sampleSegment,
  segmentPointCounts,
} from '../core/phonon/bandpath/index.js';
import { SoftmodeInputError } from '../core/errors.js';
import { readPoscar } from '../core/structure/io/poscar.js';
import { type Structure, makeStructure } from '../core/structure/structure.js';
import { getSymmetry } from '../core/symmetry/index.js';
import { HAS_SHARED, SHARED_MISSING, sharedPath } from './helpers.js';

function rotation(axis: Vec3, angle: number): Mat3 {
  const n = norm3(axis);
  const [x, y, z] = [axis[0] / n, axis[1] / n, axis[2] / n];
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const t = 1 - c;
  return [
    [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
    [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
    [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
  ];
}

/**
 * The same crystal in another cell: lattice rows U·L, rotated by R (cart' = R·cart), origin moved
 * by `shift` (fractional of the new cell), atoms in reverse order.
 */
function transformCell(s: Structure, U: Mat3, R: Mat3, shift: Vec3 = [0, 0, 0]): Structure {
  const newLattice = matmul3(matmul3(U, s.lattice), transpose3(R));
  const Uinv = inv3(U);
  const det = Math.round(Math.abs(det3(U)));
  // a supercell (|det U| > 1) needs the lattice translations inside the new cell
  const frac: Vec3[] = [];
  const numbers: number[] = [];
  const range = det > 1 ? [-2, -1, 0, 1, 2] : [0];
  const seen = new Set<string>();
  for (let a = s.frac.length - 1; a >= 0; a--)
    for (const i of range)
      for (const j of range)
        for (const k of range) {
          const f0 = s.frac[a]!;
          const f = vecmat3([f0[0] + i, f0[1] + j, f0[2] + k], Uinv).map((x, d) => x + shift[d]!) as Vec3;
          const w = f.map((x) => x - Math.floor(x + 1e-9)) as Vec3;
          const key = w.map((x) => x.toFixed(6)).join(',');
          if (seen.has(key)) continue;
          seen.add(key);
          frac.push(w);
          numbers.push(s.numbers[a]!);
        }
  const out = makeStructure({ lattice: newLattice, frac, numbers });
  expect(out.numbers.length).toBe(s.numbers.length * det);
  return out;
}

function cartesianPoints(s: Structure, points: Record<string, Vec3>): Record<string, Vec3> {
  const B = reciprocalRows(s.lattice as Mat3);
  return Object.fromEntries(Object.entries(points).map(([k, f]) => [k, vecmat3(f, B)]));
}

const UNIMODULAR: Mat3 = [
  [1, 1, 0],
  [0, 1, 0],
  [1, 0, 1],
];
const SWAP: Mat3 = [
  [0, 1, 0],
  [1, 0, 0],
  [0, 0, -1],
];
const R1 = rotation([0.3, -0.5, 0.8], 0.7);

function poscar(type: string, file: string): Structure {
  const path = sharedPath('data', 'reference', 'seekpath', 'band_path_data', type, file);
  return readPoscar(readFileSync(path, 'utf8'), `${type}/${file}`)[0]!;
}

describe.skipIf(!HAS_SHARED)('band path on rotated and non-standard cells', () => {
  if (!HAS_SHARED) console.warn(SHARED_MISSING);
  const cases: [string, string][] = [
    ['mC1', 'POSCAR_inversion'],
    ['mC3', 'POSCAR_inversion'],
    ['mP1', 'POSCAR_noinversion'],
    ['oA2', 'POSCAR_noinversion'],
    ['oC1', 'POSCAR_noinversion'],
    ['oF3', 'POSCAR_inversion'],
    ['oI1', 'POSCAR_inversion'],
    ['tI2', 'POSCAR_inversion'],
    ['aP2', 'POSCAR_inversion'],
    ['aP3', 'POSCAR_noinversion'],
    ['hR1', 'POSCAR_inversion'],
    ['hP1', 'POSCAR_inversion'],
    ['cF1', 'POSCAR_inversion'],
    ['cF2', 'POSCAR_inversion'],
  ];
  const identity: Mat3 = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];

  /** Does R·g·k(original) equal k(transformed) for every special point, for some g? */
  function matches(s: Structure, ref: Record<string, Vec3>, t: Structure, got: Record<string, Vec3>, R: Mat3, gs: Mat3[]): boolean {
    const a = cartesianPoints(s, ref);
    const b = cartesianPoints(t, got);
    const B = reciprocalRows(s.lattice as Mat3);
    const Binv = inv3(B);
    return gs.some((g) =>
      Object.keys(a).every((label) => {
        // g acts on the reciprocal fractional coordinates of the original cell (rows: k·g)
        const kg = vecmat3(vecmat3(vecmat3(a[label]!, Binv), g), B);
        return norm3(sub3(vecmat3(kg, transpose3(R)), b[label]!)) < 1e-8;
      }),
    );
  }

  it.each(cases)('%s %s: rotated, shifted, atoms reordered → the same Cartesian q-points', (type, file) => {
    const s = poscar(type, file);
    const ref = bandPath(s);
    for (const R of [R1, rotation([1, 1, 0], 2.1), rotation([0, 0, 1], Math.PI / 2)]) {
      const t = transformCell(s, identity, R, [0.13, -0.07, 0.21]);
      const bp = bandPath(t);
      expect(bp.extendedBravais).toBe(type);
      expect(bp.path).toEqual(ref.path);
      for (const [label, k] of Object.entries(ref.pointsHpkot))
        k.forEach((x, i) => expect(bp.pointsHpkot[label]![i], label).toBeCloseTo(x, 9));
      expect(matches(s, ref.points, t, bp.points, R, [identity])).toBe(true);
    }
  });

  // Groups whose Laue class is smaller than the holohedry of their lattice *and* whose setting is
  // kept by the missing operations (m-3 in a cubic lattice, −3 / −31m in a hexagonal one, ...):
  // there the conventional basis is fixed only up to those operations, by spglib as by us, and
  // which one is taken depends on the starting basis (we take the one closest to the input).
  const holohedryOnly = new Set(['cF1', 'hP1']);

  it.each(cases)('%s %s: non-standard basis → the same q-points up to the crystal Laue group', (type, file) => {
    // From another basis the standardization may pick a conventional cell related to the first one
    // by a lattice symmetry; the path is then the same up to an operation of the crystal's point
    // group (with time reversal), which leaves every phonon frequency unchanged.
    const s = poscar(type, file);
    const ref = bandPath(s);
    const groupOf = (x: Structure) =>
      getSymmetry(x).operations.flatMap((op) => [op.rotation, op.rotation.map((r) => r.map((v) => -v)) as Mat3]);
    const laue = holohedryOnly.has(type)
      ? groupOf(makeStructure({ lattice: s.lattice, frac: [[0, 0, 0]], numbers: [1] }))
      : groupOf(s);
    for (const [U, R] of [
      [UNIMODULAR, R1],
      [SWAP, rotation([1, 1, 0], 2.1)],
    ] as const) {
      const t = transformCell(s, U, R, [0.13, -0.07, 0.21]);
      const bp = bandPath(t);
      expect(bp.extendedBravais).toBe(type);
      expect(bp.spaceGroup).toBe(ref.spaceGroup);
      expect(bp.path).toEqual(ref.path);
      expect(matches(s, ref.points, t, bp.points, R, laue)).toBe(true);
    }
  });

  it('the Laue-group comparison is not vacuous: a wrong mapping fails it', () => {
    const s = poscar('oA2', 'POSCAR_noinversion');
    const ref = bandPath(s);
    const laue = getSymmetry(s).operations.map((op) => op.rotation);
    const verbatim = bandPath(s, { phononbenchCompat: true });
    expect(matches(s, ref.points, s, verbatim.points, identity, laue)).toBe(false);
  });

  it('a 2×1×1 supercell input gives the primitive path in the supercell basis', () => {
    const s = poscar('tI2', 'POSCAR_inversion');
    const ref = bandPath(s);
    const sc = transformCell(s, [
      [2, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ], [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    const bp = bandPath(sc);
    expect(bp.inputCellsPerPrimitive).toBeCloseTo(2 * ref.inputCellsPerPrimitive, 10);
    const a = cartesianPoints(s, ref.points);
    const b = cartesianPoints(sc, bp.points);
    for (const label of Object.keys(a)) expect(norm3(sub3(a[label]!, b[label]!))).toBeLessThan(1e-9);
  });

  it('phononbench-compat uses the HPKOT coordinates verbatim as input-cell coordinates', () => {
    // bcc conventional cell: verbatim coordinates are wrong for it, mapped ones are right
    const a = 3.3;
    const conv = makeStructure({ lattice: [[a, 0, 0], [0, a, 0], [0, 0, a]], frac: [[0, 0, 0], [0.5, 0.5, 0.5]], numbers: [41, 41] });
    const good = bandPath(conv);
    const quirk = bandPath(conv, { phononbenchCompat: true });
    expect(good.qpointsBasis).toBe('input');
    expect(quirk.qpointsBasis).toBe('hpkot-primitive');
    expect(quirk.extendedBravais).toBe('cI1');
    expect(quirk.points).toEqual(quirk.pointsHpkot);
    expect(quirk.points.H).toEqual([0.5, -0.5, 0.5]);
    // H of bcc is (0,0,1)·2π/a: in the conventional reciprocal basis that is (0,0,1) up to symmetry
    const H = good.points.H!;
    expect(Math.max(...H.map(Math.abs))).toBeCloseTo(1, 10);
    expect(H.map(Math.abs).sort()).toEqual([0, 0, 1].map((x) => expect.closeTo(x, 10)));
    expect(quirk.segments[0]!.qpoints.at(-1)).toEqual([0.5, -0.5, 0.5]);
    // on the HPKOT primitive cell itself the two modes agree (the mapping is the identity)
    const prim = bandPath(good.hpkotPrimitive);
    const primQuirk = bandPath(good.hpkotPrimitive, { phononbenchCompat: true });
    prim.hpkotFromInput.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(i === j ? 1 : 0, 12)));
    for (const [label, k] of Object.entries(primQuirk.points))
      for (let i = 0; i < 3; i++) expect(prim.points[label]![i]).toBeCloseTo(k[i]!, 10);
  });
});

describe('sampling', () => {
  it('rounds half to even like numpy.rint', () => {
    expect([0.5, 1.5, 2.5, 50.5, 51.5, 2.4999, 2.5001].map((x) => rintHalfEven(x))).toEqual([0, 2, 2, 50, 52, 2, 3]);
    expect(rintHalfEven(50.5000000001)).toBe(51);
    expect(rintHalfEven(50.5000000001, 1e-9)).toBe(50);
  });

  it('101 points on the longest segment, n = max(2, rint(101·ℓ/ℓmax)), end points included', () => {
    const B: Mat3 = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const segs: [Vec3, Vec3][] = [
      [[0, 0, 0], [0.5, 0, 0]],
      [[0.5, 0, 0], [0.5, 0.25, 0]],
      [[0, 0, 0], [0, 0, 0.001]],
      [[0, 0, 0], [0.3, 0.4, 0]],
    ];
    // lengths 0.5, 0.25, 0.001, 0.5 → 101, rint(50.5) = 50, max(2, 0) = 2, 101
    expect(segmentPointCounts(segs, B, 101)).toEqual([101, 50, 2, 101]);
    const q = sampleSegment([0, 0, 0], [0.5, 0, 0.25], 5);
    expect(q).toEqual([
      [0, 0, 0],
      [0.125, 0, 0.0625],
      [0.25, 0, 0.125],
      [0.375, 0, 0.1875],
      [0.5, 0, 0.25],
    ]);
  });

  it('segments of a real path: longest has the requested count, ends are the special points', () => {
    const a = 5.43;
    const si = makeStructure({
      lattice: [[0, a / 2, a / 2], [a / 2, 0, a / 2], [a / 2, a / 2, 0]],
      frac: [[0, 0, 0], [0.25, 0.25, 0.25]],
      numbers: [14, 14],
    });
    const bp = bandPath(si, { pointsOnLongestSegment: 51 });
    expect(bp.extendedBravais).toBe('cF2');
    expect(bp.spaceGroup).toBe(227);
    const counts = bp.segments.map((s) => s.qpoints.length);
    expect(Math.max(...counts)).toBe(51);
    for (const seg of bp.segments) {
      expect(seg.qpoints[0]).toEqual(bp.points[seg.labels[0]]);
      const last = seg.qpoints.at(-1)!;
      bp.points[seg.labels[1]]!.forEach((x, i) => expect(last[i]).toBeCloseTo(x, 14));
    }
    // in units of 2π/a: |KΓ| = 3√2/4 is the longest, |ΓX| = 1, |XU| = √2/4, |ΓL| = √3/2,
    // |LW| = √2/2, |WX| = 1/2
    expect(bp.segments.map((s) => s.labels.join('-'))).toEqual(['GAMMA-X', 'X-U', 'K-GAMMA', 'GAMMA-L', 'L-W', 'W-X']);
    const L = [1, Math.SQRT2 / 4, (3 * Math.SQRT2) / 4, Math.sqrt(3) / 2, Math.SQRT2 / 2, 0.5];
    const Lmax = Math.max(...L);
    expect(counts).toEqual(L.map((l) => Math.max(2, Math.round((51 * l) / Lmax))));
  });

  it('without time reversal a non-centrosymmetric crystal gets the −k path as well', () => {
    const a = 5.65;
    const gaas = makeStructure({
      lattice: [[0, a / 2, a / 2], [a / 2, 0, a / 2], [a / 2, a / 2, 0]],
      frac: [[0, 0, 0], [0.25, 0.25, 0.25]],
      numbers: [31, 33],
    });
    const withTR = bandPath(gaas);
    const noTR = bandPath(gaas, { withTimeReversal: false });
    expect(withTR.hasInversion).toBe(false);
    expect(withTR.augmentedPath).toBe(false);
    expect(noTR.augmentedPath).toBe(true);
    expect(noTR.path.length).toBe(2 * withTR.path.length);
    expect(noTR.pointsHpkot["X'"]).toEqual(withTR.pointsHpkot.X!.map((x) => -x));
  });

  it('rejects bad options with a typed input error', () => {
    const s = makeStructure({ lattice: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], frac: [[0, 0, 0]], numbers: [29] });
    expect(() => bandPath(s, { pointsOnLongestSegment: 1 })).toThrow(SoftmodeInputError);
    expect(() => bandPath(s, { pointsOnLongestSegment: 10.5 })).toThrow(/integer/);
    expect(() => bandPath(s, { symprec: -1 })).toThrow(SoftmodeInputError);
  });
});
