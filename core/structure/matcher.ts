// Structure matcher for near-duplicates, following the algorithm and defaults of pymatgen's
// StructureMatcher (ltol 0.2, stol 0.3, angle_tol 5°, primitive_cell, scale,
// attempt_supercell = False, element comparison). Our own implementation:
//   1. both structures → primitive cell (moyo) → Niggli cell; different atom counts ⇒ no match;
//   2. scale both lattices to the geometric-mean volume;
//   3. every basis of lattice 1 made of lattice vectors whose lengths are within ltol and
//      whose angles are within angle_tol of lattice 2's (integer, |det| = 1) is tried;
//   4. for each, structure 1 is expressed in that basis; an atom of the rarest species of
//      structure 2 is put onto each atom of that species of structure 1 (translation), a cheap
//      fractional-tolerance test screens the translation, and the survivors get an optimal
//      assignment (Hungarian) of Cartesian shortest distances on the averaged lattice, with
//      the mean displacement removed;
//   5. distances are normalised by the free length per atom (V/N)^(1/3); fit ⇔ max ≤ stol.
import { STRUCTURE_DEFAULTS, type StructureMatcherConfig } from '../../config/structure.js';
import { SoftmodeInputError, StructureError, UsageError } from '../errors.js';
import { type Mat3, det3, inv3, norm3 } from '../math/linalg.js';
import { perpendicularWidths } from '../neighbours/index.js';
import { primitiveCell } from '../symmetry/index.js';
import { reducedFormula } from './hash.js';
import { niggliReduce } from './niggli.js';
import type { Structure } from './structure.js';

/** A structure reduced for matching: primitive, Niggli-reduced, positions wrapped. */
export interface ReducedStructure {
  lattice: Mat3;
  frac: [number, number, number][];
  numbers: number[];
  formula: string;
}

export interface MatchResult {
  /** RMS of the normalised site displacements (pymatgen get_rms_dist's first value) */
  rms: number;
  /** largest normalised site displacement */
  maxDist: number;
  /** integer matrix expressing the matched basis in lattice 1: aligned = scale · L1 */
  scaleMatrix: Mat3;
  /** mapping[i] = atom of reduced structure 1 matched to atom i of reduced structure 2 */
  mapping: number[];
}

const DEG = 180 / Math.PI;

function wrap(x: number): number {
  const w = x - Math.floor(x);
  return w >= 1 ? 0 : w;
}

function lengths(L: readonly (readonly number[])[]): [number, number, number] {
  return [norm3(L[0]!), norm3(L[1]!), norm3(L[2]!)];
}

function angleDeg(u: readonly number[], v: readonly number[], lu: number, lv: number): number {
  const c = (u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!) / (lu * lv);
  return Math.acos(Math.max(-1, Math.min(1, c))) * DEG;
}

/** Lattice (rows) from a, b, c, α, β, γ (degrees); orientation is irrelevant for distances. */
export function latticeFromParameters(a: number, b: number, c: number, alpha: number, beta: number, gamma: number): Mat3 {
  const ca = Math.cos(alpha / DEG), cb = Math.cos(beta / DEG), cg = Math.cos(gamma / DEG), sg = Math.sin(gamma / DEG);
  const cx = c * cb;
  const cy = (c * (ca - cb * cg)) / sg;
  const cz = Math.sqrt(Math.max(0, c * c - cx * cx - cy * cy));
  return [
    [a, 0, 0],
    [b * cg, b * sg, 0],
    [cx, cy, cz],
  ];
}

function parameters(L: readonly (readonly number[])[]): [number, number, number, number, number, number] {
  const [a, b, c] = lengths(L);
  return [a, b, c, angleDeg(L[1]!, L[2]!, b, c), angleDeg(L[0]!, L[2]!, a, c), angleDeg(L[0]!, L[1]!, a, b)];
}

/**
 * Minimum-cost perfect assignment on an n×n cost matrix (Hungarian / Kuhn–Munkres with
 * potentials, O(n³)). Returns col[i] for each row i.
 */
export function linearAssignment(cost: readonly (readonly number[])[]): number[] {
  const n = cost.length;
  const INF = Infinity;
  const u = new Float64Array(n + 1), v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1), way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(INF);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = INF, j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost[i0 - 1]![j - 1]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]!] = u[p[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else minv[j] = minv[j]! - delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0);
  }
  const col = new Array<number>(n).fill(-1);
  for (let j = 1; j <= n; j++) if (p[j]! > 0) col[p[j]! - 1] = j - 1;
  return col;
}

export class StructureMatcher {
  readonly cfg: StructureMatcherConfig;

  constructor(opts: Partial<StructureMatcherConfig> = {}) {
    this.cfg = { ...STRUCTURE_DEFAULTS.matcher, ...opts };
    for (const k of ['ltol', 'stol', 'angleTol'] as const)
      if (!(Number.isFinite(this.cfg[k]) && this.cfg[k] > 0)) throw new UsageError(`matcher ${k} must be positive`);
  }

  /** Primitive (if configured) and Niggli-reduced form; compute once per structure for many comparisons. */
  reduce(s: Structure): ReducedStructure {
    if (s.numbers.length === 0) throw new StructureError('empty_structure', 'structure has no atoms');
    let cell: Structure = s;
    if (this.cfg.primitiveCell) {
      // a large symprec may be inconsistent for moyo on some noisy inputs: fall back to tighter ones
      for (const sp of [this.cfg.primitiveSymprec, 1e-2, 1e-3]) {
        try {
          cell = primitiveCell(s, sp, { idealize: false }).structure;
          break;
        } catch (e) {
          if (!(e instanceof SoftmodeInputError && e.code === 'symmetry_failed')) throw e;
        }
      }
    }
    const { lattice, transform } = niggliReduce(cell.lattice);
    const Ti = inv3(transform);
    const frac = cell.frac.map((f) => [0, 1, 2].map((k) => wrap(f[0]! * Ti[0]![k]! + f[1]! * Ti[1]![k]! + f[2]! * Ti[2]![k]!)) as [number, number, number]);
    return { lattice, frac, numbers: [...cell.numbers], formula: reducedFormula(cell.numbers) };
  }

  /** pymatgen fit(): true when the structures are the same within the tolerances. */
  fit(a: Structure, b: Structure): boolean {
    if (reducedFormula(a.numbers) !== reducedFormula(b.numbers)) return false;
    return this.fitReduced(this.reduce(a), this.reduce(b));
  }

  fitReduced(a: ReducedStructure, b: ReducedStructure): boolean {
    const m = this.match(a, b, true);
    return m !== null && m.maxDist <= this.cfg.stol;
  }

  /** pymatgen get_rms_dist(): best (lowest RMS) match over all lattice mappings, or null. */
  getRmsDist(a: Structure, b: Structure): { rms: number; maxDist: number } | null {
    if (reducedFormula(a.numbers) !== reducedFormula(b.numbers)) return null;
    const m = this.match(this.reduce(a), this.reduce(b), false);
    return m ? { rms: m.rms, maxDist: m.maxDist } : null;
  }

  /**
   * Core match of two reduced structures. breakOnMatch: stop at the first mapping whose max
   * normalised distance is within stol (fit); otherwise minimise the RMS (get_rms_dist).
   */
  match(r1: ReducedStructure, r2: ReducedStructure, breakOnMatch: boolean): MatchResult | null {
    const { ltol, stol, angleTol } = this.cfg;
    const n = r1.numbers.length;
    if (r1.formula !== r2.formula || n !== r2.numbers.length) return null;
    // species multisets must agree exactly
    const cnt = new Map<number, number>();
    for (const z of r1.numbers) cnt.set(z, (cnt.get(z) ?? 0) + 1);
    for (const z of r2.numbers) cnt.set(z, (cnt.get(z) ?? 0) - 1);
    for (const c of cnt.values()) if (c !== 0) return null;

    // scale both to the same volume (geometric mean)
    let L1 = r1.lattice, L2 = r2.lattice;
    if (this.cfg.scale) {
      const ratio = Math.pow(Math.abs(det3(L2)) / Math.abs(det3(L1)), 1 / 6);
      L1 = L1.map((r) => r.map((x) => x * ratio)) as Mat3;
      L2 = L2.map((r) => r.map((x) => x / ratio)) as Mat3;
    }
    const cart1 = r1.frac.map((f) => [0, 1, 2].map((k) => f[0] * L1[0]![k]! + f[1] * L1[1]![k]! + f[2] * L1[2]![k]!));
    const fc2 = r2.frac;

    // translation anchor: the atom of structure 2 whose species is rarest; candidates in structure 1
    const count2 = new Map<number, number>();
    for (const z of r2.numbers) count2.set(z, (count2.get(z) ?? 0) + 1);
    let anchor = 0;
    for (let i = 1; i < n; i++) if (count2.get(r2.numbers[i]!)! < count2.get(r2.numbers[anchor]!)!) anchor = i;
    const anchorTargets = r1.numbers.map((z, j) => (z === r2.numbers[anchor] ? j : -1)).filter((j) => j >= 0);

    let best: MatchResult | null = null;
    for (const { aligned, scale } of latticeMappings(L1, L2, ltol, angleTol)) {
      const Ai = inv3(aligned);
      const fc1 = cart1.map((c) => [0, 1, 2].map((k) => wrap(c[0]! * Ai[0]![k]! + c[1]! * Ai[1]![k]! + c[2]! * Ai[2]![k]!)));
      const pa = parameters(aligned), pb = parameters(L2);
      const avg = latticeFromParameters(...(pa.map((x, i) => (x + pb[i]!) / 2) as [number, number, number, number, number, number]));
      const Vavg = Math.abs(det3(avg));
      const normalization = Math.cbrt(n / Vavg);
      // fractional tolerance per axis: 2·stol·(V/N)^(1/3)/d_k, d_k the interplanar spacing
      const widths = perpendicularWidths(avg);
      const fracTol = widths.map((d) => (2 * stol) / (normalization * d));
      for (const s1i of anchorTargets) {
        const t = [0, 1, 2].map((k) => fc1[s1i]![k]! - fc2[anchor]![k]!);
        const t2 = fc2.map((f) => [f[0] + t[0]!, f[1] + t[1]!, f[2] + t[2]!]);
        if (!isSubsetPbc(t2, r2.numbers, fc1, r1.numbers, fracTol)) continue;
        const res = cartesianDistances(fc1, r1.numbers, t2, r2.numbers, avg, normalization);
        if (!res) continue;
        const val = breakOnMatch ? res.maxDist : res.rms;
        if (best === null || val < (breakOnMatch ? best.maxDist : best.rms)) {
          best = { rms: res.rms, maxDist: res.maxDist, scaleMatrix: scale, mapping: res.mapping };
          if ((breakOnMatch || val < 1e-5) && val < stol) return best;
        }
      }
    }
    if (best && (breakOnMatch ? best.maxDist : best.rms) < stol) return best;
    return null;
  }
}

/**
 * Bases of lattice L1 (rows = integer combinations of L1's rows, |det| = 1) whose lengths are
 * within ltol (ratio in (1/(1+ltol), 1+ltol)) and angles within angleTol degrees of L2's.
 */
export function latticeMappings(L1: Mat3, L2: Mat3, ltol: number, angleTol: number): { aligned: Mat3; scale: Mat3 }[] {
  const len2 = lengths(L2);
  const ang2 = [angleDeg(L2[1], L2[2], len2[1], len2[2]), angleDeg(L2[0], L2[2], len2[0], len2[2]), angleDeg(L2[0], L2[1], len2[0], len2[1])];
  const rmax = Math.max(...len2) * (1 + ltol);
  const w = perpendicularWidths(L1);
  const nmax = w.map((d) => Math.ceil(rmax / d)) as [number, number, number];
  const pts: { f: [number, number, number]; c: [number, number, number]; l: number }[] = [];
  for (let i = -nmax[0]; i <= nmax[0]; i++)
    for (let j = -nmax[1]; j <= nmax[1]; j++)
      for (let k = -nmax[2]; k <= nmax[2]; k++) {
        const c: [number, number, number] = [0, 1, 2].map((q) => i * L1[0][q]! + j * L1[1][q]! + k * L1[2][q]!) as [number, number, number];
        const l = norm3(c);
        if (l > 0 && l <= rmax) pts.push({ f: [i, j, k], c, l });
      }
  const cand = len2.map((ln) => pts.filter((p) => p.l / ln < 1 + ltol && p.l / ln > 1 / (1 + ltol)));
  const out: { aligned: Mat3; scale: Mat3 }[] = [];
  const [ca, cb, cc] = cand as [typeof pts, typeof pts, typeof pts];
  for (const a of ca)
    for (const b of cb) {
      if (Math.abs(angleDeg(a.c, b.c, a.l, b.l) - ang2[2]!) > angleTol) continue;
      for (const c of cc) {
        if (Math.abs(angleDeg(b.c, c.c, b.l, c.l) - ang2[0]!) > angleTol) continue;
        if (Math.abs(angleDeg(a.c, c.c, a.l, c.l) - ang2[1]!) > angleTol) continue;
        const scale: Mat3 = [a.f, b.f, c.f];
        if (Math.abs(Math.abs(det3(scale)) - 1) >= 0.5) continue;
        out.push({ aligned: [a.c, b.c, c.c], scale });
      }
    }
  return out;
}

/** Every atom of `sub` (fractional) lies within fracTol (per axis, modulo 1) of a same-species atom of `sup`. */
function isSubsetPbc(sub: number[][], subZ: readonly number[], sup: number[][], supZ: readonly number[], fracTol: number[]): boolean {
  for (let i = 0; i < sub.length; i++) {
    const x = sub[i]!;
    let found = false;
    for (let j = 0; j < sup.length && !found; j++) {
      if (supZ[j] !== subZ[i]) continue;
      const y = sup[j]!;
      let ok = true;
      for (let k = 0; k < 3 && ok; k++) {
        const d = x[k]! - y[k]!;
        if (Math.abs(d - Math.round(d)) >= fracTol[k]!) ok = false;
      }
      found = ok;
    }
    if (!found) return false;
  }
  return true;
}

/**
 * Optimal assignment of `s2` atoms to same-species `s1` atoms by shortest periodic Cartesian
 * distance on lattice `L`, then the mean displacement (a rigid translation) is removed.
 * Distances are multiplied by `normalization` = (N/V)^(1/3).
 */
function cartesianDistances(
  s1: number[][],
  z1: readonly number[],
  s2: number[][],
  z2: readonly number[],
  L: Mat3,
  normalization: number,
): { rms: number; maxDist: number; mapping: number[] } | null {
  const n = s2.length;
  const { lattice: R, transform: T } = niggliReduce(L);
  const Ti = inv3(T);
  const BIG = 1e20;
  const vecs: Float64Array[] = [];
  const cost: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row: number[] = new Array<number>(n);
    const vrow = new Float64Array(3 * n);
    for (let j = 0; j < n; j++) {
      if (z1[j] !== z2[i]) {
        row[j] = BIG;
        continue;
      }
      const d = [0, 1, 2].map((k) => s1[j]![k]! - s2[i]![k]!);
      // into the reduced basis, nearest image among the 27 neighbours
      const dr = [0, 1, 2].map((k) => {
        const x = d[0]! * Ti[0]![k]! + d[1]! * Ti[1]![k]! + d[2]! * Ti[2]![k]!;
        return x - Math.round(x);
      });
      let bestD = Infinity, bx = 0, by = 0, bz = 0;
      for (let a = -1; a <= 1; a++)
        for (let b = -1; b <= 1; b++)
          for (let c = -1; c <= 1; c++) {
            const f0 = dr[0]! + a, f1 = dr[1]! + b, f2 = dr[2]! + c;
            const x = f0 * R[0][0] + f1 * R[1][0] + f2 * R[2][0];
            const y = f0 * R[0][1] + f1 * R[1][1] + f2 * R[2][1];
            const z = f0 * R[0][2] + f1 * R[1][2] + f2 * R[2][2];
            const dd = x * x + y * y + z * z;
            if (dd < bestD) [bestD, bx, by, bz] = [dd, x, y, z];
          }
      row[j] = bestD;
      vrow[3 * j] = bx;
      vrow[3 * j + 1] = by;
      vrow[3 * j + 2] = bz;
    }
    cost.push(row);
    vecs.push(vrow);
  }
  const sol = linearAssignment(cost);
  const mean = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    if (cost[i]![sol[i]!]! >= BIG) return null;
    for (let k = 0; k < 3; k++) mean[k]! += vecs[i]![3 * sol[i]! + k]! / n;
  }
  let sum2 = 0, maxD = 0;
  for (let i = 0; i < n; i++) {
    let d2 = 0;
    for (let k = 0; k < 3; k++) d2 += (vecs[i]![3 * sol[i]! + k]! - mean[k]!) ** 2;
    const d = Math.sqrt(d2) * normalization;
    sum2 += d * d;
    maxD = Math.max(maxD, d);
  }
  return { rms: Math.sqrt(sum2 / n), maxDist: maxD, mapping: sol };
}
