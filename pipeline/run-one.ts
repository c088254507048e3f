// The one-process path: validate → relax → displace → forces → phonons → classify for one
// structure, with the same step functions and resolved settings the durable engine uses (so a
// label from `softmode phonons --model`, a bench driver or a campaign is computed the same way).
import type { Potential } from '../core/potential/types.js';
import type { Structure } from '../core/structure/structure.js';
import type { CampaignSettings } from './settings.js';
import {
  type ClassifyOut,
  type DisplaceOut,
  type ForcesOut,
  type PhononOut,
  type RelaxOut,
  type StructureJson,
  type ValidateOut,
  classifyStep,
  displaceStep,
  forcesStep,
  phononStep,
  relaxStep,
  toJson,
  validateStep,
} from './steps.js';

export interface RunOneOptions {
  /** the same model in the relaxation protocol's trajectory precision (null: `potential` walks it) */
  trajectoryPotential?: Potential | null;
  /** false: take the structure as it is (no relaxation) */
  relax?: boolean;
  /** false: skip validation (the caller has checked the structure) */
  validate?: boolean;
  /** called after each stage with its wall time */
  onStage?: (stage: string, seconds: number) => void;
}

export interface RunOneResult {
  validate: ValidateOut | null;
  relax: RelaxOut | null;
  /** the cell the phonons were computed for (relaxed, or the input) */
  unitCell: StructureJson;
  displace: DisplaceOut | null;
  forces: ForcesOut | null;
  phonons: PhononOut | null;
  /** null when the relaxation did not reach a usable minimum (PhononBench: unstable) */
  classify: ClassifyOut | null;
  stagesS: Record<string, number>;
}

export async function runOne(structure: Structure | StructureJson, settings: CampaignSettings, potential: Potential, o: RunOneOptions = {}): Promise<RunOneResult> {
  const stagesS: Record<string, number> = {};
  let t = performance.now();
  const lap = (k: string): void => {
    const now = performance.now();
    stagesS[k] = (now - t) / 1000;
    o.onStage?.(k, stagesS[k]!);
    t = now;
  };
  // a plain copy either way (a Structure and its JSON form have the same fields)
  const input = toJson(structure as Structure);
  const validate = o.validate === false ? null : validateStep(input, settings.validate);
  if (validate) lap('validate');
  let relax: RelaxOut | null = null;
  let unitCell = input;
  if (o.relax !== false) {
    relax = await relaxStep(input, potential, o.trajectoryPotential ?? null, settings.relax.protocol, null, Number.MAX_SAFE_INTEGER, () => undefined);
    lap('relax');
    unitCell = relax.structure;
    if (!relax.usable) return { validate, relax, unitCell, displace: null, forces: null, phonons: null, classify: null, stagesS };
  }
  const displace = displaceStep(unitCell, settings.displace);
  lap('displacements');
  const forces = await forcesStep(displace.supercell, displace.displacements, potential);
  lap('forces');
  // nothing is stored here: the full spectra (every band-path and mesh frequency) are kept
  const { storage: _storage, ...fullParams } = settings.phonons;
  const phonons = phononStep(unitCell, displace, forces.forces, fullParams);
  lap('phonons');
  const classify = classifyStep(phonons, settings.classify.preset, settings.classify.rules);
  lap('classify');
  return { validate, relax, unitCell, displace, forces, phonons, classify, stagesS };
}
