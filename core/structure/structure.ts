import { type Mat3, type Vec3, det3, inv3, vecmat3, copy3 } from '../math/linalg.js';
import { StructureError } from '../errors.js';

/** Per-frame labels that may come with a structure (extended XYZ, training data). */
export interface StructureProperties {
  /** total energy, eV */
  energy?: number;
  /** forces, eV/Å, one row per atom */
  forces?: Vec3[];
  /** stress, eV/Å³, 3×3 (positive = tensile, ASE convention) */
  stress?: Mat3;
  [key: string]: unknown;
}

/**
 * An immutable crystal structure. Lattice rows are the cell vectors a, b, c in Å;
 * positions are fractional in that basis; numbers are atomic numbers.
 */
export interface Structure {
  readonly lattice: Readonly<Mat3>;
  readonly frac: readonly Readonly<Vec3>[];
  readonly numbers: readonly number[];
  readonly labels?: readonly string[];
  readonly properties?: Readonly<StructureProperties>;
  /** free-form identifier from the source (CIF data block name, file name, ...) */
  readonly name?: string;
}

export interface StructureInit {
  lattice: readonly (readonly number[])[];
  frac?: readonly (readonly number[])[];
  cart?: readonly (readonly number[])[];
  numbers: readonly number[];
  labels?: readonly string[];
  properties?: StructureProperties;
  name?: string;
}

/** Build a structure, checking shapes (fractional or Cartesian positions, not both). */
export function makeStructure(init: StructureInit): Structure {
  const L = init.lattice;
  if (L.length !== 3 || L.some((r) => r.length !== 3))
    throw new StructureError('no_cell', 'lattice must be 3×3');
  const lattice = copy3(L);
  const n = init.numbers.length;
  let frac: Vec3[];
  if (init.frac && init.cart) throw new Error('give frac or cart, not both');
  if (init.frac) {
    frac = init.frac.map((p) => [p[0]!, p[1]!, p[2]!] as Vec3);
  } else if (init.cart) {
    const inv = inv3(lattice);
    frac = init.cart.map((p) => vecmat3(p, inv));
  } else {
    frac = [];
  }
  if (frac.length !== n)
    throw new RangeError(`positions (${frac.length}) and numbers (${n}) differ in length`);
  if (init.labels && init.labels.length !== n)
    throw new RangeError('labels length differs from number of atoms');
  const s: Structure = {
    lattice,
    frac,
    numbers: [...init.numbers],
    ...(init.labels ? { labels: [...init.labels] } : {}),
    ...(init.properties ? { properties: init.properties } : {}),
    ...(init.name !== undefined ? { name: init.name } : {}),
  };
  return s;
}

export function numAtoms(s: Structure): number {
  return s.numbers.length;
}

/** Cell volume in Å³ (signed determinant's absolute value). */
export function volume(s: Structure): number {
  return Math.abs(det3(s.lattice));
}

export function cartesian(s: Structure): Vec3[] {
  return s.frac.map((f) => vecmat3(f, s.lattice));
}

/** Same structure with new lattice and/or positions; other fields kept. */
export function withGeometry(s: Structure, lattice: readonly (readonly number[])[], frac: readonly (readonly number[])[]): Structure {
  return makeStructure({
    lattice,
    frac,
    numbers: s.numbers,
    ...(s.labels ? { labels: s.labels } : {}),
    ...(s.name !== undefined ? { name: s.name } : {}),
  });
}
