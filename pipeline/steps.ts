// The lifecycle steps as typed functions: validate → relax → displace → forces → phonons →
// classify. Plain JSON in and out (they run in compute threads, and their outputs are stored
// content-addressed), every parameter an argument: nothing here reads config or loads a model
// by name, so the caller's resolved settings decide what is computed. Used by the activities
// (through the compute threads), the one-process path (run-one.ts) and the bench drivers.
import { displacedSupercell } from '../core/phonon/displaced.js';
import { SoftmodeInputError, UsageError } from '../core/errors.js';
import type { Potential } from '../core/potential/types.js';
import type { Structure } from '../core/structure/structure.js';
import { type DisplacementForces, STABILITY_PRESETS, type StabilityResult, chooseSupercell, classifyStability, generateDisplacements, makeSupercell, postProcess, type SupercellRule } from '../core/phonon/index.js';
import { type RelaxState, relax } from '../core/relax/index.js';
import type { RelaxProtocol } from '../config/relax.js';
import type { StabilityRules } from '../core/stability/index.js';
import { reducedFormula } from '../core/structure/hash.js';
import { assertValidStructure } from '../core/structure/validate.js';
import { getSymmetry } from '../core/symmetry/index.js';
import { type StructureJson, fromJson, toJson } from './structure-json.js';
import type { GaussianDos } from '../core/phonon/dos.js';
import { compactPhonons } from './phonon-storage.js';

export { type StructureJson, fromJson, toJson } from './structure-json.js';

/** A step whose core/ implementation is absent from this build (now in core/errors.ts). */
export { StepNotAvailableError } from '../core/errors.js';

export interface ValidateOut {
  formula: string;
  natoms: number;
  spacegroup: number | null;
  spacegroupSymbol: string | null;
  warnings: string[];
}

export interface ValidateParams {
  /** moyo tolerance for the reported space group, Å */
  symprec: number;
  /** the validation limits' version (config/validation.ts, read by core/structure/validate) */
  validationVersion: string;
  /** atomic numbers the campaign's potential handles (from its manifest); null = all */
  supportedElements: number[] | null;
}

export function validateStep(structure: StructureJson, params: ValidateParams): ValidateOut {
  const s = fromJson(structure);
  // typed StructureError on failure: the activity turns it into a non-retryable rejection
  const warnings = assertValidStructure(s, params.supportedElements ? { supportedElements: new Set(params.supportedElements) } : {});
  const sym = getSymmetry(s, params.symprec);
  return { formula: reducedFormula(s.numbers), natoms: s.numbers.length, spacegroup: sym.number, spacegroupSymbol: sym.symbol, warnings };
}

export interface RelaxOut {
  structure: StructureJson;
  status: string;
  reason: string | null;
  usable: boolean;
  steps: number;
  stepsPerRound: number[];
  energyInitial: number | null;
  energy: number | null;
  maxForce: number | null;
  maxAtomForce: number | null;
  stress: number[][] | null;
  spacegroupBefore: number | null;
  spacegroupAfter: number | null;
  protocol: { name: string; version: string; sha256: string };
  /** precision of the model along the FIRE trajectory; the final test and `energy` use the configured one */
  trajectoryPrecision: 'float32' | 'float64';
  modelMs: number;
  resumed: boolean;
}

/**
 * Fault-injection hook for the engine's fault tests only: makes every model call of a
 * relaxation take this much longer, so a worker can be killed "during a relaxation" with the
 * fast classical potential. Unset (0) in normal use.
 */
const FAULT_SLOW_MODEL_MS = Number(process.env['SOFTMODE_FAULT_SLOW_MODEL_MS'] ?? 0);

/** Counts the time spent inside the potential (for the outside-model share). */
class TimedPotential implements Potential {
  modelMs = 0;
  calls = 0;
  firstEnergy: number | null = null;
  constructor(private readonly inner: Potential) {}
  get identity() {
    return this.inner.identity;
  }
  get supportedElements() {
    return this.inner.supportedElements;
  }
  async evaluate(structures: readonly Structure[]) {
    const t0 = performance.now();
    if (FAULT_SLOW_MODEL_MS > 0) await new Promise((res) => setTimeout(res, FAULT_SLOW_MODEL_MS));
    const r = await this.inner.evaluate(structures);
    this.modelMs += performance.now() - t0;
    this.calls++;
    if (this.firstEnergy === null && r[0]) this.firstEnergy = r[0].energy;
    return r;
  }
}

export async function relaxStep(
  structure: StructureJson,
  potential: Potential,
  /** the same model in the protocol's trajectory precision; null = `potential` walks the trajectory */
  trajectoryPotential: Potential | null,
  protocol: RelaxProtocol,
  resumeFrom: unknown,
  checkpointEvery: number,
  onCheckpoint: (state: unknown) => void,
): Promise<RelaxOut> {
  const pot = new TimedPotential(potential);
  const trajectory = trajectoryPotential ? new TimedPotential(trajectoryPotential) : null;
  const s = fromJson(structure);
  const resume = resumeFrom ? (resumeFrom as RelaxState) : undefined;
  const r = await relax(s, pot, protocol, {
    ...(resume ? { resumeFrom: resume } : {}),
    ...(trajectory ? { trajectoryPotential: trajectory } : {}),
    onCheckpoint: (st) => onCheckpoint(st),
    checkpointEvery,
  });
  return {
    structure: toJson(r.structure),
    status: r.verdict,
    reason: r.reason,
    usable: r.verdict === 'converged',
    steps: r.steps.total,
    stepsPerRound: r.steps.perRound,
    // the first evaluation of a fresh run is the input geometry (after symmetry refinement), in
    // the trajectory's precision
    energyInitial: resume ? null : (trajectory ?? pot).firstEnergy,
    energy: r.energy,
    maxForce: r.maxForce,
    maxAtomForce: r.maxAtomForce,
    stress: r.stress.map((row) => [...row]),
    spacegroupBefore: r.spaceGroupBefore.number,
    spacegroupAfter: r.spaceGroupAfter ? r.spaceGroupAfter.number : null,
    protocol: r.protocol,
    trajectoryPrecision: r.trajectoryPrecision,
    modelMs: pot.modelMs + (trajectory?.modelMs ?? 0),
    resumed: Boolean(resume),
  };
}

export interface DisplaceOut {
  supercellMatrix: number[][];
  supercell: StructureJson;
  displacements: { atom: number; displacement: number[] }[];
  rule: unknown;
}

export interface DisplaceParams {
  supercell: SupercellRule;
  amplitude: number;
  diagonal: boolean;
  plusMinus: 'auto' | boolean;
  symprec: number;
}

export function displaceStep(structure: StructureJson, p: DisplaceParams): DisplaceOut {
  const s = fromJson(structure);
  const choice = chooseSupercell(s, p.supercell);
  const sc = makeSupercell(s, choice.matrix, p.symprec);
  const disps = generateDisplacements(sc, { unitcell: s, amplitude: p.amplitude, diagonal: p.diagonal, plusMinus: p.plusMinus, symprec: p.symprec });
  return {
    supercellMatrix: choice.matrix.map((r) => [...r]),
    supercell: toJson(sc.structure),
    displacements: disps.map((d) => ({ atom: d.atom, displacement: [...d.displacement] })),
    rule: choice.rule,
  };
}

export interface ForcesOut {
  forces: number[][][];
  energies: number[];
  modelMs: number;
}

/** Forces of displaced supercells (one potential call for the whole batch). */
export async function forcesStep(supercell: StructureJson, displacements: { atom: number; displacement: number[] }[], pot: Potential): Promise<ForcesOut> {
  const base = fromJson(supercell);
  const structures = displacements.map((d) => displacedSupercell(base, d));
  const t0 = performance.now();
  const res = await pot.evaluate(structures);
  const modelMs = performance.now() - t0;
  return { forces: res.map((r) => r.forces.map((f) => [...f])), energies: res.map((r) => r.energy), modelMs };
}


export interface FrequencySetJson {
  qpoints: number[][];
  frequencies: number[][];
}

export interface PhononOut {
  configVersion: string;
  supercellMatrix: number[][];
  primitive: StructureJson;
  commensurate: FrequencySetJson;
  /** `rows` (storage 'compact'): only the rows classification reads, their indices in the full path */
  band: (FrequencySetJson & { segments: { labels?: [string, string]; n: number }[]; note?: string; rows?: number[] }) | null;
  /** `rows` (storage 'compact'): only the rows classification reads, their indices in the full mesh */
  mesh: (FrequencySetJson & { mesh: number[]; weights: number[]; rows?: number[] }) | null;
  thermo: unknown;
  timingsMs: Record<string, number>;
  /** 'compact' (pipeline/phonon-storage.ts): band and mesh reduced to what classification reads; `plot` is what the report draws */
  storage?: 'compact';
  plot?: {
    /** `branches[b][k]`: mode b at q-point k in steps of `stepTHz`, difference-coded along k (pipeline/phonon-storage.ts) */
    band: { qpoints: number[][]; segments: { labels?: [string, string]; n: number }[]; note?: string; stepTHz: number; branches: number[][]; soft?: { row: number; band: number } } | null;
    /** q-points of the full band path and mesh */
    bandPoints: number;
    meshPoints: number;
    dos: (GaussianDos & { source: 'mesh' | 'band' }) | null;
  };
}

const arr = (f: ArrayLike<number>): number[] => Array.from(f);

/** Force constants, dynamical matrix and frequencies on commensurate q, band path and mesh. */
export interface PhononParams {
  /** supercell symmetry, atom mapping and shortest vectors, Å */
  symprec: number;
  removeDrift: boolean;
  symmetrizeLevel: number;
  /** √(eV/Å²/AMU) → THz */
  frequencyFactor: number;
  /** Γ-centred mesh density (physics.md §4) */
  meshLength: number;
  /** HPKOT band path sampling */
  bandPath: { pointsOnLongestSegment: number; withTimeReversal: boolean; phononbenchCompat: boolean };
  /** config versions of the defaults core/ still reads itself (tolerances of the band path) */
  versions: { phonon: string; bandPath: string };
  /**
   * How the result is kept: 'compact' (campaigns from cache version phonons-3 on) keeps what
   * classification reads, exactly, and what the report draws (pipeline/phonon-storage.ts);
   * absent = every band-path and mesh frequency (campaigns created before, one-process runs).
   */
  storage?: 'compact';
}

export function phononStep(unitCell: StructureJson, disp: DisplaceOut, forces: number[][][], params: PhononParams): PhononOut {
  if (forces.length !== disp.displacements.length) throw new Error(`have ${forces.length} force sets for ${disp.displacements.length} displacements`);
  const sets: DisplacementForces[] = disp.displacements.map((d, i) => ({ atom: d.atom, displacement: [d.displacement[0]!, d.displacement[1]!, d.displacement[2]!], forces: forces[i]! }));
  const r = postProcess({
    unitcell: fromJson(unitCell),
    supercellMatrix: disp.supercellMatrix,
    supercell: fromJson(disp.supercell),
    displacements: sets,
    symprec: params.symprec,
    removeDrift: params.removeDrift,
    symmetrizeLevel: params.symmetrizeLevel,
    frequencyFactor: params.frequencyFactor,
    // classification is its own step (a rule change must not recompute phonons)
    options: { band: 'auto', bandPathOptions: params.bandPath, mesh: 'default', meshLength: params.meshLength, presets: [], thermal: false },
  });
  const band = r.band
    ? {
        qpoints: r.band.segments.flatMap((sg) => sg.qpoints.map((q) => [...q])),
        frequencies: r.band.segments.flatMap((sg) => sg.frequencies.map(arr)),
        segments: r.band.segments.map((sg) => ({ ...(sg.labels ? { labels: sg.labels } : {}), n: sg.qpoints.length })),
        ...(r.band.note ? { note: r.band.note } : {}),
      }
    : null;
  const full: PhononOut = {
    configVersion: r.configVersion,
    supercellMatrix: disp.supercellMatrix,
    primitive: toJson(r.model.primitive),
    commensurate: { qpoints: r.commensurate.qpoints.map((q) => [...q]), frequencies: r.commensurate.frequencies.map(arr) },
    band,
    mesh: r.mesh ? { mesh: [...r.mesh.mesh], weights: [...r.mesh.weights], qpoints: r.mesh.qpoints.map((q) => [...q]), frequencies: r.mesh.frequencies.map(arr) } : null,
    thermo: r.thermo,
    timingsMs: r.timingsMs,
  };
  return params.storage === 'compact' ? compactPhonons(full) : full;
}

export interface ClassifyOut {
  preset: string;
  label: string;
  labels: Record<string, string>;
  minFreqThz: number | null;
  minFreqQ: number[] | null;
  minFreqBand: number | null;
  minFreqWhere: string | null;
  nImaginary: number | null;
  maxFreqThz: number | null;
  /** every preset's full result (rule version, reason, acoustic check, ...) */
  results: Record<string, unknown>;
  unclassified: Record<string, string>;
}

/** Labels under every preset from stored spectra; the campaign's preset gives `label`. */
export function classifyStep(ph: PhononOut, preset: string, rules: StabilityRules): ClassifyOut {
  if (!(STABILITY_PRESETS as readonly string[]).includes(preset)) throw new UsageError(`unknown stability preset '${preset}' (${STABILITY_PRESETS.join(', ')})`);
  const spectrum = {
    commensurate: ph.commensurate,
    ...(ph.band && ph.band.qpoints.length > 0 ? { band: ph.band } : {}),
    ...(ph.mesh ? { mesh: ph.mesh } : {}),
  };
  const results: Record<string, StabilityResult> = {};
  const unclassified: Record<string, string> = {};
  for (const p of STABILITY_PRESETS) {
    try {
      results[p] = classifyStability(spectrum, p, rules);
    } catch (e) {
      if (!(e instanceof SoftmodeInputError)) throw e;
      unclassified[p] = e.message;
    }
  }
  const main = results[preset];
  const labels: Record<string, string> = {};
  for (const [p, r] of Object.entries(results)) labels[p] = r.label;
  for (const p of Object.keys(unclassified)) labels[p] = 'unclassified';
  if (!main) {
    // e.g. no band path for a band-path rule: a scientific outcome (recorded with its reason),
    // not a fault to retry
    return { preset, label: 'unclassified', labels, minFreqThz: null, minFreqQ: null, minFreqBand: null, minFreqWhere: null, nImaginary: null, maxFreqThz: null, results, unclassified };
  }
  return {
    preset,
    label: main.label,
    labels,
    minFreqThz: main.min.frequency,
    minFreqQ: [...main.min.qpoint],
    minFreqBand: main.min.band,
    minFreqWhere: main.min.set,
    nImaginary: main.imaginaryModes,
    maxFreqThz: main.maxFrequency ? main.maxFrequency.THz : null,
    results,
    unclassified,
  };
}
