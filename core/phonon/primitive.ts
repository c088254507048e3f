// The primitive cell inside a supercell (phonopy's Primitive): which supercell atoms are the
// primitive atoms (p2s), which primitive atom each supercell atom is a copy of (s2p), and the
// shortest supercell vectors between them with their multiplicities (physics.md §3).
import { PHONON_CONFIG } from '../../config/phonon.js';
import { UsageError } from '../errors.js';
import { type Mat3, type Vec3, det3, inv3, matmul3, transpose3, vecmat3 } from '../math/linalg.js';
import { minimumImageDistance } from '../structure/minimum-image.js';
import { niggliReduce } from '../structure/niggli.js';
import { type Structure, makeStructure } from '../structure/structure.js';

export interface PrimitiveInSupercell {
  primitive: Structure;
  /** for each primitive atom: index of the supercell atom that is it */
  p2s: number[];
  /** for each supercell atom: index (0..np−1) of the primitive atom it is a copy of */
  s2pIndex: Int32Array;
  /** supercell matrix relative to the primitive cell: P⁻¹·S (column convention), integer */
  supercellMatrixOfPrimitive: Mat3;
}

function roundedIfInteger(M: Mat3, what: string): Mat3 {
  const R = M.map((r) => r.map((x) => Math.round(x))) as Mat3;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++)
      if (Math.abs(R[i]![j]! - M[i]![j]!) > 1e-8)
        throw new UsageError(`${what} is not an integer matrix: ${JSON.stringify(M)}`);
  return R;
}

/**
 * Primitive cell of a supercell made with `supercellMatrix` (unit cell → supercell) and the
 * phonopy `primitiveMatrix` (unit cell → primitive, column convention: primitive rows = Pᵀ·L).
 */
export function primitiveInSupercell(
  supercell: Structure,
  supercellMatrix: readonly (readonly number[])[],
  primitiveMatrix: readonly (readonly number[])[],
  symprec: number = PHONON_CONFIG.symprec,
): PrimitiveInSupercell {
  const S = supercellMatrix as Mat3;
  const P = primitiveMatrix as Mat3;
  if (!(Math.abs(det3(P)) > 1e-10)) throw new UsageError('primitive matrix is singular');
  const T = matmul3(inv3(S), P); // supercell → primitive (column convention)
  const PinvS = roundedIfInteger(matmul3(inv3(P), S), 'supercell matrix relative to the primitive cell (P⁻¹·S)');
  const ratio = Math.abs(det3(PinvS));
  const ns = supercell.numbers.length;
  const npExpect = ns / ratio;
  if (!Number.isInteger(Math.round(npExpect * 1e6) / 1e6)) throw new UsageError('supercell atoms are not a multiple of the primitive cell');
  const latP = matmul3(transpose3(T), supercell.lattice);
  const toPrim = transpose3(inv3(T)); // row positions: x_p = x_s · T⁻ᵀ
  const pfrac: Vec3[] = [];
  const p2s: number[] = [];
  const s2pIndex = new Int32Array(ns);
  const dist = (a: Vec3, b: Vec3): number => minimumImageDistance(latP, [a[0] - b[0], a[1] - b[1], a[2] - b[2]]);
  for (let k = 0; k < ns; k++) {
    const x = vecmat3(supercell.frac[k]!, toPrim);
    for (let a = 0; a < 3; a++) x[a] = x[a]! - Math.floor(x[a]!);
    let found = -1;
    for (let i = 0; i < pfrac.length; i++)
      if (dist(pfrac[i]!, x) < symprec) {
        found = i;
        break;
      }
    if (found < 0) {
      found = pfrac.length;
      pfrac.push(x);
      p2s.push(k);
    } else if (supercell.numbers[p2s[found]!] !== supercell.numbers[k]) {
      throw new UsageError(`primitive matrix maps atoms of different species onto each other (supercell atoms ${p2s[found]! + 1} and ${k + 1})`);
    }
    s2pIndex[k] = found;
  }
  if (pfrac.length * Math.round(ratio) !== ns)
    throw new UsageError(`primitive matrix is not compatible with the structure: ${pfrac.length} primitive atoms × ${Math.round(ratio)} ≠ ${ns} supercell atoms`);
  const primitive = makeStructure({ lattice: latP, frac: pfrac, numbers: p2s.map((k) => supercell.numbers[k]!) });
  return { primitive, p2s, s2pIndex, supercellMatrixOfPrimitive: PinvS };
}

/**
 * Shortest vectors from each primitive atom to each supercell atom among periodic images,
 * in the primitive cell's fractional coordinates. Layout: pair (k, i) = supercell atom k,
 * primitive atom i at index k·np + i; its vectors are vecs[3·(offset[p] + m) ...], m < multiplicity[p].
 */
export interface ShortestVectors {
  np: number;
  ns: number;
  multiplicity: Int32Array;
  offset: Int32Array;
  vecs: Float64Array;
}

// Lattice points {−1,0,1}-combinations of a, b, c and −a−b−c in the reduced basis (65 distinct).
const IMAGE_POINTS: Vec3[] = (() => {
  const seen = new Set<string>();
  const out: Vec3[] = [];
  for (const i of [-1, 0, 1])
    for (const j of [-1, 0, 1])
      for (const k of [-1, 0, 1])
        for (const l of [-1, 0, 1]) {
          const p: Vec3 = [i - l, j - l, k - l];
          const key = p.join(',');
          if (!seen.has(key)) {
            seen.add(key);
            out.push(p);
          }
        }
  return out.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
})();

export function shortestVectors(supercell: Structure, prim: PrimitiveInSupercell, symprec: number = PHONON_CONFIG.symprec): ShortestVectors {
  const ns = supercell.numbers.length;
  const np = prim.p2s.length;
  const { lattice: red, transform } = niggliReduce(supercell.lattice, symprec);
  // reduced = transform · L  →  f_red = f_s · transform⁻¹ ; f_s = f_red · transform
  const Tinv = inv3(transform);
  const toRed = (f: readonly number[]): Vec3 => {
    const x = vecmat3(f, Tinv);
    return [x[0] - Math.round(x[0]), x[1] - Math.round(x[1]), x[2] - Math.round(x[2])];
  };
  // supercell fractional → primitive fractional: L_s · L_p⁻¹ (integer)
  const sToP = roundedIfInteger(matmul3(supercell.lattice, inv3(prim.primitive.lattice)), 'supercell lattice in primitive units');
  const redToP = matmul3(transform, sToP);
  const sred = supercell.frac.map(toRed);
  const multiplicity = new Int32Array(ns * np);
  const offset = new Int32Array(ns * np);
  const vecs: number[] = [];
  const lens = new Float64Array(IMAGE_POINTS.length);
  for (let k = 0; k < ns; k++)
    for (let i = 0; i < np; i++) {
      const a = sred[k]!;
      const b = sred[prim.p2s[i]!]!;
      const d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
      let min = Infinity;
      for (let t = 0; t < IMAGE_POINTS.length; t++) {
        const l = IMAGE_POINTS[t]!;
        const x = d[0]! + l[0];
        const y = d[1]! + l[1];
        const z = d[2]! + l[2];
        const cx = x * red[0][0] + y * red[1][0] + z * red[2][0];
        const cy = x * red[0][1] + y * red[1][1] + z * red[2][1];
        const cz = x * red[0][2] + y * red[1][2] + z * red[2][2];
        const len = Math.sqrt(cx * cx + cy * cy + cz * cz);
        lens[t] = len;
        if (len < min) min = len;
      }
      const p = k * np + i;
      offset[p] = vecs.length / 3;
      let m = 0;
      for (let t = 0; t < IMAGE_POINTS.length; t++) {
        if (lens[t]! - min < symprec) {
          const l = IMAGE_POINTS[t]!;
          const v = vecmat3([d[0]! + l[0], d[1]! + l[1], d[2]! + l[2]], redToP);
          vecs.push(v[0], v[1], v[2]);
          m++;
        }
      }
      multiplicity[p] = m;
    }
  return { np, ns, multiplicity, offset, vecs: Float64Array.from(vecs) };
}
