// softmode audit <structure|hash>: the full provenance chain of a structure's result: input
// (file, geometry, content hash), campaign settings (model + checkpoint sha256, code sha,
// config sha), every step with its content key, inputs, parameters, model, code, host, timing
// and whether it was computed or served from the store, and every attempt.
import { type OptionsSpec, formatOptions, parseCommandArgs } from '../lib/args.js';
import { campaignDirOf, openEnv, pickCampaign } from '../../engine/campaign.js';

export const summary = 'print the provenance chain of a structure (by hash, name, path or item id)';

const SPEC = {
  campaign: { kind: 'string', metavar: 'NAME', help: 'campaign name or id (default: the latest)' },
  'campaign-dir': { kind: 'string', metavar: 'DIR', help: 'services + state (default .campaigns/default or $SOFTMODE_CAMPAIGN_DIR)' },
  'all-campaigns': { kind: 'boolean', help: 'search every campaign of the directory' },
  json: { kind: 'boolean', help: 'print JSON' },
} as const satisfies OptionsSpec;

const USAGE = `usage: softmode audit <structure hash|name|path|item id> [--campaign NAME | --all-campaigns] [--json] [--campaign-dir DIR]

options:
${formatOptions(SPEC)}`;

export async function run(argv: string[]): Promise<number> {
  const a = parseCommandArgs('audit', argv, SPEC, USAGE);
  if (typeof a === 'number') return a;
  const v = a.values;
  const q = a.positionals[0];
  if (!q) {
    console.error(USAGE);
    return 2;
  }
  // a directory without a campaign cluster is refused (exit 2), never created
  const env = await openEnv(campaignDirOf(v['campaign-dir']), { temporal: false, create: false });
  try {
    const campaignId = v['all-campaigns'] ? null : (await pickCampaign(env.store, v.campaign)).id;
    const items = await env.store.findItems(campaignId, q);
    if (items.length === 0) {
      console.error(`softmode audit: nothing matches '${q}'`);
      return 1;
    }
    const chains = [];
    for (const it of items) chains.push(await env.store.auditItem(it.id));
    if (v.json) {
      console.log(JSON.stringify(chains, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
      return 0;
    }
    for (const ch of chains) {
      const it = ch.item;
      const st = ch.structure;
      const c = ch.campaign;
      const r = ch.result;
      console.log(`item ${it['id']} of campaign ${c?.['name']} — ${it['source_path']}#${it['source_index']} (${it['source_name']})`);
      console.log(`  status ${it['status']}, generation ${it['generation']}, attempts ${it['attempts']}${it['error_class'] ? `, error ${it['error_class']}: ${it['error_message']}` : ''}`);
      if (st) console.log(`  structure ${st['formula']} (${st['natoms']} atoms): hash ${st['hash']} [${st['hash_kind']}], geometry ${st['geometry_sha256']}`);
      // a multi-model campaign: the item's own model (settings.models[model_index])
      const models = (c?.['config'] as { models?: { model: string; checkpointSha256: string; precision: string }[] } | undefined)?.models;
      const own = models && models.length > 1 ? models[Number(it['model_index'] ?? 0)] : undefined;
      if (c && own) console.log(`  model ${own.model} checkpoint sha256 ${own.checkpointSha256} (${own.precision}), one of ${models!.length} models of the campaign; code ${c['code_sha']}; config ${c['config_sha256']}; preset ${c['preset']}`);
      else if (c) console.log(`  model ${c['model_name']} checkpoint sha256 ${c['model_sha256']} (${c['model_precision']}); code ${c['code_sha']}; config ${c['config_sha256']}; preset ${c['preset']}`);
      if (r)
        console.log(
          `  result: ${r['label']} (${r['preset']}); labels ${JSON.stringify(r['labels'])}; min ν ${fmt(r['min_freq_thz'])} THz at q ${JSON.stringify(r['min_freq_q'])} band ${r['min_freq_band']} (${r['min_freq_where']}); ν_max ${fmt(r['max_freq_thz'])} THz; space group ${r['spacegroup_initial']} → ${r['spacegroup_relaxed']}; relax ${r['relax_status']} in ${r['relax_steps']} steps (${r['relax_precision'] ?? r['model_precision']} trajectory), E ${fmt(r['energy_relaxed_ev'])} eV`,
        );
      console.log('  steps:');
      for (const s of ch.steps)
        console.log(
          `    ${String(s['step']).padEnd(9)} ${String(s['key']).slice(0, 16)}… ${s['served_from_store'] ? 'served from store' : 'computed'}  ${fmt(s['duration_ms'])} ms on ${s['host']}, code ${String(s['code_sha']).slice(0, 12)}, model ${String(s['model_sha256'] ?? '-').slice(0, 12)}, cache ${s['cache_version']}, inputs ${(s['input_refs'] as string[]).map((x) => x.slice(0, 10)).join(',')}, computations ${s['computations']}, hits ${s['hits']}`,
        );
      console.log('  attempts:');
      for (const t of ch.attempts)
        console.log(`    g${t['generation']} ${String(t['step']).padEnd(9)} #${t['activity_attempt']} ${t['outcome']}${t['error_class'] ? ` ${t['error_class']}: ${t['error_message']}` : ''} on ${t['host']} at ${(t['at'] as Date).toISOString()}`);
    }
    return 0;
  } finally {
    await env.close();
  }
}

function fmt(v: unknown): string {
  return typeof v === 'number' ? (Math.abs(v) >= 1000 || Math.abs(v) < 1e-3 ? v.toExponential(4) : v.toFixed(4)) : String(v);
}
