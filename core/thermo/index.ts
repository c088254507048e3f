// Harmonic thermodynamics summed over mesh q-points (phonopy thermal_properties semantics,
// physics.md §6): per primitive cell, F and ZPE in kJ/mol, S and C_v in J/K/mol.
import { THERMO_CONFIG } from '../../config/phonon.js';
import { UsageError } from '../errors.js';

export interface ThermalPoint {
  /** K */
  temperature: number;
  /** Helmholtz free energy, kJ/mol */
  freeEnergy: number;
  /** J/K/mol */
  entropy: number;
  /** J/K/mol */
  heatCapacity: number;
}

export interface ThermalProperties {
  version: string;
  /** zero-point energy, kJ/mol (= F at 0 K) */
  zpe: number;
  points: ThermalPoint[];
  /** modes at or below this frequency were left out (THz) */
  cutoffFrequency: number;
  /** how many (q, mode) pairs were left out, weighted, including imaginary ones */
  skippedModes: number;
}

export interface ThermalOptions {
  temperatures?: readonly number[];
  cutoffFrequency?: number;
}

/**
 * Thermal properties from frequencies (THz) at q-points with weights (e.g. an irreducible mesh).
 * Modes with ν ≤ cutoff (the Γ acoustic modes and any imaginary ones) are left out.
 */
export function thermalProperties(
  frequencies: readonly ArrayLike<number>[],
  weights: readonly number[] | undefined,
  opts: ThermalOptions = {},
): ThermalProperties {
  const temps = opts.temperatures ?? THERMO_CONFIG.temperatures;
  const cutoff = opts.cutoffFrequency ?? THERMO_CONFIG.cutoffFrequencyTHz;
  const w = weights ?? frequencies.map(() => 1);
  if (w.length !== frequencies.length) throw new RangeError('weights and frequency lists differ in length');
  for (const t of temps) if (!(t >= 0) || !Number.isFinite(t)) throw new UsageError(`temperature must be ≥ 0 (got ${t})`);
  const { thzToEv, kB, evToKjmol } = THERMO_CONFIG;
  const wsum = w.reduce((a, b) => a + b, 0);
  let zpe = 0;
  let skipped = 0;
  const acc = temps.map(() => ({ F: 0, S: 0, C: 0 }));
  frequencies.forEach((fq, qi) => {
    const wq = w[qi]!;
    for (let m = 0; m < fq.length; m++) {
      const nu = fq[m]!;
      if (!(nu > cutoff)) {
        skipped += wq;
        continue;
      }
      const e = nu * thzToEv;
      zpe += (wq * e) / 2;
      temps.forEach((T, ti) => {
        const a = acc[ti]!;
        if (T === 0) {
          a.F += (wq * e) / 2;
          return;
        }
        const kT = kB * T;
        const x = e / kT;
        const emx = Math.exp(-x);
        a.F += wq * (e / 2 + kT * Math.log1p(-emx));
        // S = k_B[(x/2)coth(x/2) − ln(2 sinh(x/2))]
        const h = x / 2;
        // ln(2 sinh h) = h + ln(1 − e^−2h), stable for large h
        a.S += wq * kB * (h / Math.tanh(h) - (h + Math.log1p(-Math.exp(-2 * h))));
        // C_v = k_B x² eˣ/(eˣ−1)² = k_B x² e^−x/(1−e^−x)²
        a.C += wq * kB * ((x * x * emx) / ((1 - emx) * (1 - emx)));
      });
    }
  });
  return {
    version: THERMO_CONFIG.version,
    zpe: (zpe / wsum) * evToKjmol,
    cutoffFrequency: cutoff,
    skippedModes: skipped,
    points: temps.map((T, ti) => ({
      temperature: T,
      freeEnergy: (acc[ti]!.F / wsum) * evToKjmol,
      entropy: (acc[ti]!.S / wsum) * evToKjmol * 1000,
      heatCapacity: (acc[ti]!.C / wsum) * evToKjmol * 1000,
    })),
  };
}
