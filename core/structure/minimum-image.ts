// Minimum image by rounding: the one implementation of "the periodic image of a fractional
// difference d nearest to zero", used to decide whether two atoms coincide (within a tolerance
// far below the cell size). Each component is reduced to d − round(d) ∈ [−½, ½], then taken to
// Cartesian with the lattice rows: c = d·L.
//
// This is the nearest image whenever the distance is below half the smallest perpendicular
// width of the cell, which is all a coincidence test needs. It is not the nearest image of an
// arbitrary pair in a skewed cell: code that needs that (core/symmetry periodicDistance,
// core/structure/matcher, phonopy's shortest vectors in core/phonon/primitive.ts) searches the
// neighbouring images explicitly.
import type { Vec3 } from '../math/linalg.js';

type Lattice = readonly (readonly number[])[];

/** Cartesian vector of the rounded fractional difference `dfrac` (rows of `lattice`). */
export function minimumImage(lattice: Lattice, dfrac: readonly number[]): Vec3 {
  const d0 = dfrac[0]! - Math.round(dfrac[0]!);
  const d1 = dfrac[1]! - Math.round(dfrac[1]!);
  const d2 = dfrac[2]! - Math.round(dfrac[2]!);
  const a = lattice[0]!, b = lattice[1]!, c = lattice[2]!;
  return [d0 * a[0]! + d1 * b[0]! + d2 * c[0]!, d0 * a[1]! + d1 * b[1]! + d2 * c[1]!, d0 * a[2]! + d1 * b[2]! + d2 * c[2]!];
}

/** Length (Å) of minimumImage(lattice, dfrac), without allocating. */
export function minimumImageDistance(lattice: Lattice, dfrac: readonly number[]): number {
  const d0 = dfrac[0]! - Math.round(dfrac[0]!);
  const d1 = dfrac[1]! - Math.round(dfrac[1]!);
  const d2 = dfrac[2]! - Math.round(dfrac[2]!);
  const a = lattice[0]!, b = lattice[1]!, c = lattice[2]!;
  const x = d0 * a[0]! + d1 * b[0]! + d2 * c[0]!;
  const y = d0 * a[1]! + d1 * b[1]! + d2 * c[1]!;
  const z = d0 * a[2]! + d1 * b[2]! + d2 * c[2]!;
  return Math.sqrt(x * x + y * y + z * z);
}
