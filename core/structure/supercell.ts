// Supercells, built the way phonopy builds them (its default "old style" algorithm), so atom
// indices agree with phonopy_disp.yaml / FORCE_SETS files.
//
// Matrix convention (phonopy's `supercell_matrix`, "DIM"): with lattice vectors as ROWS,
//   supercell rows = Mᵀ · unit-cell rows,
// i.e. phonopy's column convention  (a_s b_s c_s) = (a b c) · M.  For a diagonal M the two
// conventions coincide. Example: M = [[-1,1,1],[1,-1,1],[1,1,-1]] makes the conventional cubic
// cell from an fcc primitive cell.
//
// Atom order: for each unit-cell atom in input order, all of its lattice-point copies, with
// the a-index running fastest over the surrounding box (phonopy's meshgrid order); for a
// non-diagonal M the box is the bounding frame of M and atoms outside the supercell (or
// duplicates after wrapping) are dropped, keeping the first copy.
import { SoftmodeInputError } from '../errors.js';
import { type Mat3, type Vec3, det3, inv3, matmul3, norm3, transpose3, vecmat3 } from '../math/linalg.js';
import { type Structure, makeStructure } from './structure.js';

export type IntMat3 = Mat3;

export interface Supercell {
  structure: Structure;
  /** phonopy supercell_matrix (column convention, see header) */
  matrix: IntMat3;
  /** for each supercell atom: index of the unit-cell atom it copies */
  s2u: number[];
  /** for each unit-cell atom: index of its first copy in the supercell */
  u2s: number[];
}

function checkIntegerMatrix(m: readonly (readonly number[])[]): IntMat3 {
  if (m.length !== 3 || m.some((r) => r.length !== 3))
    throw new SoftmodeInputError('invalid_argument', 'supercell matrix must be 3×3');
  for (const r of m)
    for (const x of r)
      if (!Number.isInteger(x)) throw new SoftmodeInputError('invalid_argument', `supercell matrix has a non-integer entry ${x}`);
  const d = det3(m);
  if (d === 0) throw new SoftmodeInputError('invalid_argument', 'supercell matrix is singular');
  return [
    [m[0]![0]!, m[0]![1]!, m[0]![2]!],
    [m[1]![0]!, m[1]![1]!, m[1]![2]!],
    [m[2]![0]!, m[2]![1]!, m[2]![2]!],
  ];
}

/** Accept "2", [2,2,2] or a 3×3 matrix (phonopy's DIM forms). */
export function toSupercellMatrix(dim: number | readonly number[] | readonly (readonly number[])[]): IntMat3 {
  if (typeof dim === 'number') return checkIntegerMatrix([[dim, 0, 0], [0, dim, 0], [0, 0, dim]]);
  if (dim.length === 3 && typeof dim[0] === 'number') {
    const d = dim as readonly number[];
    return checkIntegerMatrix([[d[0]!, 0, 0], [0, d[1]!, 0], [0, 0, d[2]!]]);
  }
  if (dim.length === 9 && typeof dim[0] === 'number') {
    const d = dim as readonly number[];
    return checkIntegerMatrix([d.slice(0, 3), d.slice(3, 6), d.slice(6, 9)]);
  }
  return checkIntegerMatrix(dim as readonly (readonly number[])[]);
}

/** Supercell lattice (rows) for a phonopy supercell matrix. */
export function supercellLattice(lattice: readonly (readonly number[])[], matrix: readonly (readonly number[])[]): Mat3 {
  return matmul3(transpose3(matrix), lattice);
}

export function makeSupercell(s: Structure, matrixIn: readonly (readonly number[])[], symprec = 1e-5): Supercell {
  const M = checkIntegerMatrix(matrixIn);
  const det = Math.round(Math.abs(det3(M)));
  // Bounding frame of the supercell vectors (columns of M), phonopy's "surrounding frame".
  const cols = [0, 1, 2].map((j) => [M[0]![j]!, M[1]![j]!, M[2]![j]!]);
  const corners: number[][] = [[0, 0, 0], cols[0]!, cols[1]!, cols[2]!];
  corners.push(cols[1]!.map((x, i) => x + cols[2]![i]!));
  corners.push(cols[2]!.map((x, i) => x + cols[0]![i]!));
  corners.push(cols[0]!.map((x, i) => x + cols[1]![i]!));
  corners.push(cols[0]!.map((x, i) => x + cols[1]![i]! + cols[2]![i]!));
  const frame = [0, 1, 2].map((i) => Math.max(...corners.map((c) => c[i]!)) - Math.min(...corners.map((c) => c[i]!)));
  const isDiagonal = M[0]![1] === 0 && M[0]![2] === 0 && M[1]![0] === 0 && M[1]![2] === 0 && M[2]![0] === 0 && M[2]![1] === 0;
  // Positions in the frame cell are (l + x)/frame; the trim matrix R has rows M_i/frame_i and
  // maps frame-fractional to supercell-fractional coordinates via x · R⁻ᵀ.
  const R: Mat3 = [0, 1, 2].map((i) => [0, 1, 2].map((j) => M[i]![j]! / frame[i]!)) as Mat3;
  const RinvT = transpose3(inv3(R));
  const lattice = supercellLattice(s.lattice, M);
  const frac: Vec3[] = [];
  const numbers: number[] = [];
  const labels: string[] = [];
  const s2u: number[] = [];
  const u2s: number[] = [];
  const [f0, f1, f2] = frame as [number, number, number];
  for (let u = 0; u < s.numbers.length; u++) {
    const x = s.frac[u]!;
    let first = true;
    for (let c = 0; c < f2; c++)
      for (let b = 0; b < f1; b++)
        for (let a = 0; a < f0; a++) {
          const pf: Vec3 = [(a + x[0]) / f0, (b + x[1]) / f1, (c + x[2]) / f2];
          const p = isDiagonal ? pf : vecmat3(pf, RinvT);
          for (let k = 0; k < 3; k++) p[k] = p[k]! - Math.floor(p[k]!);
          if (!isDiagonal) {
            // drop duplicates (atoms of the frame that fold onto an existing one)
            let dup = false;
            for (let t = frac.length - 1; t >= 0; t--) {
              const q = frac[t]!;
              const d: Vec3 = [p[0] - q[0], p[1] - q[1], p[2] - q[2]];
              for (let k = 0; k < 3; k++) d[k] = d[k]! - Math.round(d[k]!);
              if (norm3(vecmat3(d, lattice)) < symprec) {
                dup = true;
                break;
              }
            }
            if (dup) continue;
          }
          if (first) {
            u2s.push(frac.length);
            first = false;
          }
          frac.push(p);
          numbers.push(s.numbers[u]!);
          if (s.labels) labels.push(s.labels[u]!);
          s2u.push(u);
        }
  }
  if (frac.length !== det * s.numbers.length)
    throw new SoftmodeInputError('invalid_argument', `supercell construction found ${frac.length} atoms, expected ${det * s.numbers.length} (overlapping atoms?)`);
  const structure = makeStructure({
    lattice,
    frac,
    numbers,
    ...(s.labels ? { labels } : {}),
    ...(s.name !== undefined ? { name: s.name } : {}),
  });
  return { structure, matrix: M, s2u, u2s };
}

// ---- supercell choice -------------------------------------------------------------------

export type SupercellRule =
  | { kind: 'explicit'; matrix: readonly (readonly number[])[] }
  /** PhononBench: 2×2×2 of the input cell */
  | { kind: 'phononbench' }
  /** smallest diagonal multiples with every supercell vector ≥ minLength Å (atomate2 style),
   *  shrunk axis by axis (longest first) while the atom count exceeds maxAtoms */
  | { kind: 'min-length'; minLength: number; maxAtoms: number };

export interface SupercellChoice {
  rule: SupercellRule;
  matrix: IntMat3;
  natoms: number;
  /** |a_s|, |b_s|, |c_s| in Å */
  lengths: Vec3;
  note?: string;
}

export function chooseSupercell(s: Structure, rule: SupercellRule): SupercellChoice {
  const n = s.numbers.length;
  const finish = (m: IntMat3, note?: string): SupercellChoice => {
    const L = supercellLattice(s.lattice, m);
    return {
      rule,
      matrix: m,
      natoms: n * Math.round(Math.abs(det3(m))),
      lengths: [norm3(L[0]), norm3(L[1]), norm3(L[2])],
      ...(note ? { note } : {}),
    };
  };
  if (rule.kind === 'explicit') return finish(toSupercellMatrix(rule.matrix));
  if (rule.kind === 'phononbench') return finish(toSupercellMatrix(2));
  if (!(rule.minLength > 0) || !(rule.maxAtoms >= n))
    throw new SoftmodeInputError('invalid_argument', `min-length rule needs minLength > 0 and maxAtoms ≥ ${n}`);
  const len = s.lattice.map((r) => norm3(r));
  const mult = len.map((l) => Math.max(1, Math.ceil(rule.minLength / l - 1e-9)));
  let note: string | undefined;
  while (n * mult[0]! * mult[1]! * mult[2]! > rule.maxAtoms) {
    // reduce the multiple whose supercell vector is currently longest
    let k = -1;
    let best = -1;
    for (let i = 0; i < 3; i++)
      if (mult[i]! > 1 && mult[i]! * len[i]! > best) {
        best = mult[i]! * len[i]!;
        k = i;
      }
    if (k < 0) break;
    mult[k] = mult[k]! - 1;
    note = `capped at ${rule.maxAtoms} atoms: some vectors shorter than ${rule.minLength} Å`;
  }
  return finish(toSupercellMatrix(mult), note);
}
