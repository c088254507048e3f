import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectFiles, parseArgs, run, validateFiles } from '../cli/commands/validate.js';
import { HAS_SHARED, SHARED_MISSING, sharedPath } from './helpers.js';

const NACL_POSCAR = `NaCl rocksalt
5.64
 0.0 0.5 0.5
 0.5 0.0 0.5
 0.5 0.5 0.0
Na Cl
1 1
Direct
0 0 0
0.5 0.5 0.5
`;

// the same crystal, conventional cell, atoms shuffled: must get the same id
const NACL_CONV_CIF = `data_NaCl
_cell_length_a 5.64
_cell_length_b 5.64
_cell_length_c 5.64
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Cl1 Cl 0.5 0.5 0.5
Na1 Na 0 0 0
Na2 Na 0 0.5 0.5
Cl2 Cl 0.5 0 0
Na3 Na 0.5 0 0.5
Cl3 Cl 0 0.5 0
Na4 Na 0.5 0.5 0
Cl4 Cl 0 0 0.5
`;

const PARTIAL_CIF = `data_disordered
_cell_length_a 4
_cell_length_b 4
_cell_length_c 4
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Fe1 Fe 0 0 0 0.5
Co1 Co 0 0 0 0.5
`;

const TOO_CLOSE_POSCAR = `overlap
1.0
 4 0 0
 0 4 0
 0 0 4
Si
2
Cartesian
0 0 0
0.1 0 0
`;

describe('softmode validate', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'softmode-validate-'));
    mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(dir, 'NaCl.vasp'), NACL_POSCAR);
    writeFileSync(join(dir, 'sub', 'nacl_conv.cif'), NACL_CONV_CIF);
    writeFileSync(join(dir, 'sub', 'deeper', 'partial.cif'), PARTIAL_CIF);
    writeFileSync(join(dir, 'sub', 'POSCAR_close'), TOO_CLOSE_POSCAR);
    writeFileSync(join(dir, 'garbage.cif'), Buffer.from([0x00, 0xff, 0x13, 0x37, 0x00]));
    writeFileSync(join(dir, 'notes.txt'), 'not a structure, skipped when walking directories');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parses arguments and reports usage errors', () => {
    expect(parseArgs([])).toBe('no files or directories given');
    expect(typeof parseArgs(['--frobnicate', 'x'])).toBe('string');
    expect(typeof parseArgs(['--symprec', 'abc', 'x'])).toBe('string');
    expect(typeof parseArgs(['--symprec', '-1', 'x'])).toBe('string');
    expect(parseArgs(['a', '--json', '--symprec', '0.01', 'b'])).toEqual({ paths: ['a', 'b'], json: true, symprec: 0.01 });
    expect(parseArgs(['--symprec=0.2', 'a'])).toEqual({ paths: ['a'], json: false, symprec: 0.2 });
  });

  it('walks directories recursively, skipping unknown extensions', () => {
    const files = collectFiles([dir]).map((f) => f.slice(dir.length + 1));
    expect(files).toEqual(['NaCl.vasp', 'garbage.cif', 'sub/POSCAR_close', 'sub/deeper/partial.cif', 'sub/nacl_conv.cif']);
  });

  it('gives one entry per structure with id, formula, atoms, space group and verdict', () => {
    const res = validateFiles(collectFiles([dir]), 0.1);
    const by = Object.fromEntries(res.map((r) => [r.file.slice(dir.length + 1), r]));
    const prim = by['NaCl.vasp']!;
    expect(prim.verdict).toBe('ok');
    expect(prim.formula).toBe('ClNa');
    expect(prim.atoms).toBe(2);
    expect(prim.spaceGroup).toEqual({ number: 225, symbol: expect.stringContaining('F') });
    expect(prim.id).toMatch(/^[0-9a-f]{64}$/);
    const conv = by['sub/nacl_conv.cif']!;
    expect(conv.verdict).toBe('ok');
    expect(conv.atoms).toBe(8);
    expect(conv.formula).toBe('Cl4Na4');
    expect(conv.id).toBe(prim.id); // same crystal, other cell and atom order
    expect(by['sub/deeper/partial.cif']!.verdict).toBe('partial_occupancy');
    expect(by['sub/POSCAR_close']!.verdict).toBe('atoms_too_close');
    expect(by['garbage.cif']!.verdict).toBe('unparsable');
    expect(by['garbage.cif']!.id).toBeNull();
  });

  it('exits 0 with bad structures, 2 on usage errors and missing paths; --json is one JSON document', async () => {
    const out: string[] = [];
    const w = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    const l = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ') + '\n'));
    const e = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await run([dir, '--json'])).toBe(0);
      const doc = JSON.parse(out.join('')) as { results: { verdict: string }[]; summary: { structures: number; ok: number; byVerdict: Record<string, number> } };
      expect(doc.results.length).toBe(5);
      expect(doc.summary.ok).toBe(2);
      expect(doc.summary.byVerdict['unparsable']).toBe(1);
      out.length = 0;
      expect(await run([dir])).toBe(0);
      expect(out.join('')).toMatch(/3 structures in 5 files: 2 ok/);
      expect(await run([])).toBe(2);
      expect(await run([join(dir, 'does-not-exist')])).toBe(2);
      expect(await run(['--bogus', dir])).toBe(2);
    } finally {
      w.mockRestore();
      l.mockRestore();
      e.mockRestore();
    }
  });
});

describe.skipIf(!HAS_SHARED)('softmode validate on the MatterGen set', () => {
  if (!HAS_SHARED) console.warn(SHARED_MISSING);
  it('reads all 450 files, each with id, formula, atoms and space group', () => {
    const res = validateFiles(collectFiles([sharedPath('data/structures/mattergen')]), 0.1);
    expect(res.length).toBe(450);
    const notOk = res.filter((r) => r.verdict !== 'ok');
    expect(notOk.map((r) => `${r.file}: ${r.verdict} ${r.message ?? ''}`)).toEqual([]);
    for (const r of res) {
      expect(r.id).toMatch(/^[0-9a-f]{64}$/);
      expect(r.spaceGroup!.number).toBeGreaterThanOrEqual(1);
    }
  }, 120_000);
});
