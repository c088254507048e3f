// Large cells (issue 16 item 4): disordered cells of 256–264 atoms through the whole one-process
// pipeline (pipeline/run-one.ts `runOne`: validate → relax → displacements on the supercell the
// preset's policy chooses → forces → phonons (commensurate q, HPKOT band path, mesh) → classify),
// with per-stage wall time and peak memory.
//
//   npm run bench:large-cells [-- --only CuNi-fcc-interstitials-P1-264] [-- --model chgnet-0.3.0]
//        [-- --threads 2] [-- --relax-max-steps 200] [-- --continue-unconverged] [-- --cell-timeout-s 1700]
//        [-- --size small --out large-cells-small.json] [-- --arena on|off]
//   npm run bench:large-cells -- --write-cells     (regenerate examples/large-cells/*.vasp and stop)
//   npm run bench:large-cells -- --only ID --reference   (CHGNet: the Python reference pipeline on
//        the same cell at the same time, tools/reference/pipeline.py, PyTorch float32, --threads each)
//
// Cells: examples/large-cells/*.vasp, written by examples/large-cells.ts (seeded, deterministic;
// test/large-cells.test.ts checks the committed files equal the generator's output). `--size
// small` runs the same recipes on 32–33-atom cells built in memory (development).
// Each cell runs in a fresh child process (so its peak RSS, VmHWM of /proc/self/status, is its
// own, model sessions included); the child reports each finished stage, and the forces stage's
// progress, as JSON lines; this process writes bench/results/<--out> after each of them, so an
// interrupted run leaves the stages that finished and a projection of the rest. Every cell
// (run or not) gets its plan: atoms, space group, the supercell the preset's policy chooses and
// the number of displacements (cheap; no model).
// Memory: onnxruntime's CPU arena is off by default here (`--arena on` to compare): with it a
// 264-atom float64 CHGNet run keeps ~3.9 GB (the arena grows by powers of two), without it the
// peak is ~2 GB and falls back after the run (measured before writing this driver; the JSON
// records the setting). The displaced supercells' graphs are streamed (OnnxPotential.evaluate
// builds each run's graphs just before it), so only one run's graphs are held.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUPERCELL_POLICY } from '../config/phonon.js';
import { RELAX_PROTOCOLS, type RelaxProtocol, customProtocol } from '../config/relax.js';
import { resolvePotential, resolveTrajectoryPotential } from '../core/potential/index.js';
import type { Potential } from '../core/potential/types.js';
import { STABILITY_PRESETS } from '../core/stability/index.js';
import { readStructureFile } from '../core/structure/io/index.js';
import { reducedFormula } from '../core/structure/hash.js';
import type { Structure } from '../core/structure/structure.js';
import { bondTripletsPerCell, chooseSupercell, makeSupercell } from '../core/structure/supercell.js';
import { getSymmetry } from '../core/symmetry/index.js';
import { repoRoot } from '../core/paths.js';
import { LARGE_CELL_RECIPES, largeCells, writeLargeCells } from '../examples/large-cells.js';
import { exampleStructures } from '../examples/structures.js';
import { buildSettings, displaceStep, resolvedPotential, runOne, toJson, type RunOneResult } from '../pipeline/index.js';
import { presetSupercellRule } from '../pipeline/supercell.js';
import { type OptionsSpec, parseProcessArgs, usageError } from '../cli/lib/args.js';

const ROOT = repoRoot();
const CELLS_DIR = join(ROOT, 'examples', 'large-cells');
const PRESET = 'full-bz';

const OPTIONS = {
  model: { kind: 'string', default: 'chgnet-0.3.0', metavar: 'NAME', help: 'potential (default chgnet-0.3.0, float64)' },
  only: { kind: 'list', metavar: 'ID,...', help: 'run only these cells (the others get their plan only)' },
  threads: { kind: 'positive-int', default: 1, metavar: 'N', help: 'onnxruntime intra-op threads (default 1: the machine is shared)' },
  'relax-max-steps': { kind: 'positive-int', metavar: 'N', help: 'cap the PhononBench relaxation at N FIRE steps (one round of N ≤ 500, else ⌈N/500⌉ rounds of 500); recorded' },
  'continue-unconverged': { kind: 'boolean', help: 'when the (capped) relaxation does not converge, compute the phonons of its last geometry anyway (recorded; PhononBench would call it unstable)' },
  'cell-timeout-s': { kind: 'positive-int', metavar: 'S', help: 'stop a cell after S seconds, keeping the stages that finished and a projection' },
  size: { kind: 'enum', values: ['full', 'small'], default: 'full', help: 'full: the committed 256–264-atom cells; small: the same recipes on 32–33 atoms (development)' },
  arena: { kind: 'enum', values: ['off', 'on'], default: 'off', help: "onnxruntime's CPU memory arena (default off: bounded memory)" },
  out: { kind: 'string', metavar: 'FILE', help: 'results file: a name under bench/results/ or a path (default large-cells.json; large-cells-small.json for --size small)' },
  'streaming-check': { kind: 'boolean', help: 'instead of the cells: run four textbook crystals through runOne with the streaming evaluate and with the former build-all-graphs path, record whether relaxed cells, forces, frequencies and labels are identical' },
  'write-cells': { kind: 'boolean', help: 'write examples/large-cells/*.vasp from the generator and stop' },
  reference: { kind: 'boolean', help: 'also run the Python reference pipeline (tools/reference/pipeline.py: ASE + phonopy + CHGNet 0.3.0 on PyTorch float32, same protocol, supercell and displacements) on each cell run, concurrently, --threads threads each; chgnet-0.3.0 only' },
  child: { kind: 'string', metavar: 'ID', help: '(internal) run one cell in this process' },
} as const satisfies OptionsSpec;

type Opts = ReturnType<typeof parseProcessArgs<typeof OPTIONS>>['values'];

const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

function vmMb(key: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? round(Number(m[1]) / 1024, 1) : null;
  } catch {
    return null;
  }
}

interface CellSource {
  id: string;
  description: string;
  structure: Structure;
  file: string | null;
}

function cellSources(size: 'full' | 'small'): CellSource[] {
  if (size === 'small') return largeCells('small').map((c) => ({ id: c.id, description: c.description, structure: c.structure, file: null }));
  if (!existsSync(CELLS_DIR)) throw usageError(`${CELLS_DIR} is absent: run with --write-cells first`);
  const files = new Set(readdirSync(CELLS_DIR).filter((f) => f.endsWith('.vasp')));
  return LARGE_CELL_RECIPES.filter((r) => files.has(`${r.id}.vasp`)).map((r) => {
    const file = join(CELLS_DIR, `${r.id}.vasp`);
    return { id: r.id, description: r.description, structure: readStructureFile(file, 'poscar')[0]!, file: `examples/large-cells/${r.id}.vasp` };
  });
}

/** The relaxation protocol: PhononBench's, or capped at `maxSteps` FIRE steps. */
function protocolOf(maxSteps: number | undefined): RelaxProtocol {
  const base = RELAX_PROTOCOLS['phononbench']!;
  if (maxSteps === undefined) return base;
  const rounds = maxSteps <= base.stepsPerRound ? 1 : Math.ceil(maxSteps / base.stepsPerRound);
  return customProtocol({ name: `phononbench-capped-${maxSteps}`, maxRounds: rounds, stepsPerRound: Math.min(maxSteps, base.stepsPerRound) }, base);
}

/** What the policy would do with the cell as given (no model). */
function planOf(c: CellSource): Record<string, unknown> {
  const s = c.structure;
  const t0 = performance.now();
  const rule = presetSupercellRule(PRESET);
  const choice = chooseSupercell(s, rule);
  const perCell = rule.kind === 'min-image' && rule.bondCutoff ? bondTripletsPerCell(s, rule.bondCutoff) : null;
  const d = displaceStep(toJson(s), {
    supercell: rule,
    amplitude: 0.01,
    diagonal: true,
    plusMinus: 'auto',
    symprec: 1e-5,
  });
  const counts: Record<string, number> = {};
  for (const z of s.numbers) counts[String(z)] = (counts[String(z)] ?? 0) + 1;
  return {
    atoms: s.numbers.length,
    formula: reducedFormula(s.numbers),
    lattice_lengths_A: s.lattice.map((r) => round(Math.hypot(r[0], r[1], r[2]), 4)),
    spacegroup: { 'symprec_0.1': getSymmetry(s, 0.1).number, 'symprec_0.01': getSymmetry(s, 0.01).number, 'symprec_1e-5': getSymmetry(s, 1e-5).number },
    supercell: {
      policy: `${SUPERCELL_POLICY.version} ${PRESET}`,
      matrix: choice.matrix,
      atoms: choice.natoms,
      min_image_distance_A: round(choice.minImageDistance, 3),
      ...(choice.note ? { note: choice.note } : {}),
      bond_triplets: perCell === null ? null : perCell * Math.round(choice.natoms / s.numbers.length),
    },
    displacements: d.displacements.length,
    plan_s: round((performance.now() - t0) / 1000),
  };
}

// ---------------------------------------------------------------- child: one cell, one process

/** Bytes held by a graph object: its typed arrays, plain numbers at 8 bytes (references not counted). */
function bytesOf(v: unknown, seen = new Set<unknown>()): number {
  if (v === null || typeof v !== 'object' || seen.has(v)) return typeof v === 'number' ? 8 : 0;
  seen.add(v);
  if (ArrayBuffer.isView(v)) return v.byteLength;
  let n = 0;
  for (const x of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) n += bytesOf(x, seen);
  return n;
}

function emit(o: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

async function child(id: string, o: Opts): Promise<void> {
  const cell = cellSources(o.size as 'full' | 'small').find((c) => c.id === id);
  if (!cell) throw usageError(`no cell '${id}'`);
  // memory: sampled RSS (JS heap + native) per stage, and the kernel's high-water mark
  let stageMaxRss = 0;
  let stageMaxHeap = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    stageMaxRss = Math.max(stageMaxRss, m.rss);
    stageMaxHeap = Math.max(stageMaxHeap, m.heapUsed + m.external);
  };
  const timer = setInterval(sample, 200);
  const t0 = performance.now();
  let stage = 'load';
  // model evaluate calls per precision within the stage (relax: ~ one per FIRE step)
  let calls: Record<string, number> = {};
  const stageEvent = (name: string, seconds: number, extra: Record<string, unknown> = {}): void => {
    sample();
    const c = calls;
    calls = {};
    emit({ event: 'stage', stage: name, seconds: round(seconds), model_calls: c, rss_max_sampled_mb: round(stageMaxRss / 2 ** 20, 1), js_heap_plus_external_max_mb: round(stageMaxHeap / 2 ** 20, 1), vmhwm_mb: vmMb('VmHWM'), rss_now_mb: vmMb('VmRSS'), ...extra });
    stageMaxRss = 0;
    stageMaxHeap = 0;
  };

  const protocol = protocolOf(o['relax-max-steps']);
  const potential = await resolvePotential(o.model, { threads: o.threads, cpuMemArena: o.arena === 'on' });
  const trajectory = await resolveTrajectoryPotential(potential, protocol.trajectoryPrecision);
  // what one displaced supercell's model graph holds (typed arrays): all of them at once is what
  // streaming avoids
  let graphMb: number | null = null;
  const builder = potential as Potential & { buildGraphs?: (s: readonly Structure[]) => unknown[] };
  if (typeof builder.buildGraphs === 'function') {
    const rule = presetSupercellRule(PRESET);
    const choice = chooseSupercell(cell.structure, rule);
    const sc = makeSupercell(cell.structure, choice.matrix, 1e-5).structure;
    graphMb = round(bytesOf(builder.buildGraphs([sc])[0]) / 2 ** 20, 2);
  }
  stageEvent('load-model', (performance.now() - t0) / 1000, { model: potential.identity.model, precision: potential.identity.precision, trajectory_precision: trajectory?.identity.precision ?? null, graph_mb_per_supercell: graphMb });

  // forces progress: count the displaced supercells as onnxruntime runs finish (instrumentation
  // only: the runs are packed and computed as without it)
  let forcesDone = 0;
  let forcesTotal = 0;
  let forcesT0 = 0;
  let lastEmit = 0;
  const inner = potential as Potential & { runBatch?: (g: readonly unknown[]) => Promise<unknown[]> };
  const evaluate = potential.evaluate.bind(potential);
  inner.evaluate = (structures) => {
    if (stage === 'forces') forcesTotal = structures.length;
    calls[`${potential.identity.precision}`] = (calls[`${potential.identity.precision}`] ?? 0) + 1;
    return evaluate(structures);
  };
  if (trajectory) {
    const tEval = trajectory.evaluate.bind(trajectory);
    trajectory.evaluate = (structures) => {
      calls[`${trajectory.identity.precision}`] = (calls[`${trajectory.identity.precision}`] ?? 0) + 1;
      return tEval(structures);
    };
  }
  if (typeof inner.runBatch === 'function') {
    const orig = inner.runBatch.bind(inner);
    inner.runBatch = async (graphs) => {
      const r = await orig(graphs);
      if (stage === 'forces') {
        forcesDone += graphs.length;
        const now = performance.now();
        if (now - lastEmit > 20_000 || forcesDone === forcesTotal) {
          lastEmit = now;
          sample();
          emit({ event: 'forces-progress', done: forcesDone, total: forcesTotal, seconds: round((now - forcesT0) / 1000), vmhwm_mb: vmMb('VmHWM'), rss_now_mb: vmMb('VmRSS') });
        }
      }
      return r;
    };
  }

  const settings = buildSettings({ potential: resolvedPotential(potential), preset: PRESET, relaxProtocol: protocol, supercell: presetSupercellRule(PRESET) });
  const onStage = (name: string, seconds: number): void => {
    stageEvent(name, seconds);
    if (name === 'relax' && trajectory) {
      // the trajectory session is done: release it before the forces
      void trajectory.dispose?.();
    }
    stage = name === 'validate' ? 'relax' : name === 'relax' ? 'displacements' : name === 'displacements' ? 'forces' : name === 'forces' ? 'phonons' : name === 'phonons' ? 'classify' : 'done';
    if (stage === 'forces') forcesT0 = performance.now();
  };
  let run: RunOneResult = await runOne(cell.structure, settings, potential, { trajectoryPotential: trajectory, onStage });
  let continued = false;
  if (run.relax && !run.relax.usable && o['continue-unconverged']) {
    emit({ event: 'note', note: `relaxation ${run.relax.status} after ${run.relax.steps} steps: phonons of its last geometry (--continue-unconverged)` });
    stage = 'displacements';
    const rest = await runOne(run.unitCell, settings, potential, { relax: false, validate: false, onStage });
    run = { ...rest, validate: run.validate, relax: run.relax, stagesS: { ...run.stagesS, ...rest.stagesS } };
    continued = true;
  }
  clearInterval(timer);
  const c = run.classify;
  const minByPreset: Record<string, unknown> = {};
  if (c)
    for (const p of STABILITY_PRESETS) {
      const r = c.results[p] as { min?: { frequency: number; set: string; qpoint: number[] } } | undefined;
      if (r?.min) minByPreset[p] = { min_freq_thz: r.min.frequency, where: r.min.set, q: r.min.qpoint };
    }
  emit({
    event: 'result',
    validate: run.validate,
    relax: run.relax
      ? {
          protocol: run.relax.protocol,
          status: run.relax.status,
          reason: run.relax.reason,
          converged: run.relax.usable,
          steps: run.relax.steps,
          steps_per_round: run.relax.stepsPerRound,
          max_force_eV_A: run.relax.maxForce,
          energy_initial_eV: run.relax.energyInitial,
          energy_eV: run.relax.energy,
          spacegroup_before: run.relax.spacegroupBefore,
          spacegroup_after: run.relax.spacegroupAfter,
          trajectory_precision: run.relax.trajectoryPrecision,
          model_s: round(run.relax.modelMs / 1000),
        }
      : null,
    phonons_on_unconverged_geometry: continued,
    supercell: run.displace ? { matrix: run.displace.supercellMatrix, atoms: run.displace.supercell.numbers.length } : null,
    displacements: run.displace?.displacements.length ?? null,
    forces_model_s: run.forces ? round(run.forces.modelMs / 1000) : null,
    phonon_timings_ms: run.phonons?.timingsMs ?? null,
    qpoints: run.phonons ? { commensurate: run.phonons.commensurate.qpoints.length, band: run.phonons.band?.qpoints.length ?? 0, mesh: run.phonons.mesh?.qpoints.length ?? 0, mesh_grid: run.phonons.mesh?.mesh ?? null } : null,
    label: c?.label ?? (run.relax && !run.relax.usable ? 'unstable (relaxation failed)' : null),
    labels: c?.labels ?? null,
    min_freq_thz: c?.minFreqThz ?? null,
    min_freq_where: c ? { set: c.minFreqWhere, q: c.minFreqQ, band: c.minFreqBand } : null,
    n_imaginary: c?.nImaginary ?? null,
    min_by_preset: minByPreset,
    stages_s: Object.fromEntries(Object.entries(run.stagesS).map(([k, v]) => [k, round(v)])),
    total_s: round((performance.now() - t0) / 1000),
    vmhwm_mb: vmMb('VmHWM'),
  });
}

// ---------------------------------------------------------------- streaming check

/**
 * OnnxPotential.evaluate streams graphs (built per run); before, it built every graph first
 * (`evaluateGraphs(buildGraphs(all))`). Same model, same structures, both paths: are the results
 * the same bit for bit?
 */
async function streamingCheck(o: Opts): Promise<Record<string, unknown>> {
  const names = ['Si-diamond', 'NaCl-rocksalt', 'CsCl-B2', 'Al-fcc'];
  const protocol = RELAX_PROTOCOLS['phononbench']!;
  const load = async (): Promise<Potential> => resolvePotential(o.model, { threads: o.threads });
  const stream = await load();
  const former = (await load()) as Potential & { buildGraphs?: (s: readonly Structure[]) => unknown[]; evaluateGraphs?: (g: readonly unknown[]) => Promise<unknown[]> };
  if (typeof former.buildGraphs !== 'function' || typeof former.evaluateGraphs !== 'function') return { skipped: `${o.model} is not an ONNX model` };
  former.evaluate = (s) => former.evaluateGraphs!(former.buildGraphs!(s)) as ReturnType<Potential['evaluate']>;
  // PhononBench's 2×2×2 too: small supercells, several per onnxruntime run (the packing path)
  const rules = [{ name: `${PRESET} policy`, rule: presetSupercellRule(PRESET) }, { name: 'phononbench 2×2×2', rule: presetSupercellRule('phononbench') }];
  const rows = [];
  for (const { name: ruleName, rule } of rules)
  for (const s of exampleStructures().filter((x) => names.includes(x.name!))) {
    const settings = buildSettings({ potential: resolvedPotential(stream), preset: PRESET, relaxProtocol: protocol, supercell: rule });
    const a = await runOne(s, settings, stream, { trajectoryPotential: await resolveTrajectoryPotential(stream, protocol.trajectoryPrecision) });
    const b = await runOne(s, settings, former, { trajectoryPotential: await resolveTrajectoryPotential(former, protocol.trajectoryPrecision) });
    const same = (x: unknown, y: unknown): boolean => JSON.stringify(x) === JSON.stringify(y);
    rows.push({
      structure: s.name,
      supercell_rule: ruleName,
      supercell_atoms: a.displace?.supercell.numbers.length ?? null,
      displacements: a.displace?.displacements.length ?? null,
      labels: a.classify?.labels ?? null,
      min_freq_thz: a.classify?.minFreqThz ?? null,
      identical: { relaxed_cell: same(a.relax?.structure, b.relax?.structure), forces: same(a.forces?.forces, b.forces?.forces), commensurate: same(a.phonons?.commensurate, b.phonons?.commensurate), band: same(a.phonons?.band, b.phonons?.band), mesh: same(a.phonons?.mesh, b.phonons?.mesh), classify: same(a.classify, b.classify) },
    });
    process.stderr.write(`streaming check ${s.name}: ${JSON.stringify(rows[rows.length - 1]!['identical'])}\n`);
  }
  // one evaluate call over mixed sizes (primitive cells packed several per run, larger ones alone)
  const mixed = [...exampleStructures(), ...largeCells('small').map((c) => c.structure), ...exampleStructures().slice(0, 6)];
  const [x, y] = [await stream.evaluate(mixed), await former.evaluate(mixed)];
  const direct = { structures: mixed.length, atoms: mixed.map((m) => m.numbers.length), identical: JSON.stringify(x) === JSON.stringify(y) };
  process.stderr.write(`streaming check, one evaluate over ${mixed.length} structures: identical ${direct.identical}\n`);
  return { model: o.model, threads: o.threads, date: new Date().toISOString(), preset: PRESET, relax_protocol: protocol.name, rows, one_evaluate_call: direct };
}

// ---------------------------------------------------------------- parent

interface CellRecord {
  id: string;
  description: string;
  file: string | null;
  plan: Record<string, unknown>;
  /** the latest run under each model (a run under one model keeps the others') */
  runs?: Record<string, Record<string, unknown>>;
}

function machine(): Record<string, unknown> {
  return { cores: cpus().length, cpu: cpus()[0]?.model ?? null, memory_gb: round(totalmem() / 2 ** 30, 1), node: process.version };
}

async function runCell(self: string, id: string, argv: readonly string[], timeoutS: number | undefined, rec: Record<string, unknown>, save: () => void, outPath: string): Promise<void> {
  const stages: Record<string, unknown> = {};
  rec['stages'] = stages;
  rec['status'] = 'running';
  const passthrough: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.replace(/^--/, '').split('=')[0]!;
    if (name === 'reference') continue;
    if (['only', 'out', 'cell-timeout-s', 'child'].includes(name)) {
      if (!a.includes('=')) i++;
      continue;
    }
    passthrough.push(a);
  }
  const t0 = performance.now();
  const loads: number[] = [loadavg()[0]!];
  const loadTimer = setInterval(() => loads.push(loadavg()[0]!), 15_000);
  const proc: ChildProcess = spawn(process.execPath, [self, ...passthrough, '--child', id], { stdio: ['ignore', 'pipe', 'inherit'] });
  let killedBy = null as string | null;
  const timer = timeoutS
    ? setTimeout(() => {
        killedBy = `--cell-timeout-s ${timeoutS}`;
        proc.kill('SIGKILL');
      }, timeoutS * 1000)
    : null;
  const onSignal = (sig: NodeJS.Signals): void => {
    killedBy = `signal ${sig} to the bench`;
    proc.kill('SIGKILL');
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  let buf = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let ev: Record<string, unknown>;
      try {
        ev = JSON.parse(line) as Record<string, unknown>;
      } catch {
        process.stderr.write(line + '\n');
        continue;
      }
      const { event, ...rest } = ev;
      if (typeof rest['vmhwm_mb'] === 'number') rec['peak_rss_mb'] = Math.max((rec['peak_rss_mb'] as number | undefined) ?? 0, rest['vmhwm_mb']);
      const el = round((performance.now() - t0) / 1000, 1);
      if (event === 'stage') {
        stages[rest['stage'] as string] = rest;
        process.stderr.write(`[${id}] ${el} s: ${String(rest['stage'])} done in ${String(rest['seconds'])} s (VmHWM ${String(rest['vmhwm_mb'])} MB)\n`);
      } else if (event === 'forces-progress') {
        rec['forces_progress'] = rest;
        process.stderr.write(`[${id}] ${el} s: forces ${String(rest['done'])} in ${String(rest['seconds'])} s (VmHWM ${String(rest['vmhwm_mb'])} MB)\n`);
      } else if (event === 'note') {
        ((rec['notes'] ??= []) as unknown[]).push(rest['note']);
      } else if (event === 'result') {
        rec['result'] = rest;
      }
      rec['elapsed_s'] = el;
      save();
    }
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => proc.on('exit', (c, sig) => res([c, sig])));
  if (timer) clearTimeout(timer);
  clearInterval(loadTimer);
  process.removeListener('SIGTERM', onSignal);
  process.removeListener('SIGINT', onSignal);
  loads.push(loadavg()[0]!);
  rec['elapsed_s'] = round((performance.now() - t0) / 1000, 1);
  rec['load_average_1m'] = { start: loads[0], mean: round(loads.reduce((a, b) => a + b, 0) / loads.length, 2), max: round(Math.max(...loads), 2) };
  if (rec['result']) rec['status'] = 'done';
  else {
    rec['status'] = killedBy ? 'stopped' : 'failed';
    rec['stopped_by'] = killedBy ?? `child exited with code ${code}`;
    rec['finished_stages'] = Object.keys(stages);
    // projection of the rest from what ran: forces at the measured rate; later stages unknown
    const fp = rec['forces_progress'] as { done: number; total: number; seconds: number } | undefined;
    if (fp && fp.done > 0) {
      const perDisp = fp.seconds / fp.done;
      // the phonon stage depends on the cell, supercell and q-points, not on the potential: its
      // time from a run of the same cell with another potential (e.g. the pair-potential file)
      let phononsS: number | null = null;
      let phononsFrom: string | null = null;
      for (const f of readdirSync(dirname(outPath)).filter((n) => n.startsWith('large-cells') && n.endsWith('.json') && join(dirname(outPath), n) !== outPath)) {
        try {
          const other = JSON.parse(readFileSync(join(dirname(outPath), f), 'utf8')) as { cells?: CellRecord[] };
          const cell = other.cells?.find((c) => c.id === id) as (CellRecord & { run?: Record<string, unknown> }) | undefined;
          const st = [cell?.run, ...Object.values(cell?.runs ?? {})].map((r) => r?.['stages'] as Record<string, { seconds: number }> | undefined).find((x) => x?.['phonons'] && x['classify']);
          if (st?.['phonons'] && st['classify']) {
            phononsS = round(st['phonons'].seconds + st['classify'].seconds, 1);
            phononsFrom = `bench/results/${f}`;
          }
        } catch {
          // not a results file of this bench
        }
      }
      const doneS = Object.values(stages).reduce((sum: number, v) => sum + ((v as { seconds?: number }).seconds ?? 0), 0);
      rec['projection'] = {
        forces_s_per_displacement: round(perDisp, 3),
        forces_total_s: round(perDisp * fp.total, 0),
        forces_remaining_s: round(perDisp * (fp.total - fp.done), 0),
        phonons_classify_s: phononsS,
        phonons_classify_s_from: phononsFrom,
        end_to_end_s: phononsS === null ? null : round(doneS + perDisp * fp.total + phononsS, 0),
        note: 'forces at the measured rate of this run; phonons + classify as measured for the same cell (same supercell, displacements and q-points) in the file named, on this machine; end_to_end_s = the stages that finished + all forces + phonons + classify (relaxation as capped)',
      };
    }
  }
  if (killedBy && !rec['result']) process.stderr.write(`[${id}] stopped (${killedBy}) after ${String(rec['elapsed_s'])} s\n`);
  save();
  if (killedBy?.startsWith('signal')) {
    save();
    process.exit(143);
  }
}

// ---------------------------------------------------------------- the Python reference, side by side

/** VmHWM of another process (MB), or null once it is gone. */
function peakRssOf(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? round(Number(m[1]) / 1024, 1) : null;
  } catch {
    return null;
  }
}

/**
 * tools/reference/pipeline.py on the same cell file, started with softmode's child so both share
 * the machine alike: same relaxation protocol, the supercell softmode's policy chose (passed as
 * phonopy's DIM), phonopy's displacements (diagonal, ±auto, 0.01 Å), the input cell as primitive.
 */
async function runReference(r: CellRecord, threads: number, run: Record<string, unknown>, save: () => void): Promise<void> {
  const rec: Record<string, unknown> = { status: 'running' };
  run['reference'] = rec;
  const ensure = spawnSync('bash', [join(ROOT, 'tools', 'reference', 'ensure-venv.sh'), 'pipeline'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (ensure.status !== 0) {
    rec['status'] = 'failed';
    rec['error'] = `tools/reference/ensure-venv.sh pipeline exited with ${ensure.status}`;
    save();
    return;
  }
  const python = ensure.stdout.trim().split('\n').pop()!;
  const outDir = join(ROOT, '.campaigns', 'large-cells-reference', r.id);
  mkdirSync(outDir, { recursive: true });
  const matrix = (r.plan['supercell'] as { matrix: number[][] }).matrix.flat().join(' ');
  const args = [join(ROOT, 'tools', 'reference', 'pipeline.py'), join(ROOT, r.file!), '--out-dir', outDir, '--supercell', matrix, '--threads', String(threads)];
  rec['command'] = `tools/.venv/bin/python tools/reference/pipeline.py ${r.file} --out-dir DIR --supercell '${matrix}' --threads ${threads}`;
  const t0 = performance.now();
  const proc = spawn(python, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, peakRssOf(proc.pid) ?? 0);
  }, 2000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => proc.on('exit', (c, sig) => res([c, sig])));
  clearInterval(timer);
  rec['wall_s'] = round((performance.now() - t0) / 1000, 1);
  rec['peak_rss_mb_sampled'] = peak || null;
  const file = join(outDir, `${r.id}.json`);
  if (code !== 0 || !existsSync(file)) {
    rec['status'] = 'failed';
    rec['error'] = signal ? `pipeline.py stopped by ${signal} (not finished)` : `pipeline.py exited with ${code}`;
    save();
    return;
  }
  const ref = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const relax = ref['relax'] as Record<string, unknown>;
  const phonon = (ref['phonon'] ?? null) as Record<string, unknown> | null;
  Object.assign(rec, {
    status: 'done',
    stages_s: Object.fromEntries(Object.entries(ref['timing_s'] as Record<string, number>).map(([k, v]) => [k, round(v)])),
    relax: { converged: relax['converged'], steps: relax['steps'] ?? null, energy_eV: relax['energy_eV'] ?? null },
    supercell_atoms: phonon?.['n_atoms_supercell'] ?? null,
    displacements: phonon?.['n_displacements'] ?? null,
    labels: ref['labels'],
    min_freq_thz: ref['min_freq_THz'] ?? null,
  });
  save();
}

/** Stage times reference / softmode, and whether the labels agree. */
function compareWithReference(run: Record<string, unknown>): void {
  const ref = run['reference'] as Record<string, unknown> | undefined;
  const res = run['result'] as Record<string, unknown> | undefined;
  if (!ref || ref['status'] !== 'done' || !res) return;
  const rs = ref['stages_s'] as Record<string, number>;
  const ss = res['stages_s'] as Record<string, number>;
  const refPhonons = (rs['force_constants'] ?? 0) + (rs['qpoints'] ?? 0);
  const smPhonons = (ss['phonons'] ?? 0) + (ss['classify'] ?? 0);
  const refTotal = rs['total'] ?? Object.values(rs).reduce((a, b) => a + b, 0);
  const smTotal = Object.values(ss).reduce((a, b) => a + b, 0);
  const labels = res['labels'] as Record<string, string> | null;
  const refLabels = ref['labels'] as Record<string, string> | null;
  run['reference_over_softmode'] = {
    relax: ss['relax'] ? round((rs['relax'] ?? 0) / ss['relax']) : null,
    forces: ss['forces'] ? round((rs['forces'] ?? 0) / ss['forces']) : null,
    phonons: smPhonons ? round(refPhonons / smPhonons) : null,
    total: smTotal ? round(refTotal / smTotal) : null,
    note: 'wall seconds per stage, reference / softmode, both processes running at the same time on this machine with the same thread count; phonons = force constants + q-points (reference) vs phonons + classify (softmode)',
  };
  run['labels_agree_with_reference'] = labels && refLabels ? Object.fromEntries(Object.keys(labels).map((p) => [p, labels[p] === refLabels[p]])) : null;
}

async function main(): Promise<void> {
  const { values: o, argv } = parseProcessArgs('bench:large-cells', OPTIONS);
  if (o['write-cells']) {
    for (const p of writeLargeCells(CELLS_DIR)) console.log(p);
    return;
  }
  if (o.child !== undefined) {
    await child(o.child, o);
    process.exit(0);
  }
  const size = o.size as 'full' | 'small';
  const outName = o.out ?? (size === 'small' ? 'large-cells-small.json' : 'large-cells.json');
  const outPath = outName.includes('/') ? resolve(outName) : join(ROOT, 'bench', 'results', outName);
  const cells = cellSources(size);
  if (o.reference && o.model !== 'chgnet-0.3.0') throw usageError('--reference: the Python reference pipeline runs CHGNet 0.3.0 only (--model chgnet-0.3.0)');
  if (o.reference && size !== 'full') throw usageError('--reference needs the committed cells (--size full)');
  const only = o.only ? new Set(o.only) : null;
  if (only) for (const id of only) if (!cells.some((c) => c.id === id)) throw usageError(`--only: no cell '${id}' (${cells.map((c) => c.id).join(', ')})`);
  const command = `npm run bench:large-cells -- ${argv.join(' ')}`.trim();
  // earlier runs of cells not run now are kept (same size); each run records its own command
  const previous: Record<string, CellRecord & { run?: Record<string, unknown> }> = {};
  let previousCheck: unknown = undefined;
  if (existsSync(outPath)) {
    try {
      const old = JSON.parse(readFileSync(outPath, 'utf8')) as { size?: string; cells?: CellRecord[]; streaming_check?: unknown };
      if (old.size === size) for (const c of (old.cells ?? []) as (CellRecord & { run?: Record<string, unknown> })[]) previous[c.id] = c;
      previousCheck = old.streaming_check;
    } catch {
      // unreadable: start over
    }
  }
  const records: CellRecord[] = cells.map((c) => {
    process.stderr.write(`plan ${c.id}\n`);
    const prev = previous[c.id];
    // files written before runs were kept per model hold one `run`
    const runs: Record<string, Record<string, unknown>> = { ...(prev?.run ? { [String(prev.run['model'])]: prev.run } : {}), ...(prev?.runs ?? {}) };
    return { id: c.id, description: c.description, file: c.file, plan: planOf(c), ...(Object.keys(runs).length ? { runs } : {}) };
  });
  const out = {
    benchmark: 'large-cells',
    issue: '16 item 4',
    description:
      'disordered 256–264-atom cells through the one-process pipeline (runOne: validate, PhononBench relaxation, displacements on the supercell of the full-bz policy, forces, phonons on commensurate q + HPKOT band path + mesh, every stability preset), each cell in a fresh child process; per stage the wall time and memory (vmhwm_mb: the process high-water RSS from /proc/self/status, cumulative, so the last stage\'s is the peak; rss_max_sampled_mb: process.memoryUsage().rss sampled every 200 ms within the stage)',
    size,
    date: new Date().toISOString(),
    command,
    machine: { ...machine(), load_average_at_start: loadavg().map((x) => round(x, 2)) },
    settings: {
      model: o.model,
      threads: o.threads,
      reference: o.reference,
      onnxruntime_cpu_mem_arena: o.arena === 'on',
      preset: PRESET,
      supercell_policy: { version: SUPERCELL_POLICY.version, [PRESET]: SUPERCELL_POLICY[PRESET] },
      relax_protocol: protocolOf(o['relax-max-steps']).name,
      relax_max_steps: o['relax-max-steps'] ?? null,
      continue_unconverged: o['continue-unconverged'],
      cell_timeout_s: o['cell-timeout-s'] ?? null,
    },
    cells: records,
    streaming_check: previousCheck as unknown,
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const save = (): void => writeFileSync(outPath, JSON.stringify(out, null, 1) + '\n');
  save();
  if (o['streaming-check']) {
    out.streaming_check = { command, ...(await streamingCheck(o)) };
    save();
    process.stderr.write(`wrote ${outPath}\n`);
    return;
  }
  const self = fileURLToPath(import.meta.url);
  for (const r of records) {
    if (only && !only.has(r.id)) continue;
    const run: Record<string, unknown> = { command, date: new Date().toISOString(), model: o.model, threads: o.threads, relax_max_steps: o['relax-max-steps'] ?? null, arena: o.arena };
    (r.runs ??= {})[o.model] = run;
    process.stderr.write(`run ${r.id} (${String(r.plan['atoms'])} atoms, ${String(r.plan['displacements'])} displacements)\n`);
    const reference = o.reference ? runReference(r, o.threads, run, save) : null;
    await runCell(self, r.id, argv, o['cell-timeout-s'], run, save, outPath);
    if (reference) {
      await reference;
      compareWithReference(run);
      save();
    }
  }
  (out.machine as Record<string, unknown>)['load_average_at_end'] = loadavg().map((x) => round(x, 2));
  save();
  process.stderr.write(`wrote ${outPath}\n`);
}

await main();
