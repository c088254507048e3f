// softmode export --format csv|jsonl: one row per structure with its result and provenance
// columns (model + checkpoint sha256, code sha, config sha, step keys), streamed in pages. A
// multi-model campaign (run --model a,b) has one row per (structure, model): `model` names it.
import { createWriteStream } from 'node:fs';
import { type OptionsSpec, formatOptions, parseCommandArgs } from '../lib/args.js';
import { campaignDirOf, openEnv, pickCampaign } from '../../engine/campaign.js';

export const summary = 'export one row per structure (and model) with provenance columns (csv or jsonl)';

const COLUMNS = [
  'item_id', 'source_path', 'source_index', 'source_name', 'structure_hash', 'formula', 'natoms', 'model', 'status', 'error_class', 'error_message',
  'preset', 'label', 'labels', 'min_freq_thz', 'min_freq_q', 'min_freq_band', 'min_freq_where', 'n_imaginary', 'max_freq_thz',
  'spacegroup_initial', 'spacegroup_relaxed', 'energy_initial_ev', 'energy_relaxed_ev', 'energy_per_atom_ev', 'relax_status', 'relax_steps',
  'supercell', 'n_displacements', 'model_name', 'model_sha256', 'model_precision', 'relax_precision', 'code_sha', 'config_sha256', 'relax_key', 'phonon_key',
  'classify_key', 'generation', 'attempts', 'item_host', 'wall_ms', 'workflow_id',
];

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const SPEC = {
  format: { kind: 'enum', values: ['csv', 'jsonl'], default: 'csv', help: 'output format (default csv)' },
  out: { kind: 'string', metavar: 'FILE', help: 'write to FILE instead of stdout' },
  campaign: { kind: 'string', metavar: 'NAME', help: 'campaign name or id (default: the latest)' },
  'campaign-dir': { kind: 'string', metavar: 'DIR', help: 'services + state (default .campaigns/default or $SOFTMODE_CAMPAIGN_DIR)' },
} as const satisfies OptionsSpec;

const USAGE = `usage: softmode export --format csv|jsonl [--out FILE] [--campaign NAME] [--campaign-dir DIR]

options:
${formatOptions(SPEC)}`;

export async function run(argv: string[]): Promise<number> {
  const a = parseCommandArgs('export', argv, SPEC, USAGE);
  if (typeof a === 'number') return a;
  const v = a.values;
  const format = v.format;
  // a directory without a campaign cluster is refused (exit 2), never created
  const env = await openEnv(campaignDirOf(v['campaign-dir']), { temporal: false, create: false });
  const outPath = v.out;
  const out: NodeJS.WritableStream = outPath ? createWriteStream(outPath) : process.stdout;
  try {
    const c = await pickCampaign(env.store, v.campaign);
    if (format === 'csv') out.write(COLUMNS.join(',') + '\n');
    let after = 0;
    let rows = 0;
    for (;;) {
      // the reader went away (softmode export | head): stop paging
      if ((out as { destroyed?: boolean }).destroyed) break;
      const page = await env.store.exportPage(c.id, after, 1000);
      if (page.length === 0) break;
      for (const r of page) {
        out.write(format === 'csv' ? COLUMNS.map((k) => csvCell(r[k])).join(',') + '\n' : JSON.stringify(r) + '\n');
        after = Number(r['item_id']);
        rows++;
      }
    }
    if (outPath) {
      await new Promise<void>((res) => (out as ReturnType<typeof createWriteStream>).end(res));
      console.error(`wrote ${rows} rows to ${outPath}`);
    }
    return 0;
  } finally {
    await env.close();
  }
}
