// `softmode report --serve`: the report page on 127.0.0.1, live. The page polls /api/status (the
// counts and progress line `softmode run` shows) every 2 s and reloads /api/data when results
// arrive; /api/item/:id gives any structure's band structure, DOS and provenance (the static file
// embeds only some). Read-only: it never writes to the store.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CampaignRow, Progress, Store } from '../store/index.js';
import { resultCount } from '../store/report-queries.js';
import { buildItemDetail, buildReportData } from './data.js';
import { renderReportHtml } from './html.js';
import { wilsonRate } from './stats.js';
import type { LiveStatus, ReportData } from './types.js';

export interface ServeOptions {
  store: Store;
  /** the campaign a request means (its ?campaign= value, else the command's --campaign, else the latest) */
  resolveCampaign: (nameOrId: string | undefined) => Promise<CampaignRow>;
  host?: string;
  /** 0: any free port */
  port: number;
  maxDetails?: number;
  statusLine: (p: Progress) => string;
  /**
   * the data are rebuilt at most this often while results arrive, ms (and at most every 5 build
   * times: a 10^5-structure campaign's page costs seconds to build)
   */
  minRebuildMs?: number;
}

export interface ReportServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startReportServer(o: ServeOptions): Promise<ReportServer> {
  const host = o.host ?? '127.0.0.1';
  const minimaCache = new Map<string, (number | null)[]>();
  const built = new Map<number, { signature: string; at: number; ms: number; data: Promise<ReportData> }>();

  async function campaignOf(url: URL): Promise<CampaignRow> {
    const q = url.searchParams.get('campaign') ?? undefined;
    try {
      return await o.resolveCampaign(q);
    } catch (e) {
      throw new HttpError(404, (e as Error).message);
    }
  }

  async function liveStatus(c: CampaignRow): Promise<LiveStatus> {
    const now = (await o.store.getCampaign(c.id)) ?? c;
    const p = await o.store.progress(c.id);
    const n = p.stable + p.unstable + p.relaxationFailed;
    return {
      campaign: c.name,
      status: now.status,
      counts: { total: p.total, pending: p.pending, running: p.running, done: p.done, failed: p.failed, rejected: p.rejected, cancelled: p.cancelled, recentDone: p.recentDone, windowSeconds: p.windowSeconds },
      statusLine: o.statusLine(p),
      rate: { preset: c.preset, ...wilsonRate(p.stable, n) },
      results: await resultCount(o.store, c.id),
      at: new Date().toISOString(),
    };
  }

  /** The campaign's data, rebuilt when its results or counts changed (at most every minRebuildMs). */
  async function dataOf(c: CampaignRow): Promise<ReportData> {
    const s = await liveStatus(c);
    const signature = JSON.stringify([s.status, s.results, s.counts.total, s.counts.done, s.counts.failed, s.counts.rejected, s.counts.cancelled, s.counts.running]);
    const have = built.get(c.id);
    if (have && (have.signature === signature || Date.now() - have.at < Math.max(o.minRebuildMs ?? 2000, 5 * have.ms))) return have.data;
    const fresh = (await o.store.getCampaign(c.id)) ?? c;
    const entry = { signature, at: Date.now(), ms: have?.ms ?? 0, data: buildReportData(o.store, fresh, { live: true, maxDetails: o.maxDetails ?? 200, statusLine: o.statusLine, minimaCache }) };
    built.set(c.id, entry);
    entry.data.then(
      (d) => (entry.ms = d.buildMs),
      () => built.delete(c.id),
    );
    return entry.data;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'only GET');
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const path = url.pathname;
    if (path === '/' || path === '/index.html') {
      const c = await campaignOf(url);
      send(200, 'text/html; charset=utf-8', renderReportHtml(await dataOf(c)));
    } else if (path === '/api/status') {
      send(200, 'application/json', JSON.stringify(await liveStatus(await campaignOf(url))));
    } else if (path === '/api/data') {
      send(200, 'application/json', JSON.stringify(await dataOf(await campaignOf(url))));
    } else if (path.startsWith('/api/item/')) {
      const id = Number(path.slice('/api/item/'.length));
      if (!Number.isSafeInteger(id) || id <= 0) throw new HttpError(400, `not an item id: ${path}`);
      const c = await campaignOf(url);
      const d = await buildItemDetail(o.store, c, id);
      if (!d) throw new HttpError(404, `no item ${id} in campaign ${c.name}`);
      send(200, 'application/json', JSON.stringify(d));
    } else if (path === '/favicon.ico') {
      res.writeHead(204).end();
    } else throw new HttpError(404, `no such page: ${path}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(e instanceof Error ? e.message : String(e));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
