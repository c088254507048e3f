// `softmode validate <files|dirs…> [--json] [--symprec X]`: read every structure file
// (directories recursively), validate each structure and report per structure its id (the
// canonical content hash), formula, atom count, space group and verdict (ok or an error code).
// Bad structures are results, not failures: the exit code is non-zero only on usage errors.
import { existsSync } from 'node:fs';
import { collectStructureFiles } from '../../engine/ingest.js';
import { basename, extname, join, relative } from 'node:path';
import { STRUCTURE_DEFAULTS } from '../../config/structure.js';
import { SoftmodeInputError } from '../../core/errors.js';
import { cellFormula, reducedFormula, structureHash } from '../../core/structure/hash.js';
import { readStructureFile } from '../../core/structure/io/index.js';
import type { Structure } from '../../core/structure/structure.js';
import { validateStructure } from '../../core/structure/validate.js';
import { type OptionsSpec, formatOptions, parseArgs as parseOptions } from '../lib/args.js';
import { getSymmetry } from '../../core/symmetry/index.js';

export const summary = 'read structure files/directories, print id, formula, atoms, space group and verdict per structure';

const SPEC = {
  json: { kind: 'boolean', help: 'one JSON document: { results: [...], summary: {...} }' },
  symprec: { kind: 'number', positive: true, default: STRUCTURE_DEFAULTS.validateSymprec, metavar: 'X', help: 'symmetry tolerance in Å for the reported space group' },
} as const satisfies OptionsSpec;

const USAGE = `usage: softmode validate <file|dir>... [--json] [--symprec X]

  Reads every structure file (CIF, POSCAR/CONTCAR, extended XYZ, pymatgen JSON); directories
  are searched recursively for known extensions. For each structure prints: id (sha256 content
  hash, invariant to atom order, translation, rotation and cell choice), formula, atoms,
  space group (moyo at --symprec, default ${STRUCTURE_DEFAULTS.validateSymprec} Å) and the verdict:
  'ok' or a typed error code. Exit code 0 unless the command line is wrong.

${formatOptions(SPEC)}`;

export interface ValidateEntry {
  /** file path as given (or found under a given directory) */
  file: string;
  /** index of the structure inside the file (frames, data blocks); null when the file failed */
  index: number | null;
  name: string | null;
  /** canonical content hash (sha256 hex), null when it could not be computed */
  id: string | null;
  formula: string | null;
  reducedFormula: string | null;
  atoms: number | null;
  spaceGroup: { number: number; symbol: string } | null;
  /** 'ok' or an error code */
  verdict: string;
  message?: string;
  warnings?: string[];
}

/** Files under the given paths (one collector for validate and run: engine/ingest.ts). */
export function collectFiles(paths: readonly string[]): string[] {
  return collectStructureFiles(paths).files;
}

function describe(file: string, index: number, s: Structure, symprec: number): ValidateEntry {
  const entry: ValidateEntry = {
    file,
    index,
    name: s.name ?? null,
    id: null,
    formula: cellFormula(s.numbers),
    reducedFormula: s.numbers.length ? reducedFormula(s.numbers) : null,
    atoms: s.numbers.length,
    spaceGroup: null,
    verdict: 'ok',
  };
  const v = validateStructure(s);
  if (!v.ok) {
    entry.verdict = v.code;
    entry.message = v.message;
    return entry; // no hash or symmetry for a structure that failed validation
  }
  if (v.warnings.length) entry.warnings = v.warnings;
  try {
    const sym = getSymmetry(s, symprec);
    entry.spaceGroup = { number: sym.number, symbol: sym.symbol };
  } catch (e) {
    if (!(e instanceof SoftmodeInputError)) throw e;
    entry.verdict = e.code;
    entry.message = e.message;
  }
  try {
    entry.id = structureHash(s);
  } catch (e) {
    if (!(e instanceof SoftmodeInputError)) throw e;
    if (entry.verdict === 'ok') {
      entry.verdict = e.code;
      entry.message = e.message;
    }
  }
  return entry;
}

/** Validate every structure in the files; never throws for bad input files. */
export function validateFiles(files: readonly string[], symprec: number): ValidateEntry[] {
  const out: ValidateEntry[] = [];
  for (const file of files) {
    let structures: Structure[];
    try {
      structures = readStructureFile(file);
    } catch (e) {
      const code = e instanceof SoftmodeInputError ? e.code : 'unparsable';
      out.push({ file, index: null, name: null, id: null, formula: null, reducedFormula: null, atoms: null, spaceGroup: null, verdict: code, message: e instanceof Error ? e.message : String(e) });
      continue;
    }
    if (structures.length === 0) {
      out.push({ file, index: null, name: null, id: null, formula: null, reducedFormula: null, atoms: null, spaceGroup: null, verdict: 'empty_structure', message: 'no structure in file' });
      continue;
    }
    structures.forEach((s, i) => {
      try {
        out.push(describe(file, i, s, symprec));
      } catch (e) {
        // an unexpected fault on one structure must not stop the others
        out.push({ file, index: i, name: s.name ?? null, id: null, formula: null, reducedFormula: null, atoms: s.numbers.length, spaceGroup: null, verdict: 'internal_error', message: e instanceof Error ? e.message : String(e) });
      }
    });
  }
  return out;
}

export function summarize(results: readonly ValidateEntry[]): { files: number; structures: number; ok: number; byVerdict: Record<string, number> } {
  const byVerdict: Record<string, number> = {};
  for (const r of results) byVerdict[r.verdict] = (byVerdict[r.verdict] ?? 0) + 1;
  return {
    files: new Set(results.map((r) => r.file)).size,
    structures: results.filter((r) => r.index !== null).length,
    ok: byVerdict['ok'] ?? 0,
    byVerdict,
  };
}

export interface ParsedArgs {
  paths: string[];
  json: boolean;
  symprec: number;
}

/** Parse argv; returns a usage message (string) on error, '' for --help. */
export function parseArgs(argv: readonly string[]): ParsedArgs | string {
  let p;
  try {
    p = parseOptions(argv, SPEC);
  } catch (e) {
    if (e instanceof SoftmodeInputError) return e.message;
    throw e;
  }
  if (p.values.help) return '';
  if (p.positionals.length === 0) return 'no files or directories given';
  return { paths: p.positionals, json: p.values.json, symprec: p.values.symprec };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    if (!args) {
      console.log(USAGE);
      return 0;
    }
    console.error(`softmode validate: ${args}\n${USAGE}`);
    return 2;
  }
  const missing = args.paths.filter((x) => !existsSync(x));
  if (missing.length > 0) {
    console.error(`softmode validate: no such file or directory: ${missing.join(', ')}`);
    return 2;
  }
  const { files, skipped } = collectStructureFiles(args.paths);
  const results = validateFiles(files, args.symprec);
  const sum = summarize(results);
  if (args.json) {
    process.stdout.write(JSON.stringify({ version: STRUCTURE_DEFAULTS.version, symprec: args.symprec, results, skipped, summary: sum }, null, 1) + '\n');
    return 0;
  }
  for (const k of skipped) console.log(`skipped: ${relative(process.cwd(), k.path) || k.path}: ${k.reason}`);
  const cwd = process.cwd();
  for (const r of results) {
    const where = relative(cwd, r.file) || basename(r.file);
    const label = r.index === null ? where : `${where}#${r.index}`;
    const sg = r.spaceGroup ? `${r.spaceGroup.symbol} (${r.spaceGroup.number})` : '-';
    const verdict = r.verdict === 'ok' ? 'ok' : `${r.verdict}${r.message ? `: ${r.message}` : ''}`;
    console.log([r.id ? r.id.slice(0, 16) : '-'.padEnd(16), (r.formula ?? '-').padEnd(14), String(r.atoms ?? '-').padStart(5), sg.padEnd(16), verdict, ` ${label}`].join('  '));
  }
  console.log(`${sum.structures} structures in ${sum.files} files: ${sum.ok} ok` + Object.entries(sum.byVerdict).filter(([k]) => k !== 'ok').map(([k, v]) => `, ${v} ${k}`).join(''));
  return 0;
}
