// Peak memory of the CHGNet ONNX forces stage vs onnxruntime settings (CPU memory arena,
// per-run packing budget), each setting in a fresh process, same input, same run.
//
//   npm run bench:onnx-memory [-- --materials mp-662599,mp-555414] [-- --precision float64]
//
// Input: the displaced supercells softmode makes for the named phonondb materials (DFT
// geometry, the archive's DIM on the primitive cell), evaluated in one `evaluate` call per
// material, one after the other in the same session (the way a worker serves forces steps).
// Output bench/results/onnx-memory.json: per setting the peak RSS (VmHWM), the RSS after the
// runs and the wall time.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { displaceStep, fromJson, toJson } from '../activities/compute/science.js';
import { PHONON_CONFIG } from '../config/phonon.js';
import { ONNX_POTENTIAL_DEFAULTS } from '../config/potential.js';
import { displacedSupercell } from '../core/phonon/displaced.js';
import { parsePhonopyConf } from '../core/phonon/phonopy-io.js';
import { loadPotential } from '../core/potential/index.js';
import { readPoscar } from '../core/structure/io/index.js';
import { primitiveByMatrix, supercellOnPrimitive } from './compare-dft.js';
import { archiveId, extractArchive, listArchives, repoRoot } from './phonondb-parity.js';

interface Setting {
  name: string;
  cpuMemArena: boolean;
  maxAtomsPerRun: number;
  maxEdgesPerRun: number;
  maxTripletsPerRun: number;
}

const D = ONNX_POTENTIAL_DEFAULTS;
const SETTINGS: Setting[] = [
  { name: 'arena on, default budget', cpuMemArena: true, maxAtomsPerRun: D.maxAtomsPerRun, maxEdgesPerRun: D.maxEdgesPerRun, maxTripletsPerRun: D.maxTripletsPerRun },
  { name: 'arena off, default budget', cpuMemArena: false, maxAtomsPerRun: D.maxAtomsPerRun, maxEdgesPerRun: D.maxEdgesPerRun, maxTripletsPerRun: D.maxTripletsPerRun },
  { name: 'arena off, budget / 4', cpuMemArena: false, maxAtomsPerRun: D.maxAtomsPerRun / 4, maxEdgesPerRun: D.maxEdgesPerRun / 4, maxTripletsPerRun: D.maxTripletsPerRun / 4 },
  { name: 'arena on, budget / 4', cpuMemArena: true, maxAtomsPerRun: D.maxAtomsPerRun / 4, maxEdgesPerRun: D.maxEdgesPerRun / 4, maxTripletsPerRun: D.maxTripletsPerRun / 4 },
];

function vm(key: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function child(setting: Setting, materials: string[], precision: 'float32' | 'float64'): Promise<void> {
  const pot = await loadPotential('chgnet-0.3.0', { threads: 1, precision, cpuMemArena: setting.cpuMemArena, maxAtomsPerRun: setting.maxAtomsPerRun, maxEdgesPerRun: setting.maxEdgesPerRun, maxTripletsPerRun: setting.maxTripletsPerRun });
  const byId = new Map(listArchives().map((p) => [archiveId(p.split('/').pop()!), p]));
  const perMaterial: { id: string; structures: number; atoms: number; ms: number; rss_after_mb: number }[] = [];
  const baseline = vm('VmRSS');
  const t0 = performance.now();
  for (const id of materials) {
    const archive = byId.get(id);
    if (!archive) throw new Error(`no archive for ${id}`);
    const files = extractArchive(archive);
    const unit = readPoscar(files['POSCAR-unitcell']!, 'POSCAR-unitcell')[0]!;
    const conf = parsePhonopyConf(files['phonopy.conf']!);
    const P = conf.primitiveMatrix ?? [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
    const prim = primitiveByMatrix(unit, P);
    const disp = displaceStep(toJson(prim), { supercell: { kind: 'explicit', matrix: supercellOnPrimitive(conf.supercellMatrix!, P) }, amplitude: PHONON_CONFIG.displacementAmplitude, diagonal: PHONON_CONFIG.diagonalDisplacements, plusMinus: PHONON_CONFIG.plusMinus, symprec: PHONON_CONFIG.symprec });
    const base = fromJson(disp.supercell);
    const structures = disp.displacements.map((d) => displacedSupercell(base, d));
    const t = performance.now();
    await pot.evaluate(structures);
    perMaterial.push({ id, structures: structures.length, atoms: structures.length * base.numbers.length, ms: performance.now() - t, rss_after_mb: vm('VmRSS') });
  }
  process.stdout.write(JSON.stringify({ ...setting, precision, baseline_rss_mb: baseline, peak_rss_mb: vm('VmHWM'), final_rss_mb: vm('VmRSS'), wall_ms: performance.now() - t0, per_material: perMaterial }) + '\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const get = (k: string, d: string): string => {
    const i = argv.indexOf(k);
    return i >= 0 ? argv[i + 1]! : d;
  };
  const materials = get('--materials', 'mp-662599,mp-555414,mp-2605').split(',');
  const precision = get('--precision', 'float64') as 'float32' | 'float64';
  if (argv.includes('--child')) {
    await child(JSON.parse(get('--child', '{}')) as Setting, materials, precision);
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const results = [];
  const load0 = loadavg()[0];
  for (const s of SETTINGS) {
    const r = spawnSync(process.execPath, [self, '--child', JSON.stringify(s), '--materials', materials.join(','), '--precision', precision], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`child for '${s.name}' exited with ${r.status}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    console.error(`${s.name}: peak ${(res['peak_rss_mb'] as number).toFixed(0)} MB, final ${(res['final_rss_mb'] as number).toFixed(0)} MB, ${((res['wall_ms'] as number) / 1000).toFixed(1)} s`);
    results.push(res);
  }
  const out = {
    description: 'peak RSS of one process evaluating the displaced supercells of these phonondb materials in turn (one evaluate call per material), per onnxruntime setting; fresh process per setting',
    command: `npm run bench:onnx-memory -- ${argv.join(' ')}`.trim(),
    materials,
    precision,
    loadavg_start: load0,
    loadavg_end: loadavg()[0],
    measured_at: new Date().toISOString(),
    results,
  };
  const path = join(repoRoot(), 'bench', 'results', 'onnx-memory.json');
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(out, null, 1) + '\n');
  console.log(`→ ${path}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
