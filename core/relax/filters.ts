// What FIRE optimizes: a view of a geometry as generalized coordinates and forces.
//   AtomsTarget          — Cartesian positions, fixed cell (ASE: the Atoms themselves)
//   FrechetCellFilter    — positions in the undeformed cell plus κ·logm(F) (ASE filters.py)
// Both apply the optional symmetry constraint where ASE's Atoms would: to forces and stress
// when read, to cell and position changes when written.
import { type Mat3, det3, inv3, matmul3, transpose3 } from '../math/linalg.js';
import { type SymmetryConstraint, adjustCell, adjustPositions, symmetrizeTensor, symmetrizeVectors } from './fix-symmetry.js';
import { expm, expmFrechet, logm } from './matrix.js';

/** A geometry during relaxation: lattice rows (Å) and Cartesian positions (Å, 3 per atom). */
export interface Frame {
  lattice: Mat3;
  cart: Float64Array;
}

/** Energy, raw forces (3 per atom) and raw stress (ASE sign) of a frame. */
export interface Evaluation {
  energy: number;
  forces: Float64Array;
  stress: Mat3;
}

export interface RelaxTarget {
  /** generalized coordinates (3 per row) */
  positions(frame: Frame): Float64Array;
  /** generalized forces (3 per row), constraint applied */
  forces(frame: Frame, ev: Evaluation): Float64Array;
  /** the frame whose generalized coordinates are x (constraint applied to the change) */
  setPositions(frame: Frame, x: Float64Array): Frame;
}

export interface ConstraintOptions {
  constraint: SymmetryConstraint | null;
  /** largest accepted |ΔF| element of one symmetrized cell step */
  maxCellStep: number;
}

/** Symmetrized copies of forces and stress (identity when unconstrained). */
export function constrainedForcesAndStress(frame: Frame, ev: Evaluation, c: SymmetryConstraint | null): { forces: Float64Array; stress: Mat3 } {
  if (!c) return { forces: ev.forces, stress: ev.stress };
  return { forces: symmetrizeVectors(frame.lattice, ev.forces, c), stress: symmetrizeTensor(frame.lattice, ev.stress, c.rotations) };
}

export class AtomsTarget implements RelaxTarget {
  constructor(private readonly opts: ConstraintOptions) {}
  positions(frame: Frame): Float64Array {
    return Float64Array.from(frame.cart);
  }
  forces(frame: Frame, ev: Evaluation): Float64Array {
    return constrainedForcesAndStress(frame, ev, this.opts.constraint).forces;
  }
  setPositions(frame: Frame, x: Float64Array): Frame {
    const c = this.opts.constraint;
    return { lattice: frame.lattice, cart: c ? adjustPositions(frame.lattice, frame.cart, x, c) : Float64Array.from(x) };
  }
}

function flat(m: Mat3): Float64Array {
  return Float64Array.from([m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2], m[2][0], m[2][1], m[2][2]]);
}
function mat(a: ArrayLike<number>, off = 0): Mat3 {
  return [
    [a[off]!, a[off + 1]!, a[off + 2]!],
    [a[off + 3]!, a[off + 4]!, a[off + 5]!],
    [a[off + 6]!, a[off + 7]!, a[off + 8]!],
  ];
}

/** Row vectors times a 3×3 matrix: out_i = v_i · M. */
function rowsTimes(v: Float64Array, M: Mat3): Float64Array {
  const n = v.length / 3;
  const out = new Float64Array(v.length);
  for (let i = 0; i < n; i++) {
    const x = v[3 * i]!, y = v[3 * i + 1]!, z = v[3 * i + 2]!;
    for (let k = 0; k < 3; k++) out[3 * i + k] = x * M[0]![k]! + y * M[1]![k]! + z * M[2]![k]!;
  }
  return out;
}

export interface FrechetOptions extends ConstraintOptions {
  /** reference cell C₀ (rows): the cell when the filter was created */
  origLattice: Mat3;
  /** κ; ASE default = number of atoms */
  expCellFactor: number;
  /** external pressure, eV/Å³ */
  pressure: number;
  /** Voigt mask (xx yy zz yz xz xy), null = all free */
  mask: readonly boolean[] | null;
}

/**
 * Fréchet cell filter. Deformation gradient F = (C₀⁻¹C)ᵀ (so C = C₀Fᵀ, r = F·X). Generalized
 * coordinates: X_i = F⁻¹r_i and κ·logm(F). Generalized forces: f_i·F, and for the cell
 * (1/κ)·Σ_ab L(logm F, E_μν)_ab (W F⁻ᵀ)_ab with virial W = −V(σ + pI): −∂H/∂(κ logm F) of the
 * enthalpy H = E + pV at fixed X.
 */
export class FrechetCellFilter implements RelaxTarget {
  private readonly maskMatrix: Mat3 | null;
  constructor(private readonly opts: FrechetOptions) {
    const m = opts.mask;
    if (m && m.some((x) => !x)) {
      const v = m.map((x) => (x ? 1 : 0));
      this.maskMatrix = [
        [v[0]!, v[5]!, v[4]!],
        [v[5]!, v[1]!, v[3]!],
        [v[4]!, v[3]!, v[2]!],
      ];
    } else this.maskMatrix = null;
  }

  deformationGradient(frame: Frame): Mat3 {
    return transpose3(matmul3(inv3(this.opts.origLattice), frame.lattice));
  }

  positions(frame: Frame): Float64Array {
    const F = this.deformationGradient(frame);
    const n = frame.cart.length / 3;
    const out = new Float64Array(3 * (n + 3));
    out.set(rowsTimes(frame.cart, transpose3(inv3(F)))); // X_row = r_row·F⁻ᵀ
    const logF = logm(flat(F), 3);
    const k = this.opts.expCellFactor;
    for (let i = 0; i < 9; i++) out[3 * n + i] = logF[i]! * k;
    return out;
  }

  /** Virial −V(σ + pI) with the constraint and mask applied, and the symmetrized atom forces. */
  private virialAndForces(frame: Frame, ev: Evaluation): { virial: Mat3; forces: Float64Array } {
    const { forces, stress } = constrainedForcesAndStress(frame, ev, this.opts.constraint);
    const V = Math.abs(det3(frame.lattice));
    const p = this.opts.pressure;
    const virial: Mat3 = [
      [-V * (stress[0][0] + p), -V * stress[0][1], -V * stress[0][2]],
      [-V * stress[1][0], -V * (stress[1][1] + p), -V * stress[1][2]],
      [-V * stress[2][0], -V * stress[2][1], -V * (stress[2][2] + p)],
    ];
    const mm = this.maskMatrix;
    if (mm) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) virial[i]![j]! *= mm[i]![j]!;
    return { virial, forces };
  }

  forces(frame: Frame, ev: Evaluation): Float64Array {
    const F = this.deformationGradient(frame);
    const { virial, forces } = this.virialAndForces(frame, ev);
    const logF = logm(flat(F), 3);
    const ucf = matmul3(virial, inv3(transpose3(F)));
    const n = frame.cart.length / 3;
    const out = new Float64Array(3 * (n + 3));
    out.set(rowsTimes(forces, F)); // f_row·F
    const k = this.opts.expCellFactor;
    for (let mu = 0; mu < 3; mu++)
      for (let nu = 0; nu < 3; nu++) {
        const dir = new Float64Array(9);
        dir[3 * mu + nu] = 1;
        const d = expmFrechet(logF, dir, 3);
        let s = 0;
        for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) s += d[3 * a + b]! * ucf[a]![b]!;
        out[3 * n + 3 * mu + nu] = s / k;
      }
    return out;
  }

  setPositions(frame: Frame, x: Float64Array): Frame {
    const n = frame.cart.length / 3;
    const k = this.opts.expCellFactor;
    const u = new Float64Array(9);
    for (let i = 0; i < 9; i++) u[i] = x[3 * n + i]! / k;
    const Fnew = mat(expm(u, 3));
    let lattice = matmul3(this.opts.origLattice, transpose3(Fnew));
    const c = this.opts.constraint;
    if (c) lattice = adjustCell(frame.lattice, lattice, c, this.opts.maxCellStep);
    // the cell change carries the atoms along (ASE set_cell(scale_atoms=True))
    const M = matmul3(inv3(frame.lattice), lattice);
    const scaled = rowsTimes(frame.cart, M);
    const proposed = rowsTimes(x.subarray(0, 3 * n), transpose3(Fnew)); // r_row = X_row·Fᵀ
    const cart = c ? adjustPositions(lattice, scaled, proposed, c) : proposed;
    return { lattice, cart };
  }
}
