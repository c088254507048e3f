// softmode compare: the models of a multi-model campaign (run --model a,b,…) side by side. Per
// stability preset and model pair: the inputs both labelled (stable or unstable), the agreement,
// the 2×2 confusion matrix (stable / unstable under A by the same under B) and every input where
// they disagree, with each model's lowest frequency and where it was found.
import { type OptionsSpec, formatOptions, parseCommandArgs } from '../lib/args.js';
import { campaignDirOf, openEnv, pickCampaign } from '../../engine/campaign.js';
import { STABILITY_PRESETS } from '../../core/stability/index.js';
import { UsageError } from '../../core/errors.js';
import { type ModelSide, type PairComparison, campaignPresets, compareModels } from '../../report/compare.js';

export const summary = 'compare the models of a multi-model campaign: agreement, confusion matrix, disagreements';

const SPEC = {
  campaign: { kind: 'string', metavar: 'NAME', help: 'campaign name or id (default: the latest)' },
  'campaign-dir': { kind: 'string', metavar: 'DIR', help: 'services + state (default .campaigns/default or $SOFTMODE_CAMPAIGN_DIR)' },
  preset: { kind: 'string', metavar: 'NAME', help: `only this preset (${STABILITY_PRESETS.join(' | ')}; default: all, the campaign's first)` },
  limit: { kind: 'int', min: 0, default: 50, metavar: 'N', help: 'disagreements listed per preset and model pair (default 50; --json lists all)' },
  json: { kind: 'boolean', help: 'print JSON (every disagreement)' },
} as const satisfies OptionsSpec;

const USAGE = `usage: softmode compare [--campaign NAME] [--campaign-dir DIR] [--preset NAME] [--limit N] [--json]

options:
${formatOptions(SPEC)}`;

export async function run(argv: string[]): Promise<number> {
  const a = parseCommandArgs('compare', argv, SPEC, USAGE);
  if (typeof a === 'number') return a;
  const v = a.values;
  if (v.preset !== undefined && !(STABILITY_PRESETS as readonly string[]).includes(v.preset)) throw new UsageError(`--preset must be one of ${STABILITY_PRESETS.join(', ')} (got '${v.preset}')`);
  // a directory without a campaign cluster is refused (exit 2), never created
  const env = await openEnv(campaignDirOf(v['campaign-dir']), { temporal: false, create: false });
  try {
    const c = await pickCampaign(env.store, v.campaign);
    const presets = v.preset ? [v.preset] : campaignPresets(c);
    const cmp = await compareModels(env.store, c, { presets, ...(v.json ? {} : { limit: v.limit }) });
    if (!cmp) throw new UsageError(`campaign ${c.name} has one model (${c.model_name}); softmode compare compares the models of a campaign run with --model A,B`);
    if (v.json) {
      console.log(JSON.stringify(cmp, null, 2));
      return 0;
    }
    console.log(`${cmp.campaign} (id ${cmp.campaignId}): ${cmp.models.length} models: ${cmp.models.join(', ')}`);
    console.log(`min ν: the lowest frequency over the q points of the campaign's preset (${cmp.campaignPreset}), THz, and where it is`);
    for (const p of cmp.presets) {
      console.log('');
      console.log(`preset ${p.preset}${p.preset === cmp.campaignPreset ? " (the campaign's)" : ''}`);
      for (const pair of p.pairs) printPair(pair, v.limit);
    }
    return 0;
  } finally {
    await env.close();
  }
}

function printPair(x: PairComparison, limit: number): void {
  const pct = x.agreement === null ? '--' : `${(100 * x.agreement).toFixed(1)}%`;
  console.log(`  ${x.a} vs ${x.b}: ${x.n} labelled by both, agreement ${pct} (${x.agree}/${x.n})${x.notBothLabelled ? `; ${x.notBothLabelled} more with a relaxation failure or no classification under one` : ''}`);
  const rowHead = [`${x.a} stable`, `${x.a} unstable`];
  const colHead = [`${x.b} stable`, `${x.b} unstable`];
  const w0 = Math.max(...rowHead.map((s) => s.length));
  const w = colHead.map((s) => Math.max(s.length, 6));
  console.log(`    ${''.padEnd(w0)}  ${colHead.map((s, j) => s.padStart(w[j]!)).join('  ')}`);
  for (let i = 0; i < 2; i++) console.log(`    ${rowHead[i]!.padEnd(w0)}  ${x.confusion[i]!.map((n, j) => String(n).padStart(w[j]!)).join('  ')}`);
  if (x.disagreementsTotal === 0) return;
  console.log(`    disagreements (${x.disagreementsTotal}):`);
  for (const d of x.disagreements.slice(0, limit))
    console.log(`      ${d.name ?? d.source}${d.formula ? ` ${d.formula}` : ''}${d.hash ? ` [${d.hash.slice(0, 12)}]` : ''}: ${side(x.a, d.a)}; ${side(x.b, d.b)}`);
  if (x.disagreementsTotal > Math.min(limit, x.disagreements.length)) console.log(`      … and ${x.disagreementsTotal - Math.min(limit, x.disagreements.length)} more (--limit N, or --json for all)`);
}

function side(model: string, s: ModelSide): string {
  const f = s.minFreqThz === null ? '--' : s.minFreqThz.toFixed(4);
  const q = s.q ? ` q (${s.q.map((c) => +c.toFixed(4)).join(', ')})` : '';
  return `${model} ${s.label}, min ν ${f} THz${s.where ? ` (${s.where}${q})` : ''}`;
}
