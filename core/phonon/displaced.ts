import { inv3, vecmat3 } from '../math/linalg.js';
import { makeStructure, type Structure } from '../structure/structure.js';

/** The supercell with one atom moved by a Cartesian displacement u (Å); Δfrac = u·L⁻¹ (rows). */
export function displacedSupercell(supercell: Structure, d: { atom: number; displacement: readonly number[] }): Structure {
  const df = vecmat3(d.displacement, inv3(supercell.lattice));
  const frac = supercell.frac.map((p, i) => (i === d.atom ? [p[0] + df[0], p[1] + df[1], p[2] + df[2]] : [...p]));
  return makeStructure({ lattice: supercell.lattice, frac, numbers: supercell.numbers });
}
