// compare:dft (issue 7) puts the model on the DFT primitive cell with the archive's supercell
// expressed on it. Both transformations are checked against phonopy's own numbers for every
// phonondb archive (bench/results/phonondb-reference.json: atoms in the primitive cell and
// `supercell_matrix_wrt_primitive`), so the model's supercell is the DFT supercell.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { primitiveByMatrix, supercellOnPrimitive } from '../bench/compare-dft.js';
import { archiveId, extractArchive, listArchives, REFERENCE_JSON } from '../bench/phonondb-parity.js';
import { parsePhonopyConf } from '../core/phonon/phonopy-io.js';
import { readPoscar } from '../core/structure/io/index.js';
import { makeStructure } from '../core/structure/structure.js';
import { HAS_SHARED, SHARED_MISSING } from './helpers.js';

if (!HAS_SHARED) console.warn(SHARED_MISSING);

describe('primitiveByMatrix / supercellOnPrimitive', () => {
  it('F-centred cell → 1/4 of the atoms; diagonal DIM 2 becomes 2·P⁻¹', () => {
    const fcc = makeStructure({ lattice: [[4, 0, 0], [0, 4, 0], [0, 0, 4]], frac: [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]], numbers: [13, 13, 13, 13] });
    const P = [[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]];
    const p = primitiveByMatrix(fcc, P);
    expect(p.numbers).toEqual([13]);
    expect(Math.abs(p.lattice[0]![1]! - 2)).toBeLessThan(1e-12);
    expect(supercellOnPrimitive([[2, 0, 0], [0, 2, 0], [0, 0, 2]], P)).toEqual([[-2, 2, 2], [2, -2, 2], [2, 2, -2]]);
  });

  it('refuses a matrix that does not divide the cell', () => {
    const sc = makeStructure({ lattice: [[4, 0, 0], [0, 4, 0], [0, 0, 4]], frac: [[0, 0, 0], [0.3, 0.1, 0.2]], numbers: [13, 8] });
    expect(() => primitiveByMatrix(sc, [[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])).toThrow(/expected/);
    expect(() => supercellOnPrimitive([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[2, 0, 0], [0, 1, 0], [0, 0, 1]])).toThrow(/not integer/);
  });
});

describe.skipIf(!HAS_SHARED)('against phonopy on every phonondb archive', () => {
  it('same primitive atom count and supercell matrix on the primitive cell', () => {
    const ref = JSON.parse(readFileSync(REFERENCE_JSON, 'utf8')) as { materials: { id: string; n_atoms_primitive: number; supercell_matrix_wrt_primitive: number[][] }[] };
    const byId = new Map(ref.materials.map((m) => [m.id, m]));
    const archives = listArchives();
    expect(archives.length).toBeGreaterThan(100);
    for (const a of archives) {
      const id = archiveId(a.split('/').pop()!);
      const f = extractArchive(a);
      const unit = readPoscar(f['POSCAR-unitcell']!, 'POSCAR-unitcell')[0]!;
      const conf = parsePhonopyConf(f['phonopy.conf']!);
      const P = conf.primitiveMatrix ?? [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
      const m = byId.get(id)!;
      expect(primitiveByMatrix(unit, P).numbers.length, id).toBe(m.n_atoms_primitive);
      expect(supercellOnPrimitive(conf.supercellMatrix!, P), id).toEqual(m.supercell_matrix_wrt_primitive.map((r) => r.map((x) => Math.round(x) || 0)));
    }
  }, 120_000);
});
