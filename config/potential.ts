// ML potential parameters: CHGNet's graph rules and how the ONNX model is run.
// The graph cutoffs are properties of the model (checked against models/<name>/manifest.json at
// load); the run settings (precision, threads, batch budget) are ours.

export const POTENTIAL_CONFIG_VERSION = 'potential-1';

export interface ChgnetGraphParams {
  version: string;
  /** atom-graph cutoff, Å (CHGNet 0.3.0's checkpoint: 6, not the 5 of its class default) */
  atomGraphCutoff: number;
  /** bond-graph (three-body) cutoff, Å */
  bondGraphCutoff: number;
  /** CHGNet's element embedding covers Z = 1..94 */
  maxAtomicNumber: number;
}

export const CHGNET_GRAPH: Readonly<ChgnetGraphParams> = Object.freeze({
  version: 'chgnet-graph-1',
  atomGraphCutoff: 6,
  bondGraphCutoff: 3,
  maxAtomicNumber: 94,
});

export type OnnxPrecision = 'float32' | 'float64';

export interface OnnxPotentialParams {
  version: string;
  /** the model `resolvePotential()` gives when no name is asked for */
  defaultModel: string;
  /**
   * float64 by default: the float32 graph's forces carry ~1e-5..1e-4 eV/Å of rounding noise
   * (amplified by acos' derivative at nearly collinear triplets), which over a 0.01 Å finite
   * displacement is ~1e-2 eV/Å² of force-constant noise, enough to create spurious small
   * imaginary modes; the float64 graph reproduces PyTorch-float64 CHGNet to ~1e-13.
   * float32 is ~2-3× faster (bench/results/mlip-speed.json).
   */
  precision: OnnxPrecision;
  /** onnxruntime intra-op threads per session (the engine runs one session per worker thread) */
  intraOpNumThreads: number;
  interOpNumThreads: number;
  /** onnxruntime graph optimisation level */
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  /** one `run` packs structures until one of these would be exceeded (a larger single structure runs alone) */
  maxAtomsPerRun: number;
  maxEdgesPerRun: number;
  maxTripletsPerRun: number;
  /**
   * onnxruntime's CPU memory arena: faster, but keeps the largest run's buffers for the life of
   * the session (bench/results/onnx-memory.json); the run budget below bounds that size
   */
  cpuMemArena: boolean;
  /** folder of the model folders, relative to the repository root */
  modelsDir: string;
}

export const ONNX_POTENTIAL_DEFAULTS: Readonly<OnnxPotentialParams> = Object.freeze({
  version: 'onnx-potential-3',
  defaultModel: 'chgnet-0.3.0',
  precision: 'float64',
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  // A run's activations are kept for the backward pass: peak memory follows the run size, and
  // packing larger runs costs time too (bigger working set, page faults as the arena grows). A
  // dense metal's 48-atom supercell already has ~2.7k edges and ~6.3k triplets and ~0.9 GB of
  // activations: packing up to 512 atoms / 50k edges / 50k triplets (onnx-potential-2) was
  // 1.8× slower than one supercell per run (bench/results/onnx-runs-mattergen.json). Only small
  // graphs are packed now, where a run's fixed cost matters.
  maxAtomsPerRun: 64,
  maxEdgesPerRun: 4_000,
  maxTripletsPerRun: 4_000,
  cpuMemArena: true,
  modelsDir: 'models',
});
