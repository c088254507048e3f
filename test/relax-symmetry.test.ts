import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Mat3, inv3, matmul3, transpose3 } from '../core/math/linalg.js';
import { PairPotential } from '../core/potential/pair.js';
import {
  CellStepTooLargeError,
  adjustCell,
  cartOf,
  fracOf,
  prepareSymmetry,
  refineGeometry,
  symmetrizeTensor,
  symmetrizeVectors,
} from '../core/relax/fix-symmetry.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';
import { getSymmetry } from '../core/symmetry/index.js';
import { REPO_ROOT } from './helpers.js';
import { prng, rattle, rockSalt, wurtzite } from './relax-fixtures.js';

function refined(s: Structure) {
  const L = s.lattice.map((r) => [...r]) as Mat3;
  const g = refineGeometry(L, cartOf(L, s.frac as [number, number, number][]), s.numbers, 0.01);
  return g;
}

/** Cartesian rotation of operation R: W = Lᵀ R L⁻ᵀ (acting on Cartesian columns). */
function cartesianRotation(L: Mat3, R: Mat3): Mat3 {
  return matmul3(matmul3(transpose3(L), R), transpose3(inv3(L)));
}

const structures: [string, Structure, number][] = [
  ['rock salt (Fm-3m, conventional cell)', rattle(rockSalt(5.6), 21, 0.004, 0.0004), 225],
  ['wurtzite (P6_3mc)', rattle(wurtzite(3.25, 5.21, 0.38), 22, 0.004, 0.0004), 186],
];

describe('FixSymmetry', () => {
  for (const [name, s, sg] of structures) {
    describe(name, () => {
      const g = refined(s);
      const c = prepareSymmetry(g.lattice, g.cart, s.numbers, 0.01);
      const n = s.numbers.length;

      it('refinement gives the exact group (found again at symprec 1e-8)', () => {
        expect(g.spaceGroupNumber).toBe(sg);
        const tight = getSymmetry(makeStructure({ lattice: g.lattice, frac: fracOf(g.lattice, g.cart), numbers: s.numbers }), 1e-8);
        expect(tight.number).toBe(sg);
        expect(tight.operations.length).toBe(c.rotations.length);
        // and moved atoms by less than symprec
        const before = cartOf(s.lattice as Mat3, s.frac as [number, number, number][]);
        for (let i = 0; i < before.length; i++) expect(Math.abs(before[i]! - g.cart[i]!)).toBeLessThan(0.05);
      });

      it('symmetrized forces are invariant under every operation', () => {
        const r = prng(99);
        const raw = Float64Array.from({ length: 3 * n }, () => r());
        const f = symmetrizeVectors(g.lattice, raw, c);
        let worst = 0;
        c.rotations.forEach((R, k) => {
          const W = cartesianRotation(g.lattice, R);
          const map = c.maps[k]!;
          for (let i = 0; i < n; i++) {
            const j = map[i]!;
            for (let a = 0; a < 3; a++) {
              const rotated = W[a]![0]! * f[3 * i]! + W[a]![1]! * f[3 * i + 1]! + W[a]![2]! * f[3 * i + 2]!;
              worst = Math.max(worst, Math.abs(rotated - f[3 * j + a]!));
            }
          }
        });
        expect(worst).toBeLessThan(1e-12);
        // a projection: symmetrizing again changes nothing
        const again = symmetrizeVectors(g.lattice, f, c);
        for (let i = 0; i < f.length; i++) expect(Math.abs(again[i]! - f[i]!)).toBeLessThan(1e-12);
        // and it did change the random field
        expect(Math.max(...Array.from(raw, (x, i) => Math.abs(x - f[i]!)))).toBeGreaterThan(1e-3);
      });

      it('symmetrized stress is invariant under every operation', () => {
        const r = prng(7);
        const raw: Mat3 = [
          [r(), r(), r()],
          [r(), r(), r()],
          [r(), r(), r()],
        ];
        const sym = symmetrizeTensor(g.lattice, raw, c.rotations);
        for (const R of c.rotations) {
          const W = cartesianRotation(g.lattice, R);
          const t = matmul3(matmul3(W, sym), transpose3(W));
          for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) expect(Math.abs(t[a]![b]! - sym[a]![b]!)).toBeLessThan(1e-12);
        }
      });

      it('forces of a symmetric structure are already symmetric (symmetrization is a no-op on them)', () => {
        const pot = new PairPotential();
        const res = pot.evaluateOne(makeStructure({ lattice: g.lattice, frac: fracOf(g.lattice, g.cart), numbers: s.numbers }));
        const raw = Float64Array.from(res.forces.flat());
        const f = symmetrizeVectors(g.lattice, raw, c);
        for (let i = 0; i < f.length; i++) expect(Math.abs(f[i]! - raw[i]!)).toBeLessThan(1e-9);
      });
    });
  }

  it('refinement reproduces spglib/ASE exact positions (P-1: origin kept when the centre is within symprec of it)', () => {
    // two A atoms related by an inversion centre up to 0.003 Å noise, one B near the centre at
    // (1/2, 1/2, 1/2): spglib first tries the identity as the only generator (origin unchanged)
    // and keeps it because the inversion then still matches within symprec, so B lands exactly
    // on (1/2, 1/2, 1/2) and A's partner is A's exact image (values from ASE 3.23 + spglib 2.8)
    const L: Mat3 = [
      [5.1, 0.2, 0.1],
      [0.3, 5.6, -0.2],
      [0.1, 0.4, 6.2],
    ];
    const frac: [number, number, number][] = [
      [0.1, 0.2, 0.3],
      [0.9 - 0.0004, 0.8 + 0.0003, 0.7 + 0.0002],
      [0.5 + 0.0002, 0.5 - 0.0001, 0.5 + 0.0003],
    ];
    const numbers = [8, 8, 12];
    const g = refineGeometry(L, cartOf(L, frac), numbers, 0.01);
    expect(g.spaceGroupNumber).toBe(2);
    const x = fracOf(g.lattice, g.cart);
    const ase = [
      [0.1, 0.2, 0.3],
      [0.9, 0.8, 0.7],
      [0.5, 0.5, 0.5],
    ];
    for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) expect(x[i]![k]!).toBeCloseTo(ase[i]![k]!, 14);
  });

  it('refuses a cell step with max |ΔF| > 0.25 and symmetrizes smaller ones', () => {
    const s = rockSalt(5.6);
    const L = s.lattice.map((r) => [...r]) as Mat3;
    const c = prepareSymmetry(L, cartOf(L, s.frac as [number, number, number][]), s.numbers, 0.01);
    const big: Mat3 = [
      [5.6 * 1.3, 0, 0],
      [0, 5.6, 0],
      [0, 0, 5.6],
    ];
    expect(() => adjustCell(L, big, c, 0.25)).toThrow(CellStepTooLargeError);
    const small: Mat3 = [
      [5.6 * 1.03, 0, 0],
      [0, 5.6, 0],
      [0, 0, 5.6],
    ];
    const adj = adjustCell(L, small, c, 0.25);
    // cubic symmetry: the 3 % stretch of a is spread over a, b, c as 1 %
    for (let i = 0; i < 3; i++) expect(adj[i]![i]!).toBeCloseTo(5.6 * 1.01, 12);
  });
});

// ASE 3.23 refine_symmetry (spglib 2.8) on perturbed centred structures (C, A, I, F, R lattices),
// each as its conventional cell and as a primitive cell, on perturbed triclinic and monoclinic
// structures with their origin moved at random, on the near-C2/m geometry CsTe2Pd relaxes to,
// and on two hand-made P-1 cells; produced by tools/reference/refine_symmetry_fixture.py.
interface RefineCase {
  name: string;
  spaceGroup: number;
  lattice: Mat3;
  frac: [number, number, number][];
  numbers: number[];
  aseLattice: Mat3;
  aseFrac: [number, number, number][];
}
const refineFixture = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'refine-symmetry-ase.json'), 'utf8')) as { cases: RefineCase[] };

// Known, measured deviations from ASE (everything else must agree to 1e-10 Å in positions and
// 1e-12 Å in the cell):
//  - orthorhombic and higher groups: spglib fits the origin from up to three Hall generators
//    through its tabulated generalized inverses; we reproduce that (generatorOrigin) only for
//    triclinic and monoclinic groups and fit the others by least squares over all operations.
//    Equal when the translations are consistent, else the positions differ slightly (Gd3S,
//    IrOs4W, ReIrOs2).
//  - the conventional basis spglib starts from is not always the one we pick for tetragonal
//    cells given as a primitive cell; then the cell is the same up to a rigid rotation (FeIrOsRh).
const KNOWN: Record<string, { positionsA?: number; rotatedCell?: boolean }> = {
  'Gd3S_symmetrized.cif (conventional)': { positionsA: 1e-2 },
  'IrOs4W_symmetrized.cif (primitive)': { positionsA: 1e-6 },
  'ReIrOs2_symmetrized.cif (primitive)': { positionsA: 1e-6 },
  'FeIrOsRh_symmetrized.cif (primitive)': { rotatedCell: true },
};

describe('refinement reproduces ASE refine_symmetry (spglib) for centred groups', () => {
  it('fixture covers C/A, I, F and R centrings, conventional and primitive cells', () => {
    const letters = new Set(refineFixture.cases.map((c) => c.spaceGroup));
    expect(refineFixture.cases.length).toBeGreaterThanOrEqual(30);
    for (const n of [1, 2, 12]) expect(letters.has(n)).toBe(true);
    expect([...letters].some((n) => n === 225)).toBe(true);
    expect([...letters].some((n) => n === 166 || n === 160)).toBe(true);
  });
  for (const c of refineFixture.cases) {
    it(c.name, () => {
      const g = refineGeometry(c.lattice, cartOf(c.lattice, c.frac), c.numbers, 0.01);
      expect(g.spaceGroupNumber).toBe(c.spaceGroup);
      const known = KNOWN[c.name] ?? {};
      let dLattice = 0;
      let dMetric = 0;
      const G = matmul3(g.lattice, transpose3(g.lattice));
      const Ga = matmul3(c.aseLattice, transpose3(c.aseLattice));
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++) {
          dLattice = Math.max(dLattice, Math.abs(g.lattice[i]![j]! - c.aseLattice[i]![j]!));
          dMetric = Math.max(dMetric, Math.abs(G[i]![j]! - Ga[i]![j]!));
        }
      expect(dMetric).toBeLessThan(1e-11);
      if (!known.rotatedCell) expect(dLattice).toBeLessThan(1e-12);
      // positions: fractional differences modulo lattice vectors, measured in Å on ASE's cell
      // (so a rigidly rotated cell does not count)
      const x = fracOf(g.lattice, g.cart);
      let dA = 0;
      x.forEach((v, i) => {
        const d = v.map((q, k) => {
          const e = q - c.aseFrac[i]![k]!;
          return e - Math.round(e);
        });
        const cart = [0, 1, 2].map((k) => d[0]! * c.aseLattice[0]![k]! + d[1]! * c.aseLattice[1]![k]! + d[2]! * c.aseLattice[2]![k]!);
        dA = Math.max(dA, Math.hypot(cart[0]!, cart[1]!, cart[2]!));
      });
      expect(dA).toBeLessThan(known.positionsA ?? 1e-10);
    });
  }
});
