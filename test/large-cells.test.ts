// The large disordered cells of issue 16 item 4 (examples/large-cells.ts): the seeded generator is
// deterministic, the committed POSCAR files are its output, every cell has 256–264 atoms at
// physical distances, and the 264-atom cell is P1. No model: fast.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPoscar, writePoscar } from '../core/structure/io/index.js';
import { minimumImageDistance } from '../core/structure/minimum-image.js';
import { getSymmetry } from '../core/symmetry/index.js';
import { LARGE_CELL_RECIPES, buildLargeCell, largeCells } from '../examples/large-cells.js';
import { REPO_ROOT } from './helpers.js';

const DIR = join(REPO_ROOT, 'examples', 'large-cells');

describe('large cells (issue 16 item 4)', () => {
  const cells = largeCells('full');

  it('the generator is deterministic (same seed, same bytes)', () => {
    const again = largeCells('full');
    expect(again.map((c) => writePoscar(c.structure))).toEqual(cells.map((c) => writePoscar(c.structure)));
    // and a different seed gives a different decoration
    const r = LARGE_CELL_RECIPES[0]!;
    expect(writePoscar(buildLargeCell({ ...r, seed: r.seed + 1 }).structure)).not.toEqual(writePoscar(cells[0]!.structure));
  });

  it('the committed files are the generator output', () => {
    for (const c of cells) expect(readFileSync(join(DIR, `${c.id}.vasp`), 'utf8'), c.id).toBe(writePoscar(c.structure));
  });

  it('at least 6 cells of 256–264 atoms; the defect and P1 cells have their counts', () => {
    expect(cells.length).toBeGreaterThanOrEqual(6);
    for (const c of cells) {
      expect(c.structure.numbers.length, c.id).toBeGreaterThanOrEqual(256);
      expect(c.structure.numbers.length, c.id).toBeLessThanOrEqual(264);
    }
    const n = Object.fromEntries(cells.map((c) => [c.id, c.structure.numbers.length]));
    expect(n).toEqual({
      'CuNi-fcc-256': 256,
      'Cu3Au-fcc-256': 256,
      'MoW-bcc-256': 256,
      'FeCr-bcc-256': 256,
      'AgPd-fcc-rattled-256': 256,
      'AlCu-fcc-defects-258': 258,
      'CuNi-fcc-interstitials-P1-264': 264,
    });
    // exact compositions (Cu3Au: 192 Cu + 64 Au)
    const au = cells.find((c) => c.id === 'Cu3Au-fcc-256')!.structure.numbers.filter((z) => z === 79).length;
    expect(au).toBe(64);
  });

  it('the 264-atom cell is P1 at every tolerance the pipeline uses', () => {
    const p1 = cells.find((c) => c.structure.numbers.length === 264)!;
    for (const symprec of [0.1, 0.01, 1e-5]) expect(getSymmetry(p1.structure, symprec).number, `symprec ${symprec}`).toBe(1);
    // read back from the committed file too
    const read = readPoscar(readFileSync(join(DIR, `${p1.id}.vasp`), 'utf8'))[0]!;
    expect(getSymmetry(read, 0.1).number).toBe(1);
  });

  it('sane distances: no pair closer than 1.6 Å (octahedral interstitials: a/2)', () => {
    for (const c of cells) {
      const s = c.structure;
      let min = Infinity;
      for (let i = 0; i < s.numbers.length; i++) for (let j = i + 1; j < s.numbers.length; j++) min = Math.min(min, minimumImageDistance(s.lattice, [s.frac[j]![0] - s.frac[i]![0], s.frac[j]![1] - s.frac[i]![1], s.frac[j]![2] - s.frac[i]![2]]));
      expect(min, c.id).toBeGreaterThan(1.6);
      expect(min, c.id).toBeLessThan(3.2);
    }
  });

  it('small versions (development) keep the recipes on 32–33 atoms', () => {
    expect(largeCells('small').map((c) => c.structure.numbers.length)).toEqual([32, 32, 32, 32, 32, 32, 33]);
  });
});
