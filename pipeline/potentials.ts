// The potentials a process (or compute thread) evaluates, loaded once per exact specification.
// Names are resolved by core/potential's registry, nowhere else; what is loaded is exactly what
// the caller's settings say (model, precision, threads), never a live config default, so a
// campaign's frozen settings decide which graph its workers run.
import { hostname } from 'node:os';
import { ENGINE_DEFAULTS } from '../config/engine.js';
import type { OnnxPrecision as Precision } from '../config/potential.js';
import type { RelaxProtocol } from '../config/relax.js';
import { ModelIntegrityError, resolvePotential, resolveTrajectoryPotential } from '../core/potential/index.js';
import type { Potential } from '../core/potential/types.js';

export interface PotentialSpec {
  model: string;
  /** the graph precision; undefined = the model's configured default (one-process commands) */
  precision?: Precision;
  /** onnxruntime intra-op threads (the engine: 1 per inference slot) */
  threads: number;
  /**
   * The identity the caller's settings name (checkpoint, architecture, precision): a model that
   * loads here with another identity is refused, so a process whose model files or parameters
   * differ cannot compute results under keys that say otherwise.
   */
  expect?: { checkpointSha256: string; architecture: string; precision: Precision };
}

const loaded = new Map<string, Promise<Potential>>();

/**
 * Least recently used first: the model groups (a spec's key; its trajectory sibling belongs to
 * it) this process holds. A worker of a multi-model campaign (run --model a,b) meets several
 * models; each ONNX session holds its weights and arena (hundreds of MB for a float64 graph
 * model), and every compute thread loads its own, so without a bound a worker's memory would
 * grow with the number of models × threads. The campaign adds its items model-major in blocks
 * (config/engine.ts modelBlockStructures), so a thread mostly evaluates one model and a cap of 2
 * covers the switch at a block boundary without reloading back and forth.
 */
const groups = new Map<string, true>();

/** Models a process (compute thread) keeps loaded: $SOFTMODE_MAX_LOADED_MODELS, else the engine default. */
export function maxLoadedModels(): number {
  const env = Number(process.env['SOFTMODE_MAX_LOADED_MODELS']);
  return Number.isInteger(env) && env >= 1 ? env : ENGINE_DEFAULTS.maxLoadedModelsPerThread;
}

/** How many model groups are loaded now (tests, diagnostics). */
export function loadedModelCount(): number {
  return groups.size;
}

/** Mark `group` used now; release the least recently used groups beyond the cap. */
function touchGroup(group: string): void {
  groups.delete(group);
  groups.set(group, true);
  const cap = maxLoadedModels();
  while (groups.size > cap) {
    const oldest = groups.keys().next().value as string;
    groups.delete(oldest);
    for (const [k, p] of [...loaded]) {
      if (k !== oldest && !k.startsWith(`${oldest}#trajectory-`)) continue;
      loaded.delete(k);
      // a compute thread runs one job at a time, so nothing evaluates the evicted model now
      void p.then((pot) => pot?.dispose?.(), () => undefined);
    }
  }
}

/** host:pid of this process, named in refusals (the campaign's attempt records keep it). */
export function workerIdentity(): string {
  return `${hostname()}:${process.pid}`;
}

function keyOf(s: PotentialSpec): string {
  return `${s.model}#${s.precision ?? ''}#${s.threads}#${s.expect ? JSON.stringify(s.expect) : ''}`;
}

/** The potential of `spec`, loaded once per process and spec (failed loads are retried next time). */
export function potentialFor(spec: PotentialSpec): Promise<Potential> {
  if (!Number.isInteger(spec.threads) || spec.threads < 1) throw new RangeError(`threads must be a positive integer, got ${spec.threads}`);
  const key = keyOf(spec);
  touchGroup(key);
  let p = loaded.get(key);
  if (!p) {
    p = resolvePotential(spec.model, { threads: spec.threads, ...(spec.precision ? { precision: spec.precision } : {}) }).then((pot) => {
      const want = spec.expect;
      if (want) {
        const have = { checkpointSha256: pot.identity.checkpointSha256, architecture: pot.identity.architecture, precision: pot.identity.precision };
        const diff = (Object.keys(want) as (keyof typeof want)[]).filter((k) => have[k] !== want[k]);
        if (diff.length > 0)
          throw new ModelIntegrityError(
            'model_checksum_mismatch',
            `model '${spec.model}' loads here (${workerIdentity()}) with ${diff.map((k) => `${k} ${String(have[k]).slice(0, 16)}`).join(', ')}; the campaign's settings name ${diff.map((k) => `${k} ${String(want[k]).slice(0, 16)}`).join(', ')}: this worker would not compute what the step key says, so it refuses`,
            { have, want },
          );
      }
      return pot;
    });
    loaded.set(key, p);
    p.catch(() => loaded.delete(key));
  }
  return p;
}

/**
 * The same model in a relaxation protocol's trajectory precision, when that differs from the
 * potential's (single-precision potentials have none): null means `potential` walks the trajectory.
 */
export async function trajectoryPotentialFor(spec: PotentialSpec, potential: Potential, protocol: Pick<RelaxProtocol, 'trajectoryPrecision'>): Promise<Potential | null> {
  const want = protocol.trajectoryPrecision;
  if (!want || want === potential.identity.precision) return null;
  touchGroup(keyOf(spec));
  const key = `${keyOf(spec)}#trajectory-${want}`;
  let p = loaded.get(key) as Promise<Potential | null> | undefined;
  if (!p) {
    p = resolveTrajectoryPotential(potential, want);
    loaded.set(key, p as Promise<Potential>);
    p.catch(() => loaded.delete(key));
  }
  return p;
}

/** Release every loaded session (one-process commands, at exit). */
export async function disposePotentials(): Promise<void> {
  const all = [...loaded.values()];
  loaded.clear();
  groups.clear();
  for (const p of all) await (await p.catch(() => null))?.dispose?.();
}
