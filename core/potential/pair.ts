// A classical pair potential (Lennard-Jones or Morse) behind the `Potential` interface.
//
// FOR ENGINE TESTS ONLY, NOT FOR SCIENCE: it is fast, analytic (energy, forces, stress exact
// to rounding) and has a minimum near real bond lengths (pair minimum r0 = sum of covalent
// radii), which is what relaxation, phonon and workflow tests need. Its phonons, energies and
// stabilities mean nothing physically.
//
// Smooth cutoff: shifted-force form φ_sf(r) = φ(r) − φ(rc) − (r − rc)·φ'(rc) for r < rc, so
// both energy and force go continuously to zero at rc (finite differences and FIRE see no
// jumps).
//
// Stress (ASE sign, eV/Å³): σ = (1/V)·∂E/∂ε. For E = Σ_pairs φ(|r|) and r → (I+ε)r,
// ∂|r|/∂ε_ab = r_a r_b/|r|, so σ_ab = (1/V)·Σ_pairs φ'(|r|)·r_a r_b/|r| (tensile > 0).
import { createHash } from 'node:crypto';
import { PAIR_POTENTIAL_DEFAULTS, type PairPotentialParams } from '../../config/pair-potential.js';
import { StructureError, UsageError } from '../errors.js';
import { type Mat3, type Vec3, det3 } from '../math/linalg.js';
import { neighbourList } from '../neighbours/index.js';
import { ELEMENT_TABLE } from '../structure/elements-table.js';
import { symbolOf } from '../structure/elements.js';
import type { Structure } from '../structure/structure.js';
import type { PotentialEntry } from './registry.js';
import type { Potential, PotentialIdentity, PotentialResult } from './types.js';

export type PairKind = 'lennard-jones' | 'morse';
export const PAIR_KINDS: readonly PairKind[] = Object.freeze(['lennard-jones', 'morse'] as const);

/** The identity's `architecture` of a pair form: 'pair-lennard-jones', 'pair-morse'. */
export function pairArchitecture(kind: PairKind): string {
  return `pair-${kind}`;
}

interface PairCoefficients {
  /** cutoff, Å */
  rc: number;
  /** φ(rc), φ'(rc) for the force shift */
  phiC: number;
  dphiC: number;
  // Lennard-Jones: 4ε, σ ; Morse: D, α, r0
  a: number;
  b: number;
  c: number;
}

function sortedJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(sortedJson).join(',')}]`;
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`)
      .join(',')}}`;
  }
  if (typeof x === 'number' && !Number.isFinite(x)) return 'null';
  return JSON.stringify(x);
}

export class PairPotential implements Potential {
  readonly identity: PotentialIdentity;
  readonly kind: PairKind;
  readonly params: Readonly<PairPotentialParams>;
  private readonly coeffCache = new Map<number, PairCoefficients>();

  constructor(kind: PairKind = 'lennard-jones', params: Partial<PairPotentialParams> = {}) {
    if (kind !== 'lennard-jones' && kind !== 'morse')
      throw new UsageError(`unknown pair potential '${String(kind)}' (lennard-jones or morse)`);
    const p: PairPotentialParams = { ...PAIR_POTENTIAL_DEFAULTS, ...params };
    for (const [k, v] of Object.entries(p))
      if (typeof v === 'number' && !(Number.isFinite(v) && v > 0))
        throw new UsageError(`pair potential parameter ${k} must be positive, got ${v}`);
    this.kind = kind;
    this.params = Object.freeze(p);
    // The checkpoint hash covers everything that determines the numbers: form, defaults,
    // overrides and the full radius table the defaults come from.
    const canonical = {
      model: kind,
      params: p,
      radii: ELEMENT_TABLE.map((row) => [row[0], row[3]]),
    };
    this.identity = Object.freeze({
      model: kind,
      checkpointSha256: createHash('sha256').update(sortedJson(canonical)).digest('hex'),
      architecture: pairArchitecture(kind),
      precision: 'float64' as const,
    });
  }

  /** Radius (Å) used for element z: override, else covalent radius. */
  radius(z: number): number {
    const o = this.params.radiusOverrides[z];
    if (o !== undefined) return o;
    const row = ELEMENT_TABLE[z - 1];
    const r = row ? row[3] : NaN;
    if (!(Number.isFinite(r) && r > 0))
      throw new StructureError('unsupported_element', `pair potential has no radius for element ${row ? symbolOf(z) : z}`, { z });
    return r;
  }

  private epsilonOf(z: number): number {
    return this.params.epsilonOverrides[z] ?? this.params.epsilon;
  }

  /** Pair minimum distance r0 (Å) for elements zi, zj. */
  pairMinimum(zi: number, zj: number): number {
    return this.radius(zi) + this.radius(zj);
  }

  private coefficients(zi: number, zj: number): PairCoefficients {
    const key = zi < zj ? zi * 1024 + zj : zj * 1024 + zi;
    const hit = this.coeffCache.get(key);
    if (hit) return hit;
    const r0 = this.pairMinimum(zi, zj);
    const eps = Math.sqrt(this.epsilonOf(zi) * this.epsilonOf(zj));
    let c: PairCoefficients;
    if (this.kind === 'lennard-jones') {
      const sigma = r0 / Math.pow(2, 1 / 6);
      c = { rc: this.params.ljCutoffSigma * sigma, phiC: 0, dphiC: 0, a: 4 * eps, b: sigma, c: 0 };
    } else {
      c = { rc: this.params.morseCutoffR0 * r0, phiC: 0, dphiC: 0, a: eps, b: this.params.morseAlphaR0 / r0, c: r0 };
    }
    const [phiC, dphiC] = this.rawPhi(c, c.rc);
    c.phiC = phiC;
    c.dphiC = dphiC;
    this.coeffCache.set(key, c);
    return c;
  }

  /** Unshifted φ(r) and φ'(r). */
  private rawPhi(c: PairCoefficients, r: number): [number, number] {
    if (this.kind === 'lennard-jones') {
      const s6 = Math.pow(c.b / r, 6);
      const s12 = s6 * s6;
      return [c.a * (s12 - s6), (c.a * (-12 * s12 + 6 * s6)) / r];
    }
    const e1 = Math.exp(-c.b * (r - c.c));
    return [c.a * (e1 * e1 - 2 * e1), 2 * c.a * c.b * (e1 - e1 * e1)];
  }

  /** Shifted-force pair energy and derivative at r (zero beyond the cutoff). */
  pair(zi: number, zj: number, r: number): [number, number] {
    const c = this.coefficients(zi, zj);
    if (r >= c.rc) return [0, 0];
    const [phi, dphi] = this.rawPhi(c, r);
    return [phi - c.phiC - (r - c.rc) * c.dphiC, dphi - c.dphiC];
  }

  /** Largest pair cutoff among the given elements, Å. */
  cutoffFor(numbers: readonly number[]): number {
    const zs = [...new Set(numbers)];
    let rc = 0;
    for (const a of zs) for (const b of zs) rc = Math.max(rc, this.coefficients(a, b).rc);
    return rc;
  }

  evaluateOne(s: Structure): PotentialResult {
    const n = s.numbers.length;
    if (n === 0) throw new StructureError('empty_structure', 'structure has no atoms');
    const V = Math.abs(det3(s.lattice));
    if (!(V > 0 && Number.isFinite(V))) throw new StructureError('bad_volume', `cell volume ${V} is not positive`);
    const nl = neighbourList(s, this.cutoffFor(s.numbers));
    const forces = new Float64Array(3 * n);
    // virial Σ φ'(r)·r⊗r/r over unordered pairs (symmetric: 6 components)
    let wxx = 0, wyy = 0, wzz = 0, wxy = 0, wxz = 0, wyz = 0;
    let energy = 0;
    const m = nl.centers.length;
    for (let p = 0; p < m; p++) {
      const i = nl.centers[p]!;
      const j = nl.neighbours[p]!;
      const r = nl.distances[p]!;
      if (r < this.params.minDistance)
        throw new StructureError('atoms_too_close', `atoms ${i} and ${j} are ${r.toExponential(3)} Å apart`, { i, j, r });
      const [phi, dphi] = this.pair(s.numbers[i]!, s.numbers[j]!, r);
      if (phi === 0 && dphi === 0) continue;
      // the list holds each pair twice (i→j and j→i): half the energy and virial per entry
      energy += 0.5 * phi;
      const g = dphi / r;
      const x = nl.vectors[3 * p]!, y = nl.vectors[3 * p + 1]!, z = nl.vectors[3 * p + 2]!;
      // f_i = −∂φ/∂r_i = φ'(r)·(r_j − r_i)/r
      forces[3 * i] = forces[3 * i]! + g * x;
      forces[3 * i + 1] = forces[3 * i + 1]! + g * y;
      forces[3 * i + 2] = forces[3 * i + 2]! + g * z;
      const h = 0.5 * g;
      wxx += h * x * x;
      wyy += h * y * y;
      wzz += h * z * z;
      wxy += h * x * y;
      wxz += h * x * z;
      wyz += h * y * z;
    }
    const f: Vec3[] = [];
    for (let i = 0; i < n; i++) f.push([forces[3 * i]!, forces[3 * i + 1]!, forces[3 * i + 2]!]);
    const stress: Mat3 = [
      [wxx / V, wxy / V, wxz / V],
      [wxy / V, wyy / V, wyz / V],
      [wxz / V, wyz / V, wzz / V],
    ];
    return { energy, forces: f, stress };
  }

  async evaluate(structures: readonly Structure[]): Promise<PotentialResult[]> {
    return structures.map((s) => this.evaluateOne(s));
  }
}

/** The pair potential for a model name ('lennard-jones' or 'morse'), default parameters. */
export function pairPotential(kind: PairKind = 'lennard-jones', params: Partial<PairPotentialParams> = {}): PairPotential {
  return new PairPotential(kind, params);
}

/**
 * The registry entries of the pair potentials (registry.ts registers this table): one name per
 * form, default parameters, float64 only. Run options (precision, threads) do not apply and are
 * ignored, as they always were.
 */
export const PAIR_POTENTIALS: readonly PotentialEntry[] = Object.freeze(
  PAIR_KINDS.map(
    (kind): PotentialEntry =>
      Object.freeze({
        name: kind,
        kind: 'pair' as const,
        architecture: pairArchitecture(kind),
        precisions: Object.freeze(['float64'] as const),
        summary: `${kind === 'lennard-jones' ? 'Lennard-Jones' : 'Morse'} pair potential (shifted-force, covalent-radius minima): for engine tests only, not for science`,
        load: async () => new PairPotential(kind),
      }),
  ),
);
