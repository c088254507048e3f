// The queries of the campaign report (report/): read-only, paged where a campaign can have 10^5
// items. Step payloads are decoded here (gzip JSON, store/keys.ts); what they mean is report/'s.
import { decodePayload } from './keys.js';
import type { Store } from './index.js';

export interface ReportItemRow {
  id: number;
  status: string;
  source_path: string;
  source_index: number;
  source_name: string | null;
  error_class: string | null;
  finished_at: Date | null;
  structure_id: number | null;
  formula: string | null;
  natoms: number | null;
  label: string | null;
  labels: Record<string, string> | null;
  min_freq_thz: number | null;
  spacegroup_initial: number | null;
  spacegroup_relaxed: number | null;
  classify_key: string | null;
  phonon_key: string | null;
  model_name: string | null;
  model_sha256: string | null;
  model_precision: string | null;
  relax_precision: string | null;
  code_sha: string | null;
  config_sha256: string | null;
}

/** A page of the campaign's items (id > afterId) with their structure and result columns. */
export async function reportItemsPage(store: Store, campaignId: number, afterId: number, limit: number): Promise<ReportItemRow[]> {
  const r = await store.pool.query(
    `select i.id, i.status, i.source_path, i.source_index, i.source_name, i.error_class, i.finished_at, i.structure_id,
            s.formula, s.natoms, r.label, r.labels, r.min_freq_thz, r.spacegroup_initial, r.spacegroup_relaxed, r.classify_key, r.phonon_key,
            r.model_name, r.model_sha256, r.model_precision, r.relax_precision, r.code_sha, r.config_sha256
     from campaign_items i left join structures s on s.id = i.structure_id left join results r on r.campaign_item_id = i.id
     where i.campaign_id = $1 and i.id > $2 order by i.id limit $3`,
    [campaignId, afterId, limit],
  );
  return r.rows.map((x: Record<string, unknown>) => ({
    ...(x as unknown as ReportItemRow),
    id: Number(x['id']),
    structure_id: x['structure_id'] === null ? null : Number(x['structure_id']),
  }));
}

/** Decoded payloads of these step results (absent keys are left out). */
export async function stepPayloads<T>(store: Store, keys: readonly string[]): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = keys.slice(i, i + 1000);
    const r = await store.pool.query<{ key: string; payload: Buffer }>('select key, payload from step_results where key = any($1::text[])', [chunk]);
    for (const row of r.rows) out.set(row.key, decodePayload<T>(row.payload));
  }
  return out;
}

/** Results stored for the campaign so far (the live page reloads its data when this changes). */
export async function resultCount(store: Store, campaignId: number): Promise<number> {
  const r = await store.pool.query<{ n: string }>('select count(*) as n from results where campaign_id = $1', [campaignId]);
  return Number(r.rows[0]?.n ?? 0);
}

export interface ReportItemDetailRow {
  item: {
    id: number;
    status: string;
    source_path: string;
    source_index: number;
    source_name: string | null;
    error_class: string | null;
    error_message: string | null;
    generation: number;
    attempts: number;
    wall_ms: number | null;
    host: string | null;
    structure_id: number | null;
  };
  structure: { formula: string; natoms: number; hash: string; geometry_sha256: string; structure: unknown } | null;
  result: Record<string, unknown> | null;
  steps: {
    generation: number;
    step: string;
    key: string;
    served_from_store: boolean;
    cache_version: string;
    model_name: string | null;
    model_sha256: string | null;
    code_sha: string;
    host: string;
    duration_ms: number;
    model_ms: number;
    payload_bytes: number;
    at: Date;
  }[];
  attempts: {
    generation: number;
    step: string;
    activity_attempt: number;
    outcome: string;
    error_class: string | null;
    error_message: string | null;
    host: string;
    duration_ms: number | null;
    at: Date;
  }[];
  attemptsTotal: number;
}

/** One item of a campaign with its structure, result, step provenance and (the last `maxAttempts`) attempts. */
export async function reportItemDetail(store: Store, campaignId: number, itemId: number, maxAttempts = 50): Promise<ReportItemDetailRow | undefined> {
  const it = await store.pool.query(
    `select id, status, source_path, source_index, source_name, error_class, error_message, generation, attempts, wall_ms, host, structure_id
     from campaign_items where id = $1 and campaign_id = $2`,
    [itemId, campaignId],
  );
  const row = it.rows[0] as Record<string, unknown> | undefined;
  if (!row) return undefined;
  const item = { ...(row as unknown as ReportItemDetailRow['item']), id: Number(row['id']), structure_id: row['structure_id'] === null ? null : Number(row['structure_id']) };
  const st = item.structure_id === null ? undefined : (await store.pool.query('select formula, natoms, hash, geometry_sha256, structure from structures where id = $1', [item.structure_id])).rows[0];
  const res = (await store.pool.query('select * from results where campaign_item_id = $1', [itemId])).rows[0] as Record<string, unknown> | undefined;
  const steps = await store.pool.query(
    `select u.generation, u.step, u.key, u.served_from_store, s.cache_version, s.model_name, s.model_sha256, s.code_sha, s.host, s.duration_ms, s.model_ms,
            s.payload_bytes, u.at
     from step_uses u join step_results s on s.key = u.key where u.campaign_item_id = $1
     order by u.generation, u.at, array_position(array['validate', 'relax', 'displace', 'forces', 'phonons', 'classify'], u.step), u.step`,
    [itemId],
  );
  const total = await store.pool.query<{ n: string }>('select count(*) as n from attempts where campaign_item_id = $1', [itemId]);
  const attempts = await store.pool.query(
    `select * from (select generation, step, activity_attempt, outcome, error_class, error_message, host, duration_ms, at, id
                    from attempts where campaign_item_id = $1 order by id desc limit $2) a order by id`,
    [itemId, maxAttempts],
  );
  return {
    item,
    structure: (st as ReportItemDetailRow['structure']) ?? null,
    result: res ?? null,
    steps: steps.rows as ReportItemDetailRow['steps'],
    attempts: attempts.rows as ReportItemDetailRow['attempts'],
    attemptsTotal: Number(total.rows[0]?.n ?? 0),
  };
}

/**
 * Label pairs against every other campaign of the store that computed the same structures (same
 * content hash) with another model (checkpoint or precision): counts of (this label, other label)
 * under the preset given, one structure per hash on each side.
 */
export async function modelAgreementCounts(
  store: Store,
  campaignId: number,
  preset: string,
): Promise<{ campaignId: number; campaign: string; model: string; precision: string; mine: string; theirs: string; n: number }[]> {
  const r = await store.pool.query<{ cid: string; cname: string; model: string; precision: string; mine: string; theirs: string; n: string }>(
    `with mine as (
       select distinct on (s.hash) s.hash, coalesce(r.labels ->> $2, r.label) as label, r.model_sha256, r.model_precision
       from results r join structures s on s.id = r.structure_id where r.campaign_id = $1 order by s.hash, r.campaign_item_id
     ), theirs as (
       select distinct on (r.campaign_id, s.hash) r.campaign_id, s.hash, coalesce(r.labels ->> $2, r.label) as label, r.model_name, r.model_sha256, r.model_precision
       from results r join structures s on s.id = r.structure_id
       where r.campaign_id <> $1 and s.hash in (select hash from mine)
       order by r.campaign_id, s.hash, r.campaign_item_id
     )
     select t.campaign_id as cid, c.name as cname, t.model_name as model, t.model_precision as precision, m.label as mine, t.label as theirs, count(*) as n
     from mine m join theirs t on t.hash = m.hash join campaigns c on c.id = t.campaign_id
     where t.model_sha256 <> m.model_sha256 or t.model_precision <> m.model_precision
     group by t.campaign_id, c.name, t.model_name, t.model_precision, m.label, t.label
     order by t.campaign_id`,
    [campaignId, preset],
  );
  return r.rows.map((x) => ({ campaignId: Number(x.cid), campaign: x.cname, model: x.model, precision: x.precision, mine: x.mine, theirs: x.theirs, n: Number(x.n) }));
}
