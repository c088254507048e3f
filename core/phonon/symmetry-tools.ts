// Atom mapping under symmetry operations: fast lookup of "which atom sits at this fractional
// position" (within symprec, Cartesian), permutations, site groups, Cartesian rotations.
import { StructureError } from '../errors.js';
import { type Mat3, inv3, matmul3, transpose3 } from '../math/linalg.js';
import { minimumImageDistance } from '../structure/minimum-image.js';
import type { SymmetryOperation } from '../symmetry/index.js';
import type { Structure } from '../structure/structure.js';

/** Finds atoms by position in a periodic cell: positions sorted along a, binary search. */
export class AtomLocator {
  private readonly n: number;
  private readonly fx: Float64Array;
  private readonly fy: Float64Array;
  private readonly fz: Float64Array;
  private readonly order: Int32Array;
  private readonly sortedX: Float64Array;
  private readonly L: Mat3;
  private readonly window: number;

  constructor(
    readonly lattice: Readonly<Mat3>,
    frac: readonly (readonly number[])[],
    readonly symprec: number,
  ) {
    this.n = frac.length;
    this.L = [
      [lattice[0][0], lattice[0][1], lattice[0][2]],
      [lattice[1][0], lattice[1][1], lattice[1][2]],
      [lattice[2][0], lattice[2][1], lattice[2][2]],
    ];
    this.fx = new Float64Array(this.n);
    this.fy = new Float64Array(this.n);
    this.fz = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) {
      const p = frac[i]!;
      this.fx[i] = p[0]! - Math.floor(p[0]!);
      this.fy[i] = p[1]! - Math.floor(p[1]!);
      this.fz[i] = p[2]! - Math.floor(p[2]!);
    }
    const idx = Array.from({ length: this.n }, (_, i) => i).sort((a, b) => this.fx[a]! - this.fx[b]!);
    this.order = Int32Array.from(idx);
    this.sortedX = Float64Array.from(idx.map((i) => this.fx[i]!));
    // a Cartesian distance < symprec bounds |Δx_a| by symprec · |b*_a| (reciprocal row norm)
    const inv = inv3(lattice);
    const colNorm = Math.hypot(inv[0]![0]!, inv[1]![0]!, inv[2]![0]!);
    this.window = symprec * colNorm * 1.000001 + 1e-14;
  }

  private dist(i: number, x: number, y: number, z: number): number {
    return minimumImageDistance(this.L, [this.fx[i]! - x, this.fy[i]! - y, this.fz[i]! - z]);
  }

  private lowerBound(v: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sortedX[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the atom within symprec of the fractional position, or −1. */
  find(x: number, y: number, z: number): number {
    const xw = x - Math.floor(x);
    let best = -1;
    let bestD = this.symprec;
    const scan = (lo: number, hi: number): void => {
      for (let k = this.lowerBound(lo); k < this.n && this.sortedX[k]! <= hi; k++) {
        const i = this.order[k]!;
        const d = this.dist(i, x, y, z);
        if (d < bestD) {
          bestD = d;
          best = i;
        }
      }
    };
    scan(xw - this.window, xw + this.window);
    if (xw - this.window < 0) scan(xw - this.window + 1, 1);
    if (xw + this.window >= 1) scan(0, xw + this.window - 1);
    return best;
  }
}

/** perm[i] = j with R·x_i + t ≡ x_j. Throws if an image has no atom (operation not a symmetry). */
export function operationPermutation(s: Structure, loc: AtomLocator, op: SymmetryOperation): Int32Array {
  const n = s.frac.length;
  const perm = new Int32Array(n);
  const R = op.rotation;
  const t = op.translation;
  for (let i = 0; i < n; i++) {
    const p = s.frac[i]!;
    const x = R[0][0] * p[0] + R[0][1] * p[1] + R[0][2] * p[2] + t[0];
    const y = R[1][0] * p[0] + R[1][1] * p[1] + R[1][2] * p[2] + t[1];
    const z = R[2][0] * p[0] + R[2][1] * p[1] + R[2][2] * p[2] + t[2];
    const j = loc.find(x, y, z);
    if (j < 0 || s.numbers[j] !== s.numbers[i])
      throw new StructureError('symmetry_failed', `symmetry operation does not map atom ${i} onto an atom of the same species`);
    perm[i] = j;
  }
  return perm;
}

/** Image index of one atom under an operation (−1 if none). */
export function imageOf(s: Structure, loc: AtomLocator, op: SymmetryOperation, i: number): number {
  const R = op.rotation;
  const t = op.translation;
  const p = s.frac[i]!;
  return loc.find(
    R[0][0] * p[0] + R[0][1] * p[1] + R[0][2] * p[2] + t[0],
    R[1][0] * p[0] + R[1][1] * p[1] + R[1][2] * p[2] + t[1],
    R[2][0] * p[0] + R[2][1] * p[1] + R[2][2] * p[2] + t[2],
  );
}

/** Indices of operations leaving atom `atom` in place (its site group), in operation order. */
export function siteOperationIndices(s: Structure, ops: readonly SymmetryOperation[], atom: number, symprec: number): number[] {
  const p = s.frac[atom]!;
  const L = s.lattice;
  const out: number[] = [];
  ops.forEach((op, k) => {
    const R = op.rotation;
    const t = op.translation;
    const d = [0, 1, 2].map((a) => R[a]![0]! * p[0] + R[a]![1]! * p[1] + R[a]![2]! * p[2] + t[a]! - p[a]!);
    if (minimumImageDistance(L, d) < symprec) out.push(k);
  });
  return out;
}

/**
 * Cartesian form of a fractional rotation (lattice rows L): with A = Lᵀ (columns a, b, c),
 * R_cart = A · R · A⁻¹, so that R_cart acts on Cartesian column vectors.
 */
export function cartesianRotation(lattice: Readonly<Mat3>, R: Readonly<Mat3>): Mat3 {
  const A = transpose3(lattice);
  return matmul3(matmul3(A, R), inv3(A));
}
