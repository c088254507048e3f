// Peak memory of the CHGNet ONNX forces stage vs onnxruntime settings (CPU memory arena,
// per-run packing budget), each setting in a fresh process, same input, same run.
//
//   npm run bench:onnx-memory [-- --materials mp-662599,mp-555414] [-- --precision float64]
//   npm run bench:onnx-memory -- --mattergen IrOs,Fe5CoH,GdO [--displacements 8] [--out NAME]
//
// Input: the displaced supercells softmode makes for the named phonondb materials (DFT
// geometry, the archive's DIM on the primitive cell), or for the named MatterGen structures of
// ../shared (the input cell as read, PhononBench's 2×2×2 supercell; --displacements keeps the
// first N of each), evaluated in one `evaluate` call per material, one after the other in the
// same session (the way a worker serves forces steps).
// Output bench/results/<NAME or onnx-memory>.json: per setting the peak RSS (VmHWM), the RSS
// after the runs, the wall time and the process's user / system CPU time.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { displaceStep, fromJson, toJson } from '../pipeline/steps.js';
import { PHONON_CONFIG } from '../config/phonon.js';
import { ONNX_POTENTIAL_DEFAULTS } from '../config/potential.js';
import { displacedSupercell } from '../core/phonon/displaced.js';
import { parsePhonopyConf } from '../core/phonon/phonopy-io.js';
import { resolvePotential } from '../core/potential/index.js';
import { readPoscar, readStructureFile } from '../core/structure/io/index.js';
import type { Structure } from '../core/structure/structure.js';
import { primitiveByMatrix, supercellOnPrimitive } from './compare-dft.js';
import { repoRoot } from '../core/paths.js';
import { archiveId, extractArchive, listArchives } from './phonondb-parity.js';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';

interface Setting {
  name: string;
  cpuMemArena: boolean;
  maxAtomsPerRun: number;
  maxEdgesPerRun: number;
  maxTripletsPerRun: number;
}

const D = ONNX_POTENTIAL_DEFAULTS;
// onnx-potential-2's budget, kept to compare against
const BUDGET_2 = { maxAtomsPerRun: 512, maxEdgesPerRun: 50_000, maxTripletsPerRun: 50_000 };
const SETTINGS: Setting[] = [
  { name: 'arena on, default budget', cpuMemArena: true, maxAtomsPerRun: D.maxAtomsPerRun, maxEdgesPerRun: D.maxEdgesPerRun, maxTripletsPerRun: D.maxTripletsPerRun },
  { name: 'arena on, onnx-potential-2 budget (512 atoms / 50k edges / 50k triplets)', cpuMemArena: true, ...BUDGET_2 },
  { name: 'arena on, one structure per run', cpuMemArena: true, maxAtomsPerRun: 1, maxEdgesPerRun: 1, maxTripletsPerRun: 1 },
  { name: 'arena off, one structure per run', cpuMemArena: false, maxAtomsPerRun: 1, maxEdgesPerRun: 1, maxTripletsPerRun: 1 },
];

function vm(key: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Input {
  materials: string[];
  mattergen: string[];
  displacements: number;
}

/** The displaced supercells of one input, as the forces step receives them. */
function displacedSet(input: Input): { id: string; structures: Structure[] }[] {
  const sets: { id: string; structures: Structure[] }[] = [];
  const dispParams = { amplitude: PHONON_CONFIG.displacementAmplitude, diagonal: PHONON_CONFIG.diagonalDisplacements, plusMinus: PHONON_CONFIG.plusMinus, symprec: PHONON_CONFIG.symprec };
  const push = (id: string, disp: ReturnType<typeof displaceStep>): void => {
    const base = fromJson(disp.supercell);
    const all = disp.displacements.map((d) => displacedSupercell(base, d));
    sets.push({ id, structures: input.displacements > 0 ? all.slice(0, input.displacements) : all });
  };
  if (input.materials.length > 0) {
    const byId = new Map(listArchives().map((p) => [archiveId(p.split('/').pop()!), p]));
    for (const id of input.materials) {
      const archive = byId.get(id);
      if (!archive) throw new Error(`no archive for ${id}`);
      const files = extractArchive(archive);
      const unit = readPoscar(files['POSCAR-unitcell']!, 'POSCAR-unitcell')[0]!;
      const conf = parsePhonopyConf(files['phonopy.conf']!);
      const P = conf.primitiveMatrix ?? [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
      const prim = primitiveByMatrix(unit, P);
      push(id, displaceStep(toJson(prim), { supercell: { kind: 'explicit', matrix: supercellOnPrimitive(conf.supercellMatrix!, P) }, ...dispParams }));
    }
  }
  const mattergen = join(repoRoot(), '..', 'shared', 'data', 'structures', 'mattergen');
  const files = input.mattergen.length > 0 ? readdirSync(mattergen, { recursive: true, encoding: 'utf8' }) : [];
  for (const name of input.mattergen) {
    const rel = files.find((f) => basename(f) === `${name}.cif`);
    if (!rel) throw new Error(`no ${name}.cif under ${mattergen}`);
    const s = readStructureFile(join(mattergen, rel))[0]!;
    push(name, displaceStep(toJson(s), { supercell: { kind: 'phononbench' }, ...dispParams }));
  }
  return sets;
}

async function child(setting: Setting, input: Input, precision: 'float32' | 'float64'): Promise<void> {
  const pot = await resolvePotential('chgnet-0.3.0', { threads: 1, precision, cpuMemArena: setting.cpuMemArena, maxAtomsPerRun: setting.maxAtomsPerRun, maxEdgesPerRun: setting.maxEdgesPerRun, maxTripletsPerRun: setting.maxTripletsPerRun });
  const sets = displacedSet(input);
  const perMaterial: { id: string; structures: number; atoms: number; ms: number; rss_after_mb: number }[] = [];
  const baseline = vm('VmRSS');
  const cpu0 = process.resourceUsage();
  const t0 = performance.now();
  for (const { id, structures } of sets) {
    const t = performance.now();
    await pot.evaluate(structures);
    perMaterial.push({ id, structures: structures.length, atoms: structures.reduce((n, s) => n + s.numbers.length, 0), ms: performance.now() - t, rss_after_mb: vm('VmRSS') });
  }
  const wall = performance.now() - t0;
  const cpu = process.resourceUsage();
  process.stdout.write(
    JSON.stringify({
      ...setting,
      precision,
      baseline_rss_mb: baseline,
      peak_rss_mb: vm('VmHWM'),
      final_rss_mb: vm('VmRSS'),
      wall_ms: wall,
      user_cpu_s: (cpu.userCPUTime - cpu0.userCPUTime) / 1e6,
      system_cpu_s: (cpu.systemCPUTime - cpu0.systemCPUTime) / 1e6,
      per_material: perMaterial,
    }) + '\n',
  );
}

const OPTIONS = {
  materials: { kind: 'list', metavar: 'mp-1,mp-2', help: 'phonondb materials (default mp-662599,mp-555414 unless --mattergen)' },
  mattergen: { kind: 'list', metavar: 'A,B', help: 'MatterGen structures of ../shared instead' },
  displacements: { kind: 'int', min: 0, default: 0, help: 'keep the first N displacements of each (default 0: all)' },
  out: { kind: 'string', default: 'onnx-memory', metavar: 'NAME', help: 'bench/results/<NAME>.json (default onnx-memory)' },
  precision: { kind: 'enum', values: ['float32', 'float64'], default: 'float64', help: 'model precision (default float64)' },
  child: { kind: 'string', metavar: 'JSON', help: 'internal: measure one setting in this process' },
} as const satisfies OptionsSpec;

async function main(): Promise<void> {
  const { values: v, argv } = parseProcessArgs('bench:onnx-memory', OPTIONS);
  const mattergen = v.mattergen ?? [];
  const materials = v.materials ?? (mattergen.length > 0 ? [] : ['mp-662599', 'mp-555414']);
  const input: Input = { materials, mattergen, displacements: v.displacements };
  const outName = v.out;
  const precision = v.precision;
  if (v.child !== undefined) {
    await child(JSON.parse(v.child) as Setting, input, precision);
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const results = [];
  const load0 = loadavg()[0];
  for (const s of SETTINGS) {
    const r = spawnSync(process.execPath, [self, '--child', JSON.stringify(s), '--materials', materials.join(','), '--mattergen', mattergen.join(','), '--displacements', String(input.displacements), '--precision', precision], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`child for '${s.name}' exited with ${r.status}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    console.error(`${s.name}: peak ${(res['peak_rss_mb'] as number).toFixed(0)} MB, final ${(res['final_rss_mb'] as number).toFixed(0)} MB, ${((res['wall_ms'] as number) / 1000).toFixed(1)} s (user ${(res['user_cpu_s'] as number).toFixed(1)} s, system ${(res['system_cpu_s'] as number).toFixed(1)} s)`);
    results.push(res);
  }
  const out = {
    description: 'peak RSS and time of one process (1 onnxruntime thread) evaluating the displaced supercells of these materials in turn (one evaluate call per material), per onnxruntime setting; fresh process per setting, one after the other',
    command: `npm run bench:onnx-memory -- ${argv.join(' ')}`.trim(),
    materials,
    mattergen,
    displacements_per_material: input.displacements > 0 ? input.displacements : 'all',
    precision,
    loadavg_start: load0,
    loadavg_end: loadavg()[0],
    measured_at: new Date().toISOString(),
    results,
  };
  const path = join(repoRoot(), 'bench', 'results', `${outName}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(out, null, 1) + '\n');
  console.log(`→ ${path}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
