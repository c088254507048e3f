// Supercell policy measurement (issue 13 item 2): how large must a supercell be before the
// CHGNet-0.3.0 labels stop depending on it?
//
//   npm run bench:supercell-policy [-- --budget-min 40] [-- --threads 1] [-- --only mp-149,NaCl]
//        [-- --candidates 10,12,15,18] [-- --reference 25] [-- --max-atoms 600] [-- --reference-max-atoms 1200]
//        [-- --no-examples] [-- --examples-only] [-- --max-triplets 50000] [-- --fresh] [-- --cache DIR]
//        [-- --largest-first] [-- --plan] [-- --candidate-max-triplets 120000]
//   (--budget-min 0: compute nothing, publish what is stored; --plan: compute nothing, list what is
//   left to compute with estimated times, publish nothing)
//
// Materials: the golden phonopy cells (../shared/data/golden/phonopy/*) and the 171 phonondb
// archives (../shared/data/dft-phonondb), each as its primitive cell (unit cell × PRIMITIVE_AXIS /
// primitive_matrix), smallest first. Geometry as given (DFT-relaxed): NO relaxation with the model,
// so the only variable is the supercell. Per material, the same one-process pipeline as
// `softmode phonons --model` and compare:dft (pipeline/run-one.ts: softmode's displacements,
// CHGNet-0.3.0 float64 forces, force constants, commensurate q + HPKOT band path + mesh, every
// stability preset) under: PhononBench's 2×2×2 of the input cell, the min-image rule at each
// candidate distance, and a reference (min-image at --reference Å, larger atom cap).
// Output bench/results/supercell-policy.json: per candidate, label agreement with the reference per
// preset, |Δ min ν| (the preset's minimum over non-exempt modes), cost (atoms, displacements,
// seconds); the search time of the min-image rule over all 178 cells; per material rows.
//
// Examples (item 4): the 16 textbook crystals of examples/structures.ts, relaxed with the
// PhononBench protocol (as the demo does), then phonons under SUPERCELL_POLICY['full-bz'], under
// the plain fewest-atoms min-image rule at 15 Å and under PhononBench's 2×2×2: expected
// (textbook) vs got.
//
// Resumable: one JSON per (material, supercell matrix) under bench/results/supercell-policy/
// (--cache DIR to change; --fresh to clear), seeded from the published supercell-policy.json when
// empty (same model identity; the examples' rows too), so an interrupted or budget-limited run
// continues where it stopped, on this checkout or a fresh one; the budget (--budget-min, wall minutes) is checked before each unit of work.
// Single process; onnxruntime threads from --threads (default 1: the machine is shared).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PHONON_CONFIG, STABILITY_RULES, SUPERCELL_POLICY } from '../config/phonon.js';
import { RELAX_PROTOCOLS } from '../config/relax.js';
import { det3 } from '../core/math/linalg.js';
import { parsePhonopyConf, readPhonopyYaml } from '../core/phonon/phonopy-io.js';
import { STABILITY_PRESETS } from '../core/stability/index.js';
import { readPoscar } from '../core/structure/io/index.js';
import { reducedFormula } from '../core/structure/hash.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';
import { bondTripletsPerCell, chooseSupercell, type SupercellChoice, type SupercellRule } from '../core/structure/supercell.js';
import { neighbourList } from '../core/neighbours/index.js';
import { exampleExpectations, exampleStructures } from '../examples/structures.js';
import { buildSettings, displaceStep, disposePotentials, potentialFor, relaxStep, resolvedPotential, runOne, toJson, fromJson, trajectoryPotentialFor, type StructureJson } from '../pipeline/index.js';
import { repoRoot } from '../core/paths.js';
import type { Potential } from '../core/potential/types.js';
import { primitiveByMatrix } from './compare-dft.js';
import { archiveId, extractArchive, listArchives } from './phonondb-parity.js';
import { median } from './stats.js';

const ROOT = repoRoot();
const OUT_JSON = join(ROOT, 'bench', 'results', 'supercell-policy.json');
const GOLDEN = resolve(ROOT, '..', 'shared', 'data', 'golden', 'phonopy');
const CACHE_VERSION = 'v1';
const BOHR = 0.52917721067;

interface Args {
  budgetMin: number;
  threads: number;
  only: Set<string> | null;
  candidates: number[];
  reference: number;
  maxAtoms: number;
  referenceMaxAtoms: number;
  examples: boolean;
  materials: boolean;
  fresh: boolean;
  cache: string | null;
  /** materials largest first: a second process beside a smallest-first one shares the cache, each skipping what the other stored */
  largestFirst: boolean;
  /** compute nothing: list the units still to compute with their estimated times, then exit */
  plan: boolean;
  model: string;
  maxTriplets: number;
  /**
   * memory limit of the candidate supercells only (default --max-triplets); the reference's atom
   * cap stays tied to --max-triplets, so the reference is the same supercell as in the published
   * results while a single process with the memory to spare computes the larger candidates
   */
  candidateMaxTriplets: number | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    budgetMin: 40,
    threads: 1,
    only: null,
    candidates: [10, 12, 15, 18],
    reference: 25,
    maxAtoms: 600,
    referenceMaxAtoms: 1200,
    examples: true,
    materials: true,
    fresh: false,
    cache: null,
    largestFirst: false,
    plan: false,
    model: 'chgnet-0.3.0',
    maxTriplets: 50_000,
    candidateMaxTriplets: null,
  };
  const num = (v: string | undefined, what: string): number => {
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`${what} needs a positive number`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (k === '--budget-min') {
      a.budgetMin = Number(argv[++i]);
      if (!(a.budgetMin >= 0)) throw new Error('--budget-min needs a number ≥ 0 (0: only read stored results)');
    }
    else if (k === '--threads') a.threads = Math.round(num(argv[++i], k));
    else if (k === '--only') a.only = new Set(argv[++i]!.split(','));
    else if (k === '--candidates') a.candidates = argv[++i]!.split(',').map((x) => num(x, k));
    else if (k === '--reference') a.reference = num(argv[++i], k);
    else if (k === '--max-atoms') a.maxAtoms = Math.round(num(argv[++i], k));
    else if (k === '--reference-max-atoms') a.referenceMaxAtoms = Math.round(num(argv[++i], k));
    else if (k === '--no-examples') a.examples = false;
    else if (k === '--examples-only') a.materials = false;
    else if (k === '--fresh') a.fresh = true;
    else if (k === '--largest-first') a.largestFirst = true;
    else if (k === '--plan') {
      a.plan = true;
      a.examples = false;
    }
    else if (k === '--cache') a.cache = argv[++i]!;
    else if (k === '--model') a.model = argv[++i]!;
    else if (k === '--max-triplets') a.maxTriplets = Math.round(num(argv[++i], k));
    else if (k === '--candidate-max-triplets') a.candidateMaxTriplets = Math.round(num(argv[++i], k));
    else throw new Error(`unknown argument ${k}`);
  }
  return a;
}

// ---- cells ----------------------------------------------------------------------------------

interface Cell {
  id: string;
  source: string;
  formula: string;
  structure: StructureJson;
}

const IDENTITY = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];

function isIdentity(P: readonly (readonly number[])[]): boolean {
  return P.every((r, i) => r.every((x, j) => Math.abs(x - (i === j ? 1 : 0)) < 1e-12));
}

/** The golden phonopy cells, as primitive cells (primitive_matrix of their yaml). */
function goldenCells(): Cell[] {
  const files: [string, string][] = [
    ['NaCl', 'NaCl/phonopy_disp.yaml'],
    ['Si', 'Si/phonopy_params.yaml'],
    ['MgB2', 'MgB2/phonopy_disp.yaml'],
    ['CaTiO3', 'CaTiO3/phonopy_disp.yaml'],
    ['SnO2', 'SnO2/phonopy_disp.yaml'],
    ['TiO2', 'TiO2/phonopy_disp.yaml'],
    ['Al', 'Al-ABACUS/phonopy.yaml'],
  ];
  const out: Cell[] = [];
  for (const [id, f] of files) {
    const path = join(GOLDEN, f);
    if (!existsSync(path)) continue;
    const d = readPhonopyYaml(path);
    let unit = d.unitcell!;
    if (d.lengthUnit === 'au') unit = makeStructure({ lattice: unit.lattice.map((r) => r.map((x) => x * BOHR)), frac: unit.frac, numbers: unit.numbers, name: id });
    const P = d.primitiveMatrix ?? IDENTITY;
    const prim = isIdentity(P) ? unit : primitiveByMatrix(unit, P);
    out.push({ id: `golden-${id}`, source: `../shared/data/golden/phonopy/${f}${isIdentity(P) ? '' : ' × primitive_matrix'}${d.lengthUnit === 'au' ? ' (bohr → Å)' : ''}`, formula: reducedFormula(prim.numbers), structure: toJson(prim) });
  }
  return out;
}

/** The phonondb primitive cells (POSCAR-unitcell × PRIMITIVE_AXIS), cached: extracting 171 archives takes a while. */
function phonondbCells(cacheDir: string): Cell[] {
  const file = join(cacheDir, 'phonondb-cells.json');
  const archives = listArchives();
  if (existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as Cell[];
    if (cached.length === archives.length) return cached;
  }
  const out: Cell[] = [];
  for (const archive of archives) {
    const files = extractArchive(archive);
    const unit = readPoscar(files['POSCAR-unitcell']!, 'POSCAR-unitcell')[0]!;
    const conf = parsePhonopyConf(files['phonopy.conf']!);
    const prim = primitiveByMatrix(unit, conf.primitiveMatrix ?? IDENTITY);
    const name = archive.split('/').pop()!;
    out.push({ id: archiveId(name), source: `../shared/data/dft-phonondb/${name} (POSCAR-unitcell × PRIMITIVE_AXIS)`, formula: reducedFormula(prim.numbers), structure: toJson(prim) });
  }
  writeFileSync(file, JSON.stringify(out));
  return out;
}

// ---- one unit of work: a cell, a supercell matrix → labels ---------------------------------

interface PresetOutcome {
  label: string;
  /** minimum over the modes the preset does not exempt (THz) */
  minNonExemptTHz: number | null;
  /** raw minimum (Γ acoustic included), THz */
  minTHz: number | null;
  where: string | null;
}

interface UnitResult {
  matrix: number[][];
  natoms: number;
  minImageDistance: number;
  displacements: number;
  presets: Record<string, PresetOutcome>;
  seconds: { forces: number; phonons: number; total: number };
}

function matrixKey(m: readonly (readonly number[])[]): string {
  return m.flat().join('_');
}

async function runUnit(cell: StructureJson, matrix: readonly (readonly number[])[], potential: Potential): Promise<UnitResult> {
  // the one-process pipeline (validate and relax off: the geometry is the given one)
  const settings = buildSettings({ potential: resolvedPotential(potential), preset: 'full-bz', relaxProtocol: RELAX_PROTOCOLS['phononbench']!, supercell: { kind: 'explicit', matrix } });
  const t0 = performance.now();
  const run = await runOne(cell, settings, potential, { validate: false, relax: false });
  const total = (performance.now() - t0) / 1000;
  const c = run.classify!;
  const presets: Record<string, PresetOutcome> = {};
  for (const p of STABILITY_PRESETS) {
    const r = c.results[p] as { label: string; min: { frequency: number; set: string }; minNonExempt: { frequency: number } | null } | undefined;
    presets[p] = r
      ? { label: r.label, minNonExemptTHz: r.minNonExempt?.frequency ?? null, minTHz: r.min.frequency, where: r.min.set }
      : { label: 'unclassified', minNonExemptTHz: null, minTHz: null, where: c.unclassified[p] ?? null };
  }
  const sc = run.displace!.supercell;
  return {
    matrix: matrix.map((r) => [...r]),
    natoms: sc.numbers.length,
    minImageDistance: 0, // filled by the caller (from the rule's choice)
    displacements: run.displace!.displacements.length,
    presets,
    seconds: { forces: run.stagesS['forces'] ?? 0, phonons: (run.stagesS['phonons'] ?? 0) + (run.stagesS['classify'] ?? 0), total },
  };
}

/** The published supercell-policy.json when it was made with this model identity (name, checkpoint, precision), else null. */
function publishedSameModel(model: string, potential: Potential): Record<string, unknown> | null {
  if (!existsSync(OUT_JSON)) return null;
  const pub = JSON.parse(readFileSync(OUT_JSON, 'utf8')) as { model?: { name?: string; checkpointSha256?: string; precision?: string } };
  const ref = resolvedPotential(potential).ref as { checkpointSha256?: string; precision?: string };
  return pub.model?.name === model && pub.model.checkpointSha256 === ref.checkpointSha256 && pub.model.precision === ref.precision ? pub : null;
}

/** The published example rows (relaxation and supercell outcomes) of the same model identity, by name. */
function publishedExamples(model: string, potential: Potential): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const pub = publishedSameModel(model, potential) as { examples?: Record<string, unknown>[] } | null;
  for (const row of pub?.examples ?? []) if (typeof row['name'] === 'string' && row['relax'] && row['got']) out.set(row['name'], row);
  return out;
}

/**
 * The (material, supercell) results already published in supercell-policy.json for the same model
 * identity, keyed `${id} ${matrixKey}`. Labels and min ν per preset come back as published (min ν
 * rounded to 1e-5 THz); the raw minimum and its q-point set are not published (null).
 */
function publishedUnits(model: string, potential: Potential): Map<string, UnitResult> {
  const out = new Map<string, UnitResult>();
  const pub = publishedSameModel(model, potential) as {
    per_material?: { id: string; rules: Record<string, { matrix: number[][]; natoms: number; min_image_A: number; displacements?: number; seconds?: number; seconds_forces?: number; seconds_phonons?: number; labels?: Record<string, string>; min_nu_THz?: Record<string, number | null> }> }[];
  } | null;
  for (const m of pub?.per_material ?? []) {
    for (const r of Object.values(m.rules)) {
      if (!r.labels || !r.min_nu_THz || r.displacements === undefined || r.seconds === undefined) continue;
      const presets: Record<string, PresetOutcome> = {};
      for (const [p, label] of Object.entries(r.labels)) presets[p] = { label, minNonExemptTHz: r.min_nu_THz[p] ?? null, minTHz: null, where: null };
      out.set(`${m.id} ${matrixKey(r.matrix)}`, {
        matrix: r.matrix,
        natoms: r.natoms,
        minImageDistance: r.min_image_A,
        displacements: r.displacements,
        presets,
        seconds: { forces: r.seconds_forces ?? NaN, phonons: r.seconds_phonons ?? NaN, total: r.seconds },
      });
    }
  }
  return out;
}

/** One (cell, supercell) unit through runUnit, its error kept as the result; stored in `file`. */
async function computeUnit(cell: StructureJson, choice: { matrix: readonly (readonly number[])[]; minImageDistance: number }, potential: Potential, file: string): Promise<UnitResult | { error: string }> {
  let r: UnitResult | { error: string };
  try {
    r = await runUnit(cell, choice.matrix, potential);
    r.minImageDistance = choice.minImageDistance;
  } catch (e) {
    r = { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
  writeFileSync(file, JSON.stringify(r));
  return r;
}

// ---- time estimate ---------------------------------------------------------------------------
// A unit's time follows (supercell atoms + 0.05 × bond-graph triplets) × displacements (the
// weight that makes the rate most uniform over the published units: log-sd 0.45, against 0.75
// for atoms alone); the p75 of the published units' rates is the estimate, so few units overrun.

const TRIPLET_WEIGHT = 0.05;

function publishedSecondsPerCost(): number {
  const rates: number[] = [];
  if (existsSync(OUT_JSON)) {
    const pub = JSON.parse(readFileSync(OUT_JSON, 'utf8')) as { per_material?: { rules: Record<string, { natoms?: number; triplets_estimate?: number; displacements?: number; seconds?: number }> }[] };
    for (const m of pub.per_material ?? [])
      for (const r of Object.values(m.rules))
        if (r.natoms && r.triplets_estimate && r.displacements && r.seconds && r.seconds > 5) rates.push(r.seconds / ((r.natoms + TRIPLET_WEIGHT * r.triplets_estimate) * r.displacements));
  }
  if (rates.length < 20) return 0.003;
  rates.sort((x, y) => x - y);
  return rates[Math.floor(0.75 * rates.length)]!;
}

function unitSecondsEstimate(cell: StructureJson, matrix: readonly (readonly number[])[], triplets: number, rate: number, potential: Potential): number {
  // the displacements exactly as runUnit's pipeline makes them
  const settings = buildSettings({ potential: resolvedPotential(potential), preset: 'full-bz', relaxProtocol: RELAX_PROTOCOLS['phononbench']!, supercell: { kind: 'explicit', matrix } });
  const d = displaceStep(cell, settings.displace);
  return rate * (d.supercell.numbers.length + TRIPLET_WEIGHT * triplets) * d.displacements.length;
}

// ---- memory guard -----------------------------------------------------------------------------
// The model's memory follows the bond-graph triplets of one supercell (float64, arena on: Al 708
// atoms, 93k triplets → 4.9 GB; Li3N 400 atoms, 50k → 6 GB over 8 displaced cells; SnO2 1008
// atoms, 99k → > 9 GB). The reference's atom cap is lowered per material so that it stays under
// --max-triplets (its image distance is then below the reference distance: recorded); a
// candidate over the limit is skipped rather than risk the OOM killer on a shared machine.

/** triplets per cell within the model's bond-graph cutoff (core's geometric count) */
const tripletsPerCell = bondTripletsPerCell;

function bondCutoffOf(model: string): number {
  try {
    const m = JSON.parse(readFileSync(join(ROOT, 'models', model, 'manifest.json'), 'utf8')) as { cutoffs_A?: { bond_graph?: number } };
    return m.cutoffs_A?.bond_graph ?? 3;
  } catch {
    return 3;
  }
}

// ---- driver ---------------------------------------------------------------------------------

interface RuleSpec {
  name: string;
  rule: SupercellRule;
}

function ruleSpecs(a: Args): RuleSpec[] {
  return [
    { name: 'phononbench-2x2x2', rule: { kind: 'phononbench' } },
    ...a.candidates.map((L) => ({ name: `min-image-${L}`, rule: { kind: 'min-image', minImageDistance: L, maxAtoms: a.maxAtoms } as SupercellRule })),
    // the default preset's policy exactly as campaigns apply it (symmetric factor, triplet budget)
    { name: 'policy-full-bz', rule: { ...SUPERCELL_POLICY['full-bz'] } },
    // last: the reference (its atom cap is lowered per material to stay under --max-triplets)
    { name: `reference-${a.reference}`, rule: { kind: 'min-image', minImageDistance: a.reference, maxAtoms: a.referenceMaxAtoms } },
  ];
}

interface MaterialRow {
  id: string;
  source: string;
  formula: string;
  nPrimitive: number;
  choices: Record<string, { matrix: number[][]; natoms: number; minImageDistance: number; searchMs: number; triplets: number; maxAtoms: number | null; note?: string }>;
  results: Record<string, UnitResult | { error: string }>;
  skipped?: string;
}

function timeChoice(s: Structure, rule: SupercellRule): { choice: SupercellChoice; ms: number } {
  const t0 = performance.now();
  const choice = chooseSupercell(s, rule);
  return { choice, ms: performance.now() - t0 };
}

async function main(): Promise<number> {
  const a = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const deadline = t0 + a.budgetMin * 60_000;
  const cacheDir = a.cache ? resolve(a.cache) : join(ROOT, 'bench', 'results', 'supercell-policy', `${a.model}-${CACHE_VERSION}`);
  if (a.fresh) rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  const log = (line: string): void => void process.stderr.write(`[${((performance.now() - t0) / 60_000).toFixed(1)} min] ${line}\n`);

  const potential = await potentialFor({ model: a.model, threads: a.threads });
  const specs = ruleSpecs(a);

  // cells, smallest primitive first (ties: id)
  let cells = [...goldenCells(), ...phonondbCells(cacheDir)];
  if (a.only) cells = cells.filter((c) => a.only!.has(c.id) || a.only!.has(c.id.replace(/^golden-/, '')));
  cells.sort((p, q) => p.structure.numbers.length - q.structure.numbers.length || (p.id < q.id ? -1 : p.id > q.id ? 1 : 0));

  // the min-image search on every cell (no forces: cheap), for the timing evidence
  const searchMs: Record<string, number[]> = {};
  const bondCutoff = bondCutoffOf(a.model);
  const rows: MaterialRow[] = cells.map((c) => {
    const s = fromJson(c.structure);
    const perCell = tripletsPerCell(s, bondCutoff);
    const choices: MaterialRow['choices'] = {};
    for (const sp of specs) {
      // the reference is as large as memory allows: its atom cap also keeps it under --max-triplets
      let rule = sp.rule;
      if (sp === specs[specs.length - 1] && rule.kind === 'min-image' && perCell > 0)
        rule = { ...rule, maxAtoms: Math.min(rule.maxAtoms, Math.max(s.numbers.length, s.numbers.length * Math.floor(a.maxTriplets / perCell))) };
      const { choice, ms } = timeChoice(s, rule);
      (searchMs[sp.name] ??= []).push(ms);
      const triplets = perCell * Math.round(choice.natoms / s.numbers.length);
      choices[sp.name] = { matrix: choice.matrix.map((r) => [...r]), natoms: choice.natoms, minImageDistance: choice.minImageDistance, searchMs: ms, triplets, maxAtoms: rule.kind === 'min-image' ? rule.maxAtoms : null, ...(choice.note ? { note: choice.note } : {}) };
    }
    return { id: c.id, source: c.source, formula: c.formula, nPrimitive: s.numbers.length, choices, results: {} };
  });
  log(`${rows.length} cells; min-image search timed on all of them`);

  // ---- examples first (a few minutes): relax (PhononBench protocol) then phonons under the full-bz
  // policy and 2×2×2; the materials then take the rest of the budget
  let stoppedByBudget = false;
  const examples: unknown[] = [];
  if (a.examples) {
    const expect = exampleExpectations();
    const protocol = RELAX_PROTOCOLS['phononbench']!;
    const spec = { model: a.model, threads: a.threads };
    const trajectory = await trajectoryPotentialFor(spec, potential, protocol);
    const exRules: RuleSpec[] = [
      { name: 'policy-full-bz', rule: SUPERCELL_POLICY['full-bz'] },
      { name: 'min-image-15-fewest-atoms', rule: { kind: 'min-image', minImageDistance: 15, maxAtoms: 500 } },
      { name: 'phononbench-2x2x2', rule: { kind: 'phononbench' } },
    ];
    // like the materials: a fresh checkout (empty cache) starts from the published rows
    const publishedRows = a.fresh ? new Map<string, Record<string, unknown>>() : publishedExamples(a.model, potential);
    for (const s of exampleStructures()) {
      const name = s.name!;
      const dir = join(cacheDir, 'examples', name);
      mkdirSync(dir, { recursive: true });
      const relaxedFile = join(dir, 'relaxed.json');
      const published = publishedRows.get(name);
      if (!existsSync(relaxedFile) && published) {
        examples.push(published);
        continue;
      }
      let relaxed: { structure: StructureJson; status: string; usable: boolean; steps: number; spacegroupBefore: number | null; spacegroupAfter: number | null; seconds: number } | null = null;
      if (existsSync(relaxedFile)) relaxed = JSON.parse(readFileSync(relaxedFile, 'utf8'));
      else if (performance.now() < deadline) {
        const tr = performance.now();
        const r = await relaxStep(toJson(s), potential, trajectory, protocol, null, Number.MAX_SAFE_INTEGER, () => undefined);
        relaxed = { structure: r.structure, status: r.status, usable: r.usable, steps: r.steps, spacegroupBefore: r.spacegroupBefore, spacegroupAfter: r.spacegroupAfter, seconds: (performance.now() - tr) / 1000 };
        writeFileSync(relaxedFile, JSON.stringify(relaxed));
      } else stoppedByBudget = true;
      const row: Record<string, unknown> = { name, expected: expect[name] ?? null };
      if (relaxed) {
        const rs = fromJson(relaxed.structure);
        row['relax'] = { status: relaxed.status, steps: relaxed.steps, spacegroup: [relaxed.spacegroupBefore, relaxed.spacegroupAfter], volumeRatio: Math.abs(det3(rs.lattice) / det3(s.lattice)), seconds: relaxed.seconds };
        const got: Record<string, unknown> = {};
        for (const sp of exRules) {
          const ch = chooseSupercell(rs, sp.rule);
          const file = join(dir, `${matrixKey(ch.matrix)}.json`);
          let r: UnitResult | { error: string } | null = null;
          const triplets = tripletsPerCell(rs, bondCutoff) * Math.round(ch.natoms / rs.numbers.length);
          if (existsSync(file)) r = JSON.parse(readFileSync(file, 'utf8'));
          else if (!relaxed.usable) r = { error: 'relaxation not converged (PhononBench: unstable)' };
          else if (triplets > a.maxTriplets) r = { error: `skipped: ~${triplets} bond-graph triplets > --max-triplets ${a.maxTriplets} (memory)` };
          else if (performance.now() < deadline) {
            r = await computeUnit(relaxed.structure, ch, potential, file);
            log(`example ${name} ${sp.name}: ${'error' in r ? r.error : `${r.natoms} atoms, full-bz ${r.presets['full-bz']?.label} ${r.presets['full-bz']?.minNonExemptTHz?.toFixed(3)} THz`}`);
          } else stoppedByBudget = true;
          got[sp.name] = r === null ? null : 'error' in r ? r : { natoms: r.natoms, minImageDistance: ch.minImageDistance, matrix: ch.matrix, displacements: r.displacements, seconds: r.seconds.total, presets: r.presets };
        }
        row['got'] = got;
      }
      examples.push(row);
    }
  }
  // the published results seed an empty cache (it is not committed), so a fresh checkout goes on
  // where the last run stopped instead of recomputing hours of forces
  const seed = a.fresh ? new Map<string, UnitResult>() : publishedUnits(a.model, potential);
  if (seed.size) log(`${seed.size} published (material, supercell) results read from ${OUT_JSON.slice(ROOT.length + 1)}`);

  const secondsPerCost = publishedSecondsPerCost();
  const plan: { unit: string; atoms: number; triplets: number; seconds: number }[] = [];
  const overTriplets: string[] = [];
  const planned = new Set<string>();
  {
    // with --examples-only, stored results are read but nothing new is computed
    const materialsDeadline = a.materials ? deadline : 0;
    for (const row of a.largestFirst ? [...rows].reverse() : rows) {
      const cell = cells.find((c) => c.id === row.id)!;
      const refChoice = row.choices[specs[specs.length - 1]!.name]!;
      if (refChoice.triplets > a.maxTriplets) {
        row.skipped = `reference supercell has ~${refChoice.triplets} bond-graph triplets > --max-triplets ${a.maxTriplets} (memory)`;
        continue;
      }
      const dir = join(cacheDir, row.id);
      if (a.materials) mkdirSync(dir, { recursive: true });
      // distinct matrices, cheapest first (several rules often give the same supercell)
      const order = [...specs].sort((p, q) => row.choices[p.name]!.natoms - row.choices[q.name]!.natoms);
      for (const sp of order) {
        const ch = row.choices[sp.name]!;
        const file = join(dir, `${matrixKey(ch.matrix)}.json`);
        if (existsSync(file)) {
          row.results[sp.name] = JSON.parse(readFileSync(file, 'utf8')) as UnitResult;
          continue;
        }
        const published = seed.get(`${row.id} ${matrixKey(ch.matrix)}`);
        if (published) {
          writeFileSync(file, JSON.stringify(published));
          row.results[sp.name] = published;
          continue;
        }
        const limit = sp === specs[specs.length - 1] ? a.maxTriplets : (a.candidateMaxTriplets ?? a.maxTriplets);
        if (ch.triplets > limit) {
          row.results[sp.name] = { error: `skipped: ~${ch.triplets} bond-graph triplets > --max-triplets ${limit} (memory)` };
          if (a.plan && !planned.has(file)) overTriplets.push(`${row.id} ${sp.name}: ${ch.natoms} atoms, ~${ch.triplets} triplets`);
          planned.add(file);
          continue;
        }
        if (a.plan) {
          if (!planned.has(file)) plan.push({ unit: `${row.id} (${row.formula}, ${row.nPrimitive} at.) ${sp.name}`, atoms: ch.natoms, triplets: ch.triplets, seconds: unitSecondsEstimate(cell.structure, ch.matrix, ch.triplets, secondsPerCost, potential) });
          planned.add(file);
          continue;
        }
        if (performance.now() > materialsDeadline) {
          stoppedByBudget = true;
          continue;
        }
        // a unit that would not finish before the deadline is left for the next run (a unit
        // killed half way is lost work); smaller ones later in the order may still fit
        const estimateS = unitSecondsEstimate(cell.structure, ch.matrix, ch.triplets, secondsPerCost, potential);
        if (a.budgetMin > 0 && performance.now() + estimateS * 1000 > materialsDeadline) {
          stoppedByBudget = true;
          log(`${row.id} ${sp.name}: left for the next run (~${Math.round(estimateS)} s estimated, ${Math.round((materialsDeadline - performance.now()) / 1000)} s left)`);
          continue;
        }
        const r = await computeUnit(cell.structure, ch, potential, file);
        row.results[sp.name] = r;
        log(`${row.id} (${row.formula}, ${row.nPrimitive} at.) ${sp.name}: ${'error' in r ? r.error : `${r.natoms} atoms, ${r.displacements} disp, full-bz ${r.presets['full-bz']?.label} ${r.presets['full-bz']?.minNonExemptTHz?.toFixed(3)} THz, ${r.seconds.total.toFixed(1)} s`}`);
      }
    }
  }

  await disposePotentials();

  if (a.plan) {
    for (const u of plan) process.stdout.write(`${u.unit}: ${u.atoms} atoms, ~${u.triplets} triplets, ~${Math.round(u.seconds)} s\n`);
    for (const u of overTriplets) process.stdout.write(`over --max-triplets ${a.maxTriplets}: ${u}\n`);
    const total = plan.reduce((x, u) => x + u.seconds, 0);
    process.stdout.write(`${plan.length} units left, ~${(total / 3600).toFixed(1)} h on one core (p75 rate ${secondsPerCost.toExponential(2)} s per (atom + ${TRIPLET_WEIGHT} triplet) per displacement); ${overTriplets.length} more over --max-triplets ${a.maxTriplets}\n`);
    return 0;
  }

  // ---- summary ---------------------------------------------------------------------------
  const refName = specs[specs.length - 1]!.name;
  const isOk = (r: UnitResult | { error: string } | undefined): r is UnitResult => !!r && !('error' in r);
  const complete = rows.filter((r) => specs.every((sp) => isOk(r.results[sp.name])));
  const perCandidate: Record<string, unknown> = {};
  for (const sp of specs.slice(0, -1)) {
    const agree: Record<string, { agree: number; n: number; pct: number | null; disagreements: string[] }> = {};
    const dnu: Record<string, { median: number | null; p90: number | null; max: number | null; n: number }> = {};
    for (const p of STABILITY_PRESETS) {
      let ag = 0;
      let n = 0;
      const dis: string[] = [];
      const d: number[] = [];
      for (const r of complete) {
        const c = (r.results[sp.name] as UnitResult).presets[p]!;
        const ref = (r.results[refName] as UnitResult).presets[p]!;
        if (c.label === 'unclassified' || ref.label === 'unclassified') continue;
        n++;
        if (c.label === ref.label) ag++;
        else dis.push(`${r.id} ${r.formula}: ${c.label} vs ${ref.label}`);
        if (c.minNonExemptTHz !== null && ref.minNonExemptTHz !== null) d.push(Math.abs(c.minNonExemptTHz - ref.minNonExemptTHz));
      }
      agree[p] = { agree: ag, n, pct: n ? (100 * ag) / n : null, disagreements: dis };
      const sorted = [...d].sort((x, y) => x - y);
      dnu[p] = { median: median(d), p90: sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))]! : null, max: sorted.length ? sorted[sorted.length - 1]! : null, n: d.length };
    }
    const units = complete.map((r) => r.results[sp.name] as UnitResult);
    const refUnits = complete.map((r) => r.results[refName] as UnitResult);
    perCandidate[sp.name] = {
      rule: sp.rule,
      label_agreement_with_reference: agree,
      abs_delta_min_nu_THz: dnu,
      cost: {
        atoms_median: median(units.map((u) => u.natoms)),
        atoms_max: units.length ? Math.max(...units.map((u) => u.natoms)) : null,
        displacements_median: median(units.map((u) => u.displacements)),
        seconds_median: median(units.map((u) => u.seconds.total)),
        seconds_total: units.reduce((x, u) => x + u.seconds.total, 0),
        seconds_total_reference: refUnits.reduce((x, u) => x + u.seconds.total, 0),
        capped: complete.filter((r) => r.choices[sp.name]!.note).length,
      },
      min_image_distance_A: { median: median(complete.map((r) => r.choices[sp.name]!.minImageDistance)), min: complete.length ? Math.min(...complete.map((r) => r.choices[sp.name]!.minImageDistance)) : null },
    };
  }
  const searchSummary = Object.fromEntries(
    Object.entries(searchMs).map(([k, v]) => {
      const s = [...v].sort((x, y) => x - y);
      return [k, { cells: s.length, median_ms: median(s), p99_ms: s[Math.min(s.length - 1, Math.floor(0.99 * s.length))] ?? null, max_ms: s[s.length - 1] ?? null }];
    }),
  );
  const out = {
    description:
      'CHGNet-0.3.0 (float64) phonon labels vs supercell size. Each material is its primitive cell AS GIVEN (DFT-relaxed phonondb cells, phonopy example cells): NO relaxation with the model, so only the supercell changes. Candidates: PhononBench 2×2×2 of the input cell and the min-image rule (smallest supercell with shortest periodic image distance ≥ L) at each L; reference: min-image at the reference distance. Agreement: same label as the reference under each preset; Δν: |min ν(candidate) − min ν(reference)| over the modes the preset does not exempt (THz).',
    model: { name: a.model, ...resolvedPotential(potential).ref },
    relaxation: 'none (geometry as given) for the materials; the examples are relaxed with the phononbench protocol first',
    pipeline: `pipeline/run-one.ts runOne (validate and relax off): softmode displacements (amplitude ${PHONON_CONFIG.displacementAmplitude} Å, diagonal ${String(PHONON_CONFIG.diagonalDisplacements)}, plus/minus ${String(PHONON_CONFIG.plusMinus)}), model forces, drift removal, level-1 symmetrization, commensurate q + HPKOT band path + default mesh (density ${PHONON_CONFIG.meshLength}), presets ${STABILITY_PRESETS.join(', ')} (${Object.values(STABILITY_RULES).map((r) => r.version).join(', ')})`,
    candidates: specs.map((s) => ({ name: s.name, rule: s.rule })),
    reference: refName,
    materials_total: rows.length,
    materials_complete: complete.length,
    materials_complete_ids: complete.map((r) => r.id),
    stopped_by_budget: stoppedByBudget,
    skipped_for_memory: rows.filter((r) => r.skipped).map((r) => ({ id: r.id, formula: r.formula, n_primitive: r.nPrimitive, reason: r.skipped })),
    max_triplets: a.maxTriplets,
    ...(a.candidateMaxTriplets !== null ? { candidate_max_triplets: a.candidateMaxTriplets } : {}),
    budget_min: a.budgetMin,
    threads: a.threads,
    wall_s: (performance.now() - t0) / 1000,
    command: `npm run bench:supercell-policy -- ${process.argv.slice(2).join(' ')}`.trim(),
    cache: cacheDir.startsWith(ROOT) ? cacheDir.slice(ROOT.length + 1) : cacheDir,
    measured_at: new Date().toISOString(),
    summary: perCandidate,
    min_image_search_ms: searchSummary,
    supercell_policy: SUPERCELL_POLICY,
    examples,
    per_material: rows
      .filter((r) => Object.keys(r.results).length > 0)
      .map((r) => ({
        id: r.id,
        formula: r.formula,
        n_primitive: r.nPrimitive,
        source: r.source,
        complete: complete.includes(r),
        rules: Object.fromEntries(
          specs.map((sp) => {
            const ch = r.choices[sp.name]!;
            const res = r.results[sp.name];
            return [
              sp.name,
              {
                matrix: ch.matrix,
                natoms: ch.natoms,
                min_image_A: +ch.minImageDistance.toFixed(4),
                triplets_estimate: ch.triplets,
                ...(sp === specs[specs.length - 1] ? { max_atoms: ch.maxAtoms } : {}),
                ...(ch.note ? { note: ch.note } : {}),
                ...(res === undefined
                  ? { computed: false }
                  : 'error' in res
                    ? { error: res.error }
                    : {
                        displacements: res.displacements,
                        seconds: +res.seconds.total.toFixed(2),
                        ...(Number.isFinite(res.seconds.forces) ? { seconds_forces: +res.seconds.forces.toFixed(2), seconds_phonons: +res.seconds.phonons.toFixed(2) } : {}),
                        labels: Object.fromEntries(Object.entries(res.presets).map(([p, o]) => [p, o.label])),
                        min_nu_THz: Object.fromEntries(Object.entries(res.presets).map(([p, o]) => [p, o.minNonExemptTHz === null ? null : +o.minNonExemptTHz.toFixed(5)])),
                      }),
              },
            ];
          }),
        ),
      })),
  };
  mkdirSync(dirname(OUT_JSON), { recursive: true });
  const outPath = a.only ? join(cacheDir, 'supercell-policy-partial.json') : OUT_JSON;
  writeFileSync(outPath, JSON.stringify(out, null, 1) + '\n');
  const line = specs
    .slice(0, -1)
    .map((sp) => {
      const s = perCandidate[sp.name] as { label_agreement_with_reference: Record<string, { pct: number | null }> };
      return `${sp.name}: full-bz ${s.label_agreement_with_reference['full-bz']?.pct?.toFixed(0) ?? '-'}%`;
    })
    .join('; ');
  console.log(`supercell-policy: ${complete.length}/${rows.length} materials complete${stoppedByBudget ? ' (budget reached)' : ''}; agreement with ${refName}: ${line} → ${outPath}`);
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

