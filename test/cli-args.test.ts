// The one argument parser (cli/lib/args.ts) of the commands and bench drivers: negative and
// fractional matrices/vectors are values, never options (issue #13 item 3); typed usage errors.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../core/errors.js';
import { formatOptions, looksNumeric, parseArgs, type OptionsSpec } from '../cli/lib/args.js';
import { run as phonons } from '../cli/commands/phonons.js';
import { run as relaxCmd } from '../cli/commands/relax.js';
import { run as status } from '../cli/commands/status.js';
import { HAS_SHARED, SHARED_MISSING } from './helpers.js';

const SPEC = {
  dim: { kind: 'matrix', counts: [1, 3, 9], integer: true },
  pa: { kind: 'matrix', counts: [3, 9] },
  mesh: { kind: 'vector', length: 3, integer: true, min: 1 },
  shift: { kind: 'vector', length: 3 },
  factor: { kind: 'number', positive: true },
  offset: { kind: 'number' },
  n: { kind: 'int' },
  threads: { kind: 'positive-int' },
  slots: { kind: 'int', min: 0, default: 4 },
  precision: { kind: 'enum', values: ['float32', 'float64'], default: 'float64' },
  only: { kind: 'list' },
  sizes: { kind: 'list', item: 'int', min: 1, default: [8, 64] },
  out: { kind: 'string' },
  json: { kind: 'boolean' },
} as const satisfies OptionsSpec;

const parse = (...argv: string[]) => parseArgs(argv, SPEC);

function usageMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('no usage error');
}

describe('parseArgs: negative numbers and fractions are values', () => {
  it('takes a bcc primitive matrix that starts with a minus sign (--pa)', () => {
    const h = 0.5;
    const expected = [[-h, h, h], [h, -h, h], [h, h, -h]];
    expect(parse('--pa', '-1/2 1/2 1/2 1/2 -1/2 1/2 1/2 1/2 -1/2').values.pa).toEqual(expected);
    expect(parse('--pa=-1/2 1/2 1/2 1/2 -1/2 1/2 1/2 1/2 -1/2').values.pa).toEqual(expected);
    expect(parse('--pa', '-1/2,1/2,1/2,1/2,-1/2,1/2,1/2,1/2,-1/2').values.pa).toEqual(expected);
    expect(parse('--pa', '-0.5 0.5 0.5 0.5 -0.5 0.5 0.5 0.5 -0.5').values.pa).toEqual(expected);
    expect(parse('--pa', '1/3 -1/3 2').values.pa).toEqual([[1 / 3, 0, 0], [0, -1 / 3, 0], [0, 0, 2]]);
  });

  it('takes negative supercell matrices (--dim), 9, 3 or 1 entries, with = or as the next argument', () => {
    expect(parse('--dim', '-1 1 1 1 -1 1 1 1 -1').values.dim).toEqual([[-1, 1, 1], [1, -1, 1], [1, 1, -1]]);
    expect(parse('--dim=-2').values.dim).toEqual([[-2, 0, 0], [0, -2, 0], [0, 0, -2]]);
    expect(parse('--dim', '-2').values.dim).toEqual([[-2, 0, 0], [0, -2, 0], [0, 0, -2]]);
    expect(parse('--dim', '2 -2 1').values.dim).toEqual([[2, 0, 0], [0, -2, 0], [0, 0, 1]]);
  });

  it('takes negative scalars and vectors; numbers that stand alone stay positionals', () => {
    const p = parse('x.cif', '--offset', '-0.5', '--n', '-3', '--shift', '-1/2 0 1/2', '-7', '--json');
    expect(p.values.offset).toBe(-0.5);
    expect(p.values.n).toBe(-3);
    expect(p.values.shift).toEqual([-0.5, 0, 0.5]);
    expect(p.values.json).toBe(true);
    expect(p.positionals).toEqual(['x.cif', '-7']);
    expect(parse('--offset', '-1e-3').values.offset).toBe(-1e-3);
    expect(parse('--offset=-.25').values.offset).toBe(-0.25);
  });

  it('knows a number-like token from an option', () => {
    for (const t of ['-2', '-0.5', '-.5', '-1/2 1/2 1/2', '-1,1,1', '1e-3', '-2e+1/3']) expect(looksNumeric(t)).toBe(true);
    for (const t of ['--json', '-h', '-x', '-1a', '-', '--2', 'abc', '']) expect(looksNumeric(t)).toBe(false);
  });

  it('applies defaults, typed values, lists, -h and --', () => {
    const p = parse('--sizes', '216,512', '--only', 'mp-1,mp-2', '--precision=float32', '--threads', '3', '--', '--json', '-h');
    expect(p.values).toMatchObject({ sizes: [216, 512], only: ['mp-1', 'mp-2'], precision: 'float32', threads: 3, slots: 4, json: false, help: false });
    expect(p.values.dim).toBeUndefined();
    expect(p.positionals).toEqual(['--json', '-h']);
    expect(parse('-h').values.help).toBe(true);
    expect(parse().values.sizes).toEqual([8, 64]);
    expect(parse('--out', '-').values.out).toBe('-');
    expect(parse('--out', '').values.out).toBe('');
  });
});

describe('parseArgs: usage errors', () => {
  it('unknown options and missing values: one-line UsageError', () => {
    expect(usageMessage(() => parse('--frobnicate'))).toBe('unknown option --frobnicate');
    expect(usageMessage(() => parse('-x'))).toBe('unknown option -x');
    expect(usageMessage(() => parse('--dim'))).toBe('--dim needs a value');
    expect(usageMessage(() => parse('--dim', '--json'))).toBe('--dim needs a value');
    expect(usageMessage(() => parse('--json=yes'))).toBe('--json takes no value');
  });

  it('numeric validation', () => {
    const bad: [string[], RegExp][] = [
      [['--dim', '1/2 1 1'], /--dim must be integers/],
      [['--dim', '1 2'], /--dim needs 1, 3 or 9 numbers \(got 2\)/],
      [['--dim', '1 1 0'], /singular/],
      [['--dim', '2 x 2'], /--dim: 'x' is not a number or fraction/],
      [['--pa', '1'], /--pa needs 3 or 9 numbers/],
      [['--pa', '1/0 1 1'], /not a number or fraction/],
      [['--mesh', '4 4'], /--mesh needs 3 integers ≥ 1/],
      [['--mesh', '4 -4 4'], /--mesh needs 3 integers ≥ 1/],
      [['--factor', '-1'], /--factor must be a positive number \(got '-1'\)/],
      [['--factor', 'abc'], /--factor must be a positive number/],
      [['--offset', ''], /--offset must be a number/],
      [['--n', '1.5'], /--n must be an integer/],
      [['--threads', '0'], /--threads must be a positive integer \(got '0'\)/],
      [['--threads', '-2'], /--threads must be a positive integer \(got '-2'\)/],
      [['--threads', 'two'], /--threads must be a positive integer/],
      [['--slots', '-1'], /--slots must be a non-negative integer/],
      [['--precision', 'float16'], /--precision must be float32 \| float64 \(got 'float16'\)/],
      [['--sizes', '8,0'], /--sizes must be a comma-separated list of positive integers/],
    ];
    for (const [argv, re] of bad) {
      const m = usageMessage(() => parseArgs(argv, SPEC));
      expect(m, argv.join(' ')).toMatch(re);
      expect(m).not.toContain('\n');
    }
  });

  it('prints the option list from the spec', () => {
    const text = formatOptions(SPEC);
    for (const name of Object.keys(SPEC)) expect(text).toContain(`--${name}`);
    expect(text).toContain('-h, --help');
  });
});

describe('commands: usage errors exit 2 with one line, then the usage', () => {
  afterEach(() => vi.restoreAllMocks());

  function capture(): { err: string[]; out: string[] } {
    const err: string[] = [];
    const out: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    return { err, out };
  }

  it('phonons, relax, status: unknown option', async () => {
    for (const [cmd, run] of [['phonons', phonons], ['relax', relaxCmd], ['status', status]] as const) {
      const c = capture();
      expect(await run(['x.vasp', '--frobnicate'])).toBe(2);
      const lines = c.err.join('\n').split('\n');
      expect(lines[0]).toBe(`softmode ${cmd}: unknown option --frobnicate`);
      expect(lines[1]).toMatch(new RegExp(`^usage: softmode ${cmd}`));
      vi.restoreAllMocks();
    }
  });

  it('phonons: a negative --threads is a bad value, not an ambiguous option; -h prints the usage', async () => {
    const c = capture();
    expect(await phonons(['x.vasp', '--model', 'lennard-jones', '--threads', '-1'])).toBe(2);
    expect(c.err[0]!.split('\n')[0]).toBe("softmode phonons: --threads must be a positive integer (got '-1')");
    expect(await phonons(['-h'])).toBe(0);
    expect(c.out.join('\n')).toMatch(/--pa "0 1\/2 1\/2 \.\.\."/);
  });
});

describe('softmode phonons with negative --dim / --pa', () => {
  afterEach(() => vi.restoreAllMocks());

  it('Lennard-Jones fcc Cu on the conventional supercell --dim "-1 1 1 1 -1 1 1 1 -1"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'softmode-args-dim-'));
    try {
      const a = 3.61 / 2;
      writeFileSync(join(dir, 'Cu.vasp'), `Cu fcc\n1.0\n0 ${a} ${a}\n${a} 0 ${a}\n${a} ${a} 0\nCu\n1\nDirect\n0 0 0\n`);
      vi.spyOn(console, 'log').mockImplementation(() => undefined);
      const code = await phonons([join(dir, 'Cu.vasp'), '--model', 'lennard-jones', '--threads', '1', '--dim', '-1 1 1 1 -1 1 1 1 -1', '--no-band', '--mesh', '2 2 2', '--out', join(dir, 'out'), '--json']);
      expect(code).toBe(0);
      const r = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8'));
      expect(r.supercellMatrix).toEqual([[-1, 1, 1], [1, -1, 1], [1, 1, -1]]);
      expect(r.natomsSupercell).toBe(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  if (!HAS_SHARED) console.warn(`${SHARED_MISSING} (phonondb BeF2 with --pa '-1/2 1/2 1/2 ...')`);
  it.skipIf(!HAS_SHARED)("phonondb mp-561543 (BeF2, I-43m): --pa '-1/2 1/2 1/2 1/2 -1/2 1/2 1/2 1/2 -1/2' matches phonopy", async () => {
    const { DATA_DIR, REFERENCE_JSON, extractArchive } = await import('../bench/phonondb-parity.js');
    const archive = join(DATA_DIR, 'materials-id-561543-bef2-i-43m-217.tar.lzma');
    if (!existsSync(archive)) {
      console.warn(`${archive} is absent: skipping`);
      return;
    }
    const files = extractArchive(archive);
    const dir = mkdtempSync(join(tmpdir(), 'softmode-args-pa-'));
    try {
      // no phonopy.conf beside the files: the matrices come from the command line only
      mkdirSync(join(dir, 'in'));
      writeFileSync(join(dir, 'in', 'POSCAR-unitcell'), files['POSCAR-unitcell']!);
      writeFileSync(join(dir, 'in', 'FORCE_SETS'), files['FORCE_SETS']!);
      vi.spyOn(console, 'log').mockImplementation(() => undefined);
      const code = await phonons([
        join(dir, 'in', 'POSCAR-unitcell'),
        '--forces', join(dir, 'in', 'FORCE_SETS'),
        '--dim', '1 1 1',
        '--pa', '-1/2 1/2 1/2 1/2 -1/2 1/2 1/2 1/2 -1/2',
        '--no-band',
        '--mesh', '4 4 4',
        '--out', join(dir, 'out'),
        '--json',
      ]);
      expect(code).toBe(0);
      const r = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8'));
      expect(r.primitiveMatrix).toEqual([[-0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.5, 0.5, -0.5]]);
      expect(r.natomsSupercell).toBe(36);
      expect(r.natomsPrimitive).toBe(18);
      if (existsSync(REFERENCE_JSON)) {
        const ref = (JSON.parse(readFileSync(REFERENCE_JSON, 'utf8')) as { materials: { id: string; labels: Record<string, string>; commensurate: { frequencies_THz: number[][] } }[] }).materials.find((m) => m.id === 'mp-561543')!;
        const ours = (r.commensurate.frequencies as number[][]).flat().sort((x, y) => x - y);
        const theirs = ref.commensurate.frequencies_THz.flat().sort((x, y) => x - y);
        expect(ours.length).toBe(theirs.length);
        expect(Math.max(...ours.map((f, i) => Math.abs(f - theirs[i]!)))).toBeLessThan(1e-3);
        expect(r.classification['loew'].label).toBe(ref.labels['loew']);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
