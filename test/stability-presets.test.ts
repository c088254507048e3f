import { describe, expect, it } from 'vitest';
import { STABILITY_RULES } from '../config/phonon.js';
import { classifyStability, type PhononSpectrum } from '../core/stability/index.js';
import { SoftmodeInputError } from '../core/errors.js';

const G = [0, 0, 0];
const X = [0.5, 0, 0.5];
const f = (...x: number[]): Float64Array => Float64Array.from(x);

function spec(gamma: number[], other: number[], band?: number[][]): PhononSpectrum {
  return {
    commensurate: { qpoints: [G, X], frequencies: [f(...gamma), f(...other)] },
    ...(band ? { band: { qpoints: band.map((_, k) => [k / 10, 0, 0]), frequencies: band.map((b) => f(...b)) } } : {}),
  };
}

describe('stability presets', () => {
  it('loew: Γ acoustic modes may reach −35 K, all other modes must be ≥ 0', () => {
    const K = 47.992;
    const ok = classifyStability(spec([-34 / K, -1 / K, 0, 5, 5, 6], [1, 2, 3, 4, 5, 6]), 'loew');
    expect(ok.stable).toBe(true);
    expect(ok.ruleVersion).toBe(STABILITY_RULES.loew.version);
    expect(ok.min.frequency).toBeCloseTo(-34 / K, 12);
    expect(ok.maxFrequency!.K).toBeCloseTo(6 * K, 9);
    const gammaSoft = classifyStability(spec([-36 / K, 0, 0, 5, 5, 6], [1, 2, 3, 4, 5, 6]), 'loew');
    expect(gammaSoft.stable).toBe(false);
    const gammaOptical = classifyStability(spec([0, 0, 0, -1e-3, 5, 6], [1, 2, 3, 4, 5, 6]), 'loew');
    expect(gammaOptical.stable).toBe(false);
    // "≥ 0" means ≥ −otherThresholdK: eigenvalue round-off (1e-6 THz) does not decide the label
    const zero = STABILITY_RULES.loew.otherThresholdK / K;
    expect(classifyStability(spec([0, 0, 0, -zero / 2, 5, 6], [1, 2, 3, 4, 5, 6]), 'loew').stable).toBe(true);
    expect(classifyStability(spec([0, 0, 0, -2 * zero, 5, 6], [1, 2, 3, 4, 5, 6]), 'loew').stable).toBe(false);
    const zoneEdge = classifyStability(spec([0, 0, 0, 5, 5, 6], [-1e-3, 2, 3, 4, 5, 6]), 'loew');
    expect(zoneEdge.stable).toBe(false);
    expect(zoneEdge.minNonExempt!.qpoint).toEqual(X);
    expect(zoneEdge.imaginaryModes).toBe(1);
  });

  it('phononbench (−1e-3 THz) and mattersim (−0.299 THz) look at the band path only', () => {
    const s = spec([0, 0, 0, 5, 5, 6], [-5, 2, 3, 4, 5, 6], [[0, 0, 0], [-0.0005, 1, 2], [1, 2, 3]]);
    expect(classifyStability(s, 'phononbench').stable).toBe(true);
    expect(classifyStability(s, 'mattersim').stable).toBe(true);
    const s2 = spec([0, 0, 0, 5, 5, 6], [1, 2, 3, 4, 5, 6], [[0, 0, 0], [-0.2, 1, 2], [1, 2, 3]]);
    const pb = classifyStability(s2, 'phononbench');
    expect(pb.stable).toBe(false);
    expect(pb.min).toMatchObject({ frequency: -0.2, band: 0, set: 'band' });
    expect(pb.min.qpoint).toEqual([0.1, 0, 0]);
    expect(classifyStability(s2, 'mattersim').stable).toBe(true);
    expect(() => classifyStability(spec([0, 0, 0], [1, 2, 3]), 'phononbench')).toThrow(SoftmodeInputError);
  });

  it('full-bz: exempts only the three lowest Γ modes within the tolerance and reports where the minimum is', () => {
    const tol = STABILITY_RULES['full-bz'].gammaAcousticToleranceTHz;
    const s = spec([-tol / 2, 0, tol / 2, 5, 5, 6], [1, 2, 3, 4, 5, 6], [[0, 0, 0], [0.5, 1, 2]]);
    const r = classifyStability(s);
    expect(r.preset).toBe('full-bz');
    expect(r.stable).toBe(true);
    expect(r.acousticSum!.ok).toBe(true);
    expect(r.sets).toEqual(['commensurate', 'band']);
    const bad = classifyStability(spec([-2 * tol, 0, 0, 5, 5, 6], [1, 2, 3, 4, 5, 6]));
    expect(bad.stable).toBe(false);
    expect(bad.acousticSum!.ok).toBe(false);
    const soft = classifyStability(spec([0, 0, 0, 5, 5, 6], [1, 2, 3, 4, 5, 6], [[0, 0, 0], [-0.5, 1, 2]]));
    expect(soft.stable).toBe(false);
    expect(soft.minNonExempt).toMatchObject({ frequency: -0.5, set: 'band' });
  });

  it('rejects unknown presets', () => {
    expect(() => classifyStability(spec([0], [1]), 'nope' as never)).toThrow(SoftmodeInputError);
  });
});
