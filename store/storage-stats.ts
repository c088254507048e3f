// Storage measurement and replication for bench:storage (issue 18 item 4). Measurement: bytes per
// table (heap, TOAST, indexes), per step kind (stored payload bytes, JSON bytes, pruned rows).
// Replication: copies of a campaign's finished items, every row a structure adds (its source
// file, structure, item, ingested-file record, step results with their stored payload bytes
// unchanged, step uses, attempts, result) under distinct keys and ids, so that a store with
// 10^4+ structures of real payloads can be measured without computing 10^4 phonon runs.
import type { Store } from './index.js';

export interface TableSize {
  table: string;
  rows: number;
  total: number;
  heap: number;
  toast: number;
  indexes: number;
}

export async function tableSizes(store: Store): Promise<TableSize[]> {
  const r = await store.pool.query<{ relname: string; rows: string; total: string; heap: string; toast: string; indexes: string }>(
    `select c.relname, c.reltuples::bigint as rows, pg_total_relation_size(c.oid) as total, pg_relation_size(c.oid) as heap,
            coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) as toast, pg_indexes_size(c.oid) as indexes
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind = 'r' order by 3 desc`,
  );
  return r.rows.map((x) => ({ table: x.relname, rows: Math.max(0, Number(x.rows)), total: Number(x.total), heap: Number(x.heap), toast: Number(x.toast), indexes: Number(x.indexes) }));
}

export async function databaseBytes(store: Store): Promise<number> {
  const r = await store.pool.query<{ n: string }>('select pg_database_size(current_database()) as n');
  return Number(r.rows[0]!.n);
}

/** VACUUM FULL + ANALYZE: dead tuples (updated, pruned rows) do not count, row estimates are fresh. */
export async function compact(store: Store): Promise<void> {
  await store.pool.query('vacuum full analyze');
}

export interface StepSize {
  step: string;
  results: number;
  /** bytes of the stored payloads (what the table keeps) */
  stored: number;
  /** bytes of their JSON text (payload_bytes) */
  json: number;
  pruned: number;
}

/** Step results by kind, over the steps a campaign used (or all when campaignId is null). */
export async function stepSizes(store: Store, campaignId: number | null): Promise<StepSize[]> {
  const r = await store.pool.query<{ step: string; n: string; stored: string; json: string; pruned: string }>(
    `select s.step, count(*) as n, sum(length(s.payload)) as stored, sum(s.payload_bytes) as json,
            count(*) filter (where substring(s.payload from 1 for 4) = '\\x534d5000'::bytea) as pruned
     from step_results s
     where $1::bigint is null or exists (select 1 from step_uses u join campaign_items i on i.id = u.campaign_item_id where u.key = s.key and i.campaign_id = $1)
     group by s.step order by 3 desc`,
    [campaignId],
  );
  return r.rows.map((x) => ({ step: x.step, results: Number(x.n), stored: Number(x.stored), json: Number(x.json), pruned: Number(x.pruned) }));
}

/** Stored payloads of a campaign's step results of one kind (for a breakdown by field). */
export async function samplePayloads(store: Store, campaignId: number, step: string, limit: number): Promise<Buffer[]> {
  const r = await store.pool.query<{ payload: Buffer }>(
    `select s.payload from step_results s where s.step = $2
       and exists (select 1 from step_uses u join campaign_items i on i.id = u.campaign_item_id where u.key = s.key and i.campaign_id = $1)
     order by s.key limit $3`,
    [campaignId, step, limit],
  );
  return r.rows.map((x) => x.payload);
}

const REPLICA = '#replica-';

/** Finished items of a campaign that are not replicas themselves. */
export async function originalDoneItems(store: Store, campaignId: number): Promise<number> {
  const r = await store.pool.query<{ n: string }>(`select count(*) as n from campaign_items where campaign_id = $1 and status = 'done' and position($2 in source_path) = 0`, [campaignId, REPLICA]);
  return Number(r.rows[0]!.n);
}

/**
 * Copies g = from..to of every finished original item of the campaign: each copy a new source
 * file, structure, item, ingested-file row, step results (keys and refs = sha256(old + ':' + g),
 * payload bytes as stored), step uses, attempts and result. One transaction. Returns items added.
 */
export async function replicateDoneItems(store: Store, campaignId: number, from: number, to: number): Promise<number> {
  const c = await store.pool.connect();
  const h = (x: string) => `encode(sha256(convert_to(${x} || ':' || r.g, 'UTF8')), 'hex')`;
  try {
    await c.query('begin');
    await c.query(
      `create temp table rep on commit drop as
       select i.id as old_id, g, nextval(pg_get_serial_sequence('campaign_items', 'id')) as new_id, i.structure_id as old_sid,
              null::bigint as new_sid
       from campaign_items i, generate_series($2::int, $3::int) g
       where i.campaign_id = $1 and i.status = 'done' and i.structure_id is not null and position($4 in i.source_path) = 0`,
      [campaignId, from, to, REPLICA],
    );
    await c.query(
      `insert into source_files (sha256, path, text, bytes)
       select ${h('f.sha256')}, f.path || $1 || r.g, f.text, f.bytes
       from rep r join structures s on s.id = r.old_sid join source_files f on f.sha256 = s.source_sha256
       on conflict (sha256) do nothing`,
      [REPLICA],
    );
    await c.query(
      `insert into structures (geometry_sha256, hash, hash_kind, formula, natoms, source_path, source_index, source_name, source_sha256, structure)
       select ${h('s.geometry_sha256')}, ${h('s.hash')}, s.hash_kind, s.formula, s.natoms, s.source_path || $1 || r.g, s.source_index, s.source_name,
              case when s.source_sha256 is null then null else ${h('s.source_sha256')} end, s.structure
       from rep r join structures s on s.id = r.old_sid
       on conflict (geometry_sha256) do nothing`,
      [REPLICA],
    );
    await c.query(`update rep r set new_sid = s.id from structures o, structures s where o.id = r.old_sid and s.geometry_sha256 = ${h('o.geometry_sha256')}`);
    await c.query(
      `insert into campaign_items (id, campaign_id, structure_id, source_path, source_index, source_name, partition, status, generation, attempts,
                                   workflow_id, run_id, error_class, error_message, host, started_at, finished_at, wall_ms)
       select r.new_id, i.campaign_id, r.new_sid, i.source_path || $1 || r.g, i.source_index, i.source_name, i.partition, i.status, i.generation, i.attempts,
              i.workflow_id || $1 || r.g, i.run_id, i.error_class, i.error_message, i.host, i.started_at, i.finished_at, i.wall_ms
       from rep r join campaign_items i on i.id = r.old_id`,
      [REPLICA],
    );
    await c.query(
      `insert into ingested_files (campaign_id, path, size, mtime_ms, sha256, structures, rejected)
       select distinct on (f.path, r.g) f.campaign_id, f.path || $2 || r.g, f.size, f.mtime_ms, ${h('f.sha256')}, f.structures, f.rejected
       from rep r join campaign_items i on i.id = r.old_id join ingested_files f on f.campaign_id = $1 and f.path = i.source_path
       on conflict do nothing`,
      [campaignId, REPLICA],
    );
    await c.query(
      `create temp table rep_keys on commit drop as
       select distinct u.key as old_key, r.g, ${h('u.key')} as new_key from rep r join step_uses u on u.campaign_item_id = r.old_id`,
    );
    await c.query(
      `insert into step_results (key, step, cache_version, input_refs, params, model_name, model_sha256, code_sha, host, duration_ms, model_ms, payload,
                                 payload_bytes, computations, overlap_count, hits, created_at)
       select r.new_key, s.step, s.cache_version,
              array(select encode(sha256(convert_to(x.ref || ':' || r.g, 'UTF8')), 'hex') from unnest(s.input_refs) with ordinality x(ref, o) order by x.o),
              s.params, s.model_name, s.model_sha256, s.code_sha, s.host, s.duration_ms, s.model_ms, s.payload, s.payload_bytes, s.computations, s.overlap_count,
              s.hits, s.created_at
       from rep_keys r join step_results s on s.key = r.old_key
       on conflict (key) do nothing`,
    );
    await c.query(
      `insert into step_uses (campaign_item_id, generation, key, step, served_from_store, at)
       select r.new_id, u.generation, ${h('u.key')}, u.step, u.served_from_store, u.at from rep r join step_uses u on u.campaign_item_id = r.old_id
       on conflict do nothing`,
    );
    await c.query(
      `insert into attempts (campaign_item_id, generation, step, activity_attempt, outcome, error_class, error_message, host, duration_ms, at)
       select r.new_id, a.generation, a.step, a.activity_attempt, a.outcome, a.error_class, a.error_message, a.host, a.duration_ms, a.at
       from rep r join attempts a on a.campaign_item_id = r.old_id`,
    );
    await c.query(
      `insert into results (campaign_item_id, campaign_id, structure_id, generation, preset, label, labels, min_freq_thz, min_freq_q, min_freq_band,
         min_freq_where, n_imaginary, max_freq_thz, spacegroup_initial, spacegroup_relaxed, energy_initial_ev, energy_relaxed_ev, energy_per_atom_ev,
         relax_status, relax_steps, supercell, n_displacements, model_name, model_sha256, model_precision, code_sha, config_sha256, relax_key,
         phonon_key, classify_key, host, relax_precision, created_at)
       select r.new_id, x.campaign_id, r.new_sid, x.generation, x.preset, x.label, x.labels, x.min_freq_thz, x.min_freq_q, x.min_freq_band,
         x.min_freq_where, x.n_imaginary, x.max_freq_thz, x.spacegroup_initial, x.spacegroup_relaxed, x.energy_initial_ev, x.energy_relaxed_ev, x.energy_per_atom_ev,
         x.relax_status, x.relax_steps, x.supercell, x.n_displacements, x.model_name, x.model_sha256, x.model_precision, x.code_sha, x.config_sha256,
         case when x.relax_key is null then null else ${h('x.relax_key')} end, case when x.phonon_key is null then null else ${h('x.phonon_key')} end,
         case when x.classify_key is null then null else ${h('x.classify_key')} end, x.host, x.relax_precision, x.created_at
       from rep r join results x on x.campaign_item_id = r.old_id`,
    );
    const n = await c.query<{ n: string }>('select count(*) as n from rep');
    await c.query('commit');
    return Number(n.rows[0]!.n);
  } catch (e) {
    await c.query('rollback').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}
