// The one argument parser of the `softmode` commands and the bench drivers (bench/ imports it:
// this module holds no command logic). A command declares its options once:
//
//   const SPEC = {
//     dim: { kind: 'matrix', counts: [1, 3, 9], integer: true, metavar: '"2 2 2"', help: 'supercell matrix' },
//     threads: { kind: 'positive-int', metavar: 'N', help: 'threads' },
//     json: { kind: 'boolean', help: 'print JSON' },
//   } as const satisfies OptionsSpec;
//   const a = parseArgs(argv, SPEC);   // a.values.dim: Mat3 | undefined, a.values.json: boolean
//
// Syntax: `--key value`, `--key=value`, `--flag`, `-h`/`--help` (always known), `--` ends the
// options. A value that looks like a negative number or a list of numbers/fractions (`-2`,
// `-0.5`, `-1/2 1/2 1/2 ...`) is taken as the option's value, never as an option. Unknown
// options, missing values and values of the wrong kind throw a one-line UsageError (exit 2).
import { availableParallelism } from 'node:os';
import { UsageError } from '../../core/errors.js';
import { type Mat3, det3 } from '../../core/math/linalg.js';
import { parseFraction } from '../../core/phonon/phonopy-io.js';

interface Common {
  help?: string;
  /** the value's placeholder in the usage text (default from the kind) */
  metavar?: string;
  /** one-letter alias: `-x` */
  short?: string;
}

export type OptionSpec = Common &
  (
    | { kind: 'boolean' }
    | { kind: 'string'; default?: string }
    /** an integer, negative allowed unless `min` says otherwise */
    | { kind: 'int'; default?: number; min?: number }
    | { kind: 'positive-int'; default?: number }
    | { kind: 'number'; default?: number; min?: number; positive?: boolean }
    | { kind: 'enum'; values: readonly string[]; default?: string }
    /** 3×3 matrix from 1 (scalar·I), 3 (diagonal) or 9 (row-major) numbers or fractions */
    | { kind: 'matrix'; counts: readonly (1 | 3 | 9)[]; integer?: boolean }
    /** `length` numbers or fractions */
    | { kind: 'vector'; length: number; integer?: boolean; min?: number }
    /** comma-separated list */
    | { kind: 'list'; item?: 'string'; default?: readonly string[] }
    | { kind: 'list'; item: 'int'; min?: number; default?: readonly number[] }
  );

export type OptionsSpec = Readonly<Record<string, OptionSpec>>;

type ValueOf<O> = O extends { kind: 'boolean' }
  ? boolean
  : O extends { kind: 'enum'; values: readonly (infer V)[] }
    ? V
    : O extends { kind: 'string' }
      ? string
      : O extends { kind: 'int' | 'positive-int' | 'number' }
        ? number
        : O extends { kind: 'matrix' }
          ? Mat3
          : O extends { kind: 'vector' }
            ? number[]
            : O extends { kind: 'list'; item: 'int' }
              ? number[]
              : O extends { kind: 'list' }
                ? string[]
                : never;

/** Parsed values: booleans and options with a default are always set, the others may be undefined. */
export type Values<S extends OptionsSpec> = {
  -readonly [K in keyof S]: S[K] extends { kind: 'boolean' } | { default: unknown } ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
} & { help: boolean };

export interface Parsed<S extends OptionsSpec> {
  values: Values<S>;
  positionals: string[];
  /** the arguments as given (for recording the command line) */
  argv: readonly string[];
}

/** The usage error every parser failure throws (exit code 2, one line). */
export function usageError(message: string): UsageError {
  return new UsageError(message);
}

const NUM = String.raw`[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?`;
const FRAC = `${NUM}(?:/${NUM})?`;
const NUMERIC_LIST = new RegExp(String.raw`^\s*${FRAC}(?:[\s,]+${FRAC})*\s*$`);

/** A token that is a number, a fraction or a list of them (`-2`, `-0.5`, `-1/2 1/2 1/2`): a value, not an option. */
export function looksNumeric(token: string): boolean {
  return NUMERIC_LIST.test(token);
}

function isValueToken(token: string | undefined): token is string {
  return token !== undefined && (!token.startsWith('-') || token === '-' || looksNumeric(token));
}

const HELP: OptionSpec = { kind: 'boolean', short: 'h', help: 'this text' };

function withHelp(spec: OptionsSpec): OptionsSpec {
  return 'help' in spec ? spec : { ...spec, help: HELP };
}

export function parseArgs<S extends OptionsSpec>(argv: readonly string[], spec: S): Parsed<S> {
  const all = withHelp(spec);
  const shorts = new Map<string, string>();
  for (const [name, o] of Object.entries(all)) if (o.short) shorts.set(o.short, name);
  const raw = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq >= 0 ? a.slice(eq + 1) : undefined;
      if (!Object.hasOwn(all, name)) throw usageError(`unknown option --${name}`);
    } else if (a.startsWith('-') && a !== '-' && !looksNumeric(a)) {
      const long = a.length === 2 ? shorts.get(a[1]!) : undefined;
      if (long === undefined) throw usageError(`unknown option ${a}`);
      name = long;
    } else {
      positionals.push(a);
      continue;
    }
    const o = all[name]!;
    if (o.kind === 'boolean') {
      if (inline !== undefined) throw usageError(`--${name} takes no value`);
      raw.set(name, true);
      continue;
    }
    if (inline === undefined) {
      const next = argv[i + 1];
      if (!isValueToken(next)) throw usageError(`--${name} needs a value`);
      inline = next;
      i++;
    }
    raw.set(name, inline);
  }
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(all)) {
    const v = raw.get(name);
    if (o.kind === 'boolean') values[name] = v === true;
    else if (typeof v === 'string') values[name] = convert(name, o, v);
    else if ('default' in o && o.default !== undefined) values[name] = Array.isArray(o.default) ? [...(o.default as unknown[])] : o.default;
  }
  return { values: values as Values<S>, positionals, argv: [...argv] };
}

function intOf(name: string, text: string, min: number | undefined, what: string): number {
  const t = text.trim();
  const n = /^[+-]?\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || (min !== undefined && n < min)) throw usageError(`--${name} must be ${what} (got '${text}')`);
  return n;
}

function intWhat(min: number | undefined): string {
  return min === undefined ? 'an integer' : min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer ≥ ${min}`;
}

function numbersOf(name: string, text: string): number[] {
  const toks = text.trim().split(/[\s,]+/).filter(Boolean);
  return toks.map((t) => {
    try {
      return parseFraction(t);
    } catch {
      throw usageError(`--${name}: '${t}' is not a number or fraction`);
    }
  });
}

function convert(name: string, o: OptionSpec, v: string): unknown {
  switch (o.kind) {
    case 'string':
      return v;
    case 'enum':
      if (!o.values.includes(v)) throw usageError(`--${name} must be ${o.values.join(' | ')} (got '${v}')`);
      return v;
    case 'int':
      return intOf(name, v, o.min, intWhat(o.min));
    case 'positive-int':
      return intOf(name, v, 1, 'a positive integer');
    case 'number': {
      const x = v.trim() === '' ? NaN : Number(v);
      const what = o.positive ? 'a positive number' : o.min !== undefined ? `a number ≥ ${o.min}` : 'a number';
      if (!Number.isFinite(x) || (o.positive && !(x > 0)) || (o.min !== undefined && x < o.min)) throw usageError(`--${name} must be ${what} (got '${v}')`);
      return x;
    }
    case 'matrix': {
      const x = numbersOf(name, v);
      if (!(o.counts as readonly number[]).includes(x.length)) throw usageError(`--${name} needs ${o.counts.join(', ').replace(/, (\d)$/, ' or $1')} numbers (got ${x.length})`);
      if (o.integer && x.some((e) => !Number.isInteger(e))) throw usageError(`--${name} must be integers (got '${v}')`);
      const m: Mat3 =
        x.length === 9
          ? [[x[0]!, x[1]!, x[2]!], [x[3]!, x[4]!, x[5]!], [x[6]!, x[7]!, x[8]!]]
          : x.length === 3
            ? [[x[0]!, 0, 0], [0, x[1]!, 0], [0, 0, x[2]!]]
            : [[x[0]!, 0, 0], [0, x[0]!, 0], [0, 0, x[0]!]];
      if (Math.abs(det3(m)) < 1e-9) throw usageError(`--${name} is a singular matrix ('${v}')`);
      return m;
    }
    case 'vector': {
      const x = numbersOf(name, v);
      const what = `${o.length} ${o.integer ? 'integers' : 'numbers'}${o.min !== undefined ? ` ≥ ${o.min}` : ''}`;
      if (x.length !== o.length || (o.integer && x.some((e) => !Number.isInteger(e))) || (o.min !== undefined && x.some((e) => e < o.min!)))
        throw usageError(`--${name} needs ${what} (got '${v}')`);
      return x;
    }
    case 'list': {
      const items = v.split(',').map((s) => s.trim()).filter(Boolean);
      if (o.item === 'int') return items.map((s) => intOf(name, s, o.min, `a comma-separated list of ${intWhat(o.min).replace(/^an? /, '')}s`));
      return items;
    }
    case 'boolean':
      return true;
  }
}

function metavarOf(o: OptionSpec): string {
  if (o.metavar !== undefined) return o.metavar;
  switch (o.kind) {
    case 'boolean':
      return '';
    case 'enum':
      return o.values.join('|');
    case 'int':
    case 'positive-int':
      return 'N';
    case 'number':
      return 'X';
    case 'matrix':
      return o.counts.includes(9) ? '"a b c ..."' : '"a b c"';
    case 'vector':
      return `"${Array.from({ length: o.length }, (_, i) => `x${i + 1}`).join(' ')}"`;
    case 'list':
      return 'A,B,...';
    default:
      return 'VALUE';
  }
}

/**
 * The option list of a usage text, from the spec: one entry per option (help last), the help text
 * aligned in a second column; a help text's own line breaks continue in that column.
 */
export function formatOptions(spec: OptionsSpec, indent = 2): string {
  const all = withHelp(spec);
  const rows = Object.entries(all).map(([name, o]) => {
    const mv = metavarOf(o);
    const left = `${o.short ? `-${o.short}, ` : ''}--${name}${mv ? ` ${mv}` : ''}`;
    return { left, help: o.help ?? '' };
  });
  const width = Math.min(26, Math.max(...rows.map((r) => r.left.length)) + 2);
  const pad = ' '.repeat(indent);
  return rows
    .map(({ left, help }) => {
      const lines = help.split('\n');
      const first = left.length + 1 > width ? `${pad}${left}\n${pad}${' '.repeat(width)}${lines[0]}` : `${pad}${left.padEnd(width)}${lines[0]}`;
      return [first, ...lines.slice(1).map((l) => `${pad}${' '.repeat(width)}${l}`)].join('\n').trimEnd();
    })
    .join('\n');
}

/**
 * A command's parse: on `-h/--help` prints the usage and gives 0, on a usage error prints
 * `softmode <command>: <message>` and the usage on stderr and gives 2 (the exit codes).
 */
export function parseCommandArgs<S extends OptionsSpec>(command: string, argv: readonly string[], spec: S, usage: string): Parsed<S> | number {
  return parseReporting(`softmode ${command}`, argv, spec, usage);
}

function parseReporting<S extends OptionsSpec>(prog: string, argv: readonly string[], spec: S, usage: string): Parsed<S> | number {
  let p: Parsed<S>;
  try {
    p = parseArgs(argv, spec);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${prog}: ${e.message}\n${usage}`);
    return 2;
  }
  if (p.values.help) {
    console.log(usage);
    return 0;
  }
  return p;
}

/**
 * A bench driver's parse of its own command line (process.argv, run as `npm run <npmScript> --
 * ...`): help prints the usage and exits 0, a usage error prints the message and the usage and
 * exits 2.
 */
export function parseProcessArgs<S extends OptionsSpec>(npmScript: string, spec: S, usage?: string): Parsed<S> {
  const text = usage ?? `usage: npm run ${npmScript} -- [options]\n\noptions:\n${formatOptions(spec)}`;
  const r = parseReporting(npmScript, process.argv.slice(2), spec, text);
  if (typeof r === 'number') process.exit(r);
  return r;
}

/**
 * `--threads N` of the one-process commands: a positive integer, default all cores (a single
 * process has the machine to itself; the engine's workers use one thread per inference slot).
 */
export function threadsOption(value: string | number | undefined): number {
  if (value === undefined) return availableParallelism();
  return typeof value === 'number' ? intOf('threads', String(value), 1, 'a positive integer') : intOf('threads', value, 1, 'a positive integer');
}

/**
 * `--trajectory-precision float32|float64`: the ML model's precision along a relaxation's FIRE
 * trajectory, replacing the protocol's (the acceptance test always runs in the configured one).
 */
export const TRAJECTORY_PRECISIONS = ['float32', 'float64'] as const;
export function trajectoryPrecisionOption(value: string | undefined): 'float32' | 'float64' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'float32' && value !== 'float64') throw usageError(`--trajectory-precision must be float32 or float64 (got '${value}')`);
  return value;
}
