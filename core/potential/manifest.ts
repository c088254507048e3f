// models/<name>/manifest.json: what a model folder says about itself. Its `architecture`
// (one of architectures.ts) decides how the model is fed; nothing is guessed from cutoffs.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot as packageRoot } from '../paths.js';
import { ONNX_POTENTIAL_DEFAULTS, type OnnxPrecision } from '../../config/potential.js';
import { architectureStrategy, knownArchitectures } from './architectures.js';
import { ModelIntegrityError } from './model-error.js';

/** The parts of models/<name>/manifest.json this loader relies on. */
export interface OnnxModelManifest {
  name: string;
  /** the graph contract: 'chgnet', 'm3gnet' (MatterSim), 'matgl-m3gnet', 'matgl-tensornet' (architectures.ts) */
  architecture: string;
  version?: string;
  source: { checkpoint_sha256: string; [k: string]: unknown };
  files: Partial<Record<OnnxPrecision, { path: string; sha256: string; bytes?: number }>>;
  /** CHGNet: atom_graph + bond_graph; MatterSim (M3GNet): atom_graph + three_body */
  cutoffs_A: { atom_graph: number; bond_graph?: number; three_body?: number };
  supported_atomic_numbers: [number, number];
  /** atomic numbers inside supported_atomic_numbers the model lacks (matgl: 84-88) */
  excluded_atomic_numbers?: number[];
  [k: string]: unknown;
}

/** The repository root: the nearest ancestor of this file with the models folder. */
/** The package root (core/paths.ts), which holds the models folder. */
export function repoRoot(): string {
  const root = packageRoot();
  if (!existsSync(join(root, ONNX_POTENTIAL_DEFAULTS.modelsDir))) throw new ModelIntegrityError('model_not_found', `no '${ONNX_POTENTIAL_DEFAULTS.modelsDir}' folder in ${root}`);
  return root;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Read and check a model folder's manifest: its shape, a known `architecture`, and that
 * architecture's own checks (its cutoffs). Checksums are checked at load.
 */
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
    Array.isArray(m.supported_atomic_numbers);
  if (!ok) throw new ModelIntegrityError('model_manifest_invalid', `manifest ${path} lacks name/source/files/cutoffs`);
  const strategy = typeof m.architecture === 'string' ? architectureStrategy(m.architecture) : undefined;
  if (!strategy)
    throw new ModelIntegrityError(
      'model_manifest_invalid',
      m.architecture === undefined
        ? `manifest ${path} does not state its architecture (one of: ${knownArchitectures().join(', ')})`
        : `manifest ${path} names architecture ${JSON.stringify(m.architecture)}; known: ${knownArchitectures().join(', ')}`,
      { path, architecture: m.architecture, known: knownArchitectures() },
    );
  strategy.checkManifest(m, path);
  return m;
}
