// Reading and writing phonopy's files, so a softmode result can be cross-checked with phonopy
// and phonopy/phonondb inputs can be post-processed here.
//
// Read: phonopy_disp.yaml, phonopy.yaml, phonopy_params.yaml (cells, matrices, displacements,
// optional forces / force constants), FORCE_SETS (type 1), disp.yaml (phonopy ≤ 1.x, supercell
// + displacements) and phonopy.conf (DIM, PRIMITIVE_AXIS[ES]).
// Write: phonopy_disp.yaml (phonopy ≥ 2 layout), FORCE_SETS (type 1), band.yaml, mesh.yaml.
// Atom indices are 1-based in the files and 0-based here.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SoftmodeInputError, StructureError, UsageError, isInputError } from '../errors.js';
import { type Mat3, type Vec3, inv3, transpose3 } from '../math/linalg.js';
import { atomicNumber, symbolOf } from '../structure/elements.js';
import { type Structure, makeStructure } from '../structure/structure.js';
import type { Displacement, DisplacementForces } from './displacements.js';

/** Everything a phonopy yaml file can tell us; absent fields are undefined. */
export interface PhonopyData {
  unitcell?: Structure;
  /** masses (AMU) of the unit-cell atoms as written in the file */
  unitcellMasses?: number[];
  supercell?: Structure;
  supercellMasses?: number[];
  /** phonopy supercell_matrix (column convention, see core/structure/supercell.ts) */
  supercellMatrix?: Mat3;
  /** phonopy primitive_matrix (unit cell → primitive, column convention) */
  primitiveMatrix?: Mat3;
  displacements?: (Displacement | DisplacementForces)[];
  /** full force constants, n×n×3×3, when the file stores them (format full only) */
  forceConstants?: { natoms: number; data: Float64Array };
  frequencyFactor?: number;
  symprec?: number;
  /** phonopy calculator length unit (ABACUS files use au) */
  lengthUnit?: string;
}

function bad(msg: string, path?: string): StructureError {
  return new StructureError('unparsable', path ? `${path}: ${msg}` : msg);
}

function num(x: unknown, what: string): number {
  const v = typeof x === 'string' ? Number(x) : x;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${what} is not a finite number`);
  return v;
}

function vec3(x: unknown, what: string): Vec3 {
  if (!Array.isArray(x) || x.length !== 3) throw bad(`${what} is not a 3-vector`);
  return [num(x[0], what), num(x[1], what), num(x[2], what)];
}

function mat3(x: unknown, what: string): Mat3 {
  if (!Array.isArray(x) || x.length !== 3) throw bad(`${what} is not a 3×3 matrix`);
  return [vec3(x[0], what), vec3(x[1], what), vec3(x[2], what)];
}

/** Parse "1/2", "-1/3", "0.5" */
export function parseFraction(tok: string): number {
  const m = /^([+-]?[\d.eE+-]+)\/([\d.eE+-]+)$/.exec(tok);
  const v = m ? Number(m[1]) / Number(m[2]) : Number(tok);
  if (!Number.isFinite(v)) throw bad(`'${tok}' is not a number or fraction`);
  return v;
}

function readCell(x: unknown, what: string): { structure: Structure; masses: number[] } {
  if (!x || typeof x !== 'object') throw bad(`${what} missing`);
  const o = x as Record<string, unknown>;
  const lattice = mat3(o['lattice'], `${what}.lattice`);
  const pts = (o['points'] ?? o['atoms']) as unknown;
  if (!Array.isArray(pts)) throw bad(`${what}.points missing`);
  const frac: Vec3[] = [];
  const numbers: number[] = [];
  const masses: number[] = [];
  for (const [k, p] of pts.entries()) {
    const q = p as Record<string, unknown>;
    const sym = String(q['symbol'] ?? '').trim();
    const z = atomicNumber(sym);
    if (z === undefined) throw new StructureError('unknown_element', `${what}.points[${k}]: unknown element '${sym}'`);
    numbers.push(z);
    frac.push(vec3(q['coordinates'] ?? q['position'], `${what}.points[${k}].coordinates`));
    masses.push(q['mass'] !== undefined ? num(q['mass'], 'mass') : NaN);
  }
  return { structure: makeStructure({ lattice, frac, numbers }), masses };
}

function readDisplacements(x: unknown, natom: number | undefined): (Displacement | DisplacementForces)[] {
  if (!Array.isArray(x)) throw bad('displacements is not a list');
  return x.map((d, k) => {
    const o = d as Record<string, unknown>;
    const atom = num(o['atom'], `displacements[${k}].atom`) - 1;
    if (!Number.isInteger(atom) || atom < 0 || (natom !== undefined && atom >= natom)) throw bad(`displacements[${k}].atom out of range`);
    const displacement = vec3(o['displacement'], `displacements[${k}].displacement`);
    if (o['forces'] !== undefined) {
      const f = o['forces'];
      if (!Array.isArray(f) || (natom !== undefined && f.length !== natom)) throw bad(`displacements[${k}].forces has the wrong length`);
      return { atom, displacement, forces: f.map((r, i) => vec3(r, `displacements[${k}].forces[${i}]`)) };
    }
    return { atom, displacement };
  });
}

/** Parse a phonopy_disp.yaml / phonopy.yaml / phonopy_params.yaml / disp.yaml text. */
export function parsePhonopyYaml(text: string, path?: string): PhonopyData {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: -1 });
  } catch (e) {
    throw bad(`not valid YAML (${(e as Error).message})`, path);
  }
  if (!doc || typeof doc !== 'object') throw bad('empty or not a mapping', path);
  const o = doc as Record<string, unknown>;
  const out: PhonopyData = {};
  try {
    if (o['unit_cell']) {
      const c = readCell(o['unit_cell'], 'unit_cell');
      out.unitcell = c.structure;
      out.unitcellMasses = c.masses;
    }
    if (o['supercell']) {
      const c = readCell(o['supercell'], 'supercell');
      out.supercell = c.structure;
      out.supercellMasses = c.masses;
    } else if (o['lattice'] && o['atoms']) {
      // disp.yaml of phonopy 1.x: the supercell at top level
      const c = readCell({ lattice: o['lattice'], atoms: o['atoms'] }, 'disp.yaml cell');
      out.supercell = c.structure;
      out.supercellMasses = c.masses;
    }
    if (o['supercell_matrix'] !== undefined) out.supercellMatrix = mat3(o['supercell_matrix'], 'supercell_matrix');
    if (o['primitive_matrix'] !== undefined) out.primitiveMatrix = mat3(o['primitive_matrix'], 'primitive_matrix');
    const natom = out.supercell?.numbers.length ?? (o['natom'] !== undefined ? num(o['natom'], 'natom') : undefined);
    if (o['displacements'] !== undefined) out.displacements = readDisplacements(o['displacements'], natom);
    const ph = o['phonopy'] as Record<string, unknown> | undefined;
    if (ph && typeof ph === 'object') {
      if (ph['frequency_unit_conversion_factor'] !== undefined) out.frequencyFactor = num(ph['frequency_unit_conversion_factor'], 'frequency_unit_conversion_factor');
      if (ph['symmetry_tolerance'] !== undefined) out.symprec = num(ph['symmetry_tolerance'], 'symmetry_tolerance');
    }
    const pu = o['physical_unit'] as Record<string, unknown> | undefined;
    if (pu && typeof pu === 'object' && pu['length'] !== undefined) out.lengthUnit = String(pu['length']);
    const fc = o['force_constants'] as Record<string, unknown> | undefined;
    if (fc && typeof fc === 'object' && Array.isArray(fc['elements'])) {
      const shape = fc['shape'] as unknown[];
      const fmt = String(fc['format'] ?? 'full');
      const n0 = num(shape?.[0], 'force_constants.shape');
      const n1 = num(shape?.[1], 'force_constants.shape');
      if (fmt === 'full' && n0 === n1) {
        const el = fc['elements'] as unknown[];
        if (el.length !== n0 * n1) throw bad('force_constants.elements has the wrong length');
        const data = new Float64Array(n0 * n1 * 9);
        el.forEach((m, k) => {
          const M = mat3(m, 'force_constants element');
          for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) data[k * 9 + a * 3 + b] = M[a]![b]!;
        });
        out.forceConstants = { natoms: n0, data };
      }
    }
  } catch (e) {
    if (e instanceof SoftmodeInputError && path && !e.message.startsWith(path))
      throw isInputError(e) ? new StructureError(e.code, `${path}: ${e.message}`, e.detail) : new UsageError(`${path}: ${e.message}`, e.detail);
    throw e;
  }
  return out;
}

export function readPhonopyYaml(path: string): PhonopyData {
  return parsePhonopyYaml(readFileSync(path, 'utf8'), path);
}

/** FORCE_SETS type 1: natom, ndisp, then per displacement: atom (1-based), u, natom force rows. */
export function parseForceSets(text: string, path?: string): { natoms: number; sets: DisplacementForces[] } {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l.length > 0);
  const nums = (l: string | undefined, what: string): number[] => {
    if (l === undefined) throw bad(`unexpected end of file while reading ${what}`, path);
    const v = l.split(/\s+/).map(Number);
    if (v.some((x) => !Number.isFinite(x))) throw bad(`bad number in ${what}: '${l}'`, path);
    return v;
  };
  let k = 0;
  const head1 = nums(lines[k++], 'natom');
  const natoms = head1[0]!;
  if (!Number.isInteger(natoms) || natoms <= 0) throw bad('first line must be the number of atoms', path);
  const h2 = nums(lines[k++], 'number of displacements');
  if (h2.length !== 1) throw bad('this is not a type-1 FORCE_SETS (second line must be the number of displacements)', path);
  const ndisp = h2[0]!;
  const sets: DisplacementForces[] = [];
  for (let d = 0; d < ndisp; d++) {
    const a = nums(lines[k++], `atom index of displacement ${d + 1}`);
    if (a.length !== 1 || !Number.isInteger(a[0]) || a[0]! < 1 || a[0]! > natoms) throw bad(`bad atom index for displacement ${d + 1}`, path);
    const u = nums(lines[k++], `displacement ${d + 1}`);
    if (u.length !== 3) throw bad(`displacement ${d + 1} must have 3 components`, path);
    const forces: Vec3[] = [];
    for (let i = 0; i < natoms; i++) {
      const f = nums(lines[k++], `force ${i + 1} of displacement ${d + 1}`);
      if (f.length !== 3) throw bad(`force ${i + 1} of displacement ${d + 1} must have 3 components`, path);
      forces.push([f[0]!, f[1]!, f[2]!]);
    }
    sets.push({ atom: a[0]! - 1, displacement: [u[0]!, u[1]!, u[2]!], forces });
  }
  return { natoms, sets };
}

export function readForceSets(path: string): { natoms: number; sets: DisplacementForces[] } {
  return parseForceSets(readFileSync(path, 'utf8'), path);
}

/** phonopy.conf: DIM (3 or 9 integers) and PRIMITIVE_AXIS / PRIMITIVE_AXES (9 numbers or fractions). */
export function parsePhonopyConf(text: string): { supercellMatrix?: Mat3; primitiveMatrix?: Mat3 } {
  const out: { supercellMatrix?: Mat3; primitiveMatrix?: Mat3 } = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^([A-Za-z_]+)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toUpperCase();
    const toks = m[2]!.trim().split(/\s+/).filter(Boolean);
    if (key === 'DIM') {
      const v = toks.map((t) => parseFraction(t));
      if (v.length === 3) out.supercellMatrix = [[v[0]!, 0, 0], [0, v[1]!, 0], [0, 0, v[2]!]];
      else if (v.length === 9) out.supercellMatrix = [[v[0]!, v[1]!, v[2]!], [v[3]!, v[4]!, v[5]!], [v[6]!, v[7]!, v[8]!]];
      else throw bad('DIM needs 3 or 9 numbers');
      if (out.supercellMatrix.flat().some((x) => !Number.isInteger(x))) throw bad('DIM must be integers');
    } else if (key === 'PRIMITIVE_AXIS' || key === 'PRIMITIVE_AXES') {
      if (toks.length === 1 && /^auto$/i.test(toks[0]!)) continue;
      const v = toks.map((t) => parseFraction(t));
      if (v.length !== 9) throw bad(`${key} needs 9 numbers`);
      out.primitiveMatrix = [[v[0]!, v[1]!, v[2]!], [v[3]!, v[4]!, v[5]!], [v[6]!, v[7]!, v[8]!]];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Writers (phonopy ≥ 2 layout). Numbers with full double precision.

function f15(x: number): string {
  const s = (Math.abs(x) < 5e-16 ? 0 : x).toFixed(15);
  return s.padStart(19);
}

function row3(v: readonly number[]): string {
  return `[ ${f15(v[0]!)}, ${f15(v[1]!)}, ${f15(v[2]!)} ]`;
}

function cellYaml(s: Structure, masses: readonly number[], indent = ''): string {
  const L = s.lattice;
  let t = `${indent}  lattice:\n`;
  ['a', 'b', 'c'].forEach((ax, i) => (t += `${indent}  - ${row3(L[i]!)} # ${ax}\n`));
  t += `${indent}  points:\n`;
  s.numbers.forEach((z, i) => {
    t += `${indent}  - symbol: ${symbolOf(z).padEnd(2)} # ${i + 1}\n`;
    t += `${indent}    coordinates: ${row3(s.frac[i]!)}\n`;
    t += `${indent}    mass: ${masses[i]!}\n`;
  });
  return t;
}

function matYaml(M: readonly (readonly number[])[], integer: boolean): string {
  return M.map((r) => `- [ ${r.map((x) => (integer ? String(Math.round(x)).padStart(4) : f15(x))).join(', ')} ]`).join('\n') + '\n';
}

export interface PhonopyDispInput {
  unitcell: Structure;
  unitcellMasses: readonly number[];
  supercell: Structure;
  supercellMasses: readonly number[];
  supercellMatrix: readonly (readonly number[])[];
  primitiveMatrix: readonly (readonly number[])[];
  displacements: readonly Displacement[];
  symprec: number;
  frequencyFactor: number;
}

/** phonopy_disp.yaml that `phonopy.load("phonopy_disp.yaml", force_sets_filename=...)` reads. */
export function formatPhonopyDispYaml(d: PhonopyDispInput): string {
  let t = 'phonopy:\n  version: "2.20.0"\n';
  t += `  frequency_unit_conversion_factor: ${d.frequencyFactor}\n`;
  t += `  symmetry_tolerance: ${d.symprec.toExponential(5)}\n`;
  t += '  configuration:\n    create_displacements: ".true."\n  written_by: "softmode"\n\n';
  t += 'physical_unit:\n  atomic_mass: "AMU"\n  length: "angstrom"\n  force_constants: "eV/angstrom^2"\n\n';
  t += 'primitive_matrix:\n' + matYaml(d.primitiveMatrix, false) + '\n';
  t += 'supercell_matrix:\n' + matYaml(d.supercellMatrix, true) + '\n';
  t += 'unit_cell:\n' + cellYaml(d.unitcell, d.unitcellMasses) + '\n';
  t += 'supercell:\n' + cellYaml(d.supercell, d.supercellMasses) + '\n';
  t += 'displacements:\n';
  for (const x of d.displacements) {
    t += `- atom: ${String(x.atom + 1).padStart(4)}\n  displacement:\n    ${row3(x.displacement)}\n`;
    const f = (x as Partial<DisplacementForces>).forces;
    if (f) {
      t += '  forces:\n';
      for (const r of f) t += `  - ${row3(r)}\n`;
    }
  }
  return t;
}

export function formatForceSets(natoms: number, sets: readonly DisplacementForces[]): string {
  const g = (x: number): string => x.toFixed(16).padStart(22);
  let t = `${natoms}\n${sets.length}\n`;
  for (const s of sets) {
    if (s.forces.length !== natoms) throw new RangeError('force set has the wrong number of atoms');
    t += `\n${s.atom + 1}\n${s.displacement.map(g).join(' ')}\n`;
    for (const f of s.forces) t += `${[f[0]!, f[1]!, f[2]!].map(g).join(' ')}\n`;
  }
  return t;
}

function reciprocalNo2pi(L: Readonly<Mat3>): Mat3 {
  // rows b_i with a_i·b_j = δ_ij: B = (L⁻¹)ᵀ
  return transpose3(inv3(L));
}

export interface BandYamlInput {
  primitive: Structure;
  masses: readonly number[];
  /** segments of fractional q-points (primitive reciprocal basis) with frequencies (THz) */
  segments: { labels?: [string, string]; qpoints: readonly (readonly number[])[]; frequencies: readonly (readonly number[])[] }[];
}

export function formatBandYaml(b: BandYamlInput): string {
  const B = reciprocalNo2pi(b.primitive.lattice);
  const nq = b.segments.reduce((a, s) => a + s.qpoints.length, 0);
  let t = `nqpoint: ${nq}\nnpath: ${b.segments.length}\nsegment_nqpoint:\n`;
  for (const s of b.segments) t += `- ${s.qpoints.length}\n`;
  if (b.segments.every((s) => s.labels)) {
    t += 'labels:\n';
    for (const s of b.segments) t += `- [ '${s.labels![0]}', '${s.labels![1]}' ]\n`;
  }
  t += 'reciprocal_lattice:\n';
  ['a*', 'b*', 'c*'].forEach((ax, i) => (t += `- ${row3(B[i]!)} # ${ax}\n`));
  t += `natom: ${b.primitive.numbers.length}\n` + cellYaml(b.primitive, b.masses).replace(/^ {2}/gm, '') + '\nphonon:\n';
  let dist = 0;
  let prev: Vec3 | undefined;
  for (const s of b.segments) {
    s.qpoints.forEach((q, k) => {
      const c: Vec3 = [0, 1, 2].map((j) => q[0]! * B[0]![j]! + q[1]! * B[1]![j]! + q[2]! * B[2]![j]!) as Vec3;
      if (prev && k > 0) dist += Math.hypot(c[0] - prev[0], c[1] - prev[1], c[2] - prev[2]);
      prev = c;
      t += `- q-position: ${row3(q)}\n  distance: ${dist.toFixed(7).padStart(12)}\n  band:\n`;
      s.frequencies[k]!.forEach((f, i) => (t += `  - # ${i + 1}\n    frequency: ${f.toFixed(10).padStart(15)}\n`));
      t += '\n';
    });
  }
  return t;
}

export interface MeshYamlInput {
  primitive: Structure;
  masses: readonly number[];
  mesh: readonly number[];
  qpoints: readonly (readonly number[])[];
  weights: readonly number[];
  frequencies: readonly (readonly number[])[];
}

export function formatMeshYaml(m: MeshYamlInput): string {
  const B = reciprocalNo2pi(m.primitive.lattice);
  let t = `mesh: [ ${m.mesh.join(', ')} ]\nnqpoint: ${m.qpoints.length}\nreciprocal_lattice:\n`;
  ['a*', 'b*', 'c*'].forEach((ax, i) => (t += `- ${row3(B[i]!)} # ${ax}\n`));
  t += `natom: ${m.primitive.numbers.length}\n` + cellYaml(m.primitive, m.masses).replace(/^ {2}/gm, '') + '\nphonon:\n';
  m.qpoints.forEach((q, k) => {
    t += `- q-position: ${row3(q)}\n  weight: ${m.weights[k]}\n  band:\n`;
    m.frequencies[k]!.forEach((f, i) => (t += `  - # ${i + 1}\n    frequency: ${f.toFixed(10).padStart(15)}\n`));
    t += '\n';
  });
  return t;
}
