// The queries of `softmode compare` (and the report's within-campaign model agreement): a
// multi-model campaign (run --model a,b) has one item per (input, model); the same input under two
// models is the pair of items with the same (source path, source index), told apart by
// campaign_items.model_index. Read-only. A structure's label under a preset is the one its
// classification gave under that preset (results.labels), `relaxation_failed` when the
// relaxation failed (as the progress line and the early stop count it).
import type { Store } from './index.js';

/** How many inputs have (label a under model ma, label b under model mb), per preset and model pair. */
export interface PairLabelCount {
  preset: string;
  /** model indices (settings.models), ma < mb */
  ma: number;
  mb: number;
  la: string;
  lb: string;
  n: number;
}

/** One input that is stable under one model and unstable under the other (per preset and pair). */
export interface Disagreement {
  preset: string;
  ma: number;
  mb: number;
  sourcePath: string;
  sourceIndex: number;
  name: string | null;
  hash: string | null;
  formula: string | null;
  la: string;
  lb: string;
  /** the lowest frequency each model found (THz), where and at which q */
  minFreqA: number | null;
  whereA: string | null;
  qA: number[] | null;
  minFreqB: number | null;
  whereB: string | null;
  qB: number[] | null;
}

const LABELLED = `
  with x as (
    select i.source_path, i.source_index, i.source_name, i.model_index, i.structure_id, r.label, r.labels, r.min_freq_thz, r.min_freq_where, r.min_freq_q
    from results r join campaign_items i on i.id = r.campaign_item_id
    where r.campaign_id = $1
  ), l as (
    select x.*, p.preset, case when x.label = 'relaxation_failed' then x.label else coalesce(x.labels ->> p.preset, x.label) end as pl
    from x cross join unnest($2::text[]) as p(preset)
  )`;

/** Label pairs of every model pair under every preset given (inputs with a result under both). */
export async function modelPairLabelCounts(store: Store, campaignId: number, presets: readonly string[]): Promise<PairLabelCount[]> {
  const r = await store.pool.query<{ preset: string; ma: number; mb: number; la: string; lb: string; n: string }>(
    `${LABELLED}
     select a.preset, a.model_index as ma, b.model_index as mb, a.pl as la, b.pl as lb, count(*) as n
     from l a join l b on b.source_path = a.source_path and b.source_index = a.source_index and b.preset = a.preset and b.model_index > a.model_index
     group by a.preset, a.model_index, b.model_index, a.pl, b.pl
     order by a.preset, a.model_index, b.model_index, a.pl, b.pl`,
    [campaignId, presets],
  );
  return r.rows.map((x) => ({ preset: x.preset, ma: Number(x.ma), mb: Number(x.mb), la: x.la, lb: x.lb, n: Number(x.n) }));
}

/**
 * The inputs stable under one model and unstable under the other, per preset and model pair
 * (at most `limit` per preset and pair, by source path and index), with each model's minimum.
 */
export async function modelDisagreements(store: Store, campaignId: number, presets: readonly string[], limit: number): Promise<Disagreement[]> {
  const r = await store.pool.query<{
    preset: string;
    ma: number;
    mb: number;
    source_path: string;
    source_index: number;
    source_name: string | null;
    hash: string | null;
    formula: string | null;
    la: string;
    lb: string;
    fa: number | null;
    wa: string | null;
    qa: number[] | null;
    fb: number | null;
    wb: string | null;
    qb: number[] | null;
  }>(
    `${LABELLED}, d as (
       select a.preset, a.model_index as ma, b.model_index as mb, a.source_path, a.source_index, a.source_name, a.structure_id,
              a.pl as la, b.pl as lb, a.min_freq_thz as fa, a.min_freq_where as wa, a.min_freq_q as qa,
              b.min_freq_thz as fb, b.min_freq_where as wb, b.min_freq_q as qb,
              row_number() over (partition by a.preset, a.model_index, b.model_index order by a.source_path, a.source_index) as k
       from l a join l b on b.source_path = a.source_path and b.source_index = a.source_index and b.preset = a.preset and b.model_index > a.model_index
       where a.pl in ('stable', 'unstable') and b.pl in ('stable', 'unstable') and a.pl <> b.pl
     )
     select d.preset, d.ma, d.mb, d.source_path, d.source_index, d.source_name, s.hash, s.formula, d.la, d.lb, d.fa, d.wa, d.qa, d.fb, d.wb, d.qb
     from d left join structures s on s.id = d.structure_id
     where d.k <= $3
     order by d.preset, d.ma, d.mb, d.source_path, d.source_index`,
    [campaignId, presets, limit],
  );
  return r.rows.map((x) => ({
    preset: x.preset,
    ma: Number(x.ma),
    mb: Number(x.mb),
    sourcePath: x.source_path,
    sourceIndex: Number(x.source_index),
    name: x.source_name,
    hash: x.hash,
    formula: x.formula,
    la: x.la,
    lb: x.lb,
    minFreqA: x.fa,
    whereA: x.wa,
    qA: x.qa,
    minFreqB: x.fb,
    whereB: x.wb,
    qB: x.qb,
  }));
}
