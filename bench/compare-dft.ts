// CHGNet-0.3.0 labels vs DFT labels (issue 7): the confusion matrix of Loew et al. Table III
// for softmode's shipped model, on the 171 DFT-PBEsol force sets of ../shared/data/dft-phonondb.
//
//   npm run compare:dft [-- --jobs 2] [-- --only mp-149,mp-1000] [-- --model chgnet-0.3.0] [-- --fresh]
//                       [-- --trajectory-precision float32|float64]   (default: the protocol's)
//   (--only writes $TMPDIR/dft-confusion-partial.json, never the published file)
//
// Resumable: each material's result is kept in .campaigns/compare-dft/<model>-<code>/<id>.json
// (code = sha256 of the compiled core/, activities/ and config/), so an interrupted
// run continues where it stopped, and several processes can share the work: a material is
// claimed with an exclusive lock file, and each process waits for the others' materials before
// it writes the table. --fresh ignores stored results. --available computes nothing: it
// publishes the table over the materials already stored (the file says how many of the 171).
// --cache DIR names the result folder explicitly.
//
// Ground truth: the DFT label of each material under every preset, from phonopy on the DFT
// FORCE_SETS (bench/results/phonondb-reference.json, made by `npm run parity:phonondb`, whose
// labels softmode reproduces with 0 mismatches), and Loew's ν_max = max ν over commensurate q.
// Model side, per material, with the archive's own settings:
//   1. the DFT primitive cell (POSCAR-unitcell transformed by PRIMITIVE_AXIS);
//   2. relaxation with the model, PhononBench protocol (FIRE + Fréchet cell filter + FixSymmetry,
//      fmax 0.005 eV/Å); a relaxation that does not converge counts as unstable (PhononBench);
//   3. the archive's supercell (DIM, expressed on the primitive cell: the same lattice, so the
//      same commensurate q), softmode's symmetry-reduced displacements, model forces;
//   4. softmode's force constants, frequencies (commensurate q, HPKOT band path, default mesh)
//      and every stability preset.
// Output bench/results/dft-confusion.json: per preset TS/FU/TU/FS counts and percentages
// (TS% = TS/(TS+FU) of the DFT-stable, TU% = TU/(TU+FS) of the DFT-unstable, as in Loew Table
// III), ν_max error in K, and every material's labels.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { PHONON_CONFIG } from '../config/phonon.js';
import { STABILITY_PRESETS } from '../core/stability/index.js';
import { RELAX_PROTOCOLS, type RelaxProtocol, withTrajectoryPrecision } from '../config/relax.js';
import { buildSettings, potentialFor, resolvedPotential, runOne, trajectoryPotentialFor } from '../pipeline/index.js';
import { det3, inv3, matmul3, transpose3, vecmat3 } from '../core/math/linalg.js';
import { parsePhonopyConf } from '../core/phonon/phonopy-io.js';
import { readPoscar } from '../core/structure/io/index.js';
import { reducedFormula } from '../core/structure/hash.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';
import { repoRoot } from '../core/paths.js';
import { REFERENCE_JSON, archiveId, extractArchive, listArchives, type ReferenceFile } from './phonondb-parity.js';
import { median } from './stats.js';
import { type OptionsSpec, TRAJECTORY_PRECISIONS, parseProcessArgs } from '../cli/lib/args.js';

const ROOT = repoRoot();
const OUT_JSON = join(ROOT, 'bench', 'results', 'dft-confusion.json');

interface Args {
  jobs: number;
  only: Set<string> | null;
  model: string;
  /** replaces the phononbench protocol's relaxation trajectory precision */
  trajectoryPrecision: 'float32' | 'float64' | null;
  fresh: boolean;
  available: boolean;
  cache: string | null;
}

const OPTIONS = {
  jobs: { kind: 'positive-int', default: 2, help: 'worker threads, one material each (default 2)' },
  only: { kind: 'list', metavar: 'mp-1,mp-2', help: 'only these phonondb materials (the result goes to a temporary file)' },
  model: { kind: 'string', default: 'chgnet-0.3.0', metavar: 'NAME', help: 'potential (default chgnet-0.3.0)' },
  'trajectory-precision': { kind: 'enum', values: TRAJECTORY_PRECISIONS, help: "replaces the phononbench protocol's relaxation trajectory precision" },
  fresh: { kind: 'boolean', help: 'discard the per-material result cache first' },
  available: { kind: 'boolean', help: 'only materials with a cached result (no computation)' },
  cache: { kind: 'string', metavar: 'DIR', help: 'per-material result cache (default .campaigns/compare-dft/<model>-<code digest>)' },
} as const satisfies OptionsSpec;

function readArgs(): Args & { argv: readonly string[] } {
  const { values: v, argv } = parseProcessArgs('compare:dft', OPTIONS);
  return { jobs: v.jobs, only: v.only ? new Set(v.only) : null, model: v.model, trajectoryPrecision: v['trajectory-precision'] ?? null, fresh: v.fresh, available: v.available, cache: v.cache ?? null, argv };
}

/**
 * The cell whose lattice rows are Pᵀ·L (phonopy's PRIMITIVE_AXIS convention: columns of P are
 * the primitive vectors in the unit-cell basis), with the unit cell's atoms folded into it and
 * duplicates (|Δfrac| < tol, same element) dropped.
 */
export function primitiveByMatrix(unit: Structure, P: readonly (readonly number[])[], tol = 1e-4): Structure {
  const Pt = transpose3(P);
  const Lp = matmul3(Pt, unit.lattice);
  // frac in the new basis: x_p = x_u · L · Lp⁻¹ = x_u · (Pᵀ)⁻¹
  const M = inv3(Pt);
  const frac: number[][] = [];
  const numbers: number[] = [];
  unit.frac.forEach((x, k) => {
    const y = vecmat3(x, M).map((v) => {
      const w = v - Math.floor(v);
      return w > 1 - tol ? 0 : w;
    });
    const dup = frac.some((f, i) => numbers[i] === unit.numbers[k] && f.every((c, j) => {
      const d = Math.abs(c - y[j]!);
      return Math.min(d, 1 - d) < tol;
    }));
    if (!dup) {
      frac.push(y);
      numbers.push(unit.numbers[k]!);
    }
  });
  const detP = Math.abs(det3(P));
  const expected = Math.round(unit.numbers.length * detP);
  if (numbers.length !== expected) throw new Error(`primitive cell has ${numbers.length} atoms, expected ${expected} (|det P| = ${detP})`);
  return makeStructure({ name: unit.name, lattice: Lp, frac, numbers });
}

/**
 * Supercell matrix S' on the primitive cell, phonopy convention (columns: (a_s b_s c_s) =
 * (a_u b_u c_u)·S = (a_p b_p c_p)·S'), so S' = P⁻¹·S; must be integer.
 */
export function supercellOnPrimitive(S: readonly (readonly number[])[], P: readonly (readonly number[])[]): number[][] {
  const Sp = matmul3(inv3(P), S);
  return Sp.map((r) =>
    r.map((x) => {
      const n = Math.round(x);
      if (Math.abs(x - n) > 1e-6) throw new Error(`supercell matrix is not integer on the primitive cell (${x})`);
      return n === 0 ? 0 : n;
    }),
  );
}

export interface MaterialResult {
  id: string;
  formula: string;
  nPrimitive: number;
  nSupercell: number;
  nDisplacements: number;
  relax: { status: string; reason: string | null; steps: number; spacegroupBefore: number | null; spacegroupAfter: number | null; volumeRatio: number | null };
  labels: Record<string, string>;
  minFreqTHz: number | null;
  nuMaxK: number | null;
  stagesS: Record<string, number>;
}

function protocolOf(trajectoryPrecision: 'float32' | 'float64' | null): Readonly<RelaxProtocol> {
  const named = RELAX_PROTOCOLS['phononbench']!;
  return trajectoryPrecision ? withTrajectoryPrecision(named, trajectoryPrecision) : named;
}

async function modelMaterial(archive: string, model: string, trajectoryPrecision: 'float32' | 'float64' | null): Promise<MaterialResult> {
  const stagesS: Record<string, number> = {};
  let t = performance.now();
  const lap = (k: string): void => {
    const now = performance.now();
    stagesS[k] = (now - t) / 1000;
    t = now;
  };
  const files = extractArchive(archive);
  const unit = readPoscar(files['POSCAR-unitcell']!, 'POSCAR-unitcell')[0]!;
  const conf = parsePhonopyConf(files['phonopy.conf']!);
  if (!conf.supercellMatrix) throw new Error('phonopy.conf has no DIM');
  const P = conf.primitiveMatrix ?? [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  const prim = primitiveByMatrix(unit, P);
  const S = supercellOnPrimitive(conf.supercellMatrix, P);
  lap('read');
  const spec = { model, threads: 1 };
  const potential = await potentialFor(spec);
  const protocol = protocolOf(trajectoryPrecision);
  const settings = buildSettings({ potential: resolvedPotential(potential), preset: 'full-bz', relaxProtocol: protocol, supercell: { kind: 'explicit', matrix: S } });
  const run = await runOne(prim, settings, potential, { validate: false, trajectoryPotential: await trajectoryPotentialFor(spec, potential, protocol) });
  Object.assign(stagesS, run.stagesS);
  const r = run.relax!;
  const relax = { status: r.status, reason: r.reason, steps: r.steps, spacegroupBefore: r.spacegroupBefore, spacegroupAfter: r.spacegroupAfter, volumeRatio: Math.abs(det3(r.structure.lattice) / det3(prim.lattice)) };
  const base = { id: archiveId(archive.split('/').pop()!), formula: reducedFormula(prim.numbers), nPrimitive: prim.numbers.length, relax, stagesS };
  if (!run.classify || !run.phonons || !run.displace) {
    // PhononBench: a structure whose relaxation fails is counted as unstable
    return { ...base, nSupercell: 0, nDisplacements: 0, labels: Object.fromEntries(STABILITY_PRESETS.map((p) => [p, 'unstable'])), minFreqTHz: null, nuMaxK: null };
  }
  const ph = run.phonons;
  let maxComm = -Infinity;
  for (const fr of ph.commensurate.frequencies) for (const x of fr) maxComm = Math.max(maxComm, x);
  let minBand: number | null = null;
  for (const fr of ph.band?.frequencies ?? []) for (const x of fr) if (minBand === null || x < minBand) minBand = x;
  return { ...base, nSupercell: run.displace.supercell.numbers.length, nDisplacements: run.displace.displacements.length, labels: run.classify.labels, minFreqTHz: minBand, nuMaxK: maxComm * PHONON_CONFIG.thzToKelvin };
}

/** sha256 of the compiled science code this result depends on (dist/ next to this file). */
function codeDigest(): string {
  const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.js')) h.update(p.slice(dist.length)).update(readFileSync(p));
    }
  };
  for (const d of ['core', 'pipeline', 'config']) walk(join(dist, d));
  return h.digest('hex').slice(0, 16);
}

async function runAll(archivesIn: string[], a: Args): Promise<{ results: MaterialResult[]; errors: { id: string; error: string }[] }> {
  let archives = archivesIn;
  const cacheDir = a.cache ? resolve(a.cache) : join(ROOT, '.campaigns', 'compare-dft', `${a.model}${a.trajectoryPrecision ? `-${a.trajectoryPrecision}-trajectory` : ''}-${codeDigest()}`);
  if (a.fresh) rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  const idOf = (archive: string): string => archiveId(archive.split('/').pop()!);
  const resultFile = (id: string): string => join(cacheDir, `${id}.json`);
  const lockFile = (id: string): string => join(cacheDir, `${id}.lock`);
  const claim = (id: string): boolean => {
    if (existsSync(resultFile(id))) return false;
    try {
      closeSync(openSync(lockFile(id), 'wx'));
      return true;
    } catch {
      return false; // another process has it
    }
  };
  if (a.available) archives = archives.filter((p) => existsSync(resultFile(idOf(p))));
  const todo = archives.filter((p) => !existsSync(resultFile(idOf(p))));
  process.stderr.write(`compare:dft: ${archives.length - todo.length} of ${archives.length} materials already done in ${cacheDir}\n`);
  let next = 0;
  let finished = archives.length - todo.length;
  const self = fileURLToPath(import.meta.url);
  const one = (w: Worker, archive: string): Promise<void> =>
    new Promise((res) => {
      w.once('message', (m: { ok: true; result: MaterialResult } | { ok: false; error: string }) => {
        const id = idOf(archive);
        writeFileSync(resultFile(id), JSON.stringify(m.ok ? { result: m.result } : { error: m.error }));
        rmSync(lockFile(id), { force: true });
        finished++;
        process.stderr.write(`[${finished}/${archives.length}] ${id} ${m.ok ? `${m.result.labels['phononbench']} (relax ${m.result.relax.status}, ${Object.values(m.result.stagesS).reduce((x, y) => x + y, 0).toFixed(1)} s)` : m.error}\n`);
        res();
      });
      w.postMessage({ archive, model: a.model, trajectoryPrecision: a.trajectoryPrecision });
    });
  const workers = Array.from({ length: Math.max(1, Math.min(a.jobs, todo.length)) }, () => new Worker(self, { workerData: { dftWorker: true } }));
  await Promise.all(
    workers.map(async (w) => {
      while (next < todo.length) {
        const archive = todo[next++]!;
        if (claim(idOf(archive))) await one(w, archive);
      }
      await w.terminate();
    }),
  );
  // materials claimed by another process: wait for their results (a lock without a live
  // process behind it must be removed by hand: the message says which)
  const results: MaterialResult[] = [];
  const errors: { id: string; error: string }[] = [];
  for (const p of archives) {
    const id = idOf(p);
    for (let waited = 0; !existsSync(resultFile(id)); waited++) {
      if (waited % 60 === 0) process.stderr.write(`waiting for ${id} (claimed by another process: ${lockFile(id)})\n`);
      await new Promise((r) => setTimeout(r, 5000));
    }
    const r = JSON.parse(readFileSync(resultFile(id), 'utf8')) as { result?: MaterialResult; error?: string };
    if (r.result) results.push(r.result);
    else errors.push({ id, error: r.error ?? 'unknown' });
  }
  return { results, errors };
}

async function main(): Promise<number> {
  const a = readArgs();
  if (!existsSync(REFERENCE_JSON)) throw new Error(`${REFERENCE_JSON} is missing: run \`npm run parity:phonondb\` first (it makes the DFT labels)`);
  const ref = JSON.parse(readFileSync(REFERENCE_JSON, 'utf8')) as Omit<ReferenceFile, 'materials'> & { materials: (ReferenceFile['materials'][number] & { nu_max_K: number })[] };
  const refById = new Map(ref.materials.map((m) => [m.id, m]));
  const archives = listArchives().filter((p) => !a.only || a.only.has(archiveId(p.split('/').pop()!)));
  if (archives.length === 0) throw new Error('no archives selected');
  const t0 = performance.now();
  const { results, errors } = await runAll(archives, a);
  const wallS = (performance.now() - t0) / 1000;
  results.sort((x, y) => (x.id < y.id ? -1 : 1));

  const presets: Record<string, { TS: number; FU: number; TU: number; FS: number; n: number; true_stable_pct: number | null; true_unstable_pct: number | null; accuracy_pct: number | null }> = {};
  for (const p of STABILITY_PRESETS) {
    const m = { TS: 0, FU: 0, TU: 0, FS: 0 };
    for (const r of results) {
      const dft = (refById.get(r.id)?.labels as Record<string, string> | undefined)?.[p];
      const ours = r.labels[p];
      if (!dft || (ours !== 'stable' && ours !== 'unstable')) continue;
      if (dft === 'stable') ours === 'stable' ? m.TS++ : m.FU++;
      else ours === 'unstable' ? m.TU++ : m.FS++;
    }
    const n = m.TS + m.FU + m.TU + m.FS;
    const pct = (x: number, d: number): number | null => (d > 0 ? (100 * x) / d : null);
    presets[p] = { ...m, n, true_stable_pct: pct(m.TS, m.TS + m.FU), true_unstable_pct: pct(m.TU, m.TU + m.FS), accuracy_pct: pct(m.TS + m.TU, n) };
  }
  const nuErr = results.flatMap((r) => {
    const d = refById.get(r.id);
    return r.nuMaxK !== null && d ? [{ id: r.id, model: r.nuMaxK, dft: d.nu_max_K, diff: r.nuMaxK - d.nu_max_K }] : [];
  });
  const absErr = nuErr.map((e) => Math.abs(e.diff));
  const out = {
    materials: results.length,
    materials_total: listArchives().length,
    // with --available: the materials whose run had not finished when the table was written
    materials_not_measured: listArchives()
      .map((p) => archiveId(p.split('/').pop()!))
      .filter((id) => !results.some((r) => r.id === id) && !errors.some((e) => e.id === id)),
    model: a.model,
    dft_labels_source: 'bench/results/phonondb-reference.json: phonopy on the DFT-PBEsol FORCE_SETS of ../shared/data/dft-phonondb, no NAC (softmode reproduces these labels with 0 mismatches: phonondb-parity.json)',
    protocol: {
      cell: 'DFT primitive cell (POSCAR-unitcell × PRIMITIVE_AXIS), relaxed with the model',
      relax: `phononbench ${protocolOf(a.trajectoryPrecision).version} (FIRE + Fréchet cell filter + FixSymmetry, fmax 0.005 eV/Å; trajectory ${protocolOf(a.trajectoryPrecision).trajectoryPrecision ?? 'float64'}, acceptance test float64); not converged → unstable`,
      supercell: "the archive's DIM (same lattice as the DFT supercell)",
      displacements: `softmode (amplitude ${PHONON_CONFIG.displacementAmplitude} Å, diagonal ${String(PHONON_CONFIG.diagonalDisplacements)}, plus/minus ${String(PHONON_CONFIG.plusMinus)})`,
      percentages: 'TS% = TS/(TS+FU) of the DFT-stable, TU% = TU/(TU+FS) of the DFT-unstable (Loew et al. Table III)',
    },
    presets,
    nu_max_error_K: {
      definition: "ν_max (Loew) = max over commensurate q of ν, in K; error = model − DFT",
      n: nuErr.length,
      mean_abs: absErr.length ? absErr.reduce((x, y) => x + y, 0) / absErr.length : null,
      median_abs: median(absErr),
      max_abs: absErr.length ? Math.max(...absErr) : null,
      mean_signed: nuErr.length ? nuErr.reduce((x, e) => x + e.diff, 0) / nuErr.length : null,
    },
    relaxation: {
      converged: results.filter((r) => r.relax.status === 'converged').length,
      not_converged: results.filter((r) => r.relax.status !== 'converged').map((r) => ({ id: r.id, status: r.relax.status, reason: r.relax.reason })),
      spacegroup_changed: results.filter((r) => r.relax.spacegroupBefore !== r.relax.spacegroupAfter).map((r) => ({ id: r.id, before: r.relax.spacegroupBefore, after: r.relax.spacegroupAfter })),
      volume_ratio_median: median(results.flatMap((r) => (r.relax.volumeRatio === null ? [] : [r.relax.volumeRatio]))),
    },
    errors,
    // --available reads stored results: their compute time is in per_material[].stages_s
    wall_s: a.available ? null : wallS,
    jobs: a.jobs,
    measured_at: new Date().toISOString(),
    command: `npm run compare:dft -- ${a.argv.join(' ')}`.trim(),
    per_material: results.map((r) => ({
      id: r.id,
      formula: r.formula,
      n_primitive: r.nPrimitive,
      n_supercell: r.nSupercell,
      n_displacements: r.nDisplacements,
      relax: r.relax,
      labels_model: r.labels,
      labels_dft: refById.get(r.id)?.labels ?? null,
      min_band_freq_THz: r.minFreqTHz,
      nu_max_K: [r.nuMaxK, refById.get(r.id)?.nu_max_K ?? null],
      stages_s: r.stagesS,
    })),
  };
  const outPath = a.only ? join(tmpdir(), 'dft-confusion-partial.json') : OUT_JSON;
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, JSON.stringify(mergeModelTable(outPath, a.model, out), null, 1) + '\n');
  const line = STABILITY_PRESETS.map((p) => `${p} TS ${presets[p]!.TS} FU ${presets[p]!.FU} TU ${presets[p]!.TU} FS ${presets[p]!.FS}`).join('; ');
  console.log(`compare:dft: ${results.length} materials, ${errors.length} errors; ${line}; |Δν_max| median ${out.nu_max_error_K.median_abs?.toFixed(1)} K → ${outPath}`);
  return errors.length === 0 ? 0 : 1;
}

if (!isMainThread && (workerData as { dftWorker?: boolean } | null)?.dftWorker) {
  parentPort!.on('message', (m: { archive: string; model: string; trajectoryPrecision: 'float32' | 'float64' | null }) => {
    modelMaterial(m.archive, m.model, m.trajectoryPrecision).then(
      (result) => parentPort!.postMessage({ ok: true, result }),
      (e: unknown) => parentPort!.postMessage({ ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
    );
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

/**
 * One file holds every model's table (issue 15): `models[model]` is replaced, the other models'
 * tables are kept; a file in the one-model layout of issue 7 becomes the entry of its model.
 */
export function mergeModelTable(path: string, model: string, table: Record<string, unknown> & { nu_max_error_K: { mean_abs: number | null } }): Record<string, unknown> {
  let models: Record<string, unknown> = {};
  if (existsSync(path)) {
    const old = JSON.parse(readFileSync(path, 'utf8')) as { models?: Record<string, unknown>; model?: string; nu_max_error_K?: { mean_abs: number | null } };
    if (old.models) models = old.models;
    else if (typeof old.model === 'string') models = { [old.model]: { ...old, omega_max_mae_K: old.nu_max_error_K?.mean_abs ?? null } };
  }
  models[model] = { ...table, omega_max_mae_K: table.nu_max_error_K.mean_abs };
  return {
    description:
      "Model labels vs DFT labels on the phonondb materials (Loew et al. Table III): per model, per preset TS/FU/TU/FS, ω_max MAE in K (Loew's ν_max over commensurate q), materials measured; `npm run compare:dft -- --model M` replaces that model's entry",
    models: Object.fromEntries(Object.entries(models).sort(([x], [y]) => x.localeCompare(y))),
  };
}
