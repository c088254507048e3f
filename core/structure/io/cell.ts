// Cell parameters ⇄ lattice matrix. Convention (ASE cellpar_to_cell, PDB/mmCIF default
// orthogonalisation): a along x, b in the xy-plane, c completing a right-handed cell.
import { VALIDATION } from '../../../config/validation.js';
import { type Mat3, cross3, dot3, norm3 } from '../../math/linalg.js';
import { inputError, type SourceContext } from './common.js';

const DEG = Math.PI / 180;

/** cos of an angle given in degrees, exactly 0 for exactly 90° (keeps orthogonal cells exact). */
function cosDeg(x: number): number {
  if (x === 90) return 0;
  return Math.cos(x * DEG);
}
function sinDeg(x: number): number {
  if (x === 90) return 1;
  return Math.sin(x * DEG);
}

export function cellparToLattice(a: number, b: number, c: number, alpha: number, beta: number, gamma: number, ctx: SourceContext = {}): Mat3 {
  const all = [a, b, c, alpha, beta, gamma];
  if (all.some((x) => !Number.isFinite(x))) throw inputError('non_finite', ctx, 'cell parameters are not finite');
  if (a <= 0 || b <= 0 || c <= 0) throw inputError('no_cell', ctx, `cell lengths must be positive (a=${a}, b=${b}, c=${c})`);
  if (Math.max(a, b, c) > VALIDATION.maxCellLength) throw inputError('bad_volume', ctx, `a cell length (a=${a}, b=${b}, c=${c}) exceeds ${VALIDATION.maxCellLength} Å`);
  for (const ang of [alpha, beta, gamma])
    if (ang <= 0 || ang >= 180) throw inputError('no_cell', ctx, `cell angles must lie in (0°, 180°), got ${ang}`);
  const ca = cosDeg(alpha);
  const cb = cosDeg(beta);
  const cg = cosDeg(gamma);
  const sg = sinDeg(gamma);
  const cx = cb;
  const cy = (ca - cb * cg) / sg;
  const cz2 = 1 - cx * cx - cy * cy;
  if (!(cz2 > 1e-12)) throw inputError('no_cell', ctx, `cell angles α=${alpha}, β=${beta}, γ=${gamma} do not form a cell (zero or imaginary volume)`);
  return [
    [a, 0, 0],
    [b * cg, b * sg, 0],
    [c * cx, c * cy, c * Math.sqrt(cz2)],
  ];
}

/** (a, b, c, α, β, γ) in Å and degrees. */
export function latticeToCellpar(L: readonly (readonly number[])[]): [number, number, number, number, number, number] {
  const [va, vb, vc] = [L[0]!, L[1]!, L[2]!];
  const a = norm3(va);
  const b = norm3(vb);
  const c = norm3(vc);
  // atan2 form is accurate near 0° and 180°, where acos loses digits
  const ang = (u: readonly number[], v: readonly number[]): number => {
    const d = dot3(u, v);
    if (d === 0) return 90;
    return (Math.atan2(norm3(cross3(u, v)), d) * 180) / Math.PI;
  };
  return [a, b, c, ang(vb, vc), ang(va, vc), ang(va, vb)];
}
