import { describe, expect, it } from 'vitest';
import {
  detectFormat,
  readExtxyz,
  readPoscar,
  readPymatgenJson,
  readStructuresFromText,
  writeCif,
  writeExtxyz,
  writePoscar,
  readCif,
} from '../core/structure/io/index.js';
import { SoftmodeInputError } from '../core/errors.js';
import { cartesian, makeStructure, volume, type Structure } from '../core/structure/structure.js';

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof SoftmodeInputError) return e.code;
    throw e;
  }
  return 'no error';
}

function maxDiff(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  a.forEach((r, i) => r.forEach((x, j) => (m = Math.max(m, Math.abs(x - b[i]![j]!)))));
  return m;
}

// a deterministic pseudo-random skewed structure with awkward numbers
function randomStructure(seed: number, n: number): Structure {
  let x = seed;
  const rnd = (): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  const lattice = [
    [4 + rnd(), 0.3 * rnd(), -0.2 * rnd()],
    [1.1 * rnd(), 5 + rnd(), 0.4 * rnd()],
    [-0.7 * rnd(), 0.9 * rnd(), 6 + rnd()],
  ];
  const zs = [1, 8, 14, 26, 79];
  const numbers = Array.from({ length: n }, (_, i) => zs[(i * 7 + seed) % zs.length]!);
  const frac = Array.from({ length: n }, () => [rnd(), rnd(), rnd() * 1e-7 + rnd()]);
  return makeStructure({ lattice, frac, numbers, name: `rand${seed}` });
}

describe('round trips (1e-10)', () => {
  for (const seed of [1, 2, 3]) {
    const s = randomStructure(seed, 9);
    it(`POSCAR seed ${seed}: exact, atom order kept (repeated species)`, () => {
      const r = readPoscar(writePoscar(s))[0]!;
      expect(r.numbers).toEqual(s.numbers);
      expect(maxDiff(r.lattice, s.lattice)).toBeLessThan(1e-10);
      expect(maxDiff(r.frac, s.frac)).toBeLessThan(1e-10);
    });
    it(`extxyz seed ${seed}: positions, forces, energy, stress`, () => {
      const forces = s.frac.map((f) => [f[0] - 0.5, f[1] * 3, -f[2]] as [number, number, number]);
      const stress = [
        [0.01, 0.002, -0.003],
        [0.002, -0.02, 1e-9],
        [-0.003, 1e-9, 0.005],
      ] as [[number, number, number], [number, number, number], [number, number, number]];
      const t = makeStructure({ lattice: s.lattice, frac: s.frac, numbers: s.numbers, properties: { energy: -12.345678901234567, forces, stress, info: { config_type: 'bulk test', step: 3 } } });
      const [r] = readExtxyz(writeExtxyz([t, t]) /* two frames */);
      expect(readExtxyz(writeExtxyz([t, t])).length).toBe(2);
      expect(r!.numbers).toEqual(s.numbers);
      expect(maxDiff(r!.lattice, s.lattice)).toBe(0);
      expect(maxDiff(r!.frac, s.frac)).toBeLessThan(1e-10);
      expect(maxDiff(cartesian(r!), cartesian(s))).toBeLessThan(1e-10);
      expect(r!.properties!.energy).toBe(-12.345678901234567);
      expect(maxDiff(r!.properties!.forces!, forces)).toBe(0);
      expect(maxDiff(r!.properties!.stress!, stress)).toBe(0);
      expect(r!.properties!['info']).toEqual({ config_type: 'bulk test', step: 3 });
    });
    it(`CIF seed ${seed}: cell parameters and fractional positions`, () => {
      const r = readCif(writeCif(s))[0]!;
      expect(r.numbers).toEqual(s.numbers);
      expect(maxDiff(r.frac, s.frac)).toBeLessThan(1e-10);
      expect(Math.abs(volume(r) - volume(s))).toBeLessThan(1e-10);
      // the CIF cell is re-oriented (a along x): compare the metric tensors
      const g = (L: readonly (readonly number[])[]): number[][] => L.map((u) => L.map((v) => u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!));
      expect(maxDiff(g(r.lattice), g(s.lattice))).toBeLessThan(1e-10);
    });
  }
});

describe('POSCAR variants', () => {
  const body = `  0.0 2.7 2.7\n  2.7 0.0 2.7\n  2.7 2.7 0.0\n`;
  it('VASP 5 with selective dynamics and Cartesian coordinates', () => {
    const t = `Si2\n1.0\n${body}Si\n2\nSelective dynamics\nCartesian\n0 0 0 T T F\n1.35 1.35 1.35 F F F\n`;
    const s = readPoscar(t)[0]!;
    expect(s.numbers).toEqual([14, 14]);
    expect(maxDiff(s.frac, [
      [0, 0, 0],
      [0.25, 0.25, 0.25],
    ])).toBeLessThan(1e-12);
    expect(s.properties!['selectiveDynamics']).toEqual([
      [true, true, false],
      [false, false, false],
    ]);
    const again = readPoscar(writePoscar(s))[0]!;
    expect(again.properties!['selectiveDynamics']).toEqual(s.properties!['selectiveDynamics']);
  });
  it('negative scale factor is the target volume; three factors scale x, y, z', () => {
    const s = readPoscar(`Si\n-100\n${body}Si\n2\nDirect\n0 0 0\n0.25 0.25 0.25\n`)[0]!;
    expect(volume(s)).toBeCloseTo(100, 10);
    const c = readPoscar(`Si\n-100\n${body}Si\n2\nCartesian\n0 0 0\n1.35 1.35 1.35\n`)[0]!;
    expect(maxDiff(c.frac, s.frac)).toBeLessThan(1e-12);
    // Cartesian positions are scaled like the lattice (VASP, ASE)
    const t = readPoscar(`x\n1 2 3\n1 0 0\n0 1 0\n0 0 1\nO\n1\nCartesian\n0.5 0.5 0.5\n`)[0]!;
    expect(t.lattice).toEqual([
      [1, 0, 0],
      [0, 2, 0],
      [0, 0, 3],
    ]);
    expect(maxDiff(t.frac, [[0.5, 0.5, 0.5]])).toBeLessThan(1e-15);
  });
  it('VASP 4: species from the comment line, else unknown_element', () => {
    const s = readPoscar(`Na Cl\n5.64\n1 0 0\n0 1 0\n0 0 1\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n`)[0]!;
    expect(s.numbers).toEqual([11, 17]);
    expect(code(() => readPoscar(`rocksalt\n5.64\n1 0 0\n0 1 0\n0 0 1\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n`))).toBe('unknown_element');
  });
  it('POTCAR-suffixed species (VASP 5.4)', () => {
    const s = readPoscar(`x\n1\n3 0 0\n0 3 0\n0 0 3\nFe_pv/abc123 O\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n`)[0]!;
    expect(s.numbers).toEqual([26, 8]);
  });
  it('fails fast on count claims and truncation', () => {
    const t0 = performance.now();
    expect(code(() => readPoscar(`x\n1\n3 0 0\n0 3 0\n0 0 3\nSi\n10000000\nDirect\n0 0 0\n`))).toBe('too_many_atoms');
    expect(code(() => readPoscar(`x\n1\n3 0 0\n0 3 0\n0 0 3\nSi\n99999999999999999999999\nDirect\n0 0 0\n`))).toBe('too_many_atoms');
    expect(performance.now() - t0).toBeLessThan(100);
    expect(code(() => readPoscar(`x\n1\n3 0 0\n0 3 0\n0 0 3\nSi\n3\nDirect\n0 0 0\n`))).toBe('unparsable');
    expect(code(() => readPoscar(`x\n1\n3 0 0\n0 3 0\n`))).toBe('unparsable');
    expect(code(() => readPoscar(`x\n1\n3 0 0\n0 3 0\n0 0 3\nSi\n1\nDirect\n0 NaN 0\n`))).toBe('non_finite');
    expect(code(() => readPoscar(`x\n0\n3 0 0\n0 3 0\n0 0 3\nSi\n1\nDirect\n0 0 0\n`))).toBe('no_cell');
  });
});

describe('extended XYZ', () => {
  const frame = `2\nLattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3:REF_forces:R:3:forces:R:3 REF_energy=-3.5 energy=-3.0 REF_stress="1 2 3 4 5 6" pbc="T T T" config_type=bulk\nNa 0 0 0 0.1 0.2 0.3 9 9 9\nCl 2 2 2 -0.1 -0.2 -0.3 9 9 9\n`;
  it('prefers REF_ labels, Voigt stress, records the keys', () => {
    const s = readExtxyz(frame, 'f.xyz')[0]!;
    expect(s.properties!.energy).toBe(-3.5);
    expect(s.properties!.forces![1]).toEqual([-0.1, -0.2, -0.3]);
    // Voigt xx yy zz yz xz xy
    expect(s.properties!.stress).toEqual([
      [1, 6, 5],
      [6, 2, 4],
      [5, 4, 3],
    ]);
    expect(s.properties!['labelKeys']).toEqual({ energy: 'REF_energy', forces: 'REF_forces', stress: 'REF_stress' });
    expect((s.properties!['info'] as Record<string, unknown>)['config_type']).toBe('bulk');
    expect(s.frac[1]).toEqual([0.5, 0.5, 0.5]);
  });
  it('converts GPa stress and virial', () => {
    const g = readExtxyz(`1\nLattice="2 0 0 0 2 0 0 0 2" Properties=species:S:1:pos:R:3 stress="160.21766208 0 0 0 0 0 0 0 0" stress_unit=GPa\nH 0 0 0\n`)[0]!;
    expect(g.properties!.stress![0][0]).toBeCloseTo(1, 12);
    const v = readExtxyz(`1\nLattice="2 0 0 0 2 0 0 0 2" Properties=species:S:1:pos:R:3 virial="8 0 0 0 8 0 0 0 8"\nH 0 0 0\n`)[0]!;
    expect(v.properties!.stress![1][1]).toBe(-1);
  });
  it('typed errors', () => {
    expect(code(() => readExtxyz(frame.replace('REF_forces:R:3:', '')))).toBe('unparsable'); // column count mismatch
    expect(code(() => readExtxyz(frame.replace('Lattice="4 0 0 0 4 0 0 0 4" ', '')))).toBe('no_cell');
    expect(code(() => readExtxyz(frame.replace('pbc="T T T"', 'pbc="T T F"')))).toBe('no_cell');
    expect(code(() => readExtxyz(frame.replace('species:S:1', 'species:Q:1')))).toBe('unparsable');
    expect(code(() => readExtxyz(frame.replace('REF_stress="1 2 3 4 5 6"', 'REF_stress="1 2 3"')))).toBe('unparsable');
    expect(code(() => readExtxyz('10000000\nLattice="4 0 0 0 4 0 0 0 4"\nH 0 0 0\n'))).toBe('too_many_atoms');
    expect(code(() => readExtxyz(frame.split('\n').slice(0, 3).join('\n')))).toBe('unparsable');
    expect(code(() => readExtxyz(frame.replace('Na 0 0 0', 'Na inf 0 0')))).toBe('non_finite');
  });
});

describe('pymatgen JSON', () => {
  const d = {
    '@module': 'pymatgen.core.structure',
    '@class': 'Structure',
    charge: 0,
    lattice: { matrix: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], pbc: [true, true, true] },
    sites: [
      { species: [{ element: 'Cs', occu: 1 }], abc: [0, 0, 0], xyz: [0, 0, 0], label: 'Cs', properties: {} },
      { species: [{ element: 'Cl', occu: 1 }], abc: [0.5, 0.5, 0.5], xyz: [1.5, 1.5, 1.5], label: 'Cl', properties: {} },
    ],
  };
  it('reads one structure and a list', () => {
    const [s] = readPymatgenJson(JSON.stringify(d));
    expect(s!.numbers).toEqual([55, 17]);
    expect(s!.frac[1]).toEqual([0.5, 0.5, 0.5]);
    expect(readPymatgenJson(JSON.stringify([d, d, d])).length).toBe(3);
  });
  it('typed errors', () => {
    const bad = (f: (x: typeof d) => unknown): string => code(() => readPymatgenJson(JSON.stringify(f(structuredClone(d)))));
    expect(bad((x) => ((x.sites[0]!.species[0]!.occu = 0.5), x))).toBe('partial_occupancy');
    expect(bad((x) => (x.sites[0]!.species.push({ element: 'K', occu: 0.5 }), x))).toBe('partial_occupancy');
    expect(bad((x) => ((x.lattice as unknown as Record<string, unknown>)['matrix'] = [1, 2, 3], x))).toBe('unparsable');
    expect(bad((x) => ({ ...x, lattice: undefined }))).toBe('no_cell');
    expect(bad((x) => ((x.sites[0]!.species[0]!.element = 'Zz'), x))).toBe('unknown_element');
    expect(bad(() => ({ hello: 'world' }))).toBe('no_cell');
    expect(code(() => readPymatgenJson('{"lattice": {"matrix": [[NaN,0,0],[0,1,0],[0,0,1]]}}'))).toBe('unparsable');
    expect(code(() => readPymatgenJson('[' .repeat(100000)))).toBe('unparsable');
  });
});

describe('format detection', () => {
  it('by name, then by content', () => {
    expect(detectFormat('a/b/POSCAR', '')).toBe('poscar');
    expect(detectFormat('CONTCAR_relaxed', '')).toBe('poscar');
    expect(detectFormat('x.cif', '')).toBe('cif');
    expect(detectFormat('x.extxyz', '')).toBe('extxyz');
    expect(detectFormat('x.json', '')).toBe('pymatgen-json');
    expect(detectFormat('noext', 'data_foo\n_cell_length_a 1\n')).toBe('cif');
    expect(detectFormat('noext', '2\nLattice="1 0 0 0 1 0 0 0 1"\n')).toBe('extxyz');
    expect(detectFormat('noext', 'comment\n1.0\n1 0 0\n0 1 0\n0 0 1\n')).toBe('poscar');
    expect(detectFormat('noext', '  {"sites": []}')).toBe('pymatgen-json');
    expect(code(() => detectFormat('noext', 'hello world'))).toBe('unsupported_format');
    expect(readStructuresFromText(writePoscar(randomStructure(5, 3)), 'poscar').length).toBe(1);
    // a byte-order mark is ignored
    expect(readStructuresFromText('\ufeff' + writeCif(randomStructure(6, 2)), 'cif')[0]!.numbers.length).toBe(2);
  });
});
