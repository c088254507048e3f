// The campaign report (issue 17): its data against the stored rows, counted independently here
// (export rows, engine's Wilson interval, the stored phonon payloads), and the page itself in
// headless Chromium (Debian's `chromium` package; the browser tests skip with a message naming
// it when it is absent): every chart drew marks, one structure's detail shows its band
// structure, the console stays clean, and `--serve` updates the page while the campaign changes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wilson } from '../engine/campaign.js';
import { stopServices } from '../engine/services/index.js';
import { startPostgres } from '../engine/services/postgres.js';
import { progressLine } from '../cli/lib/progress.js';
import { STABILITY_PRESETS } from '../core/stability/index.js';
import type { PhononOut } from '../pipeline/steps.js';
import { buildReportData, startReportServer, writeReport } from '../report/index.js';
import { clientScriptPath } from '../report/html.js';
import { compactBand } from '../report/spectrum.js';
import { wilsonRate } from '../report/stats.js';
import type { ReportData } from '../report/types.js';
import { type CampaignRow, Store } from '../store/index.js';
import { type ReportItemRow, reportItemsPage } from '../store/report-queries.js';
import { createSyntheticCampaign } from '../bench/report-synthetic.js';
import { NO_CHROMIUM, chartMarks, chromiumPath, htmlMarks, launchChromium, openReport } from '../bench/report-browser.js';
import { cli, cliBackground, ensureBuilt, sleep, tempDir, waitFor } from './engine-harness.js';
import { REPO_ROOT } from './helpers.js';

const CHROMIUM = chromiumPath();
if (!CHROMIUM) console.warn(NO_CHROMIUM);

const CHARTS = ['convergence', 'breakdown-crystal-system', 'breakdown-spacegroup', 'breakdown-natoms', 'breakdown-source', ...STABILITY_PRESETS.map((p) => `hist-${p}`)];

describe('report', () => {
  let dir = '';
  let store: Store;
  let c: CampaignRow;
  let other: CampaignRow;
  let data: ReportData;
  let rows: Record<string, unknown>[] = [];
  let items: ReportItemRow[] = [];

  beforeAll(async () => {
    ensureBuilt();
    // the page's script is compiled by its own tsconfig (npm run build does both)
    if (!existsSync(clientScriptPath())) spawnSync('npx', ['tsc', '-p', 'report/client/tsconfig.json'], { cwd: REPO_ROOT, stdio: 'ignore' });
    dir = tempDir('report-');
    const pg = await startPostgres(dir);
    store = new Store(pg.url);
    await store.migrate();
    c = await createSyntheticCampaign(store, { name: 'report-test', n: 90, real: 8, running: 3, pending: 2, failed: 0.05, rejected: 0.05, seed: 5 });
    // the same structures (same seed) under another model, its soft modes shallower: other labels
    other = await createSyntheticCampaign(store, { name: 'report-test-morse', n: 90, real: 8, running: 3, pending: 2, failed: 0.05, rejected: 0.05, seed: 5, model: 'morse', depthScale: 0.02 });
    data = await buildReportData(store, c, { maxDetails: 1000, statusLine: progressLine });
    rows = await store.exportPage(c.id, 0, 1000);
    items = await reportItemsPage(store, c.id, 0, 1000);
  }, 300_000);

  afterAll(async () => {
    await store?.close().catch(() => undefined);
    if (dir) {
      await stopServices(dir).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** label of an export row under a preset, as the progress line counts it */
  const labelUnder = (r: Record<string, unknown>, p: string): string | undefined => {
    if (r['label'] === null || r['label'] === undefined) return undefined;
    return (r['labels'] as Record<string, string>)[p] ?? (r['label'] === 'relaxation_failed' ? 'relaxation_failed' : undefined);
  };

  it('counts and the stable rate per preset are the stored ones, with the Wilson interval of the progress line', () => {
    const by = (s: string) => rows.filter((r) => r['status'] === s).length;
    expect(data.counts).toMatchObject({ total: rows.length, done: by('done'), failed: by('failed'), rejected: by('rejected'), running: by('running'), pending: by('pending') });
    expect(by('failed') + by('rejected')).toBeGreaterThan(0);
    expect(data.counts.running).toBe(3);
    for (const [i, p] of STABILITY_PRESETS.entries()) {
      const ls = rows.map((r) => labelUnder(r, p)).filter((l) => l === 'stable' || l === 'unstable' || l === 'relaxation_failed');
      const k = ls.filter((l) => l === 'stable').length;
      const w = wilson(k, ls.length);
      const got = data.rates[i]!;
      expect(got.preset).toBe(p);
      expect([got.k, got.n]).toEqual([k, ls.length]);
      expect(got.p!).toBeCloseTo(w.p, 4);
      expect(got.lo).toBeCloseTo(w.lo, 4);
      expect(got.hi).toBeCloseTo(w.hi, 4);
    }
    // the presets disagree somewhere (thresholds from 1e-3 to 0.3 THz): the rates differ
    expect(new Set(data.rates.map((r) => r.k)).size).toBeGreaterThan(1);
    // the progress line the page shows is the CLI's
    expect(data.statusLine).toMatch(/done \d+ +failed \d+/);
  });

  it("the report's Wilson interval is the engine's", () => {
    for (const [k, n] of [[0, 1], [1, 1], [3, 10], [57, 100], [4000, 10000], [0, 0]] as const) {
      const a = wilsonRate(k, n);
      const b = wilson(k, n);
      expect(a.lo).toBeCloseTo(b.lo, 12);
      expect(a.hi).toBeCloseTo(b.hi, 12);
      if (n) expect(a.p).toBeCloseTo(b.p, 12);
    }
  });

  it('convergence runs over the results in completion order and ends at the final rate', () => {
    const results = rows.filter((r) => r['label'] !== null && r['label'] !== undefined).length;
    const cv = data.convergence;
    expect(cv.n[cv.n.length - 1]).toBe(results);
    for (const [i, s] of cv.series.entries()) {
      expect(s.p[s.p.length - 1]).toBeCloseTo(data.rates[i]!.p!, 4);
      for (let j = 0; j < s.p.length; j++) if (s.p[j] !== null) expect(s.lo[j]! <= s.p[j]! && s.p[j]! <= s.hi[j]!).toBe(true);
    }
    // completion order: recount the campaign preset's running rate over the results by finish time
    const finished = items.filter((r) => r.label !== null).sort((a, b) => a.finished_at!.getTime() - b.finished_at!.getTime() || a.id - b.id);
    const main = cv.series[data.presetIndex]!;
    let k = 0;
    let n = 0;
    let j = 0;
    finished.forEach((r, i) => {
      const l = r.labels?.[c.preset] ?? (r.label === 'relaxation_failed' ? 'relaxation_failed' : undefined);
      if (l === 'stable' || l === 'unstable' || l === 'relaxation_failed') n++;
      if (l === 'stable') k++;
      if (cv.n[j] === i + 1) {
        expect(main.p[j]).toBeCloseTo(k / n, 4);
        j++;
      }
    });
    expect(j).toBe(cv.n.length);
  });

  it('breakdowns and histograms account for every classified structure', () => {
    for (const [i] of STABILITY_PRESETS.entries()) {
      const n = data.rates[i]!.n;
      for (const b of data.breakdowns.filter((x) => x.key !== 'spacegroup' && x.key !== 'source')) expect(b.categories.reduce((s, x) => s + x.rates[i]!.n, 0)).toBe(n);
      // histograms: stable + unstable structures under that preset (relaxation failures have no spectrum)
      const h = data.histograms[i]!;
      const su = rows.map((r) => labelUnder(r, STABILITY_PRESETS[i]!)).filter((l) => l === 'stable' || l === 'unstable');
      expect(h.stable.reduce((s, v) => s + v, 0)).toBe(su.filter((l) => l === 'stable').length);
      expect(h.unstable.reduce((s, v) => s + v, 0)).toBe(su.filter((l) => l === 'unstable').length);
    }
    // every structure with a result is in the element tally of each of its elements
    const withResult = rows.filter((r) => r['label'] !== null && r['label'] !== undefined);
    const elements = new Set(withResult.flatMap((r) => String(r['formula']).match(/[A-Z][a-z]?/g) ?? []));
    expect(data.periodic.elements.map((e) => data.periodic.symbols[e.z - 1]).sort()).toEqual([...elements].sort());
    // preset agreement: the diagonal is 1, the matrix symmetric
    const f = data.presetAgreement.fraction;
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(f[i]![j]).toBe(i === j ? 1 : f[j]![i]);
  });

  it("a structure's detail is its stored band structure: every branch, the path's labels, the soft mode", async () => {
    const row = rows.find((r) => String(r['source_name']) === 'C-diamond.vasp')!;
    const d = data.details[String(row['item_id'])]!;
    expect(d).toBeDefined();
    const stored = (await store.peekStep<PhononOut>(String(row['phonon_key'])))!.payload;
    const band = d.band!;
    expect(band.nu).toHaveLength(3 * stored.primitive.numbers.length);
    // stored compact (phonons-3): the band path's q-point count is kept beside the plot's
    expect(band.pointsStored).toBe(stored.plot?.bandPoints ?? stored.band!.qpoints.length);
    const segLabels = stored.band!.segments.flatMap((s) => s.labels ?? []).map((l) => (l === 'GAMMA' ? 'Γ' : l));
    for (const t of band.ticks) for (const part of t.label.split('|')) expect(segLabels).toContain(part);
    const min = Math.min(...stored.band!.frequencies.flat());
    expect(band.soft!.nuTHz).toBe(min);
    // imaginary modes are negative on the page too (thousandths of a THz)
    expect(Math.min(...band.nu.flat().filter((v): v is number => v !== null)) * band.scale).toBeCloseTo(min, 3);
    expect(compactBand(stored)).toEqual(band);
    // the DOS integrates to 3 × atoms
    const dos = d.dos!;
    expect(dos.values.reduce((s, v) => s + v, 0) * dos.dnu).toBeCloseTo(3 * stored.primitive.numbers.length, 1);
    expect(d.steps.map((s) => s.step)).toEqual(['relax', 'phonons', 'classify']);
    expect(d.verdicts.map((v) => v.label)).toEqual(STABILITY_PRESETS.map((p) => (row['labels'] as Record<string, string>)[p]));
  });

  it('model agreement: label pairs over the structures both campaigns classified, matched by content hash', async () => {
    expect(data.modelAgreement).toHaveLength(1);
    const m = data.modelAgreement[0]!;
    expect(m.colLabel).toBe('morse');
    expect(m.rowLabel).toBe('lennard-jones');
    const theirs = new Map((await store.exportPage(other.id, 0, 1000)).filter((r) => r['label'] !== null).map((r) => [String(r['structure_hash']), r]));
    const pairs = new Map<string, number>();
    for (const r of rows) {
      const t = theirs.get(String(r['structure_hash']));
      if (r['label'] === null || !t) continue;
      const key = `${labelUnder(r, c.preset)}|${labelUnder(t, c.preset)}`;
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
    for (const [i, a] of m.labels.entries()) for (const [j, b] of m.labels.entries()) expect(`${a}|${b}: ${m.counts[i]![j]}`).toBe(`${a}|${b}: ${pairs.get(`${a}|${b}`) ?? 0}`);
    // shallower soft modes: some structures unstable under one model are stable under the other
    expect(pairs.get('unstable|stable') ?? 0).toBeGreaterThan(0);
  });

  it('embeds details up to the limit, the most informative first', async () => {
    const small = await buildReportData(store, c, { maxDetails: 5 });
    const ids = Object.keys(small.details).map(Number);
    expect(ids).toHaveLength(5);
    // presets disagree on the chosen ones first, when there are such structures
    const disagree = rows.filter((r) => new Set(STABILITY_PRESETS.map((p) => labelUnder(r, p)).filter((l) => l === 'stable' || l === 'unstable')).size > 1);
    if (disagree.length >= 5) for (const id of ids) expect(disagree.map((r) => Number(r['item_id']))).toContain(id);
    expect(small.detailsNote).toMatch(/5 of \d+ structures/);
  });

  it('writes one self-contained page: nothing loaded from elsewhere', async () => {
    const out = join(dir, 'report.html');
    const w = await writeReport(store, c, out);
    const html = readFileSync(out, 'utf8');
    expect(w.bytes).toBe(statSync(out).size);
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href="(?!data:)/i);
    expect(html).not.toMatch(/url\(\s*['"]?(?:https?:)?\/\//i);
    expect(html).toContain('uPlot');
    // the page's code imports nothing at run time
    expect(readFileSync(join(REPO_ROOT, 'report', 'client', 'main.ts'), 'utf8')).not.toMatch(/^import (?!type )/m);
  });

  describe.skipIf(!CHROMIUM)('in headless Chromium', () => {
    it('draws every chart, shows a structure\'s band structure from the table, logs no error; screenshot (bench/results/report.png on request)', async () => {
      const out = join(dir, 'report.html');
      await writeReport(store, c, out, { maxDetails: 1000, statusLine: progressLine });
      const browser = await launchChromium();
      try {
        const o = await openReport(browser, `file://${out}`);
        const marks = await chartMarks(o.page);
        expect(marks.map((m) => m.name).sort()).toEqual([...CHARTS].sort());
        for (const m of marks) expect(`${m.name}: ${m.markPixels}`).toMatch(/: \d{3,}$/);
        const h = await htmlMarks(o.page);
        expect(h.elements).toBe(data.periodic.elements.length);
        expect(h.elementsColoured).toBe(h.elements);
        expect(h.matrixCells).toBe(16 + data.modelAgreement.reduce((s, m) => s + m.labels.length ** 2, 0));
        // the summary shows the stored rate
        const rates = (await o.page.evaluate(`document.getElementById('rates').innerText`)) as string;
        const main = data.rates[data.presetIndex]!;
        expect(rates).toContain(`${(100 * main.p!).toFixed(1)} % [${(100 * main.lo).toFixed(1)} % – ${(100 * main.hi).toFixed(1)} %] (${main.k}/${main.n})`);

        // search the table, click the structure: its band structure and DOS
        await o.page.type('#search', 'C-diamond');
        await o.page.waitForFunction(`document.querySelectorAll('tr.row').length === 1`, { timeout: 10_000 });
        await o.page.click('tr.row');
        await o.page.waitForFunction('window.softmodeReport.detailReady === true', { timeout: 10_000 });
        const after = await chartMarks(o.page);
        const band = after.find((m) => m.name === 'band');
        const dos = after.find((m) => m.name === 'dos');
        expect(band?.markPixels).toBeGreaterThan(1000);
        expect(dos?.markPixels).toBeGreaterThan(200);
        const row = rows.find((r) => String(r['source_name']) === 'C-diamond.vasp')!;
        const stored = (await store.peekStep<PhononOut>(String(row['phonon_key'])))!.payload;
        const info = (await o.page.evaluate(`window.softmodeReport.chartInfo('band')`)) as { series: number; points: number };
        expect(info.series).toBe(3 * stored.primitive.numbers.length);
        expect(info.points).toBe(data.details[String(row['item_id'])]!.band!.x.length);
        // its imaginary mode is drawn (the soft-mode marker and ν < 0 branches)
        expect(Math.min(...stored.band!.frequencies.flat())).toBeLessThan(-0.1);
        expect(await o.page.evaluate(`document.getElementById('detail-title').textContent`)).toContain('C-diamond');
        expect(o.errors).toEqual([]);
        // the committed bench/results/report.png is refreshed only on request
        // (SOFTMODE_UPDATE_SCREENSHOT=1 npx vitest run test/report.test.ts): a plain test run
        // must not dirty a tracked file
        const shotDir = process.env['SOFTMODE_UPDATE_SCREENSHOT'] === '1' ? join(REPO_ROOT, 'bench', 'results') : dir;
        mkdirSync(shotDir, { recursive: true });
        await o.page.screenshot({ path: join(shotDir, 'report.png'), fullPage: true });
        expect(statSync(join(shotDir, 'report.png')).size).toBeGreaterThan(10_000);
      } finally {
        await browser.close();
      }
    }, 120_000);

    it('--serve: the page follows the campaign live and fetches any structure on demand', async () => {
      const server = await startReportServer({
        store,
        resolveCampaign: async (q) => (q ? (await store.getCampaign(/^\d+$/.test(q) ? Number(q) : q))! : c),
        port: 0,
        maxDetails: 0,
        statusLine: progressLine,
        minRebuildMs: 0,
      });
      const browser = await launchChromium();
      try {
        const o = await openReport(browser, server.url);
        await o.page.waitForFunction(`document.getElementById('live').textContent.startsWith('live ·')`, { timeout: 10_000 });
        const before = (await o.page.evaluate(`document.getElementById('status-line').textContent`)) as string;
        expect(before).toContain(`running ${data.counts.running}`);
        // a running structure finishes (failed): the status line and the counts follow
        const running = rows.find((r) => r['status'] === 'running')!;
        await store.finishItem(Number(running['item_id']), 0, 'failed', { errorClass: 'LiveTest', message: 'finished while the page was open' });
        await o.page.waitForFunction(`window.softmodeReport.refreshes >= 1`, { timeout: 20_000, polling: 200 });
        await o.page.waitForFunction(`document.getElementById('status-line').textContent.includes('running ${data.counts.running - 1}')`, { timeout: 10_000 });
        const failedCard = (await o.page.evaluate(`document.querySelector('#counts .failed .num').textContent`)) as string;
        expect(Number(failedCard)).toBe(data.counts.failed + 1);
        // no detail is embedded (maxDetails 0): the server answers for any structure
        await o.page.type('#search', 'C-diamond');
        await o.page.waitForFunction(`document.querySelectorAll('tr.row').length === 1`, { timeout: 10_000 });
        await o.page.click('tr.row');
        await o.page.waitForFunction('window.softmodeReport.detailReady === true', { timeout: 20_000 });
        const band = (await chartMarks(o.page)).find((m) => m.name === 'band');
        expect(band?.markPixels).toBeGreaterThan(1000);
        expect(o.errors).toEqual([]);
      } finally {
        await browser.close();
        await server.close();
      }
    }, 120_000);
  });

  // last: the CLI's commands stop the embedded PostgreSQL they found when they exit
  it('softmode report writes the file and prints its path; --serve answers on 127.0.0.1', async () => {
    const out = join(dir, 'cli-report.html');
    const r = await cli(['report', '--campaign-dir', dir, '--campaign', 'report-test', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').pop()).toBe(out);
    expect(readFileSync(out, 'utf8')).toContain('"name":"report-test"');
    const bad = await cli(['report', '--campaign-dir', dir, '--serve', '--out', out]);
    expect(bad.code).toBe(2);

    const p = cliBackground(['report', '--serve', '--port', '0', '--json', '--campaign-dir', dir, '--campaign', 'report-test']);
    try {
      const url = await waitFor('the server URL', async () => {
        const line = p.output().split('\n').find((l) => l.startsWith('{"campaign"'));
        return line ? (JSON.parse(line) as { url: string }).url : undefined;
      }, 60_000);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const st = (await (await fetch(`${url}api/status`)).json()) as { campaign: string; counts: { total: number } };
      expect(st.campaign).toBe('report-test');
      expect(st.counts.total).toBe(data.counts.total);
      const page = await (await fetch(url)).text();
      expect(page).toContain('"live":true');
      expect((await fetch(`${url}api/item/999999999`)).status).toBe(404);
    } finally {
      p.kill('SIGINT');
      await waitFor('the server to exit', async () => p.exitCode !== null, 30_000);
      await sleep(100);
    }
    expect(p.exitCode).toBe(0);
  }, 180_000);
});
