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
  phonons: 'phonons-3', // 2: frequency factor, mesh density and band-path sampling in the key; 3: stored compact (pipeline/phonon-storage.ts)
  classify: 'classify-4', // 4: keyed by the rules themselves, not the whole config snapshot
});

export type StepName = keyof typeof STEP_CACHE_VERSIONS;

/**
 * Older cache versions this code still computes exactly as they were computed (a campaign created
 * before a bump is resumed by new workers without recomputing anything): phonons-2 is phonons-3
 * without `storage: 'compact'` (its frozen settings have none), so every frequency is kept.
 */
export const STEP_CACHE_VERSIONS_ALSO_SERVED: Readonly<Partial<Record<StepName, readonly string[]>>> = Object.freeze({ phonons: ['phonons-2'] });

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
/**
 * The layout of a multi-model campaign (run --model a,b): layout 2 plus `models`. Its own number
 * so that a worker of older code, which knows only `potential`, refuses such a campaign instead
 * of computing every item with the first model.
 */
export const MULTI_MODEL_SETTINGS_VERSION = 3;

export interface CampaignSettings {
  settingsVersion: typeof SETTINGS_VERSION | typeof MULTI_MODEL_SETTINGS_VERSION;
  /** the step cache versions of the code that created the campaign (a worker must have the same) */
  cacheVersions: Record<StepName, string>;
  /** the potential of this campaign (of a multi-model campaign: its first model; per item: `settingsForModel`) */
  potential: PotentialRef;
  /**
   * Multi-model campaigns only (absent for one model): every model, in the order given, each
   * item naming one by its index (campaign_items.model_index). `potential` is models[0].
   * Validation is shared (one key for all models): its element set is the intersection.
   */
  models?: PotentialRef[];
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
  /**
   * What the store keeps beyond each step's result (not part of any key): `pruneConsumedForces`
   * drops the displaced-supercell forces of a structure once its phonons are stored (the row,
   * its key and provenance stay; a later step that needs them again recomputes them). Absent
   * (campaigns created before): everything kept.
   */
  storage?: { pruneConsumedForces: boolean };
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
  /** a multi-model campaign: every model (the first is `potential`); one model = absent */
  models?: readonly ResolvedPotential[];
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
  const multi = o.models && o.models.length > 1 ? o.models : null;
  return {
    settingsVersion: multi ? MULTI_MODEL_SETTINGS_VERSION : SETTINGS_VERSION,
    cacheVersions: { ...STEP_CACHE_VERSIONS },
    potential: o.potential.ref,
    ...(multi ? { models: multi.map((m) => m.ref) } : {}),
    preset: o.preset,
    validate: {
      symprec: STRUCTURE_DEFAULTS.validateSymprec,
      validationVersion: VALIDATION.version,
      supportedElements: multi ? commonElements(multi) : o.potential.supportedElements,
    },
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
      storage: 'compact',
    },
    classify: {
      preset: o.preset,
      rules: { presets: STABILITY_RULES, acousticToleranceTHz: PHONON_CONFIG.acousticToleranceTHz, thzToKelvin: PHONON_CONFIG.thzToKelvin },
    },
    relaxCheckpointEvery: ENGINE_DEFAULTS.relaxCheckpointEverySteps,
    storage: { pruneConsumedForces: true },
    policy: o.policy ?? defaultPolicy(),
    config: o.config ?? null,
    ...(o.order ? { order: { ...o.order } } : {}),
  };
}

/**
 * The elements every model handles (null = all): a multi-model campaign validates each structure
 * once for all its models, so a structure one model cannot evaluate is rejected for every model
 * (the models are compared on the same structures).
 */
export function commonElements(models: readonly ResolvedPotential[]): number[] | null {
  let common: number[] | null = null;
  for (const m of models) {
    if (m.supportedElements === null) continue;
    common = common === null ? [...m.supportedElements] : common.filter((z) => m.supportedElements!.includes(z));
  }
  return common === null ? null : [...common].sort((a, b) => a - b);
}

/** How many models a campaign's settings name (1 for a one-model campaign). */
export function modelCount(s: Pick<CampaignSettings, 'models'>): number {
  return s.models && s.models.length > 1 ? s.models.length : 1;
}

/** The model names of a campaign, in item order (index = campaign_items.model_index). */
export function modelNames(s: Pick<CampaignSettings, 'models' | 'potential'>): string[] {
  return s.models && s.models.length > 1 ? s.models.map((m) => m.model) : [s.potential.model];
}

/**
 * The settings one item of a campaign computes with: the campaign's, with `potential` the item's
 * model (so relax and forces keys, the worker's model check and the result's provenance are that
 * model's); every other step reads the same settings for every model.
 */
export function settingsForModel(s: CampaignSettings, modelIndex: number): CampaignSettings {
  if (!s.models || s.models.length < 2) {
    if (modelIndex !== 0) throw new RangeError(`campaign has one model; item names model ${modelIndex}`);
    return s;
  }
  const m = s.models[modelIndex];
  if (!m) throw new RangeError(`campaign has ${s.models.length} models; item names model ${modelIndex}`);
  return { ...s, potential: m };
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
  if (s.cacheVersions[step] !== STEP_CACHE_VERSIONS[step] && !(STEP_CACHE_VERSIONS_ALSO_SERVED[step] ?? []).includes(s.cacheVersions[step])) mismatches.push(`step cache version ${STEP_CACHE_VERSIONS[step]} (campaign: ${s.cacheVersions[step]})`);
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
  const models = (stored as { models?: unknown } | null)?.models;
  const multiOk = v === MULTI_MODEL_SETTINGS_VERSION && Array.isArray(models) && models.length > 1;
  if (v !== SETTINGS_VERSION && !multiOk)
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
