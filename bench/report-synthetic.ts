// A synthetic campaign written straight into the store, for the report's test and benchmark
// (test/report.test.ts, bench/report.ts): the rows a campaign leaves behind (structures, items,
// step results with step uses, results, failures, rejections) without running one. Labels come
// from the real classifier (pipeline classifyStep) on the stored spectra (written in bulk,
// store/bulk.ts); the first `real`
// structures are textbook crystals (examples/) whose phonons the pipeline computes with the
// Lennard-Jones test potential, the others have model dispersions with a soft mode of a drawn
// depth at a zone-boundary point.
import { hostname } from 'node:os';
import { canonicalJson } from '../config/index.js';
import { RELAX_PROTOCOLS } from '../config/relax.js';
import { mulberry32 } from '../core/math/random.js';
import { reducedFormula } from '../core/structure/hash.js';
import { exampleStructures } from '../examples/structures.js';
import {
  type CampaignSettings,
  type ClassifyOut,
  type PhononOut,
  type RelaxOut,
  type StructureJson,
  STEP_CACHE_VERSIONS,
  buildSettings,
  classifyStep,
  potentialFor,
  resolvedPotential,
  runOne,
  toJson,
} from '../pipeline/index.js';
import { type CampaignRow, type ResultRow, type Store, sha256Hex, stepKey } from '../store/index.js';
import { bulkAddItems, bulkPutResults, bulkPutStructures, bulkPutSteps, bulkSetItemStatus } from '../store/bulk.js';

export interface SyntheticOptions {
  name: string;
  /** items in all */
  n: number;
  /** of those, textbook crystals computed for real with the Lennard-Jones potential (≤ 16) */
  real?: number;
  seed?: number;
  /** the potential named in the campaign and its results (default lennard-jones) */
  model?: string;
  /** soft-mode depths are multiplied by this (a second campaign over the same structures, other labels) */
  depthScale?: number;
  /** items left running / pending at the end (a campaign in progress) */
  running?: number;
  pending?: number;
  /** fractions of failed and rejected items */
  failed?: number;
  rejected?: number;
  log?: (m: string) => void;
}

const GENERATORS = ['mattergen', 'diffcsp', 'cdvae', 'known'];
/** common space groups of generated crystals, most frequent first */
const SPACEGROUPS = [225, 221, 227, 194, 62, 14, 12, 139, 166, 2, 1, 63, 71, 123, 191, 216, 229, 15, 11, 164, 136, 59, 187, 141, 65];
const ELEMENTS = [3, 8, 9, 11, 12, 13, 14, 15, 16, 17, 19, 20, 22, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 37, 38, 39, 40, 41, 42, 47, 48, 49, 50, 51, 52, 53, 55, 56, 57, 72, 73, 74, 79, 82, 83];

/** High-symmetry points of the simple cubic path (HPKOT cP1: Γ-X-M-Γ-R-X|R-M). */
const POINTS: Record<string, number[]> = { GAMMA: [0, 0, 0], X: [0, 0.5, 0], M: [0.5, 0.5, 0], R: [0.5, 0.5, 0.5] };
const PATH: [string, string][] = [
  ['GAMMA', 'X'],
  ['X', 'M'],
  ['M', 'GAMMA'],
  ['GAMMA', 'R'],
  ['R', 'X'],
  ['R', 'M'],
];

/**
 * A model phonon spectrum of a cubic cell with `atoms` atoms: acoustic and optical branches and,
 * when `depth` < 0, the lowest branch softened to `depth` THz (imaginary, negative) at `softAt`.
 * Γ's acoustic modes carry round-off of ±`noise` THz.
 */
export function syntheticSpectrum(rng: () => number, atoms: number, depth: number, softAt: string, a: number): PhononOut {
  const nb = 3 * atoms;
  const acoustic = [2 + 3 * rng(), 2.5 + 3 * rng(), 4 + 4 * rng()].sort((x, y) => x - y);
  const optical = Array.from({ length: nb - 3 }, () => 4 + 10 * rng()).sort((x, y) => x - y);
  const qs = POINTS[softAt]!;
  const noise = 1e-6 * (0.5 + rng());
  const nu = (q: number[]): number[] => {
    const s = Math.sqrt(q.reduce((t, x) => t + Math.sin(Math.PI * x) ** 2, 0) / 3);
    const c = q.reduce((t, x) => t + Math.cos(2 * Math.PI * x), 0) / 3;
    const f: number[] = [];
    for (let b = 0; b < 3; b++) f.push(s === 0 ? (b === 0 ? -noise : noise) : acoustic[b]! * s);
    for (let b = 0; b < nb - 3; b++) f.push(optical[b]! - 0.6 * c);
    if (depth < 0) {
      // squared distance to the soft point, nearest periodic image
      const d2 = q.reduce((t, x, i) => {
        const dx = x - qs[i]!;
        return t + (dx - Math.round(dx)) ** 2;
      }, 0);
      const at = (acoustic[0]! * Math.sqrt(qs.reduce((t, x) => t + Math.sin(Math.PI * x) ** 2, 0) / 3)) ** 2;
      const x2 = Math.sign(f[0]!) * f[0]! ** 2 - (at + depth * depth) * Math.exp(-d2 / 0.02);
      f[0] = x2 >= 0 ? Math.sqrt(x2) : -Math.sqrt(-x2);
    }
    // stored as the pipeline would, rounded here only to keep 10^5 payloads small
    return f.sort((x, y) => x - y).map((x) => Math.round(x * 1e7) / 1e7);
  };
  const band = { qpoints: [] as number[][], frequencies: [] as number[][], segments: [] as { labels: [string, string]; n: number }[] };
  for (const [from, to] of PATH) {
    const p0 = POINTS[from]!;
    const p1 = POINTS[to]!;
    const len = Math.hypot(p1[0]! - p0[0]!, p1[1]! - p0[1]!, p1[2]! - p0[2]!);
    const n = Math.max(6, Math.round(24 * len));
    for (let i = 0; i < n; i++) {
      const q = p0.map((x, k) => x + ((p1[k]! - x) * i) / (n - 1));
      band.qpoints.push(q);
      band.frequencies.push(nu(q));
    }
    band.segments.push({ labels: [from, to], n });
  }
  const grid = (m: number) => {
    const out: number[][] = [];
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) for (let k = 0; k < m; k++) out.push([i, j, k].map((x) => (x / m > 0.5 ? x / m - 1 : x / m)));
    return out;
  };
  const mesh = grid(4);
  const comm = grid(2);
  const lattice = [
    [a, 0, 0],
    [0, a, 0],
    [0, 0, a],
  ];
  return {
    configVersion: 'synthetic',
    supercellMatrix: [
      [2, 0, 0],
      [0, 2, 0],
      [0, 0, 2],
    ],
    primitive: { lattice, frac: Array.from({ length: atoms }, (_, i) => [i / atoms, i / atoms, i / atoms]), numbers: new Array(atoms).fill(14) },
    commensurate: { qpoints: comm, frequencies: comm.map(nu) },
    band,
    mesh: { mesh: [4, 4, 4], weights: mesh.map(() => 1), qpoints: mesh, frequencies: mesh.map(nu) },
    thermo: null,
    timingsMs: {},
  };
}

function relaxPayload(s: StructureJson, rng: () => number, sg: number, usable: boolean): RelaxOut {
  const e = -3 - 4 * rng();
  return {
    structure: s,
    status: usable ? 'converged' : 'not_converged',
    reason: usable ? null : 'max steps reached (synthetic)',
    usable,
    steps: Math.round(10 + 200 * rng()),
    stepsPerRound: [],
    energyInitial: e * s.numbers.length + 0.1,
    energy: e * s.numbers.length,
    maxForce: usable ? 0.005 * rng() : 0.3,
    maxAtomForce: null,
    stress: null,
    spacegroupBefore: sg,
    spacegroupAfter: sg,
    protocol: { name: 'phononbench', version: 'synthetic', sha256: '' },
    trajectoryPrecision: 'float64',
    modelMs: 0,
    resumed: false,
  };
}

interface Planned {
  structure: StructureJson;
  sourcePath: string;
  sourceName: string;
  sg: number;
  kind: 'done' | 'relax_failed' | 'failed' | 'rejected' | 'running' | 'pending';
  phonons?: PhononOut;
  relax?: RelaxOut;
}

/** Write the campaign; returns its row. Deterministic for a seed (apart from ids and times). */
export async function createSyntheticCampaign(store: Store, o: SyntheticOptions): Promise<CampaignRow> {
  const rng = mulberry32(o.seed ?? 17);
  const log = o.log ?? (() => undefined);
  const pot = await potentialFor({ model: o.model ?? 'lennard-jones', threads: 1 });
  const preset = 'full-bz';
  const settings: CampaignSettings = buildSettings({
    potential: resolvedPotential(pot),
    preset,
    relaxProtocol: RELAX_PROTOCOLS['phononbench']!,
    supercell: { kind: 'explicit', matrix: [[2, 0, 0], [0, 2, 0], [0, 0, 2]] },
  });
  const code = `synthetic-${sha256Hex(o.name).slice(0, 8)}`;
  const { campaign: c } = await store.createCampaign({
    name: o.name,
    modelName: pot.identity.model,
    modelSha256: pot.identity.checkpointSha256,
    modelPrecision: pot.identity.precision,
    modelManifest: null,
    preset,
    codeSha: code,
    config: settings,
    configSha256: sha256Hex(canonicalJson(settings)),
    windowSize: 200,
    partitions: 1,
  });
  const host = hostname();
  const examples = exampleStructures().slice(0, Math.min(16, o.real ?? 0));
  const real: Planned[] = [];
  for (const s of examples) {
    const r = await runOne(s, settings, pot, { relax: false, validate: false });
    const sj = toJson(s);
    real.push({ structure: sj, sourcePath: `/synthetic/${o.name}/known/${s.name}.vasp`, sourceName: `${s.name}.vasp`, sg: 225, kind: 'done', phonons: r.phonons!, relax: relaxPayload(sj, rng, 225, true) });
  }
  const pick = <T>(xs: readonly T[], skew = 1): T => xs[Math.min(xs.length - 1, Math.floor(xs.length * rng() ** skew))]!;
  const nRunning = o.running ?? 0;
  const nPending = o.pending ?? 0;
  const fFailed = o.failed ?? 0.01;
  const fRejected = o.rejected ?? 0.02;
  /** row i of the campaign (rows are planned in order: the generator's sequence is fixed by the seed) */
  const plan = (i: number): Planned => {
    if (i < real.length) return real[i]!;
    const gen = pick(GENERATORS, 1.5);
    const sg = pick(SPACEGROUPS, 2);
    const natoms = Math.max(1, Math.min(60, Math.round(Math.exp(rng() * 3.4))));
    const nel = 1 + Math.floor(rng() * 3);
    const els = Array.from({ length: nel }, () => pick(ELEMENTS, 1.3));
    const numbers = Array.from({ length: natoms }, (_, k) => els[k % els.length]!);
    const a = 3 + natoms ** (1 / 3) * 2;
    const structure: StructureJson = {
      lattice: [
        [a, 0, 0],
        [0, a, 0],
        [0, 0, a],
      ],
      frac: numbers.map(() => [rng(), rng(), rng()].map((x) => Math.round(x * 1e6) / 1e6)),
      numbers,
    };
    const name = `${gen}-${String(i).padStart(6, '0')}`;
    const u = rng();
    const rest = o.n - i;
    const kind: Planned['kind'] =
      rest <= nPending ? 'pending' : rest <= nPending + nRunning ? 'running' : u < fFailed ? 'failed' : u < fFailed + fRejected ? 'rejected' : u < fFailed + fRejected + 0.03 ? 'relax_failed' : 'done';
    const p: Planned = { structure, sourcePath: `/synthetic/${o.name}/${gen}/${name}.cif`, sourceName: `${name}.cif`, sg, kind };
    if (kind === 'done' || kind === 'relax_failed') p.relax = relaxPayload(structure, rng, sg, kind === 'done');
    if (kind === 'done') {
      // the stable fraction depends on the generator and the symmetry (the breakdowns have something to show)
      const pStable = 0.35 + 0.25 * Number(gen === 'known') + 0.2 * Number(sg >= 195) - 0.1 * Number(natoms > 20);
      const depth = rng() < pStable ? 0 : -(10 ** (-3 + 3.5 * rng())) * (o.depthScale ?? 1);
      p.phonons = syntheticSpectrum(rng, 1 + (natoms % 2), depth, pick(['M', 'R', 'X']), a);
    }
    return p;
  };

  const rules = settings.classify.rules;
  const t0 = Date.now() - o.n * 10;
  const CHUNK = 2000;
  for (let from = 0; from < o.n; from += CHUNK) {
    const plans = Array.from({ length: Math.min(CHUNK, o.n - from) }, (_, k) => plan(from + k));
    const structureIds = await bulkPutStructures(
      store,
      plans.map((p) => {
        const geometrySha256 = sha256Hex(canonicalJson(p.structure));
        return {
          geometrySha256,
          hash: `synthetic-${geometrySha256.slice(0, 40)}`,
          hashKind: 'synthetic',
          formula: reducedFormula(p.structure.numbers),
          natoms: p.structure.numbers.length,
          sourcePath: p.sourcePath,
          sourceIndex: 0,
          sourceName: p.sourceName,
          sourceSha256: null,
          structure: p.structure,
        };
      }),
    );
    const itemIds = await bulkAddItems(store, c.id, plans.map((p, k) => ({ structureId: structureIds[k]!, sourcePath: p.sourcePath, sourceIndex: 0, sourceName: p.sourceName })));
    const steps: Parameters<typeof bulkPutSteps>[1][number][] = [];
    const results: ResultRow[] = [];
    const statuses: Parameters<typeof bulkSetItemStatus>[1][number][] = [];
    plans.forEach((p, k) => {
      const i = from + k;
      const itemId = itemIds[k]!;
      const use = { itemId, generation: 0 };
      // completion order: the plan's order, 10 ms apart
      const finishedAt = new Date(t0 + i * 10);
      const startedAt = new Date(t0 + i * 10 - 5);
      if (p.kind === 'pending') return;
      if (p.kind === 'running') return void statuses.push({ id: itemId, status: 'running', host, startedAt, finishedAt: null });
      if (p.kind === 'rejected') return void statuses.push({ id: itemId, status: 'rejected', errorClass: 'StructureError:atoms_too_close', message: 'atoms 0 and 1 are 0.4 Å apart (synthetic)', host, startedAt, finishedAt });
      if (p.kind === 'failed') return void statuses.push({ id: itemId, status: 'failed', errorClass: 'WorkerCrashLoop', message: 'the worker died in this computation 6 times (synthetic)', host, startedAt, finishedAt });
      const put = (step: 'relax' | 'phonons' | 'classify', inputRefs: string[], payload: unknown, durationMs: number): string => {
        const model = step !== 'classify';
        const key = stepKey({ step, cacheVersion: STEP_CACHE_VERSIONS[step], inputRefs, params: { synthetic: o.name }, modelSha256: model ? pot.identity.checkpointSha256 : null });
        steps.push({
          key,
          step,
          cacheVersion: STEP_CACHE_VERSIONS[step],
          inputRefs,
          params: { synthetic: o.name },
          modelName: model ? pot.identity.model : null,
          modelSha256: model ? pot.identity.checkpointSha256 : null,
          codeSha: code,
          host,
          durationMs,
          modelMs: model ? durationMs * 0.8 : 0,
          payload,
          use,
        });
        return key;
      };
      const relaxKey = put('relax', [sha256Hex(canonicalJson(p.structure))], p.relax, 200 + 2000 * rng());
      let cls: ClassifyOut | undefined;
      let phononKey: string | null = null;
      let classifyKey: string | null = null;
      if (p.kind === 'done') {
        phononKey = put('phonons', [relaxKey], p.phonons, 100 + 500 * rng());
        cls = classifyStep(p.phonons!, preset, rules);
        classifyKey = put('classify', [phononKey], cls, 1 + 3 * rng());
      }
      results.push({
        campaignItemId: itemId,
        campaignId: c.id,
        structureId: structureIds[k]!,
        generation: 0,
        preset,
        label: cls ? cls.label : 'relaxation_failed',
        labels: cls ? cls.labels : { [preset]: 'relaxation_failed' },
        minFreqThz: cls?.minFreqThz ?? null,
        minFreqQ: cls?.minFreqQ ?? null,
        minFreqBand: cls?.minFreqBand ?? null,
        minFreqWhere: cls?.minFreqWhere ?? null,
        nImaginary: cls?.nImaginary ?? null,
        maxFreqThz: cls?.maxFreqThz ?? null,
        spacegroupInitial: p.sg,
        spacegroupRelaxed: p.sg,
        energyInitialEv: p.relax!.energyInitial,
        energyRelaxedEv: p.relax!.energy,
        energyPerAtomEv: p.relax!.energy === null ? null : p.relax!.energy / p.structure.numbers.length,
        relaxStatus: p.relax!.status,
        relaxSteps: p.relax!.steps,
        supercell: [2, 0, 0, 0, 2, 0, 0, 0, 2],
        nDisplacements: 1,
        modelName: pot.identity.model,
        modelSha256: pot.identity.checkpointSha256,
        modelPrecision: pot.identity.precision,
        relaxPrecision: 'float64',
        codeSha: code,
        configSha256: c.config_sha256,
        relaxKey,
        phononKey,
        classifyKey,
        host,
      });
      statuses.push({ id: itemId, status: 'done', host, startedAt, finishedAt });
    });
    await bulkPutSteps(store, steps);
    await bulkPutResults(store, results);
    await bulkSetItemStatus(store, statuses);
    log(`${o.name}: ${from + plans.length} of ${o.n} items written`);
  }
  await store.settleCampaignStatus(c.id);
  return (await store.getCampaign(c.id))!;
}
