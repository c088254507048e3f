// A campaign's report data, from the store: counts, the stable rate per preset with its Wilson
// interval, its convergence in completion order, breakdowns, histograms of the minimum frequency
// per preset, preset and model agreement, the structures table and, for up to `maxDetails`
// structures, the band structure, DOS and provenance. Aggregated here so that the page stays
// light for a 10^5-structure campaign (the table is one compact array per column; the page
// paginates it).
import { dirname } from 'node:path';
import { STABILITY_RULES, PHONON_CONFIG } from '../config/phonon.js';
import { STABILITY_PRESETS } from '../core/stability/index.js';
import { loadMoyo } from '../core/symmetry/moyo.js';
import type { ClassifyOut, PhononOut, RelaxOut, StructureJson } from '../pipeline/steps.js';
import type { CampaignRow, Progress, Store } from '../store/index.js';
import { type ReportItemRow, modelAgreementCounts, reportItemDetail, reportItemsPage, stepPayloads } from '../store/report-queries.js';
import { modelPairLabelCounts } from '../store/compare-queries.js';
import { type CampaignSettings, modelNames } from '../pipeline/settings.js';
import { elementsOfFormula, periodicTable } from './periodic.js';
import { compactBand, latticeParams, phononDos } from './spectrum.js';
import { round, wilsonRate } from './stats.js';
import {
  type AgreementMatrix,
  type Breakdown,
  type BreakdownCategory,
  type Convergence,
  type Histogram,
  type ItemDetail,
  LABEL_CODE,
  NO_LABEL,
  type PresetAgreement,
  type PresetInfo,
  type PresetVerdict,
  type Rate,
  type ReportData,
  type Rows,
  STATUS_CODE,
} from './types.js';

export interface BuildOptions {
  /** structures whose band structure, DOS and provenance are embedded (default 200) */
  maxDetails?: number;
  /** served by `softmode report --serve` */
  live?: boolean;
  /** the progress line of `softmode run` (the CLI passes its own) */
  statusLine?: (p: Progress) => string;
  /** decoded per-preset minima by classify key: step results are content-addressed, so a cache never goes stale */
  minimaCache?: Map<string, (number | null)[]>;
}

export const DEFAULT_MAX_DETAILS = 200;
/** points of the convergence curve (every structure up to this many) */
export const CONVERGENCE_POINTS = 2000;
export const TOP_SPACEGROUPS = 20;
export const TOP_SOURCES = 20;
export const HISTOGRAM_BINS = 60;
/** the histogram's x axis is linear within ± this (THz) and logarithmic beyond */
export const HISTOGRAM_ASINH_THZ = 0.01;
const PAGE = 5000;

const CLASSIFIED = new Set(['stable', 'unstable', 'relaxation_failed']);

interface RuleSet {
  presets: Record<string, Record<string, unknown>>;
  thzToKelvin: number;
}

/** The campaign's frozen rules (campaigns.config), else the current config's. */
function rulesOf(c: CampaignRow): RuleSet {
  const s = c.config as { classify?: { rules?: { presets?: Record<string, Record<string, unknown>>; thzToKelvin?: number } } };
  const presets = s.classify?.rules?.presets ?? (STABILITY_RULES as unknown as Record<string, Record<string, unknown>>);
  return { presets, thzToKelvin: s.classify?.rules?.thzToKelvin ?? PHONON_CONFIG.thzToKelvin };
}

export function presetInfos(c: CampaignRow): PresetInfo[] {
  const r = rulesOf(c);
  return STABILITY_PRESETS.map((name) => {
    const rule = r.presets[name] ?? {};
    const version = String(rule['version'] ?? '?');
    switch (name) {
      case 'loew':
        return {
          name,
          ruleVersion: version,
          thresholdTHz: Number(rule['otherThresholdK'] ?? 0) / r.thzToKelvin,
          note: `commensurate q; every mode ≥ −${Number(rule['otherThresholdK'] ?? 0)} K except Γ's three lowest down to −${Number(rule['gammaAcousticThresholdK'] ?? 0)} K`,
        };
      case 'full-bz':
        return {
          name,
          ruleVersion: version,
          thresholdTHz: Number(rule['thresholdTHz'] ?? 0),
          note: `commensurate q + band path + mesh; Γ's three lowest exempt while |ν| ≤ ${Number(rule['gammaAcousticToleranceTHz'] ?? 0)} THz`,
        };
      default:
        return { name, ruleVersion: version, thresholdTHz: Number(rule['thresholdTHz'] ?? 0), note: 'band path, every mode' };
    }
  });
}

/** Label of a result under a preset: its stored label, or relaxation_failed for every preset when it failed. */
function labelUnder(row: ReportItemRow, preset: string): string | undefined {
  if (row.label === null) return undefined;
  return row.labels?.[preset] ?? (row.label === 'relaxation_failed' ? 'relaxation_failed' : undefined);
}

/** Per preset, the minimum over the modes the rule tests (non-exempt; else the raw minimum). */
export function presetMinima(cls: ClassifyOut): (number | null)[] {
  return STABILITY_PRESETS.map((p) => {
    const r = cls.results[p] as { min?: { frequency: number }; minNonExempt?: { frequency: number } | null } | undefined;
    if (!r) return null;
    return r.minNonExempt?.frequency ?? r.min?.frequency ?? null;
  });
}

const SYSTEM_ORDER = ['Triclinic', 'Monoclinic', 'Orthorhombic', 'Tetragonal', 'Trigonal', 'Hexagonal', 'Cubic'];

function spaceGroupInfo(sg: number, cache: Map<number, { symbol: string; system: string }>): { symbol: string; system: string } {
  let v = cache.get(sg);
  if (!v) {
    try {
      const t = loadMoyo().space_group_type(sg);
      v = { symbol: t.hm_short.replace(/ /g, ''), system: t.crystal_system };
    } catch {
      v = { symbol: String(sg), system: 'unknown' };
    }
    cache.set(sg, v);
  }
  return v;
}

function natomsBin(n: number): string {
  if (n <= 2) return String(n);
  let lo = 3;
  let hi = 4;
  while (n > hi) {
    lo = hi + 1;
    hi *= 2;
  }
  return `${lo}–${hi}`;
}

function natomsBinOrder(label: string): number {
  return Number(label.split('–')[0]);
}

/** Tallies per category and preset. */
class Tally {
  private readonly m = new Map<string, { k: number[]; n: number[] }>();
  constructor(private readonly presets: number) {}
  add(key: string, labels: (string | undefined)[]): void {
    let t = this.m.get(key);
    if (!t) this.m.set(key, (t = { k: new Array(this.presets).fill(0), n: new Array(this.presets).fill(0) }));
    labels.forEach((l, i) => {
      if (l === undefined || !CLASSIFIED.has(l)) return;
      t!.n[i]!++;
      if (l === 'stable') t!.k[i]!++;
    });
  }
  categories(): { key: string; rates: Rate[]; total: number }[] {
    return [...this.m].map(([key, t]) => ({ key, rates: t.n.map((n, i) => roundedRate(wilsonRate(t.k[i]!, n))), total: Math.max(...t.n) }));
  }
}

function roundedRate(r: Rate): Rate {
  return { k: r.k, n: r.n, p: r.p === null ? null : round(r.p, 5), lo: round(r.lo, 5), hi: round(r.hi, 5) };
}

function commonDir(dirs: string[]): string {
  if (dirs.length === 0) return '';
  let prefix = dirs[0]!.split('/');
  for (const d of dirs) {
    const parts = d.split('/');
    let i = 0;
    while (i < prefix.length && i < parts.length && prefix[i] === parts[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix.join('/');
}

function convergence(ordered: { labels: (string | undefined)[] }[], presets: string[]): Convergence {
  const n = ordered.length;
  const idx = n <= CONVERGENCE_POINTS ? Array.from({ length: n }, (_, i) => i + 1) : Array.from({ length: CONVERGENCE_POINTS }, (_, i) => Math.round(((i + 1) * n) / CONVERGENCE_POINTS));
  const series = presets.map((preset) => ({ preset, p: [] as number[], lo: [] as number[], hi: [] as number[] }));
  const k = new Array(presets.length).fill(0);
  const m = new Array(presets.length).fill(0);
  let j = 0;
  for (let i = 0; i < n; i++) {
    ordered[i]!.labels.forEach((l, pi) => {
      if (l === undefined || !CLASSIFIED.has(l)) return;
      m[pi]++;
      if (l === 'stable') k[pi]++;
    });
    if (idx[j] === i + 1) {
      presets.forEach((_, pi) => {
        const w = wilsonRate(k[pi], m[pi]);
        const s = series[pi]!;
        s.p.push(w.p === null ? NaN : round(w.p, 5));
        s.lo.push(round(w.lo, 5));
        s.hi.push(round(w.hi, 5));
      });
      j++;
    }
  }
  // NaN is not JSON: no classified structure yet under that preset
  for (const s of series) s.p = s.p.map((v) => (Number.isNaN(v) ? (null as unknown as number) : v));
  return { n: idx, series };
}

function histogram(preset: PresetInfo, values: { v: number; stable: boolean }[]): Histogram {
  const s = HISTOGRAM_ASINH_THZ;
  const t = (v: number) => Math.asinh(v / s);
  let lo = -2 * preset.thresholdTHz - s;
  let hi = s;
  for (const { v } of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const t0 = t(lo);
  const t1 = t(hi);
  const dt = (t1 - t0) / HISTOGRAM_BINS || 1;
  const edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => Number((s * Math.sinh(t0 + i * dt)).toPrecision(6)));
  const stable = new Array(HISTOGRAM_BINS).fill(0);
  const unstable = new Array(HISTOGRAM_BINS).fill(0);
  for (const { v, stable: st } of values) {
    const b = Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor((t(v) - t0) / dt)));
    (st ? stable : unstable)[b]++;
  }
  return { preset: preset.name, thresholdTHz: preset.thresholdTHz, edges, asinhScale: s, stable, unstable, n: values.length };
}

function presetAgreement(presets: string[], labelRows: (string | undefined)[][]): PresetAgreement {
  const P = presets.length;
  const same = Array.from({ length: P }, () => new Array(P).fill(0));
  const n = Array.from({ length: P }, () => new Array(P).fill(0));
  for (const ls of labelRows)
    for (let i = 0; i < P; i++)
      for (let j = 0; j < P; j++) {
        const a = ls[i];
        const b = ls[j];
        if (a === undefined || b === undefined || !CLASSIFIED.has(a) || !CLASSIFIED.has(b)) continue;
        n[i]![j]++;
        if (a === b) same[i]![j]++;
      }
  return { presets, n, fraction: n.map((row, i) => row.map((m: number, j) => (m ? round(same[i]![j] / m, 5) : null))) };
}

async function modelAgreement(store: Store, c: CampaignRow): Promise<AgreementMatrix[]> {
  const rows = await modelAgreementCounts(store, c.id, c.preset);
  const by = new Map<number, typeof rows>();
  for (const r of rows) by.set(r.campaignId, [...(by.get(r.campaignId) ?? []), r]);
  const out: AgreementMatrix[] = [];
  for (const rs of by.values()) {
    const labels = ['stable', 'unstable', 'relaxation_failed', 'unclassified'].filter((l) => rs.some((r) => r.mine === l || r.theirs === l));
    const counts = labels.map((a) => labels.map((b) => rs.filter((r) => r.mine === a && r.theirs === b).reduce((s, r) => s + r.n, 0)));
    const o = rs[0]!;
    out.push({
      title: `${c.model_name} (${c.name}) vs ${o.model} ${o.precision} (${o.campaign}), preset ${c.preset}, same structures by content hash`,
      rowLabel: c.model_name,
      colLabel: o.model,
      labels,
      counts,
    });
  }
  // a multi-model campaign (run --model a,b): its own models, pair by pair, on the same inputs
  const names = modelNames(c.config as unknown as CampaignSettings);
  if (names.length > 1) {
    const pairs = await modelPairLabelCounts(store, c.id, [c.preset]);
    for (let ma = 0; ma < names.length; ma++)
      for (let mb = ma + 1; mb < names.length; mb++) {
        const rs = pairs.filter((r) => r.ma === ma && r.mb === mb);
        if (rs.length === 0) continue;
        const labels = ['stable', 'unstable', 'relaxation_failed', 'unclassified'].filter((l) => rs.some((r) => r.la === l || r.lb === l));
        const counts = labels.map((a) => labels.map((b) => rs.filter((r) => r.la === a && r.lb === b).reduce((s, r) => s + r.n, 0)));
        out.push({ title: `${names[ma]} vs ${names[mb]} (both in ${c.name}), preset ${c.preset}, same inputs`, rowLabel: names[ma]!, colLabel: names[mb]!, labels, counts });
      }
  }
  return out;
}

function statusCode(s: string): string {
  return (STATUS_CODE as Record<string, string>)[s] ?? '?';
}

/** Everything the page draws, for one campaign. */
export async function buildReportData(store: Store, c: CampaignRow, o: BuildOptions = {}): Promise<ReportData> {
  const t0 = performance.now();
  const phases: Record<string, number> = {};
  let lap = t0;
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = Math.round(now - lap);
    lap = now;
  };
  const presets = presetInfos(c);
  const names = presets.map((p) => p.name);
  const presetIndex = Math.max(0, names.indexOf(c.preset));
  const progress = await store.progress(c.id);
  const [prov, errors, timings, campaigns] = await Promise.all([store.provenanceCounts(c.id), store.errorClasses(c.id), store.stepTimings(c.id), store.listCampaigns()]);
  phase('counts');

  // every item, with its structure and result
  const items: ReportItemRow[] = [];
  for (let after = 0; ; ) {
    const page = await reportItemsPage(store, c.id, after, PAGE);
    if (page.length === 0) break;
    items.push(...page);
    after = page[page.length - 1]!.id;
  }
  // completion order (the order the stable rate converged in), then the unfinished by id
  items.sort((a, b) => {
    const fa = a.finished_at ? a.finished_at.getTime() : Infinity;
    const fb = b.finished_at ? b.finished_at.getTime() : Infinity;
    return fa !== fb ? fa - fb : a.id - b.id;
  });
  phase('items');

  // per-preset minima from the stored classifications
  const cache = o.minimaCache ?? new Map<string, (number | null)[]>();
  const wanted = [...new Set(items.map((r) => r.classify_key).filter((k): k is string => k !== null && !cache.has(k)))];
  // the next chunk is fetched while this one is decoded
  let pending = wanted.length ? stepPayloads<ClassifyOut>(store, wanted.slice(0, 2000)) : undefined;
  for (let i = 0; pending; i += 2000) {
    const got = await pending;
    pending = i + 2000 < wanted.length ? stepPayloads<ClassifyOut>(store, wanted.slice(i + 2000, i + 4000)) : undefined;
    for (const [k, v] of got) cache.set(k, presetMinima(v));
  }
  phase('classifications');

  const sgCache = new Map<number, { symbol: string; system: string }>();
  const dirs = items.map((r) => dirname(r.source_path));
  const base = commonDir([...new Set(dirs)]);
  const folderNames = new Map<string, string>();
  const folderName = (d: string) => {
    let f = folderNames.get(d);
    if (f === undefined) {
      const rel = d.slice(base.length).replace(/^\/+/, '');
      folderNames.set(d, (f = rel || d.split('/').filter(Boolean).pop() || d));
    }
    return f;
  };
  const formulaElements = new Map<string, string[]>();
  const elementsOf = (formula: string) => {
    let e = formulaElements.get(formula);
    if (!e) formulaElements.set(formula, (e = elementsOfFormula(formula).map(String)));
    return e;
  };

  const rows: Rows = { id: [], name: [], formula: [], natoms: [], sg: [], status: [], labels: [], minNu: [], folder: [], folders: [], error: [], errorClasses: [] };
  const folderIdx = new Map<string, number>();
  const errIdx = new Map<string, number>();
  const systems = new Tally(names.length);
  const groups = new Tally(names.length);
  const sizes = new Tally(names.length);
  const sources = new Tally(names.length);
  const elements = new Tally(names.length);
  const ordered: { labels: (string | undefined)[] }[] = [];
  const values: { v: number; stable: boolean }[][] = names.map(() => []);
  const labelRows: (string | undefined)[][] = [];
  const models = new Map<string, { name: string; sha256: string; precision: string; relaxPrecision: string | null; n: number }>();
  const codes = new Map<string, number>();
  const configs = new Map<string, number>();

  items.forEach((r, i) => {
    const folder = folderName(dirs[i]!);
    let fi = folderIdx.get(folder);
    if (fi === undefined) folderIdx.set(folder, (fi = rows.folders.push(folder) - 1));
    let ei = -1;
    if (r.error_class) {
      ei = errIdx.get(r.error_class) ?? -1;
      if (ei < 0) errIdx.set(r.error_class, (ei = rows.errorClasses.push(r.error_class) - 1));
    }
    const labels = names.map((p) => labelUnder(r, p));
    const sg = r.spacegroup_relaxed ?? r.spacegroup_initial ?? null;
    rows.id.push(r.id);
    rows.name.push(r.source_name ?? r.source_path.split('/').pop() ?? String(r.id));
    rows.formula.push(r.formula ?? '');
    rows.natoms.push(r.natoms);
    rows.sg.push(sg);
    rows.status.push(statusCode(r.status));
    rows.labels.push(labels.map((l) => (l === undefined ? NO_LABEL : ((LABEL_CODE as Record<string, string>)[l] ?? NO_LABEL))).join(''));
    rows.minNu.push(r.min_freq_thz === null ? null : round(r.min_freq_thz, 4));
    rows.folder.push(fi);
    rows.error.push(ei);
    if (r.label === null) return;
    // a result: it counts in the rates, the breakdowns and the histograms
    ordered.push({ labels });
    labelRows.push(labels);
    systems.add(sg === null ? 'unknown' : spaceGroupInfo(sg, sgCache).system, labels);
    if (sg !== null) groups.add(String(sg), labels);
    if (r.natoms !== null) sizes.add(natomsBin(r.natoms), labels);
    sources.add(folder, labels);
    for (const z of elementsOf(r.formula ?? '')) elements.add(z, labels);
    const mins = r.classify_key ? cache.get(r.classify_key) : undefined;
    if (mins)
      mins.forEach((v, pi) => {
        const l = labels[pi];
        if (v !== null && (l === 'stable' || l === 'unstable')) values[pi]!.push({ v, stable: l === 'stable' });
      });
    if (r.model_sha256) {
      const key = `${r.model_name}|${r.model_sha256}|${r.model_precision}|${r.relax_precision}`;
      const m = models.get(key) ?? { name: r.model_name ?? '?', sha256: r.model_sha256, precision: r.model_precision ?? '?', relaxPrecision: r.relax_precision, n: 0 };
      m.n++;
      models.set(key, m);
    }
    if (r.code_sha) codes.set(r.code_sha, (codes.get(r.code_sha) ?? 0) + 1);
    if (r.config_sha256) configs.set(r.config_sha256, (configs.get(r.config_sha256) ?? 0) + 1);
  });

  const rateOf = (pi: number): Rate => {
    let k = 0;
    let n = 0;
    for (const ls of labelRows) {
      const l = ls[pi];
      if (l === undefined || !CLASSIFIED.has(l)) continue;
      n++;
      if (l === 'stable') k++;
    }
    return roundedRate(wilsonRate(k, n));
  };

  const breakdowns: Breakdown[] = [];
  const cats = (t: Tally, label: (k: string) => string, order: (a: { key: string; total: number }, b: { key: string; total: number }) => number, top?: number): BreakdownCategory[] => {
    const all = t.categories().sort(order);
    const kept = top !== undefined ? all.slice(0, top) : all;
    return kept.map((x) => ({ label: label(x.key), rates: x.rates }));
  };
  breakdowns.push({
    key: 'crystal-system',
    title: 'Stable rate by crystal system',
    note: 'relaxed structure (else the input), moyo',
    categories: cats(systems, (k) => k, (a, b) => (SYSTEM_ORDER.indexOf(a.key) + 100 * Number(a.key === 'unknown')) - (SYSTEM_ORDER.indexOf(b.key) + 100 * Number(b.key === 'unknown'))),
  });
  const sgCats = groups.categories();
  breakdowns.push({
    key: 'spacegroup',
    title: `Stable rate by space group (the ${Math.min(TOP_SPACEGROUPS, sgCats.length)} most frequent of ${sgCats.length})`,
    note: 'relaxed structure (else the input)',
    categories: cats(groups, (k) => `${spaceGroupInfo(Number(k), sgCache).symbol} (${k})`, (a, b) => b.total - a.total || Number(a.key) - Number(b.key), TOP_SPACEGROUPS),
  });
  breakdowns.push({ key: 'natoms', title: 'Stable rate by number of atoms', note: 'atoms in the input cell', categories: cats(sizes, (k) => k, (a, b) => natomsBinOrder(a.key) - natomsBinOrder(b.key)) });
  const srcCats = sources.categories();
  breakdowns.push({
    key: 'source',
    title: `Stable rate by input folder${srcCats.length > TOP_SOURCES ? ` (the ${TOP_SOURCES} largest of ${srcCats.length})` : ''}`,
    note: base ? `relative to ${base}` : '',
    categories: cats(sources, (k) => k, (a, b) => b.total - a.total || a.key.localeCompare(b.key), TOP_SOURCES),
  });

  const spacegroups: Record<string, { symbol: string; system: string }> = {};
  for (const sg of new Set(rows.sg)) if (sg !== null) spacegroups[String(sg)] = spaceGroupInfo(sg, sgCache);

  // the detail of the most informative structures: presets disagree, then closest to a threshold
  const maxDetails = o.maxDetails ?? DEFAULT_MAX_DETAILS;
  let chosen: number[];
  if (items.length <= maxDetails) chosen = items.map((r) => r.id);
  else {
    const score = (r: ReportItemRow): number => {
      if (r.label === null) return 3;
      const ls = new Set(names.map((p) => labelUnder(r, p)).filter((l) => l === 'stable' || l === 'unstable'));
      if (ls.size > 1) return 0;
      return r.label === 'relaxation_failed' ? 2 : 1;
    };
    chosen = [...items]
      .sort((a, b) => score(a) - score(b) || Math.abs(a.min_freq_thz ?? Infinity) - Math.abs(b.min_freq_thz ?? Infinity) || a.id - b.id)
      .slice(0, maxDetails)
      .map((r) => r.id);
  }
  phase('aggregates');
  const details: Record<string, ItemDetail> = {};
  for (let i = 0; i < chosen.length; i += 4) {
    // a few at a time (each is a handful of queries and three payloads)
    const got = await Promise.all(chosen.slice(i, i + 4).map((id) => buildItemDetail(store, c, id)));
    for (const d of got) if (d) details[String(d.itemId)] = d;
  }
  phase('details');

  const periodic = periodicTable();
  const data: ReportData = {
    schema: 1,
    generatedAt: new Date().toISOString(),
    live: o.live ?? false,
    campaign: {
      id: c.id,
      name: c.name,
      status: c.status,
      preset: c.preset,
      model: c.model_name,
      modelSha256: c.model_sha256,
      modelPrecision: c.model_precision,
      codeSha: c.code_sha,
      configSha256: c.config_sha256,
      createdAt: new Date(c.created_at).toISOString(),
      partitions: c.partitions,
      windowSize: c.window_size,
    },
    campaigns: campaigns.map((x) => ({ id: x.id, name: x.name, model: x.model_name, status: x.status })),
    presets,
    presetIndex,
    counts: {
      total: progress.total,
      pending: progress.pending,
      running: progress.running,
      done: progress.done,
      failed: progress.failed,
      rejected: progress.rejected,
      cancelled: progress.cancelled,
      recentDone: progress.recentDone,
      windowSeconds: progress.windowSeconds,
    },
    statusLine: o.statusLine ? o.statusLine(progress) : null,
    rates: names.map((preset, i) => ({ preset, ...rateOf(i) })),
    provenance: {
      models: [...models.values()].sort((a, b) => b.n - a.n),
      codeShas: [...codes].map(([sha, n]) => ({ sha, n })).sort((a, b) => b.n - a.n),
      configShas: [...configs].map(([sha, n]) => ({ sha, n })).sort((a, b) => b.n - a.n),
      stepsUsed: prov.stepsUsed,
      computed: prov.computed,
      served: prov.served,
      recomputedSteps: prov.recomputedSteps,
    },
    errors: errors.map((e) => ({ status: e.status, errorClass: e.error_class, n: e.n })),
    stepTimings: timings.map((t) => ({ step: t.step, n: t.n, durationMs: round(t.duration_ms, 1), modelMs: round(t.model_ms, 1) })),
    convergence: convergence(ordered, names),
    breakdowns,
    periodic: {
      ...periodic,
      elements: elements
        .categories()
        .map((x) => ({ z: Number(x.key), rates: x.rates }))
        .sort((a, b) => a.z - b.z),
    },
    histograms: presets.map((p, i) => histogram(p, values[i]!)),
    presetAgreement: presetAgreement(names, labelRows),
    modelAgreement: await modelAgreement(store, c).finally(() => phase('agreement')),
    spacegroups,
    rows,
    details,
    detailsNote:
      chosen.length === items.length
        ? `band structure, DOS and provenance of all ${items.length} structures are in this page`
        : `band structure, DOS and provenance of ${chosen.length} of ${items.length} structures are in this page: those whose presets disagree, then those closest to ν = 0 (softmode report --details N; softmode report --serve shows every structure)`,
    buildMs: 0,
    buildPhasesMs: phases,
  };
  data.buildMs = Math.round(performance.now() - t0);
  return data;
}

function whereOf(loc: { qpoint: number[]; band: number; set: string } | null | undefined): string {
  if (!loc) return '';
  return `${loc.set} q = (${loc.qpoint.map((x) => round(x, 4)).join(', ')}), branch ${loc.band}`;
}

/** One structure's page: facts, labels under every preset, band structure, DOS, provenance. */
export async function buildItemDetail(store: Store, c: CampaignRow, itemId: number): Promise<ItemDetail | undefined> {
  const d = await reportItemDetail(store, c.id, itemId);
  if (!d) return undefined;
  const res = d.result;
  const str = (k: string): string | null => (res && res[k] !== null && res[k] !== undefined ? String(res[k]) : null);
  const num = (k: string): number | null => (res && typeof res[k] === 'number' ? (res[k] as number) : null);
  const keys = [str('relax_key'), str('phonon_key'), str('classify_key')].filter((k): k is string => k !== null);
  const payloads = await stepPayloads<unknown>(store, keys);
  const relax = str('relax_key') ? (payloads.get(str('relax_key')!) as RelaxOut | undefined) : undefined;
  const ph = str('phonon_key') ? (payloads.get(str('phonon_key')!) as PhononOut | undefined) : undefined;
  const cls = str('classify_key') ? (payloads.get(str('classify_key')!) as ClassifyOut | undefined) : undefined;
  const input = d.structure?.structure as StructureJson | undefined;
  const verdicts: PresetVerdict[] = STABILITY_PRESETS.map((p) => {
    const r = cls?.results[p] as
      | { label: string; reason: string; min: { frequency: number; qpoint: number[]; band: number; set: string }; minNonExempt: { frequency: number; qpoint: number[]; band: number; set: string } | null; imaginaryModes: number }
      | undefined;
    if (r) return { preset: p, label: r.label, minTHz: r.min.frequency, minNonExemptTHz: r.minNonExempt?.frequency ?? null, where: whereOf(r.minNonExempt ?? r.min), reason: r.reason, imaginaryModes: r.imaginaryModes };
    const label = (res?.['labels'] as Record<string, string> | undefined)?.[p] ?? (res?.['label'] === 'relaxation_failed' ? 'relaxation_failed' : '-');
    return { preset: p, label, minTHz: null, minNonExemptTHz: null, where: '', reason: cls?.unclassified[p] ?? (label === 'relaxation_failed' ? `relaxation ${relax?.status ?? 'failed'}${relax?.reason ? `: ${relax.reason}` : ''}` : ''), imaginaryModes: null };
  });
  return {
    itemId: d.item.id,
    name: d.item.source_name ?? d.item.source_path.split('/').pop() ?? String(d.item.id),
    sourcePath: d.item.source_path,
    sourceIndex: d.item.source_index,
    status: d.item.status,
    errorClass: d.item.error_class,
    errorMessage: d.item.error_message,
    generation: d.item.generation,
    attempts: d.item.attempts,
    wallMs: d.item.wall_ms,
    host: d.item.host,
    structure: d.structure
      ? {
          formula: d.structure.formula,
          natoms: d.structure.natoms,
          hash: d.structure.hash,
          geometrySha256: d.structure.geometry_sha256,
          lattice: input?.lattice ? latticeParams(input.lattice) : null,
          relaxedLattice: relax?.structure?.lattice ? latticeParams(relax.structure.lattice) : null,
        }
      : null,
    relax: relax
      ? {
          status: relax.status,
          steps: relax.steps,
          energyEv: relax.energy,
          energyPerAtomEv: relax.energy === null ? null : relax.energy / relax.structure.numbers.length,
          maxForce: relax.maxForce,
          spacegroupBefore: relax.spacegroupBefore,
          spacegroupAfter: relax.spacegroupAfter,
          trajectoryPrecision: relax.trajectoryPrecision,
        }
      : null,
    result: res
      ? {
          label: String(res['label']),
          labels: (res['labels'] as Record<string, string>) ?? {},
          minFreqThz: num('min_freq_thz'),
          minFreqQ: (res['min_freq_q'] as number[] | null) ?? null,
          minFreqWhere: str('min_freq_where'),
          maxFreqThz: num('max_freq_thz'),
          supercell: (res['supercell'] as number[] | null) ?? null,
          nDisplacements: num('n_displacements'),
          model: String(res['model_name']),
          modelSha256: String(res['model_sha256']),
          modelPrecision: String(res['model_precision']),
          codeSha: String(res['code_sha']),
          configSha256: String(res['config_sha256']),
        }
      : null,
    verdicts,
    band: ph ? compactBand(ph) : null,
    dos: ph ? phononDos(ph) : null,
    primitiveAtoms: ph ? ph.primitive.numbers.length : null,
    steps: d.steps.map((s) => ({
      generation: s.generation,
      step: s.step,
      key: s.key,
      served: s.served_from_store,
      cacheVersion: s.cache_version,
      model: s.model_name,
      modelSha256: s.model_sha256,
      codeSha: s.code_sha,
      host: s.host,
      durationMs: round(s.duration_ms, 1),
      modelMs: round(s.model_ms, 1),
      payloadBytes: s.payload_bytes,
      at: new Date(s.at).toISOString(),
    })),
    attemptLog: d.attempts.map((a) => ({
      generation: a.generation,
      step: a.step,
      attempt: a.activity_attempt,
      outcome: a.outcome,
      errorClass: a.error_class,
      errorMessage: a.error_message ? a.error_message.slice(0, 2000) : null,
      host: a.host,
      durationMs: a.duration_ms === null ? null : round(a.duration_ms, 1),
      at: new Date(a.at).toISOString(),
    })),
    attemptsOmitted: Math.max(0, d.attemptsTotal - d.attempts.length),
  };
}
