import { describe, expect, it } from 'vitest';
import { MATTERSIM_PROTOCOL, PHONONBENCH_PROTOCOL, customProtocol, withTrajectoryPrecision } from '../config/relax.js';
import { SoftmodeInputError } from '../core/errors.js';
import { PairPotential } from '../core/potential/pair.js';
import type { Potential, PotentialIdentity } from '../core/potential/types.js';
import { type RelaxState, protocolSha256, relax } from '../core/relax/relax.js';
import type { Structure } from '../core/structure/structure.js';
import { rattle, rockSalt, wurtzite } from './relax-fixtures.js';

const pot = new PairPotential('lennard-jones');

describe('relaxation protocols (pair potential)', () => {
  it('phononbench: rattled rock salt converges, keeps Fm-3m and reaches the model minimum', async () => {
    const s = rattle(rockSalt(5.6), 21, 0.004, 0.0004);
    const r = await relax(s, pot, PHONONBENCH_PROTOCOL);
    expect(r.verdict).toBe('converged');
    expect(r.reason).toBeNull();
    expect(r.maxForce).toBeLessThanOrEqual(0.005);
    expect(r.steps.total).toBeGreaterThan(5);
    expect(r.steps.perRound.reduce((a, b) => a + b, 0)).toBe(r.steps.total);
    expect(r.spaceGroupBefore.number).toBe(225);
    expect(r.spaceGroupAfter?.number).toBe(225);
    // stress at the end is small: the cell is relaxed too
    for (const row of r.stress) for (const x of row) expect(Math.abs(x)).toBeLessThan(1e-3);
    // the relaxed cell stays cubic with a ≈ 2·r0 − a few % (lattice sums pull it in)
    const a = Math.hypot(...r.structure.lattice[0]!);
    const r0 = pot.pairMinimum(11, 17);
    expect(a / (2 * r0)).toBeGreaterThan(0.9);
    expect(a / (2 * r0)).toBeLessThan(1.0);
    expect(Math.hypot(...r.structure.lattice[1]!)).toBeCloseTo(a, 8);
    expect(r.potential).toEqual(pot.identity);
    expect(r.structure.numbers).toEqual(s.numbers);
  });

  it('mattersim: fixed cell, positions relax to fmax 0.01', async () => {
    const s = rattle(wurtzite(3.25, 5.21, 0.36), 5, 0.004, 0.0004);
    const r = await relax(s, new PairPotential('morse'), MATTERSIM_PROTOCOL);
    expect(r.verdict).toBe('converged');
    expect(r.maxForce).toBeLessThan(0.01);
    expect(r.steps.total).toBeGreaterThan(0);
    expect(r.steps.perRound.length).toBe(1);
    // the cell is only touched by the one-time refinement (≪ symprec)
    for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) expect(Math.abs(r.structure.lattice[i]![k]! - s.lattice[i]![k]!)).toBeLessThan(0.01);
  });

  it('verdicts: not converged after too few steps, exploded above the force limit', async () => {
    const s = rattle(rockSalt(5.9), 3, 0.004, 0.0004);
    const few = await relax(s, pot, customProtocol({ maxRounds: 1, stepsPerRound: 2, finalFmax: null }));
    expect(few.verdict).toBe('not_converged');
    expect(few.reason).toBe('max_rounds');
    expect(few.steps.total).toBe(2);
    const fewFinal = await relax(s, pot, customProtocol({ maxRounds: 2, stepsPerRound: 2 }));
    expect(fewFinal.verdict).toBe('not_converged');
    expect(fewFinal.reason).toBe('final_check');
    expect(fewFinal.steps.perRound).toEqual([2, 2]);
    const boom = await relax(s, pot, customProtocol({ explodeForce: 1e-3 }));
    expect(boom.verdict).toBe('exploded');
    expect(boom.reason).toBe('explode_force');
  });

  it('resuming from any saved state gives the same trajectory bit for bit', async () => {
    const s = rattle(rockSalt(5.9), 8, 0.004, 0.0004);
    // small rounds so the run crosses round boundaries (refinement, fresh FIRE state)
    const protocol = customProtocol({ maxRounds: 4, stepsPerRound: 12 });
    const states: string[] = [];
    const full = await relax(s, pot, protocol, { checkpointEvery: 1, onCheckpoint: (st) => void states.push(JSON.stringify(st)) });
    expect(full.steps.perRound.length).toBeGreaterThan(1);
    expect(states.length).toBe(full.steps.total);
    const picks = [0, 1, 11, 12, 13, Math.floor(states.length / 2), states.length - 1].filter((k, i, a) => k < states.length && a.indexOf(k) === i);
    for (const k of picks) {
      const later: string[] = [];
      const resumed = await relax(s, pot, protocol, {
        resumeFrom: JSON.parse(states[k]!) as RelaxState,
        checkpointEvery: 1,
        onCheckpoint: (st) => void later.push(JSON.stringify(st)),
      });
      expect(later).toEqual(states.slice(k + 1));
      expect(JSON.stringify(resumed)).toBe(JSON.stringify(full));
    }
  });

  it('refuses a resume state from another structure, protocol or model', async () => {
    const s = rattle(rockSalt(5.9), 8, 0.004, 0.0004);
    let saved: RelaxState | null = null;
    await relax(s, pot, customProtocol({ maxRounds: 1, stepsPerRound: 3 }), { checkpointEvery: 3, onCheckpoint: (st) => void (saved = st) });
    expect(saved).not.toBeNull();
    const st = saved as unknown as RelaxState;
    await expect(relax(s, pot, PHONONBENCH_PROTOCOL, { resumeFrom: st })).rejects.toThrow(SoftmodeInputError);
    await expect(relax(s, new PairPotential('morse'), customProtocol({ maxRounds: 1, stepsPerRound: 3 }), { resumeFrom: st })).rejects.toThrow(SoftmodeInputError);
    await expect(relax(wurtzite(3.2, 5.2), pot, customProtocol({ maxRounds: 1, stepsPerRound: 3 }), { resumeFrom: st })).rejects.toThrow(SoftmodeInputError);
    // the state is plain JSON and small
    expect(JSON.stringify(st).length).toBeLessThan(4000);
  });

  it('refuses bad protocols with typed errors', async () => {
    const s = rockSalt(5.6);
    await expect(relax(s, pot, customProtocol({ roundFmax: 0 }))).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(relax(s, pot, customProtocol({ maxRounds: 0 }))).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

/** A potential that counts its evaluations, optionally under another identity (a stand-in "float32 graph"). */
class Counting implements Potential {
  calls = 0;
  lastEnergy = NaN;
  readonly identity: PotentialIdentity;
  constructor(
    private readonly inner: Potential,
    identity: Partial<PotentialIdentity> = {},
  ) {
    this.identity = { ...inner.identity, ...identity };
  }
  async evaluate(structures: readonly Structure[]) {
    this.calls += structures.length;
    const r = await this.inner.evaluate(structures);
    this.lastEnergy = r[r.length - 1]!.energy;
    return r;
  }
}

describe('relaxation trajectory precision', () => {
  it('FIRE steps run on the trajectory potential; the acceptance test and the reported result on the deciding one', async () => {
    const s = rattle(rockSalt(5.6), 21, 0.004, 0.0004);
    const deciding = new Counting(pot);
    const trajectory = new Counting(pot, { precision: 'float32' });
    const r = await relax(s, deciding, PHONONBENCH_PROTOCOL, { trajectoryPotential: trajectory });
    expect(r.verdict).toBe('converged');
    expect(r.trajectoryPrecision).toBe('float32');
    expect(r.potential.precision).toBe('float64');
    // one evaluation per FIRE step and one per round's converged check, all on the trajectory...
    expect(trajectory.calls).toBeGreaterThanOrEqual(r.steps.total + 1);
    // ...and exactly one (the final acceptance test) on the deciding potential, whose energy is reported
    expect(deciding.calls).toBe(1);
    expect(r.energy).toBe(deciding.lastEnergy);
    // the same pair potential under both names walks the trajectory of a plain run
    const plain = await relax(s, pot, PHONONBENCH_PROTOCOL);
    expect(plain.trajectoryPrecision).toBe('float64');
    expect(r.steps).toEqual(plain.steps);
    expect(r.energy).toBe(plain.energy);
  });

  it('without a trajectory potential the deciding one does everything (pair potentials have one precision)', async () => {
    const s = rattle(rockSalt(5.6), 4, 0.004, 0.0004);
    const deciding = new Counting(pot);
    const r = await relax(s, deciding, PHONONBENCH_PROTOCOL);
    expect(r.trajectoryPrecision).toBe('float64');
    expect(deciding.calls).toBeGreaterThan(r.steps.total);
  });

  it('refuses a trajectory potential of another model or another precision than the protocol asks', async () => {
    const s = rockSalt(5.6);
    const otherModel = new Counting(new PairPotential('morse'), { precision: 'float32' });
    await expect(relax(s, pot, PHONONBENCH_PROTOCOL, { trajectoryPotential: otherModel })).rejects.toMatchObject({ code: 'invalid_argument' });
    const wrongPrecision = new Counting(pot, { precision: 'float64' });
    await expect(relax(s, pot, PHONONBENCH_PROTOCOL, { trajectoryPotential: wrongPrecision })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(relax(s, pot, customProtocol({ trajectoryPrecision: 'float16' as never }))).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('the trajectory precision is part of the protocol sha256 (and of every relax step key)', () => {
    expect(PHONONBENCH_PROTOCOL.trajectoryPrecision).toBe('float32');
    const f64 = withTrajectoryPrecision(PHONONBENCH_PROTOCOL, 'float64');
    expect(f64.name).toBe(PHONONBENCH_PROTOCOL.name);
    expect(protocolSha256(f64)).not.toBe(protocolSha256(PHONONBENCH_PROTOCOL));
    // an absent field and an undefined one hash alike: protocols stored before the field existed keep their sha256
    expect(protocolSha256({ ...MATTERSIM_PROTOCOL, trajectoryPrecision: undefined })).toBe(protocolSha256(MATTERSIM_PROTOCOL));
    expect(MATTERSIM_PROTOCOL.trajectoryPrecision).toBeUndefined();
  });
});
