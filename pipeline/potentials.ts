// The potentials a process (or compute thread) evaluates, loaded once per exact specification.
// Names are resolved by core/potential's registry, nowhere else; what is loaded is exactly what
// the caller's settings say (model, precision, threads), never a live config default, so a
// campaign's frozen settings decide which graph its workers run.
import { hostname } from 'node:os';
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
  for (const p of all) await (await p.catch(() => null))?.dispose?.();
}
