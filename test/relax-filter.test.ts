// Fréchet cell filter: generalized forces are −∂H/∂x of the enthalpy H = E + pV as a function
// of the generalized coordinates x (positions in the reference cell, κ·logm F), checked by
// central differences on a cell that is already deformed (F ≠ I, not symmetric).
import { describe, expect, it } from 'vitest';
import { PairPotential } from '../core/potential/pair.js';
import { type Evaluation, type Frame, FrechetCellFilter } from '../core/relax/filters.js';
import { cartOf, fracOf } from '../core/relax/fix-symmetry.js';
import type { Mat3 } from '../core/math/linalg.js';
import { det3 } from '../core/math/linalg.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';
import { rattle, rockSalt, wurtzite } from './relax-fixtures.js';

function evaluate(pot: PairPotential, frame: Frame, numbers: readonly number[]): Evaluation {
  const s = makeStructure({ lattice: frame.lattice, frac: fracOf(frame.lattice, frame.cart), numbers });
  const r = pot.evaluateOne(s);
  return { energy: r.energy, forces: Float64Array.from(r.forces.flat()), stress: r.stress };
}

function frameOf(s: Structure): Frame {
  return { lattice: s.lattice.map((r) => [...r]) as Mat3, cart: cartOf(s.lattice as Mat3, s.frac as [number, number, number][]) };
}

describe('FrechetCellFilter', () => {
  const cases = [
    { name: 'rock salt, no pressure', s: rattle(rockSalt(5.5), 3, 0.1, 0.02), pressure: 0, mask: null },
    { name: 'wurtzite, 0.01 eV/Å³', s: rattle(wurtzite(3.2, 5.3), 9, 0.08, 0.02), pressure: 0.01, mask: null },
  ];
  for (const c of cases) {
    it(`cell and atom forces equal finite differences of the enthalpy to 1e-6: ${c.name}`, () => {
      const pot = new PairPotential('lennard-jones');
      const numbers = c.s.numbers;
      // reference cell: the input; current frame: a further general (non-symmetric) deformation
      const ref = frameOf(c.s);
      const filter = new FrechetCellFilter({
        constraint: null,
        maxCellStep: 0.25,
        origLattice: ref.lattice,
        expCellFactor: numbers.length,
        pressure: c.pressure,
        mask: c.mask,
      });
      const x0 = filter.positions(ref);
      const n = numbers.length;
      const u = [0.03, -0.02, 0.015, 0.01, -0.025, 0.02, -0.01, 0.005, 0.04];
      for (let i = 0; i < 9; i++) x0[3 * n + i] = x0[3 * n + i]! + n * u[i]!;
      const frame = filter.setPositions(ref, x0);
      const enthalpy = (x: Float64Array) => {
        const f = filter.setPositions(frame, x);
        return evaluate(pot, f, numbers).energy + c.pressure * Math.abs(det3(f.lattice));
      };
      const x = filter.positions(frame);
      for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - x0[i]!)).toBeLessThan(1e-10); // get ∘ set = id
      const gf = filter.forces(frame, evaluate(pot, frame, numbers));
      const h = 1e-4;
      let worstCell = 0;
      let worstAtom = 0;
      let cellScale = 0;
      for (let i = 0; i < x.length; i++) {
        const xp = Float64Array.from(x);
        const xm = Float64Array.from(x);
        xp[i] = xp[i]! + h;
        xm[i] = xm[i]! - h;
        const fd = -(enthalpy(xp) - enthalpy(xm)) / (2 * h);
        const d = Math.abs(fd - gf[i]!);
        if (i >= 3 * n) {
          worstCell = Math.max(worstCell, d);
          cellScale = Math.max(cellScale, Math.abs(fd));
        } else worstAtom = Math.max(worstAtom, d);
      }
      expect(cellScale).toBeGreaterThan(1e-3);
      expect(worstCell).toBeLessThan(1e-6);
      expect(worstAtom).toBeLessThan(1e-6);
    });
  }

  it('masked cell components get zero force', () => {
    const s = rattle(rockSalt(5.5), 4, 0.05, 0.02);
    const ref = frameOf(s);
    const filter = new FrechetCellFilter({
      constraint: null,
      maxCellStep: 0.25,
      origLattice: ref.lattice,
      expCellFactor: 8,
      pressure: 0,
      mask: [true, true, false, false, false, true],
    });
    const gf = filter.forces(ref, evaluate(new PairPotential(), ref, s.numbers));
    const cell = Array.from(gf.subarray(24));
    // at F = I the cell force is W itself: zz, yz, xz components masked
    expect(cell[8]).toBeCloseTo(0, 14);
    expect(cell[5]).toBeCloseTo(0, 14);
    expect(cell[7]).toBeCloseTo(0, 14);
    expect(cell[2]).toBeCloseTo(0, 14);
    expect(Math.abs(cell[0]!)).toBeGreaterThan(1e-4);
  });
});
