// VASP POSCAR / CONTCAR reader and writer (VASP 4 and 5 layouts).
import type { Mat3, Vec3 } from '../../math/linalg.js';
import { det3, inv3, vecmat3 } from '../../math/linalg.js';
import { atomicNumber, symbolOf } from '../elements.js';
import { makeStructure, type Structure } from '../structure.js';
import { checkAtomCount, checkText, clip, elementNumber, fmt, inputError, parseCount, parseReal, splitLines, type SourceContext } from './common.js';

function words(line: string | undefined): string[] {
  if (line === undefined) return [];
  const t = line.trim();
  return t.length ? t.split(/\s+/) : [];
}

/** Species token as VASP 5.4 writes it may carry a POTCAR suffix: 'Fe_pv', 'Fe/abc123'. */
function speciesNumber(tok: string, ctx: SourceContext): number {
  const base = tok.split(/[_/]/)[0] ?? tok;
  return elementNumber(base, ctx, false);
}

/** Read a POSCAR/CONTCAR. Returns one structure. */
export function readPoscar(text: string, sourceName?: string): Structure[] {
  const ctx: SourceContext = { source: sourceName };
  checkText(text, ctx);
  const lines = splitLines(text);
  const at = (i: number): SourceContext => ({ ...ctx, line: i + 1 });
  const need = (i: number, what: string): string => {
    const l = lines[i];
    if (l === undefined) throw inputError('unparsable', at(i), `file ends before ${what} (truncated)`);
    return l;
  };
  const comment = need(0, 'the comment line').trim();

  // line 2: one scale factor (negative = target volume) or three per-axis factors
  const scaleTok = words(need(1, 'the scale factor'));
  if (scaleTok.length === 0) throw inputError('unparsable', at(1), 'missing scale factor');
  const scales = scaleTok.length >= 3 && /^[+-]?[\d.]/.test(scaleTok[1]!) && /^[+-]?[\d.]/.test(scaleTok[2]!) ? scaleTok.slice(0, 3) : scaleTok.slice(0, 1);
  const scale = scales.map((t) => parseReal(t, at(1), 'scale factor'));

  const lattice: Mat3 = [0, 1, 2].map((k) => {
    const w = words(need(2 + k, 'the lattice vectors'));
    if (w.length < 3) throw inputError('unparsable', at(2 + k), `lattice vector ${k + 1} needs three numbers`);
    return w.slice(0, 3).map((t) => parseReal(t, at(2 + k), `lattice vector ${k + 1}`)) as Vec3;
  }) as Mat3;

  // species line (VASP 5) or counts directly (VASP 4)
  let li = 5;
  let speciesTok = words(need(li, 'the species or counts line'));
  let species: number[] | undefined;
  if (speciesTok.length > 0 && !/^[+-]?\d/.test(speciesTok[0]!)) {
    species = speciesTok.map((t) => speciesNumber(t, at(li)));
    li++;
  }
  const countTok = words(need(li, 'the atom counts'));
  if (countTok.length === 0) throw inputError('unparsable', at(li), 'missing atom counts');
  const counts = countTok.map((t) => parseCount(t, at(li), 'atom count'));
  const total = counts.reduce((a, b) => a + b, 0);
  checkAtomCount(total, at(li)); // before any per-atom allocation
  if (total === 0) throw inputError('empty_structure', at(li), 'zero atoms');
  if (species) {
    if (species.length !== counts.length) throw inputError('unparsable', at(li), `${species.length} species but ${counts.length} counts`);
  } else {
    // VASP 4: no species line. As ASE does, take the species from the comment line if it
    // lists exactly as many element symbols as there are counts.
    const fromComment = words(comment);
    if (fromComment.length >= counts.length && fromComment.slice(0, counts.length).every((w) => atomicNumber(w) !== undefined && /^[A-Za-z]{1,2}$/.test(w)))
      species = fromComment.slice(0, counts.length).map((w) => atomicNumber(w)!);
    else throw inputError('unknown_element', at(li), 'VASP 4 POSCAR without a species line, and the comment line does not name the species');
  }
  li++;

  let mode = need(li, 'the coordinate mode').trim();
  let selective = false;
  if (/^s/i.test(mode)) {
    selective = true;
    li++;
    mode = need(li, 'the coordinate mode').trim();
  }
  const cartesian = /^[ck]/i.test(mode);
  if (!cartesian && !/^d/i.test(mode)) throw inputError('unparsable', at(li), `coordinate mode '${clip(mode)}' is neither Direct nor Cartesian`);
  li++;
  if (lines.length < li + total) {
    const nonEmpty = lines.length - li;
    throw inputError('unparsable', at(lines.length - 1), `expected ${total} position lines, file has at most ${nonEmpty} (truncated)`);
  }

  // scale the lattice: one positive factor, negative = target volume, or three per-axis factors
  let L: Mat3;
  let cartScale: Vec3;
  if (scale.length === 3) {
    if (scale.some((x) => x <= 0)) throw inputError('unparsable', at(1), 'the three scale factors must be positive');
    L = lattice.map((r) => [r[0] * scale[0]!, r[1] * scale[1]!, r[2] * scale[2]!]) as Mat3;
    cartScale = [scale[0]!, scale[1]!, scale[2]!];
  } else {
    const s0 = scale[0]!;
    if (s0 === 0) throw inputError('no_cell', at(1), 'degenerate cell: scale factor is zero');
    let f = s0;
    if (s0 < 0) {
      const v = Math.abs(det3(lattice));
      if (!(v > 0)) throw inputError('no_cell', at(1), 'degenerate cell: negative scale factor (target volume) with a zero-volume lattice');
      f = Math.cbrt(-s0 / v);
    }
    L = lattice.map((r) => [r[0] * f, r[1] * f, r[2] * f]) as Mat3;
    cartScale = [f, f, f];
  }

  const numbers: number[] = [];
  counts.forEach((c, k) => {
    for (let j = 0; j < c; j++) numbers.push(species![k]!);
  });
  const pos: Vec3[] = new Array(total);
  const flags: [boolean, boolean, boolean][] | undefined = selective ? new Array(total) : undefined;
  const lc: SourceContext = { source: sourceName, line: 0 };
  for (let a = 0; a < total; a++) {
    const w = words(lines[li + a]);
    lc.line = li + a + 1; // one reused context (read only when an error is built)
    if (w.length < 3) throw inputError('unparsable', lc, `position ${a + 1} needs three numbers (truncated?)`);
    const p: Vec3 = [parseReal(w[0], lc, `position ${a + 1}`), parseReal(w[1], lc, `position ${a + 1}`), parseReal(w[2], lc, `position ${a + 1}`)];
    pos[a] = p;
    if (flags) {
      if (w.length < 6) throw inputError('unparsable', lc, `selective dynamics: position ${a + 1} needs three T/F flags`);
      flags[a] = w.slice(3, 6).map((t) => {
        if (/^t/i.test(t)) return true;
        if (/^f/i.test(t)) return false;
        throw inputError('unparsable', lc, `selective dynamics flag '${clip(t)}' is not T or F`);
      }) as [boolean, boolean, boolean];
    }
  }
  let frac: Vec3[];
  if (cartesian) {
    let inv: Mat3;
    try {
      inv = inv3(L);
    } catch {
      throw inputError('no_cell', ctx, 'degenerate cell: lattice is singular, cannot convert Cartesian positions');
    }
    frac = pos.map((p) => vecmat3([p[0] * cartScale[0], p[1] * cartScale[1], p[2] * cartScale[2]], inv));
  } else frac = pos;
  return [
    makeStructure({
      lattice: L,
      frac,
      numbers,
      name: comment.length ? comment : (sourceName ?? 'POSCAR'),
      ...(flags ? { properties: { selectiveDynamics: flags } } : {}),
    }),
  ];
}

/**
 * Write a VASP 5 POSCAR (scale 1, Direct). Atoms keep their order: consecutive runs of one
 * element form one species entry, so an element may appear more than once.
 */
export function writePoscar(s: Structure): string {
  const runs: Array<[number, number]> = [];
  for (const z of s.numbers) {
    const last = runs[runs.length - 1];
    if (last && last[0] === z) last[1]++;
    else runs.push([z, 1]);
  }
  const name = (s.name ?? runs.map(([z, n]) => `${symbolOf(z)}${n}`).join('')).replace(/[\r\n]+/g, ' ');
  const lines = [name.length ? name : 'structure', '1.0'];
  for (const r of s.lattice) lines.push(`  ${fmt(r[0])}  ${fmt(r[1])}  ${fmt(r[2])}`);
  lines.push('  ' + runs.map(([z]) => symbolOf(z)).join('  '));
  lines.push('  ' + runs.map(([, n]) => String(n)).join('  '));
  const sd = s.properties?.['selectiveDynamics'] as boolean[][] | undefined;
  const withSd = Array.isArray(sd) && sd.length === s.numbers.length;
  if (withSd) lines.push('Selective dynamics');
  lines.push('Direct');
  s.frac.forEach((f, i) => {
    const flags = withSd ? '  ' + sd[i]!.map((b) => (b ? 'T' : 'F')).join(' ') : '';
    lines.push(`  ${fmt(f[0])}  ${fmt(f[1])}  ${fmt(f[2])}${flags}`);
  });
  return lines.join('\n') + '\n';
}
