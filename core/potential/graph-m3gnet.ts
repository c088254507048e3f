// MatterSim-v1 (M3GNet) crystal graph in TypeScript, matching MatterSim's GraphConvertor
// (mattersim/datasets/utils/convertor.py + threebody_indices.pyx; rules re-stated, not copied):
//  * positions are first wrapped into the cell (fractional mod 1), then
//  * edges: every directed pair (i, j, image n) with 0 < |r_j + n·L − r_i| <= cutoff (5 Å),
//    grouped by centre atom;
//  * three-body: for each centre, all ordered pairs (ij, ik) of DISTINCT edges leaving it whose
//    lengths are both <= the three-body cutoff (4 Å); rows name the two edges' indices.
// The ONNX graph (tools/export/m3gnet_flat.py) sums over edges and triplets, so only the sets
// matter; at exactly the cutoff MatterSim's smooth radial basis and its derivatives vanish.
import { StructureError } from '../errors.js';
import { neighbourList } from '../neighbours/index.js';
import { makeStructure, type Structure } from '../structure/structure.js';

export interface M3gnetGraphOptions {
  cutoff: number;
  threeBodyCutoff: number;
  maxAtomicNumber: number;
}

/** MatterSim-v1's cutoffs (mattersim-v1.0.0-1M/5M model_args). */
export const M3GNET_DEFAULTS: Readonly<M3gnetGraphOptions> = Object.freeze({ cutoff: 5, threeBodyCutoff: 4, maxAtomicNumber: 94 });

export interface M3gnetGraph {
  numAtoms: number;
  numbers: Int32Array;
  /** 3 per atom, Cartesian Å of the WRAPPED positions (the ones the edges refer to) */
  positions: Float64Array;
  /** 9, lattice rows */
  cell: Float64Array;
  edgeCenter: Int32Array;
  edgeNeighbour: Int32Array;
  /** 3 per edge: integer image of the neighbour */
  edgeImage: Int32Array;
  edgeDistance: Float64Array;
  /** 2 per triplet: edge ij, edge ik */
  threeBody: Int32Array;
}

export function buildM3gnetGraph(s: Structure, options: Partial<M3gnetGraphOptions> = {}): M3gnetGraph {
  const opt = { ...M3GNET_DEFAULTS, ...options };
  const n = s.numbers.length;
  if (n === 0) throw new StructureError('empty_structure', 'structure has no atoms');
  const numbers = new Int32Array(n);
  s.numbers.forEach((z, i) => {
    if (!Number.isInteger(z) || z < 1 || z > opt.maxAtomicNumber)
      throw new StructureError('unsupported_element', `atomic number ${z} is outside 1..${opt.maxAtomicNumber}`, { atom: i, number: z });
    numbers[i] = z;
  });
  // wrap into [0, 1) as MatterSim does before its neighbour search
  const frac = s.frac.map((f) => f.map((x) => x - Math.floor(x)).map((x) => (x >= 1 ? 0 : x)) as [number, number, number]);
  const wrapped = makeStructure({ lattice: s.lattice, frac, numbers: s.numbers });
  const L = s.lattice;
  const positions = new Float64Array(3 * n);
  frac.forEach((f, i) => {
    for (let c = 0; c < 3; c++) positions[3 * i + c] = f[0] * L[0][c]! + f[1] * L[1][c]! + f[2] * L[2][c]!;
  });
  const cell = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) cell[3 * r + c] = L[r]![c]!;
  const nl = neighbourList(wrapped, opt.cutoff);
  const E = nl.centers.length;
  // edges are sorted by centre (core/neighbours): count three-body rows per centre
  const start = new Int32Array(n + 1);
  for (let k = 0; k < E; k++) start[nl.centers[k]! + 1]!++;
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  for (let k = 1; k < E; k++) if (nl.centers[k]! < nl.centers[k - 1]!) throw new Error('neighbour list is not grouped by centre');
  let T = 0;
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let k = start[i]!; k < start[i + 1]!; k++) if (nl.distances[k]! <= opt.threeBodyCutoff) m++;
    T += m * (m - 1);
  }
  const threeBody = new Int32Array(2 * T);
  let t = 0;
  for (let i = 0; i < n; i++)
    for (let j = start[i]!; j < start[i + 1]!; j++) {
      if (nl.distances[j]! > opt.threeBodyCutoff) continue;
      for (let k = start[i]!; k < start[i + 1]!; k++) {
        if (k === j || nl.distances[k]! > opt.threeBodyCutoff) continue;
        threeBody[2 * t] = j;
        threeBody[2 * t + 1] = k;
        t++;
      }
    }
  return { numAtoms: n, numbers, positions, cell, edgeCenter: nl.centers, edgeNeighbour: nl.neighbours, edgeImage: nl.images, edgeDistance: nl.distances, threeBody };
}

/** Flat batched inputs of the M3GNet ONNX contract (tools/export/m3gnet_flat.py; matgl's too). */
export interface M3gnetBatch {
  numStructures: number;
  numAtoms: number;
  numEdges: number;
  numTriplets: number;
  atomicNumbers: BigInt64Array;
  positions: Float64Array;
  cell: Float64Array;
  atomOwner: BigInt64Array;
  edgeIndex: BigInt64Array;
  edgeOffset: Float64Array;
  threeBody: BigInt64Array;
  atomOffsets: number[];
}

/** The fields an edge graph needs to be batched: atoms, edges, and rows of edge indices. */
export interface EdgeGraph {
  numAtoms: number;
  numbers: Int32Array;
  positions: Float64Array;
  cell: Float64Array;
  edgeCenter: Int32Array;
  edgeNeighbour: Int32Array;
  edgeImage: Int32Array;
  /** `threeBodyWidth` edge indices per row; every column is offset by the graph's first edge */
  threeBody: Int32Array;
}

/** Concatenate graphs into one batch: atom indices and edge indices shift by the graphs before. */
export function batchEdgeGraphs(graphs: readonly EdgeGraph[], threeBodyWidth: number): M3gnetBatch {
  const N = graphs.reduce((a, g) => a + g.numAtoms, 0);
  const E = graphs.reduce((a, g) => a + g.edgeCenter.length, 0);
  const T = graphs.reduce((a, g) => a + g.threeBody.length / threeBodyWidth, 0);
  const b: M3gnetBatch = {
    numStructures: graphs.length,
    numAtoms: N,
    numEdges: E,
    numTriplets: T,
    atomicNumbers: new BigInt64Array(N),
    positions: new Float64Array(3 * N),
    cell: new Float64Array(9 * graphs.length),
    atomOwner: new BigInt64Array(N),
    edgeIndex: new BigInt64Array(2 * E),
    edgeOffset: new Float64Array(3 * E),
    threeBody: new BigInt64Array(threeBodyWidth * T),
    atomOffsets: [],
  };
  let a0 = 0;
  let e0 = 0;
  let r0 = 0;
  graphs.forEach((g, gi) => {
    b.atomOffsets.push(a0);
    for (let i = 0; i < g.numAtoms; i++) {
      b.atomicNumbers[a0 + i] = BigInt(g.numbers[i]!);
      b.atomOwner[a0 + i] = BigInt(gi);
    }
    b.positions.set(g.positions, 3 * a0);
    b.cell.set(g.cell, 9 * gi);
    const ne = g.edgeCenter.length;
    for (let k = 0; k < ne; k++) {
      b.edgeIndex[2 * (e0 + k)] = BigInt(g.edgeCenter[k]! + a0);
      b.edgeIndex[2 * (e0 + k) + 1] = BigInt(g.edgeNeighbour[k]! + a0);
    }
    for (let k = 0; k < 3 * ne; k++) b.edgeOffset[3 * e0 + k] = g.edgeImage[k]!;
    for (let k = 0; k < g.threeBody.length; k++) b.threeBody[r0 + k] = BigInt(g.threeBody[k]! + e0);
    a0 += g.numAtoms;
    e0 += ne;
    r0 += g.threeBody.length;
  });
  b.atomOffsets.push(a0);
  return b;
}

/** M3GNet (MatterSim export): two edge indices per triplet (ij, ik). */
export function batchM3gnetGraphs(graphs: readonly M3gnetGraph[]): M3gnetBatch {
  return batchEdgeGraphs(graphs, 2);
}
