import { describe, expect, it } from 'vitest';
import { assertValidStructure, countPureTranslations, validateStructure } from '../core/structure/validate.js';
import { makeStructure } from '../core/structure/structure.js';
import { SoftmodeInputError } from '../core/errors.js';

const cubic = (a: number): number[][] => [
  [a, 0, 0],
  [0, a, 0],
  [0, 0, a],
];
const nacl = () =>
  makeStructure({
    lattice: [
      [0, 2.82, 2.82],
      [2.82, 0, 2.82],
      [2.82, 2.82, 0],
    ],
    frac: [
      [0, 0, 0],
      [0.5, 0.5, 0.5],
    ],
    numbers: [11, 17],
  });

function codeOf(r: ReturnType<typeof validateStructure>): string {
  return r.ok ? 'ok' : r.code;
}

describe('validateStructure', () => {
  it('accepts rock salt', () => {
    const r = validateStructure(nacl());
    expect(r).toEqual({ ok: true, warnings: [] });
    expect(assertValidStructure(nacl())).toEqual([]);
  });

  it('non-finite lattice and positions', () => {
    expect(codeOf(validateStructure(makeStructure({ lattice: [[NaN, 0, 0], [0, 3, 0], [0, 0, 3]], frac: [[0, 0, 0]], numbers: [3] })))).toBe('non_finite');
    expect(codeOf(validateStructure(makeStructure({ lattice: cubic(3), frac: [[0, Infinity, 0]], numbers: [3] })))).toBe('non_finite');
  });

  it('degenerate cells, zero and absurd volume per atom', () => {
    expect(codeOf(validateStructure(makeStructure({ lattice: [[3, 0, 0], [0, 3, 0], [3, 3, 0]], frac: [[0, 0, 0]], numbers: [3] })))).toBe('no_cell');
    expect(codeOf(validateStructure(makeStructure({ lattice: [[0, 0, 0], [0, 3, 0], [0, 0, 3]], frac: [[0, 0, 0]], numbers: [3] })))).toBe('no_cell');
    expect(codeOf(validateStructure(makeStructure({ lattice: cubic(0.9), frac: [[0, 0, 0]], numbers: [1] })))).toBe('bad_volume');
    expect(codeOf(validateStructure(makeStructure({ lattice: cubic(9), frac: [[0, 0, 0]], numbers: [14] })))).toBe('bad_volume');
    // left-handed cells are valid descriptions: a warning, not a failure
    const lh = validateStructure(makeStructure({ lattice: [[0, 2.82, 2.82], [2.82, 2.82, 0], [2.82, 0, 2.82]], frac: [[0, 0, 0], [0.5, 0.5, 0.5]], numbers: [11, 17] }));
    expect(lh.ok && lh.warnings.some((w) => w.includes('left-handed'))).toBe(true);
  });

  it('atoms too close, including periodic images in small and very skewed cells', () => {
    const close = makeStructure({ lattice: cubic(5), frac: [[0, 0, 0], [0.1, 0, 0]], numbers: [14, 14] }); // 0.5 Å
    expect(codeOf(validateStructure(close))).toBe('atoms_too_close');
    // across the boundary: 0.98 and 0.02 are 0.2 Å apart periodically
    const wrapped = makeStructure({ lattice: cubic(5), frac: [[0.98, 0.5, 0.5], [0.02, 0.5, 0.5]], numbers: [14, 14] });
    expect(codeOf(validateStructure(wrapped))).toBe('atoms_too_close');
    // an atom close to its own image: a 1 Å cell edge (other edges long so volume is fine)
    const selfImage = makeStructure({ lattice: [[1.0, 0, 0], [0, 5, 0], [0, 0, 5]], frac: [[0, 0, 0]], numbers: [14] });
    const r = validateStructure(selfImage);
    expect(codeOf(r)).toBe('atoms_too_close');
    // very skewed cell, b ≈ 7a: the fractional difference (0.5, 0.5, 0) looks far apart
    // but (a+b)/2 − 4a is only 0.32 Å long; brute force over many images agrees
    const skew = makeStructure({
      lattice: [
        [3, 0, 0],
        [21.2, 0.6, 0],
        [0, 0, 4],
      ],
      frac: [
        [0, 0, 0],
        [0.5, 0.5, 0],
      ],
      numbers: [6, 6],
    });
    const L = skew.lattice;
    let best = Infinity;
    for (let i = -12; i <= 12; i++)
      for (let j = -3; j <= 3; j++)
        for (let k = -2; k <= 2; k++) {
          const d = [0.5 + i, 0.5 + j, k];
          const x = [0, 1, 2].map((c) => d[0]! * L[0]![c]! + d[1]! * L[1]![c]! + d[2]! * L[2]![c]!);
          best = Math.min(best, Math.hypot(x[0]!, x[1]!, x[2]!));
        }
    expect(best).toBeLessThan(0.5 * 1.52); // the brute force finds a clash
    expect(codeOf(validateStructure(skew))).toBe('atoms_too_close');
  });

  it('distance verdict equals brute force on random skewed cells', () => {
    let x = 12345;
    const rnd = (): number => ((x = (x * 48271) % 2147483647), x / 2147483647);
    let clashes = 0;
    for (let trial = 0; trial < 150; trial++) {
      const L = [
        [2 + 3 * rnd(), 0, 0],
        [(rnd() - 0.5) * 20, 1 + 3 * rnd(), 0],
        [(rnd() - 0.5) * 20, (rnd() - 0.5) * 20, 1.5 + 3 * rnd()],
      ];
      const frac = [
        [rnd(), rnd(), rnd()],
        [rnd(), rnd(), rnd()],
      ];
      const s = makeStructure({ lattice: L, frac, numbers: [6, 6] });
      let best = Infinity;
      for (let a = 0; a < 2; a++)
        for (let b = a; b < 2; b++)
          for (let i = -15; i <= 15; i++)
            for (let j = -15; j <= 15; j++)
              for (let k = -4; k <= 4; k++) {
                if (a === b && i === 0 && j === 0 && k === 0) continue;
                const d = [frac[b]![0]! - frac[a]![0]! + i, frac[b]![1]! - frac[a]![1]! + j, frac[b]![2]! - frac[a]![2]! + k];
                const c = [0, 1, 2].map((m) => d[0]! * L[0]![m]! + d[1]! * L[1]![m]! + d[2]! * L[2]![m]!);
                best = Math.min(best, Math.hypot(c[0]!, c[1]!, c[2]!));
              }
      const r = validateStructure(s, { config: { minVolumePerAtom: 0, maxVolumePerAtom: 1e9 } });
      const expectClash = best < 0.5 * 2 * 0.76;
      if (expectClash) clashes++;
      expect(r.ok ? 'ok' : r.code, `trial ${trial}, brute force ${best}`).toBe(expectClash ? 'atoms_too_close' : 'ok');
      if (!r.ok) expect((r.detail!['distance'] as number)).toBeCloseTo(best, 9);
    }
    expect(clashes).toBeGreaterThan(5); // the sample exercises both outcomes
  });

  it('warns between the warning and rejection fractions', () => {
    // Si–Si 0.65 × 2.22 Å = 1.443 Å
    const s = makeStructure({ lattice: cubic(5), frac: [[0, 0, 0], [1.443 / 5, 0, 0]], numbers: [14, 14] });
    const r = validateStructure(s);
    expect(r.ok).toBe(true);
    expect(r.ok && r.warnings.some((w) => w.includes('covalent'))).toBe(true);
  });

  it('unknown and unsupported elements', () => {
    expect(codeOf(validateStructure(makeStructure({ lattice: cubic(3), frac: [[0, 0, 0]], numbers: [0] })))).toBe('unknown_element');
    expect(codeOf(validateStructure(makeStructure({ lattice: cubic(3), frac: [[0, 0, 0]], numbers: [119] })))).toBe('unknown_element');
    expect(codeOf(validateStructure(nacl(), { supportedElements: ['Na', 'K'] }))).toBe('unsupported_element');
    expect(codeOf(validateStructure(nacl(), { supportedElements: [11, 17] }))).toBe('ok');
  });

  it('too many atoms: per primitive cell, via symmetry, when the cell exceeds maxAtoms', () => {
    // 4×4×4 supercell of rock salt: 128 atoms, primitive 2
    const frac: number[][] = [];
    const numbers: number[] = [];
    const n = 4;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        for (let k = 0; k < n; k++) {
          frac.push([i / n, j / n, k / n]);
          numbers.push(11);
          frac.push([(i + 0.5) / n, (j + 0.5) / n, (k + 0.5) / n]);
          numbers.push(17);
        }
    const big = makeStructure({ lattice: [[0, 2.82 * n, 2.82 * n], [2.82 * n, 0, 2.82 * n], [2.82 * n, 2.82 * n, 0]], frac, numbers });
    const okBig = validateStructure(big, { config: { maxAtoms: 50 } });
    expect(okBig.ok && okBig.warnings).toEqual(['cell has 128 atoms; its primitive cell has 2']);
    expect(codeOf(validateStructure(big, { config: { maxAtoms: 50, maxAtomsInCell: 100 } }))).toBe('too_many_atoms');
    // a random (P1) structure with more atoms than maxAtoms
    let x = 7;
    const rnd = (): number => ((x = (x * 16807) % 2147483647), x / 2147483647);
    const m = 40;
    const p1 = makeStructure({ lattice: cubic(Math.cbrt(m * 20)), frac: Array.from({ length: m }, (_, i) => [(i % 4) / 4 + 0.1 * rnd(), (Math.floor(i / 4) % 4) / 4 + 0.1 * rnd(), Math.floor(i / 16) / 3 + 0.1 * rnd()]), numbers: Array(m).fill(6) });
    expect(codeOf(validateStructure(p1, { config: { maxAtoms: 20 } }))).toBe('too_many_atoms');
  });

  it('counts pure translations of large supercells quickly (no symmetry search)', () => {
    // 8×8×8 supercell of rock salt (1024 atoms) and the same with one atom swapped
    const n = 8;
    const frac: number[][] = [];
    const numbers: number[] = [];
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        for (let k = 0; k < n; k++) {
          frac.push([i / n, j / n, k / n]);
          numbers.push(11);
          frac.push([(i + 0.5) / n, (j + 0.5) / n, (k + 0.5) / n]);
          numbers.push(17);
        }
    const lattice = [[0, 2.82 * n, 2.82 * n], [2.82 * n, 0, 2.82 * n], [2.82 * n, 2.82 * n, 0]];
    const t0 = performance.now();
    expect(countPureTranslations(makeStructure({ lattice, frac, numbers }), 1e-3)).toBe(512);
    const swapped = [...numbers];
    swapped[10] = 19; // one K: no translation but the identity survives
    expect(countPureTranslations(makeStructure({ lattice, frac, numbers: swapped }), 1e-3)).toBe(1);
    // noise below the tolerance keeps the translations; above it breaks them
    const noisy = frac.map((f, i) => [f[0]! + (i % 3 === 0 ? 1e-5 : 0), f[1]!, f[2]!]);
    expect(countPureTranslations(makeStructure({ lattice, frac: noisy, numbers }), 1e-3)).toBe(512);
    expect(countPureTranslations(makeStructure({ lattice, frac: noisy, numbers }), 1e-5)).toBe(1);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('throwing variant carries the code', () => {
    try {
      assertValidStructure(makeStructure({ lattice: cubic(5), frac: [[0, 0, 0], [0.01, 0, 0]], numbers: [1, 1], name: 'H2-crushed' }));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SoftmodeInputError);
      expect((e as SoftmodeInputError).code).toBe('atoms_too_close');
      expect((e as SoftmodeInputError).message).toContain('H2-crushed');
    }
  });
});
