// softmode retry-failed [--error-class X]: failed items go back to pending under a new generation
// (new workflow ids); their attempt history and stored step results stay, so completed steps are
// served from the store and only what failed is computed again.
import { type OptionsSpec, formatOptions, parseCommandArgs } from '../lib/args.js';
import { campaignDirOf, openEnv, pickCampaign, startCampaignWorkflows } from '../../engine/campaign.js';

export const summary = 'put failed structures back in the queue (keeps attempt history)';

const SPEC = {
  'error-class': { kind: 'string', metavar: 'X', help: 'only items that failed with this error class' },
  'include-cancelled': { kind: 'boolean', help: 'also put cancelled items back' },
  campaign: { kind: 'string', metavar: 'NAME', help: 'campaign name or id (default: the latest)' },
  'campaign-dir': { kind: 'string', metavar: 'DIR', help: 'services + state (default .campaigns/default or $SOFTMODE_CAMPAIGN_DIR)' },
} as const satisfies OptionsSpec;

const USAGE = `usage: softmode retry-failed [--error-class X] [--include-cancelled] [--campaign NAME] [--campaign-dir DIR]

options:
${formatOptions(SPEC)}`;

export async function run(argv: string[]): Promise<number> {
  const a = parseCommandArgs('retry-failed', argv, SPEC, USAGE);
  if (typeof a === 'number') return a;
  const v = a.values;
  // a directory without a campaign cluster is refused (exit 2), never created
  const env = await openEnv(campaignDirOf(v['campaign-dir']), { temporal: true, create: false });
  try {
    const c = await pickCampaign(env.store, v.campaign);
    const n = await env.store.resetFailed(c.id, v['error-class'], v['include-cancelled']);
    if (n > 0) {
      await env.store.setCampaignStatus(c.id, 'running');
      await startCampaignWorkflows(env.client!, (await env.store.getCampaign(c.id))!);
    }
    console.log(`${c.name}: ${n} item${n === 1 ? '' : 's'} reset to pending${v['error-class'] ? ` (error class ${v['error-class']})` : ''}` + (n ? '; workers pick them up (softmode run … or softmode worker)' : ''));
    return 0;
  } finally {
    await env.close({ stopServices: false });
  }
}
