// CHGNet's crystal graph, built in TypeScript: the same edge and triplet sets as CHGNet's own
// converter (chgnet/graph/converter.py + graph.py, "fast" and "legacy" agree), so the exported
// ONNX model sees exactly the graph PyTorch CHGNet would build.
//
// CHGNet's rules (read from its converter; re-stated here, not copied):
//  * atom graph: every directed pair (i, j, image n) with 0 < |r_j + n·L − r_i| <= 6 Å, both
//    directions, periodic images included (pymatgen get_neighbor_list, numerical_tol 1e-8).
//  * undirected bonds: a directed edge (i, j, n) and its reverse (j, i, −n) form one undirected
//    bond; `undirected2directed` names the first of the two in directed order.
//  * bond graph (three-body): for every undirected bond u of length <= 3 Å and each of its two
//    directed edges d with centre c, one row (c, u, d, und(e), e) for every OTHER directed edge e
//    leaving c whose length is < 3 Å (strict). Equivalently: all ordered pairs (d, e), d ≠ e, of
//    edges with a common centre, |d| <= 3 Å, |e| < 3 Å.
//  * CHGNet refuses structures with an isolated atom (no neighbour within 6 Å).
//
// Order: CHGNet's order follows pymatgen's neighbour list; ours follows core/neighbours
// (centre, neighbour, offset). The model only sums over edges and triplets, so the order
// changes nothing but floating-point summation order (float64 model: ~1e-14 relative; see
// test/potential-chgnet-graph.test.ts, which checks the sets against CHGNet's converter).
// Pairs at exactly 6 Å (ours: strict <) or bonds at exactly 3 Å carry zero weight in CHGNet
// (its smooth envelopes vanish there, with zero derivative), so the boundary convention
// cannot change a result.
import { CHGNET_GRAPH } from '../../config/potential.js';
import { StructureError } from '../errors.js';
import { neighbourList } from '../neighbours/index.js';
import { symbolOf } from '../structure/elements.js';
import type { Structure } from '../structure/structure.js';

export interface ChgnetGraphOptions {
  /** atom-graph cutoff, Å (CHGNet 0.3.0: 6) */
  atomGraphCutoff: number;
  /** bond-graph (three-body) cutoff, Å (CHGNet 0.3.0: 3) */
  bondGraphCutoff: number;
  /** largest supported atomic number (CHGNet's embedding: 94) */
  maxAtomicNumber: number;
}

/** One structure's graph, indices local to the structure. */
export interface ChgnetGraph {
  numAtoms: number;
  numbers: Int32Array;
  /** 3 per atom, fractional, as given (not wrapped: images are relative to these) */
  frac: Float64Array;
  /** 9, lattice rows */
  lattice: Float64Array;
  /** directed edges: centre and neighbour atom, integer image of the neighbour (3 per edge) */
  edgeCenter: Int32Array;
  edgeNeighbour: Int32Array;
  edgeImage: Int32Array;
  /** |vector| per directed edge, Å (float64, from the neighbour list) */
  edgeDistance: Float64Array;
  directedToUndirected: Int32Array;
  undirectedToDirected: Int32Array;
  /** 5 per triplet: centre atom, undirected i, directed i, undirected j, directed j */
  triplets: Int32Array;
}

export function chgnetGraphDefaults(): ChgnetGraphOptions {
  return {
    atomGraphCutoff: CHGNET_GRAPH.atomGraphCutoff,
    bondGraphCutoff: CHGNET_GRAPH.bondGraphCutoff,
    maxAtomicNumber: CHGNET_GRAPH.maxAtomicNumber,
  };
}

const IMAGE_BITS = 8; // offsets in [−128, 127] per axis in the pairing key
const IMAGE_SPAN = 1 << IMAGE_BITS;
const IMAGE_HALF = IMAGE_SPAN >> 1;

/** Build CHGNet's graph of one structure. */
export function buildChgnetGraph(s: Structure, options: Partial<ChgnetGraphOptions> = {}): ChgnetGraph {
  const opt = { ...chgnetGraphDefaults(), ...options };
  const n = s.numbers.length;
  if (n === 0) throw new StructureError('empty_structure', 'structure has no atoms');
  const numbers = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const z = s.numbers[i]!;
    if (!Number.isInteger(z) || z < 1 || z > opt.maxAtomicNumber)
      throw new StructureError(
        'unsupported_element',
        `atomic number ${z} (${Number.isInteger(z) && z >= 1 ? symbolOf(z) : '?'}) is outside CHGNet's elements 1..${opt.maxAtomicNumber}`,
        { atom: i, number: z },
      );
    numbers[i] = z;
  }
  const frac = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const f = s.frac[i]!;
    frac[3 * i] = f[0];
    frac[3 * i + 1] = f[1];
    frac[3 * i + 2] = f[2];
  }
  const lattice = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) lattice[3 * r + c] = s.lattice[r]![c]!;

  const nl = neighbourList(s, opt.atomGraphCutoff);
  const E = nl.centers.length;

  // isolated atoms: CHGNet's converter raises for these
  const degree = new Int32Array(n);
  for (let k = 0; k < E; k++) degree[nl.centers[k]!]!++;
  for (let i = 0; i < n; i++)
    if (degree[i] === 0)
      throw new StructureError(
        'isolated_atom',
        `atom ${i} (${symbolOf(numbers[i]!)}) has no neighbour within ${opt.atomGraphCutoff} Å; CHGNet refuses isolated atoms`,
        { reason: 'isolated_atom', atom: i },
      );

  // pair each directed edge with its reverse (j, i, −n)
  for (let k = 0; k < 3 * E; k++) {
    const o = nl.images[k]!;
    if (o < -IMAGE_HALF + 1 || o > IMAGE_HALF - 1)
      throw new StructureError('bad_volume', `periodic image offset ${o} is too large (cell far smaller than the cutoff)`);
  }
  const key = (i: number, j: number, o0: number, o1: number, o2: number): number =>
    ((i * n + j) * IMAGE_SPAN + (o0 + IMAGE_HALF)) * IMAGE_SPAN * IMAGE_SPAN + (o1 + IMAGE_HALF) * IMAGE_SPAN + (o2 + IMAGE_HALF);
  if (n * n * IMAGE_SPAN ** 3 > Number.MAX_SAFE_INTEGER)
    throw new StructureError('too_many_atoms', `${n} atoms is too many for one CHGNet graph`);
  const index = new Map<number, number>();
  for (let k = 0; k < E; k++)
    index.set(key(nl.centers[k]!, nl.neighbours[k]!, nl.images[3 * k]!, nl.images[3 * k + 1]!, nl.images[3 * k + 2]!), k);

  const directedToUndirected = new Int32Array(E).fill(-1);
  const undirectedToDirected = new Int32Array(E >> 1);
  let U = 0;
  for (let k = 0; k < E; k++) {
    if (directedToUndirected[k] !== -1) continue;
    const r = index.get(key(nl.neighbours[k]!, nl.centers[k]!, -nl.images[3 * k]!, -nl.images[3 * k + 1]!, -nl.images[3 * k + 2]!));
    if (r === undefined || r === k || directedToUndirected[r] !== -1)
      throw new Error(`neighbour list is not symmetric at edge ${k} (no reverse edge)`);
    if (U >= undirectedToDirected.length) throw new Error('neighbour list has an odd number of edges');
    directedToUndirected[k] = U;
    directedToUndirected[r] = U;
    undirectedToDirected[U] = k;
    U++;
  }
  if (2 * U !== E) throw new Error(`directed edges (${E}) != 2 × undirected bonds (${U})`);

  // three-body rows: per centre, edges with |d| <= rb as first leg, |e| < rb as second
  const rb = opt.bondGraphCutoff;
  const start = new Int32Array(n + 1);
  for (let k = 0; k < E; k++) start[nl.centers[k]! + 1]!++;
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  const byCenter = new Int32Array(E);
  const fill = start.slice(0, n);
  for (let k = 0; k < E; k++) byCenter[fill[nl.centers[k]!]!++] = k;
  let T = 0;
  for (let c = 0; c < n; c++) {
    let nFirst = 0;
    let nSecond = 0;
    for (let q = start[c]!; q < start[c + 1]!; q++) {
      const d = nl.distances[byCenter[q]!]!;
      if (d <= rb) nFirst++;
      if (d < rb) nSecond++;
    }
    // ordered pairs (d, e), d ≠ e: each second leg is also a first leg and skips itself once
    T += nFirst * nSecond - nSecond;
  }
  const triplets = new Int32Array(5 * T);
  let t = 0;
  for (let c = 0; c < n; c++) {
    for (let q = start[c]!; q < start[c + 1]!; q++) {
      const d = byCenter[q]!;
      if (nl.distances[d]! > rb) continue;
      for (let p = start[c]!; p < start[c + 1]!; p++) {
        const e = byCenter[p]!;
        if (e === d || !(nl.distances[e]! < rb)) continue;
        triplets[5 * t] = c;
        triplets[5 * t + 1] = directedToUndirected[d]!;
        triplets[5 * t + 2] = d;
        triplets[5 * t + 3] = directedToUndirected[e]!;
        triplets[5 * t + 4] = e;
        t++;
      }
    }
  }
  if (t !== T) throw new Error(`triplet count mismatch ${t} != ${T}`);

  return {
    numAtoms: n,
    numbers,
    frac,
    lattice,
    edgeCenter: nl.centers,
    edgeNeighbour: nl.neighbours,
    edgeImage: nl.images,
    edgeDistance: nl.distances,
    directedToUndirected,
    undirectedToDirected,
    triplets,
  };
}

/** Flat batched inputs in the ONNX model's contract (models/<name>/manifest.json `inputs`). */
export interface ChgnetBatch {
  numStructures: number;
  numAtoms: number;
  numEdges: number;
  numBonds: number;
  numTriplets: number;
  atomicNumbers: BigInt64Array;
  /** float64; callers cast to the model's precision */
  fracCoords: Float64Array;
  lattice: Float64Array;
  atomOwner: BigInt64Array;
  edgeIndex: BigInt64Array;
  edgeImage: Float64Array;
  directedToUndirected: BigInt64Array;
  undirectedToDirected: BigInt64Array;
  triplets: BigInt64Array;
  /** first atom of each structure in the batch, plus the total at the end */
  atomOffsets: number[];
}

/** Concatenate graphs, offsetting atom, edge and bond indices (CHGNet's BatchedGraph rule). */
export function batchChgnetGraphs(graphs: readonly ChgnetGraph[]): ChgnetBatch {
  let N = 0;
  let E = 0;
  let U = 0;
  let T = 0;
  for (const g of graphs) {
    N += g.numAtoms;
    E += g.edgeCenter.length;
    U += g.undirectedToDirected.length;
    T += g.triplets.length / 5;
  }
  const b: ChgnetBatch = {
    numStructures: graphs.length,
    numAtoms: N,
    numEdges: E,
    numBonds: U,
    numTriplets: T,
    atomicNumbers: new BigInt64Array(N),
    fracCoords: new Float64Array(3 * N),
    lattice: new Float64Array(9 * graphs.length),
    atomOwner: new BigInt64Array(N),
    edgeIndex: new BigInt64Array(2 * E),
    edgeImage: new Float64Array(3 * E),
    directedToUndirected: new BigInt64Array(E),
    undirectedToDirected: new BigInt64Array(U),
    triplets: new BigInt64Array(5 * T),
    atomOffsets: [],
  };
  let a0 = 0;
  let e0 = 0;
  let u0 = 0;
  let t0 = 0;
  graphs.forEach((g, gi) => {
    b.atomOffsets.push(a0);
    const n = g.numAtoms;
    for (let i = 0; i < n; i++) {
      b.atomicNumbers[a0 + i] = BigInt(g.numbers[i]!);
      b.atomOwner[a0 + i] = BigInt(gi);
    }
    b.fracCoords.set(g.frac, 3 * a0);
    b.lattice.set(g.lattice, 9 * gi);
    const ne = g.edgeCenter.length;
    for (let k = 0; k < ne; k++) {
      b.edgeIndex[2 * (e0 + k)] = BigInt(g.edgeCenter[k]! + a0);
      b.edgeIndex[2 * (e0 + k) + 1] = BigInt(g.edgeNeighbour[k]! + a0);
      b.directedToUndirected[e0 + k] = BigInt(g.directedToUndirected[k]! + u0);
    }
    for (let k = 0; k < 3 * ne; k++) b.edgeImage[3 * e0 + k] = g.edgeImage[k]!;
    const nu = g.undirectedToDirected.length;
    for (let k = 0; k < nu; k++) b.undirectedToDirected[u0 + k] = BigInt(g.undirectedToDirected[k]! + e0);
    const nt = g.triplets.length / 5;
    const off = [a0, u0, e0, u0, e0];
    for (let k = 0; k < nt; k++)
      for (let c = 0; c < 5; c++) b.triplets[5 * (t0 + k) + c] = BigInt(g.triplets[5 * k + c]! + off[c]!);
    a0 += n;
    e0 += ne;
    u0 += nu;
    t0 += nt;
  });
  b.atomOffsets.push(a0);
  return b;
}
