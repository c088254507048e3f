// Relaxation parity: softmode's core/relax against ASE (FIRE + FrechetCellFilter + FixSymmetry,
// same protocol) on MatterGen structures, same model on both sides, timed in one run.
//
//   node dist/bench/relax-parity.js [--model chgnet-0.3.0|lennard-jones|morse] [--count 30]
//        [--max-atoms 24] [--protocol phononbench] [--threads 2] [--ase-precision float64|float32]
//
// --ase-precision (CHGNet only): float64 (default) runs the same weights and forward in float64
// on PyTorch (tools/export/chgnet_reference.py), the precision softmode's default ONNX graph
// uses, so the comparison measures the relaxation and nothing else; float32 is the chgnet
// package exactly as users run it, whose own rounding (up to ~1e-3 eV/Å in forces,
// mlip-parity.json) moves soft structures by more than the 1e-3 Å target.
//
// The ASE side is tools/reference/relax_reference.py in tools/.venv. With chgnet-0.3.0 softmode
// runs the ONNX export (core/potential resolvePotential) and ASE runs CHGNet on PyTorch;
// with a pair potential both sides evaluate the same analytic model, which isolates the
// relaxation machinery (optimizer, filter, symmetry constraint, protocol).
// Writes bench/results/relax-parity.json (chgnet-0.3.0) or relax-parity-<model>.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { RELAX_PROTOCOLS, withTrajectoryPrecision } from '../config/relax.js';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';
import { potentialFor } from '../pipeline/potentials.js';
import { repoRoot } from '../core/paths.js';
import { PairPotential } from '../core/potential/pair.js';
import type { Potential } from '../core/potential/types.js';
import { relax, type RelaxResult } from '../core/relax/relax.js';
import { readStructureFile } from '../core/structure/io/index.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';
import { getSymmetry } from '../core/symmetry/index.js';

/** The potential in its configured precision (float64): relaxation parity runs float64 throughout. */
function loadModel(name: string, threads: number): Promise<Potential> {
  return potentialFor({ model: name, threads });
}

/** MatterGen structures, deterministic: round-robin over the categories, sorted names, ≤ maxAtoms. */
function pickStructures(dir: string, count: number, maxAtoms: number): Structure[] {
  const cats = readdirSync(dir).sort();
  const lists = cats.map((c) =>
    readdirSync(join(dir, c))
      .filter((f) => f.endsWith('.cif') && !f.endsWith('_symmetrized.cif'))
      .sort()
      .map((f) => join(dir, c, f)),
  );
  const out: Structure[] = [];
  for (let k = 0; out.length < count && lists.some((l) => k < l.length); k++)
    for (const l of lists) {
      const path = l[k];
      if (!path || out.length >= count) continue;
      const [s] = readStructureFile(path);
      if (!s || s.numbers.length > maxAtoms) continue;
      out.push({ ...s, name: path.split('/').slice(-2).join('/') });
    }
  return out;
}

function lengths(L: readonly (readonly number[])[]): number[] {
  return L.map((r) => Math.hypot(r[0]!, r[1]!, r[2]!));
}

const OPTIONS = {
  model: { kind: 'string', default: 'chgnet-0.3.0', metavar: 'NAME', help: 'potential (default chgnet-0.3.0)' },
  count: { kind: 'positive-int', default: 30, help: 'MatterGen structures (default 30)' },
  'max-atoms': { kind: 'positive-int', default: 24, help: 'largest cell (default 24 atoms)' },
  protocol: { kind: 'string', default: 'phononbench', metavar: 'NAME', help: 'relaxation protocol (default phononbench)' },
  threads: { kind: 'positive-int', default: 2, help: 'onnxruntime threads (default 2)' },
  'ase-precision': { kind: 'enum', values: ['float32', 'float64'], default: 'float64', help: "the ASE side's CHGNet precision (default float64)" },
} as const satisfies OptionsSpec;

async function main(): Promise<void> {
  const { values } = parseProcessArgs('parity:relax', OPTIONS);
  const root = repoRoot();
  const named = RELAX_PROTOCOLS[values.protocol];
  if (!named) throw new Error(`unknown protocol ${values.protocol}`);
  // parity of the relaxation itself, float64 throughout (no float32 trajectory)
  const protocol = withTrajectoryPrecision(named, 'float64');
  const structures = pickStructures(resolve(root, '..', 'shared', 'data', 'structures', 'mattergen'), values.count, values['max-atoms']);
  const potential = await loadModel(values.model, values.threads);

  // softmode
  const ours: { result: RelaxResult; seconds: number }[] = [];
  const t0 = performance.now();
  for (const s of structures) {
    const t = performance.now();
    const result = await relax(s, potential, protocol);
    ours.push({ result, seconds: (performance.now() - t) / 1000 });
    console.error(`softmode ${s.name}: ${result.verdict} steps ${result.steps.total} E/atom ${result.energyPerAtom.toFixed(6)}`);
  }
  const oursSeconds = (performance.now() - t0) / 1000;
  await potential.dispose?.();

  // ASE, same structures and protocol
  const work = join(tmpdir(), `relax-parity-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const pair =
    potential instanceof PairPotential
      ? {
          kind: potential.kind,
          epsilon: potential.params.epsilon,
          ljCutoffSigma: potential.params.ljCutoffSigma,
          morseAlphaR0: potential.params.morseAlphaR0,
          morseCutoffR0: potential.params.morseCutoffR0,
          radii: Object.fromEntries(
            [...new Set(structures.flatMap((s) => s.numbers))].map((z) => [z, potential.radius(z)]),
          ),
        }
      : null;
  if (potential instanceof PairPotential && Object.keys(potential.params.epsilonOverrides).length > 0)
    throw new Error('per-element epsilon overrides are not passed to the reference');
  const isChgnet = values.model.startsWith('chgnet-0.3.0');
  const asePrecision = isChgnet ? values['ase-precision'] : 'float64';
  const job = {
    model: isChgnet ? `chgnet-0.3.0-${asePrecision}` : values.model,
    pair,
    protocol,
    threads: values.threads,
    structures: structures.map((s) => ({ name: s.name, lattice: s.lattice, frac: s.frac, numbers: s.numbers })),
  };
  const inPath = join(work, 'in.json');
  const outPath = join(work, 'out.json');
  writeFileSync(inPath, JSON.stringify(job));
  const py = resolve(root, 'tools', '.venv', 'bin', 'python');
  execFileSync(py, [resolve(root, 'tools', 'reference', 'relax_reference.py'), inPath, outPath], {
    stdio: ['ignore', 'inherit', 'inherit'],
    // numpy's BLAS on 3×3 matrices is fastest single-threaded (threads only add sync cost);
    // torch's own thread count is set from --threads inside the script
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  });
  const ase = JSON.parse((await import('node:fs')).readFileSync(outPath, 'utf8')) as {
    results: { name: string; verdict: string; reason: string | null; steps: number; perRound: number[]; energyPerAtom: number; maxForce: number; lattice: number[][]; frac: number[][]; seconds: number }[];
    total_seconds: number;
    ase_version: string;
  };

  const rows = structures.map((s, k) => {
    const o = ours[k]!.result;
    const a = ase.results[k]!;
    const aseStructure = makeStructure({ lattice: a.lattice, frac: a.frac, numbers: s.numbers });
    let aseSg: number | null = null;
    try {
      aseSg = getSymmetry(aseStructure, protocol.symprec).number;
    } catch {
      aseSg = null;
    }
    const lo = lengths(o.structure.lattice);
    const la = lengths(a.lattice);
    return {
      name: s.name,
      atoms: s.numbers.length,
      verdict: { softmode: o.verdict, ase: a.verdict },
      steps: { softmode: o.steps.total, ase: a.steps, softmode_per_round: o.steps.perRound, ase_per_round: a.perRound },
      energy_per_atom_eV: { softmode: o.energyPerAtom, ase: a.energyPerAtom, abs_diff: Math.abs(o.energyPerAtom - a.energyPerAtom) },
      lattice_lengths_A: { softmode: lo, ase: la, max_abs_diff: Math.max(...lo.map((x, i) => Math.abs(x - la[i]!))) },
      spacegroup: { input: o.spaceGroupBefore.number, softmode: o.spaceGroupAfter?.number ?? null, ase: aseSg },
      max_force_eV_A: { softmode: o.maxForce, ase: a.maxForce },
      seconds: { softmode: ours[k]!.seconds, ase: a.seconds },
    };
  });
  const both = rows.filter((r) => r.verdict.softmode === 'converged' && r.verdict.ase === 'converged');
  const max = (xs: number[]) => (xs.length ? Math.max(...xs) : null);
  const report = {
    bench: 'relax-parity',
    date: new Date().toISOString(),
    model: values.model,
    potential: potential.identity,
    note: isChgnet
      ? `softmode: CHGNet-ONNX (${potential.identity.precision}) in onnxruntime-node; ASE: CHGNet 0.3.0 weights on PyTorch (CPU, ${asePrecision}${asePrecision === 'float32' ? ': the chgnet package as users run it' : ': the chgnet forward switched to float64, tools/export/chgnet_reference.py'})`
        : 'both sides evaluate the same analytic pair potential (softmode test model): this isolates the relaxation machinery; the CHGNet comparison needs --model chgnet-0.3.0',
    protocol: { name: protocol.name, version: protocol.version },
    precision: { softmode: potential.identity.precision, ase: asePrecision },
    ase_version: ase.ase_version,
    threads: values.threads,
    structures: rows.length,
    both_converged: both.length,
    max_abs_energy_diff_eV_atom: max(both.map((r) => r.energy_per_atom_eV.abs_diff)),
    max_abs_lattice_diff_A: max(both.map((r) => r.lattice_lengths_A.max_abs_diff)),
    max_abs_energy_diff_eV_atom_all: max(rows.map((r) => r.energy_per_atom_eV.abs_diff)),
    max_abs_lattice_diff_A_all: max(rows.map((r) => r.lattice_lengths_A.max_abs_diff)),
    spacegroup_mismatches: rows.filter((r) => r.spacegroup.softmode !== r.spacegroup.ase).map((r) => r.name),
    verdict_mismatches: rows.filter((r) => r.verdict.softmode !== r.verdict.ase).map((r) => r.name),
    steps_total: { softmode: rows.reduce((s, r) => s + r.steps.softmode, 0), ase: rows.reduce((s, r) => s + r.steps.ase, 0) },
    seconds: { softmode: oursSeconds, ase: ase.total_seconds },
    time_ratio_ase_over_softmode: ase.total_seconds / oursSeconds,
    rows,
  };
  const outDir = resolve(root, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  // the CHGNet comparison is the relax-parity.json; other models get their own file
  // (the float32-reference run gets its own file, so both stay side by side)
  const file = values.model === 'chgnet-0.3.0' ? (asePrecision === 'float64' ? 'relax-parity.json' : 'relax-parity-ase-float32.json') : `relax-parity-${values.model}.json`;
  writeFileSync(join(outDir, file), JSON.stringify(report, null, 2) + '\n');
  console.log(
    JSON.stringify(
      {
        structures: report.structures,
        both_converged: report.both_converged,
        max_abs_energy_diff_eV_atom: report.max_abs_energy_diff_eV_atom,
        max_abs_lattice_diff_A: report.max_abs_lattice_diff_A,
        spacegroup_mismatches: report.spacegroup_mismatches.length,
        verdict_mismatches: report.verdict_mismatches.length,
        time_ratio_ase_over_softmode: report.time_ratio_ase_over_softmode,
      },
      null,
      2,
    ),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
