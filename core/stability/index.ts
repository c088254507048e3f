// Dynamical-stability classification (physics.md §5). Each preset is a versioned rule from
// config/phonon.ts; every result keeps the raw minimum frequency, where it is, the number of
// imaginary modes, the acoustic sum check at Γ and ν_max, so any other reading stays possible.
import { PHONON_CONFIG, STABILITY_RULES } from '../../config/phonon.js';
import { UsageError } from '../errors.js';
import type { Vec3 } from '../math/linalg.js';

export type StabilityPreset = 'phononbench' | 'loew' | 'mattersim' | 'full-bz';
export const STABILITY_PRESETS: readonly StabilityPreset[] = ['phononbench', 'loew', 'mattersim', 'full-bz'];

/**
 * Everything a classification reads: the per-preset rules, the acoustic tolerance at Γ and the
 * THz → K factor. Callers with frozen settings (a campaign) pass theirs; the default is the
 * current config.
 */
export interface StabilityRules {
  presets: typeof STABILITY_RULES;
  acousticToleranceTHz: number;
  thzToKelvin: number;
}

export function defaultStabilityRules(): StabilityRules {
  return { presets: STABILITY_RULES, acousticToleranceTHz: PHONON_CONFIG.acousticToleranceTHz, thzToKelvin: PHONON_CONFIG.thzToKelvin };
}

export type QpointSetName = 'commensurate' | 'band' | 'mesh';

/** Frequencies (THz, ascending per q) at a set of q-points (primitive reciprocal basis). */
export interface FrequencySet {
  qpoints: readonly (readonly number[])[];
  frequencies: readonly ArrayLike<number>[];
}

export interface PhononSpectrum {
  commensurate?: FrequencySet;
  band?: FrequencySet;
  mesh?: FrequencySet;
}

export interface ModeLocation {
  /** THz */
  frequency: number;
  qpoint: Vec3;
  /** 0-based band index (ascending order at that q) */
  band: number;
  set: QpointSetName;
}

export interface StabilityResult {
  preset: StabilityPreset;
  ruleVersion: string;
  stable: boolean;
  label: 'stable' | 'unstable';
  reason: string;
  /** q-point sets the rule looked at */
  sets: QpointSetName[];
  /** raw minimum over those sets, Γ acoustic modes included */
  min: ModeLocation;
  /** minimum over the modes the rule does not exempt */
  minNonExempt: ModeLocation | null;
  /** modes (over all q of those sets) below the rule's threshold */
  imaginaryModes: number;
  /** Γ: the three lowest |ν| (THz); ok when all ≤ the acoustic tolerance */
  acousticSum: { gammaAcousticTHz: number[]; maxAbsTHz: number; ok: boolean } | null;
  /** max ν over commensurate q (Loew's ν_max), THz and K */
  maxFrequency: { THz: number; K: number } | null;
}

function isGamma(q: readonly number[]): boolean {
  return q.every((x) => Math.abs(x - Math.round(x)) < 1e-8);
}

function need(spec: PhononSpectrum, name: QpointSetName, preset: string): FrequencySet {
  const s = spec[name];
  if (!s || s.qpoints.length === 0) throw new UsageError(`preset '${preset}' needs frequencies on the ${name} q-points`);
  if (s.frequencies.length !== s.qpoints.length) throw new RangeError(`${name}: frequencies and q-points differ in length`);
  return s;
}

function scan(sets: [QpointSetName, FrequencySet][], exempt: (q: readonly number[], band: number, nu: number) => boolean, below: (q: readonly number[], band: number, nu: number) => boolean) {
  let min: ModeLocation | null = null;
  let minNon: ModeLocation | null = null;
  let count = 0;
  for (const [name, s] of sets)
    s.qpoints.forEach((q, k) => {
      const f = s.frequencies[k]!;
      for (let b = 0; b < f.length; b++) {
        const nu = f[b]!;
        const loc = (): ModeLocation => ({ frequency: nu, qpoint: [q[0]!, q[1]!, q[2]!], band: b, set: name });
        if (!min || nu < min.frequency) min = loc();
        if (exempt(q, b, nu)) continue;
        if (!minNon || nu < minNon.frequency) minNon = loc();
        if (below(q, b, nu)) count++;
      }
    });
  if (!min) throw new UsageError('no frequencies to classify');
  return { min: min as ModeLocation, minNon: minNon as ModeLocation | null, count };
}

function acousticCheck(spec: PhononSpectrum, toleranceTHz: number): StabilityResult['acousticSum'] {
  for (const name of ['commensurate', 'mesh', 'band'] as const) {
    const s = spec[name];
    if (!s) continue;
    const k = s.qpoints.findIndex(isGamma);
    if (k < 0) continue;
    const f = Array.from(s.frequencies[k]!);
    const ac = [...f].sort((a, b) => Math.abs(a) - Math.abs(b)).slice(0, 3);
    const maxAbs = Math.max(...ac.map(Math.abs));
    return { gammaAcousticTHz: ac, maxAbsTHz: maxAbs, ok: maxAbs <= toleranceTHz };
  }
  return null;
}

function maxFreq(spec: PhononSpectrum, thzToKelvin: number): StabilityResult['maxFrequency'] {
  const s = spec.commensurate;
  if (!s) return null;
  let mx = -Infinity;
  for (const f of s.frequencies) for (let b = 0; b < f.length; b++) mx = Math.max(mx, f[b]!);
  return { THz: mx, K: mx * thzToKelvin };
}

/** Indices of the three lowest modes at a Γ point (frequencies ascending → 0, 1, 2). */
const lowestThree = (band: number): boolean => band < 3;

export function classifyStability(spec: PhononSpectrum, preset: StabilityPreset = 'full-bz', rules: StabilityRules = defaultStabilityRules()): StabilityResult {
  const common = { acousticSum: acousticCheck(spec, rules.acousticToleranceTHz), maxFrequency: maxFreq(spec, rules.thzToKelvin) };
  const fmt = (x: number): string => x.toFixed(4);
  switch (preset) {
    case 'phononbench':
    case 'mattersim': {
      const rule = rules.presets[preset];
      const band = need(spec, 'band', preset);
      const r = scan([['band', band]], () => false, (_q, _b, nu) => nu < -rule.thresholdTHz);
      const stable = r.min.frequency >= -rule.thresholdTHz;
      return {
        preset,
        ruleVersion: rule.version,
        stable,
        label: stable ? 'stable' : 'unstable',
        reason: `min ν on the band path ${fmt(r.min.frequency)} THz ${stable ? '≥' : '<'} −${rule.thresholdTHz} THz`,
        sets: ['band'],
        min: r.min,
        minNonExempt: r.minNon,
        imaginaryModes: r.count,
        ...common,
      };
    }
    case 'loew': {
      const rule = rules.presets.loew;
      const comm = need(spec, 'commensurate', preset);
      const K = rules.thzToKelvin;
      const exempt = (q: readonly number[], b: number, nu: number): boolean => isGamma(q) && lowestThree(b) && nu * K >= -rule.gammaAcousticThresholdK;
      const r = scan([['commensurate', comm]], exempt, (_q, _b, nu) => nu * K < -rule.otherThresholdK);
      // Γ acoustic modes below −35 K are not exempt and count as imaginary
      const stable = r.count === 0;
      return {
        preset,
        ruleVersion: rule.version,
        stable,
        label: stable ? 'stable' : 'unstable',
        reason: stable
          ? `no mode below 0 K at commensurate q (Γ acoustic ≥ −${rule.gammaAcousticThresholdK} K)`
          : `${r.count} mode(s) below threshold; lowest non-exempt ${fmt(r.minNon!.frequency * K)} K at q=${JSON.stringify(r.minNon!.qpoint)}`,
        sets: ['commensurate'],
        min: r.min,
        minNonExempt: r.minNon,
        imaginaryModes: r.count,
        ...common,
      };
    }
    case 'full-bz': {
      const rule = rules.presets['full-bz'];
      const sets: [QpointSetName, FrequencySet][] = [];
      for (const name of ['commensurate', 'band', 'mesh'] as const) if (spec[name] && spec[name]!.qpoints.length > 0) sets.push([name, spec[name]!]);
      if (sets.length === 0) throw new UsageError("preset 'full-bz' needs at least one q-point set");
      const exempt = (q: readonly number[], b: number, nu: number): boolean => isGamma(q) && lowestThree(b) && Math.abs(nu) <= rule.gammaAcousticToleranceTHz;
      const r = scan(sets, exempt, (_q, _b, nu) => nu < -rule.thresholdTHz);
      const stable = r.count === 0;
      const where = r.minNon ? `${fmt(r.minNon.frequency)} THz at q=${JSON.stringify(r.minNon.qpoint.map((x) => +x.toFixed(6)))} (${r.minNon.set}, band ${r.minNon.band})` : 'none';
      return {
        preset,
        ruleVersion: rule.version,
        stable,
        label: stable ? 'stable' : 'unstable',
        reason: `${stable ? 'no' : r.count} mode(s) below −${rule.thresholdTHz} THz over ${sets.map((s) => s[0]).join('+')}; lowest non-exempt ${where}`,
        sets: sets.map((s) => s[0]),
        min: r.min,
        minNonExempt: r.minNon,
        imaginaryModes: r.count,
        ...common,
      };
    }
    default:
      throw new UsageError(`unknown stability preset '${String(preset)}' (use ${STABILITY_PRESETS.join(', ')})`);
  }
}
