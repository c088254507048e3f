import { describe, expect, it } from 'vitest';
import { readCif, writeCif, latticeToCellpar } from '../core/structure/io/index.js';
import { parseXyzOperation, resolveSpaceGroup } from '../core/structure/io/symops.js';
import { parseCifBlocks, tokenizeCif } from '../core/structure/io/cif.js';
import { SoftmodeInputError } from '../core/errors.js';
import { cartesian, volume, type Structure } from '../core/structure/structure.js';

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof SoftmodeInputError) return e.code;
    throw e;
  }
  return 'no error';
}

function sortedFrac(s: Structure): string[] {
  return s.frac.map((f, i) => `${s.numbers[i]} ${f.map((x) => (((x % 1) + 1) % 1).toFixed(4).replace('1.0000', '0.0000')).join(' ')}`).sort();
}

const NACL_HEAD = `data_NaCl
_cell_length_a 5.64(1)
_cell_length_b 5.64(1)
_cell_length_c 5.64(1)
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
`;
const NACL_SITES = `loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Na1 Na+ 0 0 0 1.0
Cl1 Cl- 0.5 0.5 0.5 1.0
`;

// Fm-3m written out: 48 point operations × 4 centring translations
function fm3mOperators(): string[] {
  const perms = [
    [0, 1, 2],
    [1, 2, 0],
    [2, 0, 1],
    [1, 0, 2],
    [0, 2, 1],
    [2, 1, 0],
  ];
  const ops: string[] = [];
  const centring = [
    ['', '', ''],
    ['', '+1/2', '+1/2'],
    ['+1/2', '', '+1/2'],
    ['+1/2', '+1/2', ''],
  ];
  for (const t of centring)
    for (const p of perms)
      for (let signs = 0; signs < 8; signs++) {
        const comp = [0, 1, 2].map((i) => `${signs & (1 << i) ? '-' : ''}${'xyz'[p[i]!]}${t[i]}`);
        ops.push(comp.join(','));
      }
  return ops;
}

describe('CIF symmetry expansion', () => {
  it('NaCl from explicit Fm-3m operators gives 8 atoms in the conventional cell', () => {
    const text = NACL_HEAD + 'loop_\n_symmetry_equiv_pos_as_xyz\n' + fm3mOperators().map((o) => `'${o}'`).join('\n') + '\n' + NACL_SITES;
    const [s] = readCif(text);
    expect(s!.numbers.length).toBe(8);
    expect(s!.numbers.filter((z) => z === 11).length).toBe(4);
    expect(volume(s!)).toBeCloseTo(5.64 ** 3, 9);
    expect(s!.labels!.filter((l) => l === 'Na1').length).toBe(4);
  });

  it('NaCl from the space-group symbol only, from the number only, and from the Hall symbol', () => {
    const expected = sortedFrac(readCif(NACL_HEAD + "_symmetry_space_group_name_H-M 'F m -3 m'\n" + NACL_SITES)[0]!);
    expect(expected.length).toBe(8);
    for (const extra of ["_space_group_name_H-M_alt 'Fm-3m'\n", '_space_group_IT_number 225\n', "_symmetry_space_group_name_Hall '-F 4 2 3'\n", '_symmetry_space_group_name_H-M Fm3m\n']) {
      const [s] = readCif(NACL_HEAD + extra + NACL_SITES);
      expect(sortedFrac(s!), extra).toEqual(expected);
    }
  });

  it('a hexagonal group from its symbol equals the same group from explicit operators (P6, general position)', () => {
    const head = `data_hex\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 5\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 120\n`;
    const sites = `loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nSi1 0.1234 0.3011 0.17\n`;
    const ops = ['x,y,z', 'x-y,x,z', '-y,x-y,z', '-x,-y,z', '-x+y,-x,z', 'y,-x+y,z'];
    const a = readCif(head + 'loop_\n_space_group_symop_operation_xyz\n' + ops.map((o) => `'${o}'`).join('\n') + '\n' + sites)[0]!;
    const b = readCif(head + "_symmetry_space_group_name_H-M 'P 6'\n" + sites)[0]!;
    expect(a.numbers.length).toBe(6);
    expect(sortedFrac(b)).toEqual(sortedFrac(a));
  });

  it('merges sites that symmetry maps onto each other (special positions), keeping the first label', () => {
    // Si in Fd-3m, origin choice 2: 8a at (1/8,1/8,1/8) has 8 atoms in the conventional cell
    const text = `data_Si\n_cell_length_a 5.43\n_cell_length_b 5.43\n_cell_length_c 5.43\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n_symmetry_space_group_name_H-M 'F d -3 m:2'\nloop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nSi1 0.125 0.125 0.125\nSi2 0.875 0.875 0.875\n`;
    const [s] = readCif(text);
    expect(s!.numbers.length).toBe(8);
    expect(new Set(s!.labels)).toEqual(new Set(['Si1'])); // Si2 is a symmetry image of Si1
    // origin choice 1 puts 8a at the origin
    const s1 = readCif(text.replace("'F d -3 m:2'", "'F d -3 m:1'").replace(/0\.125/g, '0').replace(/0\.875/g, '0.25'))[0]!;
    expect(s1.numbers.length).toBe(8);
  });

  it('a general position expands to the ITA multiplicity of the conventional cell (same as ASE)', () => {
    // number → [general-position multiplicity (ITA, conventional cell), cell parameters]
    const table: Record<number, [number, number[]]> = {
      2: [2, [5, 6, 7, 80, 85, 95]],
      12: [8, [9, 4, 6, 90, 105, 90]],
      14: [4, [5.1, 6.2, 7.3, 90, 101, 90]],
      15: [8, [9, 5, 8, 90, 97, 90]],
      62: [8, [5.1, 6.2, 7.3, 90, 90, 90]],
      68: [16, [7, 8, 9, 90, 90, 90]],
      88: [16, [7, 7, 11, 90, 90, 90]],
      139: [32, [4, 4, 9, 90, 90, 90]],
      166: [36, [4, 4, 20, 90, 90, 120]],
      167: [36, [5, 5, 14, 90, 90, 120]],
      176: [12, [8, 8, 6, 90, 90, 120]],
      194: [24, [3, 3, 5, 90, 90, 120]],
      221: [48, [6, 6, 6, 90, 90, 90]],
      227: [192, [10, 10, 10, 90, 90, 90]],
      230: [96, [12, 12, 12, 90, 90, 90]],
    };
    for (const [n, [mult, cp]] of Object.entries(table)) {
      const tags = ['a', 'b', 'c'].map((t, i) => `_cell_length_${t} ${cp[i]}`).concat(['alpha', 'beta', 'gamma'].map((t, i) => `_cell_angle_${t} ${cp[i + 3]}`));
      const text = `data_g${n}\n${tags.join('\n')}\n_space_group_IT_number ${n}\nloop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nC1 0.0123 0.1771 0.2935\n`;
      expect(readCif(text)[0]!.numbers.length, `group ${n}`).toBe(mult);
    }
  });

  it('rhombohedral groups use hexagonal axes unless the cell is rhombohedral', () => {
    expect(resolveSpaceGroup({ hm: 'R -3 m', cellpar: [3, 3, 20, 90, 90, 120] })!.setting).toBe('H');
    expect(resolveSpaceGroup({ hm: 'R -3 m', cellpar: [5, 5, 5, 60, 60, 60] })!.setting).toBe('R');
    expect(resolveSpaceGroup({ hm: 'R -3 m:R', cellpar: [3, 3, 20, 90, 90, 120] })!.setting).toBe('R');
    expect(resolveSpaceGroup({ hm: 'P 21/c' })!.number).toBe(14);
    expect(resolveSpaceGroup({ hm: 'P 1 21/n 1' })!.number).toBe(14);
    expect(resolveSpaceGroup({ hm: 'P b n m' })!.number).toBe(62);
    expect(code(() => resolveSpaceGroup({ hm: 'Q 42' }))).toBe('unparsable');
  });

  it('parses operator spellings', () => {
    const a = parseXyzOperation('1/2+x, -y, z-1/2');
    expect(a.rotation).toEqual([
      [1, 0, 0],
      [0, -1, 0],
      [0, 0, 1],
    ]);
    expect(a.translation).toEqual([0.5, 0, -0.5]);
    const b = parseXyzOperation(' X-Y , +x ,+Z+0.25');
    expect(b.rotation).toEqual([
      [1, -1, 0],
      [1, 0, 0],
      [0, 0, 1],
    ]);
    expect(b.translation).toEqual([0, 0, 0.25]);
    expect(parseXyzOperation('-x+y,y,1/2+z').rotation[0]).toEqual([-1, 1, 0]);
    expect(code(() => parseXyzOperation('x,y'))).toBe('unparsable');
    expect(code(() => parseXyzOperation('x,x,z'))).toBe('unparsable'); // singular
    expect(code(() => parseXyzOperation('x,y,w'))).toBe('unparsable');
  });

  it('rejects partial and mixed occupancy, accepts split sites summing to 1', () => {
    expect(code(() => readCif(NACL_HEAD + '_space_group_IT_number 225\n' + NACL_SITES.replace('Na1 Na+ 0 0 0 1.0', 'Na1 Na+ 0 0 0 0.9')))).toBe('partial_occupancy');
    const mixed = NACL_SITES + 'K1 K 0 0 0 0.0\n';
    expect(code(() => readCif(NACL_HEAD + mixed.replace('K1 K 0 0 0 0.0', 'K1 K 0 0 0 0.5').replace('Na1 Na+ 0 0 0 1.0', 'Na1 Na+ 0 0 0 0.5')))).toBe('partial_occupancy');
    const split = NACL_HEAD + '_space_group_IT_number 225\n' + NACL_SITES.replace('Na1 Na+ 0 0 0 1.0', 'Na1 Na 0 0 0 0.5\nNa2 Na 0 0 0.0001 0.5');
    expect(readCif(split)[0]!.numbers.length).toBe(8);
  });
});

describe('CIF syntax', () => {
  it('handles uncertainties, quotes, text fields, comments, ? and ., several blocks', () => {
    const text = `# leading comment
data_first
_publ_section_title
;
A title with 'quotes' and _fake_tags
loop_ inside a text field
;
_journal_name_full "O'Neil's journal"   # a comment after a value
_cell_length_a 3.5(2)
_cell_length_b 3.5
_cell_length_c 3.5e0
_cell_angle_alpha 90.0(1)
_cell_angle_beta 90
_cell_angle_gamma 90
_cell_measurement_temperature ?
_symmetry_space_group_name_H-M 'P 1'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_U_iso_or_equiv
Cu1 Cu2+ 0.0 0.0 0.0(3) .
data_second
_cell_length_a 4
_cell_length_b 4
_cell_length_c 4
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Fe1 0 0 0
Fe2 0.5 0.5 0.5
data_no_structure_just_metadata
_journal_year 2024
`;
    const list = readCif(text, 'multi.cif');
    expect(list.map((s) => s.name)).toEqual(['first', 'second']);
    expect(list[0]!.lattice[0]![0]).toBe(3.5);
    expect(list[0]!.numbers).toEqual([29]);
    expect(list[1]!.numbers).toEqual([26, 26]);
    const blocks = parseCifBlocks(text);
    expect(blocks[0]!.items.get('_journal_name_full')![0]!.text).toBe("O'Neil's journal");
    expect(blocks[0]!.items.get('_publ_section_title')![0]!.text).toContain('loop_ inside a text field');
    expect(blocks[0]!.items.get('_cell_measurement_temperature')![0]!.missing).toBe(true);
  });

  it('reads Cartesian _atom_site_Cartn_* coordinates (a along x, b in the xy-plane)', () => {
    const head = `data_c\n_cell_length_a 4.1\n_cell_length_b 5.3\n_cell_length_c 6.7\n_cell_angle_alpha 77.7\n_cell_angle_beta 101.1\n_cell_angle_gamma 63.3\n`;
    const frac = readCif(head + 'loop_\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nO 0.1 0.2 0.3\n')[0]!;
    const c = cartesian(frac)[0]!;
    const cart = readCif(head + `loop_\n_atom_site_type_symbol\n_atom_site_Cartn_x\n_atom_site_Cartn_y\n_atom_site_Cartn_z\nO ${c[0]} ${c[1]} ${c[2]}\n`)[0]!;
    for (let k = 0; k < 3; k++) expect(Math.abs(cart.frac[0]![k]! - frac.frac[0]![k]!)).toBeLessThan(1e-12);
  });

  it('tokenizes CRLF files', () => {
    const toks = tokenizeCif('data_x\r\n_a 1\r\n;\r\ntext\r\n;\r\n_b 2\r\n');
    expect(toks.map((t) => t.line)).toEqual([1, 2, 2, 3, 6, 6]);
  });

  it('gives typed errors for malformed syntax', () => {
    const base = NACL_HEAD + NACL_SITES;
    expect(code(() => readCif(base.replace("_cell_angle_gamma 90", "_cell_angle_gamma 90\n_x 'unterminated")))).toBe('unparsable');
    expect(code(() => readCif(base + ';\nnever closed\n'))).toBe('unparsable');
    expect(code(() => readCif(base + 'Na3 Na 0.1 0.1\n'))).toBe('unparsable'); // misaligned loop
    expect(code(() => readCif(base.replace('_cell_length_a 5.64(1)', '_cell_length_a 5.64(1)\n_cell_length_a 5')))).toBe('unparsable');
    expect(code(() => readCif('just text\n'))).toBe('unparsable');
    expect(code(() => readCif(base.replace('_cell_length_b 5.64(1)', '_cell_length_b ?')))).toBe('no_cell');
    expect(code(() => readCif(base.replace('_cell_angle_beta 90', '_cell_angle_beta 200')))).toBe('no_cell');
    expect(code(() => readCif(base.replace('Cl1 Cl-', 'Xx1 Xx')))).toBe('unknown_element');
    expect(code(() => readCif(base.replace('0.5 0.5 0.5', 'nan 0.5 0.5')))).toBe('non_finite');
  });
});

describe('CIF writer', () => {
  it('round-trips a triclinic P1 structure to 1e-10', () => {
    const text = `data_tri\n_cell_length_a 4.1\n_cell_length_b 5.3\n_cell_length_c 6.7\n_cell_angle_alpha 77.7\n_cell_angle_beta 101.1\n_cell_angle_gamma 63.3\nloop_\n_atom_site_type_symbol\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nO O1 0.1 0.2 0.3\nSi Si1 0.77 0.123456789012345 0.999\n`;
    const a = readCif(text)[0]!;
    const b = readCif(writeCif(a))[0]!;
    expect(b.name).toBe('tri');
    expect(b.numbers).toEqual(a.numbers);
    expect(b.labels).toEqual(['O1', 'Si1']);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(Math.abs(b.lattice[i]![j]! - a.lattice[i]![j]!)).toBeLessThan(1e-10);
    for (let i = 0; i < a.frac.length; i++) for (let j = 0; j < 3; j++) expect(Math.abs(b.frac[i]![j]! - a.frac[i]![j]!)).toBeLessThan(1e-10);
    const cp = latticeToCellpar(b.lattice);
    expect(Math.abs(cp[3] - 77.7)).toBeLessThan(1e-10);
    const ca = cartesian(a);
    const cb = cartesian(b);
    expect(Math.abs(ca[1]![2] - cb[1]![2])).toBeLessThan(1e-10);
  });
});
