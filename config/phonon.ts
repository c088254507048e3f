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
 * smallest supercell whose shortest periodic image distance is ≥ 15 Å (exact search over all
 * integer supercell matrices), capped at 500 atoms; a supercell keeping the lattice's whole point
 * group is taken instead when it needs at most 1.5× the atoms (symmetricAtomFactor).
 *
 * Why (bench/results/supercell-policy.json, `npm run bench:supercell-policy`; CHGNet-0.3.0
 * float64; 34 cells, the smallest of the golden phonopy cells and phonondb, DFT-relaxed, at their
 * given geometry; 2×2×2 and 10 / 12 / 15 / 18 Å, each vs a reference of up to 25 Å):
 * - 2×2×2 of a primitive cell has images ~6–9 Å apart (median 8.1 Å): the artefact of issue 13
 *   (relaxed NaCl: unstable at 2×2×2, −0.26 THz; stable from 15 Å on).
 * - |Δ min ν| vs the reference, full-bz, median / p90 (THz): 2×2×2 0.10 / 0.81, 10 Å 0.16 / 1.06,
 *   12 Å 0.09 / 0.83, 15 Å 0.08 / 0.63, 18 Å 0.03 / 0.26. Label agreement with the reference stays
 *   at 74–79 % for every size: on these unrelaxed cells CHGNet's own label noise (near-zero modes
 *   flipping sign; its PES is not smooth at the 0.01 Å displacement scale) dominates, not the
 *   supercell. 18 Å converges min ν best but costs ~2× (median 246 vs 136 atoms, 11 vs 5.6 s per
 *   material here; fewest-atoms rule over the 171 phonondb + 16 example cells: median 288 vs 180
 *   atoms, 19 vs 2 cells above 500 atoms) and memory: the model's peak follows the bond-graph
 *   triplets of one supercell (~50 kB each; LiF 432 atoms ≈ 130k triplets ≈ 7 GB). 15 Å is the
 *   campaign-scale choice. The same bench later, on 161 of the 178 cells (golden + phonondb,
 *   smallest first, plus some of the largest; the rest pending): full-bz label agreement with the
 *   25 Å reference 2×2×2 139/161, 12 Å 141/161, 15 Å 139/161, this policy 142/161; |Δ min ν|
 *   median / p90 (THz) 0.056 / 0.69, 0.11 / 0.77, 0.052 / 0.51, 0.049 / 0.62.
 * - symmetricAtomFactor 1.5: the fewest-atoms supercell of a small cubic cell is a low-symmetry
 *   shape whose anisotropic truncation of the force constants gives small imaginary acoustic
 *   modes near Γ (relaxed KCl 96 atoms −0.16 THz, LiF 288 atoms −0.06 THz: amplitude-independent;
 *   both stable in the symmetric 128 / 432-atom supercells and at 18–21 Å). Over the 187 cells
 *   it takes the symmetric supercell for 75, +10 % atoms in total (often fewer displacements).
 * - 500 atoms: above the 15 Å need of all but 2 of those 187 cells.
 * - maxBondTriplets 150 000 within 3 Å (CHGNet's bond-graph cutoff; supercell-2): the model's
 *   memory follows the three-body terms, not the atoms. Measured peak RSS of one CHGNet float64
 *   evaluation of C-diamond (28 neighbours within 3 Å: 756 triplets per atom):
 *   128 atoms 4.3 GB, 250 atoms 8.4 GB, 432 atoms (its 15 Å supercell, ~330k triplets) 14.1 GB,
 *   against 0.37 GB for Si at 128 atoms (12 triplets per atom). 150k triplets ≈ 7.5 GB per
 *   supercell; LiF's 432-atom symmetric supercell (~130k) still fits; C-diamond is capped to
 *   the largest image distance with ≤ 198 atoms (noted in the supercell choice).
 */
export const SUPERCELL_POLICY = Object.freeze({
  version: 'supercell-2',
  phononbench: Object.freeze({ kind: 'phononbench' as const }),
  loew: Object.freeze({ kind: 'min-image' as const, minImageDistance: 15, maxAtoms: 500, symmetricAtomFactor: 1.5, maxBondTriplets: 150_000, bondCutoff: 3 }),
  mattersim: Object.freeze({ kind: 'min-image' as const, minImageDistance: 15, maxAtoms: 500, symmetricAtomFactor: 1.5, maxBondTriplets: 150_000, bondCutoff: 3 }),
  'full-bz': Object.freeze({ kind: 'min-image' as const, minImageDistance: 15, maxAtoms: 500, symmetricAtomFactor: 1.5, maxBondTriplets: 150_000, bondCutoff: 3 }),
} as const);

/** The supercell rule of a stability preset (SUPERCELL_POLICY). */
export type SupercellPolicyPreset = Exclude<keyof typeof SUPERCELL_POLICY, 'version'>;
