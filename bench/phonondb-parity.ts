// Parity of softmode's phonon post-processing with phonopy on the 171 DFT force sets of
// ../shared/data/dft-phonondb (issue 4, "Done when"), and the DFT-PBEsol label of each material.
//
//   npm run parity:phonondb [-- --jobs 2] [-- --only mp-149,mp-1000] [-- --force-reference]
//   (--only writes $TMPDIR/phonondb-parity-partial.json, never the published file)
//
// 1. bench/results/phonondb-reference.json (tools/reference/phonondb_reference.py: phonopy +
//    seekpath in tools/.venv, installed by tools/reference/ensure-venv.sh) is (re)made when it
//    is missing or stale (the script's or the archives' sha256 changed).
// 2. Each archive goes through softmode's postProcess (core/phonon): same POSCAR-unitcell,
//    DIM, PRIMITIVE_AXIS and FORCE_SETS; drift removal and level-1 symmetrization on; HPKOT
//    band path of core/phonon/bandpath; default mesh; every stability preset.
// 3. Comparison → bench/results/phonondb-parity.json: max |Δν| over all commensurate q and bands
//    (q matched modulo reciprocal lattice vectors), |Δ min ν| on the band path and the mesh,
//    label mismatches per preset, and `dft_labels` (phonopy's labels: the ground truth used by
//    compare:dft). Targets: 1e-4 THz, 1e-3 THz, no label mismatch.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { STABILITY_RULES } from '../config/phonon.js';
import { repoRoot } from '../core/paths.js';
import { bandPath } from '../core/phonon/bandpath/index.js';
import { postProcess } from '../core/phonon/index.js';
import { parseForceSets, parsePhonopyConf } from '../core/phonon/phonopy-io.js';
import { readPoscar } from '../core/structure/io/index.js';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';

export const TARGET_FREQ_THZ = 1e-4;
export const TARGET_MIN_FREQ_THZ = 1e-3;
const PRESETS = ['phononbench', 'loew', 'mattersim', 'full-bz'] as const;
type Preset = (typeof PRESETS)[number];

const ROOT = repoRoot();
export const DATA_DIR = resolve(ROOT, '..', 'shared', 'data', 'dft-phonondb');
export const REFERENCE_JSON = join(ROOT, 'bench', 'results', 'phonondb-reference.json');
const OUT_JSON = join(ROOT, 'bench', 'results', 'phonondb-parity.json');
const REFERENCE_SCRIPTS = ['phonondb_reference.py', 'phonon_post.py'].map((f) => join(ROOT, 'tools', 'reference', f));

/** materials-id-10492-rb2sif6-fm-3m-225.tar.lzma → mp-10492 (as the Python side names it). */
export function archiveId(file: string): string {
  const m = /^materials-id-(\d+)-/.exec(file);
  if (!m) throw new Error(`unexpected archive name ${file}`);
  return `mp-${m[1]}`;
}

export function listArchives(dir = DATA_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.tar.lzma'))
    .sort()
    .map((f) => join(dir, f));
}

/** Same digest as phonondb_reference.py's sha256_of: name then bytes of each file, in order. */
export function sha256Of(paths: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of paths) {
    h.update(p.split('/').pop()!);
    h.update(readFileSync(p));
  }
  return h.digest('hex');
}

// ---- reference ---------------------------------------------------------------------------

export interface ReferenceMaterial {
  id: string;
  archive: string;
  n_atoms_primitive: number;
  n_atoms_supercell: number;
  commensurate: { n: number; min_THz: number; qpoints: number[][]; frequencies_THz: number[][] };
  band_path: {
    min_THz: number;
    q: number[];
    band: number;
    n: number;
    bravais_lattice_extended: string;
    spacegroup_number: number;
    segments: { from: string; to: string; from_q: number[]; to_q: number[]; n: number }[];
  };
  mesh: { mesh: number[]; min_THz: number; q: number[]; band: number; n_irreducible: number };
  full_bz_min: { min_THz: number; where: string; q: number[]; band: number } | null;
  gamma_lowest_three_are_acoustic: boolean;
  labels: Record<Preset, string>;
}

export interface ReferenceFile {
  script_sha256: string;
  inputs_sha256: string | null;
  versions: Record<string, string>;
  rules: Record<string, Record<string, unknown>>;
  archives: number;
  errors: { archive: string; error: string }[];
  wall_s: number;
  materials: ReferenceMaterial[];
}

/** Why the reference JSON must be remade, or null when it is current. */
export function referenceStaleReason(archives: readonly string[]): string | null {
  if (!existsSync(REFERENCE_JSON)) return 'missing';
  let ref: ReferenceFile;
  try {
    ref = JSON.parse(readFileSync(REFERENCE_JSON, 'utf8')) as ReferenceFile;
  } catch {
    return 'unreadable';
  }
  if (ref.script_sha256 !== sha256Of(REFERENCE_SCRIPTS)) return 'reference scripts changed';
  if (ref.inputs_sha256 !== sha256Of(archives)) return 'archives changed (or a partial --only run)';
  const rules = ruleDifferences(ref.rules);
  if (rules.length > 0) return `stability rules changed (${rules.join('; ')})`;
  return null;
}

/** Runs the Python reference with softmode's own rule numbers (one definition for both sides). */
function runReference(): void {
  const script = join(ROOT, 'tools', 'reference', 'run-phonondb.sh');
  const tmp = mkdtempSync(join(tmpdir(), 'softmode-rules-'));
  const rulesFile = join(tmp, 'rules.json');
  writeFileSync(rulesFile, JSON.stringify(STABILITY_RULES));
  try {
    const r = spawnSync(script, ['--out', REFERENCE_JSON, '--jobs', '2', '--rules', rulesFile], { stdio: 'inherit' });
    if (r.status !== 0 && !existsSync(REFERENCE_JSON)) throw new Error(`reference run failed (exit ${r.status})`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---- softmode side -------------------------------------------------------------------------

export interface SoftmodeArchiveResult {
  id: string;
  nPrimitive: number;
  commensurate: { qpoints: number[][]; frequencies: number[][] };
  band: { min: number; q: number[]; band: number; n: number; extendedBravais: string | null; segments: { labels: [string, string] | null; n: number; from: number[]; to: number[] }[]; note?: string };
  mesh: { mesh: number[]; min: number; q: number[]; band: number; n: number } | null;
  labels: Partial<Record<Preset, string>>;
  minNonExempt: Partial<Record<Preset, number | null>>;
  unclassified: Record<string, string>;
  /** postProcess's own stage timings (model = fc + primitive + shortest vectors) */
  timingsMs: Record<string, number>;
  ms: number;
}

export function extractArchive(archive: string): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'softmode-phonondb-'));
  try {
    const r = spawnSync('tar', ['-xJf', archive, '-C', dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tar failed on ${archive}: ${r.stderr}`);
    const out: Record<string, string> = {};
    const walk = (d: string): void => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (['POSCAR-unitcell', 'phonopy.conf', 'FORCE_SETS'].includes(f)) out[f] = readFileSync(p, 'utf8');
      }
    };
    walk(dir);
    for (const f of ['POSCAR-unitcell', 'phonopy.conf', 'FORCE_SETS']) if (!(f in out)) throw new Error(`${archive}: no ${f}`);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function argminOver(qpoints: readonly (readonly number[])[], freqs: readonly ArrayLike<number>[]): { min: number; q: number[]; band: number } {
  let best = { min: Infinity, q: [] as number[], band: -1 };
  freqs.forEach((f, k) => {
    for (let b = 0; b < f.length; b++) if (f[b]! < best.min) best = { min: f[b]!, q: [...qpoints[k]!], band: b };
  });
  return best;
}

function extendedBravaisOf(s: Parameters<typeof bandPath>[0]): string | null {
  try {
    return bandPath(s).extendedBravais;
  } catch {
    return null;
  }
}

/** softmode's post-processing of one phonondb archive. */
export function softmodeArchive(archive: string): SoftmodeArchiveResult {
  const t0 = performance.now();
  const files = extractArchive(archive);
  const unitcell = readPoscar(files['POSCAR-unitcell']!, 'POSCAR-unitcell')[0]!;
  const conf = parsePhonopyConf(files['phonopy.conf']!);
  if (!conf.supercellMatrix) throw new Error(`${archive}: phonopy.conf has no DIM`);
  const fsets = parseForceSets(files['FORCE_SETS']!, 'FORCE_SETS');
  const res = postProcess({
    unitcell,
    supercellMatrix: conf.supercellMatrix,
    ...(conf.primitiveMatrix ? { primitiveMatrix: conf.primitiveMatrix } : {}),
    displacements: fsets.sets,
    options: { thermal: false },
  });
  const bandQ = res.band?.segments.flatMap((s) => s.qpoints) ?? [];
  const bandF = res.band?.segments.flatMap((s) => s.frequencies) ?? [];
  const bmin = argminOver(bandQ, bandF);
  const mmin = res.mesh ? argminOver(res.mesh.qpoints, res.mesh.frequencies) : null;
  const labels: SoftmodeArchiveResult['labels'] = {};
  const minNonExempt: SoftmodeArchiveResult['minNonExempt'] = {};
  for (const p of PRESETS) {
    const c = res.classification[p];
    if (c) {
      labels[p] = c.label;
      minNonExempt[p] = c.minNonExempt?.frequency ?? null;
    }
  }
  return {
    id: archiveId(archive.split('/').pop()!),
    nPrimitive: res.model.primitive.numbers.length,
    commensurate: { qpoints: res.commensurate.qpoints.map((q) => [...q]), frequencies: res.commensurate.frequencies.map((f) => Array.from(f)) },
    band: {
      ...bmin,
      n: bandQ.length,
      extendedBravais: extendedBravaisOf(res.model.primitive),
      segments: (res.band?.segments ?? []).map((s) => ({ labels: s.labels ?? null, n: s.qpoints.length, from: [...s.qpoints[0]!], to: [...s.qpoints[s.qpoints.length - 1]!] })),
      ...(res.band?.note ? { note: res.band.note } : {}),
    },
    mesh: res.mesh && mmin ? { mesh: [...res.mesh.mesh], ...mmin, n: res.mesh.qpoints.length } : null,
    labels,
    minNonExempt,
    unclassified: { ...(res.unclassified as Record<string, string>) },
    timingsMs: { ...res.timingsMs },
    ms: performance.now() - t0,
  };
}

// ---- comparison ----------------------------------------------------------------------------

const qKey = (q: readonly number[]): string => q.map((x) => Math.round((x - Math.floor(x + 1e-9)) * 1e6) % 1e6).join(',');

export interface ArchiveComparison {
  id: string;
  maxAbsFreqDiffTHz: number;
  worstQ: number[] | null;
  commensurateMatched: boolean;
  bandMinRef: number;
  bandMinSoftmode: number;
  bandMinDiffTHz: number;
  bandPointsRef: number;
  bandPointsSoftmode: number;
  bravaisRef: string;
  bravaisSoftmode: string | null;
  meshMinRef: number;
  meshMinSoftmode: number | null;
  meshMinDiffTHz: number | null;
  meshRef: number[];
  meshSoftmode: number[] | null;
  labelsRef: Record<string, string>;
  labelsSoftmode: Record<string, string>;
  mismatches: Preset[];
}

export function compareArchive(ref: ReferenceMaterial, sm: SoftmodeArchiveResult): ArchiveComparison {
  const refByQ = new Map<string, number[]>();
  ref.commensurate.qpoints.forEach((q, k) => refByQ.set(qKey(q), ref.commensurate.frequencies_THz[k]!));
  let maxDiff = 0;
  let worstQ: number[] | null = null;
  let matched = sm.commensurate.qpoints.length === ref.commensurate.qpoints.length;
  sm.commensurate.qpoints.forEach((q, k) => {
    const r = refByQ.get(qKey(q));
    if (!r) {
      matched = false;
      return;
    }
    const f = sm.commensurate.frequencies[k]!;
    for (let b = 0; b < f.length; b++) {
      const d = Math.abs(f[b]! - r[b]!);
      if (d > maxDiff) {
        maxDiff = d;
        worstQ = q;
      }
    }
  });
  const mismatches = PRESETS.filter((p) => sm.labels[p] !== ref.labels[p]);
  return {
    id: ref.id,
    maxAbsFreqDiffTHz: matched ? maxDiff : Infinity,
    worstQ,
    commensurateMatched: matched,
    bandMinRef: ref.band_path.min_THz,
    bandMinSoftmode: sm.band.min,
    bandMinDiffTHz: Math.abs(sm.band.min - ref.band_path.min_THz),
    bandPointsRef: ref.band_path.n,
    bandPointsSoftmode: sm.band.n,
    bravaisRef: ref.band_path.bravais_lattice_extended,
    bravaisSoftmode: sm.band.extendedBravais,
    meshMinRef: ref.mesh.min_THz,
    meshMinSoftmode: sm.mesh?.min ?? null,
    meshMinDiffTHz: sm.mesh ? Math.abs(sm.mesh.min - ref.mesh.min_THz) : null,
    meshRef: ref.mesh.mesh,
    meshSoftmode: sm.mesh?.mesh ?? null,
    labelsRef: { ...ref.labels },
    labelsSoftmode: { ...(sm.labels as Record<string, string>) },
    mismatches,
  };
}

/** Reference rules vs config/phonon.ts STABILITY_RULES: versions and every number. */
export function ruleDifferences(refRules: ReferenceFile['rules']): string[] {
  const diffs: string[] = [];
  for (const p of PRESETS) {
    const ours = STABILITY_RULES[p] as Record<string, unknown>;
    const theirs = refRules[p] ?? {};
    for (const [k, v] of Object.entries(ours)) {
      const t = theirs[k];
      if (typeof v === 'number' ? typeof t !== 'number' || Math.abs(t - v) > 1e-12 : t !== v) diffs.push(`${p}.${k}: softmode ${String(v)} vs reference ${String(t)}`);
    }
  }
  return diffs;
}

// ---- driver ---------------------------------------------------------------------------------

const OPTIONS = {
  jobs: { kind: 'positive-int', default: 2, help: 'worker threads (default 2)' },
  only: { kind: 'list', metavar: 'mp-149,mp-1000', help: 'only these materials ($TMPDIR/phonondb-parity-partial.json)' },
  'force-reference': { kind: 'boolean', help: 'remake the phonopy reference even when it is up to date' },
} as const satisfies OptionsSpec;

function readArgs(): { jobs: number; only: Set<string> | null; forceReference: boolean } {
  const { values: v } = parseProcessArgs('parity:phonondb', OPTIONS);
  return { jobs: v.jobs, only: v.only ? new Set(v.only) : null, forceReference: v['force-reference'] };
}

async function runSoftmode(archives: string[], jobs: number): Promise<{ results: SoftmodeArchiveResult[]; errors: { archive: string; error: string }[] }> {
  const results: SoftmodeArchiveResult[] = [];
  const errors: { archive: string; error: string }[] = [];
  let next = 0;
  let done = 0;
  const self = fileURLToPath(import.meta.url);
  const one = (w: Worker, archive: string): Promise<void> =>
    new Promise((res) => {
      w.once('message', (m: { ok: true; result: SoftmodeArchiveResult } | { ok: false; error: string }) => {
        if (m.ok) results.push(m.result);
        else errors.push({ archive, error: m.error });
        done++;
        if (done % 10 === 0 || done === archives.length) process.stderr.write(`[${done}/${archives.length}] softmode\n`);
        res();
      });
      w.postMessage(archive);
    });
  const workers = Array.from({ length: Math.min(jobs, archives.length) }, () => new Worker(self, { workerData: { parityWorker: true } }));
  await Promise.all(
    workers.map(async (w) => {
      while (next < archives.length) await one(w, archives[next++]!);
      await w.terminate();
    }),
  );
  return { results, errors };
}

async function main(): Promise<number> {
  const args = readArgs();
  const all = listArchives();
  if (all.length === 0) throw new Error(`no archives in ${DATA_DIR}`);
  const stale = args.forceReference ? 'forced' : referenceStaleReason(all);
  const tRef = performance.now();
  if (stale) {
    process.stderr.write(`reference: ${stale}; running tools/reference/phonondb_reference.py\n`);
    runReference();
  }
  const refWallS = stale ? (performance.now() - tRef) / 1000 : null;
  const ref = JSON.parse(readFileSync(REFERENCE_JSON, 'utf8')) as ReferenceFile;
  const refById = new Map(ref.materials.map((m) => [m.id, m]));
  const archives = all.filter((a) => !args.only || args.only.has(archiveId(a.split('/').pop()!)));

  const t0 = performance.now();
  const { results, errors } = await runSoftmode(archives, args.jobs);
  const softmodeWallS = (performance.now() - t0) / 1000;
  results.sort((a, b) => (a.id < b.id ? -1 : 1));

  const comparisons: ArchiveComparison[] = [];
  const missingRef: string[] = [];
  for (const r of results) {
    const m = refById.get(r.id);
    if (!m) missingRef.push(r.id);
    else comparisons.push(compareArchive(m, r));
  }
  const maxBy = <T>(xs: T[], f: (x: T) => number | null): { value: number; at: T | null } => {
    let best = { value: 0, at: null as T | null };
    for (const x of xs) {
      const v = f(x);
      if (v !== null && (v > best.value || best.at === null)) best = { value: v, at: x };
    }
    return best;
  };
  const freq = maxBy(comparisons, (c) => c.maxAbsFreqDiffTHz);
  const band = maxBy(comparisons, (c) => c.bandMinDiffTHz);
  const mesh = maxBy(comparisons, (c) => c.meshMinDiffTHz);
  const labelMismatches = comparisons.flatMap((c) =>
    c.mismatches.map((p) => ({
      id: c.id,
      preset: p,
      softmode: c.labelsSoftmode[p] ?? 'unclassified',
      reference: c.labelsRef[p],
      band_min_THz: { softmode: c.bandMinSoftmode, reference: c.bandMinRef },
      mesh_min_THz: { softmode: c.meshMinSoftmode, reference: c.meshMinRef },
    })),
  );
  const rulesDiff = ruleDifferences(ref.rules);
  const dftLabels: Record<string, Record<string, string>> = {};
  for (const m of ref.materials) dftLabels[m.id] = { ...m.labels };
  const counts: Record<string, Record<string, number>> = {};
  for (const m of ref.materials) for (const p of PRESETS) (counts[p] ??= {})[m.labels[p]] = (counts[p]![m.labels[p]] ?? 0) + 1;

  const out = {
    archives: comparisons.length,
    archives_total: all.length,
    max_abs_freq_diff_THz: freq.value,
    max_abs_freq_diff_at: freq.at ? { id: freq.at.id, q: freq.at.worstQ } : null,
    max_abs_min_freq_diff_THz: band.value,
    max_abs_min_freq_diff_at: band.at ? { id: band.at.id, softmode: band.at.bandMinSoftmode, reference: band.at.bandMinRef } : null,
    max_abs_mesh_min_freq_diff_THz: mesh.value,
    max_abs_mesh_min_freq_diff_at: mesh.at ? { id: mesh.at.id, softmode: mesh.at.meshMinSoftmode, reference: mesh.at.meshMinRef } : null,
    label_mismatches: labelMismatches,
    targets: { max_abs_freq_diff_THz: TARGET_FREQ_THZ, max_abs_min_freq_diff_THz: TARGET_MIN_FREQ_THZ, label_mismatches: 0 },
    pass: freq.value <= TARGET_FREQ_THZ && band.value <= TARGET_MIN_FREQ_THZ && labelMismatches.length === 0 && errors.length === 0 && comparisons.length === all.length,
    rules_match: rulesDiff.length === 0,
    rule_differences: rulesDiff,
    errors: [...errors, ...ref.errors.map((e) => ({ archive: e.archive, error: `reference: ${e.error}` })), ...missingRef.map((id) => ({ archive: id, error: 'not in the reference JSON' }))],
    dft_labels_source: 'phonopy (tools/reference/phonondb_reference.py) on the DFT-PBEsol FORCE_SETS, no NAC',
    dft_labels: dftLabels,
    dft_label_counts: counts,
    reference: { json: 'bench/results/phonondb-reference.json', versions: ref.versions, wall_s_recorded: ref.wall_s, rerun_wall_s: refWallS },
    softmode: { wall_s: softmodeWallS, jobs: args.jobs, per_archive_ms_max: Math.max(...results.map((r) => r.ms)) },
    per_archive: comparisons.map((c) => ({
      id: c.id,
      max_abs_freq_diff_THz: c.maxAbsFreqDiffTHz,
      band_min_THz: [c.bandMinSoftmode, c.bandMinRef],
      band_points: [c.bandPointsSoftmode, c.bandPointsRef],
      extended_bravais: [c.bravaisSoftmode, c.bravaisRef],
      mesh_min_THz: [c.meshMinSoftmode, c.meshMinRef],
      mesh: [c.meshSoftmode, c.meshRef],
      labels_softmode: c.labelsSoftmode,
      ms: results.find((r) => r.id === c.id)?.ms,
      stage_ms: results.find((r) => r.id === c.id)?.timingsMs,
    })),
  };
  // A partial (--only) run must not replace the published 171-archive result.
  const outPath = args.only ? join(tmpdir(), 'phonondb-parity-partial.json') : OUT_JSON;
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, JSON.stringify(out, null, 1) + '\n');
  console.log(
    `phonondb parity: ${comparisons.length}/${all.length} archives; max |Δν| ${freq.value.toExponential(2)} THz (${freq.at?.id}); ` +
      `max |Δ min ν| band ${band.value.toExponential(2)} THz (${band.at?.id}), mesh ${mesh.value.toExponential(2)} THz; ` +
      `${labelMismatches.length} label mismatches; ${out.errors.length} errors; rules ${rulesDiff.length ? 'DIFFER' : 'match'}; ` +
      `softmode ${softmodeWallS.toFixed(1)} s with ${args.jobs} workers → ${outPath}`,
  );
  return out.pass ? 0 : 1;
}

if (!isMainThread && (workerData as { parityWorker?: boolean } | null)?.parityWorker) {
  parentPort!.on('message', (archive: string) => {
    try {
      parentPort!.postMessage({ ok: true, result: softmodeArchive(archive) });
    } catch (e) {
      parentPort!.postMessage({ ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    }
  });
} else if (isMainThread && process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(2);
    },
  );
}
