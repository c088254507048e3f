// An exported ML potential (CHGNet 0.3.0, MatterSim's M3GNet) run by onnxruntime-node on the CPU.
//
// The ONNX graph (models/<name>/model*.onnx, produced by tools/export) takes the model's crystal
// graph and returns energy, forces = −∂E/∂r and stress = (1/|V|)·∂E/∂ε, all computed inside the
// graph. Here: find and verify the model file (sha256 against its manifest), look up the
// strategy for the manifest's `architecture` (architectures.ts: graph builder, batch packer,
// feeds), pack many structures into one run, and unpack the results.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ONNX_POTENTIAL_DEFAULTS, type OnnxPotentialParams, type OnnxPrecision } from '../../config/potential.js';
import { UsageError } from '../errors.js';
import type { Mat3, Vec3 } from '../math/linalg.js';
import type { Structure } from '../structure/structure.js';
import { architectureStrategy } from './architectures.js';
import { readManifest, repoRoot, type OnnxModelManifest } from './manifest.js';
import { ModelIntegrityError } from './model-error.js';
import type { ModelArchitecture, ModelBatch, ModelGraph } from './strategy.js';
import type { Potential, PotentialIdentity, PotentialResult } from './types.js';

export { ModelIntegrityError, type ModelErrorCode } from './model-error.js';
export { readManifest, repoRoot, sha256File, type OnnxModelManifest } from './manifest.js';
export type { ModelArchitecture, ModelBatch, ModelGraph } from './strategy.js';

export interface OnnxPotentialOptions extends Partial<Omit<OnnxPotentialParams, 'version' | 'defaultModel' | 'modelsDir'>> {
  /** folder holding manifest.json and the model files (default: <repo>/models/<name>) */
  modelDir?: string;
  /** shorthand for intraOpNumThreads */
  threads?: number;
}

export class OnnxPotential implements Potential {
  readonly identity: PotentialIdentity;
  readonly supportedElements: ReadonlySet<number>;
  readonly manifest: OnnxModelManifest;
  /** sha256 of the ONNX file actually loaded (equals the manifest's) */
  readonly onnxSha256: string;
  readonly modelPath: string;
  readonly settings: Readonly<OnnxPotentialParams>;
  /** graph builder, batch packer and feeds of the manifest's architecture */
  readonly strategy: ModelArchitecture;
  private session: ort.InferenceSession | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    session: ort.InferenceSession,
    manifest: OnnxModelManifest,
    modelPath: string,
    onnxSha256: string,
    settings: OnnxPotentialParams,
    strategy: ModelArchitecture,
  ) {
    this.session = session;
    this.strategy = strategy;
    this.manifest = manifest;
    this.modelPath = modelPath;
    this.onnxSha256 = onnxSha256;
    this.settings = Object.freeze({ ...settings });
    this.identity = Object.freeze({
      model: manifest.name,
      checkpointSha256: manifest.source.checkpoint_sha256,
      architecture: strategy.name,
      precision: settings.precision,
    });
    const [zmin, zmax] = manifest.supported_atomic_numbers;
    const zs = new Set<number>();
    const excluded = new Set(manifest.excluded_atomic_numbers ?? []);
    for (let z = zmin; z <= zmax; z++) if (!excluded.has(z)) zs.add(z);
    this.supportedElements = zs;
  }

  /** Load models/<name>/ (default chgnet-0.3.0), verifying the model file's sha256. */
  static async load(name: string = ONNX_POTENTIAL_DEFAULTS.defaultModel, options: OnnxPotentialOptions = {}): Promise<OnnxPotential> {
    const { modelDir: dirOpt, threads, ...rest } = options;
    const settings: OnnxPotentialParams = {
      ...ONNX_POTENTIAL_DEFAULTS,
      ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
      ...(threads !== undefined ? { intraOpNumThreads: threads } : {}),
    };
    if (!Number.isInteger(settings.intraOpNumThreads) || settings.intraOpNumThreads < 1)
      throw new UsageError(`threads must be a positive integer, got ${settings.intraOpNumThreads}`);
    if (settings.precision !== 'float32' && settings.precision !== 'float64')
      throw new UsageError(`precision must be float32 or float64, got ${String(settings.precision)}`);
    const modelDir = dirOpt
      ? isAbsolute(dirOpt)
        ? dirOpt
        : resolve(dirOpt)
      : join(repoRoot(), settings.modelsDir, name);
    // readManifest refuses an unknown architecture and runs the architecture's own checks
    const manifest = readManifest(modelDir);
    if (manifest.name !== name)
      throw new ModelIntegrityError('model_manifest_invalid', `manifest in ${modelDir} names '${manifest.name}', expected '${name}'`);
    const strategy = architectureStrategy(manifest.architecture)!;
    const file = manifest.files[settings.precision];
    if (!file) throw new ModelIntegrityError('model_not_found', `${name} has no ${settings.precision} model in ${modelDir}`);
    const modelPath = join(modelDir, file.path);
    if (!existsSync(modelPath)) {
      // a model whose file is not kept in the repository says how to rebuild it (manifest export.command)
      const exp = manifest['export'] as { command?: unknown; weights?: unknown } | undefined;
      const how = typeof exp?.command === 'string' ? `; rebuild it with: ${exp.command}${typeof exp.weights === 'string' ? ` (weights: ${exp.weights})` : ''}` : '';
      throw new ModelIntegrityError('model_not_found', `model file ${modelPath} is missing${how}`, { path: modelPath });
    }
    const bytes = readFileSync(modelPath);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== file.sha256)
      throw new ModelIntegrityError('model_checksum_mismatch', `sha256 of ${modelPath} is ${sha}, manifest says ${file.sha256}`, {
        path: modelPath,
        expected: file.sha256,
        actual: sha,
      });
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: settings.intraOpNumThreads,
      interOpNumThreads: settings.interOpNumThreads,
      executionMode: 'sequential',
      graphOptimizationLevel: settings.graphOptimizationLevel,
      enableCpuMemArena: settings.cpuMemArena,
    });
    return new OnnxPotential(session, manifest, modelPath, sha, settings, strategy);
  }

  /**
   * The same model (same folder, same run settings) in another precision, e.g. a relaxation
   * protocol's trajectory precision (registry.ts resolveTrajectoryPotential). ModelIntegrityError
   * when the manifest has no file of that precision.
   */
  withPrecision(precision: OnnxPrecision): Promise<OnnxPotential> {
    const { version: _v, defaultModel: _d, modelsDir: _m, ...settings } = this.settings;
    return OnnxPotential.load(this.identity.model, { ...settings, modelDir: dirname(this.modelPath), precision });
  }

  /** The manifest's stated architecture ('chgnet', 'm3gnet'). */
  get architecture(): string {
    return this.strategy.name;
  }

  /** The model's graph of each structure; throws SoftmodeInputError for unsupported input. */
  buildGraphs(structures: readonly Structure[]): ModelGraph[] {
    return structures.map((s) => this.strategy.buildGraph(s, this.manifest));
  }

  /**
   * Streams: each structure's graph is built just before the run that takes it and dropped after
   * it, so at most one run's graphs are held (a 264-atom P1 cell has 1,584 displaced supercells of
   * ~21k edges and ~35k triplets each). Runs are packed exactly as `evaluateGraphs` packs them
   * (same greedy budget rule, same order), so the results are the same bit for bit.
   */
  async evaluate(structures: readonly Structure[]): Promise<PotentialResult[]> {
    const out: PotentialResult[] = [];
    let pending: ModelGraph[] = [];
    let atoms = 0;
    let edges = 0;
    let trips = 0;
    for (const s of structures) {
      const g = this.strategy.buildGraph(s, this.manifest);
      const size = this.strategy.sizeOf(g);
      const a = atoms + size.atoms;
      const e = edges + size.edges;
      const t = trips + size.triplets;
      if (pending.length > 0 && (a > this.settings.maxAtomsPerRun || e > this.settings.maxEdgesPerRun || t > this.settings.maxTripletsPerRun)) {
        out.push(...(await this.runBatch(pending)));
        pending = [];
        atoms = size.atoms;
        edges = size.edges;
        trips = size.triplets;
      } else {
        atoms = a;
        edges = e;
        trips = t;
      }
      pending.push(g);
    }
    if (pending.length > 0) out.push(...(await this.runBatch(pending)));
    return out;
  }

  /** Evaluate prebuilt graphs, packing them into runs within the configured budget. */
  async evaluateGraphs(graphs: readonly ModelGraph[]): Promise<PotentialResult[]> {
    const out: PotentialResult[] = [];
    let i = 0;
    while (i < graphs.length) {
      let atoms = 0;
      let edges = 0;
      let trips = 0;
      let j = i;
      while (j < graphs.length) {
        const size = this.strategy.sizeOf(graphs[j]!);
        const a = atoms + size.atoms;
        const e = edges + size.edges;
        const t = trips + size.triplets;
        if (j > i && (a > this.settings.maxAtomsPerRun || e > this.settings.maxEdgesPerRun || t > this.settings.maxTripletsPerRun)) break;
        atoms = a;
        edges = e;
        trips = t;
        j++;
      }
      out.push(...(await this.runBatch(graphs.slice(i, j))));
      i = j;
    }
    return out;
  }

  /** One onnxruntime run over a batch (runs are serialised per session). */
  runBatch(graphs: readonly ModelGraph[]): Promise<PotentialResult[]> {
    const task = this.queue.then(() => this.runBatchNow(graphs));
    this.queue = task.catch(() => undefined);
    return task;
  }

  private async runBatchNow(graphs: readonly ModelGraph[]): Promise<PotentialResult[]> {
    const session = this.session;
    if (!session) throw new Error('OnnxPotential used after dispose()');
    const batch: ModelBatch = this.strategy.batch(graphs);
    const res = await session.run(this.strategy.feeds(batch, this.settings.precision));
    const energy = res['energy']?.data as Float32Array | Float64Array | undefined;
    const forces = res['forces']?.data as Float32Array | Float64Array | undefined;
    const stress = res['stress']?.data as Float32Array | Float64Array | undefined;
    if (!energy || !forces || !stress || energy.length !== graphs.length || forces.length !== 3 * batch.numAtoms || stress.length !== 9 * graphs.length)
      throw new ModelIntegrityError('model_output_invalid', 'model outputs have unexpected names or shapes');
    const results: PotentialResult[] = [];
    for (let s = 0; s < graphs.length; s++) {
      const a0 = batch.atomOffsets[s]!;
      const a1 = batch.atomOffsets[s + 1]!;
      const f: Vec3[] = [];
      for (let a = a0; a < a1; a++) f.push([forces[3 * a]!, forces[3 * a + 1]!, forces[3 * a + 2]!]);
      const st: Mat3 = [
        [stress[9 * s]!, stress[9 * s + 1]!, stress[9 * s + 2]!],
        [stress[9 * s + 3]!, stress[9 * s + 4]!, stress[9 * s + 5]!],
        [stress[9 * s + 6]!, stress[9 * s + 7]!, stress[9 * s + 8]!],
      ];
      const e = energy[s]!;
      if (!Number.isFinite(e) || f.some((v) => !Number.isFinite(v[0] + v[1] + v[2])) || st.some((r) => !Number.isFinite(r[0] + r[1] + r[2])))
        throw new ModelIntegrityError('model_output_invalid', `model returned a non-finite value for structure ${s} of the batch`);
      results.push({ energy: e, forces: f, stress: st });
    }
    return results;
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await this.queue.catch(() => undefined);
    if (s) await s.release();
  }
}
