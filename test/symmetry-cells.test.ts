import { describe, expect, it } from 'vitest';
import { getSymmetry, primitiveCell, refineStructure, standardizeCell, symmetrizeStructure } from '../core/symmetry/index.js';
import { makeStructure, volume, type Structure } from '../core/structure/structure.js';
import { type Mat3, det3, inv3, matmul3, matvec3, transpose3 } from '../core/math/linalg.js';
import { SoftmodeInputError } from '../core/errors.js';

function rotZ(th: number): Mat3 {
  return [
    [Math.cos(th), -Math.sin(th), 0],
    [Math.sin(th), Math.cos(th), 0],
    [0, 0, 1],
  ];
}
/** rotate a lattice rigidly: rows r → R r */
function rotateLattice(L: Mat3, R: Mat3): Mat3 {
  return L.map((r) => matvec3(R, r)) as Mat3;
}

/** rutile TiO2 in a permuted, shifted, rotated setting */
function rutile(): Structure {
  const a = 4.6, c = 2.95, u = 0.305;
  const pos = [[0, 0, 0], [0.5, 0.5, 0.5], [u, u, 0], [-u, -u, 0], [0.5 + u, 0.5 - u, 0.5], [0.5 - u, 0.5 + u, 0.5]];
  return makeStructure({
    lattice: rotateLattice([[c, 0, 0], [0, a, 0], [0, 0, a]], matmul3(rotZ(0.3), [[1, 0, 0], [0, Math.cos(0.7), -Math.sin(0.7)], [0, Math.sin(0.7), Math.cos(0.7)]])),
    frac: pos.map((p) => [p[2]! + 0.1, p[0]! + 0.2, p[1]!]),
    numbers: [22, 22, 8, 8, 8, 8],
  });
}

function rocksaltConventional(a = 5.64): Structure {
  const f = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]];
  return makeStructure({
    lattice: [[a, 0, 0], [0, a, 0], [0, 0, a]],
    frac: [...f, ...f.map((p) => [p[0]! + 0.5, p[1]!, p[2]!])],
    numbers: [11, 11, 11, 11, 17, 17, 17, 17],
  });
}

function mod1dist(a: readonly number[], b: readonly number[]): number {
  return Math.max(...[0, 1, 2].map((k) => {
    const d = a[k]! - b[k]!;
    return Math.abs(d - Math.round(d));
  }));
}

function expectOperationsMapOntoItself(s: Structure, tol: number): void {
  const sym = getSymmetry(s, 1e-4);
  for (const op of sym.operations) {
    expect(Math.abs(det3(op.rotation))).toBe(1);
    s.frac.forEach((x, i) => {
      const y = matvec3(op.rotation, x);
      const img = [y[0] + op.translation[0], y[1] + op.translation[1], y[2] + op.translation[2]];
      const hit = s.frac.some((z, j) => s.numbers[j] === s.numbers[i] && mod1dist(img, z) < tol);
      expect(hit).toBe(true);
    });
  }
}

describe('getSymmetry', () => {
  it('finds P4_2/mnm for rutile in a non-standard setting, with Wyckoff letters and orbits', () => {
    const s = rutile();
    const sym = getSymmetry(s, 1e-4);
    expect(sym.number).toBe(136);
    expect(sym.operations.length).toBe(16);
    expect(sym.wyckoffs).toEqual(['a', 'a', 'f', 'f', 'f', 'f']);
    expect(sym.equivalentAtoms).toEqual([0, 0, 2, 2, 2, 2]);
  });

  it('returns operations (rows of R, column-vector action) that map the structure onto itself', () => {
    expectOperationsMapOntoItself(rutile(), 1e-6);
    expectOperationsMapOntoItself(rocksaltConventional(), 1e-6);
    // a monoclinic-ish cell with a general oblique lattice
    const s = makeStructure({
      lattice: [[5, 0, 0], [0, 6, 0], [-1.3, 0, 7]],
      frac: [[0.1, 0.2, 0.3], [-0.1, 0.7, -0.3], [-0.1, -0.2, -0.3], [0.1, 0.3, 0.3]],
      numbers: [6, 6, 6, 6],
    });
    expectOperationsMapOntoItself(s, 1e-6);
  });

  it('turns bad input into typed errors instead of wasm panics', () => {
    const good = rocksaltConventional();
    expect(() => getSymmetry(makeStructure({ lattice: good.lattice, frac: [], numbers: [] }))).toThrow(SoftmodeInputError);
    const nan = { ...good, frac: good.frac.map((p, i) => (i === 0 ? [NaN, 0, 0] : p)) } as Structure;
    expect(() => getSymmetry(nan)).toThrow(SoftmodeInputError);
    const short = { ...good, numbers: good.numbers.slice(1) } as Structure;
    // positions and numbers of different lengths: a malformed object made in code (a bug), not a bad structure
    expect(() => getSymmetry(short)).toThrow(RangeError);
    const flat = { ...good, lattice: [[1, 0, 0], [2, 0, 0], [0, 0, 1]] } as unknown as Structure;
    expect(() => getSymmetry(flat)).toThrow(SoftmodeInputError);
    expect(() => getSymmetry(good, -1)).toThrow(SoftmodeInputError);
  });
});

describe('standardizeCell / primitiveCell', () => {
  it('std lattice = linearᵀ · L · rotationᵀ and positions = linear⁻¹(x − shift), rotation orthogonal', () => {
    for (const s of [rutile(), rocksaltConventional()]) {
      const { structure: std, transformation: t, mapping } = standardizeCell(s, 1e-4);
      const QQt = matmul3(t.rotation, transpose3(t.rotation));
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(QQt[i]![j]).toBeCloseTo(i === j ? 1 : 0, 10);
      const Lp = matmul3(matmul3(transpose3(t.linear), s.lattice), transpose3(t.rotation));
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(std.lattice[i]![j]).toBeCloseTo(Lp[i]![j]!, 6);
      const Pinv = inv3(t.linear);
      s.frac.forEach((x, i) => {
        const y = matvec3(Pinv, [x[0]! - t.originShift[0], x[1]! - t.originShift[1], x[2]! - t.originShift[2]]);
        expect(mod1dist(y, std.frac[mapping[i]!]!)).toBeLessThan(1e-6);
        expect(std.numbers[mapping[i]!]).toBe(s.numbers[i]);
      });
    }
  });

  it('rutile standardizes to the a=b=4.6, c=2.95 tetragonal cell in standard orientation', () => {
    const { structure: std } = standardizeCell(rutile(), 1e-4);
    expect(std.lattice[0]![0]).toBeCloseTo(4.6, 8);
    expect(std.lattice[1]![1]).toBeCloseTo(4.6, 8);
    expect(std.lattice[2]![2]).toBeCloseTo(2.95, 8);
    expect(std.numbers.length).toBe(6);
  });

  it('primitive cell of conventional rocksalt has 2 atoms and a quarter of the volume; idealize=false keeps orientation', () => {
    const s = rocksaltConventional();
    const p = primitiveCell(s, 1e-4);
    expect(p.structure.numbers.length).toBe(2);
    expect(volume(p.structure)).toBeCloseTo(volume(s) / 4, 8);
    expect(new Set(p.mapping).size).toBe(2);
    // rotate the input: non-idealized primitive lattice must be the rotated input lattice re-expressed
    const R = rotZ(0.4);
    const sr = makeStructure({ lattice: rotateLattice(s.lattice as Mat3, R), frac: s.frac, numbers: s.numbers });
    const q = primitiveCell(sr, 1e-4, { idealize: false });
    const expected = matmul3(transpose3(q.transformation.linear), sr.lattice);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(q.structure.lattice[i]![j]).toBeCloseTo(expected[i]![j]!, 10);
    expect(volume(q.structure)).toBeCloseTo(volume(s) / 4, 8);
  });

  it('rhombohedral primitive cell standardizes to the hexagonal triple cell (spglib setting)', () => {
    // α-Al2O3-like rhombohedral lattice with a single-species toy basis on a 3-fold axis
    const aR = 5.13, alpha = (55.3 * Math.PI) / 180;
    const ca = Math.cos(alpha);
    const L: Mat3 = [
      [aR, 0, 0],
      [aR * ca, aR * Math.sin(alpha), 0],
      [aR * ca, (aR * (ca - ca * ca)) / Math.sin(alpha), 0],
    ];
    L[2]![2] = Math.sqrt(aR * aR - L[2]![0]! ** 2 - L[2]![1]! ** 2);
    const s = makeStructure({ lattice: L, frac: [[0, 0, 0], [0.35, 0.35, 0.35], [0.65, 0.65, 0.65]], numbers: [13, 8, 8] });
    const sym = getSymmetry(s, 1e-4);
    expect(sym.number).toBe(166);
    const { structure: std } = standardizeCell(s, 1e-4);
    expect(std.numbers.length).toBe(9);
    expect(volume(std)).toBeCloseTo(3 * volume(s), 6);
    // hexagonal axes: a = b, γ = 120°
    const a = Math.hypot(...std.lattice[0]!), b = Math.hypot(...std.lattice[1]!);
    expect(a).toBeCloseTo(b, 8);
    const cosg = (std.lattice[0]![0]! * std.lattice[1]![0]! + std.lattice[0]![1]! * std.lattice[1]![1]! + std.lattice[0]![2]! * std.lattice[1]![2]!) / (a * b);
    expect(cosg).toBeCloseTo(-0.5, 8);
  });

  it('refineStructure and symmetrizeStructure remove noise below symprec', () => {
    const s0 = rocksaltConventional();
    let seed = 3;
    const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 2;
    const noisy = makeStructure({
      lattice: s0.lattice.map((r) => r.map((x) => x + 0.002 * rnd())),
      frac: s0.frac.map((p) => p.map((x) => x + 0.0005 * rnd())),
      numbers: s0.numbers,
    });
    expect(getSymmetry(noisy, 1e-5).number).not.toBe(225);
    const refined = refineStructure(noisy, 0.02);
    expect(getSymmetry(refined, 1e-8).number).toBe(225);
    const sym = symmetrizeStructure(noisy, 0.02);
    expect(sym.numbers).toEqual(noisy.numbers);
    expect(getSymmetry(sym, 1e-8).number).toBe(225);
    // atoms stay where they were, within the noise
    sym.frac.forEach((x, i) => {
      for (let k = 0; k < 3; k++) expect(Math.abs(x[k]! - noisy.frac[i]![k]!)).toBeLessThan(0.003);
    });
    expect(Math.abs(det3(sym.lattice) - det3(noisy.lattice)) / det3(noisy.lattice)).toBeLessThan(0.005);
  });
});
