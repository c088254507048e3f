// Limits for reading and validating input structures (core/structure/io, core/structure/validate).
// Every bound here is a guard against nonsense or hostile input, not a physical model: values
// were chosen so that every real inorganic crystal passes and generator garbage does not.
export interface ValidationConfig {
  version: string;
  maxFileBytes: number;
  maxAtomsRead: number;
  maxSymmetryCandidates: number;
  maxCifTokens: number;
  maxAtomsPerFile: number;
  maxStructuresPerFile: number;
  maxJsonBytes: number;
  maxAtoms: number;
  maxAtomsInCell: number;
  maxCellLength: number;
  maxFractionalCoordinate: number;
  symprecForPrimitive: number;
  minVolumePerAtom: number;
  maxVolumePerAtom: number;
  minCellFlatness: number;
  minDistanceFraction: number;
  warnDistanceFraction: number;
  siteMergeTolerance: number;
  occupancyTolerance: number;
}

export const VALIDATION: Readonly<ValidationConfig> = Object.freeze({
  version: 'validation-3',

  /** Files larger than this are refused before reading (bytes). A 500-atom CIF is ~40 kB. */
  maxFileBytes: 50 * 1024 * 1024,

  /**
   * Hard ceiling on atoms a reader will materialise in one structure (memory and time guard).
   * Count claims (POSCAR count line, XYZ atom line, CIF rows, symmetry expansion) are checked
   * against it before any per-atom allocation. 5× maxAtomsInCell: anything bigger could never
   * pass validation, and 2·10^4 atoms read (or expand) in well under a second.
   */
  maxAtomsRead: 20_000,

  /**
   * Symmetry expansion of a CIF may try at most this many candidate positions
   * (sites × operations) before giving up; bounded so a hostile file cannot burn minutes.
   */
  maxSymmetryCandidates: 5_000_000,

  /**
   * A CIF with more tokens than this is refused (memory guard: every token becomes an object).
   * A CIF at the read ceiling (2·10^4 sites × ~10 columns, plus an ADP loop) has ~3.5·10^5.
   */
  maxCifTokens: 1_000_000,

  /**
   * Totals over all structures of one file (multi-frame extended XYZ, JSON lists, CIF blocks):
   * a 50 MB file of one-atom frames would otherwise become ~10^6 structures (>1 GB). The shared
   * parity sets hold 1,000 frames and ≲ 6·10^4 atoms per file.
   */
  maxAtomsPerFile: 200_000,
  maxStructuresPerFile: 10_000,

  /**
   * pymatgen JSON is parsed whole before its shape can be checked, at ~13 bytes of heap per
   * byte of text; 10 MB (≈ 6·10^4 sites) bounds that at ~130 MB.
   */
  maxJsonBytes: 10 * 1024 * 1024,

  /**
   * Atoms per primitive cell accepted for a phonon calculation. A cell given with more atoms
   * is accepted if its primitive cell (pure lattice translations found at
   * symprecForPrimitive) has no more than this.
   */
  maxAtoms: 500,
  /** Above this many atoms in the given cell we do not even look for translations. */
  maxAtomsInCell: 4_000,
  /**
   * Longest cell vector accepted, Å. No crystal cell is anywhere near it (a 4,000-atom cell at
   * the largest volume per atom is ~130 Å on a side); it keeps absurd inputs (a = 1e308) from
   * overflowing the arithmetic before the volume check can reject them.
   */
  maxCellLength: 10_000,
  /** |fractional coordinate| beyond this is refused (1e4 cells away: 12 of 16 digits gone) */
  maxFractionalCoordinate: 10_000,
  /** tolerance (Å) for the pure translations that give the primitive cell size */
  symprecForPrimitive: 1e-3,

  /**
   * Volume per atom bounds (Å³/atom). Densest known solids: diamond 5.7, compressed hydrides
   * ~2-3; nothing physical is below 1. Most voluminous elemental solid: Cs ≈ 117 (room T);
   * beyond 500 (≈ 4× Cs) a "crystal" is mostly vacuum (gas, slab or broken cell).
   */
  minVolumePerAtom: 1.0,
  maxVolumePerAtom: 500.0,

  /**
   * |det L| / (|a||b||c|) below this means the three cell vectors are (numerically)
   * coplanar: the cell is degenerate whatever its volume per atom.
   */
  minCellFlatness: 1e-6,

  /** Atoms closer than this fraction of the sum of covalent radii are rejected. */
  minDistanceFraction: 0.5,
  /** ... and closer than this fraction give a warning. */
  warnDistanceFraction: 0.7,

  /**
   * Sites that symmetry (or a duplicated listing) maps within this periodic distance (Å) are
   * one site. Real interatomic distances are ≥ 0.5 Å; 0.01 Å absorbs 4-decimal rounding
   * of CIF coordinates on long axes (1e-4 × 30 Å = 3e-3 Å) without ever merging real atoms.
   */
  siteMergeTolerance: 1e-2,

  /** Occupancy below 1 − this (summed over a merged site) is partial occupancy. */
  occupancyTolerance: 1e-3,
});

