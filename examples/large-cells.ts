// Large disordered cells (issue 16 item 4): random substitutional alloys on fcc / bcc
// conventional supercells, point defects (vacancies, octahedral interstitials) and a rattled
// cell, 256–264 atoms each, built from a seeded PRNG so the committed POSCAR files
// (examples/large-cells/*.vasp, written by `npm run bench:large-cells -- --write-cells`) are
// reproducible bit for bit. Lattice constants: Vegard's law between the elements' room-temperature
// values (Kittel Table 1.3 / CRC, the same source as examples/structures.ts), so the potential
// sees sane distances. No transcendental functions on the random path (the rattle is an
// Irwin–Hall sum of uniforms), so the output does not depend on a platform's Math.log/cos.
//
// `size: 'small'` gives the same recipes on 2×2×2 (fcc) / 2×2×4 (bcc) conventional cells
// (32 atoms, defect counts divided by 8, at least 1): for developing and testing on small cells.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../core/math/random.js';
import { writePoscar } from '../core/structure/io/index.js';
import { atomicNumber } from '../core/structure/elements.js';
import { type Structure, makeStructure } from '../core/structure/structure.js';

/** Room-temperature lattice constants (Å) of the elements used here, in their own structure. */
const LATTICE: Readonly<Record<string, { kind: 'fcc' | 'bcc'; a: number }>> = Object.freeze({
  Cu: { kind: 'fcc', a: 3.615 },
  Ni: { kind: 'fcc', a: 3.524 },
  Au: { kind: 'fcc', a: 4.078 },
  Ag: { kind: 'fcc', a: 4.086 },
  Pd: { kind: 'fcc', a: 3.891 },
  Al: { kind: 'fcc', a: 4.05 },
  Mo: { kind: 'bcc', a: 3.147 },
  W: { kind: 'bcc', a: 3.165 },
  Fe: { kind: 'bcc', a: 2.8665 },
  Cr: { kind: 'bcc', a: 2.884 },
});

export interface LargeCellRecipe {
  id: string;
  description: string;
  seed: number;
  lattice: 'fcc' | 'bcc';
  /** element → fraction of the lattice sites (exact counts: rounded, the last element takes the rest) */
  composition: readonly (readonly [string, number])[];
  vacancies: number;
  /** atoms put on octahedral interstitial sites (species drawn from the composition) */
  interstitials: number;
  /** Irwin–Hall (12 uniforms) displacement per Cartesian component, standard deviation in Å */
  rattleSigma: number;
}

export const LARGE_CELL_RECIPES: readonly LargeCellRecipe[] = Object.freeze([
  { id: 'CuNi-fcc-256', description: 'random Cu0.5Ni0.5 fcc alloy, 4×4×4 conventional', seed: 1601, lattice: 'fcc', composition: [['Cu', 0.5], ['Ni', 0.5]], vacancies: 0, interstitials: 0, rattleSigma: 0 },
  { id: 'Cu3Au-fcc-256', description: 'random (disordered) Cu0.75Au0.25 fcc alloy, 4×4×4 conventional', seed: 1602, lattice: 'fcc', composition: [['Cu', 0.75], ['Au', 0.25]], vacancies: 0, interstitials: 0, rattleSigma: 0 },
  { id: 'MoW-bcc-256', description: 'random Mo0.5W0.5 bcc alloy, 4×4×8 conventional', seed: 1603, lattice: 'bcc', composition: [['Mo', 0.5], ['W', 0.5]], vacancies: 0, interstitials: 0, rattleSigma: 0 },
  { id: 'FeCr-bcc-256', description: 'random Fe0.75Cr0.25 bcc alloy, 4×4×8 conventional', seed: 1604, lattice: 'bcc', composition: [['Fe', 0.75], ['Cr', 0.25]], vacancies: 0, interstitials: 0, rattleSigma: 0 },
  { id: 'AgPd-fcc-rattled-256', description: 'random Ag0.5Pd0.5 fcc alloy, 4×4×4 conventional, every atom rattled (σ = 0.08 Å per component)', seed: 1605, lattice: 'fcc', composition: [['Ag', 0.5], ['Pd', 0.5]], vacancies: 0, interstitials: 0, rattleSigma: 0.08 },
  { id: 'AlCu-fcc-defects-258', description: 'random Al0.9Cu0.1 fcc alloy, 4×4×4 conventional, 2 vacancies and 4 octahedral interstitials', seed: 1606, lattice: 'fcc', composition: [['Al', 0.9], ['Cu', 0.1]], vacancies: 2, interstitials: 4, rattleSigma: 0 },
  { id: 'CuNi-fcc-interstitials-P1-264', description: 'random Cu0.5Ni0.5 fcc alloy, 4×4×4 conventional, 8 octahedral interstitials, rattled (σ = 0.02 Å): P1', seed: 1607, lattice: 'fcc', composition: [['Cu', 0.5], ['Ni', 0.5]], vacancies: 0, interstitials: 8, rattleSigma: 0.02 },
] as const satisfies readonly LargeCellRecipe[]);

export interface LargeCell {
  id: string;
  description: string;
  structure: Structure;
  /** Vegard lattice constant of the conventional cell, Å */
  a: number;
  /** conventional cells along a, b, c */
  reps: [number, number, number];
}

export type LargeCellSize = 'full' | 'small';

const FCC_BASIS: readonly (readonly [number, number, number])[] = [
  [0, 0, 0],
  [0, 0.5, 0.5],
  [0.5, 0, 0.5],
  [0.5, 0.5, 0],
];
const BCC_BASIS: readonly (readonly [number, number, number])[] = [
  [0, 0, 0],
  [0.5, 0.5, 0.5],
];
/** octahedral interstitial sites of the conventional fcc cell */
const FCC_OCTA: readonly (readonly [number, number, number])[] = [
  [0.5, 0, 0],
  [0, 0.5, 0],
  [0, 0, 0.5],
  [0.5, 0.5, 0.5],
];
/** octahedral interstitial sites of the conventional bcc cell (face and edge centres) */
const BCC_OCTA: readonly (readonly [number, number, number])[] = [
  [0.5, 0.5, 0],
  [0.5, 0, 0.5],
  [0, 0.5, 0.5],
  [0.5, 0, 0],
  [0, 0.5, 0],
  [0, 0, 0.5],
];

/** Exact counts per element for `n` sites (rounded; the last element takes the rest). */
function counts(composition: readonly (readonly [string, number])[], n: number): number[] {
  const out = composition.map(([, x]) => Math.round(x * n));
  out[out.length - 1] = n - out.slice(0, -1).reduce((s, c) => s + c, 0);
  return out;
}

function sitesOf(basis: readonly (readonly number[])[], reps: readonly [number, number, number]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let i = 0; i < reps[0]; i++)
    for (let j = 0; j < reps[1]; j++)
      for (let k = 0; k < reps[2]; k++) for (const b of basis) out.push([(i + b[0]!) / reps[0], (j + b[1]!) / reps[1], (k + b[2]!) / reps[2]]);
  return out;
}

/** Minimum-image distance in an orthorhombic cell with edge lengths `len`. */
function distance(p: readonly number[], q: readonly number[], len: readonly number[]): number {
  let s = 0;
  for (let d = 0; d < 3; d++) {
    let x = p[d]! - q[d]!;
    x -= Math.round(x);
    s += (x * len[d]!) ** 2;
  }
  return Math.sqrt(s);
}

/** Fisher–Yates shuffle driven by `rnd`. */
function shuffle<T>(xs: T[], rnd: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** Pick `n` points from `candidates`, each ≥ `minDist` (Å) from the others and from `avoid`. */
function spread(candidates: [number, number, number][], n: number, minDist: number, avoid: readonly (readonly number[])[], len: readonly number[], rnd: () => number): [number, number, number][] {
  const order = shuffle([...candidates], rnd);
  const picked: [number, number, number][] = [];
  for (const c of order) {
    if (picked.length === n) break;
    if (picked.every((p) => distance(p, c, len) >= minDist) && avoid.every((p) => distance(p, c, len) >= minDist)) picked.push(c);
  }
  if (picked.length < n) throw new Error(`could place only ${picked.length} of ${n} points ${minDist} Å apart`);
  return picked;
}

/** One cell from its recipe. */
export function buildLargeCell(r: LargeCellRecipe, size: LargeCellSize = 'full'): LargeCell {
  const rnd = mulberry32(r.seed);
  const n = size === 'full' ? 4 : 2;
  const reps: [number, number, number] = r.lattice === 'fcc' ? [n, n, n] : [n, n, 2 * n];
  const scaleDefects = (k: number): number => (size === 'full' || k === 0 ? k : Math.max(1, Math.round(k / 8)));
  // Vegard's law over the lattice-site composition
  const a = r.composition.reduce((s, [el, x]) => s + x * LATTICE[el]!.a, 0);
  const len = reps.map((m) => m * a);
  const lattice = [
    [len[0]!, 0, 0],
    [0, len[1]!, 0],
    [0, 0, len[2]!],
  ];
  let sites = sitesOf(r.lattice === 'fcc' ? FCC_BASIS : BCC_BASIS, reps);
  // vacancies: random lattice sites, spread out (≥ 1.5 a apart)
  const nVac = scaleDefects(r.vacancies);
  const vacancies = nVac > 0 ? spread(sites, nVac, Math.min(1.5 * a, len[0]! / 2), [], len, rnd) : [];
  sites = sites.filter((s) => !vacancies.includes(s));
  // decoration: exact counts, shuffled over the remaining sites
  const c = counts(r.composition, sites.length);
  const species = shuffle(
    r.composition.flatMap(([el], i) => Array.from({ length: c[i]! }, () => el)),
    rnd,
  );
  const atoms: { el: string; frac: [number, number, number] }[] = sites.map((f, i) => ({ el: species[i]!, frac: [...f] }));
  // interstitials: octahedral sites ≥ a apart from each other and from the vacancies
  const nInt = scaleDefects(r.interstitials);
  if (nInt > 0) {
    const octa = sitesOf(r.lattice === 'fcc' ? FCC_OCTA : BCC_OCTA, reps);
    const picked = spread(octa, nInt, Math.min(a, len[0]! / 2), vacancies, len, rnd);
    const c2 = counts(r.composition, nInt);
    const sp2 = shuffle(
      r.composition.flatMap(([el], i) => Array.from({ length: c2[i]! }, () => el)),
      rnd,
    );
    picked.forEach((f, i) => atoms.push({ el: sp2[i]!, frac: [...f] }));
  }
  // rattle: Irwin–Hall (sum of 12 uniforms − 6 has unit variance), Cartesian Å → fractional
  if (r.rattleSigma > 0)
    for (const at of atoms)
      for (let d = 0; d < 3; d++) {
        let g = -6;
        for (let k = 0; k < 12; k++) g += rnd();
        at.frac[d] = at.frac[d]! + (r.rattleSigma * g) / len[d]!;
      }
  // wrap into [0, 1); species in recipe order (compact POSCAR), each in site order
  const order = r.composition.map(([el]) => el);
  const sorted = atoms
    .map((at, i) => ({ ...at, i }))
    .sort((p, q) => order.indexOf(p.el) - order.indexOf(q.el) || p.i - q.i);
  const wrap = (x: number): number => {
    const y = x - Math.floor(x);
    return y >= 1 ? 0 : y;
  };
  const structure = makeStructure({
    name: size === 'full' ? r.id : `${r.id}-small`,
    lattice,
    frac: sorted.map((at) => at.frac.map(wrap)),
    numbers: sorted.map((at) => {
      const z = atomicNumber(at.el);
      if (!z) throw new Error(`unknown element ${at.el}`);
      return z;
    }),
  });
  return { id: size === 'full' ? r.id : `${r.id}-small`, description: r.description, structure, a, reps };
}

/** Every large cell (full size: 256–264 atoms; small: 32–34). */
export function largeCells(size: LargeCellSize = 'full'): LargeCell[] {
  return LARGE_CELL_RECIPES.map((r) => buildLargeCell(r, size));
}

/** Write the cells as POSCAR files `<id>.vasp` into `dir`; returns the paths. */
export function writeLargeCells(dir: string, cells: readonly LargeCell[] = largeCells()): string[] {
  mkdirSync(dir, { recursive: true });
  return cells.map((c) => {
    const p = join(dir, `${c.id}.vasp`);
    writeFileSync(p, writePoscar(c.structure));
    return p;
  });
}
