// Relaxation protocols (physics.md §7): rounds of (fresh FixSymmetry + cell filter + FIRE),
// a final acceptance test on a fresh constraint and filter, and a JSON state that resumes the
// same trajectory bit for bit.
//
// Loop semantics follow ASE's Optimizer.irun plus the Loew/PhononBench driver:
//   per round: [refine + operations] → repeat { evaluate; abort if any generalized force row
//   > explodeForce; stop if max row < roundFmax or steps == stepsPerRound; FIRE step }
//   rounds stop early when a round converged; then (if finalFmax is set) a fresh constraint
//   (refining again) and filter are built and converged ⇔ max generalized force ≤ finalFmax.
// A checkpoint is taken after a step, before the next evaluation; resuming evaluates that
// geometry again and continues, so an interrupted run and an uninterrupted one do the same
// arithmetic in the same order.
import { createHash } from 'node:crypto';
import type { RelaxProtocol } from '../../config/relax.js';
import { SoftmodeInputError, StructureError, UsageError } from '../errors.js';
import { type Mat3, det3 } from '../math/linalg.js';
import type { Potential, PotentialIdentity } from '../potential/types.js';
import { type Structure, withGeometry } from '../structure/structure.js';
import { type SymmetryInfo, getSymmetry } from '../symmetry/index.js';
import { type FireState, fireStep, initialFireState, maxRowNorm } from './fire.js';
import { AtomsTarget, type Evaluation, type Frame, FrechetCellFilter, type RelaxTarget } from './filters.js';
import { CellStepTooLargeError, cartOf, fracOf, prepareSymmetry, refineGeometry } from './fix-symmetry.js';

export const RELAX_STATE_FORMAT = 'softmode-relax-state-1';

export type RelaxVerdict = 'converged' | 'not_converged' | 'exploded' | 'symmetry_lost';

export interface SpaceGroupRef {
  number: number;
  symbol: string;
  /** number of operations found in the cell as given */
  operations: number;
}

/** Everything needed to continue a relaxation exactly: plain JSON, full-precision numbers. */
export interface RelaxState {
  format: typeof RELAX_STATE_FORMAT;
  protocol: { name: string; version: string; sha256: string };
  potential: { model: string; checkpointSha256: string };
  numbers: number[];
  /** 0-based round in progress */
  round: number;
  /** FIRE steps taken in this round (ASE nsteps) */
  roundStep: number;
  totalSteps: number;
  stepsPerRound: number[];
  /** refined geometry at the start of this round (constraint operations, filter reference cell); null before the round starts */
  roundStart: { lattice: number[]; positions: number[] } | null;
  /** current geometry: lattice rows flattened (9) and Cartesian positions flattened (3N), Å */
  lattice: number[];
  positions: number[];
  fire: FireState;
  spaceGroupBefore: SpaceGroupRef;
}

export interface RelaxResult {
  verdict: RelaxVerdict;
  /** why it is not converged: 'max_rounds' | 'final_check' | 'explode_force' | 'non_finite' | 'cell_step_too_large' */
  reason: string | null;
  protocol: { name: string; version: string; sha256: string };
  potential: PotentialIdentity;
  /** precision of the model along the FIRE trajectory (the final test and energy use `potential`) */
  trajectoryPrecision: 'float32' | 'float64';
  steps: { total: number; perRound: number[] };
  /** max generalized force (eV/Å) of the test that decided the verdict */
  maxForce: number;
  /** max |f_i| of the plain atomic forces of the final structure, eV/Å */
  maxAtomForce: number;
  energy: number;
  energyPerAtom: number;
  /** E + pV when an external pressure is set */
  enthalpy: number;
  /** final stress, eV/Å³ (ASE sign), as the potential gives it */
  stress: Mat3;
  spaceGroupBefore: SpaceGroupRef;
  spaceGroupAfter: SpaceGroupRef | null;
  structure: Structure;
}

export interface RelaxOptions {
  resumeFrom?: RelaxState;
  onCheckpoint?: (state: RelaxState) => void | Promise<void>;
  /** checkpoint every this many FIRE steps (0 / undefined: never) */
  checkpointEvery?: number;
  /**
   * The same model in the protocol's `trajectoryPrecision` (core/potential resolveTrajectoryPotential):
   * it evaluates every FIRE step; `potential` evaluates the final acceptance test and the
   * reported energy, forces and stress. Absent: `potential` does everything.
   */
  trajectoryPotential?: Potential;
}

function canonicalJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(',')}]`;
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    // absent and undefined fields hash alike (as JSON.stringify drops undefined)
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(x);
}

export function protocolSha256(p: Readonly<RelaxProtocol>): string {
  return createHash('sha256').update(canonicalJson(p)).digest('hex');
}

function mat3(a: readonly number[]): Mat3 {
  return [
    [a[0]!, a[1]!, a[2]!],
    [a[3]!, a[4]!, a[5]!],
    [a[6]!, a[7]!, a[8]!],
  ];
}

function toStructure(frame: Frame, template: Structure): Structure {
  return withGeometry(template, frame.lattice, fracOf(frame.lattice, frame.cart));
}

function spaceGroupOf(frame: Frame, symprec: number, template: Structure): SpaceGroupRef {
  return spaceGroupRef(getSymmetry(toStructure(frame, template), symprec));
}

function spaceGroupRef(info: Pick<SymmetryInfo, 'number' | 'symbol' | 'operations'>): SpaceGroupRef {
  return { number: info.number, symbol: info.symbol, operations: info.operations.length };
}

function checkProtocol(p: Readonly<RelaxProtocol>): void {
  const pos = (name: string, v: number) => {
    if (!(Number.isFinite(v) && v > 0)) throw new UsageError(`protocol ${p.name}: ${name} must be positive, got ${v}`);
  };
  pos('symprec', p.symprec);
  pos('maxCellStep', p.maxCellStep);
  pos('roundFmax', p.roundFmax);
  pos('explodeForce', p.explodeForce);
  if (p.finalFmax !== null) pos('finalFmax', p.finalFmax);
  if (!(Number.isInteger(p.maxRounds) && p.maxRounds >= 1)) throw new UsageError(`protocol ${p.name}: maxRounds must be a positive integer`);
  if (!(Number.isInteger(p.stepsPerRound) && p.stepsPerRound >= 0)) throw new UsageError(`protocol ${p.name}: stepsPerRound must be a non-negative integer`);
  if (!Number.isFinite(p.pressure)) throw new UsageError(`protocol ${p.name}: pressure must be finite`);
  if (p.cellMask && p.cellMask.length !== 6) throw new UsageError(`protocol ${p.name}: cellMask needs 6 Voigt entries`);
  const tp = p.trajectoryPrecision;
  if (tp !== undefined && tp !== null && tp !== 'float32' && tp !== 'float64')
    throw new UsageError(`protocol ${p.name}: trajectoryPrecision must be float32, float64 or null, got ${String(tp)}`);
}

/** The trajectory potential must be the same model as the deciding one, in the precision the protocol asks. */
function checkTrajectoryPotential(protocol: Readonly<RelaxProtocol>, potential: Potential, trajectory: Potential): void {
  const a = potential.identity;
  const b = trajectory.identity;
  if (a.model !== b.model || a.checkpointSha256 !== b.checkpointSha256)
    throw new UsageError(`trajectory potential ${b.model} (${b.checkpointSha256.slice(0, 12)}) is not the model ${a.model} (${a.checkpointSha256.slice(0, 12)})`);
  const want = protocol.trajectoryPrecision;
  if (want && b.precision !== want)
    throw new UsageError(`protocol ${protocol.name} asks for a ${want} trajectory; the trajectory potential is ${b.precision}`);
}

function checkStructure(s: Structure): void {
  const n = s.numbers.length;
  if (n === 0) throw new StructureError('empty_structure', 'structure has no atoms');
  for (const row of s.lattice) for (const x of row) if (!Number.isFinite(x)) throw new StructureError('non_finite', 'lattice has a non-finite number');
  for (const p of s.frac) for (const x of p) if (!Number.isFinite(x)) throw new StructureError('non_finite', 'position has a non-finite number');
  const V = Math.abs(det3(s.lattice));
  if (!(V > 1e-6)) throw new StructureError('bad_volume', `cell volume ${V} Å³ is not positive`);
}

/** A deep copy through JSON (what a heartbeat would carry). */
function snapshot(state: RelaxState): RelaxState {
  return JSON.parse(JSON.stringify(state)) as RelaxState;
}

interface Stage {
  target: RelaxTarget;
  /** the space group the constraint holds (null without fixSymmetry) */
  spaceGroup: SpaceGroupRef | null;
}

function buildStage(protocol: Readonly<RelaxProtocol>, start: Frame, numbers: readonly number[]): Stage {
  const constraint = protocol.fixSymmetry ? prepareSymmetry(start.lattice, start.cart, numbers, protocol.symprec) : null;
  const target: RelaxTarget = protocol.relaxCell
    ? new FrechetCellFilter({
        constraint,
        maxCellStep: protocol.maxCellStep,
        origLattice: start.lattice,
        expCellFactor: protocol.expCellFactor ?? numbers.length,
        pressure: protocol.pressure,
        mask: protocol.cellMask,
      })
    : new AtomsTarget({ constraint, maxCellStep: protocol.maxCellStep });
  return { target, spaceGroup: constraint ? { number: constraint.spaceGroupNumber, symbol: constraint.spaceGroupSymbol, operations: constraint.rotations.length } : null };
}

function refineFrame(protocol: Readonly<RelaxProtocol>, frame: Frame, numbers: readonly number[], known?: SymmetryInfo): Frame {
  if (!protocol.fixSymmetry) return { lattice: frame.lattice, cart: Float64Array.from(frame.cart) };
  const r = refineGeometry(frame.lattice, frame.cart, numbers, protocol.symprec, known);
  return { lattice: r.lattice, cart: r.cart };
}

/**
 * Relax `structure` with `potential` under `protocol`. Input errors (bad structure, bad
 * protocol, mismatched resume state) throw SoftmodeInputError; failures of the relaxation
 * itself are verdicts.
 */
export async function relax(
  structure: Structure,
  potential: Potential,
  protocol: Readonly<RelaxProtocol>,
  options: RelaxOptions = {},
): Promise<RelaxResult> {
  checkProtocol(protocol);
  checkStructure(structure);
  const trajectory = options.trajectoryPotential ?? potential;
  if (options.trajectoryPotential) checkTrajectoryPotential(protocol, potential, options.trajectoryPotential);
  const numbers = [...structure.numbers];
  const n = numbers.length;
  const protoRef = { name: protocol.name, version: protocol.version, sha256: protocolSha256(protocol) };
  const every = options.checkpointEvery ?? 0;
  if (!(Number.isInteger(every) && every >= 0)) throw new UsageError('checkpointEvery must be a non-negative integer');

  let state: RelaxState;
  /** symmetry of the input geometry (a fresh run), handed to the first refinement */
  let inputSymmetry: SymmetryInfo | undefined;
  if (options.resumeFrom) {
    state = snapshot(options.resumeFrom);
    if (state.format !== RELAX_STATE_FORMAT) throw new UsageError(`unknown relax state format '${String(state.format)}'`);
    if (state.protocol.sha256 !== protoRef.sha256)
      throw new UsageError(`resume state was made with protocol ${state.protocol.name}/${state.protocol.version} (different parameters)`);
    if (state.potential.checkpointSha256 !== potential.identity.checkpointSha256 || state.potential.model !== potential.identity.model)
      throw new UsageError(`resume state was made with model ${state.potential.model}, not ${potential.identity.model}`);
    if (state.numbers.length !== n || state.numbers.some((z, i) => z !== numbers[i]))
      throw new UsageError('resume state is for a different structure (atomic numbers differ)');
    if (state.positions.length !== 3 * n || state.lattice.length !== 9) throw new UsageError('resume state has wrong array sizes');
  } else {
    const frame0: Frame = { lattice: structure.lattice.map((r) => [...r]) as Mat3, cart: cartOf(structure.lattice as Mat3, structure.frac as [number, number, number][]) };
    // the first round refines exactly this geometry: its symmetry is searched once for both
    inputSymmetry = getSymmetry(toStructure(frame0, structure), protocol.symprec);
    state = {
      format: RELAX_STATE_FORMAT,
      protocol: protoRef,
      potential: { model: potential.identity.model, checkpointSha256: potential.identity.checkpointSha256 },
      numbers,
      round: 0,
      roundStep: 0,
      totalSteps: 0,
      stepsPerRound: [],
      roundStart: null,
      lattice: frame0.lattice.flat(),
      positions: Array.from(frame0.cart),
      fire: initialFireState(protocol.fire),
      spaceGroupBefore: spaceGroupRef(inputSymmetry),
    };
  }

  const evaluateWith = async (pot: Potential, frame: Frame): Promise<Evaluation> => {
    const [r] = await pot.evaluate([toStructure(frame, structure)]);
    if (!r) throw new Error(`potential ${pot.identity.model} returned no result`);
    const forces = new Float64Array(3 * n);
    r.forces.forEach((f, i) => {
      forces[3 * i] = f[0];
      forces[3 * i + 1] = f[1];
      forces[3 * i + 2] = f[2];
    });
    return { energy: r.energy, forces, stress: r.stress };
  };
  // FIRE steps on the trajectory potential; the acceptance test and the reported result on `potential`
  const evaluate = (frame: Frame) => evaluateWith(trajectory, frame);
  const evaluateFinal = (frame: Frame) => evaluateWith(potential, frame);

  let frame: Frame = { lattice: mat3(state.lattice), cart: Float64Array.from(state.positions) };
  let failure: { verdict: RelaxVerdict; reason: string } | null = null;
  let lastMax = NaN;
  let roundConverged = false;

  rounds: while (state.round < protocol.maxRounds) {
    if (state.roundStart === null) {
      frame = refineFrame(protocol, frame, numbers, inputSymmetry);
      inputSymmetry = undefined;
      state.roundStart = { lattice: frame.lattice.flat(), positions: Array.from(frame.cart) };
      state.lattice = frame.lattice.flat();
      state.positions = Array.from(frame.cart);
      state.roundStep = 0;
      state.fire = initialFireState(protocol.fire);
      state.stepsPerRound.push(0);
    }
    const start: Frame = { lattice: mat3(state.roundStart.lattice), cart: Float64Array.from(state.roundStart.positions) };
    const { target } = buildStage(protocol, start, numbers);
    for (;;) {
      const ev = await evaluate(frame);
      const gf = target.forces(frame, ev);
      lastMax = maxRowNorm(gf);
      if (!Number.isFinite(lastMax) || !Number.isFinite(ev.energy)) {
        failure = { verdict: 'exploded', reason: 'non_finite' };
        break rounds;
      }
      if (lastMax > protocol.explodeForce) {
        failure = { verdict: 'exploded', reason: 'explode_force' };
        break rounds;
      }
      if (lastMax < protocol.roundFmax) {
        roundConverged = true;
        break;
      }
      if (state.roundStep >= protocol.stepsPerRound) break;
      const x = target.positions(frame);
      const dr = fireStep(state.fire, gf, protocol.fire);
      for (let i = 0; i < x.length; i++) x[i] = x[i]! + dr[i]!;
      try {
        frame = target.setPositions(frame, x);
      } catch (e) {
        if (e instanceof CellStepTooLargeError) {
          failure = { verdict: 'exploded', reason: 'cell_step_too_large' };
          break rounds;
        }
        throw e;
      }
      state.roundStep += 1;
      state.totalSteps += 1;
      state.stepsPerRound[state.round] = (state.stepsPerRound[state.round] ?? 0) + 1;
      state.lattice = frame.lattice.flat();
      state.positions = Array.from(frame.cart);
      if (every > 0 && options.onCheckpoint && state.totalSteps % every === 0) await options.onCheckpoint(snapshot(state));
    }
    state.round += 1;
    state.roundStart = null;
    if (roundConverged) break;
  }

  // Final acceptance on a fresh constraint and filter (refining once more, as the reference does).
  let decidingMax = lastMax;
  let finalEv: Evaluation | null = null;
  let finalSpaceGroup: SpaceGroupRef | null = null;
  if (!failure) {
    if (protocol.finalFmax !== null) {
      frame = refineFrame(protocol, frame, numbers);
      const { target, spaceGroup } = buildStage(protocol, frame, numbers);
      // the constraint was built on this (final) geometry: its group is the one reported after
      finalSpaceGroup = spaceGroup;
      finalEv = await evaluateFinal(frame);
      decidingMax = maxRowNorm(target.forces(frame, finalEv));
      // the reference rejects fmax² > finalFmax², i.e. accepts max ≤ finalFmax
      if (!(decidingMax <= protocol.finalFmax)) failure = { verdict: 'not_converged', reason: 'final_check' };
    } else if (!roundConverged) {
      failure = { verdict: 'not_converged', reason: 'max_rounds' };
    }
  }
  if (!finalEv) finalEv = await evaluateFinal(frame);

  const finalStructure = toStructure(frame, structure);
  let spaceGroupAfter: SpaceGroupRef | null = null;
  try {
    spaceGroupAfter = finalSpaceGroup ?? spaceGroupOf(frame, protocol.symprec, structure);
  } catch (e) {
    if (!(e instanceof SoftmodeInputError)) throw e;
  }
  let verdict: RelaxVerdict = failure?.verdict ?? 'converged';
  let reason = failure?.reason ?? null;
  if (verdict === 'converged') {
    const before = state.spaceGroupBefore;
    const lost =
      !spaceGroupAfter ||
      spaceGroupAfter.operations < before.operations ||
      (spaceGroupAfter.operations === before.operations && spaceGroupAfter.number !== before.number);
    if (lost) {
      verdict = 'symmetry_lost';
      reason = 'space_group_lowered';
    }
  }
  let maxAtomForce = 0;
  for (let i = 0; i < n; i++) {
    const f = finalEv.forces;
    maxAtomForce = Math.max(maxAtomForce, Math.hypot(f[3 * i]!, f[3 * i + 1]!, f[3 * i + 2]!));
  }
  const V = Math.abs(det3(frame.lattice));
  return {
    verdict,
    reason,
    protocol: protoRef,
    potential: potential.identity,
    trajectoryPrecision: trajectory.identity.precision,
    steps: { total: state.totalSteps, perRound: [...state.stepsPerRound] },
    maxForce: decidingMax,
    maxAtomForce,
    energy: finalEv.energy,
    energyPerAtom: finalEv.energy / n,
    enthalpy: finalEv.energy + protocol.pressure * V,
    stress: finalEv.stress,
    spaceGroupBefore: state.spaceGroupBefore,
    spaceGroupAfter,
    structure: finalStructure,
  };
}
