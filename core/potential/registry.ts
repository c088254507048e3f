// The one place that maps a potential's name to an implementation.
//
//   resolvePotential('chgnet-0.3.0')                          ML model, precision from config
//   resolvePotential('chgnet-0.3.0', { precision: 'float32', threads: 2 })
//   resolvePotential('chgnet-0.3.0-float32')                  precision in the name
//   resolvePotential('lennard-jones' | 'morse')               analytic pair potentials (engine tests)
//   resolveTrajectoryPotential(potential, 'float32')          the same model in another precision
//   knownPotentials()                                         what resolves, for help texts and validation
//
// Two sources, one entry shape (`PotentialEntry`):
//  * ML models are discovered: every models/<name>/ folder with a manifest.json is the entry
//    `name` (the manifest's `name` must equal the folder's; its `architecture` picks the
//    strategy in architectures.ts). A new model is a new folder; no list of names in code.
//  * In-code potentials register an entry (`registerPotential`); the pair potentials' table
//    (pair.ts PAIR_POTENTIALS) is registered here at load.
// A name resolves to a registered entry first, then to a discovered folder.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ONNX_POTENTIAL_DEFAULTS, type OnnxPrecision } from '../../config/potential.js';
import { UsageError } from '../errors.js';
import { repoRoot as packageRoot } from '../paths.js';
import { readManifest, type OnnxModelManifest } from './manifest.js';
import { ModelIntegrityError } from './model-error.js';
import { OnnxPotential, type OnnxPotentialOptions } from './onnx-potential.js';
import { PAIR_POTENTIALS } from './pair.js';
import type { Potential } from './types.js';

export type PotentialKind = 'onnx' | 'pair';
const PRECISIONS: readonly OnnxPrecision[] = ['float32', 'float64'];

/** What a caller may ask of a potential when resolving it. */
export interface ResolvePotentialOptions extends OnnxPotentialOptions {
  /**
   * Folder of the model folders to discover (default: <repo>/models). Ignored when `modelDir`
   * names the one model folder directly.
   */
  modelsRoot?: string;
}

/** One potential as help texts and validation see it. */
export interface PotentialInfo {
  /** the bare name, e.g. 'chgnet-0.3.0' */
  name: string;
  kind: PotentialKind;
  /** PotentialIdentity.architecture of what it loads */
  architecture: string;
  /** precisions it can run in (ML: the manifest's files) */
  precisions: readonly OnnxPrecision[];
  /** every name that resolves to it: the bare name, then (ML models) name-<precision> per precision */
  names: readonly string[];
  /** one line: the manifest's description (or model), the pair potential's purpose */
  summary?: string;
  /** the manifest's licence name */
  licence?: string;
  /** ML models: the folder it was found in */
  modelDir?: string;
}

/** A registry entry: its description and how to load it. */
export interface PotentialEntry extends Omit<PotentialInfo, 'names'> {
  /** Load it. `options.precision` is already reconciled with a precision named in the name. */
  load(options: OnnxPotentialOptions): Promise<Potential>;
}

const registered = new Map<string, PotentialEntry>();

/**
 * Add an in-code potential under `entry.name` (TypeError if the name is taken). Returns a
 * function that removes it again (tests).
 */
export function registerPotential(entry: PotentialEntry): () => void {
  if (registered.has(entry.name)) throw new TypeError(`a potential named '${entry.name}' is already registered`);
  registered.set(entry.name, entry);
  return () => {
    if (registered.get(entry.name) === entry) registered.delete(entry.name);
  };
}

for (const e of PAIR_POTENTIALS) registerPotential(e);

function namesOf(e: Omit<PotentialInfo, 'names'>): string[] {
  return e.kind === 'onnx' ? [e.name, ...PRECISIONS.filter((p) => e.precisions.includes(p)).map((p) => `${e.name}-${p}`)] : [e.name];
}

function licenceOf(m: OnnxModelManifest): string | undefined {
  const l = m['licence'] ?? m['license'];
  if (typeof l === 'string') return l;
  if (l && typeof l === 'object' && typeof (l as { name?: unknown }).name === 'string') return (l as { name: string }).name;
  return undefined;
}

/** The entry of one model folder (throws ModelIntegrityError for a missing or invalid manifest). */
function modelEntry(modelDir: string, expectedName?: string): PotentialEntry {
  const m = readManifest(modelDir);
  if (expectedName !== undefined && m.name !== expectedName)
    throw new ModelIntegrityError('model_manifest_invalid', `manifest in ${modelDir} names '${m.name}', expected '${expectedName}'`);
  const summary = typeof m['description'] === 'string' ? m['description'] : typeof m['model'] === 'string' ? m['model'] : undefined;
  const licence = licenceOf(m);
  const name = m.name;
  return Object.freeze({
    name,
    kind: 'onnx' as const,
    architecture: m.architecture,
    precisions: Object.freeze(PRECISIONS.filter((p) => m.files[p] !== undefined)),
    ...(summary !== undefined ? { summary } : {}),
    ...(licence !== undefined ? { licence } : {}),
    modelDir,
    load: (options: OnnxPotentialOptions) => OnnxPotential.load(name, { ...options, modelDir }),
  });
}

function absolute(dir: string): string {
  return isAbsolute(dir) ? dir : resolve(dir);
}

/** <package root>/models: a package without one simply has no ML models (pair potentials still resolve). */
function defaultModelsRoot(): string {
  return join(packageRoot(), ONNX_POTENTIAL_DEFAULTS.modelsDir);
}

/** Folders of `root` holding a manifest.json, by name; each an entry or the reason it is not one. */
function discover(root: string): Map<string, PotentialEntry | ModelIntegrityError> {
  const out = new Map<string, PotentialEntry | ModelIntegrityError>();
  if (!existsSync(root)) return out;
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    if (!existsSync(join(dir, 'manifest.json')) || !statSync(dir).isDirectory()) continue;
    try {
      out.set(name, modelEntry(dir, name));
    } catch (e) {
      if (!(e instanceof ModelIntegrityError)) throw e;
      out.set(name, e);
    }
  }
  return out;
}

/** Everything that resolves: registered entries (registration order) after the discovered models (by name). */
function entries(options: { modelsRoot?: string; modelDir?: string }): Map<string, PotentialEntry | ModelIntegrityError> {
  const all = new Map<string, PotentialEntry | ModelIntegrityError>();
  if (options.modelDir !== undefined) {
    const e = modelEntry(absolute(options.modelDir));
    all.set(e.name, e);
  } else {
    for (const [name, e] of discover(options.modelsRoot !== undefined ? absolute(options.modelsRoot) : defaultModelsRoot()))
      if (!registered.has(name)) all.set(name, e);
  }
  for (const [name, e] of registered) all.set(name, e);
  return all;
}

function infoOf(e: PotentialEntry): PotentialInfo {
  const { load: _load, ...rest } = e;
  return { ...rest, names: namesOf(e) };
}

/**
 * Every potential that resolves: the valid model folders of `modelsRoot` (default
 * <repo>/models), by name, then the registered in-code potentials. A model folder whose
 * manifest is invalid is not listed (resolving its name gives the ModelIntegrityError).
 */
export function knownPotentials(options: { modelsRoot?: string } = {}): PotentialInfo[] {
  return [...entries(options).values()].filter((e): e is PotentialEntry => !(e instanceof ModelIntegrityError)).map(infoOf);
}

/**
 * The potential `name` names, loaded. Names: an entry's bare name, or for ML models
 * name-float32 / name-float64 (the precision in the name; options.precision must then agree).
 * Unknown name or a precision conflict: UsageError, listing the
 * known names. A model folder with a missing or invalid manifest (no or unknown
 * `architecture` included): ModelIntegrityError. `options.modelDir` resolves the name against
 * that one folder instead of discovering `modelsRoot`.
 */
export async function resolvePotential(name: string, options: ResolvePotentialOptions = {}): Promise<Potential> {
  const { modelsRoot, ...loadOptions } = options;
  const all = entries({ ...(modelsRoot !== undefined ? { modelsRoot } : {}), ...(options.modelDir !== undefined ? { modelDir: options.modelDir } : {}) });
  let entry = all.get(name);
  let precisionFromName: OnnxPrecision | undefined;
  if (entry === undefined) {
    const m = /^(.*)-(float32|float64)$/.exec(name);
    const base = m ? all.get(m[1]!) : undefined;
    if (base instanceof ModelIntegrityError || (base !== undefined && base.kind === 'onnx')) {
      entry = base;
      precisionFromName = m![2] as OnnxPrecision;
    }
  }
  if (entry instanceof ModelIntegrityError) throw entry;
  if (entry === undefined && options.modelDir !== undefined) {
    const m = readManifest(absolute(options.modelDir));
    throw new ModelIntegrityError('model_manifest_invalid', `manifest in ${absolute(options.modelDir)} names '${m.name}', expected '${name}'`);
  }
  if (entry === undefined) {
    const known = [...all.values()].filter((e): e is PotentialEntry => !(e instanceof ModelIntegrityError)).flatMap(namesOf);
    throw new UsageError(`unknown potential '${name}'; known: ${known.join(', ')}`, { name, known });
  }
  if (precisionFromName && loadOptions.precision && loadOptions.precision !== precisionFromName)
    throw new UsageError(`'${name}' names ${precisionFromName} but options ask for ${loadOptions.precision}`);
  return entry.load({ ...loadOptions, ...(precisionFromName ? { precision: precisionFromName } : {}) });
}

/**
 * The same model in `precision` (a relaxation protocol's `trajectoryPrecision`; core/relax
 * `trajectoryPotential`): same folder, same run settings. Null when no precision is asked, when
 * `potential` already runs in it, or for a potential with a single precision (the pair
 * potentials). ModelIntegrityError when an ML model has no file of that precision.
 */
export async function resolveTrajectoryPotential(potential: Potential, precision: OnnxPrecision | null | undefined): Promise<Potential | null> {
  if (!precision || potential.identity.precision === precision || !(potential instanceof OnnxPotential)) return null;
  return potential.withPrecision(precision);
}
