// pause / resume / cancel: a signal to every partition parent plus the campaign's status row.
import { type Parsed, parseArgs, str } from './args.js';
import { campaignDirOf, openEnv, pickCampaign, signalCampaign } from '../../engine/campaign.js';

export async function control(cmd: 'pause' | 'resume' | 'cancel', argv: string[], extra?: (a: Parsed) => unknown[]): Promise<number> {
  let a: Parsed;
  try {
    a = parseArgs(argv, { value: ['campaign-dir', 'campaign', 'concurrency'] });
  } catch (e) {
    console.error(`softmode ${cmd}: ${(e as Error).message}\nusage: softmode ${cmd} [--campaign NAME] [--campaign-dir DIR] [--concurrency N]`);
    return 2;
  }
  const env = await openEnv(campaignDirOf(str(a, 'campaign-dir')), { temporal: true });
  try {
    const c = await pickCampaign(env.store, str(a, 'campaign'));
    const status = cmd === 'pause' ? 'paused' : cmd === 'resume' ? 'running' : 'cancelled';
    await env.store.setCampaignStatus(c.id, status);
    const n = await signalCampaign(env.client!, c, cmd, extra ? extra(a) : []);
    const conc = str(a, 'concurrency');
    if (conc !== undefined) {
      const k = Number(conc);
      if (!Number.isInteger(k) || k < 1) throw new Error(`--concurrency must be a positive integer (got ${conc})`);
      await env.store.setCampaignShape(c.id, c.partitions, k);
      await signalCampaign(env.client!, c, 'setConcurrency', [Math.max(1, Math.ceil(k / c.partitions))]);
      console.log(`${c.name}: window set to ${k} structure workflows in flight`);
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
