// Shared by the fault drills (bench/drill.ts: one machine; bench/drill-cluster.ts: a Temporal
// cluster with worker nodes): the MatterGen inputs of the Lennard-Jones campaigns and the
// "nothing is lost" checks read from a campaign's store after it ran.
import { basename, dirname, join, relative } from 'node:path';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { readStructureFile } from '../core/structure/io/index.js';
import type { Store } from '../store/index.js';

export interface InputSet {
  dir: string;
  files: { source: string; atoms: number }[];
}

/** MatterGen structures under `mattergen` with ≤ maxAtoms atoms (not the *_symmetrized duplicates), by path (or size), the n after the first `skip`, copied into `dir`. */
export function mattergenInputs(mattergen: string, dir: string, n: number, maxAtoms: number, order: 'path' | 'size', skip = 0): InputSet {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const found: { source: string; atoms: number }[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, f.name);
      if (f.isDirectory()) walk(p);
      else if (f.name.endsWith('.cif') && !f.name.includes('_symmetrized')) {
        try {
          const s = readStructureFile(p);
          if (s.length === 1 && s[0]!.numbers.length <= maxAtoms) found.push({ source: relative(mattergen, p), atoms: s[0]!.numbers.length });
        } catch {
          // unreadable: not an input for the drill
        }
      }
    }
  };
  walk(mattergen);
  found.sort((a, b) => (order === 'size' ? a.atoms - b.atoms : 0) || a.source.localeCompare(b.source));
  const files = found.slice(skip, skip + n);
  if (files.length < n) throw new Error(`only ${files.length} MatterGen structures with ≤ ${maxAtoms} atoms under ${mattergen} (asked for ${n} after the first ${skip})`);
  for (const f of files) copyFileSync(join(mattergen, f.source), join(dir, `${basename(dirname(f.source))}__${basename(f.source)}`));
  return { dir, files };
}

export interface Checks {
  items: number;
  results: number;
  done: number;
  failed: number;
  rejected: number;
  unfinished: number;
  duplicates: number;
  recomputed_steps: number;
  overlapping_computations: number;
  steps_lost: number;
  lost_detail: { done_without_result: number; result_step_missing: number; computed_step_unrecorded: number };
  steps_used: number;
  resumed_relaxations: number;
  resumed_relax_results: number;
  fault_attempts: number;
  fault_error_classes: Record<string, number>;
  failed_errors: { error_class: string | null; error_message: string | null }[];
  labels: Record<string, number>;
}

/** The drill's checks of one campaign (by name) in its store. */
export async function campaignChecks(store: Store, name: string): Promise<Checks> {
  const c = await store.getCampaign(name);
  if (!c) throw new Error(`no campaign '${name}' in the store`);
  const id = c.id;
  const q = async (sql: string): Promise<number> => Number(Object.values((await store.pool.query(sql, [id])).rows[0] ?? { n: 0 })[0] ?? 0);
  const p = await store.progress(id);
  const prov = await store.provenanceCounts(id);
  const results = await q('select count(*) as n from results where campaign_id = $1');
  const duplicates = await q(`select coalesce(sum(n - 1), 0) as n from (select campaign_item_id, count(*) as n from results where campaign_id = $1 group by 1 having count(*) > 1) x`);
  const duplicateStructures = await q(`select coalesce(sum(n - 1), 0) as n from (select structure_id, count(*) as n from results where campaign_id = $1 group by 1 having count(*) > 1) x`);
  const doneWithoutResult = await q(`select count(*) as n from campaign_items i where i.campaign_id = $1 and i.status = 'done' and not exists (select 1 from results r where r.campaign_item_id = i.id)`);
  const resultStepMissing = await q(
    `select count(*) as n from results r cross join lateral unnest(array[r.relax_key, r.phonon_key, r.classify_key]) as k(key)
      where r.campaign_id = $1 and k.key is not null and not exists (select 1 from step_results s where s.key = k.key)`,
  );
  const computedUnrecorded = await q(
    `select count(*) as n from (select distinct a.campaign_item_id, a.generation, a.step from attempts a join campaign_items i on i.id = a.campaign_item_id
       where i.campaign_id = $1 and a.outcome = 'computed') x
      where not exists (select 1 from step_uses u where u.campaign_item_id = x.campaign_item_id and u.generation = x.generation and u.step = x.step)`,
  );
  const resumed = await q(`select count(*) as n from attempts a join campaign_items i on i.id = a.campaign_item_id where i.campaign_id = $1 and a.step = 'relax' and a.outcome = 'resumed'`);
  const relaxKeys = await store.pool.query<{ key: string }>(`select distinct r.relax_key as key from results r where r.campaign_id = $1 and r.relax_key is not null`, [id]);
  let resumedPayloads = 0;
  for (const row of relaxKeys.rows) if ((await store.peekStep<{ resumed?: boolean }>(row.key))?.payload.resumed) resumedPayloads++;
  const faults = await store.pool.query<{ error_class: string | null; n: string }>(
    `select a.error_class, count(*) as n from attempts a join campaign_items i on i.id = a.campaign_item_id where i.campaign_id = $1 and a.outcome = 'fault' group by 1 order by 2 desc`,
    [id],
  );
  const failedRows = await store.pool.query<{ error_class: string | null; error_message: string | null }>(
    `select error_class, left(error_message, 300) as error_message from campaign_items where campaign_id = $1 and status = 'failed' limit 10`,
    [id],
  );
  const labels = await store.pool.query<{ label: string; n: string }>('select label, count(*) as n from results where campaign_id = $1 group by 1 order by 1', [id]);
  const lost = { done_without_result: doneWithoutResult, result_step_missing: resultStepMissing, computed_step_unrecorded: computedUnrecorded };
  return {
    items: p.total,
    results,
    done: p.done,
    failed: p.failed,
    rejected: p.rejected,
    unfinished: p.pending + p.running,
    duplicates: duplicates + duplicateStructures,
    recomputed_steps: prov.recomputedSteps,
    overlapping_computations: prov.overlappingComputations,
    steps_lost: doneWithoutResult + resultStepMissing + computedUnrecorded,
    lost_detail: lost,
    steps_used: prov.stepsUsed,
    resumed_relaxations: resumed,
    resumed_relax_results: resumedPayloads,
    fault_attempts: faults.rows.reduce((a, r) => a + Number(r.n), 0),
    fault_error_classes: Object.fromEntries(faults.rows.map((r) => [r.error_class ?? 'null', Number(r.n)])),
    failed_errors: failedRows.rows,
    labels: Object.fromEntries(labels.rows.map((r) => [r.label, Number(r.n)])),
  };
}
