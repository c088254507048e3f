import { describe, expect, it } from 'vitest';
import { PairPotential } from '../core/potential/pair.js';
import { SoftmodeInputError } from '../core/errors.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';
import { rattle, rockSalt, wurtzite } from './relax-fixtures.js';

function energy(p: PairPotential, s: Structure): number {
  return p.evaluateOne(s).energy;
}

function withCart(s: Structure, cart: number[][]): Structure {
  return makeStructure({ lattice: s.lattice, cart, numbers: s.numbers });
}

function cartesianOf(s: Structure): number[][] {
  return s.frac.map((f) => [0, 1, 2].map((k) => f[0]! * s.lattice[0]![k]! + f[1]! * s.lattice[1]![k]! + f[2]! * s.lattice[2]![k]!));
}

for (const kind of ['lennard-jones', 'morse'] as const) {
  describe(`pair potential (${kind})`, () => {
    const pot = new PairPotential(kind);
    const structures = [rattle(rockSalt(5.4), 7, 0.15, 0.03), rattle(wurtzite(3.25, 5.2), 11, 0.1, 0.02)];

    it('forces are −∂E/∂r (central differences)', () => {
      for (const s of structures) {
        const r = pot.evaluateOne(s);
        const cart = cartesianOf(s);
        const h = 1e-5;
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < cart.length; i++)
          for (let k = 0; k < 3; k++) {
            const plus = cart.map((p) => [...p]);
            const minus = cart.map((p) => [...p]);
            plus[i]![k]! += h;
            minus[i]![k]! -= h;
            const fd = -(energy(pot, withCart(s, plus)) - energy(pot, withCart(s, minus))) / (2 * h);
            worst = Math.max(worst, Math.abs(fd - r.forces[i]![k]!));
            scale = Math.max(scale, Math.abs(fd));
          }
        expect(scale).toBeGreaterThan(1e-3); // the test would be empty at a minimum
        expect(worst).toBeLessThan(1e-6 * Math.max(1, scale));
      }
    });

    it('stress is (1/V)·∂E/∂ε (ASE sign), checked on all 9 strain components', () => {
      for (const s of structures) {
        const r = pot.evaluateOne(s);
        const V = Math.abs(
          s.lattice[0]![0]! * (s.lattice[1]![1]! * s.lattice[2]![2]! - s.lattice[1]![2]! * s.lattice[2]![1]!) -
            s.lattice[0]![1]! * (s.lattice[1]![0]! * s.lattice[2]![2]! - s.lattice[1]![2]! * s.lattice[2]![0]!) +
            s.lattice[0]![2]! * (s.lattice[1]![0]! * s.lattice[2]![1]! - s.lattice[1]![1]! * s.lattice[2]![0]!),
        );
        const h = 1e-6;
        for (let a = 0; a < 3; a++)
          for (let b = 0; b < 3; b++) {
            const strained = (e: number) => {
              // r → (I + ε) r for column r, i.e. rows L → L (I + ε)ᵀ; fractional unchanged
              const L = s.lattice.map((row) => {
                const out = [...row];
                out[a] = out[a]! + e * row[b]!;
                return out;
              });
              return makeStructure({ lattice: L, frac: s.frac, numbers: s.numbers });
            };
            const fd = (energy(pot, strained(h)) - energy(pot, strained(-h))) / (2 * h) / V;
            expect(Math.abs(fd - r.stress[a]![b]!)).toBeLessThan(1e-7);
          }
      }
    });

    it('forces sum to zero and energy is invariant under translation', () => {
      const s = structures[0]!;
      const r = pot.evaluateOne(s);
      for (let k = 0; k < 3; k++) expect(Math.abs(r.forces.reduce((acc, f) => acc + f[k]!, 0))).toBeLessThan(1e-10);
      const moved = makeStructure({ lattice: s.lattice, frac: s.frac.map((f) => [f[0]! + 0.37, f[1]! - 0.11, f[2]! + 2]), numbers: s.numbers });
      expect(energy(pot, moved)).toBeCloseTo(r.energy, 10);
    });

    it('energy and force vanish continuously at the cutoff', () => {
      const rc = pot.cutoffFor([11, 17]);
      const [e1, d1] = pot.pair(11, 17, rc * (1 - 1e-9));
      expect(Math.abs(e1)).toBeLessThan(1e-12);
      expect(Math.abs(d1)).toBeLessThan(1e-9);
      expect(pot.pair(11, 17, rc * 1.01)).toEqual([0, 0]);
    });
  });
}

describe('pair potential parameters and identity', () => {
  it('pair minimum sits at the sum of covalent radii', () => {
    for (const kind of ['lennard-jones', 'morse'] as const) {
      const pot = new PairPotential(kind);
      const r0 = pot.pairMinimum(11, 17);
      expect(r0).toBeCloseTo(1.66 + 1.02, 12);
      // shifted-force moves the minimum slightly; it stays within 2 %
      let best = Infinity;
      let rBest = 0;
      for (let r = 0.8 * r0; r < 1.2 * r0; r += 1e-4 * r0) {
        const e = pot.pair(11, 17, r)[0];
        if (e < best) {
          best = e;
          rBest = r;
        }
      }
      expect(Math.abs(rBest / r0 - 1)).toBeLessThan(0.02);
    }
  });

  it('identity hash is stable and follows the parameters', () => {
    const a = new PairPotential('lennard-jones');
    const b = new PairPotential('lennard-jones');
    const c = new PairPotential('lennard-jones', { epsilon: 0.2 });
    const d = new PairPotential('morse');
    expect(a.identity.checkpointSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(a.identity).toEqual(b.identity);
    expect(c.identity.checkpointSha256).not.toBe(a.identity.checkpointSha256);
    expect(d.identity.model).toBe('morse');
    expect(a.identity.precision).toBe('float64');
  });

  it('refuses unknown elements, overlapping atoms and bad parameters with typed errors', async () => {
    const pot = new PairPotential();
    const noRadius = makeStructure({ lattice: [[5, 0, 0], [0, 5, 0], [0, 0, 5]], frac: [[0, 0, 0]], numbers: [0] });
    expect(() => pot.evaluateOne(noRadius)).toThrow(SoftmodeInputError);
    const overlap = makeStructure({ lattice: [[5, 0, 0], [0, 5, 0], [0, 0, 5]], frac: [[0, 0, 0], [0, 0, 0.001]], numbers: [11, 17] });
    await expect(pot.evaluate([overlap])).rejects.toMatchObject({ code: 'atoms_too_close' });
    expect(() => new PairPotential('lennard-jones', { epsilon: -1 })).toThrow(SoftmodeInputError);
  });
});
