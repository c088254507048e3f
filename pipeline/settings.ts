// What a campaign computes, resolved once when it is created and frozen in campaigns.config:
// the potential's full identity, the stability preset, every step's parameters and the engine
// policy. Nothing in it depends on the host (core counts, paths). Each step's cache key hashes
// exactly the part of these settings that step reads (`stepKeyParams`), so changing one
// parameter moves the keys of the steps that use it and of no other (test/cache-keys.test.ts).
import type { ConfigSnapshot } from '../config/index.js';
import { ENGINE_DEFAULTS, defaultPolicy } from '../config/engine.js';
import type { Potential } from '../core/potential/types.js';
import { BANDPATH_DEFAULTS } from '../config/bandpath.js';
import { PHONON_CONFIG, STABILITY_RULES } from '../config/phonon.js';
import type { OnnxPrecision } from '../config/potential.js';
import type { RelaxProtocol } from '../config/relax.js';
import { STRUCTURE_DEFAULTS } from '../config/structure.js';
import { VALIDATION } from '../config/validation.js';
import { WorkerMismatchError } from '../core/errors.js';
import type { SupercellRule } from '../core/structure/supercell.js';
import type { StabilityRules } from '../core/stability/index.js';
import type { ActivityPolicy } from '../workflows/definitions.js';
import { stepKey } from '../store/keys.js';
import type { DisplaceParams, PhononParams, ValidateParams } from './steps.js';

/**
 * Hand-bumped cache versions: change one when that step's code changes what it computes.
 * Results stored under older versions stay in the store (audit and export read them by key);
 * they are never served to a step computed under a newer version.
 */
export const STEP_CACHE_VERSIONS = Object.freeze({
  validate: 'validate-2', // 2: keyed by its exact parameters (symprec from config, the potential's element set)
  relax: 'relax-3', // 3: keyed by the full potential identity (architecture, precision) and protocol
  displace: 'displace-3', // 3: the forces batching is part of the key
  forces: 'forces-2', // 2: keyed by the full potential identity (float32 and float64 never share)
  phonons: 'phonons-2', // 2: frequency factor, mesh density and band-path sampling in the key
  classify: 'classify-4', // 4: keyed by the rules themselves, not the whole config snapshot
});

export type StepName = keyof typeof STEP_CACHE_VERSIONS;

/** Everything that says which potential computed a number (engine rule 2). */
export interface PotentialRef {
  model: string;
  checkpointSha256: string;
  architecture: string;
  /** precision of every stored energy, force and of the relaxation's acceptance test */
  precision: OnnxPrecision;
}

/** A loaded potential as campaign creation sees it: its identity and the elements it handles. */
export interface ResolvedPotential {
  ref: PotentialRef;
  /** atomic numbers it handles (null = all): validation rejects the others */
  supportedElements: number[] | null;
}

/** Settings layout; a campaign stored with another one cannot be resumed by this code. */
export const SETTINGS_VERSION = 2;

export interface CampaignSettings {
  settingsVersion: typeof SETTINGS_VERSION;
  /** the step cache versions of the code that created the campaign (a worker must have the same) */
  cacheVersions: Record<StepName, string>;
  potential: PotentialRef;
  preset: string;
  validate: ValidateParams;
  relax: { protocol: RelaxProtocol };
  displace: DisplaceParams;
  /** displaced supercells per `forces` activity, and the most activities per structure */
  forcesBatching: { batchSize: number; maxBatches: number };
  phonons: PhononParams;
  classify: { preset: string; rules: StabilityRules };
  /** FIRE steps between relaxation checkpoints: when a crash resumes, not what is computed */
  relaxCheckpointEvery: number;
  policy: ActivityPolicy;
  /** the whole config snapshot, for audit (steps read the resolved fields above, never this) */
  config: ConfigSnapshot | null;
  /**
   * Processing order (which structures run first, not what is computed: no step key reads it).
   * Absent: input order (files as collected). random: items take their ids in a seeded random
   * order at ingest, so the running stable rate is an unbiased estimate at every moment
   * (run --until-ci).
   */
  order?: { kind: 'random'; seed: number };
}

export interface SettingsOptions {
  potential: ResolvedPotential;
  preset: string;
  relaxProtocol: RelaxProtocol;
  supercell: SupercellRule;
  /** default: the engine's (one-process runs have no activities) */
  policy?: ActivityPolicy;
  /** the config snapshot kept for audit; one-process runs may leave it out */
  config?: ConfigSnapshot | null;
  order?: { kind: 'random'; seed: number };
}

/** Resolve every parameter from the config defaults, once (campaign creation, one-process runs). */
export function buildSettings(o: SettingsOptions): CampaignSettings {
  return {
    settingsVersion: SETTINGS_VERSION,
    cacheVersions: { ...STEP_CACHE_VERSIONS },
    potential: o.potential.ref,
    preset: o.preset,
    validate: { symprec: STRUCTURE_DEFAULTS.validateSymprec, validationVersion: VALIDATION.version, supportedElements: o.potential.supportedElements },
    relax: { protocol: o.relaxProtocol },
    displace: {
      supercell: o.supercell,
      amplitude: PHONON_CONFIG.displacementAmplitude,
      diagonal: PHONON_CONFIG.diagonalDisplacements,
      plusMinus: PHONON_CONFIG.plusMinus,
      symprec: PHONON_CONFIG.symprec,
    },
    forcesBatching: { batchSize: ENGINE_DEFAULTS.forcesBatchSize, maxBatches: ENGINE_DEFAULTS.forcesMaxBatches },
    phonons: {
      symprec: PHONON_CONFIG.symprec,
      removeDrift: PHONON_CONFIG.removeDrift,
      symmetrizeLevel: PHONON_CONFIG.symmetrizeLevel,
      frequencyFactor: PHONON_CONFIG.frequencyFactorTHz,
      meshLength: PHONON_CONFIG.meshLength,
      bandPath: { pointsOnLongestSegment: BANDPATH_DEFAULTS.pointsOnLongestSegment, withTimeReversal: BANDPATH_DEFAULTS.withTimeReversal, phononbenchCompat: false },
      versions: { phonon: PHONON_CONFIG.version, bandPath: BANDPATH_DEFAULTS.version },
    },
    classify: {
      preset: o.preset,
      rules: { presets: STABILITY_RULES, acousticToleranceTHz: PHONON_CONFIG.acousticToleranceTHz, thzToKelvin: PHONON_CONFIG.thzToKelvin },
    },
    relaxCheckpointEvery: ENGINE_DEFAULTS.relaxCheckpointEverySteps,
    policy: o.policy ?? defaultPolicy(),
    config: o.config ?? null,
    ...(o.order ? { order: { ...o.order } } : {}),
  };
}

/** A loaded potential's full identity (as settings record it) and its element set. */
export function resolvedPotential(p: Potential): ResolvedPotential {
  return {
    ref: {
      model: p.identity.model,
      checkpointSha256: p.identity.checkpointSha256,
      architecture: (p.identity as { architecture?: string }).architecture ?? p.identity.model,
      precision: p.identity.precision,
    },
    supportedElements: p.supportedElements ? [...p.supportedElements].sort((a, b) => a - b) : null,
  };
}

/**
 * Exactly the settings a step reads, which its cache key hashes (with its input refs and cache
 * version). `forces` adds its batch index at the call site.
 */
export function stepKeyParams(s: CampaignSettings, step: StepName): Record<string, unknown> {
  switch (step) {
    case 'validate':
      return { ...s.validate };
    case 'relax':
      // the trajectory precision is inside the protocol
      return { protocol: s.relax.protocol, potential: s.potential };
    case 'displace':
      return { ...s.displace, batching: s.forcesBatching };
    case 'forces':
      return { potential: s.potential };
    case 'phonons':
      return { ...s.phonons };
    case 'classify':
      return { ...s.classify };
  }
}

/** A step's content address: sha256 of its cache version, input refs and exactly the settings it reads. */
export function stepKeyOf(s: CampaignSettings, step: StepName, inputRefs: readonly string[], extraParams: Record<string, unknown> = {}): string {
  return stepKey({ step, cacheVersion: s.cacheVersions[step], inputRefs, params: { ...stepKeyParams(s, step), ...extraParams }, modelSha256: stepModelSha256(s, step) });
}

/**
 * Refuse to compute a step whose frozen versions differ from this process's code and config:
 * the key would name code or defaults this worker does not run (issue #14: a worker must prove
 * it computes what the key says; the potential's identity is checked when it loads).
 */
export function assertWorkerMatches(s: CampaignSettings, step: StepName, worker: string): void {
  const mismatches: string[] = [];
  if (s.cacheVersions[step] !== STEP_CACHE_VERSIONS[step]) mismatches.push(`step cache version ${STEP_CACHE_VERSIONS[step]} (campaign: ${s.cacheVersions[step]})`);
  if (step === 'validate' && s.validate.validationVersion !== VALIDATION.version) mismatches.push(`validation config ${VALIDATION.version} (campaign: ${s.validate.validationVersion})`);
  if (step === 'phonons') {
    if (s.phonons.versions.phonon !== PHONON_CONFIG.version) mismatches.push(`phonon config ${PHONON_CONFIG.version} (campaign: ${s.phonons.versions.phonon})`);
    if (s.phonons.versions.bandPath !== BANDPATH_DEFAULTS.version) mismatches.push(`band-path config ${BANDPATH_DEFAULTS.version} (campaign: ${s.phonons.versions.bandPath})`);
  }
  if (mismatches.length > 0)
    throw new WorkerMismatchError(`worker ${worker} refuses step '${step}': it runs ${mismatches.join(', ')}; its results would not be what the key says (run a worker of the campaign's code, or start a new campaign)`);
}

/** The checkpoint a step's result depends on (stored beside it), or null for model-free steps. */
export function stepModelSha256(s: CampaignSettings, step: StepName): string | null {
  return step === 'relax' || step === 'forces' ? s.potential.checkpointSha256 : null;
}

/** Settings as stored by a campaign, checked: a layout this code does not know is refused. */
export function checkedSettings(stored: unknown, campaign: string): CampaignSettings {
  const v = (stored as { settingsVersion?: unknown } | null)?.settingsVersion;
  if (v !== SETTINGS_VERSION)
    throw new SettingsVersionError(
      `campaign ${campaign} was created with settings layout ${v ?? 1}; this code reads layout ${SETTINGS_VERSION}. Its stored results stay readable (status, export, audit); start a new campaign to compute with this code`,
    );
  return stored as CampaignSettings;
}

export class SettingsVersionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsVersionError';
  }
}
