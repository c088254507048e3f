// Forces stage: softmode beside PyTorch on the same displaced supercells (issue 16 item 1)
//   npm run bench:perf-forces [-- --n 50] [-- --max-atoms 12] [-- --threads 1] [-- --skip-reference]
// → bench/results/perf-forces.json
//
// The structures of compare:reference (the n smallest MatterGen structures in ../shared, fewest
// atoms first). Each is relaxed once (PhononBench protocol: float32 trajectory, float64
// acceptance) and displaced (2×2×2 of the input cell, phonopy's displacement rule); then the
// forces of its displaced supercells are computed three ways, in this one run, at the same
// thread count: softmode's CHGNet 0.3.0 float64 graph and its float32 graph (onnxruntime, one
// batched call per structure, graph building included: the pipeline's forces step), and the
// reference, tools/reference/forces_speed.py (CHGNet 0.3.0 on PyTorch, float32, one ASE
// get_forces per supercell: the forces stage of tools/reference/pipeline.py). Phonons and labels
// follow from each softmode force set with the same settings, so the float32 graph's effect on
// the science is measured where it matters: labels per stability preset and min ν.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RELAX_PROTOCOLS } from '../config/relax.js';
import { displacedSupercell } from '../core/phonon/displaced.js';
import { repoRoot } from '../core/paths.js';
import { readStructureFile } from '../core/structure/io/index.js';
import { buildSettings, disposePotentials, fromJson, potentialFor, resolvedPotential, runOne, toJson, trajectoryPotentialFor, type ClassifyOut, type RunOneResult } from '../pipeline/index.js';
import { supercellRuleOf } from '../pipeline/supercell.js';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';
import { STABILITY_PRESETS } from '../core/stability/index.js';
import { selectStructures } from './compare-reference.js';

const ROOT = repoRoot();
const OUT_JSON = join(ROOT, 'bench', 'results', 'perf-forces.json');

const OPTIONS = {
  n: { kind: 'positive-int', default: 50, help: 'structures (default 50: the compare:reference set)' },
  'max-atoms': { kind: 'positive-int', default: 12, help: 'largest input cell (default 12 atoms)' },
  threads: { kind: 'positive-int', default: 1, help: 'threads on both sides: onnxruntime intra-op and torch.set_num_threads (default 1)' },
  'skip-reference': { kind: 'boolean', help: 'softmode only (no PyTorch side, no ratio)' },
} as const satisfies OptionsSpec;

interface PresetOutcome {
  label: string;
  /** the preset's minimum over the modes it does not exempt (THz) */
  minNonExemptTHz: number | null;
}

function outcomes(c: ClassifyOut): Record<string, PresetOutcome> {
  const out: Record<string, PresetOutcome> = {};
  for (const p of STABILITY_PRESETS) {
    const r = c.results[p] as { label: string; minNonExempt: { frequency: number } | null } | undefined;
    out[p] = r ? { label: r.label, minNonExemptTHz: r.minNonExempt?.frequency ?? null } : { label: 'unclassified', minNonExemptTHz: null };
  }
  return out;
}

interface Row {
  name: string;
  atoms: number;
  supercellAtoms: number;
  displacements: number;
  forcesFloat64S: number;
  forcesFloat32S: number;
  forcesReferenceS: number | null;
  float64: Record<string, PresetOutcome>;
  float32: Record<string, PresetOutcome>;
  /** max |F_float32 − F_float64| and max |F_reference − F_float64| over every atom of every supercell (eV/Å) */
  maxForceDiffFloat32: number;
  maxForceDiffReference: number | null;
}

function maxDiff(a: number[][][], b: number[][][]): number {
  let m = 0;
  for (let s = 0; s < a.length; s++) for (let i = 0; i < a[s]!.length; i++) for (let k = 0; k < 3; k++) m = Math.max(m, Math.abs(a[s]![i]![k]! - b[s]![i]![k]!));
  return m;
}

async function main(): Promise<number> {
  const { values: v } = parseProcessArgs('bench:perf-forces', OPTIONS);
  const threads = v.threads;
  const picks = selectStructures(v.n, v['max-atoms']);
  const protocol = RELAX_PROTOCOLS['phononbench']!;
  const spec64 = { model: 'chgnet-0.3.0', threads };
  const spec32 = { model: 'chgnet-0.3.0', threads, precision: 'float32' as const };
  const pot64 = await potentialFor(spec64);
  const pot32 = await potentialFor(spec32);
  const trajectory = await trajectoryPotentialFor(spec64, pot64, protocol);
  const settingsOf = (pot: typeof pot64) =>
    buildSettings({ potential: resolvedPotential(pot), preset: 'full-bz', relaxProtocol: protocol, supercell: supercellRuleOf('phononbench', 'phononbench') });
  const settings64 = settingsOf(pot64);
  const settings32 = settingsOf(pot32);
  const load0 = loadavg()[0]!;

  const rows: Row[] = [];
  const skipped: { name: string; why: string }[] = [];
  const cases: { name: string; supercells: ReturnType<typeof toJson>[] }[] = [];
  const runs64: RunOneResult[] = [];
  for (const { path } of picks) {
    const name = basename(path, '.cif');
    const s = readStructureFile(path)[0]!;
    const run64 = await runOne(s, settings64, pot64, { trajectoryPotential: trajectory });
    if (!run64.classify || !run64.forces || !run64.displace) {
      skipped.push({ name, why: 'relaxation did not reach a usable minimum (PhononBench: unstable); no forces stage' });
      continue;
    }
    // the same relaxed cell and displacements, forces from the float32 graph
    const run32 = await runOne(run64.unitCell, settings32, pot32, { relax: false, validate: false });
    const base = fromJson(run64.displace.supercell);
    cases.push({ name, supercells: run64.displace.displacements.map((d) => toJson(displacedSupercell(base, d))) });
    runs64.push(run64);
    rows.push({
      name,
      atoms: s.numbers.length,
      supercellAtoms: run64.displace.supercell.numbers.length,
      displacements: run64.displace.displacements.length,
      forcesFloat64S: run64.stagesS['forces']!,
      forcesFloat32S: run32.stagesS['forces']!,
      forcesReferenceS: null,
      float64: outcomes(run64.classify),
      float32: outcomes(run32.classify!),
      maxForceDiffFloat32: maxDiff(run32.forces!.forces, run64.forces.forces),
      maxForceDiffReference: null,
    });
    process.stderr.write(`${name}: ${rows.at(-1)!.displacements} supercells, float64 ${rows.at(-1)!.forcesFloat64S.toFixed(2)} s, float32 ${rows.at(-1)!.forcesFloat32S.toFixed(2)} s\n`);
  }
  await disposePotentials();

  // the PyTorch side, same supercells, same threads
  let reference: { meta: unknown } | { error: string } | null = null;
  if (!v['skip-reference']) {
    const py = spawnSync(join(ROOT, 'tools', 'reference', 'ensure-venv.sh'), ['pipeline'], { encoding: 'utf8' });
    if (py.status !== 0) reference = { error: `tools/reference/ensure-venv.sh pipeline failed: ${(py.stderr || '').trim().split('\n').pop()}` };
    else {
      const dir = mkdtempSync(join(tmpdir(), 'perf-forces-'));
      try {
        writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases));
        const r = spawnSync(py.stdout.trim(), [join(ROOT, 'tools', 'reference', 'forces_speed.py'), join(dir, 'cases.json'), join(dir, 'out.json'), '--threads', String(threads)], {
          encoding: 'utf8',
          stdio: ['ignore', 'inherit', 'inherit'],
          env: { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
        });
        if (r.status !== 0 || !existsSync(join(dir, 'out.json'))) reference = { error: `forces_speed.py exited ${r.status}` };
        else {
          const out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as { meta: unknown; cases: { name: string; seconds: number; forces: number[][][] }[] };
          reference = { meta: out.meta };
          for (const c of out.cases) {
            const i = rows.findIndex((x) => x.name === c.name);
            if (i < 0) continue;
            rows[i]!.forcesReferenceS = c.seconds;
            rows[i]!.maxForceDiffReference = maxDiff(c.forces, runs64[i]!.forces!.forces);
          }
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }

  const sum = (f: (r: Row) => number): number => rows.reduce((x, r) => x + f(r), 0);
  const t64 = sum((r) => r.forcesFloat64S);
  const t32 = sum((r) => r.forcesFloat32S);
  const haveRef = rows.length > 0 && rows.every((r) => r.forcesReferenceS !== null);
  const tRef = haveRef ? sum((r) => r.forcesReferenceS!) : null;
  const labelChanges: Record<string, string[]> = {};
  const dNu: Record<string, { max: number | null; median: number | null; n: number }> = {};
  for (const p of STABILITY_PRESETS) {
    labelChanges[p] = rows.filter((r) => r.float32[p]!.label !== r.float64[p]!.label).map((r) => `${r.name}: float64 ${r.float64[p]!.label} (${r.float64[p]!.minNonExemptTHz?.toFixed(4)} THz), float32 ${r.float32[p]!.label} (${r.float32[p]!.minNonExemptTHz?.toFixed(4)} THz)`);
    const d = rows
      .filter((r) => r.float32[p]!.minNonExemptTHz !== null && r.float64[p]!.minNonExemptTHz !== null)
      .map((r) => Math.abs(r.float32[p]!.minNonExemptTHz! - r.float64[p]!.minNonExemptTHz!))
      .sort((x, y) => x - y);
    dNu[p] = { max: d.length ? d[d.length - 1]! : null, median: d.length ? d[Math.floor(d.length / 2)]! : null, n: d.length };
  }
  const ratio32 = tRef ? t32 / tRef : null;
  const out = {
    benchmark: 'perf-forces',
    command: `npm run bench:perf-forces -- --n ${v.n} --max-atoms ${v['max-atoms']} --threads ${threads}`,
    measured_at: new Date().toISOString(),
    what: 'forces of every displaced supercell (2×2×2 of the relaxed input cell, phonopy displacements) of the compare:reference structures, three ways in one run at equal threads: softmode CHGNet 0.3.0 float64 and float32 graphs (onnxruntime, the pipeline forces step, graph building included) and PyTorch CHGNet 0.3.0 float32 via ASE (tools/reference/forces_speed.py, the forces stage of tools/reference/pipeline.py); wall seconds',
    threads,
    machine: { cpus: cpus().length, loadavg_1min_start: load0, loadavg_1min_end: loadavg()[0] },
    structures: rows.length,
    skipped,
    reference: reference ?? 'skipped (--skip-reference)',
    forces_s: { softmode_float64: t64, softmode_float32: t32, pytorch_float32: tRef },
    ratio_softmode_over_pytorch: { float64: tRef ? t64 / tRef : null, float32: ratio32 },
    goal: { ratio_max: 0.5, label_changes: 0, met: ratio32 !== null && ratio32 <= 0.5 && Object.values(labelChanges).every((l) => l.length === 0) },
    float32_vs_float64: {
      label_changes: labelChanges,
      abs_delta_min_nu_THz: dNu,
      max_force_diff_eV_per_A: Math.max(0, ...rows.map((r) => r.maxForceDiffFloat32)),
    },
    reference_vs_float64_max_force_diff_eV_per_A: haveRef ? Math.max(...rows.map((r) => r.maxForceDiffReference!)) : null,
    per_structure: rows.map((r) => ({
      name: r.name,
      atoms: r.atoms,
      supercell_atoms: r.supercellAtoms,
      displacements: r.displacements,
      forces_s: { float64: +r.forcesFloat64S.toFixed(3), float32: +r.forcesFloat32S.toFixed(3), pytorch: r.forcesReferenceS === null ? null : +r.forcesReferenceS.toFixed(3) },
      labels: Object.fromEntries(STABILITY_PRESETS.map((p) => [p, { float64: r.float64[p]!.label, float32: r.float32[p]!.label }])),
      min_nu_THz: Object.fromEntries(STABILITY_PRESETS.map((p) => [p, { float64: r.float64[p]!.minNonExemptTHz, float32: r.float32[p]!.minNonExemptTHz }])),
      max_force_diff_eV_per_A: { float32: r.maxForceDiffFloat32, pytorch: r.maxForceDiffReference },
    })),
  };
  writeFileSync(OUT_JSON, JSON.stringify(out, null, 1) + '\n');
  const changes = Object.entries(labelChanges).map(([p, l]) => `${p} ${l.length}`).join(', ');
  console.log(`perf-forces: ${rows.length} structures, forces float64 ${t64.toFixed(1)} s, float32 ${t32.toFixed(1)} s, PyTorch ${tRef?.toFixed(1) ?? '-'} s; softmode/PyTorch float32 ${ratio32?.toFixed(3) ?? '-'}; label changes float32 vs float64: ${changes} → ${OUT_JSON}`);
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
