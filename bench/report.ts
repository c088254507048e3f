// npm run bench:report → bench/results/report.json: the campaign report's file size, the time to
// build its data from the store, and its time to first paint and to every chart drawn in headless
// Chromium, for the demo campaign (.campaigns/demo, from `npm run demo`) and for a synthetic
// campaign of 10^5 structures written straight into a store (bench/report-synthetic.ts; kept in
// .campaigns/bench-report and reused by later runs). Both must paint within 5 s.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';
import { progressLine } from '../cli/lib/progress.js';
import { openEnv, pickCampaign } from '../engine/campaign.js';
import { postgresIsInitialised } from '../engine/services/postgres.js';
import { stopServices } from '../engine/services/index.js';
import { repoRoot } from '../core/paths.js';
import { writeReport } from '../report/index.js';
import type { CampaignRow, Store } from '../store/index.js';
import { NO_CHROMIUM, chartMarks, chromiumPath, launchChromium, openReport } from './report-browser.js';
import { createSyntheticCampaign } from './report-synthetic.js';

const SPEC = {
  n: { kind: 'positive-int', default: 100_000, help: 'structures in the synthetic campaign (default 100000)' },
  loads: { kind: 'positive-int', default: 3, help: 'page loads per report (median and max reported)' },
  'demo-dir': { kind: 'string', default: '.campaigns/demo', metavar: 'DIR', help: 'campaign directory of the demo (default .campaigns/demo)' },
  'synthetic-dir': { kind: 'string', default: '.campaigns/bench-report', metavar: 'DIR', help: 'where the synthetic campaign is kept (default .campaigns/bench-report)' },
  fresh: { kind: 'boolean', help: 'write the synthetic campaign again even if it is there' },
} as const satisfies OptionsSpec;

const LIMIT_MS = 5000;

interface Case {
  name: string;
  campaign: string;
  structures: number;
  detailsEmbedded: number;
  bytes: number;
  buildMs: number;
  buildPhasesMs: Record<string, number>;
  firstPaintMs: { median: number; max: number; all: number[] };
  chartsDrawnMs: { median: number; max: number; all: number[] };
  /** typing a search into the structures table → table redrawn (includes the 150 ms debounce) */
  searchMs: number;
  charts: { name: string; markPixels: number }[];
  consoleErrors: string[];
  withinLimit: boolean;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(name: string, store: Store, c: CampaignRow, out: string, loads: number): Promise<Case> {
  const t0 = performance.now();
  const w = await writeReport(store, c, out, { statusLine: progressLine });
  console.log(`${name}: ${w.structures} structures, ${(w.bytes / 1e6).toFixed(2)} MB, data built in ${w.buildMs} ms (${Object.entries(w.buildPhasesMs).map(([k, t]) => `${k} ${t}`).join(', ')}; page written in ${Math.round(performance.now() - t0)} ms)`);
  const fp: number[] = [];
  const ready: number[] = [];
  let charts: Case['charts'] = [];
  let errors: string[] = [];
  let searchMs = NaN;
  const browser = await launchChromium();
  try {
    for (let i = 0; i < loads; i++) {
      // a fresh context per load: nothing cached
      const ctx = await browser.createBrowserContext();
      const o = await openReport(ctx, `file://${w.path}`, 120_000);
      fp.push(Math.round(o.firstPaintMs));
      ready.push(Math.round(o.readyMs));
      if (i === 0) {
        charts = (await chartMarks(o.page)).map((m) => ({ name: m.name, markPixels: m.markPixels }));
        searchMs = (await o.page.evaluate(`new Promise((res) => {
          const info = document.getElementById('page-info');
          const before = info.textContent;
          const t = performance.now();
          const obs = new MutationObserver(() => { if (info.textContent !== before) { obs.disconnect(); res(performance.now() - t); } });
          obs.observe(info, { childList: true, characterData: true, subtree: true });
          const s = document.getElementById('search');
          s.value = 'Fm-3m';
          s.dispatchEvent(new Event('input'));
        })`)) as number;
      }
      errors = [...errors, ...o.errors];
      await ctx.close();
    }
  } finally {
    await browser.close();
  }
  const c0: Case = {
    name,
    campaign: c.name,
    structures: w.structures,
    detailsEmbedded: w.detailed,
    bytes: w.bytes,
    buildMs: w.buildMs,
    buildPhasesMs: w.buildPhasesMs,
    firstPaintMs: { median: median(fp), max: Math.max(...fp), all: fp },
    chartsDrawnMs: { median: median(ready), max: Math.max(...ready), all: ready },
    searchMs: Math.round(searchMs),
    charts,
    consoleErrors: errors,
    withinLimit: Math.max(...fp) < LIMIT_MS && Math.max(...ready) < LIMIT_MS,
  };
  console.log(`${name}: first paint ${c0.firstPaintMs.median} ms (max ${c0.firstPaintMs.max}), every chart drawn ${c0.chartsDrawnMs.median} ms (max ${c0.chartsDrawnMs.max}), search ${c0.searchMs} ms`);
  return c0;
}

async function main(): Promise<void> {
  const a = parseProcessArgs('bench:report', SPEC);
  const v = a.values;
  const root = repoRoot();
  if (!chromiumPath()) throw new Error(NO_CHROMIUM);
  const tmp = join(root, 'bench', 'results', 'report-pages');
  mkdirSync(tmp, { recursive: true });
  const cases: Case[] = [];
  const notes: string[] = [];

  // the demo campaign, as `npm run demo` left it
  const demoDir = resolve(root, v['demo-dir']);
  if (postgresIsInitialised(demoDir)) {
    const env = await openEnv(demoDir, { temporal: false, create: false });
    try {
      const c = await pickCampaign(env.store, undefined);
      cases.push(await measure('demo', env.store, c, join(tmp, 'demo.html'), v.loads));
    } finally {
      await env.close();
    }
  } else notes.push(`no demo campaign in ${demoDir} (npm run demo makes one): demo case not measured`);

  // the synthetic campaign of n structures
  const synDir = resolve(root, v['synthetic-dir']);
  if (v.fresh && existsSync(synDir)) {
    await stopServices(synDir).catch(() => undefined);
    rmSync(synDir, { recursive: true, force: true });
  }
  mkdirSync(synDir, { recursive: true });
  const env = await openEnv(synDir, { temporal: false });
  try {
    const name = `synthetic-${v.n}`;
    let c = await env.store.getCampaign(name);
    const have = c ? (await env.store.progress(c.id)).total : 0;
    if (!c || have !== v.n) {
      if (c) throw new Error(`${synDir} holds ${name} with ${have} items, not ${v.n}: rerun with --fresh`);
      const t0 = performance.now();
      c = await createSyntheticCampaign(env.store, { name, n: v.n, real: 16, running: 20, pending: 200, failed: 0.01, rejected: 0.02, seed: 42, log: (m) => console.log(m) });
      notes.push(`synthetic campaign written in ${Math.round((performance.now() - t0) / 1000)} s`);
    }
    cases.push(await measure(`synthetic-${v.n}`, env.store, c, join(tmp, `synthetic-${v.n}.html`), v.loads));
    const db = await env.store.dbSizeBytes();
    notes.push(`synthetic store: ${(db / 1e6).toFixed(0)} MB`);
  } finally {
    await env.close();
  }

  const require = createRequire(import.meta.url);
  const uplot = (JSON.parse(readFileSync(require.resolve('uplot/package.json'), 'utf8')) as { version: string }).version;
  let chromium = '';
  try {
    chromium = execFileSync(chromiumPath()!, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    chromium = chromiumPath()!;
  }
  const result = {
    generatedAt: new Date().toISOString(),
    what: 'softmode report: HTML size, data build time, time to first paint and to every chart drawn in headless Chromium (file:// URL, fresh browser context per load)',
    limitMs: LIMIT_MS,
    chromium,
    uplot,
    cases,
    pass: cases.length > 0 && cases.every((c) => c.withinLimit && c.consoleErrors.length === 0),
    notes,
  };
  writeFileSync(join(root, 'bench', 'results', 'report.json'), JSON.stringify(result, null, 2) + '\n');
  // the pages themselves are large and regenerated: not kept
  rmSync(tmp, { recursive: true, force: true });
  console.log(`wrote bench/results/report.json (pass: ${result.pass})`);
  if (!result.pass) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
