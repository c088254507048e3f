// core/symmetry/standardize.ts: moyo's standardized cells read once for every caller.
import { describe, expect, it } from 'vitest';
import { type Mat3, matmul3, transpose3 } from '../core/math/linalg.js';
import { makeStructure } from '../core/structure/structure.js';
import { getSymmetry, primitiveCell, standardizeCell } from '../core/symmetry/index.js';
import { crystalFamily, standardSetting } from '../core/symmetry/standardize.js';

function maxDiff(a: Mat3, b: Mat3): number {
  let m = 0;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) m = Math.max(m, Math.abs(a[i]![j]! - b[i]![j]!));
  return m;
}

describe('standardSetting', () => {
  // rock salt in its primitive cell, rotated: conventional cell is 4× larger
  const a = 5.64;
  const c = Math.cos(0.3), s = Math.sin(0.3);
  const prim: Mat3 = [
    [0, a / 2, a / 2],
    [a / 2, 0, a / 2],
    [a / 2, a / 2, 0],
  ];
  const R: Mat3 = [
    [c, -s, 0],
    [s, c, 0],
    [0, 0, 1],
  ];
  const lattice = matmul3(prim, transpose3(R));
  const nacl = makeStructure({ lattice, frac: [[0, 0, 0], [0.5, 0.5, 0.5]], numbers: [11, 17] });

  it('relates the conventional cell to the input: L_std = Pᵀ · L · Qᵀ', () => {
    const ds = getSymmetry(nacl, 1e-5).dataset;
    const st = standardSetting(ds, 'conventional');
    expect(st.numbers.length).toBe(8);
    expect(maxDiff(matmul3(matmul3(transpose3(st.linear), lattice), transpose3(st.rotation)), st.lattice)).toBeLessThan(1e-9);
    // the same transformation standardizeCell reports
    const t = standardizeCell(nacl, 1e-5).transformation;
    expect(t.linear).toEqual(st.linear);
    expect(t.originShift).toEqual(st.originShift);
    expect(t.rotation).toEqual(st.rotation);
  });

  it('primitive setting: as primitiveCell', () => {
    const ds = getSymmetry(nacl, 1e-5).dataset;
    const st = standardSetting(ds, 'primitive');
    expect(st.numbers.length).toBe(2);
    expect(primitiveCell(nacl, 1e-5).transformation.linear).toEqual(st.linear);
  });

  it('crystal families by space-group number', () => {
    expect([1, 2, 3, 15, 16, 74, 75, 142, 143, 194, 195, 230].map(crystalFamily).join('')).toBe('aammootthhcc');
  });
});
