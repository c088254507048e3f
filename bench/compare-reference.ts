// softmode vs the reference Python pipeline (issue 7) on MatterGen structures, side by side on
// this machine: labels per preset, |Δ min ν|, relaxed-energy differences and stage times.
//
//   npm run compare:reference [-- --n 50] [-- --max-atoms 12] [-- --largest] [-- --supercell phononbench]
//                             [-- --skip-reference] [-- --threads 2] [-- --no-engine]
//                             [-- --also-float32] [-- --also-float64-relax] [-- --out NAME]
//
// Reference: tools/reference/pipeline.py (ASE FIRE + FrechetCellFilter + FixSymmetry with the
// PhononBench protocol, phonopy, seekpath, CHGNet 0.3.0 on PyTorch), same supercell rule,
// displacement mode (phonopy default: diagonal, ±auto, 0.01 Å), q-points and stability rules.
// softmode: the engine's own science steps (pipeline/ runOne: validate → relax →
// displace → forces → phonons → classify) run in this one process, CHGNet 0.3.0 ONNX: the
// relaxation's FIRE trajectory in float32 (the phononbench protocol's trajectoryPrecision), its
// acceptance test and the displaced-supercell forces in float64.
//
// softmode is measured twice, same structures, same run: (1) the one-process path above, one
// structure after the other; (2) the durable engine: `softmode run` over the same files (embedded
// Temporal dev server + PostgreSQL under a fresh campaign directory, in-process workers with
// 2 inference slots on this 2-core machine), wall time from launch to exit, step times from
// the store. The engine's labels are compared with the one-process labels.
import { spawn, spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { ensureServices, stopServices } from '../engine/services/index.js';
import { Store } from '../store/index.js';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RELAX_PROTOCOLS, withTrajectoryPrecision } from '../config/relax.js';
import { PHONON_CONFIG } from '../config/phonon.js';
import { supercellRuleOf } from '../pipeline/supercell.js';
import { buildSettings, potentialFor, resolvedPotential, runOne, trajectoryPotentialFor } from '../pipeline/index.js';
import type { SupercellRule } from '../core/phonon/index.js';
import { repoRoot } from '../core/paths.js';
import { readStructureFile } from '../core/structure/io/index.js';
import { median } from './stats.js';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';

const PRESETS = ['phononbench', 'loew', 'mattersim', 'full-bz'] as const;

const ROOT = repoRoot();
const MATTERGEN = resolve(ROOT, '..', 'shared', 'data', 'structures', 'mattergen');
const PY_OUT = join(ROOT, 'bench', 'results', 'reference-e2e', 'python');

interface Args {
  n: number;
  maxAtoms: number;
  largest: boolean;
  supercell: string;
  skipReference: boolean;
  threads: number;
  model: string;
  engine: boolean;
  /** also: the one-process path with the float32 graph everywhere */
  float32: boolean;
  /** also: the one-process path with a float64 relaxation trajectory (the default before relax-2) */
  float64Relax: boolean;
  out: string;
}

const OPTIONS = {
  n: { kind: 'positive-int', default: 50, help: 'structures (default 50)' },
  'max-atoms': { kind: 'positive-int', default: 12, help: 'largest input cell (default 12 atoms; ignored with --largest)' },
  largest: { kind: 'boolean', help: 'the n largest structures instead of the n smallest (results: reference-e2e-largest unless --out)' },
  supercell: { kind: 'string', default: 'phononbench', metavar: 'RULE', help: 'supercell rule (default phononbench)' },
  'skip-reference': { kind: 'boolean', help: 'reuse the Python reference results already written' },
  threads: { kind: 'positive-int', default: 2, help: 'onnxruntime threads (default 2)' },
  model: { kind: 'string', default: 'chgnet-0.3.0', metavar: 'NAME', help: 'potential (default chgnet-0.3.0)' },
  'no-engine': { kind: 'boolean', help: 'skip the durable-engine side' },
  'also-float32': { kind: 'boolean', help: 'also: the one-process path with the float32 graph everywhere' },
  'also-float64-relax': { kind: 'boolean', help: 'also: the one-process path with a float64 relaxation trajectory' },
  out: { kind: 'string', metavar: 'NAME', help: 'bench/results/<NAME>.json (default reference-e2e, or reference-e2e-largest with --largest)' },
} as const satisfies OptionsSpec;

function readArgs(): Args {
  const { values: v } = parseProcessArgs('compare:reference', OPTIONS);
  return { n: v.n, maxAtoms: v.largest ? Number.MAX_SAFE_INTEGER : v['max-atoms'], largest: v.largest, supercell: v.supercell, skipReference: v['skip-reference'], threads: v.threads, model: v.model, engine: !v['no-engine'], float32: v['also-float32'], float64Relax: v['also-float64-relax'], out: v.out ?? (v.largest ? 'reference-e2e-largest' : 'reference-e2e') };
}

/** Deterministic sample: unsymmetrized CIFs, fewest (or most) atoms first, then by path; unique stems. */
export function selectStructures(n: number, maxAtoms: number, largest = false): { path: string; natoms: number }[] {
  const all: { path: string; natoms: number }[] = [];
  for (const dir of readdirSync(MATTERGEN).sort()) {
    const d = join(MATTERGEN, dir);
    if (!statSync(d).isDirectory()) continue;
    for (const f of readdirSync(d).sort()) {
      if (!f.endsWith('.cif') || f.endsWith('_symmetrized.cif')) continue;
      const p = join(d, f);
      try {
        const s = readStructureFile(p)[0]!;
        if (s.numbers.length <= maxAtoms) all.push({ path: p, natoms: s.numbers.length });
      } catch {
        // unreadable input is the validation benchmark's business, not this comparison's
      }
    }
  }
  const seen = new Set<string>();
  return all
    .sort((x, y) => (largest ? y.natoms - x.natoms : x.natoms - y.natoms) || (x.path < y.path ? -1 : 1))
    .filter((x) => {
      const stem = basename(x.path, '.cif');
      if (seen.has(stem)) return false;
      seen.add(stem);
      return true;
    })
    .slice(0, n);
}

interface SideResult {
  name: string;
  ok: boolean;
  relaxed: boolean;
  energyPerAtom: number | null;
  labels: Record<string, string>;
  bandMin: number | null;
  stages: Record<string, number>;
  total: number;
  error?: string;
}

async function softmodeOne(path: string, a: Args, precision?: 'float32', trajectoryPrecision?: 'float64'): Promise<SideResult> {
  const name = basename(path, '.cif');
  const stages: Record<string, number> = {};
  const t0 = performance.now();
  let t = t0;
  const lap = (k: string): void => {
    const now = performance.now();
    stages[k] = (now - t) / 1000;
    t = now;
  };
  try {
    const s = readStructureFile(path)[0]!;
    lap('read');
    const named = RELAX_PROTOCOLS['phononbench']!;
    const protocol = trajectoryPrecision ? withTrajectoryPrecision(named, trajectoryPrecision) : named;
    const spec = { model: a.model, threads: a.threads, ...(precision ? { precision } : {}) };
    const potential = await potentialFor(spec);
    const settings = buildSettings({ potential: resolvedPotential(potential), preset: 'full-bz', relaxProtocol: protocol, supercell: supercellRuleOf(a.supercell, 'phononbench') });
    // symprec of the original driver's validation (the reported space group only)
    settings.validate.symprec = 1e-5;
    const run = await runOne(s, settings, potential, { trajectoryPotential: await trajectoryPotentialFor(spec, potential, protocol) });
    Object.assign(stages, run.stagesS);
    const r = run.relax!;
    if (!run.classify || !run.phonons) {
      return { name, ok: true, relaxed: false, energyPerAtom: null, labels: Object.fromEntries(PRESETS.map((p) => [p, 'unstable (relaxation failed)'])), bandMin: null, stages, total: (performance.now() - t0) / 1000 };
    }
    let bandMin: number | null = null;
    for (const fr of run.phonons.band?.frequencies ?? []) for (const x of fr) if (bandMin === null || x < bandMin) bandMin = x;
    const natoms = r.structure.numbers.length;
    return { name, ok: true, relaxed: true, energyPerAtom: r.energy === null ? null : r.energy / natoms, labels: run.classify.labels, bandMin, stages, total: (performance.now() - t0) / 1000 };
  } catch (e) {
    return { name, ok: false, relaxed: false, energyPerAtom: null, labels: {}, bandMin: null, stages, total: (performance.now() - t0) / 1000, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

function runReference(paths: string[], a: Args): void {
  const ensure = spawnSync(join(ROOT, 'tools', 'reference', 'ensure-venv.sh'), ['pipeline'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (ensure.status !== 0) throw new Error('could not prepare tools/.venv for the reference pipeline');
  const py = ensure.stdout.trim();
  mkdirSync(PY_OUT, { recursive: true });
  const r = spawnSync(py, [join(ROOT, 'tools', 'reference', 'pipeline.py'), ...paths, '--out-dir', PY_OUT, '--supercell', a.supercell, '--threads', String(a.threads)], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`reference pipeline failed (exit ${r.status})`);
}

function readReference(path: string): SideResult {
  const name = basename(path, '.cif');
  const j = JSON.parse(readFileSync(join(PY_OUT, `${name}.json`), 'utf8')) as {
    error?: string;
    relax?: { converged: boolean; energy_per_atom_eV?: number };
    labels?: Record<string, string>;
    phonon?: { band_path: { min_THz: number } };
    timing_s?: Record<string, number>;
  };
  const stages = { ...(j.timing_s ?? {}) };
  const total = stages['total'] ?? 0;
  delete stages['total'];
  return {
    name,
    ok: !j.error,
    relaxed: Boolean(j.relax?.converged),
    energyPerAtom: j.relax?.energy_per_atom_eV ?? null,
    labels: j.labels ?? {},
    bandMin: j.phonon?.band_path.min_THz ?? null,
    stages,
    total,
    ...(j.error ? { error: j.error } : {}),
  };
}

interface EngineSide {
  wall_s: number;
  slots: number;
  structures_done: number;
  stages_s: Record<string, number>;
  model_s: number;
  labels: Record<string, Record<string, string>>;
}

/** The same files through the durable engine (`softmode run`, embedded services, 2 slots). */
async function engineSide(paths: string[], a: Args): Promise<EngineSide> {
  const dir = join(ROOT, '.campaigns', 'compare-reference-engine');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const slots = cpus().length;
  const name = 'compare-reference';
  const t0 = performance.now();
  const code = await new Promise<number | null>((res) => {
    const p = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), 'run', ...paths, '--model', a.model, '--supercell', a.supercell, '--campaign-dir', dir, '--name', name, '--inference-slots', String(slots), '--light-slots', String(slots), '--keep-services', '--json'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('close', (c) => res(c));
  });
  const wall = (performance.now() - t0) / 1000;
  try {
    if (code !== 0 && code !== 1) throw new Error(`softmode run exited with ${code}`);
    const svc = await ensureServices(dir);
    const store = new Store(svc.databaseUrl);
    try {
      const c = (await store.getCampaign(name))!;
      const p = await store.progress(c.id);
      const timings = await store.stepTimings(c.id);
      const rows = await store.exportPage(c.id, 0, 100_000);
      const labels: Record<string, Record<string, string>> = {};
      for (const r of rows) {
        // a failed relaxation is stored as the campaign preset's 'relaxation_failed'; the
        // one-process path and the reference spell it per preset
        const l = (r['labels'] ?? {}) as Record<string, string>;
        labels[basename(String(r['source_path']), '.cif')] =
          r['relax_status'] !== 'converged' && Object.values(l).includes('relaxation_failed') ? Object.fromEntries(PRESETS.map((p) => [p, 'unstable (relaxation failed)'])) : l;
      }
      return {
        wall_s: wall,
        slots,
        structures_done: p.done,
        stages_s: Object.fromEntries(timings.map((t) => [t.step, t.duration_ms / 1000])),
        model_s: timings.reduce((x, t) => x + t.model_ms, 0) / 1000,
        labels,
      };
    } finally {
      await store.close();
    }
  } finally {
    await stopServices(dir);
  }
}

async function main(): Promise<number> {
  const a = readArgs();
  const load0 = loadavg()[0];
  const picked = selectStructures(a.n, a.maxAtoms, a.largest);
  if (picked.length < a.n) process.stderr.write(`only ${picked.length} structures with ≤ ${a.maxAtoms} atoms\n`);
  const paths = picked.map((p) => p.path);
  const tRef = performance.now();
  if (!a.skipReference) runReference(paths, a);
  const refWall = a.skipReference ? null : (performance.now() - tRef) / 1000;
  const ref = paths.map(readReference);
  // one process, one structure at a time, the reference's thread count for its one model
  const oneProcess = async (precision?: 'float32', trajectoryPrecision?: 'float64'): Promise<{ results: SideResult[]; wall: number }> => {
    const t0 = performance.now();
    const results: SideResult[] = [];
    for (const p of paths) {
      results.push(await softmodeOne(p, a, precision, trajectoryPrecision));
      const last = results[results.length - 1]!;
      const variant = precision ? ` ${precision}` : trajectoryPrecision ? ` ${trajectoryPrecision}-relax` : '';
      process.stderr.write(`[${results.length}/${paths.length}] softmode${variant} ${last.name} ${last.total.toFixed(1)} s\n`);
    }
    return { results, wall: (performance.now() - t0) / 1000 };
  };
  const { results: sm, wall: smWall } = await oneProcess();
  const f32 = a.float32 ? await oneProcess('float32') : null;
  const f64Relax = a.float64Relax ? await oneProcess(undefined, 'float64') : null;
  const engine = a.engine ? await engineSide(paths, a) : null;

  const agreement: Record<string, number> = {};
  const disagreements: { name: string; preset: string; softmode: string | undefined; reference: string | undefined; band_min_THz: [number | null, number | null] }[] = [];
  for (const p of PRESETS) {
    let same = 0;
    ref.forEach((r, i) => {
      const s = sm[i]!;
      if (s.labels[p] === r.labels[p]) same++;
      else disagreements.push({ name: r.name, preset: p, softmode: s.labels[p], reference: r.labels[p], band_min_THz: [s.bandMin, r.bandMin] });
    });
    agreement[p] = same / ref.length;
  }
  const dmin = ref.flatMap((r, i) => (r.bandMin !== null && sm[i]!.bandMin !== null ? [Math.abs(r.bandMin - sm[i]!.bandMin!)] : []));
  const de = ref.flatMap((r, i) => (r.energyPerAtom !== null && sm[i]!.energyPerAtom !== null ? [Math.abs(r.energyPerAtom - sm[i]!.energyPerAtom!)] : []));
  const sumStages = (xs: SideResult[]): Record<string, number> => {
    const o: Record<string, number> = {};
    for (const x of xs) for (const [k, v] of Object.entries(x.stages)) o[k] = (o[k] ?? 0) + v;
    return o;
  };
  const refTotal = ref.reduce((s, r) => s + r.total, 0);
  const smTotal = sm.reduce((s, r) => s + r.total, 0);
  /** A one-process variant (another precision) against the reference and the default path. */
  const variantSummary = (tag: string, note: string, results: SideResult[]): Record<string, unknown> => {
    const total = results.reduce((t, r) => t + r.total, 0);
    const dMin = sm.flatMap((x, i) => (x.bandMin !== null && results[i]!.bandMin !== null ? [Math.abs(x.bandMin - results[i]!.bandMin!)] : []));
    const dE = sm.flatMap((x, i) => (x.energyPerAtom !== null && results[i]!.energyPerAtom !== null ? [Math.abs(x.energyPerAtom - results[i]!.energyPerAtom!)] : []));
    return {
      note,
      label_agreement_with_reference: Object.fromEntries(PRESETS.map((p) => [p, ref.filter((r, i) => results[i]!.labels[p] === r.labels[p]).length / Math.max(1, ref.length)])),
      label_agreement_with_default: Object.fromEntries(PRESETS.map((p) => [p, sm.filter((x, i) => results[i]!.labels[p] === x.labels[p]).length / Math.max(1, sm.length)])),
      labels_changed_from_default: PRESETS.flatMap((p) =>
        sm.flatMap((x, i) => (results[i]!.labels[p] === x.labels[p] ? [] : [{ name: x.name, preset: p, default: x.labels[p], [tag]: results[i]!.labels[p], band_min_THz: [x.bandMin, results[i]!.bandMin] }])),
      ),
      min_freq_abs_diff_from_default_THz: { median: median(dMin), max: dMin.length ? Math.max(...dMin) : null, n: dMin.length },
      relaxed_energy_abs_diff_from_default_eV_per_atom: { median: median(dE), max: dE.length ? Math.max(...dE) : null, n: dE.length },
      [`time_ratio_reference_over_softmode_${tag}`]: refTotal / total,
      stages_s: sumStages(results),
      total_s: total,
      errors: results.filter((r) => !r.ok).map((r) => ({ name: r.name, error: r.error })),
    };
  };
  const out = {
    structures: ref.length,
    selection: { source: '../shared/data/structures/mattergen (unsymmetrized CIFs)', order: a.largest ? 'most atoms first' : 'fewest atoms first', max_atoms: a.largest ? null : a.maxAtoms, names: ref.map((r) => r.name) },
    supercell: a.supercell,
    softmode_precision: { relax_trajectory: RELAX_PROTOCOLS['phononbench']!.trajectoryPrecision ?? 'float64', relax_acceptance_and_energy: 'float64', displaced_supercell_forces: 'float64', protocol: `phononbench ${RELAX_PROTOCOLS['phononbench']!.version}` },
    softmode_mode: engine
      ? `one process (activities/compute/science.ts steps, one structure after the other) and the durable engine (softmode run: embedded Temporal + PostgreSQL, ${engine.slots} inference slots)`
      : 'one process only (--no-engine)',
    label_agreement: agreement,
    disagreements,
    min_freq_abs_diff_THz: { median: median(dmin), max: dmin.length ? Math.max(...dmin) : null, n: dmin.length },
    relaxed_energy_abs_diff_eV_per_atom: { median: median(de), max: de.length ? Math.max(...de) : null, n: de.length },
    time_ratio_reference_over_softmode: smTotal > 0 ? refTotal / smTotal : null,
    time_ratio_reference_over_softmode_engine: engine && engine.wall_s > 0 ? refTotal / engine.wall_s : null,
    time_ratio_reference_wall_over_softmode_engine_wall: engine && engine.wall_s > 0 && refWall !== null ? refWall / engine.wall_s : null,
    threads: a.threads,
    machine: { cpus: cpus().length, loadavg_1min_start: load0, loadavg_1min_end: loadavg()[0] },
    measured_at: new Date().toISOString(),
    time_ratio_definitions: {
      time_ratio_reference_over_softmode: 'Σ reference per-structure time / Σ softmode one-process per-structure time (both one structure at a time with --threads intra-op threads: PyTorch float32 for the reference; onnxruntime for softmode, float32 along the relaxation trajectory, float64 for its acceptance test and the displaced-supercell forces)',
      time_ratio_reference_over_softmode_engine: 'Σ reference per-structure time / wall time of the engine campaign over the same structures (engine: all cores through its inference slots, 1 thread each; service start and orchestration included)',
      time_ratio_reference_wall_over_softmode_engine_wall: 'wall time of the reference process (Python start, imports and model load included) / wall time of the engine campaign',
    },
    engine: engine
      ? {
          wall_s: engine.wall_s,
          slots: engine.slots,
          structures_done: engine.structures_done,
          seconds_per_structure: engine.wall_s / Math.max(1, engine.structures_done),
          step_compute_s: engine.stages_s,
          model_s: engine.model_s,
          label_agreement_with_reference: Object.fromEntries(
            PRESETS.map((p) => [p, ref.filter((r) => engine.labels[r.name]?.[p] === r.labels[p]).length / Math.max(1, ref.length)]),
          ),
          label_agreement_with_one_process: Object.fromEntries(
            PRESETS.map((p) => [p, sm.filter((x) => engine.labels[x.name]?.[p] === x.labels[p]).length / Math.max(1, sm.length)]),
          ),
        }
      : null,
    float32_one_process: f32
      ? variantSummary(
          'float32',
          'the one-process path with the float32 ONNX graph (not the default: its force noise can create small spurious imaginary modes, config/potential.ts); shown for the speed it would give and the labels it changes',
          f32.results,
        )
      : null,
    float64_relax_one_process: f64Relax
      ? variantSummary('float64_relax', 'the one-process path with the relaxation trajectory in float64 too (the default before protocol relax-2); everything else as the default', f64Relax.results)
      : null,
    reference_times_from_this_run: !a.skipReference,
    stages: { reference_s: sumStages(ref), softmode_s: sumStages(sm), reference_total_s: refTotal, softmode_total_s: smTotal, reference_wall_s: refWall, softmode_wall_s: smWall },
    errors: [...ref.filter((r) => !r.ok).map((r) => ({ side: 'reference', name: r.name, error: r.error })), ...sm.filter((r) => !r.ok).map((r) => ({ side: 'softmode', name: r.name, error: r.error }))],
    per_structure: ref.map((r, i) => ({ name: r.name, reference: r, softmode: sm[i] })),
  };
  const OUT_JSON = join(ROOT, 'bench', 'results', `${a.out}.json`);
  mkdirSync(dirname(OUT_JSON), { recursive: true });
  writeFileSync(OUT_JSON, JSON.stringify(out, null, 1) + '\n');
  console.log(`compare:reference: ${ref.length} structures; agreement ${JSON.stringify(agreement)}; time ratio ${out.time_ratio_reference_over_softmode?.toFixed(2)} → ${OUT_JSON}`);
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
