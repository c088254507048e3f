// Structure identity, matching, dedup and neighbour-list parameters. Frozen defaults; bump
// `version` when any value changes (hashes computed under another version are not comparable).
export interface StructureHashConfig {
  /** symprec (Å) for the primitive cell the hash is computed on; tight, to find only true translations */
  readonly symprec: number;
  /** fractional coordinates of the canonical cell are rounded to 10^-fracDecimals */
  readonly fracDecimals: number;
  /** cell lengths rounded to 10^-lengthDecimals Å */
  readonly lengthDecimals: number;
  /** cell angles rounded to 10^-angleDecimals degrees */
  readonly angleDecimals: number;
  /** relative tolerance on the metric for two Niggli bases to count as the same cell */
  readonly metricTolerance: number;
}

export interface StructureMatcherConfig {
  /** fractional length tolerance (pymatgen ltol) */
  readonly ltol: number;
  /** site tolerance as a fraction of the free length per atom (V/N)^(1/3) (pymatgen stol) */
  readonly stol: number;
  /** angle tolerance, degrees (pymatgen angle_tol) */
  readonly angleTol: number;
  /** reduce both structures to primitive cells first (pymatgen primitive_cell) */
  readonly primitiveCell: boolean;
  /** scale both to the same volume (pymatgen scale) */
  readonly scale: boolean;
  /** symprec (Å) of the primitive-cell search; pymatgen's get_primitive_structure uses 0.25 Å */
  readonly primitiveSymprec: number;
}

export interface DedupConfig {
  /** symprec (Å) of the loose space-group key of the pre-filter */
  readonly spacegroupSymprec: number;
  /**
   * relative width of a volume-per-atom bucket. Structures are compared with their own bucket
   * and the next one, so pairs whose volumes per atom differ by less than this always meet.
   */
  readonly volumeBucket: number;
  /**
   * true: the loose space group is part of the pre-filter key (fewer comparisons, but pairs the
   * matcher calls the same are split when their space groups differ at that symprec: 3 of the
   * 225 MatterGen P1/symmetrized pairs). false (default): the space group only orders the
   * comparisons (same space group first), so it never splits a match.
   */
  readonly spacegroupInKey: boolean;
}

export interface StructureConfig {
  readonly version: string;
  readonly hash: StructureHashConfig;
  readonly matcher: StructureMatcherConfig;
  readonly dedup: DedupConfig;
  /** symprec (Å) `softmode validate` reports the space group at */
  readonly validateSymprec: number;
}

export const STRUCTURE_DEFAULTS: StructureConfig = Object.freeze({
  version: 'structure-1',
  hash: Object.freeze({ symprec: 1e-3, fracDecimals: 3, lengthDecimals: 3, angleDecimals: 2, metricTolerance: 1e-4 }),
  matcher: Object.freeze({ ltol: 0.2, stol: 0.3, angleTol: 5, primitiveCell: true, scale: true, primitiveSymprec: 0.1 }),
  dedup: Object.freeze({ spacegroupSymprec: 0.1, volumeBucket: 0.5, spacegroupInKey: false }),
  validateSymprec: 0.1,
});
