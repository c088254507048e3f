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
import { SoftmodeInputError, UsageError } from '../errors.js';
import { type Mat3, type Vec3, copy3, cross3, det3, dot3, identity3, inv3, matmul3, norm3, transpose3, vecmat3 } from '../math/linalg.js';
import { neighbourList } from '../neighbours/index.js';
import { minimumImageDistance } from './minimum-image.js';
import { niggliReduce } from './niggli.js';
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
              if (minimumImageDistance(lattice, [p[0] - q[0], p[1] - q[1], p[2] - q[2]]) < symprec) {
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
  | { kind: 'min-length'; minLength: number; maxAtoms: number }
  /**
   * smallest supercell (fewest atoms: smallest det M > 0 over all integer matrices) whose
   * shortest periodic image distance (shortest nonzero supercell lattice vector) is
   * ≥ minImageDistance Å; ties → the most lattice symmetry kept, the largest image distance,
   * the most cubic shape (see `minImageSupercell`). Capped at maxAtoms: then the largest image
   * distance the cap allows, with a note.
   */
  | {
      kind: 'min-image';
      minImageDistance: number;
      maxAtoms: number;
      /**
       * ≥ 1: take instead the smallest supercell (image distance ≥ minImageDistance) whose lattice
       * keeps every point-group operation of the cell's lattice (e.g. k×k×k of an fcc primitive
       * cell rather than a lower-symmetry shape), when it needs at most this factor more atoms
       * than the fewest-atoms one (and ≤ maxAtoms). Avoids the anisotropic truncation of the force
       * constants of low-symmetry supercells of small high-symmetry cells (config/phonon.ts).
       */
      symmetricAtomFactor?: number;
      /**
       * Memory budget: at most this many bond triplets (Σ_i b_i(b_i − 1), b_i = neighbours of
       * atom i within `bondCutoff` Å) in the supercell. A graph potential's memory follows its
       * three-body terms (CHGNet: ~50 kB per triplet in float64), and dense cells (diamond: 27
       * neighbours within 3 Å) would need far more than their atom count suggests. The atom cap
       * is lowered to n·⌊maxBondTriplets / triplets per cell⌋; geometric, so every model gets
       * the same supercell.
       */
      maxBondTriplets?: number;
      /** Å; required with maxBondTriplets */
      bondCutoff?: number;
    };

export interface SupercellChoice {
  rule: SupercellRule;
  matrix: IntMat3;
  natoms: number;
  /** |a_s|, |b_s|, |c_s| in Å */
  lengths: Vec3;
  /** shortest distance between an atom and its own periodic images in the supercell (the
   *  shortest nonzero supercell lattice vector), Å */
  minImageDistance: number;
  note?: string;
}

/** Absolute tolerance (Å) on image distances: a lattice vector counts as "short" when
 *  |v| < L − IMAGE_TOL, so a supercell whose image distance equals L exactly qualifies. */
const IMAGE_TOL = 1e-6;

/**
 * Shortest nonzero vector of a lattice (rows, Å), exactly: Niggli-reduce, then take the shortest
 * of all combinations n·L' with n ∈ {−2..2}³ \ {0} of the reduced basis (for a Niggli/Buerger
 * reduced basis the first vector already is the shortest; the enumeration is a safety margin).
 */
export function shortestLatticeVector(lattice: readonly (readonly number[])[]): { length: number; vector: Vec3 } {
  const R = niggliReduce(lattice).lattice;
  let best = Infinity;
  let vec: Vec3 = [0, 0, 0];
  for (let i = -2; i <= 2; i++)
    for (let j = -2; j <= 2; j++)
      for (let k = -2; k <= 2; k++) {
        if (i === 0 && j === 0 && k === 0) continue;
        const v: Vec3 = [0, 1, 2].map((t) => i * R[0]![t]! + j * R[1]![t]! + k * R[2]![t]!) as Vec3;
        const l = norm3(v);
        if (l < best - 1e-12) {
          best = l;
          vec = v;
        }
      }
  return { length: best, vector: vec };
}

/** Shortest periodic image distance (Å) of the supercell `matrix` (phonopy convention) of a lattice. */
export function minImageDistanceOf(lattice: readonly (readonly number[])[], matrix: readonly (readonly number[])[]): number {
  return shortestLatticeVector(supercellLattice(lattice, matrix)).length;
}

// -- min-image search ---------------------------------------------------------------------
//
// A supercell of index D (D = det M, D·n atoms) is a sublattice Λ' of the cell's lattice Λ with
// volume W = D·V. Its shortest image distance is λ₁(Λ'). In 3D a Minkowski-reduced basis
// (b1, b2, b3) attains the successive minima (|b_i| = λ_i), and Minkowski's second theorem with
// the Hermite constant γ₃ = 2^(1/3) bounds λ₁λ₂λ₃ ≤ √2·W. So every Λ' of index ≤ D_hi with
// λ₁ ≥ L has a Minkowski-reduced basis of lattice vectors of Λ with
//     L ≤ |b1| ≤ |b2| ≤ √(√2·W_hi/L),   |b2| ≤ |b3| ≤ √2·W_hi/(|b1|·|b2|),
// and, conversely, every such triple satisfying the Minkowski conditions (|b_j·b_i| ≤ |b_i|²/2,
// |b3 ± b1 ± b2| ≥ |b3|) spans a Λ' with λ₁ = |b1| and index |det| of its integer coordinates.
// The search enumerates these triples exhaustively (b1 up to the lattice's point group, which
// maps sublattices onto equivalent ones), so the smallest index found is the true minimum over
// all integer matrices. D_hi starts just above the packing bound D·V ≥ L³/√2 (no lattice of
// volume W has λ₁ > (√2·W)^(1/3)) and grows by 50 % until a supercell is found (or the atom cap
// is reached); the cost is dominated by the last round.

/** Lattice vectors of the reduced basis R with lo ≤ |v| ≤ hi (all signs), sorted by length. */
interface VectorShell {
  n: Int32Array; // 3 per vector, integer coordinates in the R basis
  xyz: Float64Array; // 3 per vector, Cartesian
  len: Float64Array;
  count: number;
}

function latticeShell(R: Mat3, lo: number, hi: number): VectorShell {
  const Rinv = inv3(R);
  const bound = [0, 1, 2].map((i) => Math.floor(hi * Math.hypot(Rinv[0]![i]!, Rinv[1]![i]!, Rinv[2]![i]!) + 1e-9));
  const items: { n: [number, number, number]; v: [number, number, number]; l: number }[] = [];
  for (let n0 = -bound[0]!; n0 <= bound[0]!; n0++)
    for (let n1 = -bound[1]!; n1 <= bound[1]!; n1++)
      for (let n2 = -bound[2]!; n2 <= bound[2]!; n2++) {
        if (n0 === 0 && n1 === 0 && n2 === 0) continue;
        const x = n0 * R[0]![0]! + n1 * R[1]![0]! + n2 * R[2]![0]!;
        const y = n0 * R[0]![1]! + n1 * R[1]![1]! + n2 * R[2]![1]!;
        const z = n0 * R[0]![2]! + n1 * R[1]![2]! + n2 * R[2]![2]!;
        const l = Math.sqrt(x * x + y * y + z * z);
        if (l >= lo && l <= hi) items.push({ n: [n0, n1, n2], v: [x, y, z], l });
      }
  // by length, then by integer coordinates: a deterministic order
  items.sort((p, q) => p.l - q.l || p.n[0] - q.n[0] || p.n[1] - q.n[1] || p.n[2] - q.n[2]);
  const count = items.length;
  const n = new Int32Array(3 * count);
  const xyz = new Float64Array(3 * count);
  const len = new Float64Array(count);
  items.forEach((it, i) => {
    n.set(it.n, 3 * i);
    xyz.set(it.v, 3 * i);
    len[i] = it.l;
  });
  return { n, xyz, len, count };
}

/** Distinct lengths (ascending, to IMAGE_TOL) of the nonzero lattice vectors shorter than L. */
function lengthsBelow(R: Mat3, L: number): number[] {
  const shell = latticeShell(R, 0, L - IMAGE_TOL);
  const out: number[] = [];
  for (let i = 0; i < shell.count; i++) {
    const l = shell.len[i]!;
    if (out.length === 0 || l - out[out.length - 1]! > IMAGE_TOL) out.push(l);
  }
  return out;
}

/**
 * Point group of the lattice with basis R (rows), as integer matrices P acting on row
 * coordinates (n ↦ n·P) with P·G·Pᵀ = G, G = R·Rᵀ (relative tolerance 1e-6 on the metric).
 */
function latticePointGroup(R: Mat3): Int32Array[] {
  const G = [0, 1, 2].map((i) => [0, 1, 2].map((j) => dot3(R[i]!, R[j]!)));
  const scale = Math.max(G[0]![0]!, G[1]![1]!, G[2]![2]!);
  const tol = 1e-6 * scale;
  const maxLen = Math.sqrt(scale) * (1 + 1e-6);
  const shell = latticeShell(R, 0, maxLen);
  // candidate images of each basis vector: same length
  const cands = [0, 1, 2].map((i) => {
    const out: number[] = [];
    for (let k = 0; k < shell.count; k++) {
      const x = shell.xyz[3 * k]!, y = shell.xyz[3 * k + 1]!, z = shell.xyz[3 * k + 2]!;
      if (Math.abs(x * x + y * y + z * z - G[i]![i]!) <= tol) out.push(k);
    }
    return out;
  });
  const dotK = (p: number, q: number): number =>
    shell.xyz[3 * p]! * shell.xyz[3 * q]! + shell.xyz[3 * p + 1]! * shell.xyz[3 * q + 1]! + shell.xyz[3 * p + 2]! * shell.xyz[3 * q + 2]!;
  const ops: Int32Array[] = [];
  for (const p of cands[0]!)
    for (const q of cands[1]!) {
      if (Math.abs(dotK(p, q) - G[0]![1]!) > tol) continue;
      for (const r of cands[2]!) {
        if (Math.abs(dotK(p, r) - G[0]![2]!) > tol || Math.abs(dotK(q, r) - G[1]![2]!) > tol) continue;
        const P = new Int32Array(9);
        P.set(shell.n.subarray(3 * p, 3 * p + 3), 0);
        P.set(shell.n.subarray(3 * q, 3 * q + 3), 3);
        P.set(shell.n.subarray(3 * r, 3 * r + 3), 6);
        const d = P[0]! * (P[4]! * P[8]! - P[5]! * P[7]!) - P[1]! * (P[3]! * P[8]! - P[5]! * P[6]!) + P[2]! * (P[3]! * P[7]! - P[4]! * P[6]!);
        if (Math.abs(d) === 1) ops.push(P);
      }
    }
  return ops;
}

interface MinImageCandidate {
  /** integer rows of the supercell in the input cell's fractional basis (Niggli-reduced), det > 0 */
  rows: Mat3;
  det: number;
  minImage: number;
  /** Σ(|v_i|/ℓ − 1)² + Σ cos²θ_ij of the reduced supercell basis, ℓ = (D·V)^(1/3); 0 for a cube */
  cubicDeviation: number;
  /** point-group operations of the cell's lattice that map the supercell lattice onto itself */
  symmetryKept: number;
}

function intRows(m: readonly (readonly number[])[]): Mat3 {
  return m.map((r) => r.map((x) => Math.round(x) || 0)) as Mat3;
}

/**
 * Ranks candidates: fewer cells; then more of the lattice's point-group operations kept (fewer
 * symmetry-distinct displacements); then the larger image distance; then more cubic; then the
 * lexicographically smaller rows.
 */
function betterCandidate(p: MinImageCandidate, q: MinImageCandidate): boolean {
  if (p.det !== q.det) return p.det < q.det;
  if (p.symmetryKept !== q.symmetryKept) return p.symmetryKept > q.symmetryKept;
  const lp = Math.round(p.minImage / IMAGE_TOL);
  const lq = Math.round(q.minImage / IMAGE_TOL);
  if (lp !== lq) return lp > lq;
  const cp = Math.round(p.cubicDeviation * 1e9);
  const cq = Math.round(q.cubicDeviation * 1e9);
  if (cp !== cq) return cp < cq;
  const a = p.rows.flat();
  const b = q.rows.flat();
  for (let i = 0; i < 9; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/** The supercell with rows N (input basis): Niggli-reduced rows, shortest vector, cubic deviation. */
/** Operations P of `group` (row action on the R basis) with rowsR·P·rowsR⁻¹ integer: they map the sublattice onto itself. */
function keptOperations(rowsR: Mat3, det: number, group: readonly Int32Array[]): number {
  if (group.length === 0) return 0;
  // adj = det·rowsR⁻¹ (integer)
  const adj = inv3(rowsR).map((r) => r.map((x) => Math.round(x * det)));
  let kept = 0;
  for (const P of group) {
    let ok = true;
    for (let i = 0; i < 3 && ok; i++) {
      const r = rowsR[i]!;
      const q = [0, 1, 2].map((j) => r[0]! * P[j]! + r[1]! * P[3 + j]! + r[2]! * P[6 + j]!);
      for (let j = 0; j < 3 && ok; j++) if ((q[0]! * adj[0]![j]! + q[1]! * adj[1]![j]! + q[2]! * adj[2]![j]!) % det !== 0) ok = false;
    }
    if (ok) kept++;
  }
  return kept;
}

function evaluateCandidate(lattice: Mat3, N: Mat3, det: number, volume: number, symmetryKept = 0): MinImageCandidate {
  const red = niggliReduce(matmul3(N, lattice));
  const rows = intRows(matmul3(red.transform, N));
  const R = red.lattice;
  const len = R.map((r) => norm3(r));
  const ell = Math.cbrt(det * volume);
  let dev = 0;
  for (let i = 0; i < 3; i++) dev += (len[i]! / ell - 1) ** 2;
  for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) dev += (dot3(R[i]!, R[j]!) / (len[i]! * len[j]!)) ** 2;
  return { rows, det, minImage: shortestLatticeVector(R).length, cubicDeviation: dev, symmetryKept };
}

/** Work counters of min-image searches (tests and benchmarks read them). */
export interface MinImageSearchStats {
  /** enumeration rounds (growing index bound) */
  rounds: number;
  /** (b1, b2) pairs that passed the Minkowski pair test */
  pairs: number;
  /** complete Minkowski-reduced triples within the index bound (each a supercell, λ₁ ≥ L) */
  triples: number;
}

interface ReducedLattice {
  lattice: Mat3;
  /** Niggli-reduced basis R = T·lattice */
  R: Mat3;
  T: Mat3;
  volume: number;
  /** point group of the lattice in the R basis */
  group: Int32Array[];
  /** all nonzero vectors up to `hi` (grown on demand, shared by the rounds of one search) */
  shell: { hi: number; vectors: VectorShell; groupStart: Int32Array } | null;
  /** only supercell lattices that keep every operation of `group` */
  keepSymmetry: boolean;
}

function reducedLattice(lattice: Mat3, keepSymmetry: boolean): ReducedLattice {
  const red = niggliReduce(lattice);
  return { lattice, R: red.lattice, T: red.transform, volume: Math.abs(det3(lattice)), group: latticePointGroup(red.lattice), shell: null, keepSymmetry };
}

/** The lattice vectors up to at least `hi` Å, sorted by length (recomputed when too short). */
function shellUpTo(lat: ReducedLattice, hi: number): { vectors: VectorShell; groupStart: Int32Array } {
  if (!lat.shell || lat.shell.hi < hi) {
    const r = hi;
    const vectors = latticeShell(lat.R, 0, r);
    const len = vectors.len;
    // first index of each vector's length group (equal lengths to 1e-9, any order within a group)
    const groupStart = new Int32Array(vectors.count);
    for (let i = 1; i < vectors.count; i++) groupStart[i] = len[i]! - len[groupStart[i - 1]!]! <= 1e-9 * len[i]! ? groupStart[i - 1]! : i;
    lat.shell = { hi: r, vectors, groupStart };
  }
  return lat.shell;
}

/** First index of the sorted lengths with len ≥ x. */
function lowerBound(len: Float64Array, count: number, x: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (len[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * An index that certainly suffices: diagonal multiples k_i = ⌈L / w_i⌉ of the reduced basis,
 * w_i its perpendicular widths (every nonzero vector of a lattice is at least as long as its
 * smallest perpendicular width, and the supercell's widths are k_i·w_i ≥ L).
 */
function sufficientIndex(lat: ReducedLattice, L: number): number {
  const [a, b, c] = lat.R;
  const V = Math.abs(det3(lat.R));
  const w = [V / norm3(cross3(b!, c!)), V / norm3(cross3(c!, a!)), V / norm3(cross3(a!, b!))];
  return w.reduce((acc, wi) => acc * Math.max(1, Math.ceil(L / wi - 1e-12)), 1);
}

/**
 * All supercells of index ≤ dHi with λ₁ ≥ L (one per Minkowski basis, b1 up to symmetry); the
 * best by `betterCandidate` (smallest index first), or null.
 */
function enumerateMinImage(lat: ReducedLattice, L: number, dHi: number, stats: MinImageSearchStats): MinImageCandidate | null {
  stats.rounds++;
  const { T, volume } = lat;
  const lo = L - IMAGE_TOL;
  const wHi = dHi * volume;
  const r2 = Math.sqrt((Math.SQRT2 * wHi) / lo) * (1 + 1e-9);
  const r3 = ((Math.SQRT2 * wHi) / (lo * lo)) * (1 + 1e-9);
  const { vectors: shell, groupStart } = shellUpTo(lat, Math.max(r2, r3));
  const cnt = shell.count;
  const N = shell.n;
  const X = shell.xyz;
  const len = shell.len;
  const start = lowerBound(len, cnt, lo);
  const n2End = lowerBound(len, cnt, r2 * (1 + 1e-12) + 1e-300);
  // b1: one representative per point-group orbit (−I is in every lattice point group)
  const key = (a: number, b: number, c: number): string => `${a},${b},${c}`;
  const seen = new Set<string>();
  const reps: number[] = [];
  for (let i = start; i < n2End; i++) {
    const a = N[3 * i]!, b = N[3 * i + 1]!, c = N[3 * i + 2]!;
    if (seen.has(key(a, b, c))) continue;
    reps.push(i);
    for (const P of lat.group) seen.add(key(a * P[0]! + b * P[3]! + c * P[6]!, a * P[1]! + b * P[4]! + c * P[7]!, a * P[2]! + b * P[5]! + c * P[8]!));
  }
  const eps = 1e-9;
  let best: MinImageCandidate | null = null;
  let bestDet = dHi;
  for (const i of reps) {
    const x1 = X[3 * i]!, y1 = X[3 * i + 1]!, z1 = X[3 * i + 2]!;
    const l1 = len[i]!;
    const s1 = l1 * l1;
    const a1 = N[3 * i]!, b1 = N[3 * i + 1]!, c1 = N[3 * i + 2]!;
    for (let j = groupStart[i]!; j < n2End; j++) {
      const l2 = len[j]!;
      if (j === i) continue;
      const x2 = X[3 * j]!, y2 = X[3 * j + 1]!, z2 = X[3 * j + 2]!;
      const d12 = x1 * x2 + y1 * y2 + z1 * z2;
      if (Math.abs(d12) > s1 / 2 + eps * s1) continue;
      const a2 = N[3 * j]!, b2 = N[3 * j + 1]!, c2 = N[3 * j + 2]!;
      // g = n1 × n2: det(n1, n2, n3) = n3·g
      const g0 = b1 * c2 - c1 * b2, g1 = c1 * a2 - a1 * c2, g2 = a1 * b2 - b1 * a2;
      if (g0 === 0 && g1 === 0 && g2 === 0) continue;
      stats.pairs++;
      const s2 = l2 * l2;
      const r3max = ((Math.SQRT2 * bestDet * volume) / (l1 * l2)) * (1 + 1e-9);
      const pp = s1 + s2 + 2 * d12; // |b1 + b2|²
      const pm = s1 + s2 - 2 * d12; // |b1 − b2|²
      for (let k = groupStart[j]!; k < cnt; k++) {
        const l3 = len[k]!;
        if (l3 > r3max) break;
        const a3 = N[3 * k]!, b3 = N[3 * k + 1]!, c3 = N[3 * k + 2]!;
        const det = a3 * g0 + b3 * g1 + c3 * g2;
        if (det <= 0 || det > bestDet) continue;
        const x3 = X[3 * k]!, y3 = X[3 * k + 1]!, z3 = X[3 * k + 2]!;
        const d13 = x1 * x3 + y1 * y3 + z1 * z3;
        if (Math.abs(d13) > s1 / 2 + eps * s1) continue;
        const d23 = x2 * x3 + y2 * y3 + z2 * z3;
        if (Math.abs(d23) > s2 / 2 + eps * s2) continue;
        // |b3 ± (b1 + b2)| ≥ |b3| and |b3 ± (b1 − b2)| ≥ |b3|
        if (pp - 2 * Math.abs(d13 + d23) < -eps * s1 || pm - 2 * Math.abs(d13 - d23) < -eps * s1) continue;
        stats.triples++;
        const rowsR: Mat3 = [[a1, b1, c1], [a2, b2, c2], [a3, b3, c3]];
        const kept = keptOperations(rowsR, det, lat.group);
        if (lat.keepSymmetry && kept < lat.group.length) continue;
        const cand = evaluateCandidate(lat.lattice, matmul3(rowsR, T), det, volume, kept);
        if (cand.minImage < lo) continue; // only at the tolerance of the reduction tests
        if (!best || betterCandidate(cand, best)) {
          best = cand;
          bestDet = det;
        }
      }
    }
  }
  return best;
}

const gcd = (a: number, b: number): number => {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b) [a, b] = [b, a % b];
  return a;
};

/**
 * The same supercell lattice with a diagonal matrix diag(k1, k2, k3) on the input cell when one
 * exists (k_i = the smallest k with k·e_i in the lattice; diagonal iff k1·k2·k3 = det), else the
 * rows as given. Only the basis changes: a diagonal matrix is easier to read and to build.
 */
function diagonalBasisIfAny(rows: Mat3, det: number): Mat3 {
  const adj = inv3(rows).map((r) => r.map((x) => Math.round(x * det))); // N⁻¹ = adj / det
  const k = adj.map((r) => r.reduce((acc, x) => {
    const need = det / gcd(det, x);
    return (acc * need) / gcd(acc, need);
  }, 1));
  if (k[0]! * k[1]! * k[2]! !== det) return rows;
  return [[k[0]!, 0, 0], [0, k[1]!, 0], [0, 0, k[2]!]];
}

/** Smallest-index supercell with λ₁ ≥ L and index ≤ maxDet (growing the bound), or null. */
function searchMinImage(lat: ReducedLattice, L: number, maxDet: number, stats: MinImageSearchStats): MinImageCandidate | null {
  const lo = L - IMAGE_TOL;
  const self = shortestLatticeVector(lat.lattice).length;
  if (self >= lo) return evaluateCandidate(lat.lattice, identity3(), 1, lat.volume, lat.group.length);
  const dLow = Math.max(2, Math.ceil((lo ** 3 / (Math.SQRT2 * lat.volume)) * (1 - 1e-9)));
  if (dLow > maxDet) return null;
  // rounds up to an index known to suffice, then (never needed in exact arithmetic) up to maxDet
  // k·Λ keeps every symmetry: with keepSymmetry, k = ⌈L/λ₁⌉ suffices
  const enough = lat.keepSymmetry ? Math.ceil(lo / self - 1e-12) ** 3 : sufficientIndex(lat, lo);
  const dEnough = Math.min(maxDet, Math.max(dLow, enough));
  for (let dHi = Math.min(dEnough, Math.ceil(dLow * 1.1)); ; ) {
    const found = enumerateMinImage(lat, L, dHi, stats);
    if (found) return found;
    if (dHi >= maxDet) return null;
    dHi = dHi < dEnough ? Math.min(dEnough, Math.ceil(dHi * 1.5)) : Math.min(maxDet, Math.ceil(dHi * 1.5));
  }
}

/**
 * The `min-image` rule: smallest supercell (fewest atoms) whose shortest periodic image distance
 * is ≥ minImageDistance Å (to 1e-6 Å). Exhaustive over all integer matrices (see the comment
 * above), so the atom count is the true minimum. Deterministic tie-break among supercells of
 * that size: (1) the most point-group operations of the cell's lattice kept by the supercell
 * lattice (a supercell that breaks fewer symmetries needs fewer displacements); (2) the largest
 * shortest image distance (to 1e-6 Å); (3) the most cubic reduced basis, i.e. the smallest
 * Σ(|v_i|/ℓ − 1)² + Σ cos²θ_ij with ℓ = (det·V)^(1/3); (4) the lexicographically smallest
 * integer matrix among the candidates the search visits. The returned
 * basis of the chosen supercell lattice is diagonal on the input cell when the lattice has a
 * diagonal basis, else its Niggli-reduced basis; det > 0 either way.
 * With more than maxAtoms atoms needed: the supercell of at most maxAtoms atoms with the largest
 * image distance (then the fewest atoms, then ties as above), and a note — or null with
 * `noCap`. `keepSymmetry`: only supercell lattices that keep the lattice's whole point group
 * (slower: up to ~0.7 s for a 1–2-atom cubic cell, whose search runs up to k³ cells).
 */
export interface MinImageResult {
  matrix: IntMat3;
  minImageDistance: number;
  note?: string;
}
export function minImageSupercell(s: Structure, minImageDistance: number, maxAtoms: number, stats?: MinImageSearchStats, options?: { keepSymmetry?: boolean; noCap?: false }): MinImageResult;
export function minImageSupercell(s: Structure, minImageDistance: number, maxAtoms: number, stats: MinImageSearchStats | undefined, options: { keepSymmetry?: boolean; noCap: true }): MinImageResult | null;
export function minImageSupercell(
  s: Structure,
  minImageDistance: number,
  maxAtoms: number,
  stats: MinImageSearchStats = { rounds: 0, pairs: 0, triples: 0 },
  options: { keepSymmetry?: boolean; noCap?: boolean } = {},
): MinImageResult | null {
  const n = s.numbers.length;
  if (!(minImageDistance > 0) || !Number.isFinite(minImageDistance) || !(maxAtoms >= n))
    throw new UsageError(`min-image rule needs minImageDistance > 0 and maxAtoms ≥ ${n}`);
  const lat = reducedLattice(copy3(s.lattice), options.keepSymmetry === true);
  const maxDet = Math.floor(maxAtoms / n);
  const toMatrix = (c: MinImageCandidate): IntMat3 => transpose3(diagonalBasisIfAny(c.rows, c.det)).map((r) => r.map((x) => x || 0)) as IntMat3;
  const direct = searchMinImage(lat, minImageDistance, maxDet, stats);
  if (direct) return { matrix: toMatrix(direct), minImageDistance: direct.minImage };
  if (options.noCap) return null;
  // capped: the largest image distance reachable with index ≤ maxDet. Feasibility is monotone in
  // the distance, and the best distance is the length of a lattice vector shorter than the target.
  const lengths = lengthsBelow(lat.R, minImageDistance);
  let lo = 0; // lengths[0] is the cell's own shortest vector: index 1
  let hi = lengths.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (enumerateMinImage(lat, lengths[mid]!, maxDet, stats)) lo = mid;
    else hi = mid - 1;
  }
  const best = lo === 0 ? evaluateCandidate(lat.lattice, identity3(), 1, lat.volume, lat.group.length) : enumerateMinImage(lat, lengths[lo]!, maxDet, stats)!;
  return {
    matrix: toMatrix(best),
    minImageDistance: best.minImage,
    note: `capped at ${maxAtoms} atoms: shortest image distance ${best.minImage.toFixed(3)} Å < ${minImageDistance} Å`,
  };
}

/** Σ_i b_i(b_i − 1) over the cell, b_i = neighbours of atom i within `cutoff` Å (periodic). */
export function bondTripletsPerCell(s: Structure, cutoff: number): number {
  const nl = neighbourList(s, cutoff);
  const b = new Array<number>(s.numbers.length).fill(0);
  for (let k = 0; k < nl.centers.length; k++) b[nl.centers[k]!]!++;
  return b.reduce((acc, x) => acc + x * (x - 1), 0);
}

export function chooseSupercell(s: Structure, rule: SupercellRule): SupercellChoice {
  const n = s.numbers.length;
  const finish = (m: IntMat3, note?: string, minImage?: number): SupercellChoice => {
    const L = supercellLattice(s.lattice, m);
    return {
      rule,
      matrix: m,
      natoms: n * Math.round(Math.abs(det3(m))),
      lengths: [norm3(L[0]), norm3(L[1]), norm3(L[2])],
      minImageDistance: minImage ?? shortestLatticeVector(L).length,
      ...(note ? { note } : {}),
    };
  };
  if (rule.kind === 'explicit') return finish(toSupercellMatrix(rule.matrix));
  if (rule.kind === 'phononbench') return finish(toSupercellMatrix(2));
  if (rule.kind === 'min-image') {
    let maxAtoms = rule.maxAtoms;
    let budgetNote = '';
    if (rule.maxBondTriplets !== undefined) {
      if (!(rule.maxBondTriplets > 0) || !(rule.bondCutoff !== undefined && rule.bondCutoff > 0))
        throw new UsageError('min-image rule: maxBondTriplets needs a positive bondCutoff (Å)');
      const perCell = bondTripletsPerCell(s, rule.bondCutoff);
      const cells = perCell > 0 ? Math.max(1, Math.floor(rule.maxBondTriplets / perCell)) : Infinity;
      if (n * cells < maxAtoms) {
        maxAtoms = n * cells;
        budgetNote = ` (bond-triplet budget ${rule.maxBondTriplets}: ${perCell} triplets per cell within ${rule.bondCutoff} Å → at most ${maxAtoms} atoms)`;
      }
    }
    const r0 = minImageSupercell(s, rule.minImageDistance, maxAtoms);
    const r = r0.note ? { ...r0, note: r0.note + budgetNote } : r0;
    const f = rule.symmetricAtomFactor;
    if (f !== undefined && f >= 1 && !r.note) {
      const fewest = Math.round(Math.abs(det3(r.matrix)));
      const cap = Math.min(maxAtoms, Math.floor(f * fewest * n + 1e-9));
      const sym = cap > fewest * n ? minImageSupercell(s, rule.minImageDistance, cap, undefined, { keepSymmetry: true, noCap: true }) : null;
      if (sym && Math.round(Math.abs(det3(sym.matrix))) > fewest) return finish(sym.matrix, `symmetric supercell: ${Math.round(Math.abs(det3(sym.matrix))) * n} atoms instead of ${fewest * n}`, sym.minImageDistance);
    }
    return finish(r.matrix, r.note, r.minImageDistance);
  }
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
