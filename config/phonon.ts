// Numerical parameters of the phonon stage (physics.md §1–§6). Frozen; bump `version` when a
// default changes so stored results say which rules produced them.
export const PHONON_CONFIG = Object.freeze({
  version: 'phonon-1',
  /** symmetry tolerance for supercell symmetry, atom mapping and shortest vectors, Å */
  symprec: 1e-5,
  /** finite-displacement amplitude, Å */
  displacementAmplitude: 0.01,
  /** phonopy default: diagonal directions; PhononBench and Loew used axis mode */
  diagonalDisplacements: true,
  /** 'auto': add −u unless a site operation maps u onto −u */
  plusMinus: 'auto' as 'auto' | boolean,
  /** remove the mean force of each displaced supercell before solving */
  removeDrift: true,
  /** phonopy level-1 translational + index-permutation symmetrization */
  symmetrizeLevel: 1,
  /** √(eV/Å²/AMU) → THz (phonopy VaspToTHz) */
  frequencyFactorTHz: 15.633302300230191,
  /** THz → K as used by Loew et al. (physics.md §5: ν_K = 47.992·ν_THz) */
  thzToKelvin: 47.992,
  /** minimum-length supercell rule (atomate2-like) */
  minSupercellLength: 20,
  maxSupercellAtoms: 500,
  /** Γ-centred mesh density: N_i = max(1, rint(meshLength · |b_i|)), |b_i| in 1/Å without 2π */
  meshLength: 100,
  /** eigenvalues within this many THz of zero at Γ count as acoustic (sum-rule check) */
  acousticToleranceTHz: 0.05,
} as const);

export const THERMO_CONFIG = Object.freeze({
  version: 'thermo-1',
  /** THz → eV (h in eV·ps) */
  thzToEv: 0.00413566733,
  /** k_B in eV/K */
  kB: 8.617338256808316e-5,
  /** eV → kJ/mol */
  evToKjmol: 96.4853905398362,
  /** modes at or below this frequency (THz) are left out of the sums */
  cutoffFrequencyTHz: 1e-5,
  temperatures: Object.freeze([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]),
} as const);

/** Stability rules (physics.md §5). Each preset is versioned; the raw minimum is always kept. */
export const STABILITY_RULES = Object.freeze({
  phononbench: Object.freeze({
    version: 'phononbench-1',
    /** unstable if min ν over the band path < −threshold (THz); paper v3 also reports 0.1 */
    thresholdTHz: 1e-3,
  }),
  loew: Object.freeze({
    version: 'loew-2',
    /** commensurate q; Γ's three lowest modes may go down to −35 K; everything else must be ≥ 0 */
    gammaAcousticThresholdK: 35,
    /**
     * "≥ 0" with a numerical zero of 0.005 K (≈ 1e-4 THz). With an imaginary optical Γ mode
     * above −35 K, two acoustic modes fall outside "the three lowest" and are tested against 0;
     * their values are eigenvalue round-off (|ν| ~ 1e-7 THz), so an exact 0 lets round-off
     * decide the label (phonondb mp-9348: phonopy +3e-8 THz, softmode −2e-7 THz). loew-1 used 0.
     */
    otherThresholdK: 0.005,
  }),
  mattersim: Object.freeze({
    version: 'mattersim-1',
    /** unstable if any band-path ν < −0.299 THz */
    thresholdTHz: 0.299,
  }),
  'full-bz': Object.freeze({
    version: 'full-bz-1',
    /** commensurate q + band path + mesh: unstable if any non-exempt ν < −threshold (THz) */
    thresholdTHz: 0.01,
    /** the three lowest modes at Γ are exempt while |ν| ≤ this (THz) */
    gammaAcousticToleranceTHz: 0.05,
  }),
} as const);

/**
 * Supercell per stability preset (core/structure/supercell.ts `chooseSupercell` rules). The
 * PhononBench preset keeps PhononBench's protocol: 2×2×2 of the input cell. The others use the
 * smallest supercell whose shortest periodic image distance is ≥ minImageDistance Å (exact
 * search over all integer supercell matrices), capped in atoms.
 * Why these numbers (bench/results/supercell-policy.json, `npm run bench:supercell-policy`):
 * on the 23 materials measured so far (golden + smallest phonondb cells, CHGNet, unrelaxed DFT
 * cells) against a 25 Å reference, full-bz agreement was 16/23 at 2×2×2, 17 at 10 Å, 18 at 12 Å,
 * 17 at 15 Å and 17 at 18 Å; loew 23, 20, 22, 21, 23; forces cost 22, 70, 105, 175, 306 s. The
 * remaining full-bz disagreements are small near-Γ negatives that move with the supercell (not
 * converged at 25 Å either), so L buys little beyond ~12–15 Å here; 15 Å is the lower end of
 * atomate2's 15–20 Å and removes the 8 Å aliasing of 2×2×2 primitive cells (NaCl, Si, Cu, W, Mo
 * come out stable). 500 atoms bounds one structure's forces to minutes on 2 cores.
 */
export const SUPERCELL_POLICY = Object.freeze({
  version: 'supercell-1',
  phononbench: Object.freeze({ kind: 'phononbench' as const }),
  loew: Object.freeze({ kind: 'min-image' as const, minImageDistance: 15, maxAtoms: 500, keepSymmetry: true }),
  mattersim: Object.freeze({ kind: 'min-image' as const, minImageDistance: 15, maxAtoms: 500, keepSymmetry: true }),
  'full-bz': Object.freeze({ kind: 'min-image' as const, minImageDistance: 15, maxAtoms: 500, keepSymmetry: true }),
} as const);

/** The supercell rule of a stability preset (SUPERCELL_POLICY). */
export type SupercellPolicyPreset = Exclude<keyof typeof SUPERCELL_POLICY, 'version'>;
