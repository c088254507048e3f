// pause / resume / cancel: a signal to every partition parent plus the campaign's status row.
//
// What pause means: the parents start no new structure workflows; the ones already in flight
// (up to the window, which is the number in flight) run to their end. The command says how many
// those are, and `softmode status` shows 'paused (N still running)'.
import type { Client } from '@temporalio/client';
import { type OptionsSpec, type Parsed, formatOptions, parseCommandArgs } from './args.js';
import { awaitCampaignParents, campaignDirOf, openEnv, pickCampaign, signalCampaign } from '../../engine/campaign.js';
import type { CampaignRow, Store } from '../../store/index.js';
import { type CampaignProgress, campaignWorkflowId, progressQuery } from '../../workflows/definitions.js';

const SPEC = {
  campaign: { kind: 'string', metavar: 'NAME', help: 'campaign name or id (default: the latest)' },
  'campaign-dir': { kind: 'string', metavar: 'DIR', help: 'services + state (default .campaigns/default or $SOFTMODE_CAMPAIGN_DIR)' },
  concurrency: { kind: 'positive-int', help: 'also set the window: structure workflows in flight' },
} as const satisfies OptionsSpec;

/** How long `cancel` waits for the parents to cancel their children and close, ms. */
const CANCEL_WAIT_MS = 30_000;

/**
 * Structure workflows in flight in the campaign's parents (started, not yet reported back):
 * those still run while the campaign is paused. Undefined when a parent does not answer within
 * `timeoutMs` (no worker polls its queue) or is not running.
 */
export async function inFlightOf(client: Client, c: CampaignRow, timeoutMs = 5_000): Promise<number | undefined> {
  let n = 0;
  for (let p = 0; p < c.partitions; p++) {
    let timer: NodeJS.Timeout | undefined;
    const q = client.workflow
      .getHandle(campaignWorkflowId(c.id, p))
      .query(progressQuery)
      .then((x: CampaignProgress) => x.inFlight)
      .catch(() => undefined);
    const v = await Promise.race([q, new Promise<undefined>((res) => (timer = setTimeout(() => res(undefined), timeoutMs)))]);
    clearTimeout(timer);
    if (v === undefined) return undefined;
    n += v;
  }
  return n;
}

/** Items of the campaign that began and have not finished (what certainly still runs). */
export async function runningItems(store: Store, c: CampaignRow): Promise<number> {
  return (await store.progress(c.id)).running;
}

export async function control(cmd: 'pause' | 'resume' | 'cancel', argv: string[], extra?: (a: Parsed<typeof SPEC>) => unknown[]): Promise<number> {
  const usage = `usage: softmode ${cmd} [--campaign NAME] [--campaign-dir DIR] [--concurrency N]\n\noptions:\n${formatOptions(SPEC)}`;
  const a = parseCommandArgs(cmd, argv, SPEC, usage);
  if (typeof a === 'number') return a;
  // a directory without a campaign cluster is refused, never created
  const env = await openEnv(campaignDirOf(a.values['campaign-dir']), { temporal: true, create: false });
  try {
    const c = await pickCampaign(env.store, a.values.campaign);
    if (cmd === 'resume' && c.stop_reason)
      console.log(`${c.name} stopped early (run --until-ci: the interval was reached); its parents have closed, so \`softmode run\` with the same inputs and without --until-ci (or a smaller one) goes on past the stop`);
    const status = cmd === 'pause' ? 'paused' : cmd === 'resume' ? 'running' : 'cancelled';
    await env.store.setCampaignStatus(c.id, status);
    const n = await signalCampaign(env.client!, c, cmd, extra ? extra(a) : []);
    const conc = a.values.concurrency;
    if (conc !== undefined) {
      await env.store.setCampaignShape(c.id, c.partitions, conc);
      await signalCampaign(env.client!, c, 'setConcurrency', [Math.max(1, Math.ceil(conc / c.partitions))]);
      console.log(`${c.name}: window set to ${conc} structure workflows in flight`);
    }
    if (cmd === 'cancel') {
      let note = '';
      if (n === 0) {
        // no parent running: cancel the remaining items directly
        await env.store.cancelPending(c.id);
        note = ' (no campaign workflow was running)';
      } else {
        // the parents cancel their running children, then mark the rest; wait for that (bounded)
        const open = await awaitCampaignParents(env.client!, c, CANCEL_WAIT_MS);
        if (open > 0) note = `; ${open} campaign workflow(s) still closing: their remaining items are marked cancelled when a worker runs them`;
      }
      const p = await env.store.progress(c.id);
      console.log(
        `${c.name}: cancelled ${p.cancelled} item${p.cancelled === 1 ? '' : 's'} of ${p.total}` +
          ` (kept: done ${p.done}, failed ${p.failed}, rejected ${p.rejected}${p.pending + p.running ? `; not yet cancelled: ${p.pending + p.running}` : ''})${note}`,
      );
      return 0;
    }
    let tail = n ? ` (signalled ${n} campaign workflow${n > 1 ? 's' : ''})` : ' (no campaign workflow running: takes effect at the next softmode run)';
    if (cmd === 'pause') {
      // the window is the number in flight: those started run to their end
      const flying = n ? await inFlightOf(env.client!, c) : undefined;
      const running = await runningItems(env.store, c);
      const still = Math.max(flying ?? 0, running);
      tail += `; no new structures start; ${still} already started still run to their end (softmode status shows them; softmode cancel stops them)`;
    }
    console.log(`${c.name}: ${status}${tail}`);
    return 0;
  } finally {
    await env.close();
  }
}
