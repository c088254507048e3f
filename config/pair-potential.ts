// Parameters of the classical pair potential (core/potential/pair.ts): a fast model for
// engine tests, NOT for science. Every pair (Zi, Zj) has its minimum at r0 = R(Zi) + R(Zj),
// R = covalent radius (Cordero 2008, from the element table) unless overridden here, so
// typical inorganic crystals sit near their real bond lengths.

export interface PairPotentialParams {
  /** bump when the functional form or any default below changes */
  version: string;
  /** well depth of every pair, eV (ε for Lennard-Jones, D for Morse) */
  epsilon: number;
  /** Lennard-Jones: cutoff radius in units of σ_ij (σ = r0/2^(1/6)) */
  ljCutoffSigma: number;
  /** Morse: stiffness as the dimensionless α·r0 */
  morseAlphaR0: number;
  /** Morse: cutoff radius in units of r0 */
  morseCutoffR0: number;
  /** per-element radius overrides, Å, keyed by atomic number */
  radiusOverrides: Readonly<Record<number, number>>;
  /** per-element well-depth overrides, eV, keyed by atomic number (mixed as √(εi·εj)) */
  epsilonOverrides: Readonly<Record<number, number>>;
  /** pairs closer than this (Å) are refused as overlapping atoms */
  minDistance: number;
}

export const PAIR_POTENTIAL_DEFAULTS: Readonly<PairPotentialParams> = Object.freeze({
  version: 'pair-1',
  epsilon: 0.1,
  ljCutoffSigma: 2.5,
  morseAlphaR0: 6,
  morseCutoffR0: 2.2,
  radiusOverrides: Object.freeze({}),
  epsilonOverrides: Object.freeze({}),
  minDistance: 0.1,
});
