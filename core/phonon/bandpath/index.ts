// HPKOT band path (Hinuma, Pizzi, Kumagai, Oba, Tanaka, Comput. Mater. Sci. 128, 140 (2017)),
// as seekpath computes it, with the points mapped to the reciprocal basis of the caller's cell
// (seekpath's get_path_orig_cell; physics.md §4) and phonopy's constant-interval sampling.
import { BANDPATH_DEFAULTS } from '../../../config/bandpath.js';
import { UsageError } from '../../errors.js';
import { type Mat3, type Vec3, det3, inv3, matvec3, norm3, sub3, vecmat3 } from '../../math/linalg.js';
import { type Structure, makeStructure } from '../../structure/structure.js';
import { type NiggliResult, niggliReduce as reduce, spglibNiggliOptions } from '../../structure/niggli.js';
import { type HpkotCell, hpkotCell, reciprocalRows } from './standardize.js';
import { type ExtendedBravais, type LatticeParams, hpkotTable } from './tables.js';

export { EXTENDED_BRAVAIS_TYPES, type ExtendedBravais, type LatticeParams, hpkotTable, expandPath } from './tables.js';
export { hpkotCell, latticeParams, reciprocalRows, type HpkotCell } from './standardize.js';

/** spglib's niggli_reduce with absolute tolerance `eps` (seekpath's call): the one reduction, core/structure/niggli.ts. */
export function niggliReduce(rows: Mat3, eps = 1e-5): NiggliResult {
  return reduce(rows, spglibNiggliOptions(eps));
}

export interface BandPathOptions {
  /** moyo tolerance, Å (default config/bandpath.ts) */
  symprec?: number;
  /** q-points on the longest segment, end points included (default 101) */
  pointsOnLongestSegment?: number;
  /**
   * PhononBench's quirk (the same as phonopy's `BAND = AUTO` helper): use the HPKOT coordinates
   * verbatim as fractional coordinates of the input cell. Correct only when the input cell is the
   * HPKOT primitive cell itself; otherwise the "path" visits other q-points.
   */
  phononbenchCompat?: boolean;
  /** default true (phonons): the path is not augmented with the −k points */
  withTimeReversal?: boolean;
}

export interface BandPathSegment {
  labels: [string, string];
  /** fractional q-points in the basis named by `qpointsBasis`, both end points included */
  qpoints: Vec3[];
}

export interface BandPath {
  extendedBravais: ExtendedBravais;
  spaceGroup: number;
  /**
   * HPKOT primitive cell in the input's Cartesian frame (not rotated like seekpath's): lattice
   * = hpkotFromInput · input lattice, atoms from moyo's standardized (symmetrized) cell
   */
  hpkotPrimitive: Structure;
  /** special points in the basis named by `qpointsBasis` */
  points: Record<string, Vec3>;
  path: [string, string][];
  segments: BandPathSegment[];
  /**
   * 'input': fractional in the reciprocal basis of the input lattice (the correct mapping).
   * 'hpkot-primitive': the HPKOT coordinates themselves (phononbenchCompat), which the caller
   * uses verbatim as fractional coordinates of its cell.
   */
  qpointsBasis: 'input' | 'hpkot-primitive';
  /** special points fractional in the HPKOT primitive reciprocal basis (seekpath's point_coords) */
  pointsHpkot: Record<string, Vec3>;
  /** k-vector parameters of the extended type (η, ζ, …) */
  parameters: Record<string, number>;
  /** conventional-cell lattice parameters the parameters were computed from */
  latticeParams: LatticeParams;
  /** rows: HPKOT primitive lattice = hpkotFromInput · input lattice */
  hpkotFromInput: Mat3;
  /** e.g. 'cF', 'oA' */
  bravais: string;
  hasInversion: boolean;
  /** true when the path was extended with −k points (no inversion, no time reversal) */
  augmentedPath: boolean;
  /** near-ties in the extended-type decision (the chosen type is still valid; see HPKOT §4) */
  edgeCases: string[];
  /** input cell volume / HPKOT primitive volume (> 1 for a supercell input) */
  inputCellsPerPrimitive: number;
  configVersion: string;
}

/**
 * numpy.rint (round half to even), which phonopy uses for segment point counts. Exact halves occur
 * (hexagonal |M–K| = |Γ–K|/2); there the last bits of how the lengths were computed decide
 * the side, in numpy as here, so a count may differ from phonopy's by one on such a segment.
 * `halfTol` > 0 treats values that close to a half as exact halves.
 */
export function rintHalfEven(x: number, halfTol = 0): number {
  const f = Math.floor(x);
  const frac = x - f;
  if (Math.abs(frac - 0.5) <= halfTol * Math.max(1, Math.abs(x))) return f % 2 === 0 ? f : f + 1;
  return Math.round(x);
}

/**
 * Points per segment, phonopy's constant-interval rule: n = max(min, rint(N·ℓ/ℓ_max)), with ℓ the
 * Cartesian length of each segment (no 2π: the ratio does not depend on it).
 */
export function segmentPointCounts(
  segments: readonly (readonly [Vec3, Vec3])[],
  reciprocal: Mat3,
  pointsOnLongest: number,
  minPoints = BANDPATH_DEFAULTS.minPointsPerSegment,
): number[] {
  const lengths = segments.map(([s, e]) => norm3(vecmat3(sub3(e, s), reciprocal)));
  const maxLen = Math.max(...lengths);
  return lengths.map((l) => Math.max(minPoints, rintHalfEven((l / maxLen) * pointsOnLongest)));
}

/** Evenly spaced points from s to e, both included. */
export function sampleSegment(s: Vec3, e: Vec3, n: number): Vec3[] {
  const d = sub3(e, s);
  const out: Vec3[] = [];
  for (let i = 0; i < n; i++) {
    const t = i / (n - 1);
    out.push([s[0] + d[0] * t, s[1] + d[1] * t, s[2] + d[2] * t]);
  }
  return out;
}

function checkOptions(opts: BandPathOptions): void {
  const n = opts.pointsOnLongestSegment;
  if (n !== undefined && (!Number.isInteger(n) || n < 2))
    throw new UsageError(`pointsOnLongestSegment must be an integer ≥ 2, got ${n}`);
  const sp = opts.symprec;
  if (sp !== undefined && !(sp > 0 && Number.isFinite(sp)))
    throw new UsageError(`symprec must be a positive number, got ${sp}`);
}

/**
 * HPKOT band path for `structure`, the cell the caller diagonalizes the dynamical matrix in.
 * Points come from the HPKOT tables (fractional in the HPKOT primitive reciprocal basis) and are
 * mapped to the input's reciprocal basis: with L_P = M·L (rows), q_input = M⁻¹ · q_P. This is
 * seekpath's get_path_orig_cell without its round trip through the rotated, idealized cell, so
 * standardization rotations cancel exactly.
 */
export function bandPath(structure: Structure, opts: BandPathOptions = {}): BandPath {
  checkOptions(opts);
  const nLongest = opts.pointsOnLongestSegment ?? BANDPATH_DEFAULTS.pointsOnLongestSegment;
  const withTimeReversal = opts.withTimeReversal ?? BANDPATH_DEFAULTS.withTimeReversal;
  const compat = opts.phononbenchCompat ?? false;

  const cell: HpkotCell = hpkotCell(structure, opts.symprec !== undefined ? { symprec: opts.symprec } : {});
  const table = hpkotTable(cell.extendedBravais, cell.latticeParams);
  const pointsHpkot: Record<string, Vec3> = { ...table.points };
  const path = table.path.map(([s, e]) => [s, e] as [string, string]);

  const augmentedPath = !cell.hasInversion && !withTimeReversal;
  if (augmentedPath) {
    // Without inversion and time reversal, k and −k differ: HPKOT adds the primed path.
    for (const [label, k] of Object.entries(table.points)) {
      if (label !== 'GAMMA') pointsHpkot[`${label}'`] = [-k[0], -k[1], -k[2]];
    }
    const prime = (l: string) => (l === 'GAMMA' ? l : `${l}'`);
    for (const [s, e] of table.path) path.push([prime(s), prime(e)]);
  }

  const inputLattice = structure.lattice as Mat3;
  const toInput = inv3(cell.hpkotFromInput);
  const points: Record<string, Vec3> = {};
  for (const [label, k] of Object.entries(pointsHpkot)) points[label] = compat ? [...k] : matvec3(toInput, k);

  // Segment lengths in the input's reciprocal basis: with the correct mapping these are the
  // true Cartesian lengths; in compat mode they are those of the verbatim coordinates, as phonopy
  // computed them.
  const reciprocal = reciprocalRows(inputLattice);
  const ends = path.map(([s, e]) => [points[s]!, points[e]!] as const);
  const counts = segmentPointCounts(ends, reciprocal, nLongest);
  const segments = path.map(([s, e], i) => ({
    labels: [s, e] as [string, string],
    qpoints: sampleSegment(points[s]!, points[e]!, counts[i]!),
  }));

  const prim = cell.primitive;
  const hpkotPrimitive = makeStructure({
    lattice: prim.lattice,
    frac: prim.frac,
    numbers: prim.numbers,
    name: `${structure.name ?? 'structure'} (HPKOT primitive, ${cell.extendedBravais})`,
  });

  return {
    extendedBravais: cell.extendedBravais,
    spaceGroup: cell.spaceGroup,
    hpkotPrimitive,
    points,
    path,
    segments,
    qpointsBasis: compat ? 'hpkot-primitive' : 'input',
    pointsHpkot,
    parameters: table.parameters,
    latticeParams: cell.latticeParams,
    hpkotFromInput: cell.hpkotFromInput,
    bravais: cell.bravais,
    hasInversion: cell.hasInversion,
    augmentedPath,
    edgeCases: cell.edgeCases,
    inputCellsPerPrimitive: 1 / Math.abs(det3(cell.hpkotFromInput)),
    configVersion: BANDPATH_DEFAULTS.version,
  };
}
