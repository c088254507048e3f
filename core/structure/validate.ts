// Structure validation: is this a structure the engine may run phonons on? Each failure has a
// stable code (core/errors.ts) so campaigns can count and store rejections by class.
import { StructureError, type StructureErrorCode, isInputError } from '../errors.js';
import { det3, inv3, norm3, transpose3, type Mat3, type Vec3 } from '../math/linalg.js';
import { VALIDATION, type ValidationConfig } from '../../config/validation.js';
import { atomicMass, atomicNumber, covalentRadius, MAX_ATOMIC_NUMBER, symbolOf } from './elements.js';
import { minimumImageDistance } from './minimum-image.js';
import type { Structure } from './structure.js';

export interface ValidateOptions {
  /** elements the chosen model supports (symbols or atomic numbers); unset = all */
  supportedElements?: Iterable<string | number>;
  /** overrides of config/validation.ts */
  config?: Partial<ValidationConfig>;
}

export type ValidationResult = { ok: true; warnings: string[] } | { ok: false; code: StructureErrorCode; message: string; detail?: Record<string, unknown> };

class Reject extends Error {
  constructor(
    readonly code: StructureErrorCode,
    message: string,
    readonly detail?: Record<string, unknown>,
  ) {
    super(message);
  }
}

function fail(code: StructureErrorCode, message: string, detail?: Record<string, unknown>): never {
  throw new Reject(code, message, detail);
}

/** Validate; never throws for bad structures (returns the first failure found). */
export function validateStructure(s: Structure, opts: ValidateOptions = {}): ValidationResult {
  try {
    return { ok: true, warnings: check(s, opts) };
  } catch (e) {
    if (e instanceof Reject) return { ok: false, code: e.code, message: e.message, ...(e.detail ? { detail: e.detail } : {}) };
    if (isInputError(e)) return { ok: false, code: e.code, message: e.message, ...(e.detail ? { detail: e.detail } : {}) };
    throw e;
  }
}

/** Validate and throw a StructureError on failure; returns the warnings otherwise. */
export function assertValidStructure(s: Structure, opts: ValidateOptions = {}): string[] {
  const r = validateStructure(s, opts);
  if (!r.ok) throw new StructureError(r.code, (s.name ? `${s.name}: ` : '') + r.message, r.detail);
  return r.warnings;
}

/**
 * The checks that cost O(atoms) and no symmetry or neighbour search: shapes, finite numbers,
 * atom count, a non-degenerate cell, volume per atom. Run before anything that could take long
 * on hostile input (hashing, symmetry, distances): ingest calls it first.
 */
export function preflightStructure(s: Structure, opts: Pick<ValidateOptions, 'config'> = {}): string[] {
  const cfg: ValidationConfig = { ...VALIDATION, ...(opts.config ?? {}) };
  try {
    return preflight(s, cfg);
  } catch (e) {
    if (e instanceof Reject) throw new StructureError(e.code, (s.name ? `${s.name}: ` : '') + e.message, e.detail);
    throw e;
  }
}

function preflight(s: Structure, cfg: ValidationConfig): string[] {
  const warnings: string[] = [];
  // shapes and finiteness
  if (!Array.isArray(s.numbers) || !Array.isArray(s.frac)) fail('unparsable', 'structure has no atom list');
  const n = s.numbers.length;
  const L = s.lattice as readonly (readonly number[])[] | undefined;
  if (!L || L.length !== 3 || L.some((r) => !r || r.length !== 3)) fail('no_cell', 'no 3×3 lattice');
  if (L.some((r) => r.some((x) => !Number.isFinite(x)))) fail('non_finite', 'lattice has a non-finite number');
  if (n === 0) fail('empty_structure', 'structure has no atoms');
  if (s.frac.length !== n) fail('unparsable', `positions (${s.frac.length}) and atomic numbers (${n}) differ in length`);
  for (let i = 0; i < n; i++) {
    const p = s.frac[i]!;
    if (p.length !== 3 || !Number.isFinite(p[0]) || !Number.isFinite(p[1]) || !Number.isFinite(p[2])) fail('non_finite', `atom ${i} has a non-finite position`, { atom: i });
    // a fractional coordinate this large loses every digit of the position within the cell
    if (Math.max(Math.abs(p[0]!), Math.abs(p[1]!), Math.abs(p[2]!)) > cfg.maxFractionalCoordinate) fail('non_finite', `atom ${i} has a fractional coordinate beyond ±${cfg.maxFractionalCoordinate}`, { atom: i });
  }

  // too many atoms for any further check to be worth its time
  if (n > cfg.maxAtomsInCell) fail('too_many_atoms', `${n} atoms in the cell; the limit is ${cfg.maxAtomsInCell} (and ${cfg.maxAtoms} per primitive cell)`, { atoms: n });
  // cell (vectors longer than ~1e100 Å overflow the determinant: not finite)
  const lengths = L.map((r) => norm3(r));
  if (lengths.some((x) => !(x <= cfg.maxCellLength))) fail('bad_volume', `a lattice vector (${lengths.map((x) => x.toPrecision(4)).join(', ')} Å) is longer than ${cfg.maxCellLength} Å`);
  if (lengths.some((x) => x === 0)) fail('no_cell', 'a lattice vector has zero length');
  const det = det3(L);
  if (!Number.isFinite(det)) fail('non_finite', 'the cell volume is not a finite number');
  const flatness = Math.abs(det) / (lengths[0]! * lengths[1]! * lengths[2]!);
  if (!(flatness >= cfg.minCellFlatness)) fail('no_cell', `degenerate cell: the lattice vectors are (nearly) coplanar (|det|/(abc) = ${flatness.toExponential(2)})`);
  if (det < 0) warnings.push('lattice is left-handed (negative determinant)');
  const vpa = Math.abs(det) / n;
  if (vpa < cfg.minVolumePerAtom || vpa > cfg.maxVolumePerAtom)
    fail('bad_volume', `volume per atom ${vpa.toPrecision(4)} Å³ is outside [${cfg.minVolumePerAtom}, ${cfg.maxVolumePerAtom}]`, { volumePerAtom: vpa });

  return warnings;
}

function check(s: Structure, opts: ValidateOptions): string[] {
  const cfg: ValidationConfig = { ...VALIDATION, ...(opts.config ?? {}) };
  const warnings = preflight(s, cfg);
  const n = s.numbers.length;
  // elements
  const supported = opts.supportedElements ? new Set([...opts.supportedElements].map((e) => (typeof e === 'number' ? e : atomicNumber(e) ?? -1))) : undefined;
  const present = new Set<number>();
  for (let i = 0; i < n; i++) {
    const z = s.numbers[i]!;
    if (!Number.isInteger(z) || z < 1 || z > MAX_ATOMIC_NUMBER) fail('unknown_element', `atom ${i} has atomic number ${z}, not a known element`, { atom: i, number: z });
    present.add(z);
  }
  for (const z of present) {
    if (supported && !supported.has(z)) fail('unsupported_element', `element ${symbolOf(z)} is not supported by the chosen model`, { element: symbolOf(z) });
    // phonons need the mass: refuse here rather than after the relaxation and forces were paid for
    if (!Number.isFinite(atomicMass(z))) fail('unsupported_element', `element ${symbolOf(z)} has no standard atomic mass (phonopy's table): its phonons cannot be computed`, { element: symbolOf(z) });
  }

  // size: atoms per primitive cell
  // atoms per primitive cell first: O(n·translations), cheaper than the O(n²) distance check
  if (n > cfg.maxAtoms) {
    const translations = countPureTranslations(s, cfg.symprecForPrimitive);
    const nPrim = n / translations;
    if (nPrim > cfg.maxAtoms) fail('too_many_atoms', `${nPrim} atoms per primitive cell; the limit is ${cfg.maxAtoms}`, { atoms: n, primitiveAtoms: nPrim });
    warnings.push(`cell has ${n} atoms; its primitive cell has ${nPrim}`);
  }

  checkDistances(s, cfg, warnings);
  return warnings;
}

/**
 * Reject atoms closer than minDistanceFraction × (r_i + r_j) (covalent radii), periodic.
 * Pair differences are wrapped to the nearest cell, then every lattice translation that could
 * bring them within the cutoff is tried: a translation k along axis i changes the distance to
 * the lattice planes by k·d_i (d_i = 1/|b_i|, b_i reciprocal rows), so |k| ≤ cutoff/d_i + ½
 * suffices — correct for skewed cells and cells smaller than the cutoff.
 */
function checkDistances(s: Structure, cfg: ValidationConfig, warnings: string[]): void {
  const n = s.numbers.length;
  const L = s.lattice as Mat3;
  const recip = transpose3(inv3(L));
  const radii = s.numbers.map((z) => covalentRadius(z));
  const rmax = Math.max(...radii);
  const cutoff = cfg.warnDistanceFraction * 2 * rmax;
  const K = recip.map((b) => Math.ceil(cutoff * norm3(b) + 0.5)) as [number, number, number];
  const shifts: Vec3[] = [];
  for (let i = -K[0]; i <= K[0]; i++)
    for (let j = -K[1]; j <= K[1]; j++)
      for (let k = -K[2]; k <= K[2]; k++)
        shifts.push([i * L[0][0] + j * L[1][0] + k * L[2][0], i * L[0][1] + j * L[1][1] + k * L[2][1], i * L[0][2] + j * L[1][2] + k * L[2][2]]);
  const frac = s.frac;
  let worst = Infinity;
  let worstPair: [number, number, number] = [0, 0, 0];
  for (let a = 0; a < n; a++) {
    const fa = frac[a]!;
    for (let b = a; b < n; b++) {
      const fb = frac[b]!;
      let d0 = fb[0] - fa[0];
      let d1 = fb[1] - fa[1];
      let d2 = fb[2] - fa[2];
      d0 -= Math.round(d0);
      d1 -= Math.round(d1);
      d2 -= Math.round(d2);
      const x = d0 * L[0][0] + d1 * L[1][0] + d2 * L[2][0];
      const y = d0 * L[0][1] + d1 * L[1][1] + d2 * L[2][1];
      const z = d0 * L[0][2] + d1 * L[1][2] + d2 * L[2][2];
      const sumR = radii[a]! + radii[b]!;
      const warn2 = (cfg.warnDistanceFraction * sumR) ** 2;
      for (const t of shifts) {
        const dx = x + t[0];
        const dy = y + t[1];
        const dz = z + t[2];
        const r2 = dx * dx + dy * dy + dz * dz;
        if (r2 >= warn2) continue;
        if (a === b && r2 === 0 && t[0] === 0 && t[1] === 0 && t[2] === 0) continue; // the atom itself
        const ratio = Math.sqrt(r2) / sumR;
        if (ratio < worst) {
          worst = ratio;
          worstPair = [a, b, Math.sqrt(r2)];
        }
      }
    }
  }
  if (worst === Infinity) return;
  const [a, b, dist] = worstPair;
  const what = `atoms ${a} (${symbolOf(s.numbers[a]!)}) and ${b} (${symbolOf(s.numbers[b]!)})${a === b ? ' (periodic image)' : ''} are ${dist.toFixed(4)} Å apart, ${worst.toFixed(3)} × the sum of covalent radii`;
  if (worst < cfg.minDistanceFraction) fail('atoms_too_close', `${what} < ${cfg.minDistanceFraction}`, { atoms: [a, b], distance: dist, fraction: worst });
  warnings.push(`${what} (< ${cfg.warnDistanceFraction})`);
}

/**
 * Number of lattice translations (zero included) that map the structure onto itself within
 * `tol` Å: n / that = atoms per primitive cell. Candidates are the differences between one
 * atom of the rarest element and every atom of that element (spglib's primitive search);
 * each is checked atom by atom through a bucket grid, so the cost is O(candidates · n) with
 * early exit. A symmetry search (moyo) does the same but scales far worse on supercells.
 */
export function countPureTranslations(s: Structure, tol: number): number {
  const n = s.numbers.length;
  const L = s.lattice as Mat3;
  const wrap = (x: number): number => {
    const w = x - Math.floor(x);
    return w >= 1 ? 0 : w;
  };
  const frac = s.frac.map((p) => [wrap(p[0]), wrap(p[1]), wrap(p[2])] as Vec3);
  const counts = new Map<number, number[]>();
  s.numbers.forEach((z, i) => {
    const list = counts.get(z);
    if (list) list.push(i);
    else counts.set(z, [i]);
  });
  let rare: number[] = [];
  for (const list of counts.values()) if (rare.length === 0 || list.length < rare.length) rare = list;

  const recip = transpose3(inv3(L));
  const nb = recip.map((b) => Math.max(1, Math.min(64, Math.floor(1 / (Math.max(tol, 1e-6) * norm3(b)))))) as [number, number, number];
  const key = (i: number, j: number, k: number): number => (((i % nb[0]) + nb[0]) % nb[0]) * nb[1] * nb[2] + (((j % nb[1]) + nb[1]) % nb[1]) * nb[2] + (((k % nb[2]) + nb[2]) % nb[2]);
  const grid = new Map<number, number[]>();
  frac.forEach((f, i) => {
    const k = key(Math.floor(f[0] * nb[0]), Math.floor(f[1] * nb[1]), Math.floor(f[2] * nb[2]));
    const list = grid.get(k);
    if (list) list.push(i);
    else grid.set(k, [i]);
  });
  const offs = (m: number): number[] => (m >= 3 ? [-1, 0, 1] : m === 2 ? [0, 1] : [0]);
  const [oi, oj, ok] = [offs(nb[0]), offs(nb[1]), offs(nb[2])];
  const hasAtom = (f0: number, f1: number, f2: number, z: number): boolean => {
    const ci = Math.floor(f0 * nb[0]);
    const cj = Math.floor(f1 * nb[1]);
    const ck = Math.floor(f2 * nb[2]);
    for (const a of oi)
      for (const b of oj)
        for (const c of ok) {
          const list = grid.get(key(ci + a, cj + b, ck + c));
          if (!list) continue;
          for (const idx of list) {
            if (s.numbers[idx] !== z) continue;
            const g = frac[idx]!;
            if (minimumImageDistance(L, [f0 - g[0], f1 - g[1], f2 - g[2]]) < tol) return true;
          }
        }
    return false;
  };
  const origin = frac[rare[0]!]!;
  let found = 0;
  for (const j of rare) {
    const t = frac[j]!;
    const t0 = t[0] - origin[0];
    const t1 = t[1] - origin[1];
    const t2 = t[2] - origin[2];
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      const f = frac[i]!;
      ok = hasAtom(wrap(f[0] + t0), wrap(f[1] + t1), wrap(f[2] + t2), s.numbers[i]!);
    }
    if (ok) found++;
  }
  return Math.max(1, found);
}
