// softmode retry-failed [--error-class X]: failed items go back to pending under a new generation
// (new workflow ids); their attempt history and stored step results stay, so completed steps are
// served from the store and only what failed is computed again.
import { type Parsed, bool, parseArgs, str } from '../lib/args.js';
import { campaignDirOf, openEnv, pickCampaign, startCampaignWorkflows } from '../../engine/campaign.js';

export const summary = 'put failed structures back in the queue (keeps attempt history)';

export async function run(argv: string[]): Promise<number> {
  let a: Parsed;
  try {
    a = parseArgs(argv, { boolean: ['include-cancelled'], value: ['campaign-dir', 'campaign', 'error-class'] });
  } catch (e) {
    console.error(`softmode retry-failed: ${(e as Error).message}\nusage: softmode retry-failed [--error-class X] [--include-cancelled] [--campaign NAME] [--campaign-dir DIR]`);
    return 2;
  }
  const env = await openEnv(campaignDirOf(str(a, 'campaign-dir')), { temporal: true });
  try {
    const c = await pickCampaign(env.store, str(a, 'campaign'));
    const n = await env.store.resetFailed(c.id, str(a, 'error-class'), bool(a, 'include-cancelled'));
    if (n > 0) {
      await env.store.setCampaignStatus(c.id, 'running');
      await startCampaignWorkflows(env.client!, (await env.store.getCampaign(c.id))!);
    }
    console.log(`${c.name}: ${n} item${n === 1 ? '' : 's'} reset to pending${str(a, 'error-class') ? ` (error class ${str(a, 'error-class')})` : ''}` + (n ? '; workers pick them up (softmode run … or softmode worker)' : ''));
    return 0;
  } finally {
    await env.close({ stopServices: false });
  }
}
