// What a campaign computes, fixed when it is created and stored in campaigns.config: the model,
// the stability preset, every step's parameters (from the config/ snapshot), and the engine
// policy. Step keys hash exactly these parameters (engine rule 1).
import type { ConfigSnapshot } from '../config/index.js';
import type { EngineConfig } from '../config/engine.js';
import type { DisplaceParams, PhononParams } from './compute/science.js';
import type { RelaxProtocol } from '../config/relax.js';
import type { ActivityPolicy } from '../workflows/definitions.js';

/** Hand-bumped cache versions: change one when that step's code changes what it computes. */
export const STEP_CACHE_VERSIONS = Object.freeze({
  validate: 'validate-1',
  relax: 'relax-2', // 2: FixSymmetry refinement follows spglib's generator origin and monoclinic basis
  displace: 'displace-2', // 2: supercell symmetry derived from the unit cell
  forces: 'forces-1',
  phonons: 'phonons-1',
  classify: 'classify-3', // 3: loew-2 rule (numerical zero 0.005 K)
});

export interface CampaignSettings {
  model: string;
  modelSha256: string;
  modelPrecision: string;
  preset: string;
  validate: { symprec: number };
  relax: { protocol: RelaxProtocol; checkpointEvery: number };
  displace: DisplaceParams & { batchSize: number; maxBatches: number };
  phonons: PhononParams & { configVersion: string };
  classify: { preset: string; area: unknown };
  engine: EngineConfig;
  policy: ActivityPolicy;
  config: ConfigSnapshot;
}

export interface SettingsOptions {
  model: string;
  modelSha256: string;
  modelPrecision: string;
  preset: string;
  relaxProtocol: RelaxProtocol;
  /** FIRE steps between relaxation checkpoints (heartbeat details) */
  checkpointEvery: number;
  supercell: DisplaceParams['supercell'];
  engine: EngineConfig;
  policy: ActivityPolicy;
  config: ConfigSnapshot;
}

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

export function buildSettings(o: SettingsOptions): CampaignSettings {
  const phonon = (o.config.areas['phonon']?.['PHONON_CONFIG'] ?? {}) as Record<string, unknown>;
  const validation = o.config.areas['validation'] ?? {};
  return {
    model: o.model,
    modelSha256: o.modelSha256,
    modelPrecision: o.modelPrecision,
    preset: o.preset,
    validate: { symprec: 1e-5 },
    relax: { protocol: o.relaxProtocol, checkpointEvery: o.checkpointEvery },
    displace: {
      supercell: o.supercell,
      amplitude: num(phonon['displacementAmplitude'], 0.01),
      diagonal: typeof phonon['diagonalDisplacements'] === 'boolean' ? (phonon['diagonalDisplacements'] as boolean) : true,
      plusMinus: (phonon['plusMinus'] as 'auto' | boolean | undefined) ?? 'auto',
      symprec: num(phonon['symprec'], 1e-5),
      batchSize: o.engine.forcesBatchSize,
      maxBatches: o.engine.forcesMaxBatches,
    },
    phonons: {
      symprec: num(phonon['symprec'], 1e-5),
      removeDrift: phonon['removeDrift'] !== false,
      symmetrizeLevel: num(phonon['symmetrizeLevel'], 1),
      configVersion: String(phonon['version'] ?? 'unknown'),
    },
    classify: { preset: o.preset, area: { phonon: o.config.areas['phonon'] ?? {}, stability: o.config.areas['stability'] ?? {}, validation } },
    engine: o.engine,
    policy: o.policy,
    config: o.config,
  };
}
