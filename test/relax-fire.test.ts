// FIRE against an independent loop written here from the rules in physics.md §7 (not from
// core/relax/fire.ts), on quadratics E = ½xᵀAx − bᵀx.
import { describe, expect, it } from 'vitest';
import { FIRE_DEFAULTS } from '../config/relax.js';
import { fireStep, initialFireState, maxRowNorm } from '../core/relax/fire.js';
import { prng } from './relax-fixtures.js';

interface Quadratic {
  A: number[][];
  b: number[];
}

function quadratic(n: number, seed: number, stiffness: number): Quadratic {
  const r = prng(seed);
  // A = QᵀDQ-ish: random symmetric, made diagonally dominant, eigenvalues spread by `stiffness`
  const A = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      const v = 0.3 * r();
      A[i]![j] = v;
      A[j]![i] = v;
    }
  for (let i = 0; i < n; i++) A[i]![i] = 1 + stiffness * (i / (n - 1)) + 0.3 * n;
  const b = Array.from({ length: n }, () => 3 * r());
  return { A, b };
}

function force(q: Quadratic, x: number[]): number[] {
  return q.b.map((bi, i) => bi - q.A[i]!.reduce((s, a, j) => s + a * x[j]!, 0));
}

/** Reference FIRE loop, ASE semantics, returns the trajectory of positions. */
function referenceFire(q: Quadratic, x0: number[], fmax: number, steps: number, maxstep: number): number[][] {
  const dtmax = 1.0, Nmin = 5, finc = 1.1, fdec = 0.5, astart = 0.1, fa = 0.99;
  let dt = 0.1;
  let a = 0.1;
  let Nsteps = 0;
  let v: number[] | null = null;
  let x = [...x0];
  const traj = [[...x]];
  const dot = (p: number[], r: number[]) => p.reduce((s, pi, i) => s + pi * r[i]!, 0);
  for (let step = 0; ; step++) {
    const f = force(q, x);
    let fm2 = 0;
    for (let i = 0; i < f.length; i += 3) fm2 = Math.max(fm2, f[i]! ** 2 + f[i + 1]! ** 2 + f[i + 2]! ** 2);
    if (Math.sqrt(fm2) < fmax || step >= steps) break;
    if (v === null) v = new Array<number>(f.length).fill(0);
    else if (dot(f, v) > 0) {
      const fn = Math.sqrt(dot(f, f));
      const vn = Math.sqrt(dot(v, v));
      v = v.map((vi, i) => (1 - a) * vi + ((a * f[i]!) / fn) * vn);
      if (Nsteps > Nmin) {
        dt = Math.min(dt * finc, dtmax);
        a *= fa;
      }
      Nsteps++;
    } else {
      v = v.map(() => 0);
      a = astart;
      dt *= fdec;
      Nsteps = 0;
    }
    v = v.map((vi, i) => vi + dt * f[i]!);
    let dr = v.map((vi) => dt * vi);
    const nrm = Math.sqrt(dot(dr, dr));
    if (nrm > maxstep) dr = dr.map((d) => (maxstep * d) / nrm);
    x = x.map((xi, i) => xi + dr[i]!);
    traj.push([...x]);
  }
  return traj;
}

function softmodeFire(q: Quadratic, x0: number[], fmax: number, steps: number, maxstep: number): number[][] {
  const params = { ...FIRE_DEFAULTS, maxstep };
  const st = initialFireState(params);
  let x = Float64Array.from(x0);
  const traj = [Array.from(x)];
  for (let step = 0; ; step++) {
    const f = Float64Array.from(force(q, Array.from(x)));
    if (maxRowNorm(f) < fmax || step >= steps) break;
    const dr = fireStep(st, f, params);
    x = x.map((xi, i) => xi + dr[i]!);
    traj.push(Array.from(x));
  }
  return traj;
}

describe('FIRE', () => {
  const cases = [
    { name: 'soft quadratic, steps clipped by maxstep', n: 12, seed: 1, stiffness: 2, maxstep: 0.2 },
    { name: 'stiff quadratic (uphill resets)', n: 15, seed: 2, stiffness: 40, maxstep: 0.2 },
    { name: 'tiny maxstep', n: 9, seed: 5, stiffness: 5, maxstep: 0.01 },
  ];
  for (const c of cases) {
    it(`trajectory equals the independent reference loop to 1e-12: ${c.name}`, () => {
      const q = quadratic(c.n, c.seed, c.stiffness);
      const x0 = Array.from({ length: c.n }, (_, i) => Math.sin(i + c.seed));
      const ref = referenceFire(q, x0, 1e-6, 400, c.maxstep);
      const ours = softmodeFire(q, x0, 1e-6, 400, c.maxstep);
      expect(ours.length).toBe(ref.length);
      expect(ref.length).toBeGreaterThan(20);
      let worst = 0;
      for (let k = 0; k < ref.length; k++) for (let i = 0; i < c.n; i++) worst = Math.max(worst, Math.abs(ours[k]![i]! - ref[k]![i]!));
      expect(worst).toBeLessThan(1e-12);
    });
  }

  it('exercises the reset branch and the maxstep clip', () => {
    const q = quadratic(15, 2, 40);
    const params = FIRE_DEFAULTS;
    const st = initialFireState(params);
    let x = new Float64Array(15).fill(2);
    let resets = 0;
    let clipped = 0;
    for (let k = 0; k < 100; k++) {
      const f = Float64Array.from(force(q, Array.from(x)));
      const before = st.dt;
      const dr = fireStep(st, f, params);
      if (st.dt < before) resets++;
      if (Math.abs(Math.hypot(...dr) - params.maxstep) < 1e-12) clipped++;
      x = x.map((xi, i) => xi + dr[i]!);
    }
    expect(resets).toBeGreaterThan(0);
    expect(clipped).toBeGreaterThan(0);
  });

  it('maxRowNorm is the largest row norm over rows of 3', () => {
    expect(maxRowNorm(Float64Array.from([3, 4, 0, 0, 0, 1]))).toBe(5);
    expect(Number.isNaN(maxRowNorm(Float64Array.from([NaN, 0, 0, 1, 1, 1])))).toBe(true);
  });
});
