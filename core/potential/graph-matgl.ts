// matgl's crystal graph in TypeScript, for the matgl potentials exported by
// tools/export/export_matgl.py (M3GNet-MP-2021.2.8, TensorNet-MatPES-PBE-v2025.1):
//  * edges: exactly what matgl 2.x's Structure2Graph gets from pymatgen's
//    find_points_in_spheres(cart, cart, r = cutoff, pbc, lattice, tol = 1e-8) on the Cartesian
//    coordinates of the structure as given (fractional × lattice, not wrapped), self pairs
//    removed, IN PYMATGEN'S ORDER. The order matters for M3GNet (below), so the cell-list search
//    of pymatgen/optimization/neighbors.pyx (pymatgen-core 2026.10, tools/requirements-matgl.txt)
//    is re-stated step by step (same floating-point operations in the same order, so points land
//    in the same cubes and lists; Cartesian coordinates as numpy computes them, see
//    pymatgenCartesian);
//    test/fixtures/matgl-graph-reference.json holds matgl's own graphs to check it.
//  * three-body rows (M3GNet): matgl <= 2 (DGL) numbers the bonds within the three-body cutoff
//    ('pruned' bonds P, in edge-list order), enumerates ordered pairs (a, b) of distinct pruned
//    bonds of each centre (a-major), and then uses a and b as indices of the FULL edge list for
//    the neighbour atom and both cutoff weights, and adds the term to full-list bond s (the
//    segment of a from n_triple_ij, where bonds without triples collapse); the angle and radial
//    basis use P[a], P[b]. The pretrained weights were trained with this (matgl 3 changed it and
//    retrained), so each row carries the five columns (P[a], P[b], a, b, s) and the ONNX graph
//    (tools/export/matgl_flat.py) reproduces matgl to rounding.
import { StructureError } from '../errors.js';
import type { Structure } from '../structure/structure.js';
import { batchEdgeGraphs, type M3gnetBatch } from './graph-m3gnet.js';

export interface MatglGraphOptions {
  cutoff: number;
  /** M3GNet: three-body cutoff, Å; undefined for models without three-body rows */
  threeBodyCutoff?: number;
  /** supported atomic numbers [min, max] and those inside that range the model lacks */
  zRange: readonly [number, number];
  excluded: readonly number[];
}

export interface MatglGraph {
  numAtoms: number;
  numbers: Int32Array;
  /** 3 per atom: Cartesian Å, fractional coordinates as given times the lattice */
  positions: Float64Array;
  /** 9, lattice rows */
  cell: Float64Array;
  edgeCenter: Int32Array;
  edgeNeighbour: Int32Array;
  /** 3 per edge: integer image of the neighbour (neighbour at r_j + n·L) */
  edgeImage: Int32Array;
  /** 5 per row: angle bond ij, angle bond ik, weight bond ij, weight bond ik, target bond */
  threeBody: Int32Array;
}

export interface PointsInSpheres {
  centers: Int32Array;
  neighbours: Int32Array;
  images: Int32Array;
  distances: Float64Array;
}

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** x = m · 2^e exactly (m a BigInt, sign included). */
function decompose(x: number): [bigint, number] {
  F64[0] = x;
  const bits = U64[0]!;
  const sign = bits >> 63n ? -1n : 1n;
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & 0xfffffffffffffn;
  if (exp === 0) return [sign * frac, -1074];
  return [sign * (frac | 0x10000000000000n), exp - 1075];
}

/** a·b + c rounded once (IEEE fused multiply-add), exactly, via BigInt arithmetic. */
export function fma(a: number, b: number, c: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c)) return a * b + c;
  if (a === 0 || b === 0) return a * b + c;
  const [ma, ea] = decompose(a);
  const [mb, eb] = decompose(b);
  const [mc, ec] = decompose(c);
  let mp = ma * mb;
  let ep = ea + eb;
  let m: bigint;
  let e: number;
  if (mc === 0n) {
    m = mp;
    e = ep;
  } else if (ep <= ec) {
    m = mp + (mc << BigInt(ec - ep));
    e = ep;
  } else {
    m = (mp << BigInt(ep - ec)) + mc;
    e = ec;
  }
  if (m === 0n) return a * b + c; // exact zero: let IEEE pick its sign
  // keep Number(m) finite: drop low bits beyond 64 significant ones into a sticky bit
  const neg = m < 0n;
  let mag = neg ? -m : m;
  const bl = mag.toString(2).length;
  if (bl > 64) {
    const sh = BigInt(bl - 64);
    const sticky = (mag & ((1n << sh) - 1n)) !== 0n ? 1n : 0n;
    mag = (mag >> sh) | sticky;
    e += bl - 64;
  }
  m = neg ? -mag : mag;
  // Number(BigInt) rounds to nearest, ties to even; scaling by 2^e is then exact for normal results
  const half = Math.trunc(e / 2);
  return Number(m) * 2 ** half * 2 ** (e - half);
}

/**
 * Cartesian coordinates as pymatgen's Structure.cart_coords computes them (np.dot(frac, lattice)):
 * with numpy's OpenBLAS on x86-64 with FMA (Haswell and later kernels) each component is
 * fma(f2, L2, fma(f1, L1, f0·L0)). Only the neighbour search uses these: an atom on a cell face
 * (fractional 0 with a tilted lattice) gets a fractional coordinate of ±1e-17 back from them,
 * and its sign decides the image pymatgen stores first, hence matgl's edge order.
 */
export function pymatgenCartesian(frac: readonly (readonly number[])[], L: readonly (readonly number[])[]): Float64Array {
  const out = new Float64Array(3 * frac.length);
  frac.forEach((f, i) => {
    for (let c = 0; c < 3; c++) out[3 * i + c] = fma(f[2]!, L[2]![c]!, fma(f[1]!, L[1]![c]!, f[0]! * L[0]![c]!));
  });
  return out;
}

function matmul3(rows: Float64Array, n: number, m: readonly (readonly number[])[]): Float64Array {
  const out = new Float64Array(3 * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += rows[3 * i + k]! * m[k]![j]!;
      out[3 * i + j] = s;
    }
  return out;
}

/**
 * pymatgen's find_points_in_spheres(all_coords = center_coords = cart, r, pbc = (1, 1, 1),
 * lattice, tol): every (i, j, image) with |r_j + image·L − r_i|² < r² + tol, in pymatgen's order.
 */
export function findPointsInSpheres(cart: Float64Array, lattice: readonly (readonly number[])[], r: number, tol = 1e-8): PointsInSpheres {
  const n = cart.length / 3;
  const L = lattice;
  const ledge = r < 0.1 ? 0.1 : r;
  const vmax = [0, 0, 0];
  const vmin = [0, 0, 0];
  for (let d = 0; d < 3; d++) {
    vmax[d] = cart[d]!;
    vmin[d] = cart[d]!;
  }
  for (let i = 0; i < n; i++)
    for (let d = 0; d < 3; d++) {
      const x = cart[3 * i + d]!;
      if (x >= vmax[d]!) vmax[d] = x;
      if (x <= vmin[d]!) vmin[d] = x;
    }
  for (let d = 0; d < 3; d++) {
    vmax[d] = vmax[d]! + r + tol;
    vmin[d] = vmin[d]! - r - tol;
  }
  // matrix_inv as written there (pymatgen-core 2026: cofactors times 1/det)
  const [m00, m01, m02] = L[0] as [number, number, number];
  const [m10, m11, m12] = L[1] as [number, number, number];
  const [m20, m21, m22] = L[2] as [number, number, number];
  const invDet = 1.0 / (m00 * (m11 * m22 - m12 * m21) + m01 * (m12 * m20 - m10 * m22) + m02 * (m10 * m21 - m11 * m20));
  const inv: number[][] = [
    [(m11 * m22 - m12 * m21) * invDet, (m02 * m21 - m01 * m22) * invDet, (m01 * m12 - m02 * m11) * invDet],
    [(m12 * m20 - m10 * m22) * invDet, (m00 * m22 - m02 * m20) * invDet, (m02 * m10 - m00 * m12) * invDet],
    [(m10 * m21 - m11 * m20) * invDet, (m01 * m20 - m00 * m21) * invDet, (m00 * m11 - m01 * m10) * invDet],
  ];
  const correction = matmul3(cart, n, inv);
  const allFrac = new Float64Array(3 * n);
  for (let k = 0; k < 3 * n; k++) {
    allFrac[k] = correction[k]! - Math.floor(correction[k]!);
    correction[k] = correction[k]! - allFrac[k]!;
  }
  // reciprocal lattice and repetitions
  const maxR = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    const a1 = L[i]!;
    const a2 = L[(i + 1) % 3]!;
    const a3 = L[(i + 2) % 3]!;
    const c = [a2[1]! * a3[2]! - a2[2]! * a3[1]!, a2[2]! * a3[0]! - a2[0]! * a3[2]!, a2[0]! * a3[1]! - a2[1]! * a3[0]!];
    let prod = 0;
    for (let k = 0; k < 3; k++) prod += a1[k]! * c[k]!;
    let s = 0;
    for (let k = 0; k < 3; k++) {
      const rc = (2 * Math.PI * c[k]!) / prod;
      s += rc * rc;
    }
    maxR[i] = Math.ceil(((r + 0.15) * Math.sqrt(s)) / (2 * Math.PI));
  }
  const frac = matmul3(cart, n, inv);
  const minB = [0, 0, 0];
  const maxB = [1, 1, 1];
  for (let d = 0; d < 3; d++) {
    let lo = frac[d]!;
    let hi = frac[d]!;
    for (let i = 0; i < n; i++) {
      const x = frac[3 * i + d]!;
      if (x >= hi) hi = x;
      if (x <= lo) lo = x;
    }
    minB[d] = Math.floor(lo - maxR[d]! - 1e-8);
    maxB[d] = Math.ceil(hi + maxR[d]! + 1e-8);
  }
  const inCell = matmul3(allFrac, n, L);
  // translated images inside the valid box, in pymatgen's loop order
  const offs: number[] = [];
  const idx: number[] = [];
  const ex: number[] = [];
  const ct = [0, 0, 0];
  for (let i = minB[0]!; i < maxB[0]!; i++)
    for (let j = minB[1]!; j < maxB[1]!; j++)
      for (let k = minB[2]!; k < maxB[2]!; k++)
        for (let p = 0; p < n; p++) {
          for (let d = 0; d < 3; d++) ct[d] = i * L[0]![d]! + j * L[1]![d]! + k * L[2]![d]! + inCell[3 * p + d]!;
          if (ct[0]! > vmin[0]! && ct[0]! < vmax[0]! && ct[1]! > vmin[1]! && ct[1]! < vmax[1]! && ct[2]! > vmin[2]! && ct[2]! < vmax[2]!) {
            offs.push(i, j, k);
            idx.push(p);
            ex.push(ct[0]!, ct[1]!, ct[2]!);
          }
        }
  const count = idx.length;
  const empty = { centers: new Int32Array(0), neighbours: new Int32Array(0), images: new Int32Array(0), distances: new Float64Array(0) };
  if (count === 0) return empty;
  const ncube = [0, 1, 2].map((d) => Math.ceil((vmax[d]! - vmin[d]!) / ledge)) as [number, number, number];
  const cubeOf = (x: number, y: number, z: number): number => {
    const c0 = Math.floor((x - vmin[0]! + 1e-8) / ledge);
    const c1 = Math.floor((y - vmin[1]! + 1e-8) / ledge);
    const c2 = Math.floor((z - vmin[2]! + 1e-8) / ledge);
    return c0 * ncube[1] * ncube[2] + c1 * ncube[2] + c2;
  };
  const nCubes = ncube[0] * ncube[1] * ncube[2];
  const head = new Int32Array(nCubes).fill(-1);
  const next = new Int32Array(count).fill(-1);
  for (let p = 0; p < count; p++) {
    const c = cubeOf(ex[3 * p]!, ex[3 * p + 1]!, ex[3 * p + 2]!);
    next[p] = head[c]!;
    head[c] = p;
  }
  const r2 = r * r;
  const centers: number[] = [];
  const neighbours: number[] = [];
  const images: number[] = [];
  const distances: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = cart[3 * i]!;
    const y = cart[3 * i + 1]!;
    const z = cart[3 * i + 2]!;
    const c0 = Math.floor((x - vmin[0]! + 1e-8) / ledge);
    const c1 = Math.floor((y - vmin[1]! + 1e-8) / ledge);
    const c2 = Math.floor((z - vmin[2]! + 1e-8) / ledge);
    // get_cube_neighbors: the 27 offsets in lexicographic order, those inside the grid
    for (let o0 = -1; o0 <= 1; o0++)
      for (let o1 = -1; o1 <= 1; o1++)
        for (let o2 = -1; o2 <= 1; o2++) {
          const q0 = c0 + o0;
          const q1 = c1 + o1;
          const q2 = c2 + o2;
          if (q0 < 0 || q0 >= ncube[0] || q1 < 0 || q1 >= ncube[1] || q2 < 0 || q2 >= ncube[2]) continue;
          let link = head[q0 * ncube[1] * ncube[2] + q1 * ncube[2] + q2]!;
          while (link !== -1) {
            let d2 = 0;
            const dx = ex[3 * link]! - x;
            const dy = ex[3 * link + 1]! - y;
            const dz = ex[3 * link + 2]! - z;
            d2 += dx * dx;
            d2 += dy * dy;
            d2 += dz * dz;
            if (d2 < r2 + tol) {
              const a = idx[link]!;
              centers.push(i);
              neighbours.push(a);
              images.push(
                Math.round(offs[3 * link]! - correction[3 * a]!),
                Math.round(offs[3 * link + 1]! - correction[3 * a + 1]!),
                Math.round(offs[3 * link + 2]! - correction[3 * a + 2]!),
              );
              distances.push(Math.sqrt(d2));
            }
            link = next[link]!;
          }
        }
  }
  return { centers: Int32Array.from(centers), neighbours: Int32Array.from(neighbours), images: Int32Array.from(images), distances: Float64Array.from(distances) };
}

/**
 * matgl 2.x's three-body rows (P[a], P[b], a, b, s) of one structure's edge list (see the file
 * comment); `dist` are the edge lengths as matgl's model computes them.
 */
export function legacyThreeBody(edgeCenter: Int32Array, dist: Float64Array, numAtoms: number, threeBodyCutoff: number): Int32Array {
  const pruned: number[] = [];
  for (let e = 0; e < dist.length; e++) if (dist[e]! <= threeBodyCutoff) pruned.push(e);
  const nb = new Int32Array(numAtoms);
  for (const e of pruned) nb[edgeCenter[e]!]!++;
  let T = 0;
  for (let i = 0; i < numAtoms; i++) T += nb[i]! * (nb[i]! - 1);
  const rows = new Int32Array(5 * T);
  if (T === 0) return rows;
  // n_triple_ij per pruned bond, then matgl's get_segment_indices_from_n over the first max_id
  const nTriple: number[] = [];
  for (let i = 0; i < numAtoms; i++) for (let k = 0; k < nb[i]!; k++) nTriple.push(nb[i]! - 1);
  let t = 0;
  let cs = 0;
  let maxId = 0;
  for (let i = 0; i < numAtoms; i++) {
    const m = nb[i]!;
    for (let a = 0; a < m; a++)
      for (let b = 0; b < m; b++) {
        if (a === b) continue;
        const pa = cs + a;
        const pb = cs + b;
        rows[5 * t] = pruned[pa]!;
        rows[5 * t + 1] = pruned[pb]!;
        rows[5 * t + 2] = pa;
        rows[5 * t + 3] = pb;
        maxId = Math.max(maxId, pa + 1, pb + 1);
        t++;
      }
    cs += m;
  }
  const marks = new Uint8Array(T);
  let acc = 0;
  for (let k = 0; k < maxId - 1; k++) {
    acc += nTriple[k]!;
    if (acc < T) marks[acc] = 1;
  }
  let seg = 0;
  for (let k = 0; k < T; k++) {
    seg += marks[k]!;
    rows[5 * k + 4] = seg;
  }
  return rows;
}

export function buildMatglGraph(s: Structure, opt: MatglGraphOptions): MatglGraph {
  const n = s.numbers.length;
  if (n === 0) throw new StructureError('empty_structure', 'structure has no atoms');
  const numbers = new Int32Array(n);
  const excluded = new Set(opt.excluded);
  s.numbers.forEach((z, i) => {
    if (!Number.isInteger(z) || z < opt.zRange[0] || z > opt.zRange[1] || excluded.has(z))
      throw new StructureError(
        'unsupported_element',
        `atomic number ${z} is not supported by this model (${opt.zRange[0]}..${opt.zRange[1]}${excluded.size ? ` except ${[...excluded].join(', ')}` : ''})`,
        { atom: i, number: z },
      );
    numbers[i] = z;
  });
  const L = s.lattice;
  const positions = new Float64Array(3 * n);
  s.frac.forEach((f, i) => {
    for (let c = 0; c < 3; c++) positions[3 * i + c] = f[0] * L[0][c]! + f[1] * L[1][c]! + f[2] * L[2][c]!;
  });
  const cell = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) cell[3 * r + c] = L[r]![c]!;
  const nl = findPointsInSpheres(pymatgenCartesian(s.frac, L), L, opt.cutoff);
  // matgl: exclude_self = (src != dst) | (dist > tol)
  const keep: number[] = [];
  for (let k = 0; k < nl.centers.length; k++) if (nl.centers[k] !== nl.neighbours[k] || nl.distances[k]! > 1e-8) keep.push(k);
  const E = keep.length;
  const edgeCenter = new Int32Array(E);
  const edgeNeighbour = new Int32Array(E);
  const edgeImage = new Int32Array(3 * E);
  keep.forEach((k, e) => {
    edgeCenter[e] = nl.centers[k]!;
    edgeNeighbour[e] = nl.neighbours[k]!;
    for (let c = 0; c < 3; c++) edgeImage[3 * e + c] = nl.images[3 * k + c]!;
  });
  let threeBody: Int32Array = new Int32Array(0);
  if (opt.threeBodyCutoff !== undefined) {
    // the bond length as the model computes it: (r_j + n·L) − r_i
    const dist = new Float64Array(E);
    for (let e = 0; e < E; e++) {
      const i = edgeCenter[e]!;
      const j = edgeNeighbour[e]!;
      let s2 = 0;
      for (let c = 0; c < 3; c++) {
        const shift = edgeImage[3 * e]! * L[0][c]! + edgeImage[3 * e + 1]! * L[1][c]! + edgeImage[3 * e + 2]! * L[2][c]!;
        const v = positions[3 * j + c]! + shift - positions[3 * i + c]!;
        s2 += v * v;
      }
      dist[e] = Math.sqrt(s2);
    }
    threeBody = legacyThreeBody(edgeCenter, dist, n, opt.threeBodyCutoff);
  }
  return { numAtoms: n, numbers, positions, cell, edgeCenter, edgeNeighbour, edgeImage, threeBody };
}

/** Flat batched inputs of the matgl ONNX contract (tools/export/matgl_flat.py): the M3GNet layout. */
export type MatglBatch = M3gnetBatch;

/** Five edge indices per three-body row (angle ij, angle ik, weight ij, weight ik, target). */
export function batchMatglGraphs(graphs: readonly MatglGraph[]): MatglBatch {
  return batchEdgeGraphs(graphs, 5);
}
