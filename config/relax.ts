// Relaxation parameters: FIRE (ASE optimize/fire.py defaults), the cell filter, the symmetry
// constraint and the named protocols. physics.md §7.

export const RELAX_CONFIG_VERSION = 'relax-2'; // 2: phononbench runs its FIRE trajectory with the float32 graph

export interface FireParams {
  /** initial time step */
  dt: number;
  /** largest allowed global norm of one step dr (over all generalized coordinates) */
  maxstep: number;
  dtmax: number;
  /** number of P > 0 steps before dt may grow */
  Nmin: number;
  finc: number;
  fdec: number;
  /** mixing parameter after a reset */
  astart: number;
  fa: number;
  /** initial mixing parameter */
  a: number;
}

export const FIRE_DEFAULTS: Readonly<FireParams> = Object.freeze({
  dt: 0.1,
  maxstep: 0.2,
  dtmax: 1.0,
  Nmin: 5,
  finc: 1.1,
  fdec: 0.5,
  astart: 0.1,
  fa: 0.99,
  a: 0.1,
});

export interface RelaxProtocol {
  /** protocol name and version, recorded with every result */
  name: string;
  version: string;
  /** relax the cell with the Fréchet cell filter (false: positions only, fixed cell) */
  relaxCell: boolean;
  /** fresh FixSymmetry each round (refine at its start, symmetrize everything) */
  fixSymmetry: boolean;
  /** FixSymmetry / refinement tolerance, Å */
  symprec: number;
  /** largest accepted |ΔF| element of one cell step under FixSymmetry (ASE refuses larger) */
  maxCellStep: number;
  /** optimizer rounds; each starts a fresh constraint, filter and FIRE */
  maxRounds: number;
  /** FIRE steps per round */
  stepsPerRound: number;
  /** force convergence of each round, eV/Å (max row norm of generalized forces) */
  roundFmax: number;
  /**
   * Final acceptance on a fresh constraint + filter, eV/Å: converged iff max generalized force
   * ≤ finalFmax (the Loew/PhononBench script rejects fmax² > finalFmax²). null: the last round's
   * own convergence decides.
   */
  finalFmax: number | null;
  /** any generalized force row above this (eV/Å) aborts as exploded */
  explodeForce: number;
  /** external pressure, eV/Å³ (enthalpy E + pV is minimised) */
  pressure: number;
  /** which cell components relax (Voigt xx yy zz yz xz xy); null = all */
  cellMask: readonly [boolean, boolean, boolean, boolean, boolean, boolean] | null;
  /** exp_cell_factor of the filter; null = number of atoms (ASE default) */
  expCellFactor: number | null;
  fire: Readonly<FireParams>;
  /**
   * Precision of the ML model along the FIRE trajectory. The final acceptance test (finalFmax),
   * and the energy, forces and stress reported for the relaxed structure, always use the model's
   * configured precision (config/potential.ts: float64), so a stored energy never comes from the
   * float32 graph. A protocol without a final test (finalFmax null) is decided by its last
   * round's convergence, i.e. in this precision. Absent or null: the configured precision
   * throughout. Potentials with a single precision (the classical pair potentials) ignore it.
   */
  trajectoryPrecision?: 'float32' | 'float64' | null;
}

/**
 * PhononBench / Loew et al.: 15 × (FixSymmetry + FrechetCellFilter + FIRE 500 steps at 0.0025),
 * accept at 0.005. The trajectory runs in float32, as the reference's PyTorch model does; the
 * acceptance test in float64. On 50 MatterGen structures this changed none of 200 labels
 * (4 presets) against float64 throughout and halved the relaxation time
 * (bench/results/reference-e2e.json, `float64_relax_one_process`; docs/accuracy.md §3).
 */
export const PHONONBENCH_PROTOCOL: Readonly<RelaxProtocol> = Object.freeze({
  name: 'phononbench',
  version: 'relax-2',
  relaxCell: true,
  fixSymmetry: true,
  symprec: 0.01,
  maxCellStep: 0.25,
  maxRounds: 15,
  stepsPerRound: 500,
  roundFmax: 0.0025,
  finalFmax: 0.005,
  explodeForce: 1e4,
  pressure: 0,
  cellMask: null,
  expCellFactor: null,
  fire: FIRE_DEFAULTS,
  trajectoryPrecision: 'float32',
});

/**
 * MatterSim's Relaxer defaults: FIRE, fixed cell, FixSymmetry, fmax 0.01, 500 steps. Its
 * trajectory stays in the configured precision: the float32 trajectory was measured only under
 * the phononbench protocol.
 */
export const MATTERSIM_PROTOCOL: Readonly<RelaxProtocol> = Object.freeze({
  name: 'mattersim',
  version: 'relax-1',
  relaxCell: false,
  fixSymmetry: true,
  symprec: 0.01,
  maxCellStep: 0.25,
  maxRounds: 1,
  stepsPerRound: 500,
  roundFmax: 0.01,
  finalFmax: null,
  explodeForce: 1e4,
  pressure: 0,
  cellMask: null,
  expCellFactor: null,
  fire: FIRE_DEFAULTS,
});

export const RELAX_PROTOCOLS: Readonly<Record<string, Readonly<RelaxProtocol>>> = Object.freeze({
  phononbench: PHONONBENCH_PROTOCOL,
  mattersim: MATTERSIM_PROTOCOL,
});

/** A custom protocol: a named base with some fields replaced. */
export function customProtocol(
  overrides: Partial<Omit<RelaxProtocol, 'fire'>> & { fire?: Partial<FireParams> },
  base: Readonly<RelaxProtocol> = PHONONBENCH_PROTOCOL,
): Readonly<RelaxProtocol> {
  const { fire, ...rest } = overrides;
  return Object.freeze({
    ...base,
    name: 'custom',
    ...rest,
    fire: Object.freeze({ ...base.fire, ...(fire ?? {}) }),
  });
}

/**
 * The same protocol (name and version kept) with another trajectory precision; the protocol's
 * sha256, recorded with every relaxation, tells the two apart.
 */
export function withTrajectoryPrecision(protocol: Readonly<RelaxProtocol>, precision: 'float32' | 'float64'): Readonly<RelaxProtocol> {
  return Object.freeze({ ...protocol, trajectoryPrecision: precision });
}
