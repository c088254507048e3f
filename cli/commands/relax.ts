// `softmode relax <structure> [--protocol phononbench] [--model lennard-jones] [--out file.cif]`
// Relaxes every structure in the file in this one process and prints the verdicts.
import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { RELAX_PROTOCOLS, type RelaxProtocol, withTrajectoryPrecision } from '../../config/relax.js';
import { SoftmodeInputError, UsageError } from '../../core/errors.js';
import { disposePotentials, potentialFor, trajectoryPotentialFor } from '../../pipeline/potentials.js';
import type { Potential } from '../../core/potential/types.js';
import { type RelaxResult, relax } from '../../core/relax/relax.js';
import { readStructureFile, writeCif, writePoscar } from '../../core/structure/io/index.js';
import type { Structure } from '../../core/structure/structure.js';
import { type OptionsSpec, TRAJECTORY_PRECISIONS, formatOptions, parseCommandArgs, threadsOption } from '../lib/args.js';

export const summary = 'relax structures (FIRE + Fréchet cell filter + FixSymmetry, PhononBench protocol by default)';

const SPEC = {
  protocol: { kind: 'enum', values: Object.keys(RELAX_PROTOCOLS), default: 'phononbench', metavar: 'NAME', help: `${Object.keys(RELAX_PROTOCOLS).join(' | ')} (default phononbench)` },
  model: { kind: 'string', default: 'chgnet-0.3.0', metavar: 'NAME', help: 'lennard-jones | morse (classical test potentials) | an ML model name\nsuch as chgnet-0.3.0 (default chgnet-0.3.0 when available, else an error)' },
  threads: { kind: 'positive-int', metavar: 'N', help: 'onnxruntime threads for an ML model (default: all cores; one process)' },
  'trajectory-precision': {
    kind: 'enum',
    values: TRAJECTORY_PRECISIONS,
    metavar: 'float32|float64',
    help: "ML model precision along the FIRE trajectory (default: the protocol's,\nfloat32 for phononbench); the acceptance test and reported energy are float64",
  },
  out: { kind: 'string', metavar: 'FILE', help: 'write the relaxed structure(s): .cif (all) or POSCAR/.vasp (one)' },
  json: { kind: 'boolean', help: 'print the full results as JSON instead of a table' },
} as const satisfies OptionsSpec;

const USAGE = `usage: softmode relax <structure file> [options]

options:
${formatOptions(SPEC)}`;

interface Loaded {
  potential: Potential;
  /** the same model in the protocol's trajectory precision, when that differs */
  trajectory: Potential | null;
}

/** The potential and, when the protocol walks its trajectory in another precision, that one too. */
async function loadModel(name: string, threads: number, protocol: Readonly<RelaxProtocol>): Promise<Loaded> {
  const spec = { model: name, threads };
  const potential = await potentialFor(spec);
  return { potential, trajectory: await trajectoryPotentialFor(spec, potential, protocol) };
}

function lengths(s: Structure): string {
  return s.lattice.map((r) => Math.hypot(r[0]!, r[1]!, r[2]!).toFixed(5)).join(' ');
}

function line(name: string, r: RelaxResult, seconds: number): string {
  const sg = (x: { number: number; symbol: string } | null) => (x ? `${x.symbol} (${x.number})` : '?');
  return [
    `${name}: ${r.verdict}${r.reason ? ` (${r.reason})` : ''}`,
    `  steps ${r.steps.total} [${r.steps.perRound.join(', ')}] (${r.trajectoryPrecision} trajectory), max force ${r.maxForce.toExponential(3)} eV/Å (${r.potential.precision})`,
    `  energy ${r.energy.toFixed(6)} eV (${r.energyPerAtom.toFixed(6)} eV/atom), space group ${sg(r.spaceGroupBefore)} → ${sg(r.spaceGroupAfter)}`,
    `  lattice lengths ${lengths(r.structure)} Å, ${seconds.toFixed(2)} s`,
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs('relax', argv, SPEC, USAGE);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const named = RELAX_PROTOCOLS[values.protocol];
  if (!named) {
    console.error(`softmode relax: unknown protocol '${values.protocol}' (${Object.keys(RELAX_PROTOCOLS).join(', ')})`);
    return 2;
  }
  const precision = values['trajectory-precision'];
  const protocol = precision ? withTrajectoryPrecision(named, precision) : named;
  const out = values.out;
  const outKind = out ? (extname(out).toLowerCase() === '.cif' ? 'cif' : 'poscar') : null;
  const structures = readStructureFile(positionals[0]!);
  if (outKind === 'poscar' && structures.length > 1)
    throw new UsageError(`${positionals[0]} holds ${structures.length} structures; POSCAR output takes one (use --out x.cif)`);
  const { potential, trajectory } = await loadModel(values.model, threadsOption(values.threads), protocol);
  const results: { name: string; seconds: number; result: RelaxResult }[] = [];
  try {
    for (let i = 0; i < structures.length; i++) {
      const s = structures[i]!;
      const name = s.name ?? `structure ${i + 1}`;
      const t0 = performance.now();
      const result = await relax(s, potential, protocol, trajectory ? { trajectoryPotential: trajectory } : {});
      const seconds = (performance.now() - t0) / 1000;
      results.push({ name, seconds, result });
      if (!values.json) console.log(line(name, result, seconds));
    }
  } finally {
    await disposePotentials();
  }
  if (values.json) console.log(JSON.stringify(results, null, 2));
  if (out) {
    const text = outKind === 'cif' ? results.map((r) => writeCif(r.result.structure)).join('\n') : writePoscar(results[0]!.result.structure);
    writeFileSync(out, text);
  }
  return results.every((r) => r.result.verdict === 'converged') ? 0 : 3;
}
