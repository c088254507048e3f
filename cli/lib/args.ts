// A small flag parser for the engine commands: --key value, --key=value, --flag, positionals.
import { SoftmodeInputError } from '../../core/errors.js';
import { availableParallelism } from 'node:os';

export interface Parsed {
  positionals: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[], spec: { boolean?: readonly string[]; value?: readonly string[] }): Parsed {
  const booleans = new Set(spec.boolean ?? []);
  const values = new Set(spec.value ?? []);
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      if (booleans.has(name)) {
        flags.set(name, true);
        continue;
      }
      if (!values.has(name)) throw new SoftmodeInputError('invalid_argument', `unknown option --${name}`);
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new SoftmodeInputError('invalid_argument', `--${name} needs a value`);
      flags.set(name, v);
    } else positionals.push(a);
  }
  return { positionals, flags };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function int(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new SoftmodeInputError('invalid_argument', `--${name} must be a non-negative integer (got ${v})`);
  return n;
}

export function bool(p: Parsed, name: string): boolean {
  return p.flags.get(name) === true;
}

/**
 * `--threads N` of the one-process commands: a positive integer, default all cores (a single
 * process has the machine to itself; the engine's workers use one thread per inference slot).
 */
export function threadsOption(value: string | undefined): number {
  if (value === undefined) return availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new SoftmodeInputError('invalid_argument', `--threads must be a positive integer, got '${value}'`);
  return n;
}

/**
 * `--trajectory-precision float32|float64`: the ML model's precision along a relaxation's FIRE
 * trajectory, replacing the protocol's (the acceptance test always runs in the configured one).
 */
export function trajectoryPrecisionOption(value: string | undefined): 'float32' | 'float64' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'float32' && value !== 'float64') throw new SoftmodeInputError('invalid_argument', `--trajectory-precision must be float32 or float64, got '${value}'`);
  return value;
}
