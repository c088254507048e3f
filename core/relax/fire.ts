// FIRE with ASE's update rules (ase/optimize/fire.py, physics.md §7), over a flat vector of
// generalized coordinates. Masses are ignored, as in ASE. The whole optimizer state is the
// plain object FireState, so it can be saved and resumed exactly.
import type { FireParams } from '../../config/relax.js';

export interface FireState {
  /** velocities; null before the first step (ASE's `v is None`) */
  v: number[] | null;
  dt: number;
  a: number;
  /** consecutive P > 0 steps (ASE's Nsteps) */
  Nsteps: number;
}

export function initialFireState(p: Readonly<FireParams>): FireState {
  return { v: null, dt: p.dt, a: p.a, Nsteps: 0 };
}

function vdot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

/**
 * One FIRE step: given the current generalized positions r and forces f, update `state` in
 * place and return the step dr (r_new = r + dr).
 */
export function fireStep(state: FireState, f: ArrayLike<number>, p: Readonly<FireParams>): Float64Array {
  const n = f.length;
  let v: Float64Array;
  if (state.v === null) {
    v = new Float64Array(n);
  } else {
    if (state.v.length !== n) throw new RangeError(`FIRE velocity has ${state.v.length} entries, forces ${n}`);
    v = Float64Array.from(state.v);
    const P = vdot(f, v);
    if (P > 0) {
      const fn = Math.sqrt(vdot(f, f));
      const vn = Math.sqrt(vdot(v, v));
      const a = state.a;
      for (let i = 0; i < n; i++) v[i] = (1 - a) * v[i]! + ((a * f[i]!) / fn) * vn;
      if (state.Nsteps > p.Nmin) {
        state.dt = Math.min(state.dt * p.finc, p.dtmax);
        state.a *= p.fa;
      }
      state.Nsteps += 1;
    } else {
      v.fill(0);
      state.a = p.astart;
      state.dt *= p.fdec;
      state.Nsteps = 0;
    }
  }
  const dt = state.dt;
  for (let i = 0; i < n; i++) v[i] = v[i]! + dt * f[i]!;
  const dr = new Float64Array(n);
  for (let i = 0; i < n; i++) dr[i] = dt * v[i]!;
  const norm = Math.sqrt(vdot(dr, dr));
  if (norm > p.maxstep) {
    for (let i = 0; i < n; i++) dr[i] = (p.maxstep * dr[i]!) / norm;
  }
  state.v = Array.from(v);
  return dr;
}

/** ASE's convergence test: max over rows of 3 of the row norm < fmax. */
export function maxRowNorm(f: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i + 2 < f.length; i += 3) {
    const s = f[i]! * f[i]! + f[i + 1]! * f[i + 1]! + f[i + 2]! * f[i + 2]!;
    if (s > m || Number.isNaN(s)) m = s;
  }
  return Math.sqrt(m);
}
