// An exported ML potential (CHGNet 0.3.0) run by onnxruntime-node on the CPU.
//
// The ONNX graph (models/<name>/model*.onnx, produced by tools/export) takes CHGNet's crystal
// graph and returns energy, forces = −∂E/∂r and stress = (1/|V|)·∂E/∂ε, all computed inside the
// graph. Here: find and verify the model file (sha256 against its manifest), build the graphs
// (graph-chgnet.ts), pack many structures into one run, and unpack the results.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { CHGNET_GRAPH, ONNX_POTENTIAL_DEFAULTS, type OnnxPotentialParams, type OnnxPrecision } from '../../config/potential.js';
import { SoftmodeInputError } from '../errors.js';
import type { Mat3, Vec3 } from '../math/linalg.js';
import type { Structure } from '../structure/structure.js';
import { batchChgnetGraphs, buildChgnetGraph, type ChgnetBatch, type ChgnetGraph } from './graph-chgnet.js';
import { batchM3gnetGraphs, buildM3gnetGraph, type M3gnetBatch, type M3gnetGraph } from './graph-m3gnet.js';
import type { Potential, PotentialIdentity, PotentialResult } from './types.js';

export type ModelErrorCode = 'model_not_found' | 'model_manifest_invalid' | 'model_checksum_mismatch' | 'model_output_invalid';

/** The model files are missing, inconsistent or corrupt: a deployment fault, not bad input. */
export class ModelIntegrityError extends Error {
  readonly code: ModelErrorCode;
  readonly detail: Record<string, unknown> | undefined;
  constructor(code: ModelErrorCode, message: string, detail?: Record<string, unknown>) {
    super(message);
    this.name = 'ModelIntegrityError';
    this.code = code;
    this.detail = detail;
  }
}

/** The parts of models/<name>/manifest.json this loader relies on. */
export interface OnnxModelManifest {
  name: string;
  version: string;
  source: { checkpoint_sha256: string; [k: string]: unknown };
  files: Partial<Record<OnnxPrecision, { path: string; sha256: string; bytes?: number }>>;
  /** CHGNet: atom_graph + bond_graph; MatterSim (M3GNet): atom_graph + three_body */
  cutoffs_A: { atom_graph: number; bond_graph?: number; three_body?: number };
  supported_atomic_numbers: [number, number];
  [k: string]: unknown;
}

export interface OnnxPotentialOptions extends Partial<Omit<OnnxPotentialParams, 'version' | 'defaultModel' | 'modelsDir'>> {
  /** folder holding manifest.json and the model files (default: <repo>/models/<name>) */
  modelDir?: string;
  /** shorthand for intraOpNumThreads */
  threads?: number;
}

/** The repository root: the nearest ancestor of this file with the models folder. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let k = 0; k < 8; k++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, ONNX_POTENTIAL_DEFAULTS.modelsDir))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new ModelIntegrityError('model_not_found', `no '${ONNX_POTENTIAL_DEFAULTS.modelsDir}' folder above ${fileURLToPath(import.meta.url)}`);
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Read and check a model folder's manifest (shape only; checksums are checked at load). */
export function readManifest(modelDir: string): OnnxModelManifest {
  const path = join(modelDir, 'manifest.json');
  if (!existsSync(path)) throw new ModelIntegrityError('model_not_found', `no manifest at ${path}`);
  let m: OnnxModelManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as OnnxModelManifest;
  } catch (e) {
    throw new ModelIntegrityError('model_manifest_invalid', `manifest ${path} is not JSON: ${String(e)}`);
  }
  const ok =
    typeof m?.name === 'string' &&
    typeof m.source?.checkpoint_sha256 === 'string' &&
    m.files !== null &&
    typeof m.files === 'object' &&
    typeof m.cutoffs_A?.atom_graph === 'number' &&
    (typeof m.cutoffs_A?.bond_graph === 'number' || typeof m.cutoffs_A?.three_body === 'number') &&
    Array.isArray(m.supported_atomic_numbers);
  if (!ok) throw new ModelIntegrityError('model_manifest_invalid', `manifest ${path} lacks name/source/files/cutoffs`);
  return m;
}

type Feeds = Record<string, ort.Tensor>;

/** Which graph contract a model folder holds: CHGNet's or MatterSim's M3GNet. */
export type GraphArchitecture = 'chgnet' | 'm3gnet';
export function architectureOf(m: OnnxModelManifest): GraphArchitecture {
  return typeof m.cutoffs_A.three_body === 'number' ? 'm3gnet' : 'chgnet';
}

function m3gnetFeedsOf(b: M3gnetBatch, precision: OnnxPrecision): Feeds {
  return {
    atomic_numbers: new ort.Tensor('int64', b.atomicNumbers, [b.numAtoms]),
    positions: new ort.Tensor(precision, toFloat(precision, b.positions), [b.numAtoms, 3]),
    cell: new ort.Tensor(precision, toFloat(precision, b.cell), [b.numStructures, 3, 3]),
    atom_owner: new ort.Tensor('int64', b.atomOwner, [b.numAtoms]),
    edge_index: new ort.Tensor('int64', b.edgeIndex, [b.numEdges, 2]),
    edge_offset: new ort.Tensor(precision, toFloat(precision, b.edgeOffset), [b.numEdges, 3]),
    three_body: new ort.Tensor('int64', b.threeBody, [b.numTriplets, 2]),
  };
}

function toFloat(precision: OnnxPrecision, a: Float64Array): Float32Array | Float64Array {
  return precision === 'float64' ? a : Float32Array.from(a);
}

function feedsOf(b: ChgnetBatch, precision: OnnxPrecision): Feeds {
  const f = precision; // onnxruntime type names match ours
  return {
    atomic_numbers: new ort.Tensor('int64', b.atomicNumbers, [b.numAtoms]),
    frac_coords: new ort.Tensor(f, toFloat(precision, b.fracCoords), [b.numAtoms, 3]),
    lattice: new ort.Tensor(f, toFloat(precision, b.lattice), [b.numStructures, 3, 3]),
    atom_owner: new ort.Tensor('int64', b.atomOwner, [b.numAtoms]),
    edge_index: new ort.Tensor('int64', b.edgeIndex, [b.numEdges, 2]),
    edge_image: new ort.Tensor(f, toFloat(precision, b.edgeImage), [b.numEdges, 3]),
    directed2undirected: new ort.Tensor('int64', b.directedToUndirected, [b.numEdges]),
    undirected2directed: new ort.Tensor('int64', b.undirectedToDirected, [b.numBonds]),
    triplets: new ort.Tensor('int64', b.triplets, [b.numTriplets, 5]),
  };
}

export class OnnxPotential implements Potential {
  readonly identity: PotentialIdentity;
  readonly supportedElements: ReadonlySet<number>;
  readonly manifest: OnnxModelManifest;
  /** sha256 of the ONNX file actually loaded (equals the manifest's) */
  readonly onnxSha256: string;
  readonly modelPath: string;
  readonly settings: Readonly<OnnxPotentialParams>;
  private session: ort.InferenceSession | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    session: ort.InferenceSession,
    manifest: OnnxModelManifest,
    modelPath: string,
    onnxSha256: string,
    settings: OnnxPotentialParams,
  ) {
    this.session = session;
    this.manifest = manifest;
    this.modelPath = modelPath;
    this.onnxSha256 = onnxSha256;
    this.settings = Object.freeze({ ...settings });
    this.identity = Object.freeze({
      model: manifest.name,
      checkpointSha256: manifest.source.checkpoint_sha256,
      precision: settings.precision,
    });
    const [zmin, zmax] = manifest.supported_atomic_numbers;
    const zs = new Set<number>();
    for (let z = zmin; z <= zmax; z++) zs.add(z);
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
      throw new SoftmodeInputError('invalid_argument', `threads must be a positive integer, got ${settings.intraOpNumThreads}`);
    if (settings.precision !== 'float32' && settings.precision !== 'float64')
      throw new SoftmodeInputError('invalid_argument', `precision must be float32 or float64, got ${String(settings.precision)}`);
    const modelDir = dirOpt
      ? isAbsolute(dirOpt)
        ? dirOpt
        : resolve(dirOpt)
      : join(repoRoot(), settings.modelsDir, name);
    const manifest = readManifest(modelDir);
    if (manifest.name !== name)
      throw new ModelIntegrityError('model_manifest_invalid', `manifest in ${modelDir} names '${manifest.name}', expected '${name}'`);
    if (
      architectureOf(manifest) === 'chgnet' &&
      (manifest.cutoffs_A.atom_graph !== CHGNET_GRAPH.atomGraphCutoff || manifest.cutoffs_A.bond_graph !== CHGNET_GRAPH.bondGraphCutoff)
    )
      throw new ModelIntegrityError(
        'model_manifest_invalid',
        `model cutoffs ${manifest.cutoffs_A.atom_graph}/${manifest.cutoffs_A.bond_graph} Å differ from config/potential.ts CHGNET_GRAPH`,
      );
    const file = manifest.files[settings.precision];
    if (!file) throw new ModelIntegrityError('model_not_found', `${name} has no ${settings.precision} model in ${modelDir}`);
    const modelPath = join(modelDir, file.path);
    if (!existsSync(modelPath)) throw new ModelIntegrityError('model_not_found', `model file ${modelPath} is missing`);
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
    return new OnnxPotential(session, manifest, modelPath, sha, settings);
  }

  get architecture(): GraphArchitecture {
    return architectureOf(this.manifest);
  }

  /** The model's graph of each structure; throws SoftmodeInputError for unsupported input. */
  buildGraphs(structures: readonly Structure[]): (ChgnetGraph | M3gnetGraph)[] {
    const c = this.manifest.cutoffs_A;
    const zmax = this.manifest.supported_atomic_numbers[1];
    if (this.architecture === 'm3gnet')
      return structures.map((s) => buildM3gnetGraph(s, { cutoff: c.atom_graph, threeBodyCutoff: c.three_body!, maxAtomicNumber: zmax }));
    return structures.map((s) => buildChgnetGraph(s, { atomGraphCutoff: c.atom_graph, bondGraphCutoff: c.bond_graph!, maxAtomicNumber: zmax }));
  }

  async evaluate(structures: readonly Structure[]): Promise<PotentialResult[]> {
    if (structures.length === 0) return [];
    return this.evaluateGraphs(this.buildGraphs(structures));
  }

  /** Evaluate prebuilt graphs, packing them into runs within the configured budget. */
  async evaluateGraphs(graphs: readonly (ChgnetGraph | M3gnetGraph)[]): Promise<PotentialResult[]> {
    const out: PotentialResult[] = [];
    let i = 0;
    while (i < graphs.length) {
      let atoms = 0;
      let edges = 0;
      let trips = 0;
      let j = i;
      while (j < graphs.length) {
        const g = graphs[j]!;
        const a = atoms + g.numAtoms;
        const e = edges + g.edgeCenter.length;
        const t = trips + ('triplets' in g ? g.triplets.length / 5 : g.threeBody.length / 2);
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
  runBatch(graphs: readonly (ChgnetGraph | M3gnetGraph)[]): Promise<PotentialResult[]> {
    const task = this.queue.then(() => this.runBatchNow(graphs));
    this.queue = task.catch(() => undefined);
    return task;
  }

  private async runBatchNow(graphs: readonly (ChgnetGraph | M3gnetGraph)[]): Promise<PotentialResult[]> {
    const session = this.session;
    if (!session) throw new Error('OnnxPotential used after dispose()');
    let batch: ChgnetBatch | M3gnetBatch;
    let feeds: Feeds;
    if (this.architecture === 'm3gnet') {
      const b = batchM3gnetGraphs(graphs as M3gnetGraph[]);
      batch = b;
      feeds = m3gnetFeedsOf(b, this.settings.precision);
    } else {
      const b = batchChgnetGraphs(graphs as ChgnetGraph[]);
      batch = b;
      feeds = feedsOf(b, this.settings.precision);
    }
    const res = await session.run(feeds);
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
