import { describe, expect, it } from 'vitest';
import { dedupStructures } from '../core/structure/dedup.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';
import { makeSupercell } from '../core/structure/supercell.js';
import { type Mat3, matvec3 } from '../core/math/linalg.js';
import { mulberry32 } from '../core/math/random.js';


function prototype(rnd: () => number, numbers: number[], stretch = 1): Structure {
  return makeStructure({
    lattice: [[4 + rnd(), 0, 0], [0.5 * rnd(), 4.5 + rnd(), 0], [0.3 * rnd(), -0.3 * rnd(), (5 + rnd()) * stretch]],
    frac: numbers.map(() => [rnd(), rnd(), rnd()]),
    numbers,
  });
}

function variant(s: Structure, rnd: () => number, kind: number): Structure {
  switch (kind % 4) {
    case 0: {
      const th = 2 * Math.PI * rnd();
      const R: Mat3 = [[1, 0, 0], [0, Math.cos(th), -Math.sin(th)], [0, Math.sin(th), Math.cos(th)]];
      return makeStructure({ lattice: s.lattice.map((r) => matvec3(R, r)), frac: s.frac, numbers: s.numbers });
    }
    case 1:
      return makeSupercell(s, [[1, 0, 0], [1, 1, 0], [0, 0, 2]]).structure;
    case 2:
      return makeStructure({ lattice: s.lattice, frac: s.frac.map((p) => p.map((x) => x + 0.004 * (rnd() - 0.5))), numbers: s.numbers });
    default:
      // 20 % larger volume: the matcher scales volumes, the volume buckets must still meet
      return makeStructure({ lattice: s.lattice.map((r) => r.map((x) => x * Math.cbrt(1.2))), frac: s.frac, numbers: s.numbers });
  }
}

describe('dedupStructures', () => {
  it('groups variants of the same structure and keeps different ones apart', () => {
    const rnd = mulberry32(7);
    // same formula twice, cells of different shape (c stretched ×2: beyond ltol), and another formula
    const protos = [prototype(rnd, [8, 8, 12]), prototype(rnd, [8, 8, 12], 2), prototype(rnd, [8, 14, 14, 14])];
    const input: Structure[] = [];
    const truth: number[] = [];
    for (let k = 0; k < 4; k++)
      protos.forEach((p, i) => {
        input.push(k === 0 ? p : variant(p, rnd, k - 1 + i));
        truth.push(i);
      });
    const r = dedupStructures(input);
    expect(r.failed).toEqual([]);
    expect(r.groups.length).toBe(3);
    for (let a = 0; a < input.length; a++)
      for (let b = 0; b < input.length; b++) expect(r.groupOf[a] === r.groupOf[b], `${a} vs ${b}`).toBe(truth[a] === truth[b]);
    // representatives come first, in input order
    expect(r.groups.map((g) => g[0])).toEqual([0, 1, 2]);
  });

  it('pre-filter: structures of distinct formulas are never compared', () => {
    const rnd = mulberry32(8);
    const zs = [3, 4, 5, 6, 7, 9, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24, 25];
    const input: Structure[] = [];
    for (let i = 0; i < 60; i++) input.push(prototype(rnd, [8, zs[i % zs.length]!, zs[(i * 7 + 3) % zs.length]!]));
    const r = dedupStructures(input);
    const formulas = new Set(input.map((s) => [...s.numbers].sort((a, b) => a - b).join(',')));
    // only same-formula structures can be compared; far fewer than the 1770 pairs of the set
    expect(r.comparisons).toBeLessThanOrEqual(input.length - formulas.size + 60);
    expect(r.comparisons).toBeLessThan(200);
  });

  it('reports structures that cannot be analysed instead of throwing', () => {
    const ok = prototype(mulberry32(9), [8, 12]);
    const empty = makeStructure({ lattice: ok.lattice, frac: [], numbers: [] });
    const r = dedupStructures([ok, empty, ok]);
    expect(r.failed.map((f) => [f.index, f.code])).toEqual([[1, 'empty_structure']]);
    expect(r.groupOf).toEqual([0, -1, 0]);
  });

  it('space group in the key (optional) still groups exact copies', () => {
    const s = prototype(mulberry32(10), [8, 8, 12]);
    const r = dedupStructures([s, variant(s, mulberry32(11), 0)], { dedup: { spacegroupInKey: true } });
    expect(r.groups.length).toBe(1);
  });
});
