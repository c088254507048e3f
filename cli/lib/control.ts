// pause / resume / cancel: a signal to every partition parent plus the campaign's status row.
import { type OptionsSpec, type Parsed, formatOptions, parseCommandArgs } from './args.js';
import { campaignDirOf, openEnv, pickCampaign, signalCampaign } from '../../engine/campaign.js';

const SPEC = {
  campaign: { kind: 'string', metavar: 'NAME', help: 'campaign name or id (default: the latest)' },
  'campaign-dir': { kind: 'string', metavar: 'DIR', help: 'services + state (default .campaigns/default or $SOFTMODE_CAMPAIGN_DIR)' },
  concurrency: { kind: 'positive-int', help: 'also set the window: structure workflows in flight' },
} as const satisfies OptionsSpec;

export async function control(cmd: 'pause' | 'resume' | 'cancel', argv: string[], extra?: (a: Parsed<typeof SPEC>) => unknown[]): Promise<number> {
  const usage = `usage: softmode ${cmd} [--campaign NAME] [--campaign-dir DIR] [--concurrency N]\n\noptions:\n${formatOptions(SPEC)}`;
  const a = parseCommandArgs(cmd, argv, SPEC, usage);
  if (typeof a === 'number') return a;
  const env = await openEnv(campaignDirOf(a.values['campaign-dir']), { temporal: true });
  try {
    const c = await pickCampaign(env.store, a.values.campaign);
    const status = cmd === 'pause' ? 'paused' : cmd === 'resume' ? 'running' : 'cancelled';
    await env.store.setCampaignStatus(c.id, status);
    const n = await signalCampaign(env.client!, c, cmd, extra ? extra(a) : []);
    const conc = a.values.concurrency;
    if (conc !== undefined) {
      await env.store.setCampaignShape(c.id, c.partitions, conc);
      await signalCampaign(env.client!, c, 'setConcurrency', [Math.max(1, Math.ceil(conc / c.partitions))]);
      console.log(`${c.name}: window set to ${conc} structure workflows in flight`);
    }
    if (cmd === 'cancel' && n === 0) {
      // no parent running: cancel the remaining items directly
      const k = await env.store.cancelPending(c.id);
      console.log(`${c.name}: cancelled ${k} items (no campaign workflow was running)`);
      return 0;
    }
    console.log(`${c.name}: ${status}${n ? ` (signalled ${n} campaign workflow${n > 1 ? 's' : ''})` : ' (no campaign workflow running: takes effect at the next softmode run)'}`);
    return 0;
  } finally {
    await env.close();
  }
}
