// Band-path (HPKOT / seekpath) parameters. Frozen defaults; bump `version` when any value changes.
export interface BandPathConfig {
  readonly version: string;
  /** q-points on the longest segment, end points included (phonopy's npoints, is_const_interval) */
  readonly pointsOnLongestSegment: number;
  /** fewest q-points on any segment (both end points) */
  readonly minPointsPerSegment: number;
  /** symmetry tolerance for moyo, Å (seekpath's default symprec) */
  readonly symprec: number;
  /**
   * Tolerance of the edge-case tests that pick the extended Bravais type (seekpath's
   * `threshold`): within it a case is reported in `edgeCases`, the choice itself is unchanged.
   */
  readonly edgeCaseThreshold: number;
  /** Phonons obey time reversal, so the path is never augmented with −k by default. */
  readonly withTimeReversal: boolean;
  /** tolerance (fractional) for merging atoms when building the HPKOT primitive cell */
  readonly primitiveMergeTolerance: number;
  /**
   * absolute tolerance (Å⁻², reciprocal vectors with 2π) of the reciprocal-space Niggli reduction
   * used for triclinic cells: spglib's default, which seekpath uses
   */
  readonly niggliEpsilon: number;
}

export const BANDPATH_DEFAULTS: BandPathConfig = Object.freeze({
  version: 'bandpath-1',
  pointsOnLongestSegment: 101,
  minPointsPerSegment: 2,
  symprec: 1e-5,
  edgeCaseThreshold: 1e-7,
  withTimeReversal: true,
  primitiveMergeTolerance: 1e-4,
  niggliEpsilon: 1e-5,
});
