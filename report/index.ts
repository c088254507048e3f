// The campaign report (issue 17): a self-contained HTML page generated from the store
// (`softmode report`), or the same page served live (`softmode report --serve`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { CampaignRow, Store } from '../store/index.js';
import { type BuildOptions, buildReportData } from './data.js';
import { renderReportHtml } from './html.js';

export { type BuildOptions, DEFAULT_MAX_DETAILS, buildItemDetail, buildReportData } from './data.js';
export { renderReportHtml } from './html.js';
export { type ReportServer, type ServeOptions, startReportServer } from './serve.js';
export type { ReportData } from './types.js';

export interface WrittenReport {
  path: string;
  bytes: number;
  /** building the data from the store, ms */
  buildMs: number;
  buildPhasesMs: Record<string, number>;
  structures: number;
  detailed: number;
}

/** Build the campaign's report and write it to `out` (directories created). */
export async function writeReport(store: Store, c: CampaignRow, out: string, o: BuildOptions = {}): Promise<WrittenReport> {
  const data = await buildReportData(store, c, { ...o, live: false });
  const html = renderReportHtml(data);
  const path = resolve(out);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, html);
  return { path, bytes: Buffer.byteLength(html), buildMs: data.buildMs, buildPhasesMs: data.buildPhasesMs, structures: data.rows.id.length, detailed: Object.keys(data.details).length };
}
