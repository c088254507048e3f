// q-point sets (physics.md §4): commensurate points of a supercell and Γ-centred meshes with
// their symmetry reduction. q is fractional in the primitive reciprocal basis (no 2π).
import { PHONON_CONFIG } from '../../config/phonon.js';
import { UsageError } from '../errors.js';
import { type Mat3, type Vec3, inv3, transpose3 } from '../math/linalg.js';
import { makeSupercell } from '../structure/supercell.js';
import { makeStructure } from '../structure/structure.js';

/**
 * Commensurate q-points of a supercell matrix M relative to the primitive cell (phonopy's
 * get_commensurate_points): q = M⁻ᵀ n mod 1, in phonopy's order (a fastest, Γ first).
 */
export function commensurateQpoints(matrixOfPrimitive: readonly (readonly number[])[]): Vec3[] {
  const M = matrixOfPrimitive as Mat3;
  const dummy = makeStructure({ lattice: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], frac: [[0, 0, 0]], numbers: [1] });
  const sc = makeSupercell(dummy, transpose3(M));
  return sc.structure.frac.map((p) => p.map((x) => (x > 1 - 1e-15 ? x - 1 : x)) as Vec3);
}

/** Default Γ-centred mesh: N_i = max(1, rint(length·|b_i|)), b_i the columns of L⁻¹ (1/Å, no 2π). */
export function defaultMesh(primitiveLattice: Readonly<Mat3>, length: number = PHONON_CONFIG.meshLength): Vec3 {
  const inv = inv3(primitiveLattice);
  return [0, 1, 2].map((i) => Math.max(1, Math.round(length * Math.hypot(inv[0]![i]!, inv[1]![i]!, inv[2]![i]!)))) as Vec3;
}

export interface MeshQpoints {
  mesh: Vec3;
  /** irreducible q-points (or all, if no rotations were given) */
  qpoints: Vec3[];
  /** number of mesh points each irreducible point stands for; Σ = N1·N2·N3 */
  weights: number[];
  /** for each mesh point (a fastest): index into qpoints */
  mapping: Int32Array;
}

/**
 * Γ-centred mesh, grid addresses folded into (−N/2, N/2], reduced by the given point-group
 * rotations (fractional, direct-lattice basis, x' = R·x) and time reversal. Rotations that do
 * not map the mesh onto itself are ignored.
 */
export function meshQpoints(
  mesh: readonly number[],
  rotations: readonly Readonly<Mat3>[] = [],
  timeReversal = true,
  /** per axis: false = Γ-centred, true = shifted by half a step (phonopy's default for even N) */
  shift: readonly boolean[] = [false, false, false],
): MeshQpoints {
  const N = mesh.map((x) => Math.round(x));
  if (N.length !== 3 || N.some((x) => !(x >= 1))) throw new UsageError(`mesh must be three positive integers (got ${JSON.stringify(mesh)})`);
  const [n0, n1, n2] = N as [number, number, number];
  const total = n0 * n1 * n2;
  // Work on the doubled grid: address G_i = 2·g_i + s_i (s_i = 1 when shifted), q_i = G_i/(2N_i).
  // q transforms as Rᵀ q for the set of all rotations (closed under inverse):
  // G'_i = Σ_j R_ji G_j N_i/N_j, kept only if integral and if it maps the shift onto itself.
  const sh = [0, 1, 2].map((i) => (shift[i] ? 1 : 0));
  const mats: number[][] = [];
  const seen = new Set<string>();
  const addOp = (R: readonly (readonly number[])[], sign: number): void => {
    const A: number[] = [];
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        const x = (sign * R[j]![i]! * N[i]!) / N[j]!;
        if (Math.abs(x - Math.round(x)) > 1e-9) return;
        A.push(Math.round(x) || 0);
      }
    for (let i = 0; i < 3; i++) {
      const img = A[3 * i]! * sh[0]! + A[3 * i + 1]! * sh[1]! + A[3 * i + 2]! * sh[2]!;
      if ((((img - sh[i]!) % 2) + 2) % 2 !== 0) return;
    }
    const key = A.join(',');
    if (!seen.has(key)) {
      seen.add(key);
      mats.push(A);
    }
  };
  const id: Mat3 = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  addOp(id, 1);
  for (const R of rotations) addOp(R, 1);
  if (timeReversal) {
    addOp(id, -1);
    for (const R of rotations) addOp(R, -1);
  }
  const mod = (x: number, m: number): number => ((x % m) + m) % m;
  // doubled address → index (a fastest)
  const index = (G0: number, G1: number, G2: number): number =>
    mod((G0 - sh[0]!) / 2, n0) + n0 * (mod((G1 - sh[1]!) / 2, n1) + n1 * mod((G2 - sh[2]!) / 2, n2));
  // fold a doubled address into (−N, N]
  const fold = (G: number, m: number): number => {
    const r = mod(G, 2 * m);
    return r > m ? r - 2 * m : r;
  };
  const mapping = new Int32Array(total).fill(-1);
  const qpoints: Vec3[] = [];
  const weights: number[] = [];
  for (let g2 = 0; g2 < n2; g2++)
    for (let g1 = 0; g1 < n1; g1++)
      for (let g0 = 0; g0 < n0; g0++) {
        const idx = g0 + n0 * (g1 + n1 * g2);
        if (mapping[idx]! >= 0) continue;
        const id_ = qpoints.length;
        const a0 = fold(2 * g0 + sh[0]!, n0);
        const a1 = fold(2 * g1 + sh[1]!, n1);
        const a2 = fold(2 * g2 + sh[2]!, n2);
        qpoints.push([a0 / (2 * n0), a1 / (2 * n1), a2 / (2 * n2)]);
        let w = 0;
        for (const A of mats) {
          const h0 = A[0]! * a0 + A[1]! * a1 + A[2]! * a2;
          const h1 = A[3]! * a0 + A[4]! * a1 + A[5]! * a2;
          const h2 = A[6]! * a0 + A[7]! * a1 + A[8]! * a2;
          const j = index(h0, h1, h2);
          if (mapping[j]! < 0) {
            mapping[j] = id_;
            w++;
          }
        }
        weights.push(w);
      }
  return { mesh: [n0, n1, n2], qpoints, weights, mapping };
}
