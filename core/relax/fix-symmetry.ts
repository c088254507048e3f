// FixSymmetry (the idea of ASE's constraints.FixSymmetry + spacegroup/symmetrize.py, our own
// code): refine the structure once, then keep every force, stress, position step and cell
// step inside the space group found at `symprec`. physics.md §7.
//
// Conventions: lattice L has the cell vectors as rows, Cartesian row r = x·L for fractional
// row x; an operation acts on fractional columns as x' = R·x + t.
//   vectors (forces, steps):  f ← (1/|G|) Σ_g Lᵀ R_g L⁻ᵀ f, accumulated on the image atom
//   rank-2 tensors:           σ ← L⁻¹ [(1/|G|) Σ_g R_gᵀ (L σ Lᵀ) R_g] L⁻ᵀ
//
// Refinement (done locally here; the symmetry service had no refineStructure when this was
// written): the metric G = L·Lᵀ is averaged over the rotations, G_s = (1/|G|) Σ R_gᵀ G R_g
// (invariant exactly, the R_g being integer and a group), and the cell becomes L' = L·T with
// T = (L⁻¹ G_s L⁻ᵀ)^{1/2} symmetric, the pure strain that gives metric G_s without rotating
// the cell; fractional positions are kept, then replaced by the average of their images under
// every operation. ASE instead copies spglib's idealised standard cell back into the input
// frame; the two differ by far less than symprec and by a rigid translation/rotation, which
// changes neither energies nor lattice lengths.
import { SoftmodeInputError } from '../errors.js';
import { type Mat3, type Vec3, inv3, matmul3, transpose3 } from '../math/linalg.js';
import { makeStructure } from '../structure/structure.js';
import { getSymmetry } from '../symmetry/index.js';
import { sqrtm } from './matrix.js';

export interface SymmetryConstraint {
  symprec: number;
  spaceGroupNumber: number;
  spaceGroupSymbol: string;
  /** integer rotations, fractional, x' = R·x + t */
  rotations: Mat3[];
  translations: Vec3[];
  /** per operation: image atom index of each atom */
  maps: Int32Array[];
}

/** Raised when a cell step is too large to symmetrize reliably (ASE raises RuntimeError). */
export class CellStepTooLargeError extends Error {
  readonly maxDeformation: number;
  constructor(maxDeformation: number, limit: number) {
    super(`symmetrized cell step refused: max |ΔF| = ${maxDeformation} > ${limit}`);
    this.name = 'CellStepTooLargeError';
    this.maxDeformation = maxDeformation;
  }
}

function fracOf(lattice: Mat3, cart: Float64Array): Vec3[] {
  const inv = inv3(lattice);
  const n = cart.length / 3;
  const out: Vec3[] = [];
  for (let i = 0; i < n; i++) {
    const x = cart[3 * i]!, y = cart[3 * i + 1]!, z = cart[3 * i + 2]!;
    out.push([
      x * inv[0]![0]! + y * inv[1]![0]! + z * inv[2]![0]!,
      x * inv[0]![1]! + y * inv[1]![1]! + z * inv[2]![1]!,
      x * inv[0]![2]! + y * inv[1]![2]! + z * inv[2]![2]!,
    ]);
  }
  return out;
}

function cartOf(lattice: Mat3, frac: readonly Vec3[]): Float64Array {
  const out = new Float64Array(3 * frac.length);
  frac.forEach((f, i) => {
    for (let k = 0; k < 3; k++) out[3 * i + k] = f[0] * lattice[0]![k]! + f[1] * lattice[1]![k]! + f[2] * lattice[2]![k]!;
  });
  return out;
}

function analyse(lattice: Mat3, cart: Float64Array, numbers: readonly number[], symprec: number) {
  return getSymmetry(makeStructure({ lattice, frac: fracOf(lattice, cart), numbers }), symprec);
}

/** Image atom of every atom under every operation (nearest in fractional distance, as ASE). */
function atomMaps(frac: readonly Vec3[], rotations: Mat3[], translations: Vec3[]): Int32Array[] {
  const n = frac.length;
  return rotations.map((R, g) => {
    const t = translations[g]!;
    const map = new Int32Array(n);
    const used = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const x = frac[i]!;
      const p0 = R[0][0] * x[0] + R[0][1] * x[1] + R[0][2] * x[2] + t[0];
      const p1 = R[1][0] * x[0] + R[1][1] * x[1] + R[1][2] * x[2] + t[1];
      const p2 = R[2][0] * x[0] + R[2][1] * x[1] + R[2][2] * x[2] + t[2];
      let best = Infinity;
      let bj = -1;
      for (let j = 0; j < n; j++) {
        const y = frac[j]!;
        let d0 = y[0] - p0, d1 = y[1] - p1, d2 = y[2] - p2;
        d0 -= Math.round(d0);
        d1 -= Math.round(d1);
        d2 -= Math.round(d2);
        const d = d0 * d0 + d1 * d1 + d2 * d2;
        if (d < best) {
          best = d;
          bj = j;
        }
      }
      map[i] = bj;
      used[bj] = 1;
    }
    if (used.some((u) => u === 0))
      throw new SoftmodeInputError('symmetry_failed', `symmetry operation ${g} does not permute the atoms`);
    return map;
  });
}

/** Operations and atom maps of the structure at `symprec` (ASE's prep_symmetry). */
export function prepareSymmetry(lattice: Mat3, cart: Float64Array, numbers: readonly number[], symprec: number): SymmetryConstraint {
  const info = analyse(lattice, cart, numbers, symprec);
  const rotations = info.operations.map((o) => o.rotation);
  const translations = info.operations.map((o) => o.translation);
  return {
    symprec,
    spaceGroupNumber: info.number,
    spaceGroupSymbol: info.symbol,
    rotations,
    translations,
    maps: atomMaps(fracOf(lattice, cart), rotations, translations),
  };
}

/** Symmetrize per-atom Cartesian vectors (forces, position steps), 3 per atom. */
export function symmetrizeVectors(lattice: Mat3, v: Float64Array, c: SymmetryConstraint): Float64Array {
  const n = v.length / 3;
  const inv = inv3(lattice);
  // fractional components s = f·L⁻¹ (= (L⁻ᵀ f)ᵀ)
  const s = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const x = v[3 * i]!, y = v[3 * i + 1]!, z = v[3 * i + 2]!;
    for (let k = 0; k < 3; k++) s[3 * i + k] = x * inv[0]![k]! + y * inv[1]![k]! + z * inv[2]![k]!;
  }
  const acc = new Float64Array(3 * n);
  c.rotations.forEach((R, g) => {
    const map = c.maps[g]!;
    for (let i = 0; i < n; i++) {
      const j = map[i]!;
      const a = s[3 * i]!, b = s[3 * i + 1]!, d = s[3 * i + 2]!;
      acc[3 * j] = acc[3 * j]! + R[0][0] * a + R[0][1] * b + R[0][2] * d;
      acc[3 * j + 1] = acc[3 * j + 1]! + R[1][0] * a + R[1][1] * b + R[1][2] * d;
      acc[3 * j + 2] = acc[3 * j + 2]! + R[2][0] * a + R[2][1] * b + R[2][2] * d;
    }
  });
  const m = c.rotations.length;
  const out = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const a = acc[3 * i]! / m, b = acc[3 * i + 1]! / m, d = acc[3 * i + 2]! / m;
    for (let k = 0; k < 3; k++) out[3 * i + k] = a * lattice[0]![k]! + b * lattice[1]![k]! + d * lattice[2]![k]!;
  }
  return out;
}

/** Symmetrize a Cartesian rank-2 tensor (stress, cell deformation step). */
export function symmetrizeTensor(lattice: Mat3, t: Mat3, rotations: readonly Mat3[]): Mat3 {
  const scaled = matmul3(matmul3(lattice, t), transpose3(lattice));
  const sum: Mat3 = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (const R of rotations) {
    const x = matmul3(matmul3(transpose3(R), scaled), R);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) sum[i]![j]! += x[i]![j]!;
  }
  const m = rotations.length;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) sum[i]![j]! /= m;
  const inv = inv3(lattice);
  return matmul3(matmul3(inv, sum), transpose3(inv));
}

/**
 * Symmetrize a proposed cell change (ASE adjust_cell): ΔF = (L⁻¹·L_new)ᵀ − I is symmetrized
 * as a rank-2 tensor on the current cell; refuses max|ΔF| > maxStep.
 */
export function adjustCell(current: Mat3, proposed: Mat3, c: SymmetryConstraint, maxStep: number): Mat3 {
  const inv = inv3(current);
  const dF = transpose3(matmul3(inv, proposed));
  let big = 0;
  for (let i = 0; i < 3; i++) {
    dF[i]![i]! -= 1;
    for (let j = 0; j < 3; j++) big = Math.max(big, Math.abs(dF[i]![j]!));
  }
  if (!(big <= maxStep)) throw new CellStepTooLargeError(big, maxStep);
  const sym = symmetrizeTensor(current, dF, c.rotations);
  for (let i = 0; i < 3; i++) sym[i]![i]! += 1;
  return matmul3(current, transpose3(sym));
}

/** Symmetrize a proposed position change (ASE adjust_positions) on the given cell. */
export function adjustPositions(lattice: Mat3, current: Float64Array, proposed: Float64Array, c: SymmetryConstraint): Float64Array {
  const step = new Float64Array(current.length);
  for (let i = 0; i < step.length; i++) step[i] = proposed[i]! - current[i]!;
  const sym = symmetrizeVectors(lattice, step, c);
  const out = new Float64Array(current.length);
  for (let i = 0; i < out.length; i++) out[i] = current[i]! + sym[i]!;
  return out;
}

/**
 * Re-origin a consistent set of operations the way spglib fixes its origin: spglib measures each
 * translation from one reference atom (the first atom of the least frequent species),
 * t_ref = x_{g(m)} − R·x_m, and its origin shift follows those. Moyo fits the translations to
 * all atoms instead. Both are valid groups, x' = R·x + t + (I − R)·p for an origin shift p; we
 * take the p that best matches the reference-atom translations (least squares over the
 * operations; components no operation sees are irrelevant and left at 0). For a group with one
 * non-trivial generator (e.g. P-1) this reproduces spglib's translations exactly.
 */
function spglibOrigin(frac: readonly Vec3[], numbers: readonly number[], rotations: Mat3[], translations: Vec3[], maps: Int32Array[]): Vec3[] {
  const count = new Map<number, number>();
  for (const z of numbers) count.set(z, (count.get(z) ?? 0) + 1);
  const least = Math.min(...count.values());
  const m = numbers.findIndex((z) => count.get(z) === least);
  const A = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  const b = [0, 0, 0];
  rotations.forEach((R, g) => {
    const t = translations[g]!;
    const x = frac[m]!;
    const y = frac[maps[g]![m]!]!;
    const d = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      const tr = y[k]! - (R[k]![0]! * x[0] + R[k]![1]! * x[1] + R[k]![2]! * x[2]);
      const diff = tr - t[k]!;
      d[k] = diff - Math.round(diff);
    }
    // M = I − R; A += MᵀM, b += Mᵀd
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += ((k === i ? 1 : 0) - R[k]![i]!) * ((k === j ? 1 : 0) - R[k]![j]!);
        A[3 * i + j]! += s;
      }
    for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) b[i]! += ((k === i ? 1 : 0) - R[k]![i]!) * d[k]!;
  });
  // A is symmetric positive semi-definite; a tiny ridge keeps unseen directions at p = 0
  const ridge = 1e-12 * (A[0]! + A[4]! + A[8]! + 1);
  for (let i = 0; i < 3; i++) A[4 * i]! += ridge;
  const Ainv = inv3([
    [A[0]!, A[1]!, A[2]!],
    [A[3]!, A[4]!, A[5]!],
    [A[6]!, A[7]!, A[8]!],
  ]);
  const p: Vec3 = [0, 1, 2].map((i) => Ainv[i]![0]! * b[0]! + Ainv[i]![1]! * b[1]! + Ainv[i]![2]! * b[2]!) as Vec3;
  return rotations.map((R, g) => {
    const t = translations[g]!;
    return [0, 1, 2].map((k) => t[k]! + p[k]! - (R[k]![0]! * p[0] + R[k]![1]! * p[1] + R[k]![2]! * p[2])) as Vec3;
  });
}

export interface RefinedGeometry {
  lattice: Mat3;
  cart: Float64Array;
  spaceGroupNumber: number;
  spaceGroupSymbol: string;
}

/** Refine cell and positions to the exact symmetry found at `symprec` (see file comment). */
export function refineGeometry(lattice: Mat3, cart: Float64Array, numbers: readonly number[], symprec: number): RefinedGeometry {
  const info = analyse(lattice, cart, numbers, symprec);
  const rotations = info.operations.map((o) => o.rotation);
  const translations = info.operations.map((o) => o.translation);
  // metric average
  const G = matmul3(lattice, transpose3(lattice));
  const Gs: Mat3 = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (const R of rotations) {
    const x = matmul3(matmul3(transpose3(R), G), R);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) Gs[i]![j]! += x[i]![j]!;
  }
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) Gs[i]![j]! /= rotations.length;
  for (let i = 0; i < 3; i++)
    for (let j = i + 1; j < 3; j++) {
      const avg = 0.5 * (Gs[i]![j]! + Gs[j]![i]!);
      Gs[i]![j] = avg;
      Gs[j]![i] = avg;
    }
  const inv = inv3(lattice);
  const S = matmul3(matmul3(inv, Gs), transpose3(inv));
  const Sflat = Float64Array.from(S.flat());
  const Tf = sqrtm(Sflat, 3);
  const T: Mat3 = [
    [Tf[0]!, Tf[1]!, Tf[2]!],
    [Tf[3]!, Tf[4]!, Tf[5]!],
    [Tf[6]!, Tf[7]!, Tf[8]!],
  ];
  // symmetric part only (T is symmetric up to rounding)
  for (let i = 0; i < 3; i++)
    for (let j = i + 1; j < 3; j++) {
      const avg = 0.5 * (T[i]![j]! + T[j]![i]!);
      T[i]![j] = avg;
      T[j]![i] = avg;
    }
  const newLattice = matmul3(lattice, T);
  // positions, as spglib's exact positions that ASE's refine_symmetry copies: per orbit, the
  // representative (lowest index) is averaged over its site-symmetry operations, the other
  // members are its images; then the structure is shifted rigidly so atom 0 keeps its place.
  const frac = fracOf(lattice, cart);
  // translations with the origin spglib would choose (see spglibOrigin), so the refined shape
  // is the one ASE produces, not just an equally symmetric neighbour of it
  const ts = spglibOrigin(frac, numbers, rotations, translations, atomMaps(frac, rotations, translations));
  const maps = atomMaps(frac, rotations, ts);
  const n = frac.length;
  const apply = (g: number, x: Vec3, near: Vec3): Vec3 => {
    const R = rotations[g]!;
    const t = ts[g]!;
    const out: Vec3 = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      const p = R[k]![0]! * x[0] + R[k]![1]! * x[1] + R[k]![2]! * x[2] + t[k]!;
      out[k] = p - Math.round(p - near[k]!);
    }
    return out;
  };
  const rep = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    if (rep[i] !== -1) continue;
    for (const map of maps) if (rep[map[i]!] === -1) rep[map[i]!] = i;
  }
  const newFrac: Vec3[] = frac.map((x) => [x[0], x[1], x[2]] as Vec3);
  for (let r = 0; r < n; r++) {
    if (rep[r] !== r) continue;
    const acc: Vec3 = [0, 0, 0];
    let count = 0;
    maps.forEach((map, g) => {
      if (map[r] !== r) return;
      const y = apply(g, frac[r]!, frac[r]!);
      for (let k = 0; k < 3; k++) acc[k]! += y[k]!;
      count++;
    });
    const xr: Vec3 = [acc[0] / count, acc[1] / count, acc[2] / count];
    newFrac[r] = xr;
    for (let j = 0; j < n; j++) {
      if (rep[j] !== r || j === r) continue;
      const g = maps.findIndex((map) => map[r] === j);
      newFrac[j] = apply(g, xr, frac[j]!);
    }
  }
  const shift: Vec3 = [frac[0]![0] - newFrac[0]![0], frac[0]![1] - newFrac[0]![1], frac[0]![2] - newFrac[0]![2]];
  for (const x of newFrac) for (let k = 0; k < 3; k++) x[k]! += shift[k]!;
  return { lattice: newLattice, cart: cartOf(newLattice, newFrac), spaceGroupNumber: info.number, spaceGroupSymbol: info.symbol };
}

export { fracOf, cartOf };
