// Space-group operations for CIF symmetry expansion: parsing 'x+1/2, -y, z' strings, looking
// up operations from a space-group symbol / Hall symbol / number (moyo's tables), and
// expanding asymmetric-unit sites with merging of coincident images.
import type { Mat3, Vec3 } from '../../math/linalg.js';
import { det3, inv3, norm3, transpose3 } from '../../math/linalg.js';
import { loadMoyo } from '../../symmetry/moyo.js';
import { minimumImageDistance } from '../minimum-image.js';
import { VALIDATION } from '../../../config/validation.js';
import { clip, inputError, type SourceContext } from './common.js';

/** x' = R·x + t on fractional coordinates (R rows: R[i][j] = coefficient of x_j in x'_i). */
export interface FracOperation {
  rotation: Mat3;
  translation: Vec3;
}

const TERM_RE = /[+-]?[^+-]+/g;
const VAR_INDEX: Record<string, number> = { x: 0, y: 1, z: 2 };

function parseFraction(s: string): number | undefined {
  const m = /^(\d+(?:\.\d*)?|\.\d+)(?:\/(\d+(?:\.\d*)?))?$/.exec(s);
  if (!m) return undefined;
  const num = Number(m[1]);
  const den = m[2] === undefined ? 1 : Number(m[2]);
  if (!(den > 0)) return undefined;
  return num / den;
}

/** Parse one operation in CIF xyz notation: 'x+1/2, -y, z', '1/2+x', 'x-y', '-x+y', '+x'. */
export function parseXyzOperation(text: string, ctx: SourceContext = {}): FracOperation {
  const compact = text.toLowerCase().replace(/\s+/g, '');
  const parts = compact.split(',');
  if (parts.length !== 3) throw inputError('unparsable', ctx, `symmetry operation '${clip(text)}' does not have three components`);
  const rotation: Mat3 = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const translation: Vec3 = [0, 0, 0];
  parts.forEach((part, i) => {
    const terms = part.match(TERM_RE);
    if (!terms || terms.join('') !== part) throw inputError('unparsable', ctx, `symmetry operation '${clip(text)}': cannot read component '${clip(part)}'`);
    for (const term of terms) {
      const sign = term.startsWith('-') ? -1 : 1;
      const body = term.replace(/^[+-]/, '');
      const varMatch = /^(?:(\d+(?:\.\d*)?(?:\/\d+)?)\*?)?([xyz])$/.exec(body);
      if (varMatch) {
        const coef = varMatch[1] === undefined ? 1 : parseFraction(varMatch[1]);
        if (coef === undefined || !Number.isInteger(coef))
          throw inputError('unparsable', ctx, `symmetry operation '${clip(text)}': non-integer coefficient in '${clip(term)}'`);
        const row = rotation[i]!;
        const j = VAR_INDEX[varMatch[2]!]!;
        row[j] = row[j]! + sign * coef;
        continue;
      }
      const value = parseFraction(body);
      if (value === undefined) throw inputError('unparsable', ctx, `symmetry operation '${clip(text)}': cannot read term '${clip(term)}'`);
      translation[i] = translation[i]! + sign * value;
    }
  });
  const d = det3(rotation);
  if (Math.abs(Math.abs(d) - 1) > 1e-9) throw inputError('unparsable', ctx, `symmetry operation '${clip(text)}' is not invertible on the lattice (det ${d})`);
  return { rotation, translation };
}

// ---------------------------------------------------------------- space-group symbol tables

interface HallEntry {
  hall_number: number;
  number: number;
  setting: string;
  hall_symbol: string;
  hm_short: string;
  hm_full: string;
  centering: string;
}

interface SymbolTables {
  byHm: Map<string, HallEntry[]>;
  byHall: Map<string, HallEntry>;
  byNumber: Map<number, HallEntry[]>;
}
let tables: SymbolTables | undefined;

/** Normalised Hermann–Mauguin symbol: no spaces or underscores, lower case. */
export function normalizeHm(s: string): string {
  return s.replace(/[\s_]+/g, '').toLowerCase();
}
function normalizeHall(s: string): string {
  return s.trim().replace(/\s+/g, ' ').replace(/"/g, '=').toLowerCase();
}

function getTables(): SymbolTables {
  if (tables) return tables;
  const moyo = loadMoyo();
  const byHm = new Map<string, HallEntry[]>();
  const byHall = new Map<string, HallEntry>();
  const byNumber = new Map<number, HallEntry[]>();
  const add = (key: string, e: HallEntry): void => {
    const list = byHm.get(key);
    if (!list) byHm.set(key, [e]);
    else if (!list.includes(e)) list.push(e);
  };
  const aliases: Array<[string, HallEntry]> = [];
  for (let n = 1; n <= 230; n++) {
    const entries = moyo.hall_symbol_entries_from_number(n) as HallEntry[];
    byNumber.set(n, entries);
    for (const e of entries) {
      byHall.set(normalizeHall(e.hall_symbol), e);
      add(normalizeHm(e.hm_full), e);
      add(normalizeHm(e.hm_short), e);
      // Monoclinic full symbols 'P 1 21/c 1' are often written without the 1s ('P 21/c',
      // 'P 21/n'); cubic symbols in the pre-1983 notation lack the bar ('Fm3m', 'Pm3').
      const full = e.hm_full.split(/\s+/);
      if (n >= 3 && n <= 15 && full.length === 4) {
        const axes = full.slice(1).filter((t) => t !== '1');
        if (axes.length === 1) aliases.push([normalizeHm(full[0]! + axes[0]!), e]);
      }
      if (n >= 195) aliases.push([normalizeHm(e.hm_short).replace('-3', '3'), e]);
    }
  }
  for (const [k, e] of aliases) if (!byHm.has(k) || byHm.get(k)!.every((x) => x.number === e.number)) add(k, e);
  tables = { byHm, byHall, byNumber };
  return tables;
}

export interface SpaceGroupHint {
  hm?: string | undefined;
  hall?: string | undefined;
  number?: number | undefined;
  /** cell parameters, used to choose the rhombohedral vs hexagonal setting of R groups */
  cellpar?: readonly number[] | undefined;
}

function looksRhombohedral(cp: readonly number[] | undefined): boolean {
  if (!cp) return false;
  const [a, b, c, al, be, ga] = cp as [number, number, number, number, number, number];
  const close = (x: number, y: number, t: number): boolean => Math.abs(x - y) <= t * Math.max(1, Math.abs(x));
  return close(a, b, 1e-4) && close(b, c, 1e-4) && close(al, be, 1e-4) && close(be, ga, 1e-4) && Math.abs(al - 90) > 1e-3;
}

function pickDefault(entries: HallEntry[], cellpar: readonly number[] | undefined): HallEntry {
  // R groups: hexagonal axes unless the cell itself is rhombohedral. Otherwise moyo's first
  // entry (spglib's default: unique axis b, cell choice 1, origin choice 1).
  if (entries.some((e) => e.setting === 'H' || e.setting === 'R')) {
    const want = looksRhombohedral(cellpar) ? 'R' : 'H';
    const hit = entries.find((e) => e.setting === want);
    if (hit) return hit;
  }
  return entries[0]!;
}

/** Resolve a space group given by Hall symbol, HM symbol (with optional ':setting') or number. */
export function resolveSpaceGroup(hint: SpaceGroupHint, ctx: SourceContext = {}): HallEntry | undefined {
  const t = getTables();
  if (hint.hall !== undefined) {
    const e = t.byHall.get(normalizeHall(hint.hall));
    if (e) return e;
  }
  if (hint.hm !== undefined) {
    const raw = hint.hm.trim();
    const colon = raw.indexOf(':');
    const sym = colon >= 0 ? raw.slice(0, colon) : raw;
    const setting = colon >= 0 ? raw.slice(colon + 1).trim().toLowerCase() : undefined;
    const list = t.byHm.get(normalizeHm(sym));
    if (list && list.length) {
      // an exact match of the full symbol decides the setting (e.g. 'P 1 1 21/b')
      const full = list.filter((e) => normalizeHm(e.hm_full) === normalizeHm(sym));
      const pool = full.length ? full : list.filter((e) => e.number === list[0]!.number);
      if (setting !== undefined && setting !== '') {
        const hit = pool.find((e) => e.setting.toLowerCase() === setting) ?? pool.find((e) => e.setting.toLowerCase().startsWith(setting));
        if (hit) return hit;
        throw inputError('unparsable', ctx, `space group '${clip(raw)}': unknown setting '${clip(setting)}'`);
      }
      return pickDefault(pool, hint.cellpar);
    }
  }
  if (hint.number !== undefined) {
    if (!Number.isInteger(hint.number) || hint.number < 1 || hint.number > 230)
      throw inputError('unparsable', ctx, `space group number ${hint.number} is not in 1..230`);
    return pickDefault(t.byNumber.get(hint.number)!, hint.cellpar);
  }
  if (hint.hm !== undefined || hint.hall !== undefined)
    throw inputError('unparsable', ctx, `unknown space group symbol '${clip(hint.hall ?? hint.hm ?? '')}' and no operators or number given`);
  return undefined;
}

/** All operations (centring translations included) of a Hall setting, in its conventional cell. */
export function operationsForHall(hallNumber: number, number: number): FracOperation[] {
  const moyo = loadMoyo();
  const ops = moyo.operations_from_number(number, { type: 'HallNumber', value: hallNumber }, false);
  return ops.map((op) => {
    // moyo (nalgebra) flattens matrices column-major
    const r = op.rotation;
    return {
      rotation: [
        [r[0], r[3], r[6]],
        [r[1], r[4], r[7]],
        [r[2], r[5], r[8]],
      ] as Mat3,
      translation: [op.translation[0], op.translation[1], op.translation[2]] as Vec3,
    };
  });
}

// ---------------------------------------------------------------- expansion and merging

export interface AsymmetricSite {
  frac: Vec3;
  number: number;
  label: string;
  occupancy: number;
}

export interface ExpandedSites {
  frac: Vec3[];
  numbers: number[];
  labels: string[];
}

function wrap(x: number): number {
  const w = x - Math.floor(x);
  return w >= 1 ? 0 : w;
}

/**
 * Apply the operations to every site, keep one atom per distinct periodic position
 * (distance < tol Å), first label wins. Occupancies of distinct listed sites that land on the
 * same position are summed: mixed elements or a total below 1 − occupancyTolerance is
 * partial occupancy. With only the identity, input coordinates are kept as given (not
 * wrapped), so P1 files round-trip exactly.
 */
export function expandSites(
  lattice: Mat3,
  sites: readonly AsymmetricSite[],
  ops: readonly FracOperation[],
  ctx: SourceContext,
  tol = VALIDATION.siteMergeTolerance,
): ExpandedSites {
  const identityOnly =
    ops.length === 1 &&
    ops[0]!.rotation.every((row, i) => row.every((v, j) => v === (i === j ? 1 : 0))) &&
    ops[0]!.translation.every((v) => v === 0);
  const candidates = sites.length * ops.length;
  if (candidates > VALIDATION.maxSymmetryCandidates)
    throw inputError('too_many_atoms', ctx, `symmetry expansion of ${sites.length} sites × ${ops.length} operations exceeds ${VALIDATION.maxSymmetryCandidates} candidates`);

  // Bucket grid in fractional space with bucket width ≥ tol in Å along each axis, so any two
  // positions closer than tol lie in the same or adjacent buckets (periodically).
  const recip = transpose3(inv3(lattice)); // rows b_i with a_i · b_j = δ_ij
  const nb = recip.map((b) => Math.max(1, Math.min(256, Math.floor(1 / (tol * norm3(b)))))) as [number, number, number];
  const buckets = new Map<number, number[]>();
  const key = (i: number, j: number, k: number): number => (((i + nb[0]) % nb[0]) * nb[1] + ((j + nb[1]) % nb[1])) * nb[2] + ((k + nb[2]) % nb[2]);
  const cell = (f: Vec3): [number, number, number] => [
    Math.min(nb[0] - 1, Math.floor(wrap(f[0]) * nb[0])),
    Math.min(nb[1] - 1, Math.floor(wrap(f[1]) * nb[1])),
    Math.min(nb[2] - 1, Math.floor(wrap(f[2]) * nb[2])),
  ];
  const out: ExpandedSites = { frac: [], numbers: [], labels: [] };
  const origin: number[] = []; // listed site index of each kept atom
  const occSum: number[] = []; // summed occupancy over distinct listed sites, per kept atom
  const mixed: boolean[] = [];

  const offsets = (m: number): number[] => (m >= 3 ? [-1, 0, 1] : m === 2 ? [0, 1] : [0]);
  const di = offsets(nb[0]);
  const dj = offsets(nb[1]);
  const dk = offsets(nb[2]);
  const L = lattice;
  const findNear = (f: Vec3): number => {
    const [ci, cj, ck] = cell(f);
    for (const a of di)
      for (const b of dj)
        for (const c of dk) {
          const list = buckets.get(key(ci + a, cj + b, ck + c));
          if (!list) continue;
          for (const idx of list) {
            const g = out.frac[idx]!;
            if (minimumImageDistance(L, [f[0] - g[0], f[1] - g[1], f[2] - g[2]]) < tol) return idx;
          }
        }
    return -1;
  };

  sites.forEach((site, s) => {
    const seenHere = new Set<number>();
    for (const op of ops) {
      const R = op.rotation;
      const p = site.frac;
      let f: Vec3 = [
        R[0][0] * p[0] + R[0][1] * p[1] + R[0][2] * p[2] + op.translation[0],
        R[1][0] * p[0] + R[1][1] * p[1] + R[1][2] * p[2] + op.translation[1],
        R[2][0] * p[0] + R[2][1] * p[1] + R[2][2] * p[2] + op.translation[2],
      ];
      if (!identityOnly) f = [wrap(f[0]), wrap(f[1]), wrap(f[2])];
      const near = findNear(f);
      if (near >= 0) {
        if (origin[near] === s || seenHere.has(near)) continue; // the site's own orbit
        seenHere.add(near);
        // a different listed site on the same position
        if (out.numbers[near] !== site.number) mixed[near] = true;
        occSum[near]! += site.occupancy;
        continue;
      }
      const idx = out.frac.length;
      if (idx >= VALIDATION.maxAtomsRead)
        throw inputError('too_many_atoms', ctx, `symmetry expansion gives more than ${VALIDATION.maxAtomsRead} atoms`);
      out.frac.push(f);
      out.numbers.push(site.number);
      out.labels.push(site.label);
      origin.push(s);
      occSum.push(site.occupancy);
      mixed.push(false);
      seenHere.add(idx);
      const [ci, cj, ck] = cell(f);
      const k = key(ci, cj, ck);
      const list = buckets.get(k);
      if (list) list.push(idx);
      else buckets.set(k, [idx]);
    }
  });

  const occTol = VALIDATION.occupancyTolerance;
  for (let i = 0; i < out.frac.length; i++) {
    const occ = occSum[i]!;
    const label = out.labels[i]!;
    if (mixed[i]) {
      if (occ <= 1 + occTol)
        throw inputError('partial_occupancy', ctx, `site ${label} is shared by different elements (substitutional disorder, total occupancy ${occ})`, { label, occupancy: occ });
      throw inputError('atoms_too_close', ctx, `site ${label} coincides with a site of another element (within ${tol} Å)`, { label });
    }
    if (occ < 1 - occTol)
      throw inputError('partial_occupancy', ctx, `site ${label} has occupancy ${occ} < 1 (disorder is not a phonon-able structure)`, { label, occupancy: occ });
  }
  return out;
}
