// The report page: one self-contained HTML file. uPlot (npm `uplot`: its IIFE build and CSS) and
// the page's own code (report/client/main.ts, compiled by `npm run build` into
// dist/report-client/) are inlined with the data, so the file opens offline from a file:// URL.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from '../core/paths.js';
import type { ReportData } from './types.js';

let assets: { uplotJs: string; uplotCss: string; clientJs: string; uplotVersion: string } | undefined;

export function clientScriptPath(): string {
  return join(repoRoot(), 'dist', 'report-client', 'client', 'main.js');
}

function loadAssets(): NonNullable<typeof assets> {
  if (assets) return assets;
  const require = createRequire(import.meta.url);
  const client = clientScriptPath();
  if (!existsSync(client)) throw new Error(`the report page's script ${client} is missing: run npm run build`);
  const pkg = JSON.parse(readFileSync(require.resolve('uplot/package.json'), 'utf8')) as { version: string };
  assets = {
    uplotJs: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    clientJs: readFileSync(client, 'utf8'),
    uplotVersion: pkg.version,
  };
  for (const [name, js] of [['uPlot', assets.uplotJs], ['the page script', assets.clientJs]] as const)
    if (/<\/script|<!--/i.test(js)) throw new Error(`${name} contains '</script' or '<!--': it cannot be inlined`);
  return assets;
}

/** Text safe inside a <script> element: no `</script`, no `<!--` (JSON stays valid: \u003c is '<'). */
export function scriptSafe(text: string): string {
  return text.replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CSS = `
:root { --fg: #222; --muted: #777; --line: #ddd; --bg: #fff; --card: #f6f7f9; --accent: #1f6fb5; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header { padding: 16px 24px 8px; border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 8px 0 4px; }
h4 { font-size: 13px; margin: 14px 0 4px; }
main { padding: 0 24px 48px; max-width: 1400px; }
.muted, .note { color: var(--muted); }
.note { font-size: 12px; margin: 2px 0 8px; }
.warn { color: #b35900; }
.mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
#counts { display: flex; gap: 10px; flex-wrap: wrap; margin: 12px 0; }
.card { background: var(--card); border-radius: 6px; padding: 8px 14px; min-width: 90px; }
.card .num { font-size: 20px; font-weight: 600; }
.card .lbl { color: var(--muted); font-size: 12px; }
.progress { height: 8px; background: var(--card); border-radius: 4px; overflow: hidden; margin: 6px 0; }
#progress-bar { height: 100%; background: #888; width: 0; transition: width .4s; }
#status-line { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; white-space: pre-wrap; }
.live[hidden] { display: none; }
.live { font-size: 12px; padding: 2px 8px; border-radius: 10px; display: inline-block; margin-top: 4px; }
.live.on { background: #e6f4ea; color: #1e6b3a; }
.live.off { background: #fdecea; color: #9b1c1c; }
#campaigns a { margin-right: 12px; }
#campaigns a.current { font-weight: 600; }
table { border-collapse: collapse; margin: 6px 0; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
table.kv td:first-child { color: var(--muted); white-space: nowrap; }
table.kv td { white-space: pre-wrap; word-break: break-all; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.main-preset { font-weight: 600; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 12px 28px; }
.chart { min-height: 40px; }
.ptable { display: grid; grid-template-columns: repeat(18, minmax(28px, 1fr)); gap: 2px; max-width: 900px; }
.ptable .el { background: #eee; color: #999; border-radius: 3px; text-align: center; padding: 2px 0; font-size: 11px; line-height: 1.15; min-height: 34px; }
.ptable .el.has-data { color: #111; cursor: default; }
.ptable .el b { display: block; font-size: 12px; }
.ptable .el small { font-size: 9px; }
.legend-bar { display: flex; align-items: center; gap: 8px; font-size: 12px; margin: 8px 0; }
.legend-bar i { display: inline-block; width: 160px; height: 10px; background: linear-gradient(90deg, rgb(209,73,91), rgb(240,190,70), rgb(42,157,92)); }
#histograms { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 8px 28px; }
table.matrix td { text-align: right; min-width: 70px; }
.controls { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; margin: 8px 0; }
.controls input { padding: 4px 8px; min-width: 280px; }
table.rows { width: 100%; }
table.rows tr.row { cursor: pointer; }
table.rows tr.row:hover { background: #f2f6fb; }
table.rows tr.selected { background: #e3edf8; }
th.sortable { cursor: pointer; user-select: none; }
.lbl-stable { color: #1e7a47; }
.lbl-unstable { color: #b02a3c; }
#detail { border: 1px solid var(--line); border-radius: 6px; padding: 8px 16px 16px; margin-top: 16px; }
.spectra { display: flex; gap: 0; align-items: flex-start; flex-wrap: nowrap; margin-top: 12px; }
.spectra .band { flex: 1 1 auto; min-width: 320px; }
.spectra .dos { flex: 0 0 200px; }
.u-legend { font-size: 12px; }
`;

/** The page for this data (self-contained: open it from disk, or serve it). */
export function renderReportHtml(data: ReportData): string {
  const a = loadAssets();
  const title = `softmode report: ${data.campaign.name}`;
  const breakdown = (key: string) => `<div><h3></h3><p class="note"></p><div class="chart" id="breakdown-${key}"></div></div>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="softmode report (uPlot ${esc(a.uplotVersion)})">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>${a.uplotCss}</style>
<style>${CSS}</style>
</head>
<body>
<header>
<h1 id="title">${esc(title)}</h1>
<div id="subtitle" class="muted"></div>
<div id="campaigns"></div>
<span id="live" class="live" hidden>live</span>
</header>
<main>
<section id="summary">
<h2>Summary</h2>
<div id="counts"></div>
<div class="progress"><div id="progress-bar"></div></div>
<div id="status-line"></div>
<h3>Stable rate per preset</h3>
<div id="rates"></div>
<h3>Provenance</h3>
<div id="provenance"></div>
<div class="grid2"><div><h3>Failed and rejected</h3><div id="errors"></div></div><div><h3>Step timings (computed for this campaign)</h3><div id="timings"></div></div></div>
</section>
<section>
<h2>Convergence</h2>
<p class="note">The stable rate under the campaign preset and its 95 % Wilson interval (band) as structures were classified, in completion order; dashed: the other presets.</p>
<div class="chart" id="convergence"></div>
</section>
<section>
<h2>Breakdowns</h2>
<div class="controls"><label>preset <select id="preset"></select></label><span class="note">bars: stable rate; whiskers: 95 % Wilson interval; hover for counts</span></div>
<div class="grid2">${breakdown('crystal-system')}${breakdown('spacegroup')}${breakdown('natoms')}${breakdown('source')}</div>
<h3>Stable rate by element</h3>
<p class="note">Structures containing the element; colour: stable rate under the preset chosen above.</p>
<div id="periodic"></div>
</section>
<section>
<h2>Minimum frequency per preset</h2>
<p class="note">Lowest frequency each rule tests (imaginary modes negative; the Γ acoustic modes a rule exempts left out), green stable, red unstable under that preset.</p>
<div id="histograms"></div>
</section>
<section>
<h2>Agreement</h2>
<div id="agreement"></div>
</section>
<section>
<h2>Structures</h2>
<div class="controls">
<input id="search" type="search" placeholder="search name, formula, space group, folder, error class, item id">
<label>label <select id="filter-label"><option value="">any</option><option>stable</option><option>unstable</option><option>relaxation_failed</option><option>unclassified</option><option>failed</option><option>rejected</option><option>running</option><option>pending</option><option>cancelled</option></select></label>
<label>status <select id="filter-status"><option value="">any</option><option>done</option><option>failed</option><option>rejected</option><option>running</option><option>pending</option><option>cancelled</option></select></label>
<button id="prev">◀</button><button id="next">▶</button>
</div>
<div id="page-info" class="note"></div>
<div id="rows"></div>
<p id="details-note" class="note"></p>
<div id="detail" hidden><h3 id="detail-title"></h3><div id="detail-body"></div></div>
</section>
</main>
<script type="application/json" id="report-data">${scriptSafe(JSON.stringify(data))}</script>
<script>${a.uplotJs}</script>
<script type="module">${a.clientJs}</script>
</body>
</html>
`;
}
