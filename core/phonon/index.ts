// Phonon core: phonopy-compatible finite-displacement phonons (physics.md §1–§6).
//
// API (all q fractional in the primitive reciprocal basis, no 2π; frequencies in THz,
// ascending per q, negative = imaginary; Φ in eV/Å²; masses in AMU):
//   makeSupercell(unitcell, M)                 core/structure/supercell.ts (phonopy atom order)
//   chooseSupercell(unitcell, rule)            explicit | phononbench (2×2×2) | min-length
//   generateDisplacements(supercell, opts)     → Displacement[] {atom, displacement (Å), direction}
//   computeForceConstants(supercell, sets, o)  → ForceConstants {natoms, data: Float64Array n·n·3·3}
//   primitiveInSupercell(supercell, S, P)      → {primitive, p2s, s2pIndex, supercellMatrixOfPrimitive}
//   shortestVectors(supercell, prim)           → multiplicities + vectors (primitive fractional)
//   new DynamicalMatrix(fc, prim, svecs, masses[, factor]).matrixAt(q) / modesAt(q, vectors) /
//     frequenciesAt(qpoints)
//   commensurateQpoints(P⁻¹S), defaultMesh(primLattice), meshQpoints(mesh, rotations)
//   classifyStability(spectrum, preset)        core/stability
//   thermalProperties(freqs, weights, opts)    core/thermo
//   buildPhononModel(input) → PhononModel     everything up to the dynamical matrix
//   postProcess(input) → PostProcessResult     one call: fc, commensurate/band/mesh frequencies,
//                                              classification under every preset, thermo
// Files: core/phonon/phonopy-io.ts reads/writes phonopy_disp.yaml, FORCE_SETS, band/mesh.yaml.
import { PHONON_CONFIG } from '../../config/phonon.js';
import { SoftmodeInputError, StructureError, UsageError } from '../errors.js';
import { type Mat3, type Vec3 } from '../math/linalg.js';
import { classifyStability, STABILITY_PRESETS, type StabilityPreset, type StabilityResult } from '../stability/index.js';
import { atomicMass, symbolOf } from '../structure/elements.js';
import { minimumImageDistance } from '../structure/minimum-image.js';
import { makeSupercell, toSupercellMatrix } from '../structure/supercell.js';
import type { Structure } from '../structure/structure.js';
import { getSymmetry, type SymmetryInfo } from '../symmetry/index.js';
import { supercellSymmetry as deriveSupercellSymmetry } from '../symmetry/supercell-symmetry.js';
import { thermalProperties, type ThermalOptions, type ThermalProperties } from '../thermo/index.js';
import { bandPath, type BandPathOptions } from './bandpath/index.js';
import type { DisplacementForces } from './displacements.js';
import { DynamicalMatrix } from './dynmat.js';
import { computeForceConstants, type ForceConstants } from './force-constants.js';
import { primitiveInSupercell, shortestVectors, type PrimitiveInSupercell, type ShortestVectors } from './primitive.js';
import { commensurateQpoints, defaultMesh, meshQpoints } from './qpoints.js';

export { makeSupercell, chooseSupercell, toSupercellMatrix, type SupercellRule, type SupercellChoice } from '../structure/supercell.js';
export { generateDisplacements, type Displacement, type DisplacementForces, type DisplacementOptions } from './displacements.js';
export { computeForceConstants, symmetrizeForceConstants, fcBlock, type ForceConstants, type ForceConstantOptions } from './force-constants.js';
export { primitiveInSupercell, shortestVectors, type PrimitiveInSupercell, type ShortestVectors } from './primitive.js';
export { DynamicalMatrix, type ModesAt } from './dynmat.js';
export { hermitianEigen } from './eigen.js';
export { commensurateQpoints, defaultMesh, meshQpoints, type MeshQpoints } from './qpoints.js';
export { classifyStability, STABILITY_PRESETS, type StabilityPreset, type StabilityResult, type PhononSpectrum } from '../stability/index.js';
export { thermalProperties, type ThermalProperties } from '../thermo/index.js';

const IDENTITY: Mat3 = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

export interface PhononModelInput {
  unitcell: Structure;
  /** phonopy supercell_matrix (DIM), column convention */
  supercellMatrix: number | readonly number[] | readonly (readonly number[])[];
  /** phonopy primitive_matrix (unit cell → primitive); default identity */
  primitiveMatrix?: readonly (readonly number[])[];
  /** the supercell the forces belong to, when read from a file: checked against ours */
  supercell?: Structure;
  /** displacement–force sets (supercell indices) */
  displacements?: readonly DisplacementForces[];
  /** or ready force constants of the supercell */
  forceConstants?: ForceConstants;
  /** unit-cell masses (AMU); default phonopy's table */
  masses?: readonly number[];
  symprec?: number;
  /**
   * supercell operations: 'unitcell' (default) derives them from the unit cell's symmetry
   * (core/symmetry/supercell-symmetry.ts, fast on large supercells); 'direct' runs moyo on the
   * whole supercell (slow above a few hundred atoms; kept for checks)
   */
  symmetrySource?: 'unitcell' | 'direct';
  removeDrift?: boolean;
  symmetrizeLevel?: number;
  /** √(Φ/m) → THz; default 15.633302300230191 (eV/Å², AMU) */
  frequencyFactor?: number;
}

export interface PhononModel {
  unitcell: Structure;
  supercell: Structure;
  supercellMatrix: Mat3;
  primitiveMatrix: Mat3;
  prim: PrimitiveInSupercell;
  primitive: Structure;
  /** AMU, per primitive atom */
  primitiveMasses: number[];
  unitcellMasses: number[];
  supercellMasses: number[];
  forceConstants: ForceConstants;
  svecs: ShortestVectors;
  dynmat: DynamicalMatrix;
  /** number/symbol are 0 and '' when derived from the unit cell and the supercell lattice breaks
   *  some of its rotations (core/symmetry/supercell-symmetry.ts) */
  supercellSymmetry: Pick<SymmetryInfo, 'number' | 'symbol' | 'operations'> | null;
}

function sameSupercell(a: Structure, b: Structure, symprec: number): boolean {
  if (a.numbers.length !== b.numbers.length) return false;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) if (Math.abs(a.lattice[i]![j]! - b.lattice[i]![j]!) > 1e-6) return false;
  for (let k = 0; k < a.numbers.length; k++) {
    if (a.numbers[k] !== b.numbers[k]) return false;
    const fa = a.frac[k]!, fb = b.frac[k]!;
    if (minimumImageDistance(a.lattice, [fa[0]! - fb[0]!, fa[1]! - fb[1]!, fa[2]! - fb[2]!]) > Math.max(symprec, 1e-6)) return false;
  }
  return true;
}

/** Supercell, force constants, primitive cell, shortest vectors and dynamical matrix. */
export function buildPhononModel(input: PhononModelInput): PhononModel {
  const symprec = input.symprec ?? PHONON_CONFIG.symprec;
  const S = toSupercellMatrix(input.supercellMatrix);
  const P = (input.primitiveMatrix ? input.primitiveMatrix.map((r) => [r[0]!, r[1]!, r[2]!]) : IDENTITY) as Mat3;
  const sc = makeSupercell(input.unitcell, S, symprec);
  if (input.supercell && !sameSupercell(sc.structure, input.supercell, 1e-4))
    throw new UsageError('the given supercell differs from the unit cell × supercell matrix (atom order or positions): forces would be assigned to the wrong atoms');
  const supercell = sc.structure;
  const unitMasses = input.masses
    ? [...input.masses]
    : input.unitcell.numbers.map((z) => {
        const m = atomicMass(z);
        if (!(m > 0)) throw new StructureError('unsupported_element', `no standard atomic mass for ${symbolOf(z)}`);
        return m;
      });
  if (unitMasses.length !== input.unitcell.numbers.length || unitMasses.some((m) => !(m > 0)))
    throw new UsageError('need one positive mass per unit-cell atom');
  const supercellMasses = sc.s2u.map((u) => unitMasses[u]!);
  let fc = input.forceConstants;
  let supercellSymmetry: PhononModel['supercellSymmetry'] = null;
  if (!fc) {
    if (!input.displacements) throw new UsageError('need displacement–force sets or force constants');
    const derived = input.symmetrySource === 'direct' ? null : deriveSupercellSymmetry(input.unitcell, sc, symprec);
    const sym = derived ?? getSymmetry(supercell, symprec);
    supercellSymmetry = { number: sym.number, symbol: sym.symbol, operations: sym.operations };
    fc = computeForceConstants(supercell, input.displacements, {
      symprec,
      ...(derived ? { symmetry: derived } : { operations: sym.operations }),
      ...(input.removeDrift !== undefined ? { removeDrift: input.removeDrift } : {}),
      ...(input.symmetrizeLevel !== undefined ? { symmetrizeLevel: input.symmetrizeLevel } : {}),
    });
  } else if (fc.natoms !== supercell.numbers.length) {
    throw new UsageError(`force constants are for ${fc.natoms} atoms, the supercell has ${supercell.numbers.length}`);
  }
  const prim = primitiveInSupercell(supercell, S, P, symprec);
  const svecs = shortestVectors(supercell, prim, symprec);
  const primitiveMasses = prim.p2s.map((k) => supercellMasses[k]!);
  const dynmat = new DynamicalMatrix(fc, prim, svecs, primitiveMasses, input.frequencyFactor ?? PHONON_CONFIG.frequencyFactorTHz);
  return {
    unitcell: input.unitcell,
    supercell,
    supercellMatrix: S,
    primitiveMatrix: P,
    prim,
    primitive: prim.primitive,
    primitiveMasses,
    unitcellMasses: unitMasses,
    supercellMasses,
    forceConstants: fc,
    svecs,
    dynmat,
    supercellSymmetry,
  };
}

export interface BandInput {
  segments: { labels?: [string, string]; qpoints: readonly (readonly number[])[] }[];
}

export interface PostProcessOptions {
  /** explicit band path (primitive reciprocal basis), 'auto' (HPKOT via core/phonon/bandpath), or false */
  band?: BandInput | 'auto' | false;
  bandPathOptions?: BandPathOptions;
  /** mesh divisions, 'default' (physics.md §4 density) or false */
  mesh?: readonly number[] | 'default' | false;
  /** density of the 'default' mesh: N_i = max(1, rint(meshLength·|b_i|)) (default config) */
  meshLength?: number;
  presets?: readonly StabilityPreset[];
  thermal?: ThermalOptions | false;
}

export interface PostProcessInput extends PhononModelInput {
  options?: PostProcessOptions;
}

export interface QpointFrequencies {
  qpoints: Vec3[];
  frequencies: Float64Array[];
}

export interface PostProcessResult {
  configVersion: string;
  model: PhononModel;
  commensurate: QpointFrequencies;
  band: { segments: { labels?: [string, string]; qpoints: Vec3[]; frequencies: Float64Array[] }[]; note?: string } | null;
  mesh: (QpointFrequencies & { mesh: Vec3; weights: number[] }) | null;
  classification: Partial<Record<StabilityPreset, StabilityResult>>;
  /** presets that could not be evaluated (e.g. no band path), with the reason */
  unclassified: Partial<Record<StabilityPreset, string>>;
  thermo: ThermalProperties | null;
  timingsMs: Record<string, number>;
}

/** Point-group rotations of a cell (fractional, its own basis), for mesh reduction. */
export function pointGroupRotations(s: Structure, symprec: number = PHONON_CONFIG.symprec): Mat3[] {
  const sym = getSymmetry(s, symprec);
  const seen = new Set<string>();
  const out: Mat3[] = [];
  for (const op of sym.operations) {
    const key = op.rotation.flat().join(',');
    if (!seen.has(key)) {
      seen.add(key);
      out.push(op.rotation);
    }
  }
  return out;
}

/** Whole post-processing of displacement–force sets (or force constants) in one call. */
export function postProcess(input: PostProcessInput): PostProcessResult {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string): void => {
    const now = performance.now();
    timings[name] = now - t;
    t = now;
  };
  const opts = input.options ?? {};
  const symprec = input.symprec ?? PHONON_CONFIG.symprec;
  const model = buildPhononModel(input);
  lap('model');
  const dm = model.dynmat;
  const cq = commensurateQpoints(model.prim.supercellMatrixOfPrimitive);
  const commensurate = { qpoints: cq, frequencies: dm.frequenciesAt(cq) };
  lap('commensurate');

  let band: PostProcessResult['band'] = null;
  const bandOpt = opts.band ?? 'auto';
  if (bandOpt === 'auto') {
    try {
      const bp = bandPath(model.primitive, { symprec, ...(opts.bandPathOptions ?? {}) });
      band = { segments: bp.segments.map((s) => ({ labels: s.labels, qpoints: s.qpoints, frequencies: dm.frequenciesAt(s.qpoints) })) };
    } catch (e) {
      // a band-path failure (e.g. an unsupported setting) must not lose the other results;
      // presets that need the path are then reported as not evaluated
      band = { segments: [], note: `band path unavailable: ${(e as Error).message}` };
    }
  } else if (bandOpt) {
    band = {
      segments: bandOpt.segments.map((s) => {
        const qpoints = s.qpoints.map((q) => [q[0]!, q[1]!, q[2]!] as Vec3);
        return { ...(s.labels ? { labels: s.labels } : {}), qpoints, frequencies: dm.frequenciesAt(qpoints) };
      }),
    };
  }
  lap('band');

  let mesh: PostProcessResult['mesh'] = null;
  const meshOpt = opts.mesh ?? 'default';
  if (meshOpt !== false) {
    const divisions = meshOpt === 'default' ? defaultMesh(model.primitive.lattice, opts.meshLength) : meshOpt;
    const m = meshQpoints(divisions, pointGroupRotations(model.primitive, symprec));
    mesh = { mesh: m.mesh, qpoints: m.qpoints, weights: m.weights, frequencies: dm.frequenciesAt(m.qpoints) };
  }
  lap('mesh');

  const bandSet = band && band.segments.length > 0
    ? { qpoints: band.segments.flatMap((s) => s.qpoints), frequencies: band.segments.flatMap((s) => s.frequencies) }
    : undefined;
  const spectrum = {
    commensurate,
    ...(bandSet ? { band: bandSet } : {}),
    ...(mesh ? { mesh: { qpoints: mesh.qpoints, frequencies: mesh.frequencies } } : {}),
  };
  const classification: PostProcessResult['classification'] = {};
  const unclassified: PostProcessResult['unclassified'] = {};
  for (const p of opts.presets ?? STABILITY_PRESETS) {
    try {
      classification[p] = classifyStability(spectrum, p);
    } catch (e) {
      if (!(e instanceof SoftmodeInputError)) throw e;
      unclassified[p] = e.message;
    }
  }
  lap('classify');
  const thermo = mesh && opts.thermal !== false ? thermalProperties(mesh.frequencies, mesh.weights, opts.thermal || {}) : null;
  lap('thermo');
  return { configVersion: PHONON_CONFIG.version, model, commensurate, band, mesh, classification, unclassified, thermo, timingsMs: timings };
}
