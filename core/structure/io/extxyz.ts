// Extended XYZ (ASE style) reader and writer.
//
// Frame = atom count line, comment line of key=value pairs (Lattice="9 numbers" rows a,b,c;
// Properties=name:type:ncols:...; energy=; stress="9 or 6 numbers" in eV/Å³ (6 = Voigt
// xx yy zz yz xz xy); pbc="T T T"), then one line per atom with the Properties columns.
// Labels go to Structure.properties: energy (eV), forces (eV/Å), stress (3×3, eV/Å³), and
// `labelKeys` records which keys they came from (REF_energy/REF_forces/REF_stress, as MACE
// style files write DFT labels, win over plain energy/forces/stress, which ASE writes for
// whatever calculator was attached).
import type { Mat3, Vec3 } from '../../math/linalg.js';
import { det3, inv3, vecmat3 } from '../../math/linalg.js';
import { symbolOf } from '../elements.js';
import { cartesian, makeStructure, type Structure, type StructureProperties } from '../structure.js';
import { VALIDATION } from '../../../config/validation.js';
import { checkAtomCount, checkText, clip, elementNumber, fmt, inputError, parseCount, parseReal, splitLines, type SourceContext } from './common.js';

const GPA_PER_EV_A3 = 160.21766208;

type InfoValue = string | number | boolean | number[] | string[];

/** Split the comment line into key=value pairs; values may be "quoted", 'quoted' or {braced}. */
export function parseKeyValues(line: string, ctx: SourceContext): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const n = line.length;
  const readValue = (): string => {
    const c = line[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      let v = '';
      while (j < n && line[j] !== c) {
        if (line[j] === '\\' && j + 1 < n) {
          v += line[j + 1];
          j += 2;
        } else v += line[j++];
      }
      if (j >= n) throw inputError('unparsable', ctx, `unbalanced quote in the comment line`);
      i = j + 1;
      return v;
    }
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      const j = line.indexOf(close, i);
      if (j < 0) throw inputError('unparsable', ctx, `unbalanced ${c} in the comment line`);
      const v = line.slice(i + 1, j).replace(/,/g, ' ');
      i = j + 1;
      return v;
    }
    let j = i;
    while (j < n && !/\s/.test(line[j]!)) j++;
    const v = line.slice(i, j);
    i = j;
    return v;
  };
  while (i < n) {
    while (i < n && /\s/.test(line[i]!)) i++;
    if (i >= n) break;
    let j = i;
    if (line[i] === '"' || line[i] === "'") {
      // quoted key
      const q = line[i]!;
      j = line.indexOf(q, i + 1);
      if (j < 0) throw inputError('unparsable', ctx, 'unbalanced quote in the comment line');
      j++;
    } else while (j < n && line[j] !== '=' && !/\s/.test(line[j]!)) j++;
    const key = line.slice(i, j).replace(/^["']|["']$/g, '');
    i = j;
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
    if (line[i] === '=') {
      i++;
      while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
      out.set(key, i < n ? readValue() : '');
    } else out.set(key, 'T'); // bare key = boolean true
  }
  return out;
}

interface Column {
  name: string;
  type: 'S' | 'R' | 'I' | 'L';
  width: number;
}

function parseProperties(spec: string, ctx: SourceContext): Column[] {
  const f = spec.split(':');
  if (f.length === 0 || f.length % 3 !== 0) throw inputError('unparsable', ctx, `Properties '${clip(spec)}' is not name:type:columns triples`);
  const cols: Column[] = [];
  for (let k = 0; k < f.length; k += 3) {
    const name = f[k]!;
    const type = f[k + 1]!.toUpperCase();
    const width = Number(f[k + 2]);
    if (!name || !['S', 'R', 'I', 'L'].includes(type) || !Number.isInteger(width) || width < 1 || width > 64)
      throw inputError('unparsable', ctx, `Properties entry '${clip(f.slice(k, k + 3).join(':'))}' is malformed`);
    cols.push({ name, type: type as Column['type'], width });
  }
  return cols;
}

function numbers(v: string, ctx: SourceContext, what: string): number[] {
  const t = v.trim();
  return t.length ? t.split(/\s+/).map((x) => parseReal(x, ctx, what)) : [];
}

function infoValue(v: string): InfoValue {
  const t = v.trim();
  if (/^[TF]$|^(true|false)$/i.test(t)) return /^t/i.test(t);
  const parts = t.split(/\s+/);
  const num = (x: string): boolean => /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(x);
  if (parts.length === 1 && num(t)) return Number(t);
  if (parts.length > 1 && parts.every(num)) return parts.map(Number);
  return v;
}

function stressFromValues(vals: number[], ctx: SourceContext, key: string): Mat3 {
  if (vals.length === 9)
    return [
      [vals[0]!, vals[1]!, vals[2]!],
      [vals[3]!, vals[4]!, vals[5]!],
      [vals[6]!, vals[7]!, vals[8]!],
    ];
  if (vals.length === 6) {
    const [xx, yy, zz, yz, xz, xy] = vals as [number, number, number, number, number, number];
    return [
      [xx, xy, xz],
      [xy, yy, yz],
      [xz, yz, zz],
    ];
  }
  throw inputError('unparsable', ctx, `${key} has ${vals.length} numbers; expected 9 (3×3) or 6 (Voigt)`);
}

function stressUnitFactor(unit: string | undefined, ctx: SourceContext): number {
  if (unit === undefined) return 1;
  const u = unit.replace(/\s+/g, '').toLowerCase().replace('å', 'a').replace('ang', 'a');
  if (u === 'ev/a^3' || u === 'ev/a3' || u === 'ev/a**3') return 1;
  if (u === 'gpa') return 1 / GPA_PER_EV_A3;
  if (u === 'kbar') return 0.1 / GPA_PER_EV_A3;
  throw inputError('unparsable', ctx, `unsupported stress_unit '${clip(unit)}'`);
}

function checkUnit(unit: string | undefined, allowed: string[], key: string, ctx: SourceContext): void {
  if (unit === undefined) return;
  const u = unit.replace(/\s+/g, '').toLowerCase().replace('å', 'a').replace('ang', 'a');
  if (!allowed.includes(u)) throw inputError('unparsable', ctx, `unsupported ${key} '${clip(unit)}'`);
}

const CONSUMED = new Set(['lattice', 'properties', 'pbc']);

/** Read all frames of an extended XYZ file. */
export function readExtxyz(text: string, sourceName?: string): Structure[] {
  const ctx: SourceContext = { source: sourceName };
  checkText(text, ctx);
  const lines = splitLines(text);
  const out: Structure[] = [];
  let li = 0;
  let atomsInFile = 0;
  while (li < lines.length) {
    if (lines[li]!.trim() === '') {
      li++;
      continue;
    }
    const frame = out.length;
    if (frame >= VALIDATION.maxStructuresPerFile)
      throw inputError('too_many_atoms', { ...ctx, line: li + 1 }, `more than ${VALIDATION.maxStructuresPerFile} frames in one file`);
    const fctx = (l: number): SourceContext => ({ source: sourceName, frame, line: l + 1 });
    const n = parseCount(lines[li]!.trim(), fctx(li), 'atom count');
    checkAtomCount(n, fctx(li)); // before any per-atom allocation
    atomsInFile += n;
    if (atomsInFile > VALIDATION.maxAtomsPerFile)
      throw inputError('too_many_atoms', fctx(li), `more than ${VALIDATION.maxAtomsPerFile} atoms in the file's frames together`);
    if (n === 0) throw inputError('empty_structure', fctx(li), 'frame with zero atoms');
    if (lines[li + 1] === undefined) throw inputError('unparsable', fctx(li), 'file ends before the comment line (truncated)');
    const kv = parseKeyValues(lines[li + 1]!, fctx(li + 1));
    const keyOf = (name: string): string | undefined => [...kv.keys()].find((k) => k.toLowerCase() === name.toLowerCase());
    const get = (name: string): string | undefined => {
      const k = keyOf(name);
      return k === undefined ? undefined : kv.get(k);
    };

    const latticeText = get('Lattice');
    if (latticeText === undefined) throw inputError('no_cell', fctx(li + 1), 'no Lattice= in the comment line (not a periodic structure)');
    const lv = numbers(latticeText, fctx(li + 1), 'Lattice');
    if (lv.length !== 9) throw inputError('no_cell', fctx(li + 1), `Lattice has ${lv.length} numbers, expected 9`);
    const lattice: Mat3 = [
      [lv[0]!, lv[1]!, lv[2]!],
      [lv[3]!, lv[4]!, lv[5]!],
      [lv[6]!, lv[7]!, lv[8]!],
    ];
    const pbcText = get('pbc');
    if (pbcText !== undefined) {
      const flags = pbcText.trim().split(/\s+/);
      if (flags.length !== 3 || flags.some((f) => !/^(t|f|true|false|1|0)$/i.test(f))) throw inputError('unparsable', fctx(li + 1), `pbc '${clip(pbcText)}' is not three T/F flags`);
      if (flags.some((f) => /^(f|false|0)$/i.test(f))) throw inputError('no_cell', fctx(li + 1), `pbc="${pbcText}": only fully periodic crystals are supported`);
    }
    const cols = parseProperties(get('Properties') ?? 'species:S:1:pos:R:3', fctx(li + 1));
    const width = cols.reduce((a, c) => a + c.width, 0);
    const colStart: Record<string, number> = {};
    let acc = 0;
    for (const c of cols) {
      colStart[c.name] = acc;
      acc += c.width;
    }
    const findCol = (...names: string[]): Column | undefined => {
      for (const nm of names) {
        const c = cols.find((x) => x.name === nm);
        if (c) return c;
      }
      return undefined;
    };
    const speciesCol = findCol('species', 'symbols', 'element');
    const zCol = findCol('Z', 'numbers');
    const posCol = findCol('pos', 'positions');
    if (!speciesCol && !zCol) throw inputError('unparsable', fctx(li + 1), 'Properties has no species (or Z) column');
    if (!posCol || posCol.width !== 3 || posCol.type !== 'R') throw inputError('unparsable', fctx(li + 1), 'Properties has no pos:R:3 column');
    const forcesCol = findCol('REF_forces', 'forces', 'force', 'REF_force');
    if (forcesCol && (forcesCol.width !== 3 || forcesCol.type !== 'R')) throw inputError('unparsable', fctx(li + 1), `${forcesCol.name} must be R:3`);

    const numbersZ: number[] = new Array(n);
    const cart: Vec3[] = new Array(n);
    const forces: Vec3[] | undefined = forcesCol ? new Array(n) : undefined;
    const ps = colStart[posCol.name]!;
    const fs = forcesCol ? colStart[forcesCol.name]! : 0;
    const lc: SourceContext = { source: sourceName, frame, line: 0 };
    for (let a = 0; a < n; a++) {
      const l = li + 2 + a;
      const line = lines[l];
      if (line === undefined || line.trim() === '') throw inputError('unparsable', fctx(l), `frame ends after ${a} of ${n} atoms (truncated)`);
      const w = line.trim().split(/\s+/);
      lc.line = l + 1; // one reused context (read only when an error is built)
      if (w.length !== width) throw inputError('unparsable', lc, `atom line has ${w.length} columns; Properties declares ${width}`);
      if (speciesCol) numbersZ[a] = elementNumber(w[colStart[speciesCol.name]!]!, lc, false);
      else {
        const z = parseCount(w[colStart[zCol!.name]!], lc, 'atomic number');
        if (z < 1 || z > 118) throw inputError('unknown_element', lc, `atomic number ${z}`);
        numbersZ[a] = z;
      }
      cart[a] = [parseReal(w[ps], lc, 'x'), parseReal(w[ps + 1], lc, 'y'), parseReal(w[ps + 2], lc, 'z')];
      if (forces) forces[a] = [parseReal(w[fs], lc, 'force x'), parseReal(w[fs + 1], lc, 'force y'), parseReal(w[fs + 2], lc, 'force z')];
    }

    const properties: StructureProperties = {};
    const labelKeys: Record<string, string> = {};
    const energyKey = keyOf('REF_energy') ?? keyOf('energy');
    if (energyKey !== undefined) {
      checkUnit(get('energy_unit'), ['ev'], 'energy_unit', fctx(li + 1));
      properties.energy = parseReal(kv.get(energyKey)!.trim(), fctx(li + 1), energyKey);
      labelKeys['energy'] = energyKey;
    }
    if (forces) {
      checkUnit(get('forces_unit'), ['ev/a'], 'forces_unit', fctx(li + 1));
      properties.forces = forces;
      labelKeys['forces'] = forcesCol!.name;
    }
    const stressKey = keyOf('REF_stress') ?? keyOf('stress');
    const virialKey = keyOf('REF_virial') ?? keyOf('virial');
    if (stressKey !== undefined) {
      const f = stressUnitFactor(get('stress_unit'), fctx(li + 1));
      const m = stressFromValues(numbers(kv.get(stressKey)!, fctx(li + 1), stressKey), fctx(li + 1), stressKey);
      properties.stress = m.map((r) => r.map((x) => x * f)) as Mat3;
      labelKeys['stress'] = stressKey;
    } else if (virialKey !== undefined) {
      // ASE: stress = −virial / volume
      const vol = Math.abs(det3(lattice));
      const m = stressFromValues(numbers(kv.get(virialKey)!, fctx(li + 1), virialKey), fctx(li + 1), virialKey);
      properties.stress = m.map((r) => r.map((x) => -x / vol)) as Mat3;
      labelKeys['stress'] = virialKey;
    }
    if (Object.keys(labelKeys).length) properties['labelKeys'] = labelKeys;
    const info: Record<string, InfoValue> = {};
    const used = new Set(Object.values(labelKeys).map((k) => k.toLowerCase()));
    for (const [k, v] of kv) if (!CONSUMED.has(k.toLowerCase()) && !used.has(k.toLowerCase())) info[k] = infoValue(v);
    if (Object.keys(info).length) properties['info'] = info;

    let inv: Mat3;
    try {
      inv = inv3(lattice);
    } catch {
      throw inputError('no_cell', fctx(li + 1), 'degenerate cell: Lattice is singular (zero volume)');
    }
    const frac = cart.map((p) => vecmat3(p, inv));
    out.push(
      makeStructure({
        lattice,
        frac,
        numbers: numbersZ,
        name: sourceName !== undefined ? `${sourceName}#${frame}` : `frame${frame}`,
        properties,
      }),
    );
    li += 2 + n;
  }
  if (out.length === 0) throw inputError('empty_structure', ctx, 'no frames');
  return out;
}

function quote(v: string): string {
  return /[\s"'=]/.test(v) || v === '' ? `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : v;
}

function infoText(v: unknown): string | undefined {
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  if (typeof v === 'number') return fmt(v);
  if (typeof v === 'string') return quote(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return `"${v.map(fmt).join(' ')}"`;
  return undefined;
}

/** Write one or more structures as extended XYZ (Cartesian positions; labels if present). */
export function writeExtxyz(structures: Structure | readonly Structure[]): string {
  const list = Array.isArray(structures) ? (structures as readonly Structure[]) : [structures as Structure];
  const chunks: string[] = [];
  for (const s of list) {
    const props = s.properties ?? {};
    const forces = Array.isArray(props.forces) && props.forces.length === s.numbers.length ? props.forces : undefined;
    const lat = s.lattice.flat().map(fmt).join(' ');
    const head = [`Lattice="${lat}"`, `Properties=species:S:1:pos:R:3${forces ? ':forces:R:3' : ''}`];
    if (typeof props.energy === 'number') head.push(`energy=${fmt(props.energy)}`);
    if (props.stress) head.push(`stress="${props.stress.flat().map(fmt).join(' ')}"`);
    const info = props['info'];
    if (info && typeof info === 'object') {
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (/^(lattice|properties|pbc|energy|stress|forces)$/i.test(k) || !/^[A-Za-z_][\w.-]*$/.test(k)) continue;
        const t = infoText(v);
        if (t !== undefined) head.push(`${k}=${t}`);
      }
    }
    head.push('pbc="T T T"');
    const lines = [String(s.numbers.length), head.join(' ')];
    const cart = cartesian(s);
    s.numbers.forEach((z, i) => {
      const p = cart[i]!;
      let l = `${symbolOf(z)} ${fmt(p[0])} ${fmt(p[1])} ${fmt(p[2])}`;
      if (forces) {
        const f = forces[i]!;
        l += ` ${fmt(f[0])} ${fmt(f[1])} ${fmt(f[2])}`;
      }
      lines.push(l);
    });
    chunks.push(lines.join('\n'));
  }
  return chunks.join('\n') + '\n';
}
