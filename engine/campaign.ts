// Campaigns: the campaign directory's services, the store, the Temporal client, campaign
// creation with its frozen settings, and the campaign parents' start/signal helpers (by the
// typed references of workflows/definitions.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { ENGINE_DEFAULTS, defaultPolicy } from '../config/engine.js';
import { RELAX_PROTOCOLS, withTrajectoryPrecision } from '../config/relax.js';
import { canonicalJson, loadConfigSnapshot } from '../config/index.js';
import { UsageError } from '../core/errors.js';
import { repoRoot } from '../core/paths.js';
import { type SupercellRule } from '../core/structure/supercell.js';
import { STABILITY_PRESETS } from '../core/stability/index.js';
import { PHONON_CONFIG } from '../config/phonon.js';
import { knownPotentials } from '../core/potential/index.js';
import { potentialFor, trajectoryPotentialFor } from '../pipeline/potentials.js';
import { supercellRuleOf } from '../pipeline/supercell.js';
import { type CampaignSettings, type ResolvedPotential, SettingsVersionError, buildSettings, checkedSettings, resolvedPotential } from '../pipeline/settings.js';
import { type CampaignRow, Store, sha256Hex } from '../store/index.js';
import { type CampaignInput, campaignWorkflowId } from '../workflows/definitions.js';
import { codeVersion } from './code-version.js';
import { type Services, defaultCampaignDir, ensureServices, stopServices } from './services/index.js';
import { postgresIsInitialised } from './services/postgres.js';
import { liveRunLockOwner } from './run-lock.js';

export interface Env {
  services: Services;
  store: Store;
  client?: Client;
  connection?: Connection;
  /** start (or reuse) the Temporal server later, when it turns out to be needed */
  connectTemporal(): Promise<Client>;
  /**
   * Close the connections and, unless `stopServices` is false, stop the directory's embedded
   * services: those this command started, and those adopted from a dead owner, unless a live
   * `softmode run` holds the directory's run lock (they are its services then).
   */
  close(opts?: { stopServices?: boolean }): Promise<void>;
}

export function campaignDirOf(flag: string | undefined): string {
  return flag ?? defaultCampaignDir();
}

/** Services (embedded or from the environment), the migrated store and, if asked, a client. */
export async function openEnv(campaignDir: string, opts: { temporal: boolean; log?: (m: string) => void; create?: boolean }): Promise<Env> {
  // commands that only read (status, export, audit, …) must not create a cluster where there is none
  if (opts.create === false && !process.env['DATABASE_URL'] && !postgresIsInitialised(resolve(campaignDir)))
    throw new UsageError(`no campaign directory at ${resolve(campaignDir)} (softmode run creates one; --campaign-dir DIR or SOFTMODE_CAMPAIGN_DIR names another)`);
  const services = await ensureServices(campaignDir, { temporal: opts.temporal, ...(opts.log ? { log: opts.log } : {}) });
  const store = new Store(services.databaseUrl);
  try {
    await store.migrate();
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
  let later: Services | undefined;
  const env: Env = {
    services,
    store,
    async connectTemporal() {
      if (env.client) return env.client;
      if (!env.services.temporalAddress) {
        later = await ensureServices(campaignDir, { temporal: true, ...(opts.log ? { log: opts.log } : {}) });
        env.services = { ...env.services, temporalAddress: later.temporalAddress, startedTemporal: later.startedTemporal, embeddedTemporal: later.embeddedTemporal };
      }
      env.connection = await Connection.connect({ address: env.services.temporalAddress });
      env.client = new Client({ connection: env.connection });
      return env.client;
    },
    async close(o = {}) {
      await env.connection?.close().catch(() => undefined);
      await store.close().catch(() => undefined);
      if (o.stopServices ?? true) {
        await later?.stop();
        await services.stop();
        // services adopted from a command that died (kill -9) are nobody's: stop them too,
        // unless a live campaign command owns this directory
        if ((services.embeddedPostgres || env.services.embeddedTemporal) && !liveRunLockOwner(services.campaignDir)) await stopServices(services.campaignDir).catch(() => undefined);
      }
    },
  };
  if (opts.temporal) await env.connectTemporal();
  return env;
}

export function modelManifest(model: string): unknown {
  const p = join(repoRoot(), 'models', model, 'manifest.json');
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * The models `--model` names: one name, or a comma-separated list (a multi-model campaign).
 * A list is checked before anything starts: no empty or repeated name, every name known to the
 * registry (UsageError naming the known ones). One name is returned as given (a one-model
 * campaign reports an unknown name when it loads, as before).
 */
export function parseModelList(spec: string): string[] {
  if (!spec.includes(',')) return [spec];
  const names = spec.split(',').map((x) => x.trim());
  if (names.some((n) => n === '')) throw new UsageError(`--model '${spec}': an empty name in the list (give model names separated by commas)`);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new UsageError(`--model '${spec}': '${n}' is named twice (each model once)`);
    seen.add(n);
  }
  const known = knownPotentials().flatMap((k) => k.names);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new UsageError(`--model: unknown model${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')} (known potentials: ${known.join(', ')})`);
  return names;
}

export interface CampaignOptions {
  name?: string;
  /** one model name, or several separated by commas (every structure under every model) */
  model: string;
  preset: string;
  relaxProtocol: string;
  /** replaces the protocol's trajectory precision (the acceptance test stays in the configured one) */
  trajectoryPrecision?: 'float32' | 'float64';
  supercell: string | undefined;
  window?: number;
  partitions?: number;
  inputs: readonly string[];
  /** test hook: shorter heartbeats / retry intervals */
  policy?: CampaignSettings['policy'];
  /** processing order of a new campaign (settings.order); input order when absent */
  order?: { kind: 'random'; seed: number };
}

export function defaultCampaignName(o: CampaignOptions): string {
  const models = parseModelList(o.model);
  const key = JSON.stringify({
    model: models.join(','),
    preset: o.preset,
    relax: o.relaxProtocol,
    ...(o.trajectoryPrecision ? { trajectoryPrecision: o.trajectoryPrecision } : {}),
    supercell: supercellRuleOf(o.supercell, o.preset),
    inputs: [...o.inputs].sort(),
  });
  return `c-${sha256Hex(key).slice(0, 12)}`;
}

/** Create (or find) the campaign row with its frozen settings. */
export async function createCampaign(store: Store, o: CampaignOptions): Promise<{ campaign: CampaignRow; created: boolean }> {
  if (!(STABILITY_PRESETS as readonly string[]).includes(o.preset))
    throw new UsageError(`--preset must be one of ${STABILITY_PRESETS.join(', ')} (got '${o.preset}')`);
  const named = RELAX_PROTOCOLS[o.relaxProtocol];
  if (!named) throw new UsageError(`--relax-protocol must be one of ${Object.keys(RELAX_PROTOCOLS).join(', ')}`);
  const protocol = o.trajectoryPrecision ? withTrajectoryPrecision(named, o.trajectoryPrecision) : named;
  const name = o.name ?? defaultCampaignName(o);
  const existing = await store.getCampaign(name);
  if (existing) {
    try {
      checkedSettings(existing.config, name);
    } catch (e) {
      if (e instanceof SettingsVersionError) throw new UsageError(`${e.message} (softmode run … --name NEW, or another --campaign-dir)`);
      throw e;
    }
    return { campaign: existing, created: false };
  }
  const modelNames = parseModelList(o.model);
  const resolved: ResolvedPotential[] = [];
  for (const model of modelNames) {
    try {
      const spec = { model, threads: 1 };
      const potential = await potentialFor(spec);
      // the relaxation's trajectory model must load too (workers would fail on every structure)
      await trajectoryPotentialFor(spec, potential, protocol);
      resolved.push(resolvedPotential(potential));
    } catch (e) {
      const hint = ` (known potentials: ${knownPotentials().flatMap((k) => k.names).join(', ')})`;
      throw new UsageError(`cannot load model '${model}': ${(e as Error).message}${hint}`);
    }
  }
  // two names of one model (e.g. a name and its default-precision alias) would share every step
  for (let i = 0; i < resolved.length; i++)
    for (let j = 0; j < i; j++) {
      const a = resolved[i]!.ref;
      const b = resolved[j]!.ref;
      if (a.checkpointSha256 === b.checkpointSha256 && a.architecture === b.architecture && a.precision === b.precision)
        throw new UsageError(`--model: '${modelNames[j]}' and '${modelNames[i]}' are the same model (checkpoint, architecture and precision); name it once`);
    }
  const first = resolved[0]!;
  const multi = resolved.length > 1;
  const identity = first.ref;
  const config = await loadConfigSnapshot();
  const partitions = Math.max(1, o.partitions ?? 1);
  const settings = buildSettings({
    potential: first,
    ...(multi ? { models: resolved } : {}),
    preset: o.preset,
    relaxProtocol: protocol,
    supercell: supercellRuleOf(o.supercell, o.preset),
    policy: o.policy ?? defaultPolicy(),
    config,
    ...(o.order ? { order: o.order } : {}),
  });
  return store.createCampaign({
    name,
    // a multi-model campaign lists every model, comma-separated in settings order (each item
    // and result names its own: campaign_items.model_index, results.model_name)
    modelName: multi ? modelNames.join(',') : o.model,
    modelSha256: multi ? resolved.map((r) => r.ref.checkpointSha256).join(',') : identity.checkpointSha256,
    modelPrecision: multi ? resolved.map((r) => r.ref.precision).join(',') : identity.precision,
    modelManifest: multi ? modelNames.map((m) => modelManifest(m)) : modelManifest(o.model),
    preset: o.preset,
    codeSha: codeVersion(),
    config: settings,
    // names the whole frozen parameter set (settings embed the config snapshot); nothing in it
    // depends on the host
    configSha256: sha256Hex(canonicalJson(settings)),
    windowSize: Math.min(o.window ?? ENGINE_DEFAULTS.windowDefault, ENGINE_DEFAULTS.windowMax),
    partitions,
  });
}

/** Partitions for a campaign of n items (each parent keeps ≤ windowMax children in flight). */
export function partitionsFor(n: number): number {
  return Math.max(1, Math.ceil(n / ENGINE_DEFAULTS.partitionSize));
}

/** Start every partition parent, or attach to the ones already running (idempotent). */
export async function startCampaignWorkflows(client: Client, c: CampaignRow, run: { untilCi?: { halfWidth: number; preset: string } } = {}): Promise<void> {
  const s = c.config as unknown as CampaignSettings;
  for (let p = 0; p < c.partitions; p++) {
    const input: CampaignInput = {
      campaignId: c.id,
      partition: p,
      partitions: c.partitions,
      window: Math.max(1, Math.ceil(c.window_size / c.partitions)),
      windowMax: ENGINE_DEFAULTS.windowMax,
      pageSize: ENGINE_DEFAULTS.pageSize,
      historyLengthCap: Number(process.env['SOFTMODE_HISTORY_CAP'] ?? ENGINE_DEFAULTS.historyLengthCap),
      reconcileEveryMs: Number(process.env['SOFTMODE_RECONCILE_MS'] ?? ENGINE_DEFAULTS.reconcileEveryMs),
      policy: s.policy,
      queues: { ...ENGINE_DEFAULTS.taskQueues },
      cursor: 0,
      inFlight: [],
      paused: c.status === 'paused',
      runs: 0,
      started: 0,
      finished: 0,
      ...(run.untilCi ? { untilCi: { ...run.untilCi } } : {}),
    };
    await client.workflow.start('campaignWorkflow', {
      workflowId: campaignWorkflowId(c.id, p),
      taskQueue: ENGINE_DEFAULTS.taskQueues.light,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  }
}

/**
 * Wait until every partition parent of the campaign has completed (following continue-as-new),
 * at most `timeoutMs` in all; returns how many are still open. A parent that does not exist
 * (never started) counts as closed.
 */
export async function awaitCampaignParents(client: Client, c: CampaignRow, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let open = 0;
  for (let p = 0; p < c.partitions; p++) {
    const h = client.workflow.getHandle(campaignWorkflowId(c.id, p));
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      // failed / terminated / not found: closed too; only an unreachable server leaves it open
      h.result().then(
        () => true,
        (e: unknown) => !(e instanceof Error && e.name === 'ServiceError'),
      ),
      new Promise<false>((res) => (timer = setTimeout(() => res(false), Math.max(0, left)))),
    ]);
    clearTimeout(timer);
    if (!closed) open++;
  }
  return open;
}

/** How many partition parents are still running now (no waiting; not found counts as closed). */
export async function openCampaignParents(client: Client, c: CampaignRow): Promise<number> {
  let open = 0;
  for (let p = 0; p < c.partitions; p++) {
    try {
      const d = await client.workflow.getHandle(campaignWorkflowId(c.id, p)).describe();
      if (d.status.name === 'RUNNING') open++;
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) continue;
      throw e;
    }
  }
  return open;
}

/** Send a signal to every partition parent that is running; returns how many got it. */
export async function signalCampaign(client: Client, c: CampaignRow, signal: string, args: unknown[] = []): Promise<number> {
  let n = 0;
  for (let p = 0; p < c.partitions; p++) {
    try {
      const h = client.workflow.getHandle(campaignWorkflowId(c.id, p));
      await h.signal(signal, ...args);
      n++;
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) continue;
      throw e;
    }
  }
  return n;
}

/** The campaign a command means: --campaign NAME, else the only / the latest one. */
export async function pickCampaign(store: Store, name: string | undefined): Promise<CampaignRow> {
  if (name) {
    const c = await store.getCampaign(/^\d+$/.test(name) ? Number(name) : name);
    if (!c) throw new UsageError(`no campaign '${name}' in this campaign directory`);
    return c;
  }
  const all = await store.listCampaigns();
  const last = all[all.length - 1];
  if (!last) throw new UsageError('no campaign in this campaign directory yet (softmode run <files>)');
  return last;
}

/** Wilson score interval (core/math/stats.ts), here for the CLI's progress line. */
export { wilson } from '../core/math/stats.js';
