import { describe, expect, it } from 'vitest';
import { canonicalForm, reducedFormula, structureHash } from '../core/structure/hash.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';
import { makeSupercell } from '../core/structure/supercell.js';
import { primitiveCell } from '../core/symmetry/index.js';
import { type Mat3, matvec3 } from '../core/math/linalg.js';
import { mulberry32 } from '../core/math/random.js';


function rotationMatrix(rnd: () => number): Mat3 {
  // random rotation from a random unit quaternion
  const u = [rnd(), rnd(), rnd()];
  const q = [Math.sqrt(1 - u[0]!) * Math.sin(2 * Math.PI * u[1]!), Math.sqrt(1 - u[0]!) * Math.cos(2 * Math.PI * u[1]!), Math.sqrt(u[0]!) * Math.sin(2 * Math.PI * u[2]!), Math.sqrt(u[0]!) * Math.cos(2 * Math.PI * u[2]!)];
  const [x, y, z, w] = q as [number, number, number, number];
  return [
    [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
    [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
    [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
  ];
}

const transforms = {
  permute(s: Structure, rnd: () => number): Structure {
    const idx = s.numbers.map((_, i) => i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    return makeStructure({ lattice: s.lattice, frac: idx.map((i) => s.frac[i]!), numbers: idx.map((i) => s.numbers[i]!) });
  },
  translate(s: Structure, rnd: () => number): Structure {
    const t = [rnd(), rnd(), rnd()];
    return makeStructure({ lattice: s.lattice, frac: s.frac.map((p) => p.map((x, k) => x + t[k]! + Math.floor(rnd() * 3) - 1)), numbers: s.numbers });
  },
  rotate(s: Structure, rnd: () => number): Structure {
    const R = rotationMatrix(rnd);
    return makeStructure({ lattice: s.lattice.map((r) => matvec3(R, r)), frac: s.frac, numbers: s.numbers });
  },
  mirror(s: Structure): Structure {
    return makeStructure({ lattice: s.lattice.map((r) => [-r[0]!, r[1]!, r[2]!]), frac: s.frac, numbers: s.numbers });
  },
  supercell(s: Structure, rnd: () => number): Structure {
    const choices = [
      [[2, 0, 0], [0, 1, 0], [0, 0, 1]],
      [[1, 1, 0], [-1, 1, 0], [0, 0, 1]],
      [[1, 0, 1], [0, 2, 0], [1, 0, -1]],
      [[2, 1, 0], [0, 1, 1], [1, 0, 1]],
    ];
    return makeSupercell(s, choices[Math.floor(rnd() * choices.length)]!).structure;
  },
  rebase(s: Structure, rnd: () => number): Structure {
    // same cell, another basis: unimodular change of basis, positions re-expressed
    const Ms: Mat3[] = [
      [[1, 1, 0], [0, 1, 0], [0, 0, 1]],
      [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
      [[1, 0, 0], [2, 1, 0], [-1, 3, 1]],
    ];
    const M = Ms[Math.floor(rnd() * Ms.length)]!;
    const L = M.map((r) => [0, 1, 2].map((k) => r[0] * s.lattice[0]![k]! + r[1] * s.lattice[1]![k]! + r[2] * s.lattice[2]![k]!));
    // f' = f·M⁻¹ ; for these M compute by solving via cart
    const cart = s.frac.map((f) => [0, 1, 2].map((k) => f[0]! * s.lattice[0]![k]! + f[1]! * s.lattice[1]![k]! + f[2]! * s.lattice[2]![k]!));
    return makeStructure({ lattice: L, cart, numbers: s.numbers });
  },
};

function rutile(): Structure {
  const a = 4.594, c = 2.959, u = 0.3048;
  return makeStructure({
    lattice: [[a, 0, 0], [0, a, 0], [0, 0, c]],
    frac: [[0, 0, 0], [0.5, 0.5, 0.5], [u, u, 0], [-u, -u, 0], [0.5 + u, 0.5 - u, 0.5], [0.5 - u, 0.5 + u, 0.5]],
    numbers: [22, 22, 8, 8, 8, 8],
  });
}

function randomTriclinic(rnd: () => number): Structure {
  return makeStructure({
    lattice: [[4 + rnd(), 0, 0], [0.7 * rnd(), 4.5 + rnd(), 0], [0.5 * rnd(), -0.4 * rnd(), 5 + rnd()]],
    frac: Array.from({ length: 5 }, () => [rnd(), rnd(), rnd()]),
    numbers: [8, 8, 12, 14, 14],
  });
}

function rocksalt(): Structure {
  const a = 5.64;
  const f = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]];
  return makeStructure({ lattice: [[a, 0, 0], [0, a, 0], [0, 0, a]], frac: [...f, ...f.map((p) => [p[0]! + 0.5, p[1]!, p[2]!])], numbers: [11, 11, 11, 11, 17, 17, 17, 17] });
}

describe('structureHash', () => {
  it('reducedFormula is the alphabetical reduced formula', () => {
    expect(reducedFormula([22, 22, 8, 8, 8, 8])).toBe('O2Ti');
    expect(reducedFormula([11, 17, 11, 17])).toBe('ClNa');
  });

  it('is invariant to permutation, translation, rotation, mirroring, basis change and supercells', () => {
    const rnd = mulberry32(42);
    const bases = [rutile(), rocksalt(), randomTriclinic(rnd), randomTriclinic(rnd)];
    for (const s of bases) {
      const h = structureHash(s);
      expect(h).toMatch(/^[0-9a-f]{64}$/);
      for (const [name, f] of Object.entries(transforms)) {
        for (let k = 0; k < 2; k++) {
          const t = f(s, rnd);
          expect(structureHash(t), name).toBe(h);
        }
      }
      // a chain of transformations
      let t = s;
      for (const f of [transforms.supercell, transforms.permute, transforms.rotate, transforms.translate, transforms.rebase]) t = f(t, rnd);
      expect(structureHash(t)).toBe(h);
    }
  });

  it('primitive and conventional cells of the same crystal hash the same', () => {
    const conv = rocksalt();
    const prim = primitiveCell(conv, 1e-5, { idealize: false }).structure;
    expect(prim.numbers.length).toBe(2);
    expect(structureHash(prim)).toBe(structureHash(conv));
  });

  it('absorbs float noise far below the grid', () => {
    const rnd = mulberry32(9);
    const s = rutile();
    const noisy = makeStructure({ lattice: s.lattice, frac: s.frac.map((p) => p.map((x) => x + 1e-9 * (rnd() - 0.5))), numbers: s.numbers });
    expect(structureHash(noisy)).toBe(structureHash(s));
  });

  it('tells different structures apart', () => {
    const s = rutile();
    const h = structureHash(s);
    // another u parameter
    const other = makeStructure({ lattice: s.lattice, frac: s.frac.map((p, i) => (i >= 2 ? p.map((x) => (x === 0 || x === 0.5 ? x : x + Math.sign(x - 0.5) * 0.01)) : p)), numbers: s.numbers });
    expect(structureHash(other)).not.toBe(h);
    // another lattice parameter
    expect(structureHash(makeStructure({ lattice: [[4.7, 0, 0], [0, 4.7, 0], [0, 0, 2.959]], frac: s.frac, numbers: s.numbers }))).not.toBe(h);
    // swapped species
    expect(structureHash(makeStructure({ lattice: s.lattice, frac: s.frac, numbers: [8, 8, 22, 22, 22, 22] }))).not.toBe(h);
  });

  it('canonical form is a valid cell of the same composition', () => {
    const cf = canonicalForm(rocksalt());
    expect(cf.numbers.length).toBe(2);
    expect(cf.text.startsWith('structure-1|ClNa|')).toBe(true);
  });
});
