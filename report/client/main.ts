// The campaign report page (browser code, inlined into the HTML by report/html.ts after uPlot's
// IIFE build, which defines the global `uPlot`). Reads the report data embedded in the page
// (report/types.ts ReportData) and draws: summary, convergence, breakdowns, periodic table,
// histograms, agreement, the structures table and one structure's band structure + DOS. Served
// by `softmode report --serve` it polls /api/status and reloads /api/data while the campaign runs.
import type UPlot from 'uplot';
import type { Breakdown, CompactBand, CompactDos, ItemDetail, LABEL_CODE, LiveStatus, Rate, ReportData, STATUS_CODE } from '../types.js';

declare const uPlot: typeof UPlot;

// ------------------------------------------------------------------------------ constants

const LABEL_OF: Record<(typeof LABEL_CODE)[keyof typeof LABEL_CODE] | '-', string> = { s: 'stable', u: 'unstable', r: 'relaxation_failed', x: 'unclassified', '-': '' };
const STATUS_OF: Record<(typeof STATUS_CODE)[keyof typeof STATUS_CODE], string> = { d: 'done', f: 'failed', j: 'rejected', r: 'running', p: 'pending', c: 'cancelled' };

/** Mark colours (axes, grid and text are grey: a chart's chromatic pixels are its marks). */
const PALETTE = {
  stable: '#2a9d5c',
  unstable: '#d1495b',
  rate: '#1f6fb5',
  band: '#1f6fb5',
  soft: '#d1495b',
  dos: '#1f6fb5',
  presets: ['#e08a1e', '#7b4fb5', '#17a2b8', '#1f6fb5'],
  ci: 'rgba(31,111,181,0.2)',
  imaginary: 'rgba(209,73,91,0.08)',
};
const GREY = { axis: '#555555', grid: 'rgba(0,0,0,0.08)', zero: '#444444', threshold: '#333333' };
const PAGE_ROWS = 50;

// ------------------------------------------------------------------------------ state

let data = JSON.parse(document.getElementById('report-data')!.textContent!) as ReportData;
let preset = data.presetIndex;
const charts = new Map<string, UPlot>();
const detailCache = new Map<number, ItemDetail>();
let detailId: number | null = null;
const table = { query: '', label: '', status: '', sort: 'order' as string, dir: 1, page: 0, view: [] as number[] };

interface ReportHandle {
  ready: boolean;
  /** ms since navigation start when every chart was drawn */
  readyAt: number;
  renderMs: number;
  palette: typeof PALETTE;
  charts: () => string[];
  /** a drawn chart's series (x excluded) and points, for the browser test */
  chartInfo: (name: string) => { series: number; points: number } | null;
  showDetail: (id: number) => Promise<void>;
  detailReady: boolean;
  refreshes: number;
  errors: string[];
}
const handle: ReportHandle = {
  ready: false,
  readyAt: 0,
  renderMs: 0,
  palette: PALETTE,
  charts: () => [...charts.keys()],
  chartInfo: (name) => {
    const u = charts.get(name);
    return u ? { series: u.series.length - 1, points: u.data[0]?.length ?? 0 } : null;
  },
  showDetail,
  detailReady: false,
  refreshes: 0,
  errors: [],
};
(window as unknown as { softmodeReport: ReportHandle }).softmodeReport = handle;

// ------------------------------------------------------------------------------ helpers

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string | null)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null) e.append(c);
  return e;
}

function byId(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`no #${id} in the page`);
  return e;
}

function pct(p: number | null, digits = 1): string {
  return p === null ? '–' : `${(100 * p).toFixed(digits)} %`;
}

function rateText(r: Rate): string {
  return r.n === 0 ? 'no classified structure' : `${pct(r.p)} [${pct(r.lo)} – ${pct(r.hi)}]  (${r.k}/${r.n})`;
}

function fmt(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

function short(sha: string, n = 12): string {
  return sha.length > n ? `${sha.slice(0, n)}…` : sha;
}

function table2(headers: string[], rows: (string | Node)[][], cls = ''): HTMLTableElement {
  return el(
    'table',
    { class: cls },
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))),
  );
}

/** red (0) → amber (0.5) → green (1) */
function heat(p: number): string {
  const a = [209, 73, 91];
  const m = [240, 190, 70];
  const b = [42, 157, 92];
  const [c0, c1, t] = p < 0.5 ? [a, m, p / 0.5] : [m, b, (p - 0.5) / 0.5];
  const c = c0.map((v, i) => Math.round(v + (c1[i]! - v) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function width(container: HTMLElement, fallback = 600): number {
  return Math.max(280, Math.floor(container.clientWidth || fallback));
}

function mount(name: string, container: HTMLElement, opts: UPlot.Options, d: UPlot.AlignedData): UPlot {
  charts.get(name)?.destroy();
  container.replaceChildren();
  container.dataset['chart'] = name;
  const u = new uPlot(opts, d, container);
  charts.set(name, u);
  return u;
}

const axisCommon = { stroke: GREY.axis, grid: { stroke: GREY.grid, width: 1 }, ticks: { stroke: GREY.grid, width: 1 } };

// ------------------------------------------------------------------------------ summary

function renderSummary(): void {
  const c = data.campaign;
  byId('title').textContent = `softmode report: ${c.name}`;
  const n = data.counts;
  const finished = n.done + n.failed + n.rejected + n.cancelled;
  byId('subtitle').textContent = `${c.status} · model ${c.model} (${c.modelPrecision}) · preset ${c.preset} · generated ${new Date(data.generatedAt).toLocaleString()}${data.live ? ' · live' : ''}`;
  const cards = byId('counts');
  cards.replaceChildren(
    ...(
      [
        ['structures', n.total],
        ['done', n.done],
        ['failed', n.failed],
        ['rejected', n.rejected],
        ['running', n.running],
        ['pending', n.pending],
        ...(n.cancelled ? ([['cancelled', n.cancelled]] as [string, number][]) : []),
      ] as [string, number][]
    ).map(([k, v]) => el('div', { class: `card ${k}` }, el('div', { class: 'num' }, String(v)), el('div', { class: 'lbl' }, k))),
  );
  const bar = byId('progress-bar');
  bar.style.width = `${n.total ? (100 * finished) / n.total : 100}%`;
  byId('status-line').textContent = data.statusLine ?? `${finished}/${n.total} finished`;
  byId('rates').replaceChildren(
    table2(
      ['preset', 'stable rate [95 % Wilson interval] (stable/classified)', 'rule', 'threshold'],
      data.rates.map((r, i) => [
        el('span', { class: i === data.presetIndex ? 'main-preset' : '' }, r.preset + (i === data.presetIndex ? ' (campaign)' : '')),
        rateText(r),
        data.presets[i]!.ruleVersion,
        `${fmt(-data.presets[i]!.thresholdTHz, 4)} THz`,
      ]),
    ),
  );
  const p = data.provenance;
  const mixed = p.models.length > 1 || p.codeShas.length > 1 || p.configShas.length > 1;
  byId('provenance').replaceChildren(
    table2(
      ['', 'value'],
      [
        ['model(s)', p.models.length ? p.models.map((m) => `${m.name} ${m.precision}${m.relaxPrecision && m.relaxPrecision !== m.precision ? ` (trajectory ${m.relaxPrecision})` : ''} sha256 ${m.sha256} (${m.n} results)`).join('\n') : `${c.model} sha256 ${c.modelSha256}`],
        ['code version', p.codeShas.length ? p.codeShas.map((x) => `${x.sha} (${x.n})`).join('\n') : c.codeSha],
        ['settings sha256', p.configShas.length ? p.configShas.map((x) => `${x.sha} (${x.n})`).join('\n') : c.configSha256],
        ['steps used', `${p.stepsUsed}: computed ${p.computed}, served from the store ${p.served}; completed steps recomputed ${p.recomputedSteps}`],
        ['campaign', `id ${c.id}, created ${new Date(c.createdAt).toLocaleString()}, ${c.partitions} partition(s), window ${c.windowSize}`],
      ],
      'kv',
    ),
    ...(mixed ? [el('p', { class: 'warn' }, 'results come from more than one model, code version or settings set (see counts above)')] : []),
  );
  byId('errors').replaceChildren(
    data.errors.length ? table2(['status', 'error class', 'items'], data.errors.map((e) => [e.status, e.errorClass, String(e.n)])) : el('p', { class: 'muted' }, 'no failed or rejected items'),
  );
  byId('timings').replaceChildren(
    data.stepTimings.length
      ? table2(
          ['step', 'computed', 'total s', 'mean s', 'in the model'],
          data.stepTimings.map((t) => [t.step, String(t.n), (t.durationMs / 1000).toFixed(1), (t.durationMs / 1000 / Math.max(1, t.n)).toFixed(2), t.durationMs ? pct(t.modelMs / t.durationMs, 0) : '–']),
        )
      : el('p', { class: 'muted' }, 'no step computed for this campaign yet'),
  );
  const sel = byId('campaigns');
  sel.replaceChildren(
    ...(data.live && data.campaigns.length > 1
      ? [el('span', {}, 'campaigns: '), ...data.campaigns.map((x) => el('a', { href: `?campaign=${x.id}`, class: x.id === c.id ? 'current' : '' }, `${x.name} (${x.model}, ${x.status})`))]
      : []),
  );
}

// ------------------------------------------------------------------------------ convergence

function renderConvergence(): void {
  const box = byId('convergence');
  const cv = data.convergence;
  if (cv.n.length === 0) {
    charts.get('convergence')?.destroy();
    charts.delete('convergence');
    box.replaceChildren(el('p', { class: 'muted' }, 'no structure classified yet'));
    return;
  }
  const main = cv.series[data.presetIndex]!;
  const others = cv.series.filter((_, i) => i !== data.presetIndex);
  const series: UPlot.Series[] = [
    { label: 'structures classified' },
    { label: `${main.preset} stable rate`, stroke: PALETTE.rate, width: 2, value: (_u, v) => pct(v) },
    { label: '95 % low', stroke: PALETTE.ci, width: 1, value: (_u, v) => pct(v) },
    { label: '95 % high', stroke: PALETTE.ci, width: 1, value: (_u, v) => pct(v) },
    ...others.map((s) => ({ label: s.preset, stroke: PALETTE.presets[data.presets.findIndex((p) => p.name === s.preset)] ?? '#888', width: 1, dash: [4, 3], value: (_u: UPlot, v: number | null) => pct(v) })),
  ];
  mount(
    'convergence',
    box,
    {
      width: width(box),
      height: 300,
      series,
      bands: [{ series: [3, 2], fill: PALETTE.ci }],
      scales: { x: { time: false }, y: { range: (_u, lo, hi) => [Math.max(0, (lo ?? 0) - 0.05), Math.min(1, (hi ?? 1) + 0.05)] } },
      axes: [
        { ...axisCommon, label: 'structures classified (completion order)' },
        { ...axisCommon, label: 'stable rate', values: (_u, splits) => splits.map((v) => `${Math.round(100 * v)}%`) },
      ],
      cursor: { points: { show: false } },
    },
    [cv.n, main.p, main.lo, main.hi, ...others.map((s) => s.p)] as UPlot.AlignedData,
  );
}

// ------------------------------------------------------------------------------ breakdowns

function whiskers(lo: number[], hi: number[]): UPlot.Hooks.Arrays['draw'] {
  return [
    (u: UPlot) => {
      const ctx = u.ctx;
      ctx.save();
      ctx.strokeStyle = GREY.zero;
      ctx.lineWidth = Math.max(1, devicePixelRatio);
      for (let i = 0; i < lo.length; i++) {
        const x = u.valToPos(i, 'x', true);
        const y0 = u.valToPos(lo[i]!, 'y', true);
        const y1 = u.valToPos(hi[i]!, 'y', true);
        const w = 4 * devicePixelRatio;
        ctx.beginPath();
        ctx.moveTo(x, y0);
        ctx.lineTo(x, y1);
        ctx.moveTo(x - w, y0);
        ctx.lineTo(x + w, y0);
        ctx.moveTo(x - w, y1);
        ctx.lineTo(x + w, y1);
        ctx.stroke();
      }
      ctx.restore();
    },
  ];
}

function renderBreakdown(b: Breakdown): void {
  const box = byId(`breakdown-${b.key}`);
  const cats = b.categories.filter((c) => c.rates[preset]!.n > 0);
  const name = `breakdown-${b.key}`;
  box.parentElement!.querySelector('h3')!.textContent = b.title;
  box.parentElement!.querySelector('.note')!.textContent = b.note;
  if (cats.length === 0) {
    charts.get(name)?.destroy();
    charts.delete(name);
    box.replaceChildren(el('p', { class: 'muted' }, 'no classified structure'));
    return;
  }
  const xs = cats.map((_, i) => i);
  const ps = cats.map((c) => c.rates[preset]!.p ?? 0);
  const lo = cats.map((c) => c.rates[preset]!.lo);
  const hi = cats.map((c) => c.rates[preset]!.hi);
  const long = cats.some((c) => c.label.length > 8) || cats.length > 8;
  mount(
    name,
    box,
    {
      width: width(box, 480),
      height: long ? 300 : 240,
      series: [
        { label: b.key, value: (_u, v) => (v === null ? '' : (cats[v]?.label ?? '')) },
        {
          label: `stable rate (${data.presets[preset]!.name})`,
          fill: PALETTE.rate,
          stroke: PALETTE.rate,
          paths: uPlot.paths.bars!({ size: [0.7, 60] }),
          points: { show: false },
          value: (_u, _v, _si, idx) => (idx === null || !cats[idx] ? '' : rateText(cats[idx]!.rates[preset]!)),
        },
      ],
      scales: { x: { time: false, range: [-0.5, cats.length - 0.5] }, y: { range: [0, 1] } },
      axes: [
        {
          ...axisCommon,
          splits: () => xs,
          values: (_u, splits) => splits.map((i) => cats[i]?.label ?? ''),
          ...(long ? { rotate: -40, size: 90 } : {}),
          grid: { show: false },
        },
        { ...axisCommon, values: (_u, splits) => splits.map((v) => `${Math.round(100 * v)}%`) },
      ],
      hooks: { draw: whiskers(lo, hi) },
      cursor: { points: { show: false } },
    },
    [xs, ps],
  );
}

function renderPeriodic(): void {
  const box = byId('periodic');
  const byZ = new Map(data.periodic.elements.map((e) => [e.z, e.rates[preset]!]));
  const grid = el('div', { class: 'ptable', 'data-chart': 'elements' });
  let marked = 0;
  data.periodic.symbols.forEach((sym, i) => {
    const z = i + 1;
    const [row, col] = data.periodic.cells[i]!;
    const r = byZ.get(z);
    const has = r !== undefined && r.n > 0;
    if (has) marked++;
    const cell = el('div', { class: `el${has ? ' has-data' : ''}`, title: has ? `${sym}: ${rateText(r!)}` : `${sym}: no structure`, 'data-z': String(z) }, el('b', {}, sym), has ? el('small', {}, String(r!.n)) : null);
    cell.style.gridRow = String(row + (row >= 9 ? 1 : 0));
    cell.style.gridColumn = String(col);
    if (has) cell.style.background = heat(r!.p ?? 0);
    grid.append(cell);
  });
  const legend = el('div', { class: 'legend-bar' }, el('span', {}, '0 %'), el('i', {}), el('span', {}, '100 % stable'), el('span', { class: 'muted' }, ` · ${marked} elements · number: structures containing it`));
  box.replaceChildren(grid, legend);
}

// ------------------------------------------------------------------------------ histograms

function renderHistograms(): void {
  const box = byId('histograms');
  const want = new Set(data.histograms.map((h) => `hist-${h.preset}`));
  for (const k of [...charts.keys()]) if (k.startsWith('hist-') && !want.has(k)) (charts.get(k)!.destroy(), charts.delete(k));
  if (box.children.length !== data.histograms.length) box.replaceChildren(...data.histograms.map((h) => el('div', { class: 'hist' }, el('h4', {}, ''), el('div', { class: 'chart' }), el('p', { class: 'note' }, ''))));
  data.histograms.forEach((h, i) => {
    const wrap = box.children[i] as HTMLElement;
    const info = data.presets.find((p) => p.name === h.preset)!;
    wrap.querySelector('h4')!.textContent = `${h.preset}: lowest tested ν (${h.n} structures)`;
    wrap.querySelector('.note')!.textContent = `${info.note}; dashed: the threshold ${fmt(-h.thresholdTHz, 4)} THz. Axis linear within ±${h.asinhScale} THz, logarithmic beyond.`;
    const chartBox = wrap.querySelector('.chart') as HTMLElement;
    const s = h.asinhScale;
    const centres = h.stable.map((_, b) => s * Math.sinh((Math.asinh(h.edges[b]! / s) + Math.asinh(h.edges[b + 1]! / s)) / 2));
    // empty bins draw nothing (a zero-height bar would still stroke a line)
    const total = h.stable.map((v, b) => (v + h.unstable[b]! > 0 ? v + h.unstable[b]! : null));
    const stable = h.stable.map((v) => (v > 0 ? v : null));
    const binText = (idx: number | null) => (idx === null ? '' : `${fmt(h.edges[idx], 4)} … ${fmt(h.edges[idx + 1], 4)} THz`);
    const threshold = -h.thresholdTHz;
    mount(
      `hist-${h.preset}`,
      chartBox,
      {
        width: width(chartBox, 420),
        height: 220,
        series: [
          { label: 'ν', value: (_u, _v, _si, idx) => binText(idx) },
          { label: 'unstable', fill: PALETTE.unstable, stroke: PALETTE.unstable, paths: uPlot.paths.bars!({ size: [0.95, 40] }), points: { show: false }, value: (_u, _v, _si, idx) => (idx === null ? '' : String(h.unstable[idx])) },
          { label: 'stable', fill: PALETTE.stable, stroke: PALETTE.stable, paths: uPlot.paths.bars!({ size: [0.95, 40] }), points: { show: false }, value: (_u, _v, _si, idx) => (idx === null ? '' : String(h.stable[idx])) },
        ],
        scales: { x: { time: false, distr: 4, asinh: s, range: [h.edges[0]!, h.edges[h.edges.length - 1]!] }, y: { range: (_u, _lo, hi) => [0, Math.max(1, hi ?? 1) * 1.05] } },
        axes: [{ ...axisCommon, label: 'ν (THz)' }, { ...axisCommon, label: 'structures' }],
        hooks: {
          draw: [
            (u) => {
              const ctx = u.ctx;
              const x = u.valToPos(threshold, 'x', true);
              ctx.save();
              ctx.strokeStyle = GREY.threshold;
              ctx.setLineDash([5 * devicePixelRatio, 4 * devicePixelRatio]);
              ctx.lineWidth = 1.5 * devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.restore();
            },
          ],
        },
        cursor: { points: { show: false } },
      },
      [centres, total, stable],
    );
  });
}

// ------------------------------------------------------------------------------ agreement

function matrixTable(labels: string[], rowsLabel: string, colsLabel: string, cell: (i: number, j: number) => { text: string; shade: number | null; title: string }): HTMLTableElement {
  return el(
    'table',
    { class: 'matrix' },
    el('thead', {}, el('tr', {}, el('th', {}, `${rowsLabel} \\ ${colsLabel}`), ...labels.map((l) => el('th', {}, l)))),
    el(
      'tbody',
      {},
      ...labels.map((l, i) =>
        el(
          'tr',
          {},
          el('th', {}, l),
          ...labels.map((_, j) => {
            const c = cell(i, j);
            const td = el('td', { title: c.title, class: c.shade === null ? '' : 'has-data' }, c.text);
            if (c.shade !== null) td.style.background = `rgba(31,111,181,${(0.08 + 0.6 * c.shade).toFixed(3)})`;
            return td;
          }),
        ),
      ),
    ),
  );
}

function renderAgreement(): void {
  const a = data.presetAgreement;
  const box = byId('agreement');
  const parts: Node[] = [
    el('h4', {}, 'Presets: fraction of structures with the same label'),
    matrixTable(a.presets, 'preset', 'preset', (i, j) => ({
      text: a.fraction[i]![j] === null ? '–' : pct(a.fraction[i]![j]!, 1),
      shade: a.fraction[i]![j] ?? null,
      title: `${a.presets[i]} vs ${a.presets[j]}: ${a.n[i]![j]} structures classified under both`,
    })),
  ];
  if (data.modelAgreement.length === 0) parts.push(el('p', { class: 'muted' }, 'no other model computed these structures in this store (model agreement appears when another campaign with another model shares structures)'));
  for (const m of data.modelAgreement) {
    const total = m.counts.flat().reduce((s, v) => s + v, 0);
    const diag = m.labels.reduce((s, _, i) => s + m.counts[i]![i]!, 0);
    parts.push(
      el('h4', {}, `${m.title}: ${pct(total ? diag / total : null)} agree (${total} structures)`),
      matrixTable(m.labels, m.rowLabel, m.colLabel, (i, j) => ({ text: String(m.counts[i]![j]), shade: total ? m.counts[i]![j]! / total : null, title: `${m.rowLabel} ${m.labels[i]}, ${m.colLabel} ${m.labels[j]}` })),
    );
  }
  box.replaceChildren(...parts);
}

// ------------------------------------------------------------------------------ structures table

const COLUMNS: { key: string; title: string }[] = [
  { key: 'order', title: '#' },
  { key: 'name', title: 'structure' },
  { key: 'formula', title: 'formula' },
  { key: 'natoms', title: 'atoms' },
  { key: 'sg', title: 'space group' },
  { key: 'status', title: 'status' },
  { key: 'label', title: 'label' },
  { key: 'minNu', title: 'min ν (THz)' },
  { key: 'labels', title: 'labels per preset' },
  { key: 'folder', title: 'folder' },
];

function labelOf(i: number, p = data.presetIndex): string {
  const code = data.rows.labels[i]!.charAt(p) as keyof typeof LABEL_OF;
  const l = LABEL_OF[code] ?? '';
  if (l) return l;
  return STATUS_OF[data.rows.status[i] as keyof typeof STATUS_OF] ?? '';
}

function sortValue(i: number, key: string): string | number {
  const r = data.rows;
  switch (key) {
    case 'name':
      return r.name[i]!;
    case 'formula':
      return r.formula[i]!;
    case 'natoms':
      return r.natoms[i] ?? -1;
    case 'sg':
      return r.sg[i] ?? -1;
    case 'status':
      return r.status[i]!;
    case 'label':
      return labelOf(i);
    case 'minNu':
      return r.minNu[i] ?? Infinity;
    case 'labels':
      return r.labels[i]!;
    case 'folder':
      return r.folders[r.folder[i]!]!;
    default:
      return i;
  }
}

function computeView(): void {
  const r = data.rows;
  const q = table.query.trim().toLowerCase();
  const out: number[] = [];
  for (let i = 0; i < r.id.length; i++) {
    if (table.label && labelOf(i) !== table.label) continue;
    if (table.status && STATUS_OF[r.status[i] as keyof typeof STATUS_OF] !== table.status) continue;
    if (q) {
      const sg = r.sg[i];
      const hay = `${r.name[i]} ${r.formula[i]} ${r.id[i]} ${sg ?? ''} ${sg !== null && sg !== undefined ? (data.spacegroups[String(sg)]?.symbol ?? '') : ''} ${r.folders[r.folder[i]!]} ${r.error[i]! >= 0 ? r.errorClasses[r.error[i]!] : ''}`.toLowerCase();
      if (!hay.includes(q)) continue;
    }
    out.push(i);
  }
  if (table.sort !== 'order') {
    const k = table.sort;
    out.sort((a, b) => {
      const va = sortValue(a, k);
      const vb = sortValue(b, k);
      return (va < vb ? -1 : va > vb ? 1 : a - b) * table.dir;
    });
  } else if (table.dir < 0) out.reverse();
  table.view = out;
}

function renderTable(): void {
  computeView();
  const r = data.rows;
  const pages = Math.max(1, Math.ceil(table.view.length / PAGE_ROWS));
  table.page = Math.min(table.page, pages - 1);
  const from = table.page * PAGE_ROWS;
  const body = table.view.slice(from, from + PAGE_ROWS).map((i) => {
    const sg = r.sg[i];
    const sgInfo = sg === null || sg === undefined ? undefined : data.spacegroups[String(sg)];
    const label = labelOf(i);
    const tr = el(
      'tr',
      { class: `row${r.id[i] === detailId ? ' selected' : ''}`, 'data-item': String(r.id[i]) },
      el('td', {}, String(i + 1)),
      el('td', {}, r.name[i]!),
      el('td', {}, r.formula[i]!),
      el('td', {}, r.natoms[i] === null ? '' : String(r.natoms[i])),
      el('td', {}, sgInfo ? `${sgInfo.symbol} (${sg})` : ''),
      el('td', {}, STATUS_OF[r.status[i] as keyof typeof STATUS_OF] ?? r.status[i]!),
      el('td', { class: `lbl-${label}` }, label),
      el('td', { class: 'num' }, fmt(r.minNu[i], 4)),
      el('td', { class: 'mono' }, r.labels[i]!),
      el('td', {}, r.folders[r.folder[i]!]!),
    );
    tr.addEventListener('click', () => void showDetail(r.id[i]!));
    return tr;
  });
  const head = el(
    'tr',
    {},
    ...COLUMNS.map((c) => {
      const th = el('th', { class: 'sortable' }, c.title + (table.sort === c.key ? (table.dir > 0 ? ' ▲' : ' ▼') : ''));
      th.addEventListener('click', () => {
        table.dir = table.sort === c.key ? -table.dir : 1;
        table.sort = c.key;
        renderTable();
      });
      return th;
    }),
  );
  byId('rows').replaceChildren(el('table', { class: 'rows' }, el('thead', {}, head), el('tbody', {}, ...body)));
  byId('page-info').textContent = `${table.view.length} of ${r.id.length} structures · page ${table.page + 1} of ${pages} · labels per preset: ${data.presets.map((p) => p.name).join(' / ')} (s stable, u unstable, r relaxation failed, x unclassified)`;
}

function setupTableControls(): void {
  const search = byId('search') as HTMLInputElement;
  let timer: number | undefined;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => {
      table.query = search.value;
      table.page = 0;
      renderTable();
    }, 150);
  });
  const lab = byId('filter-label') as HTMLSelectElement;
  lab.addEventListener('change', () => {
    table.label = lab.value;
    table.page = 0;
    renderTable();
  });
  const st = byId('filter-status') as HTMLSelectElement;
  st.addEventListener('change', () => {
    table.status = st.value;
    table.page = 0;
    renderTable();
  });
  byId('prev').addEventListener('click', () => {
    table.page = Math.max(0, table.page - 1);
    renderTable();
  });
  byId('next').addEventListener('click', () => {
    table.page++;
    renderTable();
  });
}

// ------------------------------------------------------------------------------ detail

async function detailOf(id: number): Promise<ItemDetail | string> {
  const embedded = data.details[String(id)];
  if (embedded) return embedded;
  const cached = detailCache.get(id);
  if (cached) return cached;
  if (!data.live) return `This structure's band structure, DOS and provenance are not in this file (${data.detailsNote}).`;
  const res = await fetch(`api/item/${id}?campaign=${data.campaign.id}`);
  if (!res.ok) return `the server answered ${res.status}: ${await res.text()}`;
  const d = (await res.json()) as ItemDetail;
  detailCache.set(id, d);
  return d;
}

function bandChart(box: HTMLElement, band: CompactBand, range: [number, number]): void {
  const xs = band.x;
  const ys = band.nu.map((br) => br.map((v) => (v === null ? null : v * band.scale)));
  const soft = band.soft;
  mount(
    'band',
    box,
    {
      width: width(box, 560),
      height: 360,
      legend: { show: false },
      series: [{}, ...ys.map(() => ({ stroke: PALETTE.band, width: 1.25, spanGaps: false, points: { show: false } }))],
      scales: { x: { time: false, range: [xs[0]!, xs[xs.length - 1]!] }, y: { range } },
      axes: [
        { ...axisCommon, splits: () => band.ticks.map((t) => t.x), values: () => band.ticks.map((t) => t.label), grid: { stroke: 'rgba(0,0,0,0.25)', width: 1 } },
        { ...axisCommon, label: 'ν (THz)' },
      ],
      hooks: {
        drawClear: [
          (u) => {
            // imaginary modes are drawn negative: shade ν < 0
            const ctx = u.ctx;
            const y0 = u.valToPos(0, 'y', true);
            const bottom = u.bbox.top + u.bbox.height;
            if (y0 < bottom) {
              ctx.save();
              ctx.fillStyle = PALETTE.imaginary;
              ctx.fillRect(u.bbox.left, Math.max(u.bbox.top, y0), u.bbox.width, bottom - Math.max(u.bbox.top, y0));
              ctx.restore();
            }
          },
        ],
        draw: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            const y0 = u.valToPos(0, 'y', true);
            ctx.strokeStyle = GREY.zero;
            ctx.lineWidth = devicePixelRatio;
            ctx.beginPath();
            ctx.moveTo(u.bbox.left, y0);
            ctx.lineTo(u.bbox.left + u.bbox.width, y0);
            ctx.stroke();
            if (soft) {
              const x = u.valToPos(soft.x, 'x', true);
              const y = u.valToPos(soft.nuTHz, 'y', true);
              ctx.strokeStyle = PALETTE.soft;
              ctx.fillStyle = PALETTE.soft;
              ctx.lineWidth = 2 * devicePixelRatio;
              ctx.beginPath();
              ctx.arc(x, y, 5 * devicePixelRatio, 0, 2 * Math.PI);
              ctx.stroke();
              ctx.font = `${11 * devicePixelRatio}px sans-serif`;
              ctx.textAlign = x > u.bbox.left + u.bbox.width * 0.7 ? 'right' : 'left';
              ctx.fillText(`${soft.nuTHz.toFixed(3)} THz`, x + (ctx.textAlign === 'right' ? -8 : 8) * devicePixelRatio, y - 8 * devicePixelRatio);
            }
            ctx.restore();
          },
        ],
      },
      cursor: { points: { show: false } },
    },
    [xs, ...ys] as UPlot.AlignedData,
  );
}

function dosChart(box: HTMLElement, dos: CompactDos, range: [number, number]): void {
  const nu = dos.values.map((_, i) => dos.nu0 + i * dos.dnu);
  mount(
    'dos',
    box,
    {
      width: 200,
      height: 360,
      legend: { show: false },
      series: [{}, { stroke: PALETTE.dos, fill: 'rgba(31,111,181,0.25)', width: 1.25, points: { show: false } }],
      // frequency runs up the page, as in the band structure beside it
      scales: { x: { time: false, ori: 1, dir: -1, range }, y: { ori: 0, dir: 1, range: (_u, _lo, hi) => [0, (hi ?? 1) * 1.05] } },
      axes: [
        { ...axisCommon, scale: 'x', side: 3, values: () => [] as string[], size: 10 },
        { ...axisCommon, scale: 'y', side: 2, label: 'DOS (1/THz)' },
      ],
      cursor: { points: { show: false } },
    },
    [nu, dos.values],
  );
}

function factsTable(d: ItemDetail): HTMLTableElement {
  const s = d.structure;
  const lat = (l: NonNullable<ItemDetail['structure']>['lattice']) => (l ? `a ${l.a} b ${l.b} c ${l.c} Å; α ${l.alpha} β ${l.beta} γ ${l.gamma}°; V ${l.volume} Å³` : '–');
  const rows: [string, string][] = [
    ['source', `${d.sourcePath}${d.sourceIndex ? ` [${d.sourceIndex}]` : ''}`],
    ['status', `${d.status}${d.errorClass ? ` (${d.errorClass})` : ''} · generation ${d.generation} · ${d.attempts} activity attempts${d.wallMs !== null ? ` · ${(d.wallMs / 1000).toFixed(1)} s` : ''}${d.host ? ` · ${d.host}` : ''}`],
  ];
  if (d.errorMessage) rows.push(['error', d.errorMessage]);
  if (s) {
    rows.push(['formula', `${s.formula} · ${s.natoms} atoms${d.primitiveAtoms !== null ? ` (${d.primitiveAtoms} in the primitive cell of the phonons)` : ''}`]);
    rows.push(['hash', `${s.hash} (geometry ${short(s.geometrySha256, 16)})`]);
    rows.push(['input cell', lat(s.lattice)]);
    rows.push(['relaxed cell', lat(s.relaxedLattice)]);
  }
  if (d.relax) {
    const rx = d.relax;
    rows.push(['relaxation', `${rx.status} in ${rx.steps} steps · E ${fmt(rx.energyEv, 4)} eV (${fmt(rx.energyPerAtomEv, 4)} eV/atom) · max force ${fmt(rx.maxForce, 4)} eV/Å · space group ${rx.spacegroupBefore ?? '?'} → ${rx.spacegroupAfter ?? '?'} · trajectory ${rx.trajectoryPrecision}`]);
  }
  if (d.result) {
    const r = d.result;
    rows.push(['result', `${r.label} · min ν ${fmt(r.minFreqThz, 4)} THz at q = (${(r.minFreqQ ?? []).map((x) => x.toFixed(3)).join(', ')}) ${r.minFreqWhere ?? ''} · ν max ${fmt(r.maxFreqThz, 2)} THz`]);
    rows.push(['supercell', `${r.supercell ? `[${r.supercell.join(' ')}]` : '–'} · ${r.nDisplacements ?? '–'} displacements`]);
    rows.push(['provenance', `${r.model} ${r.modelPrecision} sha256 ${r.modelSha256} · code ${r.codeSha} · settings ${r.configSha256}`]);
  }
  return table2(['', ''], rows, 'kv');
}

async function showDetail(id: number): Promise<void> {
  detailId = id;
  handle.detailReady = false;
  const box = byId('detail');
  box.hidden = false;
  for (const tr of document.querySelectorAll('tr.row')) tr.classList.toggle('selected', (tr as HTMLElement).dataset['item'] === String(id));
  const i = data.rows.id.indexOf(id);
  byId('detail-title').textContent = i >= 0 ? `${data.rows.name[i]} (${data.rows.formula[i] || 'no structure'})` : `item ${id}`;
  const body = byId('detail-body');
  body.replaceChildren(el('p', { class: 'muted' }, 'loading…'));
  const d = await detailOf(id);
  if (detailId !== id) return;
  for (const k of ['band', 'dos']) (charts.get(k)?.destroy(), charts.delete(k));
  if (typeof d === 'string') {
    body.replaceChildren(el('p', { class: 'muted' }, d));
    handle.detailReady = true;
    return;
  }
  const parts: Node[] = [factsTable(d)];
  parts.push(
    table2(
      ['preset', 'label', 'lowest tested ν (THz)', 'raw min ν (THz)', 'where', 'imaginary modes', 'reason'],
      d.verdicts.map((v) => [el('span', { class: `lbl-${v.label}` }, v.preset === data.campaign.preset ? `${v.preset} (campaign)` : v.preset), v.label, fmt(v.minNonExemptTHz, 4), fmt(v.minTHz, 4), v.where, v.imaginaryModes === null ? '–' : String(v.imaginaryModes), v.reason]),
    ),
  );
  const spectra = el('div', { class: 'spectra' });
  parts.push(spectra);
  if (d.band) {
    const bandBox = el('div', { class: 'band' });
    const dosBox = el('div', { class: 'dos' });
    spectra.append(bandBox, dosBox);
    const lo = Math.min(0, ...d.band.nu.flatMap((br) => br.filter((v): v is number => v !== null))) * d.band.scale;
    const hi = Math.max(...d.band.nu.flatMap((br) => br.filter((v): v is number => v !== null))) * d.band.scale;
    const pad = 0.05 * (hi - lo || 1);
    const range: [number, number] = [lo - pad, hi + pad];
    body.replaceChildren(...parts);
    bandChart(bandBox, d.band, range);
    if (d.dos) dosChart(dosBox, d.dos, range);
    spectra.after(
      el(
        'p',
        { class: 'note' },
        `Band structure along the stored HPKOT path (${d.band.pointsDrawn} of ${d.band.pointsStored} q-points drawn; every branch, imaginary modes negative, ν < 0 shaded); circle: the lowest ν on the path${d.band.soft ? `, ${d.band.soft.nuTHz.toFixed(4)} THz at q = ${d.band.soft.label}, branch ${d.band.soft.branch}` : ''}.${d.band.note ? ` ${d.band.note}.` : ''}` +
          (d.dos ? ` DOS from the ${d.dos.source} (${d.dos.qpoints} q-points, Gaussian σ = ${d.dos.sigmaTHz} THz).` : ''),
      ),
    );
  } else {
    spectra.append(el('p', { class: 'muted' }, d.result ? 'no band path stored for this structure' : 'no phonon result: the structure did not reach the phonon step'));
    body.replaceChildren(...parts);
  }
  body.append(
    el('h4', {}, 'Steps (provenance and timings)'),
    d.steps.length
      ? table2(
          ['gen', 'step', 'key', 'how', 'cache version', 'model', 'code', 'host', 'time s', 'in model s', 'payload bytes'],
          d.steps.map((s) => [String(s.generation), s.step, el('span', { class: 'mono', title: s.key }, short(s.key, 16)), s.served ? 'served from store' : 'computed', s.cacheVersion, s.model ? `${s.model} ${short(s.modelSha256 ?? '', 10)}` : '–', short(s.codeSha, 12), s.host, (s.durationMs / 1000).toFixed(2), (s.modelMs / 1000).toFixed(2), String(s.payloadBytes)]),
        )
      : el('p', { class: 'muted' }, 'no step recorded'),
    el('h4', {}, `Attempts${d.attemptsOmitted ? ` (the last ${d.attemptLog.length}; ${d.attemptsOmitted} earlier not shown)` : ''}`),
    d.attemptLog.length
      ? table2(['gen', 'step', 'attempt', 'outcome', 'error', 'host', 'time s', 'at'], d.attemptLog.map((a) => [String(a.generation), a.step, String(a.attempt), a.outcome, a.errorClass ? `${a.errorClass}: ${a.errorMessage ?? ''}` : '', a.host, a.durationMs === null ? '–' : (a.durationMs / 1000).toFixed(2), new Date(a.at).toLocaleString()]))
      : el('p', { class: 'muted' }, 'no attempt recorded'),
  );
  handle.detailReady = true;
}

// ------------------------------------------------------------------------------ page

function renderPresetSelector(): void {
  const sel = byId('preset') as HTMLSelectElement;
  sel.replaceChildren(...data.presets.map((p, i) => el('option', { value: String(i), ...(i === preset ? { selected: '' } : {}) }, p.name + (i === data.presetIndex ? ' (campaign)' : ''))));
  sel.onchange = () => {
    preset = Number(sel.value);
    for (const b of data.breakdowns) renderBreakdown(b);
    renderPeriodic();
  };
}

function renderAll(): void {
  renderSummary();
  renderConvergence();
  renderPresetSelector();
  for (const b of data.breakdowns) renderBreakdown(b);
  renderPeriodic();
  renderHistograms();
  renderAgreement();
  renderTable();
  byId('details-note').textContent = data.detailsNote;
}

function resizeAll(): void {
  for (const [name, u] of charts) {
    if (name === 'dos') continue;
    const box = u.root.parentElement;
    if (box) u.setSize({ width: width(box), height: u.height });
  }
}

// ------------------------------------------------------------------------------ live (softmode report --serve)

let lastResults = -1;
let reloading = false;
let lastReload = 0;

async function poll(): Promise<void> {
  try {
    const res = await fetch(`api/status?campaign=${data.campaign.id}`, { cache: 'no-store' });
    if (!res.ok) throw new Error(`status ${res.status}`);
    const s = (await res.json()) as LiveStatus;
    const finished = s.counts.done + s.counts.failed + s.counts.rejected + s.counts.cancelled;
    byId('status-line').textContent = s.statusLine;
    byId('progress-bar').style.width = `${s.counts.total ? (100 * finished) / s.counts.total : 100}%`;
    byId('live').textContent = `live · ${s.status} · updated ${new Date(s.at).toLocaleTimeString()}`;
    byId('live').className = 'live on';
    if (lastResults < 0) lastResults = s.results;
    const changed = s.results !== lastResults || s.status !== data.campaign.status || s.counts.total !== data.counts.total || finished !== data.counts.done + data.counts.failed + data.counts.rejected + data.counts.cancelled;
    if (changed && !reloading && Date.now() - lastReload > 3000) {
      reloading = true;
      try {
        const r = await fetch(`api/data?campaign=${data.campaign.id}`, { cache: 'no-store' });
        if (r.ok) {
          data = (await r.json()) as ReportData;
          lastResults = s.results;
          lastReload = Date.now();
          renderAll();
          handle.refreshes++;
          if (detailId !== null) {
            detailCache.delete(detailId);
            await showDetail(detailId);
          }
        }
      } finally {
        reloading = false;
      }
    }
  } catch (e) {
    byId('live').textContent = `live: the server did not answer (${(e as Error).message}); retrying`;
    byId('live').className = 'live off';
  }
}

function start(): void {
  const t0 = performance.now();
  setupTableControls();
  renderAll();
  let timer: number | undefined;
  window.addEventListener('resize', () => {
    clearTimeout(timer);
    timer = window.setTimeout(resizeAll, 150);
  });
  if (data.live) {
    byId('live').hidden = false;
    void poll();
    window.setInterval(() => void poll(), 2000);
  }
  handle.renderMs = performance.now() - t0;
  handle.readyAt = performance.now();
  handle.ready = true;
  document.documentElement.dataset['ready'] = '1';
}

window.addEventListener('error', (e) => handle.errors.push(String(e.message)));
start();
