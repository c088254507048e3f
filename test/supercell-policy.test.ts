// The min-image supercell rule (core/structure/supercell.ts) and the per-preset supercell policy
// (config/phonon.ts SUPERCELL_POLICY), checked against brute force: every integer matrix of
// determinant D generates the same lattice as exactly one lower-triangular Hermite normal form
// [[a,0,0],[b,c,0],[d,e,f]] (a·c·f = D, 0 ≤ b,d < a, 0 ≤ e < c), so enumerating those
// enumerates every supercell of D cells.
import { describe, expect, it } from 'vitest';
import { STABILITY_RULES, SUPERCELL_POLICY } from '../config/phonon.js';
import { det3, inv3, matmul3 } from '../core/math/linalg.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';
import { bondTripletsPerCell, chooseSupercell, makeSupercell, minImageSupercell, shortestLatticeVector, supercellLattice, type SupercellRule } from '../core/structure/supercell.js';
import { supercellRuleOf } from '../pipeline/supercell.js';

type M3 = readonly (readonly number[])[];

const fcc = (a: number): M3 => [[0, a / 2, a / 2], [a / 2, 0, a / 2], [a / 2, a / 2, 0]];
const nacl = makeStructure({ lattice: fcc(5.64), frac: [[0, 0, 0], [0.5, 0.5, 0.5]], numbers: [11, 17] });

/** Shortest nonzero vector by plain enumeration, with coefficient bounds |m_i| ≤ r·|column i of B⁻¹|. */
function bruteShortest(B: M3): number {
  let r = Math.min(...B.map((v) => Math.hypot(v[0]!, v[1]!, v[2]!)));
  const Bi = inv3(B);
  const K = [0, 1, 2].map((i) => Math.floor(r * Math.hypot(Bi[0]![i]!, Bi[1]![i]!, Bi[2]![i]!) + 1e-9));
  for (let i = -K[0]!; i <= K[0]!; i++)
    for (let j = -K[1]!; j <= K[1]!; j++)
      for (let k = -K[2]!; k <= K[2]!; k++) {
        if (i === 0 && j === 0 && k === 0) continue;
        const v = [0, 1, 2].map((t) => i * B[0]![t]! + j * B[1]![t]! + k * B[2]![t]!);
        r = Math.min(r, Math.hypot(v[0]!, v[1]!, v[2]!));
      }
  return r;
}

/** Every lower-triangular HNF of determinant D. */
function* hnfs(D: number): Generator<number[][]> {
  for (let a = 1; a <= D; a++) {
    if (D % a) continue;
    for (let c = 1; c <= D / a; c++) {
      if ((D / a) % c) continue;
      const f = D / a / c;
      for (let b = 0; b < a; b++) for (let d = 0; d < a; d++) for (let e = 0; e < c; e++) yield [[a, 0, 0], [b, c, 0], [d, e, f]];
    }
  }
}

/** Integer vectors n ≠ 0 (up to sign) of the lattice L with |n·L| < r. */
function shortIntegerVectors(L: M3, r: number): number[][] {
  const Li = inv3(L);
  const K = [0, 1, 2].map((i) => Math.floor(r * Math.hypot(Li[0]![i]!, Li[1]![i]!, Li[2]![i]!) + 1e-9));
  const out: number[][] = [];
  for (let i = -K[0]!; i <= K[0]!; i++)
    for (let j = -K[1]!; j <= K[1]!; j++)
      for (let k = -K[2]!; k <= K[2]!; k++) {
        if (k < 0 || (k === 0 && (j < 0 || (j === 0 && i <= 0)))) continue;
        const v = [0, 1, 2].map((t) => i * L[0]![t]! + j * L[1]![t]! + k * L[2]![t]!);
        if (Math.hypot(v[0]!, v[1]!, v[2]!) < r) out.push([i, j, k]);
      }
  return out;
}

/** Does the row lattice of the (lower-triangular) H contain the integer vector n? */
function contains(H: M3, n: number[]): boolean {
  const m2 = n[2]! / H[2]![2]!;
  if (!Number.isInteger(m2)) return false;
  const m1 = (n[1]! - m2 * H[2]![1]!) / H[1]![1]!;
  if (!Number.isInteger(m1)) return false;
  const m0 = (n[0]! - m1 * H[1]![0]! - m2 * H[2]![0]!) / H[0]![0]!;
  return Number.isInteger(m0);
}

/** Smallest D whose some supercell has no lattice vector shorter than r (exhaustive), with the survivors. */
function bruteMinimumDet(L: M3, r: number, maxDet: number): { det: number; survivors: M3[] } | null {
  const short = shortIntegerVectors(L, r - 1e-6);
  for (let D = 1; D <= maxDet; D++) {
    const survivors: M3[] = [];
    for (const H of hnfs(D)) if (!short.some((n) => contains(H, n))) survivors.push(H);
    if (survivors.length) return { det: D, survivors };
  }
  return null;
}

const detOf = (m: readonly (readonly number[])[]): number => Math.round(det3(m));

describe('min-image supercell rule', () => {
  it('fcc primitive NaCl, L = 15 Å: image distance ≥ L with the fewest atoms possible (exhaustive over all supercells up to det 64)', () => {
    const c = chooseSupercell(nacl, { kind: 'min-image', minImageDistance: 15, maxAtoms: 1000 });
    expect(c.rule.kind).toBe('min-image');
    expect(c.natoms).toBe(2 * detOf(c.matrix));
    const SL = supercellLattice(nacl.lattice, c.matrix);
    // the reported distance is the true shortest supercell vector
    expect(c.minImageDistance).toBeCloseTo(bruteShortest(SL), 9);
    expect(c.minImageDistance).toBeGreaterThanOrEqual(15);
    // minimal: no supercell of fewer cells reaches 15 Å
    const bf = bruteMinimumDet(nacl.lattice, 15, detOf(c.matrix));
    expect(bf?.det).toBe(detOf(c.matrix));
    expect(c.natoms).toBe(128); // the fcc-shaped 4×4×4 of the primitive cell: 15.95 Å
    // tie-break 1: no supercell of that size has a longer shortest vector
    const best = Math.max(...bf!.survivors.map((H) => bruteShortest(matmul3(H, nacl.lattice))));
    expect(c.minImageDistance).toBeCloseTo(best, 9);
    // and the 2×2×2 that PhononBench uses is the ~8 Å artefact
    expect(chooseSupercell(nacl, { kind: 'phononbench' }).minImageDistance).toBeCloseTo(2 * 5.64 / Math.SQRT2, 9);
  }, 60_000);

  it('small cases: minimum det and best image distance equal a plain brute force (shortest vectors by enumeration)', () => {
    const cells: [string, Structure, number][] = [
      ['NaCl L=10', nacl, 10],
      ['hexagonal', makeStructure({ lattice: [[3.1, 0, 0], [-1.55, 2.6847, 0], [0, 0, 5.0]], frac: [[0, 0, 0]], numbers: [12] }), 8],
      ['monoclinic', makeStructure({ lattice: [[3.3, 0, 0], [0, 4.1, 0], [-1.3, 0, 5.2]], frac: [[0, 0, 0]], numbers: [14] }), 8],
      ['triclinic', makeStructure({ lattice: [[4.0, 0.3, 0.2], [1.1, 4.6, 0.1], [0.6, 1.5, 5.1]], frac: [[0, 0, 0]], numbers: [14] }), 9],
    ];
    for (const [name, s, L] of cells) {
      const r = minImageSupercell(s, L, 10_000);
      const D = detOf(r.matrix);
      expect(D, name).toBeGreaterThan(0);
      let minDet = Infinity;
      let bestAtMin = -1;
      for (let d = 1; d <= D && minDet === Infinity; d++)
        for (const H of hnfs(d)) {
          const l = bruteShortest(matmul3(H, s.lattice));
          if (l >= L - 1e-6) {
            minDet = d;
            bestAtMin = Math.max(bestAtMin, l);
          }
        }
      expect(D, name).toBe(minDet);
      expect(r.minImageDistance, name).toBeCloseTo(bestAtMin, 9);
      expect(bruteShortest(supercellLattice(s.lattice, r.matrix)), name).toBeCloseTo(r.minImageDistance, 9);
    }
  }, 60_000);

  it('random cells: exact minimum (exhaustive membership test over all supercells up to the found det)', () => {
    let seed = 20240613;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    let checked = 0;
    for (let t = 0; t < 40; t++) {
      const L0 = [0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? 3 + 3 * rnd() : 1.5 * (rnd() - 0.5))));
      if (Math.abs(det3(L0)) < 10) continue;
      const s = makeStructure({ lattice: L0, frac: [[0, 0, 0]], numbers: [6] });
      const L = 8 + 6 * rnd();
      const r = minImageSupercell(s, L, 400);
      if (r.note) continue;
      const D = detOf(r.matrix);
      if (D > 24) continue; // keep the brute force small
      const bf = bruteMinimumDet(L0, L, D);
      expect(bf?.det).toBe(D);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  }, 60_000);

  it('is deterministic and depends on the lattice only', () => {
    const rule: SupercellRule = { kind: 'min-image', minImageDistance: 18, maxAtoms: 1000 };
    const a = chooseSupercell(nacl, rule);
    const b = chooseSupercell(nacl, rule);
    expect(b).toEqual(a);
    // same lattice in another basis (and other atoms): same size and image distance
    const U = [[1, 1, 0], [0, 1, 0], [1, 1, 1]];
    const other = makeStructure({ lattice: matmul3(U, nacl.lattice), frac: [[0.1, 0.2, 0.3]], numbers: [13] });
    const c = chooseSupercell(other, rule);
    expect(detOf(c.matrix)).toBe(detOf(a.matrix));
    expect(c.minImageDistance).toBeCloseTo(a.minImageDistance, 9);
    // det > 0 and the supercell builds with the atom count it reports
    expect(det3(a.matrix)).toBeGreaterThan(0);
    expect(makeSupercell(nacl, a.matrix).structure.numbers.length).toBe(a.natoms);
  });

  it('returns a diagonal matrix when the chosen supercell has one', () => {
    const cubic = makeStructure({ lattice: [[3.9, 0, 0], [0, 3.9, 0], [0, 0, 3.9]], frac: [[0, 0, 0]], numbers: [29] });
    // simple cubic, L = 2a: the 2×2×2 cube (8 cells) is the smallest supercell (exhaustive check
    // below); the search returns it in its diagonal form rather than another basis of that lattice
    expect(bruteMinimumDet(cubic.lattice, 7.8, 8)?.det).toBe(8);
    const r = chooseSupercell(cubic, { kind: 'min-image', minImageDistance: 7.8, maxAtoms: 100 });
    expect(r.matrix).toEqual([[2, 0, 0], [0, 2, 0], [0, 0, 2]]);
    expect(r.minImageDistance).toBeCloseTo(7.8, 9);
  });

  it('symmetric option: a supercell keeping the lattice point group when it costs ≤ the factor in atoms', () => {
    const kcl = makeStructure({ lattice: fcc(6.293), frac: [[0, 0, 0], [0.5, 0.5, 0.5]], numbers: [19, 17] });
    const fewest = chooseSupercell(kcl, { kind: 'min-image', minImageDistance: 15, maxAtoms: 500 });
    expect(fewest.natoms).toBe(96); // a low-symmetry 48-cell shape
    const sym = chooseSupercell(kcl, { kind: 'min-image', minImageDistance: 15, maxAtoms: 500, symmetricAtomFactor: 1.5 });
    expect(sym.matrix).toEqual([[4, 0, 0], [0, 4, 0], [0, 0, 4]]);
    expect(sym.natoms).toBe(128);
    expect(sym.note).toMatch(/symmetric/);
    expect(sym.minImageDistance).toBeGreaterThanOrEqual(15);
    // too expensive at factor 1.2: the fewest-atoms supercell stays
    expect(chooseSupercell(kcl, { kind: 'min-image', minImageDistance: 15, maxAtoms: 500, symmetricAtomFactor: 1.2 }).natoms).toBe(96);
    // keepSymmetry alone: the smallest supercell keeping the cubic point group (4×4×4, 64 cells);
    // with no cap search, null when none fits
    const r = minImageSupercell(kcl, 15, 500, undefined, { keepSymmetry: true });
    expect(Math.round(det3(r.matrix))).toBe(64);
    const noCap = minImageSupercell(kcl, 15, 100, undefined, { keepSymmetry: true, noCap: true });
    expect(noCap).toBeNull();
  });

  it('bond-triplet budget: dense cells get the largest image distance their triplets allow; sparse ones are untouched', () => {
    // C-diamond: 4 + 12 + 12 neighbours within 3 Å (the third shell at a·√11/4 = 2.957 Å)
    const diamond = makeStructure({ lattice: fcc(3.567), frac: [[0, 0, 0], [0.25, 0.25, 0.25]], numbers: [6, 6] });
    expect(bondTripletsPerCell(diamond, 3)).toBe(2 * 28 * 27);
    const plain = chooseSupercell(diamond, { kind: 'min-image', minImageDistance: 15, maxAtoms: 500, symmetricAtomFactor: 1.5 });
    expect(plain.natoms).toBe(432);
    const policy = { ...SUPERCELL_POLICY['full-bz'] };
    const capped = chooseSupercell(diamond, policy);
    // ⌊150000 / 1512⌋ = 99 cells → ≤ 198 atoms
    expect(capped.natoms).toBeLessThanOrEqual(2 * Math.floor(policy.maxBondTriplets / 1512));
    expect(capped.natoms * 756).toBeLessThanOrEqual(policy.maxBondTriplets);
    expect(capped.note).toMatch(/bond-triplet budget 150000: 1512 triplets per cell/);
    expect(capped.minImageDistance).toBeLessThan(15);
    expect(capped.minImageDistance).toBeGreaterThan(10);
    // Si (4 neighbours within 3 Å): the budget does not bind; same as without it
    const si = makeStructure({ lattice: fcc(5.431), frac: [[0, 0, 0], [0.25, 0.25, 0.25]], numbers: [14, 14] });
    const siPolicy = chooseSupercell(si, policy);
    const siPlain = chooseSupercell(si, { kind: 'min-image', minImageDistance: 15, maxAtoms: 500, symmetricAtomFactor: 1.5 });
    expect(siPolicy.matrix).toEqual(siPlain.matrix);
    expect(siPolicy.note ?? '').not.toMatch(/budget/);
    // --supercell min-image:L keeps the memory guard
    expect(supercellRuleOf('min-image:18', 'full-bz')).toMatchObject({ minImageDistance: 18, maxBondTriplets: policy.maxBondTriplets, bondCutoff: 3 });
    expect(() => chooseSupercell(diamond, { kind: 'min-image', minImageDistance: 15, maxAtoms: 500, maxBondTriplets: 1000 })).toThrow(/bondCutoff/);
  });

  it('caps at maxAtoms with the largest image distance the cap allows, and says so', () => {
    const r = chooseSupercell(nacl, { kind: 'min-image', minImageDistance: 15, maxAtoms: 100 });
    expect(r.natoms).toBeLessThanOrEqual(100);
    expect(r.note).toMatch(/capped at 100 atoms/);
    expect(r.minImageDistance).toBeLessThan(15);
    // no supercell of ≤ 50 cells has a longer shortest vector
    expect(bruteMinimumDet(nacl.lattice, r.minImageDistance + 1e-4, 50)).toBeNull();
    // a target the cell already meets needs no supercell
    expect(chooseSupercell(nacl, { kind: 'min-image', minImageDistance: 3, maxAtoms: 2 }).matrix).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect(() => chooseSupercell(nacl, { kind: 'min-image', minImageDistance: 15, maxAtoms: 1 })).toThrow(/maxAtoms/);
    expect(() => chooseSupercell(nacl, { kind: 'min-image', minImageDistance: 0, maxAtoms: 100 })).toThrow(/minImageDistance/);
  });

  it('every rule kind reports the shortest image distance', () => {
    for (const rule of [
      { kind: 'explicit', matrix: [[-1, 1, 1], [1, -1, 1], [1, 1, -1]] },
      { kind: 'phononbench' },
      { kind: 'min-length', minLength: 12, maxAtoms: 1000 },
      { kind: 'min-image', minImageDistance: 12, maxAtoms: 1000 },
    ] as SupercellRule[]) {
      const c = chooseSupercell(nacl, rule);
      expect(c.minImageDistance, rule.kind).toBeCloseTo(bruteShortest(supercellLattice(nacl.lattice, c.matrix)), 9);
    }
    // min-length makes every supercell *vector* ≥ L, not the images: the 60° fcc cell shows it
    const ml = chooseSupercell(nacl, { kind: 'min-length', minLength: 12, maxAtoms: 1000 });
    const mi = chooseSupercell(nacl, { kind: 'min-image', minImageDistance: 12, maxAtoms: 1000 });
    expect(Math.min(...ml.lengths)).toBeGreaterThanOrEqual(12);
    expect(mi.minImageDistance).toBeGreaterThanOrEqual(12);
    expect(mi.natoms).toBeLessThan(ml.natoms);
  });

  it('shortestLatticeVector is exact on skewed bases', () => {
    const B = matmul3([[1, 7, -3], [0, 1, 5], [0, 0, 1]], fcc(4.05));
    expect(shortestLatticeVector(B).length).toBeCloseTo(4.05 / Math.SQRT2, 12);
    const C = matmul3([[2, 3, -1], [0, 1, 2], [1, 0, 3]], [[4.0, 0.3, 0.2], [1.1, 4.6, 0.1], [0.6, 1.5, 5.1]]);
    expect(shortestLatticeVector(C).length).toBeCloseTo(bruteShortest(C), 12);
  });
});

describe('supercell policy per stability preset', () => {
  it('names every preset of STABILITY_RULES; phononbench keeps 2×2×2 of the input cell', () => {
    const presets = Object.keys(SUPERCELL_POLICY).filter((k) => k !== 'version').sort();
    expect(presets).toEqual(Object.keys(STABILITY_RULES).sort());
    expect(SUPERCELL_POLICY.version).toMatch(/^supercell-/);
    expect(chooseSupercell(nacl, SUPERCELL_POLICY.phononbench).matrix).toEqual([[2, 0, 0], [0, 2, 0], [0, 0, 2]]);
    const triclinic = makeStructure({ lattice: [[4.0, 0.3, 0.2], [1.1, 4.6, 0.1], [0.6, 1.5, 5.1]], frac: [[0, 0, 0]], numbers: [14] });
    expect(chooseSupercell(triclinic, SUPERCELL_POLICY.phononbench).matrix).toEqual([[2, 0, 0], [0, 2, 0], [0, 0, 2]]);
  });

  it('the other presets use the min-image rule: NaCl is no longer the 8 Å artefact', () => {
    for (const p of ['full-bz', 'loew', 'mattersim'] as const) {
      const rule: SupercellRule = SUPERCELL_POLICY[p];
      expect(rule.kind).toBe('min-image');
      const c = chooseSupercell(nacl, rule);
      expect(c.minImageDistance).toBeGreaterThanOrEqual(SUPERCELL_POLICY[p].minImageDistance);
      expect(c.natoms).toBeLessThanOrEqual(SUPERCELL_POLICY[p].maxAtoms);
      expect(c.minImageDistance).toBeGreaterThan(chooseSupercell(nacl, SUPERCELL_POLICY.phononbench).minImageDistance + 5);
    }
  });
});
