// The provenance store (PostgreSQL). All SQL of the engine lives in store/; every statement is
// parameterized. Durable truth: Temporal holds execution state, this holds what was computed,
// by which model and code, and every campaign's items, attempts and results.
import pg from 'pg';
import { MIGRATIONS } from './migrations.js';
import { decodePayload, encodePayload } from './keys.js';
import { PRUNED_MAGIC } from './codec.js';

export { stepKey, encodePayload, decodePayload, sha256Hex } from './keys.js';
export { isPrunedPayload, type PrunedPayload } from './codec.js';

export type ItemStatus = 'pending' | 'running' | 'done' | 'failed' | 'rejected' | 'cancelled';
export const TERMINAL: readonly ItemStatus[] = ['done', 'failed', 'rejected', 'cancelled'];

export interface CampaignRow {
  id: number;
  name: string;
  status: string;
  model_name: string;
  model_sha256: string;
  model_precision: string;
  model_manifest: unknown;
  preset: string;
  code_sha: string;
  config: Record<string, unknown>;
  config_sha256: string;
  window_size: number;
  partitions: number;
  created_at: Date;
  /** why scheduling stopped early (run --until-ci), null while it has not / after a run went on */
  stop_reason: EarlyStop | null;
}

/** The record of an early stop: the running stable rate and its 95 % Wilson interval then. */
export interface EarlyStop {
  reason: 'interval_reached';
  preset: string;
  /** the half-width asked for (fraction, 0.01 = ±1 percentage point) */
  halfWidth: number;
  /** structures with a label (stable + unstable + relaxation failed) when it stopped */
  n: number;
  stable: number;
  rate: number;
  lo: number;
  hi: number;
  at: string;
  /** a multi-model campaign: every model's numbers (those above are the widest interval's) */
  models?: { model: string; n: number; stable: number; rate: number; lo: number; hi: number }[];
}

export interface IngestedFile {
  path: string;
  size: number;
  mtimeMs: number;
  /** of the text read; null when the file could not be read */
  sha256: string | null;
  structures: number;
  rejected: number;
}

export interface NewCampaign {
  name: string;
  modelName: string;
  modelSha256: string;
  modelPrecision: string;
  modelManifest: unknown;
  preset: string;
  codeSha: string;
  config: unknown;
  configSha256: string;
  windowSize: number;
  partitions: number;
}

export interface NewStructure {
  geometrySha256: string;
  hash: string;
  hashKind: string;
  formula: string;
  natoms: number;
  sourcePath: string;
  sourceIndex: number;
  sourceName: string | null;
  sourceSha256: string | null;
  structure: unknown;
}

export interface NewItem {
  structureId: number | null;
  sourcePath: string;
  sourceIndex: number;
  sourceName: string | null;
  /** set for inputs rejected at ingest (unreadable files) */
  rejected?: { errorClass: string; message: string };
  /** the item's model in a multi-model campaign (settings.models index); 0 when absent */
  modelIndex?: number;
}

export interface StoredStep<T = unknown> {
  key: string;
  step: string;
  payload: T;
  durationMs: number;
  modelMs: number;
}

export interface PutStep {
  key: string;
  step: string;
  cacheVersion: string;
  inputRefs: readonly string[];
  params: unknown;
  modelName: string | null;
  modelSha256: string | null;
  codeSha: string;
  host: string;
  durationMs: number;
  modelMs: number;
  payload: unknown;
  /** database time when this computation started (from `now()`), to tell a recomputation of a completed step from an overlap */
  startedAt: Date;
}

export interface ResultRow {
  campaignItemId: number;
  campaignId: number;
  structureId: number;
  generation: number;
  preset: string;
  label: string;
  labels: Record<string, string>;
  minFreqThz: number | null;
  minFreqQ: number[] | null;
  minFreqBand: number | null;
  minFreqWhere: string | null;
  nImaginary: number | null;
  maxFreqThz: number | null;
  spacegroupInitial: number | null;
  spacegroupRelaxed: number | null;
  energyInitialEv: number | null;
  energyRelaxedEv: number | null;
  energyPerAtomEv: number | null;
  relaxStatus: string | null;
  relaxSteps: number | null;
  supercell: number[] | null;
  nDisplacements: number | null;
  modelName: string;
  modelSha256: string;
  modelPrecision: string;
  /** precision of the model along the relaxation trajectory (null: no relaxation result) */
  relaxPrecision: string | null;
  codeSha: string;
  configSha256: string;
  relaxKey: string | null;
  phononKey: string | null;
  classifyKey: string | null;
  host: string;
}

export interface Progress {
  total: number;
  pending: number;
  running: number;
  done: number;
  failed: number;
  rejected: number;
  cancelled: number;
  stable: number;
  unstable: number;
  relaxationFailed: number;
  /** items finished in the last `windowSeconds` (for the rate) */
  recentDone: number;
  windowSeconds: number;
}

export interface ProvenanceCounts {
  /** distinct step results this campaign used */
  stepsUsed: number;
  /** of those, computed during this campaign */
  computed: number;
  /** served from the store (computed earlier, or by another campaign) */
  served: number;
  /** step results computed again after they were complete (must be 0) */
  recomputedSteps: number;
  /** step results computed by two overlapping attempts (a retry racing a stalled attempt) */
  overlappingComputations: number;
  /** items with more than one result row (impossible by the key; counted to prove it) */
  itemsWithResults: number;
  doneItems: number;
}

export class Store {
  readonly pool: pg.Pool;

  constructor(databaseUrl: string, opts: { max?: number } = {}) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: opts.max ?? 8, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 10_000 });
    // A lost server connection surfaces here for idle clients; queries fail (and are retried
    // by their activity) rather than crashing the process.
    this.pool.on('error', () => undefined);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async migrate(): Promise<number[]> {
    const c = await this.pool.connect();
    const applied: number[] = [];
    try {
      // one migrator at a time across processes
      await c.query('select pg_advisory_lock($1)', [0x50f7d0de]);
      await c.query('create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())');
      const done = new Set((await c.query<{ version: number }>('select version from schema_migrations')).rows.map((r) => r.version));
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        await c.query('begin');
        try {
          await c.query(m.sql);
          await c.query('insert into schema_migrations (version, name) values ($1, $2)', [m.version, m.name]);
          await c.query('commit');
          applied.push(m.version);
        } catch (e) {
          await c.query('rollback');
          throw e;
        }
      }
    } finally {
      await c.query('select pg_advisory_unlock($1)', [0x50f7d0de]).catch(() => undefined);
      c.release();
    }
    return applied;
  }

  // ---------------------------------------------------------------- campaigns

  async getCampaign(nameOrId: string | number): Promise<CampaignRow | undefined> {
    const r =
      typeof nameOrId === 'number'
        ? await this.pool.query<CampaignRow>('select * from campaigns where id = $1', [nameOrId])
        : await this.pool.query<CampaignRow>('select * from campaigns where name = $1', [nameOrId]);
    return r.rows[0] ? normCampaign(r.rows[0]) : undefined;
  }

  async listCampaigns(): Promise<CampaignRow[]> {
    const r = await this.pool.query<CampaignRow>('select * from campaigns order by id');
    return r.rows.map(normCampaign);
  }

  /** Create the campaign, or return the existing one with that name (its settings win). */
  async createCampaign(c: NewCampaign): Promise<{ campaign: CampaignRow; created: boolean }> {
    const r = await this.pool.query<CampaignRow>(
      `insert into campaigns (name, model_name, model_sha256, model_precision, model_manifest, preset, code_sha, config, config_sha256, window_size, partitions)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       on conflict (name) do nothing returning *`,
      [c.name, c.modelName, c.modelSha256, c.modelPrecision, JSON.stringify(c.modelManifest ?? null), c.preset, c.codeSha, JSON.stringify(c.config), c.configSha256, c.windowSize, c.partitions],
    );
    if (r.rows[0]) return { campaign: normCampaign(r.rows[0]), created: true };
    const existing = await this.getCampaign(c.name);
    if (!existing) throw new Error(`campaign ${c.name} vanished`);
    return { campaign: existing, created: false };
  }

  async setCampaignStatus(id: number, status: string): Promise<void> {
    await this.pool.query('update campaigns set status = $2, updated_at = now() where id = $1', [id, status]);
  }

  /**
   * A campaign that is `running` with every item finished is `done`, whoever finished it (a
   * `softmode run` watching, or workers alone): set it so and return the status now stored.
   * One statement, so it cannot race retry-failed (items back to pending, then `running`).
   */
  async settleCampaignStatus(id: number): Promise<string | undefined> {
    await this.pool.query(
      `update campaigns c set status = 'done', updated_at = now()
       where c.id = $1 and c.status = 'running'
         and exists (select 1 from campaign_items i where i.campaign_id = c.id)
         and not exists (select 1 from campaign_items i where i.campaign_id = c.id and i.status in ('pending', 'running'))`,
      [id],
    );
    const r = await this.pool.query<{ status: string }>('select status from campaigns where id = $1', [id]);
    return r.rows[0]?.status;
  }

  /**
   * Record an early stop once: the first partition parent to see the interval reached writes it
   * (and the event); the others find it set. Returns the stop now stored.
   */
  async recordEarlyStop(id: number, stop: EarlyStop): Promise<EarlyStop> {
    const c = await this.pool.connect();
    try {
      await c.query('begin');
      const r = await c.query<{ stop_reason: EarlyStop | null }>('select stop_reason from campaigns where id = $1 for update', [id]);
      const have = r.rows[0]?.stop_reason ?? null;
      if (have) {
        await c.query('commit');
        return have;
      }
      await c.query('update campaigns set stop_reason = $2, updated_at = now() where id = $1', [id, JSON.stringify(stop)]);
      await c.query(`insert into campaign_events (campaign_id, kind, detail) values ($1, 'early_stop', $2)`, [id, JSON.stringify(stop)]);
      await c.query('commit');
      return stop;
    } catch (e) {
      await c.query('rollback').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  /** A run going on past an early stop: the stop stays in the event log only. */
  async clearEarlyStop(id: number, detail: Record<string, unknown>): Promise<boolean> {
    const r = await this.pool.query('update campaigns set stop_reason = null, updated_at = now() where id = $1 and stop_reason is not null', [id]);
    if (!r.rowCount) return false;
    await this.pool.query(`insert into campaign_events (campaign_id, kind, detail) values ($1, 'resumed_past_stop', $2)`, [id, JSON.stringify(detail)]);
    return true;
  }

  async campaignEvents(id: number): Promise<{ at: Date; kind: string; detail: unknown }[]> {
    const r = await this.pool.query<{ at: Date; kind: string; detail: unknown }>('select at, kind, detail from campaign_events where campaign_id = $1 order by id', [id]);
    return r.rows;
  }

  async setCampaignShape(id: number, partitions: number, windowSize: number): Promise<void> {
    await this.pool.query('update campaigns set partitions = $2, window_size = $3, updated_at = now() where id = $1', [id, partitions, windowSize]);
  }

  // ---------------------------------------------------------------- structures and items

  async putSourceFile(sha256: string, path: string, text: string): Promise<void> {
    await this.pool.query('insert into source_files (sha256, path, text, bytes) values ($1, $2, $3, $4) on conflict (sha256) do nothing', [
      sha256,
      path,
      text,
      Buffer.byteLength(text),
    ]);
  }

  /** Insert a structure by content hash, or return the id of the one already stored. */
  async putStructure(s: NewStructure): Promise<number> {
    const r = await this.pool.query<{ id: string }>(
      `insert into structures (geometry_sha256, hash, hash_kind, formula, natoms, source_path, source_index, source_name, source_sha256, structure)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       on conflict (geometry_sha256) do update set geometry_sha256 = excluded.geometry_sha256 returning id`,
      [s.geometrySha256, s.hash, s.hashKind, s.formula, s.natoms, s.sourcePath, s.sourceIndex, s.sourceName, s.sourceSha256, JSON.stringify(s.structure)],
    );
    return Number(r.rows[0]!.id);
  }

  async getStructure(id: number): Promise<{ id: number; geometry_sha256: string; hash: string; formula: string; natoms: number; structure: unknown } | undefined> {
    const r = await this.pool.query('select id, geometry_sha256, hash, formula, natoms, structure from structures where id = $1', [id]);
    const row = r.rows[0] as { id: string; geometry_sha256: string; hash: string; formula: string; natoms: number; structure: unknown } | undefined;
    return row ? { ...row, id: Number(row.id) } : undefined;
  }

  /** By geometry sha256 (the ref steps use). */
  async getStructureByRef(ref: string): Promise<{ id: number; hash: string; formula: string; natoms: number; structure: unknown } | undefined> {
    const r = await this.pool.query('select id, hash, formula, natoms, structure from structures where geometry_sha256 = $1', [ref]);
    const row = r.rows[0] as { id: string; hash: string; formula: string; natoms: number; structure: unknown } | undefined;
    return row ? { ...row, id: Number(row.id) } : undefined;
  }

  /** The files this campaign has read, with the size and mtime they had then. */
  async ingestedFiles(campaignId: number): Promise<Map<string, { size: number; mtimeMs: number; sha256: string | null }>> {
    const r = await this.pool.query<{ path: string; size: string; mtime_ms: number; sha256: string | null }>('select path, size, mtime_ms, sha256 from ingested_files where campaign_id = $1', [campaignId]);
    return new Map(r.rows.map((x) => [x.path, { size: Number(x.size), mtimeMs: x.mtime_ms, sha256: x.sha256 }]));
  }

  /** Record files as read (after their items are committed); one statement per 1,000 rows. */
  async recordIngestedFiles(campaignId: number, files: readonly IngestedFile[]): Promise<void> {
    for (let i = 0; i < files.length; i += 1000) {
      const chunk = files.slice(i, i + 1000);
      await this.pool.query(
        `insert into ingested_files (campaign_id, path, size, mtime_ms, sha256, structures, rejected)
         select $1, * from unnest($2::text[], $3::bigint[], $4::double precision[], $5::text[], $6::int[], $7::int[])
         on conflict (campaign_id, path) do update set size = excluded.size, mtime_ms = excluded.mtime_ms, sha256 = excluded.sha256,
           structures = excluded.structures, rejected = excluded.rejected, at = now()`,
        [campaignId, chunk.map((f) => f.path), chunk.map((f) => f.size), chunk.map((f) => f.mtimeMs), chunk.map((f) => f.sha256), chunk.map((f) => f.structures), chunk.map((f) => f.rejected)],
      );
    }
  }

  /** Add items (idempotent on (campaign, source path, index)); returns how many were new. */
  async addItems(campaignId: number, partitions: number, items: readonly NewItem[]): Promise<number> {
    let added = 0;
    const c = await this.pool.connect();
    try {
      await c.query('begin');
      for (const it of items) {
        const r = await c.query(
          `insert into campaign_items (campaign_id, structure_id, source_path, source_index, source_name, partition, status, error_class, error_message, finished_at, model_index)
           values ($1, $2, $3, $4, $5, 0, $6, $7, $8, case when $6 = 'rejected' then now() end, $9)
           on conflict (campaign_id, source_path, source_index, model_index) do nothing returning id`,
          [campaignId, it.structureId, it.sourcePath, it.sourceIndex, it.sourceName, it.rejected ? 'rejected' : 'pending', it.rejected?.errorClass ?? null, it.rejected?.message ?? null, it.modelIndex ?? 0],
        );
        if (r.rowCount) added++;
      }
      // partition by id so every parent gets an even share
      await c.query('update campaign_items set partition = (id % $2)::int where campaign_id = $1', [campaignId, partitions]);
      await c.query('commit');
    } catch (e) {
      await c.query('rollback').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
    return added;
  }

  /** Next page of items a partition parent must run (not terminal, id > cursor). */
  async pendingItemsPage(campaignId: number, partition: number, afterId: number, limit: number): Promise<{ id: number; generation: number }[]> {
    const r = await this.pool.query<{ id: string; generation: number }>(
      `select id, generation from campaign_items
       where campaign_id = $1 and partition = $2 and id > $3 and status in ('pending', 'running')
       order by id limit $4`,
      [campaignId, partition, afterId, limit],
    );
    return r.rows.map((x) => ({ id: Number(x.id), generation: x.generation }));
  }

  /** Of these items, those no longer pending/running. */
  async terminalAmong(ids: readonly number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const r = await this.pool.query<{ id: string }>(`select id from campaign_items where id = any($1::bigint[]) and status not in ('pending', 'running')`, [ids]);
    return r.rows.map((x) => Number(x.id));
  }

  async getItem(id: number): Promise<
    | {
        id: number;
        campaign_id: number;
        structure_id: number | null;
        status: ItemStatus;
        generation: number;
        attempts: number;
        source_path: string;
        source_index: number;
        source_name: string | null;
        workflow_id: string | null;
        error_class: string | null;
        error_message: string | null;
      }
    | undefined
  > {
    const r = await this.pool.query('select * from campaign_items where id = $1', [id]);
    const row = r.rows[0];
    return row ? { ...row, id: Number(row.id), campaign_id: Number(row.campaign_id), structure_id: row.structure_id === null ? null : Number(row.structure_id) } : undefined;
  }

  async markItemRunning(id: number, generation: number, workflowId: string, runId: string | null, host: string): Promise<void> {
    await this.pool.query(
      `update campaign_items set status = 'running', workflow_id = $3, run_id = coalesce($4, run_id), host = $5, started_at = coalesce(started_at, now())
       where id = $1 and generation = $2 and status in ('pending', 'running')`,
      [id, generation, workflowId, runId, host],
    );
  }

  /** Final status of an item; only the current generation may set it. */
  async finishItem(id: number, generation: number, status: ItemStatus, error?: { errorClass: string; message: string }): Promise<void> {
    await this.pool.query(
      `update campaign_items set status = $3, error_class = $4, error_message = $5, finished_at = now(),
         wall_ms = extract(epoch from (now() - coalesce(started_at, now()))) * 1000
       where id = $1 and generation = $2`,
      [id, generation, status, error?.errorClass ?? null, error?.message ?? null],
    );
  }

  async cancelPending(campaignId: number, partition?: number): Promise<number> {
    const r = await this.pool.query(
      `update campaign_items set status = 'cancelled', finished_at = now(), error_class = 'cancelled'
       where campaign_id = $1 and ($2::int is null or partition = $2) and status in ('pending', 'running')`,
      [campaignId, partition ?? null],
    );
    return r.rowCount ?? 0;
  }

  /** retry-failed: failed (optionally one error class) → pending, next generation; attempt history stays. */
  async resetFailed(campaignId: number, errorClass?: string, includeCancelled = false): Promise<number> {
    const statuses = includeCancelled ? ['failed', 'cancelled'] : ['failed'];
    const r = await this.pool.query(
      `update campaign_items set status = 'pending', generation = generation + 1, error_class = null, error_message = null,
         started_at = null, finished_at = null, wall_ms = null, workflow_id = null, run_id = null
       where campaign_id = $1 and status = any($2::text[]) and ($3::text is null or error_class = $3)`,
      [campaignId, statuses, errorClass ?? null],
    );
    return r.rowCount ?? 0;
  }

  // ---------------------------------------------------------------- steps (content-addressed)

  /** The stored result of a step, counted as a hit for the item that asked. */
  async getStep<T>(key: string, use?: { itemId: number; generation: number }): Promise<StoredStep<T> | undefined> {
    const r = await this.pool.query<{ key: string; step: string; payload: Buffer; duration_ms: number; model_ms: number }>(
      'update step_results set hits = hits + 1 where key = $1 returning key, step, payload, duration_ms, model_ms',
      [key],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    if (use) await this.recordStepUse(use.itemId, use.generation, key, row.step, true);
    return { key: row.key, step: row.step, payload: decodePayload<T>(row.payload), durationMs: row.duration_ms, modelMs: row.model_ms };
  }

  /**
   * getStep for an item's activity with its 'served' attempt (recordAttempt) in the same
   * statement: one commit instead of four when a step is served. A miss writes nothing.
   */
  async serveStep<T>(key: string, use: { itemId: number; generation: number }, attempt: { step: string; activityAttempt: number; host: string }): Promise<StoredStep<T> | undefined> {
    const r = await this.pool.query<{ key: string; step: string; payload: Buffer; duration_ms: number; model_ms: number }>(
      `with hit as (
         update step_results set hits = hits + 1 where key = $1 returning key, step, payload, duration_ms, model_ms
       ), used as (
         insert into step_uses (campaign_item_id, generation, key, step, served_from_store)
         select $2, $3, key, step, true from hit
         on conflict (campaign_item_id, generation, key) do nothing
       ), attempt as (
         insert into attempts (campaign_item_id, generation, step, activity_attempt, outcome, error_class, error_message, host, duration_ms)
         select $2, $3, $4, $5, 'served', null, null, $6, 0 from hit
       ), counted as (
         update campaign_items set attempts = attempts + 1 where id = $2 and exists (select 1 from hit)
       )
       select * from hit`,
      [key, use.itemId, use.generation, attempt.step, attempt.activityAttempt, attempt.host],
    );
    const row = r.rows[0];
    return row ? { key: row.key, step: row.step, payload: decodePayload<T>(row.payload), durationMs: row.duration_ms, modelMs: row.model_ms } : undefined;
  }

  /** Read without counting (for audit, export, workflows' downstream steps). */
  async peekStep<T>(key: string): Promise<StoredStep<T> | undefined> {
    const r = await this.pool.query<{ key: string; step: string; payload: Buffer; duration_ms: number; model_ms: number }>(
      'select key, step, payload, duration_ms, model_ms from step_results where key = $1',
      [key],
    );
    const row = r.rows[0];
    return row ? { key: row.key, step: row.step, payload: decodePayload<T>(row.payload), durationMs: row.duration_ms, modelMs: row.model_ms } : undefined;
  }

  /** The database's clock (one clock for every worker host). */
  async now(): Promise<Date> {
    const r = await this.pool.query<{ t: Date }>('select clock_timestamp() as t');
    return r.rows[0]!.t;
  }

  async hasStep(key: string): Promise<boolean> {
    const r = await this.pool.query('select 1 from step_results where key = $1', [key]);
    return (r.rowCount ?? 0) > 0;
  }

  /**
   * Drop the payloads of these `step` results once nothing needs them (issue 18 item 4: the
   * displaced-supercell forces after the phonons made from them are stored). The row, its key
   * and provenance stay; the payload becomes a pruned marker holding the sha256 and size of what
   * was there (store/codec.ts isPrunedPayload). Idempotent; returns how many were pruned now.
   */
  async pruneStepPayloads(keys: readonly string[], step: string, reason: string): Promise<number> {
    if (keys.length === 0) return 0;
    const r = await this.pool.query(
      `update step_results set payload = $4::bytea || convert_to(json_build_object('pruned', json_build_object(
           'sha256', encode(sha256(payload), 'hex'), 'bytes', length(payload), 'reason', $3::text, 'at', now()))::text, 'UTF8')
       where key = any($1::text[]) and step = $2 and substring(payload from 1 for 4) <> $4::bytea`,
      [keys, step, reason, PRUNED_MAGIC],
    );
    return r.rowCount ?? 0;
  }

  /** Put a recomputed payload back where it was pruned (a later step needed it again). */
  async restorePrunedStep(key: string, payload: unknown): Promise<boolean> {
    const enc = encodePayload(payload);
    const r = await this.pool.query('update step_results set payload = $2 where key = $1 and substring(payload from 1 for 4) = $3::bytea', [key, enc.bytes, PRUNED_MAGIC]);
    return (r.rowCount ?? 0) > 0;
  }

  /**
   * Store a freshly computed step. If the key is already there (a concurrent or repeated
   * computation), the stored payload is kept and `computations` is incremented, so a
   * recomputation of a completed step is always visible. `startedAt` is read before the
   * caller's lookup; the row's `created_at` is its statement's start, which precedes its commit,
   * so a row stamped up to 1 s before `startedAt` may still have been invisible to the lookup:
   * that window counts as an overlap, not a recomputation.
   */
  async putStep(s: PutStep, use?: { itemId: number; generation: number }): Promise<void> {
    const enc = encodePayload(s.payload);
    await this.pool.query(
      `insert into step_results (key, step, cache_version, input_refs, params, model_name, model_sha256, code_sha, host, duration_ms, model_ms, payload, payload_bytes)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       on conflict (key) do update set
         computations = step_results.computations + case when step_results.created_at < $14::timestamptz - interval '1 second' then 1 else 0 end,
         overlap_count = step_results.overlap_count + case when step_results.created_at >= $14::timestamptz - interval '1 second' then 1 else 0 end`,
      [s.key, s.step, s.cacheVersion, s.inputRefs, JSON.stringify(s.params ?? null), s.modelName, s.modelSha256, s.codeSha, s.host, s.durationMs, s.modelMs, enc.bytes, enc.rawBytes, s.startedAt],
    );
    if (use) await this.recordStepUse(use.itemId, use.generation, s.key, s.step, false);
  }

  /**
   * putStep, its use by the item and the item's 'computed' attempt (recordAttempt) in one
   * statement: one commit (one WAL flush) instead of four, on every computed step (a warm server flushes in
   * ~0.3 ms here: bench:scale postgres_commit_ms; a fresh one, whose WAL files still grow, ~4 ms).
   */
  async putComputedStep(s: PutStep, use: { itemId: number; generation: number }, activityAttempt: number): Promise<void> {
    const enc = encodePayload(s.payload);
    await this.pool.query(
      `with stored as (
         insert into step_results (key, step, cache_version, input_refs, params, model_name, model_sha256, code_sha, host, duration_ms, model_ms, payload, payload_bytes)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         on conflict (key) do update set
           computations = step_results.computations + case when step_results.created_at < $14::timestamptz - interval '1 second' then 1 else 0 end,
           overlap_count = step_results.overlap_count + case when step_results.created_at >= $14::timestamptz - interval '1 second' then 1 else 0 end
         returning key
       ), used as (
         insert into step_uses (campaign_item_id, generation, key, step, served_from_store)
         select $15, $16, key, $2, false from stored
         on conflict (campaign_item_id, generation, key) do nothing
       ), attempt as (
         insert into attempts (campaign_item_id, generation, step, activity_attempt, outcome, error_class, error_message, host, duration_ms)
         values ($15, $16, $2, $17, 'computed', null, null, $9, $10)
       )
       update campaign_items set attempts = attempts + 1 where id = $15`,
      [s.key, s.step, s.cacheVersion, s.inputRefs, JSON.stringify(s.params ?? null), s.modelName, s.modelSha256, s.codeSha, s.host, s.durationMs, s.modelMs, enc.bytes, enc.rawBytes, s.startedAt, use.itemId, use.generation, activityAttempt],
    );
  }

  private async recordStepUse(itemId: number, generation: number, key: string, step: string, served: boolean): Promise<void> {
    // the first use decides "computed" vs "served" for this item; a retried activity that finds
    // its own earlier result stays "computed"
    await this.pool.query(
      `insert into step_uses (campaign_item_id, generation, key, step, served_from_store) values ($1, $2, $3, $4, $5)
       on conflict (campaign_item_id, generation, key) do nothing`,
      [itemId, generation, key, step, served],
    );
  }

  async recordAttempt(a: {
    itemId: number;
    generation: number;
    step: string;
    activityAttempt: number;
    outcome: 'computed' | 'served' | 'resumed' | 'fault' | 'rejected';
    errorClass?: string | null;
    errorMessage?: string | null;
    host: string;
    durationMs?: number | null;
  }): Promise<void> {
    await this.pool.query(
      `insert into attempts (campaign_item_id, generation, step, activity_attempt, outcome, error_class, error_message, host, duration_ms)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [a.itemId, a.generation, a.step, a.activityAttempt, a.outcome, a.errorClass ?? null, a.errorMessage ?? null, a.host, a.durationMs ?? null],
    );
    await this.pool.query('update campaign_items set attempts = attempts + 1 where id = $1', [a.itemId]);
  }

  // ---------------------------------------------------------------- results

  async putResult(r: ResultRow): Promise<void> {
    await this.pool.query(
      `insert into results (campaign_item_id, campaign_id, structure_id, generation, preset, label, labels, min_freq_thz, min_freq_q, min_freq_band,
         min_freq_where, n_imaginary, max_freq_thz, spacegroup_initial, spacegroup_relaxed, energy_initial_ev, energy_relaxed_ev, energy_per_atom_ev,
         relax_status, relax_steps, supercell, n_displacements, model_name, model_sha256, model_precision, code_sha, config_sha256, relax_key,
         phonon_key, classify_key, host, relax_precision)
       values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30,$31,$32)
       on conflict (campaign_item_id) do update set
         generation = excluded.generation, preset = excluded.preset, label = excluded.label, labels = excluded.labels,
         min_freq_thz = excluded.min_freq_thz, min_freq_q = excluded.min_freq_q, min_freq_band = excluded.min_freq_band,
         min_freq_where = excluded.min_freq_where, n_imaginary = excluded.n_imaginary, max_freq_thz = excluded.max_freq_thz,
         spacegroup_initial = excluded.spacegroup_initial, spacegroup_relaxed = excluded.spacegroup_relaxed,
         energy_initial_ev = excluded.energy_initial_ev, energy_relaxed_ev = excluded.energy_relaxed_ev,
         energy_per_atom_ev = excluded.energy_per_atom_ev, relax_status = excluded.relax_status, relax_steps = excluded.relax_steps,
         supercell = excluded.supercell, n_displacements = excluded.n_displacements, model_name = excluded.model_name,
         model_sha256 = excluded.model_sha256, model_precision = excluded.model_precision, code_sha = excluded.code_sha,
         config_sha256 = excluded.config_sha256, relax_key = excluded.relax_key, phonon_key = excluded.phonon_key,
         classify_key = excluded.classify_key, host = excluded.host, relax_precision = excluded.relax_precision, created_at = now()
       where results.generation <= excluded.generation`,
      [
        r.campaignItemId,
        r.campaignId,
        r.structureId,
        r.generation,
        r.preset,
        r.label,
        JSON.stringify(r.labels),
        r.minFreqThz,
        r.minFreqQ,
        r.minFreqBand,
        r.minFreqWhere,
        r.nImaginary,
        r.maxFreqThz,
        r.spacegroupInitial,
        r.spacegroupRelaxed,
        r.energyInitialEv,
        r.energyRelaxedEv,
        r.energyPerAtomEv,
        r.relaxStatus,
        r.relaxSteps,
        r.supercell,
        r.nDisplacements,
        r.modelName,
        r.modelSha256,
        r.modelPrecision,
        r.codeSha,
        r.configSha256,
        r.relaxKey,
        r.phononKey,
        r.classifyKey,
        r.host,
        r.relaxPrecision,
      ],
    );
  }

  // ---------------------------------------------------------------- progress, audit, export

  async progress(campaignId: number, windowSeconds = 120): Promise<Progress> {
    const r = await this.pool.query<{ status: string; n: string }>('select status, count(*) as n from campaign_items where campaign_id = $1 group by status', [campaignId]);
    const by: Record<string, number> = {};
    for (const row of r.rows) by[row.status] = Number(row.n);
    const l = await this.pool.query<{ label: string; n: string }>('select label, count(*) as n from results where campaign_id = $1 group by label', [campaignId]);
    const lab: Record<string, number> = {};
    for (const row of l.rows) lab[row.label] = Number(row.n);
    const recent = await this.pool.query<{ n: string }>(
      `select count(*) as n from campaign_items where campaign_id = $1 and status in ('done', 'failed', 'rejected') and finished_at > now() - make_interval(secs => $2)`,
      [campaignId, windowSeconds],
    );
    const get = (k: string) => by[k] ?? 0;
    return {
      total: Object.values(by).reduce((a, b) => a + b, 0),
      pending: get('pending'),
      running: get('running'),
      done: get('done'),
      failed: get('failed'),
      rejected: get('rejected'),
      cancelled: get('cancelled'),
      stable: lab['stable'] ?? 0,
      unstable: lab['unstable'] ?? 0,
      relaxationFailed: lab['relaxation_failed'] ?? 0,
      recentDone: Number(recent.rows[0]?.n ?? 0),
      windowSeconds,
    };
  }

  /**
   * Structures with a label under `preset` (stable + unstable + relaxation failed, as the
   * progress line counts them) and how many of them are stable.
   */
  async stableCounts(campaignId: number, preset: string): Promise<{ stable: number; n: number }> {
    const r = await this.pool.query<{ stable: string; n: string }>(
      `select count(*) filter (where l = 'stable') as stable,
              count(*) filter (where l in ('stable', 'unstable', 'relaxation_failed')) as n
       from (select case when label = 'relaxation_failed' then label else coalesce(labels ->> $2, label) end as l
             from results where campaign_id = $1) x`,
      [campaignId, preset],
    );
    return { stable: Number(r.rows[0]?.stable ?? 0), n: Number(r.rows[0]?.n ?? 0) };
  }

  async provenanceCounts(campaignId: number): Promise<ProvenanceCounts> {
    const u = await this.pool.query<{ used: string; computed: string; served: string }>(
      `select count(distinct u.key) as used,
              count(distinct u.key) filter (where not u.served_from_store) as computed,
              count(distinct u.key) filter (where u.served_from_store) as served
       from step_uses u join campaign_items i on i.id = u.campaign_item_id where i.campaign_id = $1`,
      [campaignId],
    );
    const rc = await this.pool.query<{ n: string }>(
      `select count(*) as n from step_results s where s.computations > 1
         and exists (select 1 from step_uses u join campaign_items i on i.id = u.campaign_item_id where u.key = s.key and i.campaign_id = $1)`,
      [campaignId],
    );
    const ov = await this.pool.query<{ n: string }>(
      `select coalesce(sum(s.overlap_count), 0) as n from step_results s
         where exists (select 1 from step_uses u join campaign_items i on i.id = u.campaign_item_id where u.key = s.key and i.campaign_id = $1)`,
      [campaignId],
    );
    const res = await this.pool.query<{ n: string }>('select count(*) as n from results where campaign_id = $1', [campaignId]);
    const done = await this.pool.query<{ n: string }>(`select count(*) as n from campaign_items where campaign_id = $1 and status = 'done'`, [campaignId]);
    return {
      stepsUsed: Number(u.rows[0]?.used ?? 0),
      computed: Number(u.rows[0]?.computed ?? 0),
      served: Number(u.rows[0]?.served ?? 0),
      recomputedSteps: Number(rc.rows[0]?.n ?? 0),
      overlappingComputations: Number(ov.rows[0]?.n ?? 0),
      itemsWithResults: Number(res.rows[0]?.n ?? 0),
      doneItems: Number(done.rows[0]?.n ?? 0),
    };
  }

  /** Items of a campaign matched by structure hash (prefix), structure id, source name or path. */
  async findItems(campaignId: number | null, query: string): Promise<{ id: number; campaign_id: number }[]> {
    const r = await this.pool.query<{ id: string; campaign_id: string }>(
      `select i.id, i.campaign_id from campaign_items i left join structures s on s.id = i.structure_id
       where ($1::bigint is null or i.campaign_id = $1)
         and (s.hash like $3 || '%' escape '\\' or s.geometry_sha256 like $3 || '%' escape '\\' or i.source_name = $2 or i.source_path = $2
              or i.source_path like '%/' || $3 escape '\\' or i.id::text = $2)
       order by i.id limit 50`,
      // the query is text, never a pattern: '_' and '%' in a file name match themselves
      [campaignId, query, likeLiteral(query)],
    );
    return r.rows.map((x) => ({ id: Number(x.id), campaign_id: Number(x.campaign_id) }));
  }

  async auditItem(itemId: number): Promise<{
    item: Record<string, unknown>;
    structure: Record<string, unknown> | undefined;
    campaign: Record<string, unknown> | undefined;
    result: Record<string, unknown> | undefined;
    steps: Record<string, unknown>[];
    attempts: Record<string, unknown>[];
  }> {
    const item = (await this.pool.query('select * from campaign_items where id = $1', [itemId])).rows[0] as Record<string, unknown>;
    const structure = item?.['structure_id']
      ? ((await this.pool.query('select id, geometry_sha256, hash, hash_kind, formula, natoms, source_path, source_index, source_name, source_sha256, created_at from structures where id = $1', [item['structure_id']])).rows[0] as Record<string, unknown>)
      : undefined;
    const campaign = item
      ? ((await this.pool.query('select id, name, status, model_name, model_sha256, model_precision, preset, code_sha, config_sha256, config, created_at from campaigns where id = $1', [item['campaign_id']])).rows[0] as Record<string, unknown>)
      : undefined;
    const result = (await this.pool.query('select * from results where campaign_item_id = $1', [itemId])).rows[0] as Record<string, unknown> | undefined;
    const steps = (
      await this.pool.query(
        `select u.generation, u.step, u.key, u.served_from_store, u.at, s.cache_version, s.input_refs, s.params, s.model_name, s.model_sha256, s.code_sha,
                s.host, s.duration_ms, s.model_ms, s.payload_bytes, s.computations, s.overlap_count, s.hits, s.created_at
         from step_uses u join step_results s on s.key = u.key where u.campaign_item_id = $1 order by u.generation, u.at`,
        [itemId],
      )
    ).rows as Record<string, unknown>[];
    const attempts = (await this.pool.query('select generation, step, activity_attempt, outcome, error_class, error_message, host, duration_ms, at from attempts where campaign_item_id = $1 order by id', [itemId]))
      .rows as Record<string, unknown>[];
    return { item, structure, campaign, result, steps, attempts };
  }

  /** The model of an item (its index in the campaign's settings.models; 0 for one-model campaigns). */
  async itemModelIndex(itemId: number): Promise<number | undefined> {
    const r = await this.pool.query<{ m: number }>('select model_index as m from campaign_items where id = $1', [itemId]);
    return r.rows[0] ? Number(r.rows[0].m) : undefined;
  }

  /**
   * Progress per model of a multi-model campaign (index = campaign_items.model_index): item
   * statuses and result labels, as `progress` counts them for the whole campaign.
   */
  async progressByModel(campaignId: number, windowSeconds = 120): Promise<Map<number, Progress>> {
    const st = await this.pool.query<{ m: number; status: string; n: string; recent: string }>(
      `select model_index as m, status, count(*) as n,
              count(*) filter (where status in ('done', 'failed', 'rejected') and finished_at > now() - make_interval(secs => $2)) as recent
       from campaign_items where campaign_id = $1 group by model_index, status`,
      [campaignId, windowSeconds],
    );
    const lb = await this.pool.query<{ m: number; label: string; n: string }>(
      `select i.model_index as m, r.label, count(*) as n from results r join campaign_items i on i.id = r.campaign_item_id
       where r.campaign_id = $1 group by i.model_index, r.label`,
      [campaignId],
    );
    const out = new Map<number, Progress>();
    const of = (m: number): Progress => {
      let p = out.get(m);
      if (!p) {
        p = { total: 0, pending: 0, running: 0, done: 0, failed: 0, rejected: 0, cancelled: 0, stable: 0, unstable: 0, relaxationFailed: 0, recentDone: 0, windowSeconds };
        out.set(m, p);
      }
      return p;
    };
    for (const row of st.rows) {
      const p = of(Number(row.m));
      const n = Number(row.n);
      p.total += n;
      p.recentDone += Number(row.recent);
      if (row.status in p && row.status !== 'total') (p as unknown as Record<string, number>)[row.status]! += n;
    }
    for (const row of lb.rows) {
      const p = of(Number(row.m));
      if (row.label === 'stable') p.stable += Number(row.n);
      else if (row.label === 'unstable') p.unstable += Number(row.n);
      else if (row.label === 'relaxation_failed') p.relaxationFailed += Number(row.n);
    }
    return out;
  }

  /** `stableCounts` per model (index = campaign_items.model_index); models without a result are absent. */
  async stableCountsByModel(campaignId: number, preset: string): Promise<Map<number, { stable: number; n: number }>> {
    const r = await this.pool.query<{ m: number; stable: string; n: string }>(
      `select m, count(*) filter (where l = 'stable') as stable,
              count(*) filter (where l in ('stable', 'unstable', 'relaxation_failed')) as n
       from (select i.model_index as m, case when r.label = 'relaxation_failed' then r.label else coalesce(r.labels ->> $2, r.label) end as l
             from results r join campaign_items i on i.id = r.campaign_item_id where r.campaign_id = $1) x
       group by m`,
      [campaignId, preset],
    );
    return new Map(r.rows.map((x) => [Number(x.m), { stable: Number(x.stable), n: Number(x.n) }]));
  }

  /** One row per item with provenance columns (export). Streams in pages of ids. */
  async exportPage(campaignId: number, afterId: number, limit: number): Promise<Record<string, unknown>[]> {
    const r = await this.pool.query(
      `select i.id as item_id, i.source_path, i.source_index, i.source_name, i.status, i.generation, i.attempts, i.error_class, i.error_message,
              i.host as item_host, i.wall_ms, i.workflow_id,
              s.hash as structure_hash, s.formula, s.natoms, i.model_index,
              coalesce(c.config -> 'models' -> i.model_index::int ->> 'model', c.model_name) as model,
              r.preset, r.label, r.labels, r.min_freq_thz, r.min_freq_q, r.min_freq_band, r.min_freq_where, r.n_imaginary, r.max_freq_thz,
              r.spacegroup_initial, r.spacegroup_relaxed, r.energy_initial_ev, r.energy_relaxed_ev, r.energy_per_atom_ev, r.relax_status, r.relax_steps,
              r.supercell, r.n_displacements, coalesce(r.model_name, c.config -> 'models' -> i.model_index::int ->> 'model', c.model_name) as model_name,
              coalesce(r.model_sha256, c.config -> 'models' -> i.model_index::int ->> 'checkpointSha256', c.model_sha256) as model_sha256,
              coalesce(r.model_precision, c.config -> 'models' -> i.model_index::int ->> 'precision', c.model_precision) as model_precision, r.relax_precision, coalesce(r.code_sha, c.code_sha) as code_sha,
              coalesce(r.config_sha256, c.config_sha256) as config_sha256, r.relax_key, r.phonon_key, r.classify_key
       from campaign_items i join campaigns c on c.id = i.campaign_id
         left join structures s on s.id = i.structure_id left join results r on r.campaign_item_id = i.id
       where i.campaign_id = $1 and i.id > $2 order by i.id limit $3`,
      [campaignId, afterId, limit],
    );
    return r.rows as Record<string, unknown>[];
  }

  async errorClasses(campaignId: number): Promise<{ status: string; error_class: string; n: number }[]> {
    const r = await this.pool.query<{ status: string; error_class: string; n: string }>(
      `select status, error_class, count(*) as n from campaign_items where campaign_id = $1 and error_class is not null group by status, error_class order by count(*) desc`,
      [campaignId],
    );
    return r.rows.map((x) => ({ status: x.status, error_class: x.error_class, n: Number(x.n) }));
  }

  /**
   * Median wall time of one committed single-row insert, ms: what each separate write of an
   * activity costs (its WAL flush), for bench:scale's breakdown. A throwaway ordinary table (a
   * temporary one is not WAL-logged, so its commits flush nothing).
   */
  async commitLatencyMs(n = 100): Promise<number> {
    const c = await this.pool.connect();
    try {
      await c.query('create table if not exists commit_probe (x int)');
      const t: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await c.query('insert into commit_probe values ($1)', [i]);
        t.push(performance.now() - t0);
      }
      await c.query('drop table commit_probe');
      t.sort((a, b) => a - b);
      return t[Math.floor(n / 2)]!;
    } finally {
      c.release();
    }
  }

  async dbSizeBytes(): Promise<number> {
    const r = await this.pool.query<{ n: string }>('select pg_database_size(current_database()) as n');
    return Number(r.rows[0]?.n ?? 0);
  }

  async historyOfItem(itemId: number): Promise<number> {
    const r = await this.pool.query<{ n: string }>('select count(*) as n from attempts where campaign_item_id = $1', [itemId]);
    return Number(r.rows[0]?.n ?? 0);
  }

  /** Per step of a campaign's computed (not served) results: count, Σ wall and model time, and when the first began and the last ended. */
  async stepTimings(campaignId: number): Promise<{ step: string; n: number; duration_ms: number; model_ms: number; first_start: Date; last_end: Date }[]> {
    const r = await this.pool.query<{ step: string; n: string; d: number; m: number; first_start: Date; last_end: Date }>(
      `select s.step, count(*) as n, sum(s.duration_ms) as d, sum(s.model_ms) as m,
              min(s.created_at - s.duration_ms * interval '1 millisecond') as first_start, max(s.created_at) as last_end
       from step_results s where exists (select 1 from step_uses u join campaign_items i on i.id = u.campaign_item_id where u.key = s.key and i.campaign_id = $1 and not u.served_from_store)
       group by s.step order by s.step`,
      [campaignId],
    );
    return r.rows.map((x) => ({ step: x.step, n: Number(x.n), duration_ms: Number(x.d), model_ms: Number(x.m), first_start: x.first_start, last_end: x.last_end }));
  }
}

/** `text` as a LIKE pattern matching exactly itself (with `escape '\'`: a backslash before each \, % and _). */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function normCampaign(r: CampaignRow): CampaignRow {
  return { ...r, id: Number(r.id) };
}
