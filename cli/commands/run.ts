// softmode run <files|dirs…>: a durable campaign. Starts (or reuses) the embedded PostgreSQL and
// Temporal dev server of the campaign directory (or uses DATABASE_URL / TEMPORAL_ADDRESS), runs
// in-process workers, shows progress. Ctrl-C (or a kill) is safe: running it again resumes.
import { ENGINE_DEFAULTS, defaultPolicy } from '../../config/engine.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { SoftmodeInputError, UsageError } from '../../core/errors.js';
import { type RunLock, acquireRunLock } from '../../engine/run-lock.js';
import { ServiceWatch } from '../../engine/services/watch.js';
import { type CampaignSettings, modelCount, modelNames } from '../../pipeline/settings.js';
import { type OptionsSpec, TRAJECTORY_PRECISIONS, formatOptions, parseCommandArgs } from '../lib/args.js';
import { awaitCampaignParents, campaignDirOf, createCampaign, openCampaignParents, openEnv, parseModelList, partitionsFor, startCampaignWorkflows } from '../../engine/campaign.js';
import type { EarlyStop, Progress } from '../../store/index.js';
import { collectStructureFiles, ingest } from '../../engine/ingest.js';
import { SUPERCELL_SPEC_HELP } from '../../pipeline/supercell.js';
import { ProgressPrinter, progressLine, stabilityLine } from '../lib/progress.js';
import { WorkerSupervisor } from '../../engine/supervisor.js';

export const summary = 'run a durable stability campaign over structure files (resumable; embedded services)';

const SPEC = {
  model: {
    kind: 'string',
    default: 'chgnet-0.3.0',
    metavar: 'NAME[,NAME…]',
    help: 'chgnet-0.3.0 (default) | m3gnet-mp-2021.2.8 | … | lennard-jones | morse (test\npotentials); several, comma-separated: every structure under every model\n(softmode compare then tabulates where they agree)',
  },
  preset: { kind: 'string', default: 'full-bz', metavar: 'NAME', help: 'full-bz (default) | phononbench | loew | mattersim' },
  'relax-protocol': { kind: 'string', default: 'phononbench', metavar: 'NAME', help: 'phononbench (default) | mattersim' },
  'trajectory-precision': {
    kind: 'enum',
    values: TRAJECTORY_PRECISIONS,
    metavar: 'P',
    help: "float32 | float64: the ML model's precision along the relaxation\ntrajectory (default: the protocol's, float32 for phononbench); the\nacceptance test, stored energies and phonon forces are float64",
  },
  supercell: { kind: 'string', metavar: 'RULE', help: SUPERCELL_SPEC_HELP },
  'campaign-dir': { kind: 'string', metavar: 'DIR', help: 'services + state (default .campaigns/default or $SOFTMODE_CAMPAIGN_DIR)' },
  name: { kind: 'string', metavar: 'NAME', help: 'campaign name (default: derived from inputs and settings)' },
  window: { kind: 'int', min: 0, help: `structure workflows in flight (≤ ${ENGINE_DEFAULTS.windowMax})` },
  partitions: { kind: 'int', min: 0, help: `campaign parents (default: 1 per ${ENGINE_DEFAULTS.partitionSize} structures)` },
  'inference-slots': { kind: 'int', min: 0, help: 'concurrent relax/forces activities (default: cores)' },
  'light-slots': { kind: 'int', min: 0, help: 'concurrent light activities' },
  'no-workers': { kind: 'boolean', help: 'orchestrate only (workers run elsewhere: softmode worker)' },
  temporal: { kind: 'string', metavar: 'HOST:PORT', help: 'an external Temporal server (default $TEMPORAL_ADDRESS; else the embedded dev server)' },
  database: { kind: 'string', metavar: 'URL', help: 'an external PostgreSQL store, postgres://… (default $DATABASE_URL; else embedded)' },
  'keep-services': { kind: 'boolean', help: 'leave the embedded servers running at exit' },
  json: { kind: 'boolean', help: 'print the final summary as JSON on stdout' },
  'until-ci': {
    kind: 'number',
    positive: true,
    metavar: 'H',
    help: "stop scheduling new structures once the 95 % Wilson interval of the stable rate\n(under --preset) is narrower than ±H (0.01 = ±1 point); running ones finish,\nthe stop is recorded; run again without it to go on. Implies --order random",
  },
  order: { kind: 'enum', values: ['input', 'random'], metavar: 'ORDER', help: 'processing order of a new campaign: input (default) | random (seeded shuffle;\nthe default with --until-ci)' },
  seed: { kind: 'int', min: 0, metavar: 'N', help: 'seed of --order random (default 0)' },
} as const satisfies OptionsSpec;

const USAGE = `usage: softmode run <files|dirs…> [options]
${formatOptions(SPEC)}`;

/** Test and tuning hooks: shorter heartbeats and retry intervals from the environment. */
function policyFromEnv(): CampaignSettings['policy'] {
  const p = defaultPolicy();
  const hb = Number(process.env['SOFTMODE_HEARTBEAT_MS'] ?? 0);
  if (hb > 0) for (const t of Object.values(p.timeouts)) t.heartbeatMs = hb;
  const ri = Number(process.env['SOFTMODE_RETRY_INITIAL_MS'] ?? 0);
  if (ri > 0) {
    p.retry.initialIntervalMs = ri;
    p.retry.maximumIntervalMs = Math.max(ri, Math.min(p.retry.maximumIntervalMs, 10 * ri));
  }
  return p;
}

export async function run(argv: string[]): Promise<number> {
  const a = parseCommandArgs('run', argv, SPEC, USAGE);
  if (typeof a === 'number') return a;
  const v = a.values;
  const name = v.name;
  if (a.positionals.length === 0 && !name) {
    console.error(USAGE);
    return 2;
  }
  const json = v.json;
  const say = (m: string) => (json ? process.stderr : process.stdout).write(m + '\n');
  const untilCi = v['until-ci'];
  if (untilCi !== undefined && !(untilCi < 0.5)) {
    console.error('softmode run: --until-ci is a half-width as a fraction (0.01 = ±1 percentage point), below 0.5');
    return 2;
  }
  const orderKind = v.order ?? (untilCi !== undefined ? 'random' : 'input');
  const order = orderKind === 'random' ? { kind: 'random' as const, seed: v.seed ?? 0 } : undefined;
  // a list of models is checked before anything starts (unknown or repeated names: exit 2)
  try {
    parseModelList(v.model);
  } catch (e) {
    if (e instanceof SoftmodeInputError) {
      console.error(`softmode run: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const dir = resolve(campaignDirOf(v['campaign-dir']));
  const missing = a.positionals.filter((x) => !existsSync(x));
  if (missing.length > 0) {
    console.error(`softmode run: no such file or directory: ${missing.join(', ')}`);
    return 2;
  }
  // external services: what openEnv and the worker processes read (nothing embedded is started for them)
  if (v.temporal) process.env['TEMPORAL_ADDRESS'] = v.temporal;
  if (v.database) process.env['DATABASE_URL'] = v.database;
  let lock: RunLock;
  try {
    lock = acquireRunLock(dir, `softmode run ${argv.join(' ')}`.trim());
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`softmode run: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (lock.tookOverStale) say(`note: the previous campaign command on ${dir} (pid ${lock.tookOverStale.pid}) died without cleaning up; adopting its services`);
  let env: Awaited<ReturnType<typeof openEnv>>;
  try {
    env = await openEnv(dir, { temporal: false, log: say });
  } catch (e) {
    lock.release();
    throw e;
  }
  const keep = v['keep-services'];
  let watch: ServiceWatch | undefined;
  let supervisor: WorkerSupervisor | undefined;
  let interrupted = false;
  const stopIngest = new AbortController();
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    stopIngest.abort();
    process.stderr.write('\ninterrupted: stopping workers (run the same command again to resume)\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const inputs = a.positionals;
    const { files, skipped } = inputs.length ? collectStructureFiles(inputs) : { files: [], skipped: [] };
    if (skipped.length > 0) {
      say(`skipped ${skipped.length} path(s) that are not structure files:`);
      for (const k of skipped.slice(0, 20)) say(`  ${k.path}: ${k.reason}`);
      if (skipped.length > 20) say(`  … and ${skipped.length - 20} more`);
    }
    const { campaign, created } = await createCampaign(env.store, {
      ...(name ? { name } : {}),
      model: v.model,
      preset: v.preset,
      relaxProtocol: v['relax-protocol'],
      ...(v['trajectory-precision'] ? { trajectoryPrecision: v['trajectory-precision'] } : {}),
      supercell: v.supercell,
      ...(v.window !== undefined ? { window: v.window } : {}),
      partitions: v.partitions ?? partitionsFor(files.length),
      inputs: files,
      policy: policyFromEnv(),
      ...(order ? { order } : {}),
    });
    const campaignSettings = campaign.config as unknown as CampaignSettings;
    const campaignOrder = campaignSettings.order;
    const models = modelCount(campaignSettings);
    if (untilCi && !campaignOrder)
      say(`warning: ${campaign.name} runs its structures in input order (created without --order random): the running stable rate is an unbiased estimate only if that order is random`);
    const modelText = models > 1 ? `models ${campaignSettings.models!.map((m) => `${m.model} ${m.checkpointSha256.slice(0, 12)}…`).join(', ')} (every structure under each)` : `model ${campaign.model_name} ${campaign.model_sha256.slice(0, 12)}…`;
    say(`${created ? 'campaign' : 'resuming campaign'} ${campaign.name} (id ${campaign.id}): ${modelText}, preset ${campaign.preset}, ${env.services.embeddedPostgres ? `dir ${env.services.campaignDir}` : 'store DATABASE_URL'}`);
    if (files.length) {
      const ing = await ingest(env.store, campaign.id, campaign.partitions, files, undefined, stopIngest.signal, campaignOrder, models);
      if (interrupted) return 130;
      if (ing.newItems > 0 || created)
        say(`ingested ${ing.files - ing.unchanged} files: ${ing.structures} structures, ${ing.rejectedAtIngest} rejected at ingest, ${ing.newItems} new items${ing.unchanged ? `; ${ing.unchanged} files unchanged since read, not read again` : ''}`);
      else if (ing.unchanged) say(`inputs: ${ing.unchanged} of ${ing.files} files unchanged since this campaign read them (not read again)`);
      if (ing.changed.length > 0) {
        say(`warning: ${ing.changed.length} input file(s) changed since this campaign read them; their items keep the structures first read (a campaign's inputs are frozen: new content belongs in a new campaign):`);
        for (const c of ing.changed.slice(0, 10)) say(`  ${c}`);
        if (ing.changed.length > 10) say(`  … and ${ing.changed.length - 10} more`);
      }
    }
    // a run goes on past an earlier early stop unless its own --until-ci stops it again (the
    // parents re-check at once); the old stop stays in the campaign's event log
    if (campaign.stop_reason) {
      await env.store.clearEarlyStop(campaign.id, { untilCi: untilCi ?? null });
      if (campaign.status === 'stopped') await env.store.setCampaignStatus(campaign.id, 'running');
    }
    const before = await env.store.provenanceCounts(campaign.id);
    let p = await env.store.progress(campaign.id);
    if (p.pending + p.running === 0) {
      if (campaign.status === 'running') await env.store.setCampaignStatus(campaign.id, 'done');
      const prov = await env.store.provenanceCounts(campaign.id);
      const msg = `nothing to compute: all ${p.total} structures of ${campaign.name} are finished (done ${p.done}, failed ${p.failed}, rejected ${p.rejected}${p.cancelled ? `, cancelled ${p.cancelled}` : ''}); 0 steps computed, all ${prov.stepsUsed} step results already in the store. ${stabilityLine(p)}`;
      say(msg);
      if (json) console.log(JSON.stringify({ campaign: campaign.name, nothingToDo: true, progress: p, provenance: prov, computedThisRun: 0 }));
      return 0;
    }
    const client = await env.connectTemporal();
    // a dead PostgreSQL or Temporal server is restarted on the same data, and the progress line says so
    watch = new ServiceWatch(env.services, { log: (m) => process.stderr.write(m + '\n') });
    watch.start();
    if (!v['no-workers']) {
      supervisor = new WorkerSupervisor({
        temporalAddress: env.services.temporalAddress,
        databaseUrl: env.services.databaseUrl,
        queues: ['light', 'inference'],
        ...(v['inference-slots'] !== undefined ? { inferenceSlots: v['inference-slots'] } : {}),
        ...(v['light-slots'] !== undefined ? { lightSlots: v['light-slots'] } : {}),
        log: (m) => process.stderr.write(m + '\n'),
      });
      supervisor.start();
    }
    await startCampaignWorkflows(client, campaign, untilCi ? { untilCi: { halfWidth: untilCi, preset: campaign.preset } } : {});
    const printer = new ProgressPrinter(process.stderr, json ? 30_000 : 5_000);
    let stop: EarlyStop | null = null;
    const t0 = Date.now();
    for (;;) {
      if (interrupted) break;
      try {
        p = await env.store.progress(campaign.id);
        const c = await env.store.getCampaign(campaign.id);
        const health = watch.status();
        stop = c?.stop_reason ?? null;
        printer.update(progressLine(p) + (c?.status === 'paused' ? '  (paused: softmode resume)' : '') + (stop ? '  (interval reached: finishing running structures)' : '') + (health ? `  [${health}]` : ''));
        if (p.pending + p.running === 0) break;
        // stopped early: done when every parent has taken in its last children and closed
        if (stop && (await openCampaignParents(client, campaign)) === 0) {
          p = await env.store.progress(campaign.id);
          break;
        }
      } catch (e) {
        // the store may be restarting; keep going, the workers retry too
        printer.update(`(store unavailable: ${(e as Error).message})${watch.status() ? `  [${watch.status()}]` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    printer.update(progressLine(p), true);
    printer.end();
    if (interrupted) return 130;
    // Every structure is finished in the store, but each partition parent still has to take in
    // its last children's results and complete; that needs the workers, which stop when this
    // command returns. Under load that lags the store by seconds: wait for it (bounded).
    const open = await awaitCampaignParents(client, campaign, ENGINE_DEFAULTS.parentCloseWaitMs);
    if (open > 0) say(`note: ${open} campaign parent workflow(s) still open after ${ENGINE_DEFAULTS.parentCloseWaitMs / 1000} s; they close on the next \`softmode run\` or with any worker`);
    const now = await env.store.getCampaign(campaign.id);
    stop = now?.stop_reason ?? stop;
    if (now && now.status === 'running') await env.store.setCampaignStatus(campaign.id, stop && p.pending > 0 ? 'stopped' : 'done');
    if (stop)
      say(
        `stopped early: under ${stop.preset} the stable rate is ${(100 * stop.rate).toFixed(1)}% [95% CI ${(100 * stop.lo).toFixed(1)}–${(100 * stop.hi).toFixed(1)}%] of ${stop.n}, ` +
          `narrower than ±${(100 * stop.halfWidth).toFixed(2)} points; ${p.pending} structure(s) not scheduled (run again without --until-ci, or with a smaller one, to go on)`,
      );
    if (stop?.models)
      for (const m of stop.models) say(`  ${m.model}: ${(100 * m.rate).toFixed(1)}% [95% CI ${(100 * m.lo).toFixed(1)}–${(100 * m.hi).toFixed(1)}%] of ${m.n}`);
    const after = await env.store.provenanceCounts(campaign.id);
    const computed = after.computed - before.computed;
    const served = after.served - before.served;
    const wallS = (Date.now() - t0) / 1000;
    say(
      `finished ${campaign.name} in ${wallS.toFixed(1)} s: done ${p.done}, failed ${p.failed}, rejected ${p.rejected}${p.cancelled ? `, cancelled ${p.cancelled}` : ''}; ${stabilityLine(p)}\n` +
        `provenance: this run computed ${computed} steps and served ${served} from the store; ` +
        `completed steps recomputed: ${after.recomputedSteps}; results: ${after.itemsWithResults} for ${after.doneItems} done items`,
    );
    let perModel: Record<string, Progress> | undefined;
    if (models > 1) {
      // one line per model: each model's own stable rate (the campaign's line above mixes them)
      const by = await env.store.progressByModel(campaign.id);
      perModel = {};
      for (const [i, name] of modelNames(campaignSettings).entries()) {
        const mp = by.get(i);
        if (!mp) continue;
        perModel[name] = mp;
        say(`  ${name}: done ${mp.done}, failed ${mp.failed}, rejected ${mp.rejected}${mp.cancelled ? `, cancelled ${mp.cancelled}` : ''}${mp.pending ? `, pending ${mp.pending}` : ''}; ${stabilityLine(mp)}`);
      }
      say(`compare the models: softmode compare --campaign ${campaign.name}${env.services.embeddedPostgres ? ` --campaign-dir ${env.services.campaignDir}` : ''}`);
    }
    if (json) console.log(JSON.stringify({ campaign: campaign.name, campaignId: campaign.id, progress: p, provenance: after, computedThisRun: computed, servedThisRun: served, wallSeconds: wallS, earlyStop: stop, ...(perModel ? { models: perModel } : {}) }));
    return p.failed > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof SoftmodeInputError) {
      console.error(`softmode run: ${e.message}`);
      return 2;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await supervisor?.stop();
    await watch?.stop();
    await env.close({ stopServices: !keep });
    lock.release();
  }
}
