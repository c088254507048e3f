import { describe, expect, it } from 'vitest';
import { makeStructure, volume } from '../core/structure/structure.js';
import { atomicMass, atomicNumber } from '../core/structure/elements.js';
import { loadMoyo } from '../core/symmetry/moyo.js';

describe('foundation smoke', () => {
  it('element table carries phonopy masses', () => {
    expect(atomicNumber('Si')).toBe(14);
    expect(atomicMass(14)).toBe(28.0855);
    expect(atomicMass(11)).toBe(22.98976928);
  });
  it('moyo finds Fd-3m for diamond Si', () => {
    const a = 5.43;
    const s = makeStructure({
      lattice: [[0, a / 2, a / 2], [a / 2, 0, a / 2], [a / 2, a / 2, 0]],
      frac: [[0, 0, 0], [0.25, 0.25, 0.25]],
      numbers: [14, 14],
    });
    expect(volume(s)).toBeCloseTo((a * a * a) / 4, 10);
    const m = loadMoyo();
    const ds = m.analyze_cell(
      JSON.stringify({ lattice: { basis: s.lattice.flat() }, positions: s.frac, numbers: s.numbers }),
      1e-5,
      'Spglib',
    );
    expect(ds.number).toBe(227);
    expect(ds.operations.length).toBe(48);
  });
});
