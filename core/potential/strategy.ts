// What an ONNX model's architecture decides, as one object per architecture (think of ASE's
// calculators sharing one interface): which graph a structure becomes, how graphs are packed
// into one run, which tensors the ONNX graph is fed, and how large a graph counts for the run
// budget. OnnxPotential looks the strategy up once, by the manifest's stated `architecture`
// (architectures.ts), and never branches on the architecture itself.
import type * as ort from 'onnxruntime-node';
import type { OnnxPrecision } from '../../config/potential.js';
import type { Structure } from '../structure/structure.js';
import type { OnnxModelManifest } from './manifest.js';

/** One structure's graph (indices local to the structure); the rest is the architecture's. */
export interface ModelGraph {
  readonly numAtoms: number;
}

/** Graphs concatenated into one run; what the loader needs to unpack the outputs. */
export interface ModelBatch {
  readonly numStructures: number;
  readonly numAtoms: number;
  /** first atom of each structure in the batch, plus the total at the end */
  readonly atomOffsets: readonly number[];
}

/** A graph's share of a run's budget (config/potential.ts maxAtoms/Edges/TripletsPerRun). */
export interface GraphSize {
  atoms: number;
  edges: number;
  triplets: number;
}

export type Feeds = Record<string, ort.Tensor>;

export interface ModelArchitecture<G extends ModelGraph = ModelGraph, B extends ModelBatch = ModelBatch> {
  /** the manifest's `architecture` value, e.g. 'chgnet' */
  readonly name: string;
  /**
   * Architecture-specific manifest checks (its cutoffs are present and agree with config/);
   * throws ModelIntegrityError('model_manifest_invalid'). `path` names the manifest in messages.
   */
  checkManifest(m: OnnxModelManifest, path: string): void;
  /** The graph of one structure under the manifest's cutoffs and element range (SoftmodeInputError for unsupported input). */
  buildGraph(s: Structure, m: OnnxModelManifest): G;
  /** Concatenate graphs into one run, offsetting indices. */
  batch(graphs: readonly G[]): B;
  /** The ONNX graph's inputs for a batch, floats in `precision`. */
  feeds(b: B, precision: OnnxPrecision): Feeds;
  sizeOf(g: G): GraphSize;
}

/** Float inputs in the model's precision (float64 arrays are passed as they are). */
export function toFloat(precision: OnnxPrecision, a: Float64Array): Float32Array | Float64Array {
  return precision === 'float64' ? a : Float32Array.from(a);
}
