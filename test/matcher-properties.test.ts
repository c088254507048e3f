import { describe, expect, it } from 'vitest';
import { StructureMatcher, linearAssignment } from '../core/structure/matcher.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';
import { makeSupercell } from '../core/structure/supercell.js';
import { type Mat3, matvec3 } from '../core/math/linalg.js';
import { mulberry32 } from '../core/math/random.js';


function perovskite(): Structure {
  return makeStructure({
    lattice: [[3.9, 0, 0], [0, 3.9, 0], [0, 0, 3.9]],
    frac: [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
    numbers: [38, 22, 8, 8, 8],
  });
}

function triclinic(rnd: () => number): Structure {
  return makeStructure({
    lattice: [[4.2, 0, 0], [0.8, 4.9, 0], [-0.6, 0.4, 5.3]],
    frac: Array.from({ length: 6 }, () => [rnd(), rnd(), rnd()]),
    numbers: [8, 8, 8, 12, 14, 14],
  });
}

function transformed(s: Structure, rnd: () => number): Structure {
  const th = 2 * Math.PI * rnd();
  const R: Mat3 = [[Math.cos(th), -Math.sin(th), 0], [Math.sin(th), Math.cos(th), 0], [0, 0, 1]];
  const sc = makeSupercell(s, [[1, 1, 0], [0, 1, 0], [0, 0, 2]]).structure;
  const idx = sc.numbers.map((_, i) => i).sort(() => rnd() - 0.5);
  const t = [rnd(), rnd(), rnd()];
  return makeStructure({
    lattice: sc.lattice.map((r) => matvec3(R, r)),
    frac: idx.map((i) => sc.frac[i]!.map((x, k) => x + t[k]!)),
    numbers: idx.map((i) => sc.numbers[i]!),
  });
}

describe('StructureMatcher properties', () => {
  const sm = new StructureMatcher();

  it('matches a structure with its rotated, translated, permuted supercell (rms ≈ 0)', () => {
    const rnd = mulberry32(1);
    for (const s of [perovskite(), triclinic(rnd), triclinic(rnd)]) {
      const t = transformed(s, rnd);
      expect(sm.fit(s, t)).toBe(true);
      expect(sm.fit(t, s)).toBe(true);
      expect(sm.getRmsDist(s, t)!.rms).toBeLessThan(1e-6);
    }
  });

  it('matches mirror images and uniformly scaled copies (scale=True), not with scale=False', () => {
    const rnd = mulberry32(2);
    const s = triclinic(rnd);
    const mirror = makeStructure({ lattice: s.lattice.map((r) => [-r[0]!, r[1]!, r[2]!]), frac: s.frac, numbers: s.numbers });
    expect(sm.fit(s, mirror)).toBe(true);
    const scaled = makeStructure({ lattice: s.lattice.map((r) => r.map((x) => 1.3 * x)), frac: s.frac, numbers: s.numbers });
    expect(sm.fit(s, scaled)).toBe(true);
    expect(new StructureMatcher({ scale: false }).fit(s, scaled)).toBe(false);
  });

  it('rejects different compositions, unrelated arrangements and large shears', () => {
    const rnd = mulberry32(3);
    const s = perovskite();
    expect(sm.fit(s, makeStructure({ lattice: s.lattice, frac: s.frac, numbers: [38, 22, 8, 8, 9] }))).toBe(false);
    // Ti moved off-centre by 0.25 of the cell: far beyond stol
    expect(sm.fit(s, makeStructure({ lattice: s.lattice, frac: s.frac.map((p, i) => (i === 1 ? [0.5, 0.5, 0.25] : p)), numbers: s.numbers }))).toBe(false);
    // 30° shear of the cell: beyond angle_tol
    const sh = Math.tan((30 * Math.PI) / 180) * 3.9;
    expect(sm.fit(s, makeStructure({ lattice: [[3.9, 0, 0], [sh, 3.9, 0], [0, 0, 3.9]], frac: s.frac, numbers: s.numbers }))).toBe(false);
    void rnd;
  });

  it('small noise still matches; the rms grows with the noise', () => {
    const rnd = mulberry32(4);
    const s = triclinic(rnd);
    const noisy = (amp: number): Structure => makeStructure({ lattice: s.lattice, frac: s.frac.map((p) => p.map((x) => x + amp * (rnd() - 0.5))), numbers: s.numbers });
    const r1 = sm.getRmsDist(s, noisy(0.005))!;
    const r2 = sm.getRmsDist(s, noisy(0.03))!;
    expect(r1.rms).toBeLessThan(r2.rms);
    expect(sm.fit(s, noisy(0.005))).toBe(true);
  });

  it('linearAssignment finds the optimum (vs brute force on small matrices)', () => {
    const rnd = mulberry32(5);
    const perms = (n: number): number[][] => (n === 0 ? [[]] : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)])));
    for (let t = 0; t < 30; t++) {
      const n = 1 + Math.floor(rnd() * 6);
      const C = Array.from({ length: n }, () => Array.from({ length: n }, () => Math.floor(rnd() * 20)));
      const sol = linearAssignment(C);
      expect(new Set(sol).size).toBe(n);
      const cost = sol.reduce((acc, j, i) => acc + C[i]![j]!, 0);
      const best = Math.min(...perms(n).map((p) => p.reduce((acc, j, i) => acc + C[i]![j]!, 0)));
      expect(cost).toBe(best);
    }
  });
});
