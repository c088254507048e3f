// Opening a report page in headless Chromium (Debian's `chromium` package, driven by
// puppeteer-core with its executable path: nothing is downloaded): time to first paint and to
// every chart drawn, console errors, and the marks each chart drew, counted on its canvas.
// Used by test/report.test.ts and bench/report.ts.
import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'puppeteer-core';

export const CHROMIUM_PACKAGE = 'chromium';

/** The Chromium binary: $SOFTMODE_CHROMIUM, else Debian's. Undefined when absent. */
export function chromiumPath(): string | undefined {
  const env = process.env['SOFTMODE_CHROMIUM'];
  if (env) return existsSync(env) ? env : undefined;
  return ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
}

export const NO_CHROMIUM = `no Chromium found (install Debian's '${CHROMIUM_PACKAGE}' package: apt-get install -y ${CHROMIUM_PACKAGE}; or set SOFTMODE_CHROMIUM): skipping the browser checks of the report`;

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(NO_CHROMIUM);
  const puppeteer = await import('puppeteer-core');
  return puppeteer.launch({
    executablePath,
    headless: true,
    // root in CI containers: Chromium's sandbox needs user namespaces it does not get there
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--no-default-browser-check', '--hide-scrollbars'],
    defaultViewport: { width: 1400, height: 1000, deviceScaleFactor: 1 },
  });
}

export interface OpenedPage {
  page: Page;
  /** console messages of type error, and uncaught page errors */
  errors: string[];
  /** navigation start → first contentful paint, ms */
  firstPaintMs: number;
  /** navigation start → every chart drawn (the page's ready flag), ms */
  readyMs: number;
}

/** Open the page and wait until its script says every chart is drawn. */
export async function openReport(browser: Browser | BrowserContext, url: string, timeoutMs = 60_000): Promise<OpenedPage> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${(e as Error).message ?? String(e)}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url().slice(0, 200)} ${r.failure()?.errorText ?? ''}`));
  await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
  await page.waitForFunction('window.softmodeReport && window.softmodeReport.ready === true', { timeout: timeoutMs, polling: 50 });
  const t = (await page.evaluate(`(() => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    return { fcp: fcp ? fcp.startTime : null, ready: window.softmodeReport.readyAt };
  })()`)) as { fcp: number | null; ready: number };
  // the first paint entry is recorded after the frame is presented: wait for it if needed
  let fcp = t.fcp;
  for (let i = 0; fcp === null && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 50));
    fcp = (await page.evaluate(`(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime ?? null`)) as number | null;
  }
  return { page, errors, firstPaintMs: fcp ?? NaN, readyMs: t.ready };
}

export interface ChartMarks {
  name: string;
  /** canvas pixels within 40 (RGB distance) of one of the page's mark colours */
  markPixels: number;
  width: number;
  height: number;
}

/**
 * The marks each uPlot chart drew: its canvas read back, pixels counted whose colour is one of
 * the page's mark colours (axes, grid and labels are grey and do not count).
 */
export async function chartMarks(page: Page): Promise<ChartMarks[]> {
  return (await page.evaluate(`(() => {
    const pal = window.softmodeReport.palette;
    const hex = [pal.stable, pal.unstable, pal.rate, pal.band, pal.soft, pal.dos, ...pal.presets];
    const cols = [...new Set(hex)].map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
    const out = [];
    for (const box of document.querySelectorAll('[data-chart]')) {
      const canvas = box.querySelector('canvas');
      if (!canvas) continue;
      const ctx = canvas.getContext('2d');
      const img = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < img.length; i += 4) {
        if (img[i + 3] < 128) continue;
        for (const c of cols) {
          const d = Math.abs(img[i] - c[0]) + Math.abs(img[i + 1] - c[1]) + Math.abs(img[i + 2] - c[2]);
          if (d < 40) { n++; break; }
        }
      }
      out.push({ name: box.dataset.chart, markPixels: n, width: canvas.width, height: canvas.height });
    }
    return out;
  })()`)) as ChartMarks[];
}

/** Cells of the periodic table and agreement matrices that carry data and a colour. */
export async function htmlMarks(page: Page): Promise<{ elements: number; elementsColoured: number; matrixCells: number }> {
  return (await page.evaluate(`(() => {
    const cells = [...document.querySelectorAll('[data-chart="elements"] .el.has-data')];
    const coloured = cells.filter((c) => { const b = getComputedStyle(c).backgroundColor; return b && b !== 'rgb(238, 238, 238)' && b !== 'rgba(0, 0, 0, 0)'; });
    return { elements: cells.length, elementsColoured: coloured.length, matrixCells: document.querySelectorAll('table.matrix td.has-data').length };
  })()`)) as { elements: number; elementsColoured: number; matrixCells: number };
}
