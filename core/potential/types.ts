import type { Mat3, Vec3 } from '../math/linalg.js';
import type { Structure } from '../structure/structure.js';

/** One evaluation: energy (eV), forces (eV/Å, −∂E/∂r), stress (eV/Å³, ASE sign: (1/V)·∂E/∂ε, tensile > 0). */
export interface PotentialResult {
  energy: number;
  forces: Vec3[];
  stress: Mat3;
}

/** What a result must record to say which model produced it (engine rule 2). */
export interface PotentialIdentity {
  /** model name and version, e.g. "chgnet-0.3.0" or "lennard-jones" */
  model: string;
  /** sha256 of the checkpoint the weights came from (for analytic potentials: of their parameters) */
  checkpointSha256: string;
  /**
   * The functional form the weights plug into, a stable lowercase name: the manifest's stated
   * `architecture` for ONNX models ('chgnet', 'm3gnet'), 'pair-lennard-jones' / 'pair-morse'
   * for the analytic pair potentials. Part of every cache key that hashes the identity.
   */
  architecture: string;
  precision: 'float32' | 'float64';
}

/**
 * One small interface for every potential (think ASE calculator): many structures in, one
 * result each out. Implementations may batch internally.
 */
export interface Potential {
  readonly identity: PotentialIdentity;
  /** Atomic numbers the model can handle; undefined = all. */
  readonly supportedElements?: ReadonlySet<number>;
  evaluate(structures: readonly Structure[]): Promise<PotentialResult[]>;
  dispose?(): Promise<void>;
}
