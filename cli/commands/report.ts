// softmode report: the campaign's report as one self-contained HTML file (summary, convergence,
// breakdowns, histograms, agreement, the structures table with band structures), or with
// --serve the same page on 127.0.0.1, refreshing while the campaign runs.
import { join } from 'node:path';
import { type OptionsSpec, formatOptions, parseCommandArgs, usageError } from '../lib/args.js';
import { progressLine } from '../lib/progress.js';
import { campaignDirOf, openEnv, pickCampaign } from '../../engine/campaign.js';
import { liveRunLockOwner } from '../../engine/run-lock.js';
import { DEFAULT_MAX_DETAILS, startReportServer, writeReport } from '../../report/index.js';

export const summary = 'write the campaign report (self-contained HTML), or serve it live (--serve)';

export const DEFAULT_PORT = 8734;

const SPEC = {
  campaign: { kind: 'string', metavar: 'NAME', help: 'campaign name or id (default: the latest)' },
  'campaign-dir': { kind: 'string', metavar: 'DIR', help: 'services + state (default .campaigns/default or $SOFTMODE_CAMPAIGN_DIR)' },
  out: { kind: 'string', metavar: 'FILE', help: 'where to write the page (default DIR/report-<campaign>.html)' },
  details: {
    kind: 'int',
    min: 0,
    default: DEFAULT_MAX_DETAILS,
    metavar: 'N',
    help: `structures whose band structure, DOS and provenance the file embeds (default ${DEFAULT_MAX_DETAILS};\nall when the campaign has no more; else those whose presets disagree, then those closest to ν = 0)`,
  },
  serve: { kind: 'boolean', help: 'serve the page on 127.0.0.1 instead, refreshing while the campaign runs' },
  port: { kind: 'int', min: 0, default: DEFAULT_PORT, metavar: 'P', help: `port for --serve (default ${DEFAULT_PORT}; 0: any free port)` },
  json: { kind: 'boolean', help: 'print a JSON line with the path (or URL), size and counts' },
} as const satisfies OptionsSpec;

const USAGE = `usage: softmode report [--campaign NAME] [--campaign-dir DIR] [--out FILE] [--details N]
       softmode report --serve [--port P] [--campaign NAME] [--campaign-dir DIR]

options:
${formatOptions(SPEC)}`;

export async function run(argv: string[]): Promise<number> {
  const a = parseCommandArgs('report', argv, SPEC, USAGE);
  if (typeof a === 'number') return a;
  const v = a.values;
  if (a.positionals.length > 0) {
    console.error(`softmode report: unexpected argument '${a.positionals[0]}'\n${USAGE}`);
    return 2;
  }
  if (v.serve && v.out !== undefined) throw usageError('--out writes a file; --serve serves the page (choose one)');
  const dir = campaignDirOf(v['campaign-dir']);
  // a directory without a campaign cluster is refused (exit 2), never created
  const env = await openEnv(dir, { temporal: false, create: false });
  if (!v.serve) {
    try {
      const c = await pickCampaign(env.store, v.campaign);
      const out = v.out ?? join(dir, `report-${c.name.replace(/[^A-Za-z0-9._-]/g, '_')}.html`);
      const r = await writeReport(env.store, c, out, { maxDetails: v.details, statusLine: (p) => progressLine(p) });
      if (v.json) console.log(JSON.stringify({ campaign: c.name, path: r.path, bytes: r.bytes, buildMs: r.buildMs, structures: r.structures, detailed: r.detailed }));
      else {
        console.log(`report of ${c.name}: ${r.structures} structures, band structures of ${r.detailed} embedded, ${(r.bytes / 1e6).toFixed(2)} MB (built in ${(r.buildMs / 1000).toFixed(1)} s)`);
        console.log(r.path);
      }
      return 0;
    } finally {
      await env.close();
    }
  }
  // --serve: until interrupted
  let server;
  try {
    const first = await pickCampaign(env.store, v.campaign);
    server = await startReportServer({
      store: env.store,
      resolveCampaign: (q) => (q === undefined ? pickCampaign(env.store, v.campaign ?? String(first.id)) : pickCampaign(env.store, q)),
      port: v.port,
      maxDetails: v.details,
      statusLine: (p) => progressLine(p),
    });
    if (v.json) console.log(JSON.stringify({ campaign: first.name, url: server.url, port: server.port }));
    else console.log(`report of ${first.name} at ${server.url} (live; Ctrl-C stops)`);
  } catch (e) {
    await env.close({ stopServices: !liveRunLockOwner(dir) });
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw usageError(`port ${v.port} is in use (--port P, or --port 0 for any free port)`);
    throw e;
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  // a `softmode run` in this directory now may use the services this command started
  await env.close({ stopServices: !liveRunLockOwner(dir) });
  return 0;
}
