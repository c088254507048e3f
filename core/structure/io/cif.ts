// CIF 1.1 reader and P1 writer.
//
// The tokenizer follows the CIF 1.1 syntax: data_/loop_/save_/global_/stop_ reserved words,
// data names (_tag), bare values, 'single' and "double" quoted values (a quote closes only
// when followed by whitespace, so O'Neil stays one value), ;-delimited text fields at line
// starts, # comments, and the unknown/inapplicable values ? and . . Each data block holding a
// cell and atom sites becomes one Structure named after the block.
import type { Mat3, Vec3 } from '../../math/linalg.js';
import { inv3, vecmat3 } from '../../math/linalg.js';
import { type StructureError, isInputError } from '../../errors.js';
import { makeStructure, type Structure } from '../structure.js';
import { symbolOf } from '../elements.js';
import { VALIDATION } from '../../../config/validation.js';
import { checkAtomCount, checkText, clip, elementNumber, fmt, inputError, parseReal, type SourceContext } from './common.js';
import { cellparToLattice, latticeToCellpar } from './cell.js';
import { expandSites, operationsForHall, parseXyzOperation, resolveSpaceGroup, type AsymmetricSite, type FracOperation } from './symops.js';

// ---------------------------------------------------------------- tokenizer

const enum Tok {
  Tag,
  Value,
  Loop,
  Data,
  Save,
  Global,
  Stop,
}

interface Token {
  kind: Tok;
  text: string;
  line: number;
  /** bare ? or . (unknown / inapplicable), not when quoted */
  missing: boolean;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}

export function tokenizeCif(text: string, ctx: SourceContext = {}, maxTokens = VALIDATION.maxCifTokens): Token[] {
  const tokens: Token[] = [];
  const tooMany = (): never => {
    throw inputError('file_too_large', { ...ctx, line }, `more than ${maxTokens} CIF tokens (the limit guards memory; a CIF at the atom limit has far fewer)`);
  };
  const n = text.length;
  let i = 0;
  let line = 1;
  let lineStart = true;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      // \r\n counts once
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      i++;
      line++;
      lineStart = true;
      continue;
    }
    if (isSpace(c)) {
      i++;
      lineStart = false;
      continue;
    }
    if (c === 35 /* # */) {
      while (i < n && text.charCodeAt(i) !== 10 && text.charCodeAt(i) !== 13) i++;
      continue;
    }
    if (c === 59 /* ; */ && lineStart) {
      const startLine = line;
      // the field ends at the next line that starts with ';'
      const re = /(\r\n|\n|\r);/g;
      re.lastIndex = i;
      const m = re.exec(text);
      if (!m) throw inputError('unparsable', { ...ctx, line: startLine }, 'unterminated semicolon text field');
      const body = text.slice(i + 1, m.index);
      for (let k = i; k < m.index + m[0].length; k++) {
        const ch = text.charCodeAt(k);
        if (ch === 10 || (ch === 13 && text.charCodeAt(k + 1) !== 10)) line++;
      }
      if (tokens.length >= maxTokens) tooMany();
      tokens.push({ kind: Tok.Value, text: body, line: startLine, missing: false });
      i = m.index + m[0].length;
      lineStart = false;
      continue;
    }
    lineStart = false;
    if (tokens.length >= maxTokens) tooMany();
    if (c === 39 /* ' */ || c === 34 /* " */) {
      let j = i + 1;
      for (;;) {
        if (j >= n) throw inputError('unparsable', { ...ctx, line }, 'unterminated quoted string');
        const d = text.charCodeAt(j);
        if (d === 10 || d === 13) throw inputError('unparsable', { ...ctx, line }, 'unterminated quoted string (quotes must close on the same line)');
        if (d === c && (j + 1 >= n || isSpace(text.charCodeAt(j + 1)))) break;
        j++;
      }
      tokens.push({ kind: Tok.Value, text: text.slice(i + 1, j), line, missing: false });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < n && !isSpace(text.charCodeAt(j))) j++;
    const word = text.slice(i, j);
    i = j;
    if (c === 95 /* _ */) {
      tokens.push({ kind: Tok.Tag, text: word, line, missing: false });
      continue;
    }
    const lower = word.length >= 5 ? word.slice(0, 7).toLowerCase() : '';
    if (lower.startsWith('data_')) tokens.push({ kind: Tok.Data, text: word.slice(5), line, missing: false });
    else if (lower === 'loop_') tokens.push({ kind: Tok.Loop, text: word, line, missing: false });
    else if (lower.startsWith('save_')) tokens.push({ kind: Tok.Save, text: word.slice(5), line, missing: false });
    else if (lower === 'global_') tokens.push({ kind: Tok.Global, text: word, line, missing: false });
    else if (lower === 'stop_') tokens.push({ kind: Tok.Stop, text: word, line, missing: false });
    else tokens.push({ kind: Tok.Value, text: word, line, missing: word === '?' || word === '.' });
  }
  return tokens;
}

// ---------------------------------------------------------------- blocks

export interface CifValue {
  text: string;
  missing: boolean;
  line: number;
}

export interface CifBlock {
  name: string;
  line: number;
  /** normalised data name → values (one value for a scalar item, a column for a looped one) */
  items: Map<string, CifValue[]>;
  /** data names that were looped (column length = loop rows) */
  looped: Set<string>;
}

/** Data names are case-insensitive; DDL2 style '_cell.length_a' is read as '_cell_length_a'. */
export function normalizeTag(tag: string): string {
  return tag.toLowerCase().replace('.', '_');
}

export function parseCifBlocks(text: string, ctx: SourceContext = {}): CifBlock[] {
  const r = parseCifBlocksDetailed(text, ctx);
  const bad = r.find((x) => x.error !== undefined);
  if (bad) throw bad.error;
  return r.map((x) => x.block);
}

/** One data block as parsed: its items, or the syntax error that ended it. */
export interface ParsedCifBlock {
  block: CifBlock;
  /** a syntax error inside this block: the block is unusable, the other blocks are not */
  error?: StructureError;
}

/**
 * The data blocks of a CIF, block by block: a syntax error inside a block (a duplicate data
 * name, a misaligned loop, a stray value) ends that block only; parsing resumes at the next
 * data_. Errors that leave no block boundary to trust (lexical errors: an unterminated quote or
 * text field; text before the first data_) are thrown for the whole file.
 */
export function parseCifBlocksDetailed(text: string, ctx: SourceContext = {}): ParsedCifBlock[] {
  const tokens = tokenizeCif(text, ctx);
  const out: ParsedCifBlock[] = [];
  let cur: ParsedCifBlock | undefined;
  let i = 0;
  const err = (t: Token, msg: string): StructureError => inputError('unparsable', { ...ctx, line: t.line, block: cur?.block.name }, msg);
  const put = (tag: Token, values: CifValue[], looped: boolean): void => {
    const block = cur!.block;
    const key = normalizeTag(tag.text);
    if (block.items.has(key)) throw err(tag, `data name ${clip(tag.text)} appears twice in the block`);
    block.items.set(key, values);
    if (looped) block.looped.add(key);
  };
  while (i < tokens.length) {
    const t = tokens[i]!;
    if (t.kind === Tok.Data) {
      if (t.text.length === 0) throw err(t, 'data block without a name');
      cur = { block: { name: t.text, line: t.line, items: new Map(), looped: new Set() } };
      out.push(cur);
      i++;
      continue;
    }
    if (!cur) {
      // before the first data_ block: nothing to attribute the error to
      if (t.kind === Tok.Value) throw err(t, 'text before the first data_ block');
      if (t.kind === Tok.Tag) throw err(t, `data name ${clip(t.text)} before the first data_ block`);
      if (t.kind === Tok.Loop) throw err(t, 'loop_ before the first data_ block');
      if (t.kind === Tok.Save) throw err(t, 'save frame outside a data block');
      throw err(t, `reserved word ${t.text} is not allowed in CIF 1.1`);
    }
    try {
      i = parseStatement(tokens, i, err, put);
    } catch (e) {
      if (cur.error === undefined) cur.error = e as StructureError;
      // skip the rest of this block: the next data_ starts afresh
      i++;
      while (i < tokens.length && tokens[i]!.kind !== Tok.Data) i++;
    }
  }
  return out;
}

/** Parse one statement (a tag and its value, a loop, a save frame) at tokens[i]; returns the next index. */
function parseStatement(tokens: Token[], i: number, err: (t: Token, msg: string) => StructureError, put: (tag: Token, values: CifValue[], looped: boolean) => void): number {
  const t = tokens[i]!;
  switch (t.kind) {
    case Tok.Global:
    case Tok.Stop:
      throw err(t, `reserved word ${t.text} is not allowed in CIF 1.1`);
    case Tok.Save: {
      // save frames occur in dictionaries only: skip to the closing 'save_'
      i++;
      while (i < tokens.length && !(tokens[i]!.kind === Tok.Save && tokens[i]!.text === '')) {
        if (tokens[i]!.kind === Tok.Data) throw err(t, 'unterminated save frame');
        i++;
      }
      if (i >= tokens.length) throw err(t, 'unterminated save frame');
      return i + 1;
    }
    case Tok.Tag: {
      const v = tokens[i + 1];
      if (!v || v.kind !== Tok.Value) throw err(t, `data name ${clip(t.text)} has no value`);
      put(t, [v], false);
      return i + 2;
    }
    case Tok.Loop: {
      i++;
      const tags: Token[] = [];
      while (i < tokens.length && tokens[i]!.kind === Tok.Tag) tags.push(tokens[i++]!);
      if (tags.length === 0) throw err(t, 'loop_ without data names');
      const start = i;
      while (i < tokens.length && tokens[i]!.kind === Tok.Value) i++;
      const count = i - start;
      if (count === 0) throw err(t, `loop_ (${clip(tags[0]!.text)} …) has no values`);
      if (count % tags.length !== 0)
        throw err(t, `loop_ (${clip(tags[0]!.text)} …) has ${count} values, not a multiple of its ${tags.length} data names (truncated or misaligned)`);
      const rows = count / tags.length;
      tags.forEach((tag, k) => {
        const col: CifValue[] = new Array(rows);
        for (let r = 0; r < rows; r++) col[r] = tokens[start + r * tags.length + k]!;
        put(tag, col, true);
      });
      return i;
    }
    case Tok.Value:
      throw err(t, `value '${clip(t.text)}' without a data name`);
    case Tok.Data:
      throw err(t, 'unexpected data_');
  }
}

// ---------------------------------------------------------------- numbers

/** A CIF number: '5.431(2)' → 5.431 (standard uncertainty dropped). */
export function parseCifNumber(v: CifValue, ctx: SourceContext, what: string): number {
  const m = /^(.*?)\(\d+\)$/.exec(v.text);
  return parseReal(m ? m[1] : v.text, { ...ctx, line: v.line }, what);
}

function first(block: CifBlock, ...tags: string[]): CifValue | undefined {
  for (const t of tags) {
    const col = block.items.get(t);
    if (col && col.length > 0 && !col[0]!.missing) return col[0];
  }
  return undefined;
}

function column(block: CifBlock, ...tags: string[]): CifValue[] | undefined {
  for (const t of tags) {
    const col = block.items.get(t);
    if (col) return col;
  }
  return undefined;
}

// ---------------------------------------------------------------- structures

const OPS_TAGS = ['_symmetry_equiv_pos_as_xyz', '_space_group_symop_operation_xyz'];
const HM_TAGS = ['_symmetry_space_group_name_h-m', '_space_group_name_h-m_alt', '_space_group_name_h-m_ref'];
const HALL_TAGS = ['_symmetry_space_group_name_hall', '_space_group_name_hall'];
const NUMBER_TAGS = ['_space_group_it_number', '_symmetry_int_tables_number'];

function blockHasStructure(b: CifBlock): boolean {
  for (const k of b.items.keys()) if (k.startsWith('_cell_length_') || k.startsWith('_atom_site_fract_') || k.startsWith('_atom_site_cartn_')) return true;
  return false;
}

function blockToStructure(b: CifBlock, source: string | undefined): Structure {
  const ctx: SourceContext = { source, block: b.name };
  // cell
  const cellTags = ['_cell_length_a', '_cell_length_b', '_cell_length_c', '_cell_angle_alpha', '_cell_angle_beta', '_cell_angle_gamma'];
  const cellpar = cellTags.map((t) => {
    const v = first(b, t);
    if (!v) throw inputError('no_cell', ctx, `missing ${t}`);
    return parseCifNumber(v, ctx, t);
  }) as [number, number, number, number, number, number];
  const lattice = cellparToLattice(...cellpar, ctx);

  // atom sites
  const fx = column(b, '_atom_site_fract_x');
  const cx = column(b, '_atom_site_cartn_x');
  if (!fx && !cx) throw inputError('empty_structure', ctx, 'no atom sites (_atom_site_fract_x / _atom_site_Cartn_x)');
  const nSites = (fx ?? cx)!.length;
  checkAtomCount(nSites, ctx);
  const axis = (p: 'fract' | 'cartn', a: string): CifValue[] => {
    const col = column(b, `_atom_site_${p}_${a}`);
    if (!col) throw inputError('unparsable', ctx, `_atom_site_${p}_x given without _atom_site_${p}_${a}`);
    if (col.length !== nSites) throw inputError('unparsable', ctx, `_atom_site_${p}_${a} is not in the same loop as _atom_site_${p}_x`);
    return col;
  };
  const useFrac = fx !== undefined;
  const [X, Y, Z] = useFrac ? [fx!, axis('fract', 'y'), axis('fract', 'z')] : [cx!, axis('cartn', 'y'), axis('cartn', 'z')];
  const typeCol = column(b, '_atom_site_type_symbol');
  const labelCol = column(b, '_atom_site_label');
  const occCol = column(b, '_atom_site_occupancy');
  for (const [name, col] of [['_atom_site_type_symbol', typeCol], ['_atom_site_label', labelCol], ['_atom_site_occupancy', occCol]] as const)
    if (col && col.length !== nSites) throw inputError('unparsable', ctx, `${name} is not in the same loop as the coordinates`);
  if (!typeCol && !labelCol) throw inputError('unknown_element', ctx, 'atom sites have neither _atom_site_type_symbol nor _atom_site_label');
  const invL = useFrac ? undefined : inv3(lattice);
  const sites: AsymmetricSite[] = [];
  for (let s = 0; s < nSites; s++) {
    const lineCtx = { ...ctx, line: X[s]!.line };
    const tv = typeCol?.[s];
    const lv = labelCol?.[s];
    const elementText = tv && !tv.missing ? tv.text : lv && !lv.missing ? lv.text : undefined;
    if (elementText === undefined) throw inputError('unknown_element', lineCtx, `atom site ${s + 1} has no element`);
    const number = elementNumber(elementText, lineCtx, true);
    const label = lv && !lv.missing ? lv.text : `${symbolOf(number)}${s}`;
    const coords = [X[s]!, Y[s]!, Z[s]!].map((v, k) => {
      if (v.missing) throw inputError('unparsable', lineCtx, `atom site ${label}: coordinate ${'xyz'[k]} is '${v.text}'`);
      return parseCifNumber(v, ctx, `atom site ${label} coordinate ${'xyz'[k]}`);
    }) as Vec3;
    const frac = useFrac ? coords : vecmat3(coords, invL!);
    let occupancy = 1;
    const ov = occCol?.[s];
    if (ov && !ov.missing) {
      occupancy = parseCifNumber(ov, ctx, `occupancy of ${label}`);
      if (occupancy <= 0 || occupancy > 1 + VALIDATION.occupancyTolerance)
        throw inputError('partial_occupancy', lineCtx, `site ${label} has occupancy ${occupancy} outside (0, 1]`, { label, occupancy });
    }
    sites.push({ frac, number, label, occupancy });
  }

  // symmetry operations: explicit operators first, else from the space-group symbol / number
  let ops: FracOperation[];
  const opsCol = column(b, ...OPS_TAGS);
  if (opsCol && opsCol.some((v) => !v.missing)) {
    ops = opsCol.filter((v) => !v.missing).map((v) => parseXyzOperation(v.text, { ...ctx, line: v.line }));
  } else {
    const hmV = first(b, ...HM_TAGS);
    const hallV = first(b, ...HALL_TAGS);
    const numV = first(b, ...NUMBER_TAGS);
    const number = numV ? parseCifNumber(numV, ctx, 'space group number') : undefined;
    const entry = resolveSpaceGroup({ hm: hmV?.text, hall: hallV?.text, number, cellpar }, ctx);
    ops = entry ? operationsForHall(entry.hall_number, entry.number) : [{ rotation: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as Mat3, translation: [0, 0, 0] }];
  }
  const expanded = expandSites(lattice, sites, ops, ctx);
  if (expanded.frac.length === 0) throw inputError('empty_structure', ctx, 'no atoms');
  return makeStructure({ lattice, frac: expanded.frac, numbers: expanded.numbers, labels: expanded.labels, name: b.name });
}

/** A CIF read block by block: the structures of the good blocks, the bad blocks with their errors. */
export interface CifReadResult {
  /** `index`: the block's position among the file's blocks that hold (or claim) a structure */
  structures: { index: number; structure: Structure }[];
  failures: { index: number; name: string; error: StructureError }[];
}

/**
 * Read a CIF block by block: every data block with a cell or atom sites (or one that could not
 * be parsed) gets the next index; a bad block is a failure of its own and the good blocks are
 * kept. File-level problems (binary text, a lexical error, text before the first data_, no data
 * block, the per-file totals) are thrown.
 */
export function readCifDetailed(text: string, sourceName?: string): CifReadResult {
  const r = readBlocks(text, sourceName);
  return { structures: r.structures, failures: r.failures.map(({ index, name, error }) => ({ index, name, error })) };
}

function readBlocks(text: string, sourceName: string | undefined): { structures: CifReadResult['structures']; failures: (CifReadResult['failures'][number] & { syntax: boolean })[] } {
  const ctx: SourceContext = { source: sourceName };
  checkText(text, ctx);
  const parsed = parseCifBlocksDetailed(text, ctx);
  if (parsed.length === 0) throw inputError('unparsable', ctx, 'no data_ block: not a CIF file');
  const structures: CifReadResult['structures'] = [];
  const failures: (CifReadResult['failures'][number] & { syntax: boolean })[] = [];
  let atoms = 0;
  let index = 0;
  for (const { block: b, error } of parsed) {
    if (!error && !blockHasStructure(b)) continue;
    if (index >= VALIDATION.maxStructuresPerFile) throw inputError('too_many_atoms', ctx, `more than ${VALIDATION.maxStructuresPerFile} structures in one file`);
    const k = index++;
    if (error) {
      failures.push({ index: k, name: b.name, error, syntax: true });
      continue;
    }
    let s: Structure;
    try {
      s = blockToStructure(b, sourceName);
    } catch (e) {
      if (!isInputError(e)) throw e;
      failures.push({ index: k, name: b.name, error: e as StructureError, syntax: false });
      continue;
    }
    atoms += s.numbers.length;
    if (atoms > VALIDATION.maxAtomsPerFile) throw inputError('too_many_atoms', ctx, `more than ${VALIDATION.maxAtomsPerFile} atoms in the file's data blocks together`);
    structures.push({ index: k, structure: s });
  }
  if (index === 0) throw inputError('no_cell', ctx, `no data block has a cell or atom sites (${parsed.length} block(s))`);
  return { structures, failures };
}

/**
 * Read every structure (one per data block with a cell or atom sites) from CIF text. Any bad
 * block fails the whole text (a syntax error first; see readCifDetailed to keep the good blocks).
 */
export function readCif(text: string, sourceName?: string): Structure[] {
  const r = readBlocks(text, sourceName);
  const bad = r.failures.find((f) => f.syntax) ?? r.failures[0];
  if (bad) throw bad.error;
  return r.structures.map((x) => x.structure);
}

// ---------------------------------------------------------------- writer

function cifName(s: string): string {
  const t = s.replace(/[^\x21-\x7e]/g, '_').replace(/['"]/g, '_');
  return t.length ? t : 'structure';
}

/** Write a structure as a P1 CIF (cell parameters + all atoms, occupancy 1). */
export function writeCif(s: Structure): string {
  const [a, b, c, al, be, ga] = latticeToCellpar(s.lattice);
  const lines: string[] = [];
  lines.push('# written by softmode');
  lines.push(`data_${cifName(s.name ?? formulaOf(s))}`);
  lines.push(`_symmetry_space_group_name_H-M   'P 1'`);
  lines.push(`_symmetry_Int_Tables_number   1`);
  lines.push(`_cell_length_a   ${fmt(a)}`);
  lines.push(`_cell_length_b   ${fmt(b)}`);
  lines.push(`_cell_length_c   ${fmt(c)}`);
  lines.push(`_cell_angle_alpha   ${fmt(al)}`);
  lines.push(`_cell_angle_beta   ${fmt(be)}`);
  lines.push(`_cell_angle_gamma   ${fmt(ga)}`);
  lines.push('loop_', ' _symmetry_equiv_pos_site_id', ' _symmetry_equiv_pos_as_xyz', "  1  'x, y, z'");
  lines.push('loop_', ' _atom_site_type_symbol', ' _atom_site_label', ' _atom_site_fract_x', ' _atom_site_fract_y', ' _atom_site_fract_z', ' _atom_site_occupancy');
  const used = new Set<string>();
  s.numbers.forEach((z, i) => {
    const sym = symbolOf(z);
    let label = s.labels?.[i] !== undefined ? cifName(s.labels[i]!) : `${sym}${i}`;
    if (used.has(label) || label.startsWith('_') || label.startsWith(';') || /^(data|loop|save|global|stop)_/i.test(label)) label = `${sym}${i}`;
    while (used.has(label)) label += '_';
    used.add(label);
    const f = s.frac[i]!;
    lines.push(`  ${sym}  ${label}  ${fmt(f[0])}  ${fmt(f[1])}  ${fmt(f[2])}  1`);
  });
  return lines.join('\n') + '\n';
}

function formulaOf(s: Structure): string {
  const counts = new Map<number, number>();
  for (const z of s.numbers) counts.set(z, (counts.get(z) ?? 0) + 1);
  return [...counts].map(([z, n]) => `${symbolOf(z)}${n === 1 ? '' : n}`).join('');
}
