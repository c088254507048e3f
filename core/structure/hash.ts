// Canonical content hash of a crystal structure.
//
// Invariant to: atom order, rigid translation, rigid rotation AND reflection of the whole
// crystal (O(3): mirror images hash the same, as pymatgen's StructureMatcher also matches
// them), choice of cell (any supercell or basis of the same crystal, e.g. conventional vs
// primitive), and floating-point noise well below the rounding grid.
//
// Recipe (config STRUCTURE_DEFAULTS.hash):
//   1. primitive cell by moyo at a tight symprec, idealized (symmetrized positions and metric);
//   2. Niggli reduction of that cell (a unique metric);
//   3. canonical choice among the bases with the same Niggli metric (the lattice automorphisms,
//      integer matrices with entries in {−1,0,1}) and among origins on atoms of the rarest
//      species (ties: lowest Z): for each choice the atoms are wrapped to [0,1), rounded to a
//      grid, sorted, and written out; the lexicographically smallest text wins;
//   4. sha256 of version | reduced formula | that text.
//
// Where it can split: a coordinate or cell parameter lying within noise of a rounding
// boundary (10^-fracDecimals fractional, 10^-lengthDecimals Å, 10^-angleDecimals degrees) can
// round either way, and noise larger than the hash symprec can change the primitive cell. Use
// the structure matcher for near-duplicates; the hash is for exact duplicates.
import { createHash } from 'node:crypto';
import { STRUCTURE_DEFAULTS, type StructureHashConfig } from '../../config/structure.js';
import { SoftmodeInputError, StructureError } from '../errors.js';
import { type Mat3, det3, inv3, matmul3, transpose3 } from '../math/linalg.js';
import { primitiveCell } from '../symmetry/index.js';
import { symbolOf } from './elements.js';
import { niggliReduce } from './niggli.js';
import type { Structure } from './structure.js';

/** Reduced formula, elements in alphabetical order of symbols (e.g. "Cl Na" → "ClNa", "O2Ti"). */
export function reducedFormula(numbers: readonly number[]): string {
  const counts = new Map<number, number>();
  for (const z of numbers) counts.set(z, (counts.get(z) ?? 0) + 1);
  if (counts.size === 0) return '';
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let g = 0;
  for (const c of counts.values()) g = gcd(g, c);
  return [...counts.entries()]
    .map(([z, c]) => [symbolOf(z), c / g] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([sym, c]) => (c === 1 ? sym : `${sym}${c}`))
    .join('');
}

/** Chemical formula with element counts of the cell as given (alphabetical). */
export function cellFormula(numbers: readonly number[]): string {
  const counts = new Map<number, number>();
  for (const z of numbers) counts.set(z, (counts.get(z) ?? 0) + 1);
  return [...counts.entries()]
    .map(([z, c]) => [symbolOf(z), c] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([sym, c]) => (c === 1 ? sym : `${sym}${c}`))
    .join('');
}

let UNIMODULAR_01: Mat3[] | undefined;
/** All 3×3 integer matrices with entries in {−1,0,1} and |det| = 1. */
function unimodular01(): Mat3[] {
  if (UNIMODULAR_01) return UNIMODULAR_01;
  const out: Mat3[] = [];
  const v = [-1, 0, 1];
  for (let code = 0; code < 19683; code++) {
    let c = code;
    const e: number[] = [];
    for (let k = 0; k < 9; k++) {
      e.push(v[c % 3]!);
      c = Math.floor(c / 3);
    }
    const M: Mat3 = [
      [e[0]!, e[1]!, e[2]!],
      [e[3]!, e[4]!, e[5]!],
      [e[6]!, e[7]!, e[8]!],
    ];
    if (Math.abs(det3(M)) === 1) out.push(M);
  }
  UNIMODULAR_01 = out;
  return out;
}

/**
 * Integer bases M (new rows = M · rows) that keep the metric of a Niggli-reduced lattice:
 * M·G·Mᵀ = G within a relative tolerance. Always contains the identity.
 */
export function latticeAutomorphisms(L: readonly (readonly number[])[], relTol: number): Mat3[] {
  const G = matmul3(L, transpose3(L));
  const scale = (G[0][0] + G[1][1] + G[2][2]) / 3;
  const tol = relTol * scale;
  const out: Mat3[] = [];
  for (const M of unimodular01()) {
    // diagonal first: cheap rejection
    let ok = true;
    for (let i = 0; i < 3 && ok; i++) {
      const m = M[i]!;
      let gii = 0;
      for (let p = 0; p < 3; p++) for (let q = 0; q < 3; q++) gii += m[p]! * G[p]![q]! * m[q]!;
      if (Math.abs(gii - G[i]![i]!) > tol) ok = false;
    }
    if (!ok) continue;
    const H = matmul3(matmul3(M, G), transpose3(M));
    for (let i = 0; i < 3 && ok; i++) for (let j = 0; j < 3 && ok; j++) if (Math.abs(H[i]![j]! - G[i]![j]!) > tol) ok = false;
    if (ok) out.push(M);
  }
  return out;
}

function cellParameters(L: readonly (readonly number[])[]): [number, number, number, number, number, number] {
  const len = L.map((r) => Math.hypot(r[0]!, r[1]!, r[2]!));
  const ang = (i: number, j: number): number => {
    const c = (L[i]![0]! * L[j]![0]! + L[i]![1]! * L[j]![1]! + L[i]![2]! * L[j]![2]!) / (len[i]! * len[j]!);
    return (Math.acos(Math.max(-1, Math.min(1, c))) * 180) / Math.PI;
  };
  return [len[0]!, len[1]!, len[2]!, ang(1, 2), ang(0, 2), ang(0, 1)];
}

function fmt(x: number, decimals: number): string {
  const s = x.toFixed(decimals);
  return Number(s) === 0 ? (0).toFixed(decimals) : s; // no "-0.000"
}

export interface CanonicalForm {
  /** sha256 hex of `text` */
  hash: string;
  /** version | reduced formula | rounded cell parameters | sorted rounded atoms */
  text: string;
  /** the canonical cell the text was written from */
  lattice: Mat3;
  frac: [number, number, number][];
  numbers: number[];
}

/** Canonical form and content hash of a structure (see the file comment for invariances). */
export function canonicalForm(s: Structure, cfg: StructureHashConfig = STRUCTURE_DEFAULTS.hash): CanonicalForm {
  const n = s.numbers.length;
  if (n === 0) throw new StructureError('empty_structure', 'structure has no atoms');
  let prim: Structure;
  try {
    prim = primitiveCell(s, cfg.symprec, { idealize: true }).structure;
  } catch (e) {
    // moyo found no consistent symmetry at this tolerance (rare, noisy input): hash the cell as given
    if (e instanceof SoftmodeInputError && e.code === 'symmetry_failed') prim = s;
    else throw e;
  }
  const { lattice: N, transform: T } = niggliReduce(prim.lattice);
  const Tinv = inv3(T);
  // r = f·Lp = f'·(T·Lp) ⇒ f' = f·T⁻¹
  const fN = prim.frac.map((f) => [0, 1, 2].map((k) => f[0]! * Tinv[0]![k]! + f[1]! * Tinv[1]![k]! + f[2]! * Tinv[2]![k]!));
  const numbers = [...prim.numbers];

  // origin candidates: atoms of the rarest species (ties → lowest Z)
  const counts = new Map<number, number>();
  for (const z of numbers) counts.set(z, (counts.get(z) ?? 0) + 1);
  let originZ = -1;
  let originCount = Infinity;
  for (const [z, c] of [...counts.entries()].sort((a, b) => a[0] - b[0])) if (c < originCount) [originZ, originCount] = [z, c];
  const origins = numbers.map((z, i) => (z === originZ ? i : -1)).filter((i) => i >= 0);

  const grid = 10 ** cfg.fracDecimals;
  const head = `${STRUCTURE_DEFAULTS.version}|${reducedFormula(numbers)}|`;
  let best: { text: string; lattice: Mat3; frac: [number, number, number][]; order: number[] } | undefined;
  for (const M of latticeAutomorphisms(N, cfg.metricTolerance)) {
    const L = matmul3(M, N);
    const Minv = inv3(M);
    const par = cellParameters(L);
    const cellText = par.slice(0, 3).map((x) => fmt(x, cfg.lengthDecimals)).join(',') + ';' + par.slice(3).map((x) => fmt(x, cfg.angleDecimals)).join(',');
    const fM = fN.map((f) => [0, 1, 2].map((k) => f[0]! * Minv[0]![k]! + f[1]! * Minv[1]![k]! + f[2]! * Minv[2]![k]!));
    for (const o of origins) {
      const fo = fM[o]!;
      const q = fM.map((f) => [0, 1, 2].map((k) => {
        const x = f[k]! - fo[k]!;
        const w = x - Math.floor(x);
        const r = Math.round(w * grid);
        return r >= grid ? 0 : r; // 1.000 → 0
      }) as [number, number, number]);
      const order = numbers.map((_, i) => i).sort((a, b) => numbers[a]! - numbers[b]! || q[a]![0] - q[b]![0] || q[a]![1] - q[b]![1] || q[a]![2] - q[b]![2]);
      const atomsText = order.map((i) => `${numbers[i]}:${q[i]![0]},${q[i]![1]},${q[i]![2]}`).join(';');
      const text = head + cellText + '|' + atomsText;
      if (best === undefined || text < best.text) best = { text, lattice: L, frac: order.map((i) => q[i]!.map((x) => x / grid) as [number, number, number]), order };
    }
  }
  if (!best) throw new Error('no canonical cell found'); // identity is always an automorphism
  return {
    hash: createHash('sha256').update(best.text).digest('hex'),
    text: best.text,
    lattice: best.lattice,
    frac: best.frac,
    numbers: best.order.map((i) => numbers[i]!),
  };
}

/** sha256 hex of the canonical form (see canonicalForm). */
export function structureHash(s: Structure, cfg: StructureHashConfig = STRUCTURE_DEFAULTS.hash): string {
  return canonicalForm(s, cfg).hash;
}
