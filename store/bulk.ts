// Bulk loading: many rows per statement (one JSON parameter read by json_to_recordset), for
// synthetic campaigns of 10^5 structures (bench/report-synthetic.ts, the report's test and
// benchmark). The engine itself writes through store/index.ts one row at a time.
import { encodePayload } from './keys.js';
import type { ItemStatus, NewStructure, PutStep, ResultRow, Store } from './index.js';

/** Insert structures (existing geometry kept); returns their ids in the order given. */
export async function bulkPutStructures(store: Store, rows: readonly NewStructure[]): Promise<number[]> {
  if (rows.length === 0) return [];
  const r = await store.pool.query<{ id: string; geometry_sha256: string }>(
    `insert into structures (geometry_sha256, hash, hash_kind, formula, natoms, source_path, source_index, source_name, source_sha256, structure)
     select x.geometry_sha256, x.hash, x.hash_kind, x.formula, x.natoms, x.source_path, x.source_index, x.source_name, x.source_sha256, x.structure
     from json_to_recordset($1::json) as x(geometry_sha256 text, hash text, hash_kind text, formula text, natoms integer, source_path text,
                                           source_index integer, source_name text, source_sha256 text, structure jsonb)
     on conflict (geometry_sha256) do update set geometry_sha256 = excluded.geometry_sha256
     returning id, geometry_sha256`,
    [
      JSON.stringify(
        rows.map((s) => ({
          geometry_sha256: s.geometrySha256,
          hash: s.hash,
          hash_kind: s.hashKind,
          formula: s.formula,
          natoms: s.natoms,
          source_path: s.sourcePath,
          source_index: s.sourceIndex,
          source_name: s.sourceName,
          source_sha256: s.sourceSha256,
          structure: s.structure,
        })),
      ),
    ],
  );
  const by = new Map(r.rows.map((x) => [x.geometry_sha256, Number(x.id)]));
  return rows.map((s) => by.get(s.geometrySha256)!);
}

/** Add pending items to a campaign (partition 0; existing (path, index) kept); returns their ids in the order given. */
export async function bulkAddItems(store: Store, campaignId: number, rows: readonly { structureId: number; sourcePath: string; sourceIndex: number; sourceName: string | null }[]): Promise<number[]> {
  if (rows.length === 0) return [];
  const r = await store.pool.query<{ id: string; source_path: string; source_index: number }>(
    `insert into campaign_items (campaign_id, structure_id, source_path, source_index, source_name, partition, status)
     select $1, x.structure_id, x.source_path, x.source_index, x.source_name, 0, 'pending'
     from json_to_recordset($2::json) as x(structure_id bigint, source_path text, source_index integer, source_name text)
     on conflict (campaign_id, source_path, source_index, model_index) do update set source_name = excluded.source_name
     returning id, source_path, source_index`,
    [campaignId, JSON.stringify(rows.map((x) => ({ structure_id: x.structureId, source_path: x.sourcePath, source_index: x.sourceIndex, source_name: x.sourceName })))],
  );
  const by = new Map(r.rows.map((x) => [`${x.source_path}\u0000${x.source_index}`, Number(x.id)]));
  return rows.map((x) => by.get(`${x.sourcePath}\u0000${x.sourceIndex}`)!);
}

/** Store computed steps (an existing key is kept) and record each one's use by its item. */
export async function bulkPutSteps(store: Store, steps: readonly (Omit<PutStep, 'startedAt'> & { use: { itemId: number; generation: number } })[]): Promise<void> {
  if (steps.length === 0) return;
  const rows = steps.map((s) => {
    const enc = encodePayload(s.payload);
    return {
      key: s.key,
      step: s.step,
      cache_version: s.cacheVersion,
      input_refs: s.inputRefs,
      params: s.params ?? null,
      model_name: s.modelName,
      model_sha256: s.modelSha256,
      code_sha: s.codeSha,
      host: s.host,
      duration_ms: s.durationMs,
      model_ms: s.modelMs,
      payload: enc.bytes.toString('base64'),
      payload_bytes: enc.rawBytes,
      item: s.use.itemId,
      generation: s.use.generation,
    };
  });
  const json = JSON.stringify(rows);
  const c = await store.pool.connect();
  try {
    await c.query('begin');
    await c.query(
      `insert into step_results (key, step, cache_version, input_refs, params, model_name, model_sha256, code_sha, host, duration_ms, model_ms, payload, payload_bytes)
       select x.key, x.step, x.cache_version, x.input_refs, x.params, x.model_name, x.model_sha256, x.code_sha, x.host, x.duration_ms, x.model_ms,
              decode(x.payload, 'base64'), x.payload_bytes
       from json_to_recordset($1::json) as x(key text, step text, cache_version text, input_refs text[], params jsonb, model_name text, model_sha256 text,
                                             code_sha text, host text, duration_ms double precision, model_ms double precision, payload text, payload_bytes integer)
       on conflict (key) do nothing`,
      [json],
    );
    await c.query(
      `insert into step_uses (campaign_item_id, generation, key, step, served_from_store)
       select x.item, x.generation, x.key, x.step, false from json_to_recordset($1::json) as x(item bigint, generation integer, key text, step text)
       on conflict (campaign_item_id, generation, key) do nothing`,
      [json],
    );
    await c.query(
      `insert into attempts (campaign_item_id, generation, step, activity_attempt, outcome, host, duration_ms)
       select x.item, x.generation, x.step, 1, 'computed', x.host, x.duration_ms
       from json_to_recordset($1::json) as x(item bigint, generation integer, step text, host text, duration_ms double precision)`,
      [json],
    );
    await c.query(
      `update campaign_items i set attempts = i.attempts + a.n
       from (select x.item, count(*) as n from json_to_recordset($1::json) as x(item bigint) group by x.item) a where i.id = a.item`,
      [json],
    );
    await c.query('commit');
  } catch (e) {
    await c.query('rollback').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

/** Insert results (an existing item's result is kept). */
export async function bulkPutResults(store: Store, results: readonly ResultRow[]): Promise<void> {
  if (results.length === 0) return;
  await store.pool.query(
    `insert into results (campaign_item_id, campaign_id, structure_id, generation, preset, label, labels, min_freq_thz, min_freq_q, min_freq_band,
       min_freq_where, n_imaginary, max_freq_thz, spacegroup_initial, spacegroup_relaxed, energy_initial_ev, energy_relaxed_ev, energy_per_atom_ev,
       relax_status, relax_steps, supercell, n_displacements, model_name, model_sha256, model_precision, code_sha, config_sha256, relax_key,
       phonon_key, classify_key, host, relax_precision)
     select x.campaign_item_id, x.campaign_id, x.structure_id, x.generation, x.preset, x.label, x.labels, x.min_freq_thz, x.min_freq_q, x.min_freq_band,
       x.min_freq_where, x.n_imaginary, x.max_freq_thz, x.spacegroup_initial, x.spacegroup_relaxed, x.energy_initial_ev, x.energy_relaxed_ev, x.energy_per_atom_ev,
       x.relax_status, x.relax_steps, x.supercell, x.n_displacements, x.model_name, x.model_sha256, x.model_precision, x.code_sha, x.config_sha256, x.relax_key,
       x.phonon_key, x.classify_key, x.host, x.relax_precision
     from json_to_recordset($1::json) as x(campaign_item_id bigint, campaign_id bigint, structure_id bigint, generation integer, preset text, label text,
       labels jsonb, min_freq_thz double precision, min_freq_q double precision[], min_freq_band integer, min_freq_where text, n_imaginary integer,
       max_freq_thz double precision, spacegroup_initial integer, spacegroup_relaxed integer, energy_initial_ev double precision,
       energy_relaxed_ev double precision, energy_per_atom_ev double precision, relax_status text, relax_steps integer, supercell integer[],
       n_displacements integer, model_name text, model_sha256 text, model_precision text, code_sha text, config_sha256 text, relax_key text,
       phonon_key text, classify_key text, host text, relax_precision text)
     on conflict (campaign_item_id) do nothing`,
    [
      JSON.stringify(
        results.map((r) => ({
          campaign_item_id: r.campaignItemId,
          campaign_id: r.campaignId,
          structure_id: r.structureId,
          generation: r.generation,
          preset: r.preset,
          label: r.label,
          labels: r.labels,
          min_freq_thz: r.minFreqThz,
          min_freq_q: r.minFreqQ,
          min_freq_band: r.minFreqBand,
          min_freq_where: r.minFreqWhere,
          n_imaginary: r.nImaginary,
          max_freq_thz: r.maxFreqThz,
          spacegroup_initial: r.spacegroupInitial,
          spacegroup_relaxed: r.spacegroupRelaxed,
          energy_initial_ev: r.energyInitialEv,
          energy_relaxed_ev: r.energyRelaxedEv,
          energy_per_atom_ev: r.energyPerAtomEv,
          relax_status: r.relaxStatus,
          relax_steps: r.relaxSteps,
          supercell: r.supercell,
          n_displacements: r.nDisplacements,
          model_name: r.modelName,
          model_sha256: r.modelSha256,
          model_precision: r.modelPrecision,
          code_sha: r.codeSha,
          config_sha256: r.configSha256,
          relax_key: r.relaxKey,
          phonon_key: r.phononKey,
          classify_key: r.classifyKey,
          host: r.host,
          relax_precision: r.relaxPrecision,
        })),
      ),
    ],
  );
}

/** Set items' final (or running) status with explicit times: `finishedAt` orders completion. */
export async function bulkSetItemStatus(
  store: Store,
  rows: readonly { id: number; status: ItemStatus; errorClass?: string | null; message?: string | null; host: string; startedAt: Date | null; finishedAt: Date | null }[],
): Promise<void> {
  if (rows.length === 0) return;
  await store.pool.query(
    `update campaign_items i set status = x.status, error_class = x.error_class, error_message = x.message, host = x.host,
       started_at = x.started_at, finished_at = x.finished_at,
       wall_ms = case when x.finished_at is null then null else extract(epoch from (x.finished_at - x.started_at)) * 1000 end,
       workflow_id = 'synthetic-' || i.id
     from json_to_recordset($1::json) as x(id bigint, status text, error_class text, message text, host text, started_at timestamptz, finished_at timestamptz)
     where i.id = x.id`,
    [
      JSON.stringify(
        rows.map((r) => ({ id: r.id, status: r.status, error_class: r.errorClass ?? null, message: r.message ?? null, host: r.host, started_at: r.startedAt?.toISOString() ?? null, finished_at: r.finishedAt?.toISOString() ?? null })),
      ),
    ],
  );
}
