// softmode status: every campaign of a campaign directory (or one), from the provenance store.
import { type OptionsSpec, formatOptions, parseCommandArgs } from '../lib/args.js';
import { campaignDirOf, openEnv } from '../../engine/campaign.js';
import { servicesRunning } from '../../engine/services/index.js';
import { inFlightOf } from '../lib/control.js';
import { progressLine, stabilityLine } from '../lib/progress.js';
import { type CampaignSettings, modelNames } from '../../pipeline/settings.js';
import type { Progress } from '../../store/index.js';

export const summary = 'show campaign progress, error classes and provenance counts';

const SPEC = {
  campaign: { kind: 'string', metavar: 'NAME', help: 'only this campaign (name or id; default: all)' },
  'campaign-dir': { kind: 'string', metavar: 'DIR', help: 'services + state (default .campaigns/default or $SOFTMODE_CAMPAIGN_DIR)' },
  json: { kind: 'boolean', help: 'print JSON' },
} as const satisfies OptionsSpec;

const USAGE = `usage: softmode status [--campaign NAME] [--campaign-dir DIR] [--json]

options:
${formatOptions(SPEC)}`;

export async function run(argv: string[]): Promise<number> {
  const a = parseCommandArgs('status', argv, SPEC, USAGE);
  if (typeof a === 'number') return a;
  const v = a.values;
  const dir = campaignDirOf(v['campaign-dir']);
  // a directory without a campaign cluster is refused (exit 2), never created
  const env = await openEnv(dir, { temporal: false, create: false });
  try {
    const want = v.campaign;
    const all = (await env.store.listCampaigns()).filter((c) => !want || c.name === want || String(c.id) === want);
    const out = [];
    for (const c of all) {
      // every item finished (workers alone may have finished it, with no `softmode run` watching): done
      const status = (await env.store.settleCampaignStatus(c.id)) ?? c.status;
      const p = await env.store.progress(c.id);
      const prov = await env.store.provenanceCounts(c.id);
      const errors = await env.store.errorClasses(c.id);
      // paused: what was started still runs (the parents' in-flight count when Temporal is up
      // already, else the items that began)
      let stillRunning: number | undefined;
      if (status === 'paused') {
        let flying: number | undefined;
        if (process.env['TEMPORAL_ADDRESS'] || servicesRunning(dir).temporal) flying = await env.connectTemporal().then((client) => inFlightOf(client, c, 3_000), () => undefined);
        stillRunning = Math.max(flying ?? 0, p.running);
      }
      // a multi-model campaign: every model's own counts and stable rate
      const names = modelNames(c.config as unknown as CampaignSettings);
      let perModel: Record<string, Progress> | undefined;
      if (names.length > 1) {
        const by = await env.store.progressByModel(c.id);
        perModel = Object.fromEntries(names.map((n, i) => [n, by.get(i)]).filter((x): x is [string, Progress] => x[1] !== undefined));
      }
      const shown = status === 'paused' ? `paused (${stillRunning} still running)` : status;
      out.push({ id: c.id, name: c.name, status, ...(stillRunning !== undefined ? { stillRunning } : {}), ...(c.stop_reason ? { earlyStop: c.stop_reason } : {}), model: c.model_name, modelSha256: c.model_sha256, preset: c.preset, codeSha: c.code_sha, progress: p, ...(perModel ? { models: perModel } : {}), provenance: prov, errors });
      if (!v.json) {
        console.log(`${c.name} (id ${c.id}, ${shown}): model ${c.model_name} ${c.model_sha256.slice(0, 12)}…, preset ${c.preset}, code ${c.code_sha.slice(0, 12)}`);
        console.log(`  ${progressLine(p)}`);
        if (perModel) {
          console.log(`  ${names.length} models, every structure under each (softmode compare --campaign ${c.name}):`);
          for (const [n, mp] of Object.entries(perModel)) console.log(`    ${n}: ${progressLine(mp, 12)}; relaxation failed ${mp.relaxationFailed}`);
        } else console.log(`  ${stabilityLine(p)}; relaxation failed ${p.relaxationFailed}`);
        const st = c.stop_reason;
        if (st)
          console.log(`  stopped early at ${st.at}: under ${st.preset}, ${(100 * st.rate).toFixed(1)}% [95% CI ${(100 * st.lo).toFixed(1)}–${(100 * st.hi).toFixed(1)}%] of ${st.n} is within ±${(100 * st.halfWidth).toFixed(2)} points; softmode run … again (without --until-ci) goes on`);
        console.log(`  steps used ${prov.stepsUsed}: computed ${prov.computed}, served from store ${prov.served}; completed steps recomputed ${prov.recomputedSteps}`);
        for (const e of errors) console.log(`  ${e.status} ${e.error_class}: ${e.n}`);
      }
    }
    if (v.json) console.log(JSON.stringify(out, null, 2));
    else if (all.length === 0) console.log('no campaigns');
    return 0;
  } finally {
    await env.close();
  }
}
