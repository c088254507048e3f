// Relaxation time outside the model (issue 16 item 3)
//   npm run bench:relax-overhead [-- --rounds 3] [-- --threads 1]
// → bench/results/relax-overhead.json
//
// The 16 textbook crystals (examples/structures.ts) relaxed one after the other with CHGNet 0.3.0
// under the PhononBench protocol (float32 trajectory, float64 acceptance), as a campaign's relax
// step does (pipeline relaxStep): wall time, time inside the potential, and the rest (FIRE, the
// Frechet cell filter, symmetry refinement and constraints, graph-free bookkeeping) per FIRE step.
// Round 1 includes one-time costs (model sessions, JIT); later rounds are the steady state.
// Beside it, in the same run: the lattice-rotation search of spglib's ideal cell (used by every
// symmetry refinement) as written now and as the 3⁹ enumeration it replaced, on the same metrics.
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RELAX_PROTOCOLS } from '../config/relax.js';
import { type Mat3, det3, matmul3, transpose3 } from '../core/math/linalg.js';
import { repoRoot } from '../core/paths.js';
import { latticeRotations, latticeRotationsByEnumeration } from '../core/symmetry/standardize.js';
import { exampleStructures } from '../examples/structures.js';
import { disposePotentials, potentialFor, relaxStep, toJson, trajectoryPotentialFor } from '../pipeline/index.js';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';
import { median } from './stats.js';

const OUT_JSON = join(repoRoot(), 'bench', 'results', 'relax-overhead.json');

const SPEC = {
  rounds: { kind: 'int', min: 1, default: 3, help: 'rounds over the 16 crystals (round 1 includes one-time costs)' },
  threads: { kind: 'int', min: 1, default: 1, help: 'onnxruntime intra-op threads' },
} satisfies OptionsSpec;


function rotationSearch(): Record<string, unknown> {
  // the metrics of the 16 crystals' own lattices, each with the tolerance spglibIdealCell uses
  const metrics = exampleStructures().map((s) => {
    const L = s.lattice as Mat3;
    const scale = Math.cbrt(Math.abs(det3(L)));
    return { G: matmul3(L, transpose3(L)), tol: 0.05 * scale };
  });
  const time = (f: (G: Mat3, tol: number) => Mat3[]): number[] =>
    [0, 1, 2].map(() => {
      const t0 = performance.now();
      for (const m of metrics) f(m.G, m.tol);
      return (performance.now() - t0) / metrics.length;
    });
  const same = metrics.every((m) => JSON.stringify(latticeRotations(m.G, m.tol)) === JSON.stringify(latticeRotationsByEnumeration(m.G, m.tol)));
  const now = median(time(latticeRotations))!;
  const before = median(time(latticeRotationsByEnumeration))!;
  return { what: 'latticeRotations per call on the 16 crystals\' metrics (median of 3 passes)', now_ms: now, enumeration_ms: before, speedup: before / now, same_rotations: same };
}

async function main(): Promise<number> {
  const { values: a } = parseProcessArgs('bench:relax-overhead', SPEC);
  const spec = { model: 'chgnet-0.3.0', threads: a.threads };
  const potential = await potentialFor(spec);
  const protocol = RELAX_PROTOCOLS['phononbench']!;
  const trajectory = await trajectoryPotentialFor(spec, potential, protocol);
  const loadStart = loadavg()[0]!;
  const rounds: { round: number; relaxations: number; steps: number; wall_ms: number; model_ms: number; outside_ms: number; outside_ms_per_step: number; outside_share: number }[] = [];
  for (let round = 1; round <= a.rounds; round++) {
    let wall = 0;
    let model = 0;
    let steps = 0;
    let n = 0;
    for (const s of exampleStructures()) {
      const t0 = performance.now();
      const r = await relaxStep(toJson(s), potential, trajectory, protocol, null, Number.MAX_SAFE_INTEGER, () => undefined);
      wall += performance.now() - t0;
      model += r.modelMs;
      steps += r.steps;
      n++;
    }
    rounds.push({ round, relaxations: n, steps, wall_ms: wall, model_ms: model, outside_ms: wall - model, outside_ms_per_step: (wall - model) / steps, outside_share: 1 - model / wall });
  }
  await disposePotentials();
  const steady = rounds.slice(1);
  const out = {
    benchmark: 'relax-overhead',
    command: `npm run bench:relax-overhead -- ${process.argv.slice(2).join(" ")}`.trim(),
    measured_at: new Date().toISOString(),
    model: 'chgnet-0.3.0',
    protocol: 'phononbench',
    threads: a.threads,
    machine: { cpus: cpus().length, loadavg_1min_start: loadStart, loadavg_1min_end: loadavg()[0] },
    rounds,
    steady_state: steady.length
      ? { outside_ms_per_step: median(steady.map((r) => r.outside_ms_per_step)), outside_share: median(steady.map((r) => r.outside_share)), outside_ms_per_relaxation: median(steady.map((r) => r.outside_ms / r.relaxations)) }
      : null,
    lattice_rotation_search: rotationSearch(),
  };
  writeFileSync(OUT_JSON, JSON.stringify(out, null, 1) + '\n');
  console.log(`relax-overhead: steady state ${out.steady_state?.outside_ms_per_step?.toFixed(2) ?? '-'} ms per FIRE step outside the model (${((out.steady_state?.outside_share ?? NaN) * 100).toFixed(1)} % of relax time); rotation search ${(out.lattice_rotation_search['speedup'] as number).toFixed(0)}× faster than the enumeration → ${OUT_JSON}`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(2);
    },
  );
}
