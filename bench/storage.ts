// Storage per structure (issue 18 item 4): bytes in softmode's PostgreSQL store and in the
// Temporal server's database for a campaign of MatterGen structures, where they go (table, step,
// phonon-result field, Temporal event and activity type), and the projection to 10^5 and 10^6.
//
//   npm run bench:storage -- [--structures 8] [--model chgnet-0.3.0] [--replicate-to 10000] [--before FILE]
//   npm run bench:storage -- --measure-only --campaign-dir DIR --name NAME [--replicate-to 0] [--out FILE]
//
// Measured on real runs: a campaign over N MatterGen CIFs (../shared/data/structures, evenly spread
// over the 450) with the real model: every table, every step payload, the Temporal histories of
// every workflow and the Temporal SQLite file. Replicated: the store is then filled to
// --replicate-to structures by copying those real finished structures (store/storage-stats.ts:
// every row a structure adds, stored payload bytes unchanged, under distinct keys) and measured
// again. Temporal is not replicated: its bytes per structure are the real run's (histories and
// the SQLite growth), projected linearly (and bounded by the namespace retention).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { temporal as T } from '@temporalio/proto';
import { readStructureFile, writePoscar } from '../core/structure/io/index.js';
import { makeStructure } from '../core/structure/structure.js';
import { repoRoot } from '../core/paths.js';
import { ensureServices, startTemporal, stopServices, stopTemporal } from '../engine/services/index.js';
import { Store, decodePayload, encodePayload } from '../store/index.js';
import { compactPhonons } from '../pipeline/phonon-storage.js';
import type { PhononOut } from '../pipeline/steps.js';
import { compact, databaseBytes, originalDoneItems, replicateDoneItems, samplePayloads, stepSizes, tableSizes } from '../store/storage-stats.js';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';

const SPEC = {
  structures: { kind: 'positive-int', default: 8, metavar: 'N', help: 'structures computed for real (default 8)' },
  model: { kind: 'string', default: 'chgnet-0.3.0', metavar: 'NAME', help: 'potential (default chgnet-0.3.0)' },
  supercell: { kind: 'string', default: 'preset', metavar: 'RULE', help: "supercell rule (default: the preset's policy)" },
  'replicate-to': { kind: 'string', default: '10000', metavar: 'M', help: 'fill the store to M structures with copies of the real ones (0: none; default 10000)' },
  'measure-only': { kind: 'boolean', help: 'measure an existing campaign (--campaign-dir, --name) instead of running one' },
  'campaign-dir': { kind: 'string', metavar: 'DIR', help: 'campaign directory (default .campaigns/bench-storage)' },
  name: { kind: 'string', default: 'storage', metavar: 'NAME', help: 'campaign name' },
  out: { kind: 'string', metavar: 'FILE', help: 'where to write (default bench/results/storage.json)' },
  before: { kind: 'string', metavar: 'FILE', help: "a measurement of the code before (this script's output) to embed as `before`" },
  keep: { kind: 'boolean', help: 'keep the campaign directory' },
} as const satisfies OptionsSpec;

const ROOT = repoRoot();
const MATTERGEN = resolve(ROOT, '..', 'shared', 'data', 'structures');
/** Temporal's dev server: a namespace keeps closed workflows' histories this long (engine.md) */
const DEV_SERVER_RETENTION_H = 24;

function cifsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...cifsUnder(p));
    else if (f.endsWith('.cif')) out.push(p);
  }
  return out;
}

/** N MatterGen structures evenly spread over the collection (lattices scaled when N exceeds it, so every input is distinct). */
function writeInputs(dir: string, n: number): string[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = cifsUnder(MATTERGEN);
  const names: string[] = [];
  for (let k = 0; k < n; k++) {
    const i = Math.floor((k * files.length) / Math.max(n, 1)) % files.length;
    const s = readStructureFile(files[i]!)[0]!;
    const f = 1 + Math.floor(k / files.length) * 1e-4;
    const t = makeStructure({ lattice: s.lattice.map((r) => r.map((x) => x * f)), frac: s.frac, numbers: s.numbers });
    writeFileSync(join(dir, `m${String(k).padStart(6, '0')}.vasp`), writePoscar(t));
    names.push(files[i]!.slice(MATTERGEN.length + 1));
  }
  return names;
}

function cli(args: string[]): Promise<number | null> {
  return new Promise((res) => {
    const p: ChildProcess = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('close', (code) => res(code));
  });
}

function findFiles(dir: string, match: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...findFiles(p, match));
    else if (match(f)) out.push(p);
  }
  return out;
}

const { temporal } = proto;

const bytesOfEvent = (e: T.api.history.v1.IHistoryEvent): number => temporal.api.history.v1.HistoryEvent.encode(e).finish().length;

/** Every workflow's history in the Temporal server: bytes by workflow type, event type and activity type. */
async function temporalHistories(address: string): Promise<{
  workflows: Record<string, { executions: number; events: number; bytes: number }>;
  events: Record<string, { events: number; bytes: number }>;
  activities: Record<string, { scheduled: number; input_bytes: number; result_bytes: number; event_bytes: number }>;
  total_bytes: number;
}> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const workflows: Record<string, { executions: number; events: number; bytes: number }> = {};
    const events: Record<string, { events: number; bytes: number }> = {};
    const activities: Record<string, { scheduled: number; input_bytes: number; result_bytes: number; event_bytes: number }> = {};
    let total = 0;
    for await (const w of client.workflow.list()) {
      const h = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
      const wt = (workflows[w.type] ??= { executions: 0, events: 0, bytes: 0 });
      wt.executions++;
      const actType = new Map<string, string>();
      for (const e of h.events ?? []) {
        const b = bytesOfEvent(e);
        total += b;
        wt.events++;
        wt.bytes += b;
        const name = String(temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? e.eventType).replace(/^EVENT_TYPE_/, '');
        const et = (events[name] ??= { events: 0, bytes: 0 });
        et.events++;
        et.bytes += b;
        const sched = e.activityTaskScheduledEventAttributes;
        if (sched) {
          const t = sched.activityType?.name ?? '?';
          actType.set(String(e.eventId), t);
          const a = (activities[t] ??= { scheduled: 0, input_bytes: 0, result_bytes: 0, event_bytes: 0 });
          a.scheduled++;
          a.input_bytes += temporal.api.common.v1.Payloads.encode(sched.input ?? {}).finish().length;
          a.event_bytes += b;
        }
        const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskStartedEventAttributes;
        if (done) {
          const t = actType.get(String(done.scheduledEventId)) ?? '?';
          const a = (activities[t] ??= { scheduled: 0, input_bytes: 0, result_bytes: 0, event_bytes: 0 });
          a.event_bytes += b;
          const res = e.activityTaskCompletedEventAttributes?.result;
          if (res) a.result_bytes += temporal.api.common.v1.Payloads.encode(res).finish().length;
        }
      }
    }
    return { workflows, events, activities, total_bytes: total };
  } finally {
    await connection.close();
  }
}

/** The Temporal SQLite file after a WAL checkpoint, by table (python3's sqlite3 dbstat), or null. */
function sqliteTables(file: string): { file_bytes: number; tables: Record<string, number> } | null {
  const py = `import sqlite3, json, sys
c = sqlite3.connect(sys.argv[1]); c.execute('pragma wal_checkpoint(TRUNCATE)')
t = {}
try:
  for n, s in c.execute('select name, sum(pgsize) from dbstat group by name'): t[n] = s
except Exception: pass
print(json.dumps(t))`;
  const r = spawnSync('python3', ['-c', py, file], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  return { file_bytes: statSync(file).size, tables: JSON.parse(r.stdout) as Record<string, number> };
}

/** Tables of Temporal's SQLite schema that grow with every workflow (the rest is fixed: namespaces, queues, schema). */
const PER_WORKFLOW = /^(sqlite_autoindex_)?(history_node|history_tree|executions|current_executions|executions_visibility|activity_info_maps|timer_info_maps|child_execution_info_maps|request_cancel_info_maps|signal_info_maps|signals_requested_sets|buffered_events|transfer_tasks|timer_tasks|visibility_tasks|replication_tasks|tasks|tasks_v2)(_\d+)?$/;

/** An empty Temporal dev server's SQLite (started and stopped in a scratch directory): the baseline of its per-workflow tables. */
async function emptyTemporalBaseline(scratch: string): Promise<number | null> {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  try {
    await startTemporal(scratch);
    await stopTemporal(scratch);
    const f = findFiles(join(scratch, 'temporal'), (x) => /\.(db|sqlite)$/.test(x))[0];
    const t = f ? sqliteTables(f) : null;
    return t ? Object.entries(t.tables).filter(([k]) => PER_WORKFLOW.test(k)).reduce((s, [, b]) => s + b, 0) : null;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Bytes of each top-level field of stored phonon results (each field encoded alone, as the store would). */
function phononFields(payloads: Buffer[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of payloads) {
    const v = decodePayload<Record<string, unknown>>(p);
    for (const [k, x] of Object.entries(v)) {
      if (k === 'plot' && x && typeof x === 'object') for (const [k2, y] of Object.entries(x)) out[`plot.${k2}`] = (out[`plot.${k2}`] ?? 0) + encodePayload(y).bytes.length;
      else out[k] = (out[k] ?? 0) + encodePayload(x).bytes.length;
    }
  }
  for (const k of Object.keys(out)) out[k] = out[k]! / Math.max(1, payloads.length);
  return out;
}

async function main(): Promise<number> {
  const a = parseProcessArgs('bench:storage', SPEC);
  const v = a.values;
  const dir = resolve(v['campaign-dir'] ?? join(ROOT, '.campaigns', 'bench-storage'));
  const replicateTo = Number(v['replicate-to']);
  const t0 = Date.now();
  let inputs: string[] | null = null;
  if (!v['measure-only']) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const inDir = join(dir, 'inputs');
    inputs = writeInputs(inDir, v.structures);
    const code = await cli(['run', inDir, '--model', v.model, '--supercell', v.supercell, '--name', v.name, '--campaign-dir', dir, '--keep-services']);
    if (code !== 0 && code !== 1) throw new Error(`softmode run exited with ${code}`);
  }
  const runS = (Date.now() - t0) / 1000;
  let svc = await ensureServices(dir);
  let store = new Store(svc.databaseUrl);
  try {
    const c = await store.getCampaign(v.name);
    if (!c) throw new Error(`no campaign ${v.name} in ${dir}`);
    const p = await store.progress(c.id);
    const real = await originalDoneItems(store, c.id);
    if (real === 0) throw new Error('no finished structure to measure');

    // ---- real run: store
    await compact(store);
    const realDb = await databaseBytes(store);
    const realTables = await tableSizes(store);
    const realSteps = await stepSizes(store, c.id);
    const phononPayloads = await samplePayloads(store, c.id, 'phonons', 1000);
    const phon = phononFields(phononPayloads);
    // the same stored results as this code stores them (a campaign stored by the code before the cuts): phonons compact, payloads in format 2
    const fullPhonons = phononPayloads.map((b) => decodePayload<PhononOut>(b)).filter((x) => x.storage === undefined);
    const reencoded = fullPhonons.length > 0 ? {
      phonons: { results: fullPhonons.length, stored_bytes: phononPayloads.reduce((t, b) => t + b.length, 0), compact_bytes: fullPhonons.reduce((t, x) => t + encodePayload(compactPhonons(x)).bytes.length, 0) },
      forces_lossless: await (async () => {
        const f = await samplePayloads(store, c.id, 'forces', 100_000);
        return { results: f.length, stored_bytes: f.reduce((t, b) => t + b.length, 0), format2_bytes: f.reduce((t, b) => t + encodePayload(decodePayload(b)).bytes.length, 0) };
      })(),
    } : null;

    // ---- real run: Temporal (histories through its API; the SQLite file with the server stopped)
    const histories = await temporalHistories(svc.temporalAddress);
    await store.close();
    await stopServices(dir);
    const sqliteFile = findFiles(join(dir, 'temporal'), (f) => /\.(db|sqlite)$/.test(f))[0];
    const sqlite = sqliteFile ? sqliteTables(sqliteFile) : null;
    const temporalFileBytes = sqlite?.file_bytes ?? findFiles(dir, (f) => /\.(db|sqlite)(-wal|-shm)?$/.test(f)).reduce((s, f) => s + statSync(f).size, 0);
    const perWorkflowTables = sqlite ? Object.entries(sqlite.tables).filter(([k]) => PER_WORKFLOW.test(k)).reduce((s, [, b]) => s + b, 0) : null;
    const emptyPerWorkflowTables = perWorkflowTables !== null ? await emptyTemporalBaseline(`${dir}-empty-temporal`) : null;
    const temporalGrowth = perWorkflowTables !== null ? perWorkflowTables - (emptyPerWorkflowTables ?? 0) : null;

    // ---- replicated: the store filled to --replicate-to structures with copies of the real ones
    svc = await ensureServices(dir, { temporal: false });
    store = new Store(svc.databaseUrl);
    let replicated: Record<string, unknown> | null = null;
    if (replicateTo > real) {
      const copies = Math.ceil((replicateTo - real) / real);
      const tr = Date.now();
      let added = 0;
      const chunk = Math.max(1, Math.floor(2000 / real));
      for (let g = 1; g <= copies; g += chunk) {
        added += await replicateDoneItems(store, c.id, g, Math.min(copies, g + chunk - 1));
        process.stdout.write(`\rreplicated ${added} structures`);
      }
      process.stdout.write('\n');
      await compact(store);
      const n = real + added;
      const db = await databaseBytes(store);
      const tables = await tableSizes(store);
      const marginal = (db - realDb) / added;
      replicated = {
        what: `${added} copies of the ${real} real finished structures (store/storage-stats.ts replicateDoneItems: every row a structure adds, stored payload bytes unchanged, keys sha256(old:copy)); measured after VACUUM FULL`,
        structures: n,
        seconds: (Date.now() - tr) / 1000,
        database_bytes: db,
        bytes_per_structure: db / n,
        marginal_bytes_per_structure: marginal,
        tables: Object.fromEntries(tables.map((t) => [t.table, { rows: t.rows, total: t.total, heap: t.heap, toast: t.toast, indexes: t.indexes, per_structure: t.total / n }])),
      };
    }

    // ---- per structure and projection
    const storePer = replicated ? (replicated['marginal_bytes_per_structure'] as number) : realDb / real;
    const storeFixed = replicated ? realDb - storePer * real : 0;
    const temporalHistoryPer = histories.total_bytes / real;
    const temporalPer = temporalGrowth !== null ? temporalGrowth / real : temporalFileBytes / real;
    const temporalFixed = temporalGrowth !== null ? temporalFileBytes - temporalGrowth : 0;
    const proj = (n: number) => ({
      store_gb: (storeFixed + storePer * n) / 1e9,
      temporal_gb_all_kept: (temporalFixed + temporalPer * n) / 1e9,
      total_gb: (storeFixed + storePer * n + temporalFixed + temporalPer * n) / 1e9,
    });
    const wallPerStructureS = v['measure-only'] ? null : runS / real;
    const out = {
      description:
        'Bytes per finished structure of a campaign over MatterGen structures: softmode PostgreSQL store (after VACUUM FULL) and the Temporal dev server SQLite file (after a WAL checkpoint), where they go, and the projection. Real: the campaign computed here with the real model (store, Temporal histories, SQLite). Replicated: the store filled with copies of those real structures (replicated.what). Per structure: store = marginal bytes of the replicated fill (or whole database / structures without one); Temporal = growth of the SQLite tables that grow with workflows (histories, executions, visibility, tasks) over an empty server, / structures.',
      command: `npm run bench:storage -- ${process.argv.slice(2).join(' ')}`.trim(),
      campaign: { name: c.name, model: c.model_name, preset: c.preset, cache_versions: (c.config as { cacheVersions?: unknown }).cacheVersions, storage: (c.config as { storage?: unknown }).storage ?? null, phonon_storage: (c.config as { phonons?: { storage?: unknown } }).phonons?.storage ?? 'full' },
      inputs,
      real: {
        structures: real,
        finished: { done: p.done, failed: p.failed, rejected: p.rejected },
        run_wall_s: v['measure-only'] ? null : runS,
        store: {
          database_bytes: realDb,
          bytes_per_structure: realDb / real,
          tables: Object.fromEntries(realTables.map((t) => [t.table, { rows: t.rows, total: t.total, heap: t.heap, toast: t.toast, indexes: t.indexes, per_structure: t.total / real }])),
          steps: Object.fromEntries(realSteps.map((s) => [s.step, { results: s.results, pruned: s.pruned, stored_bytes: s.stored, stored_per_structure: s.stored / real, json_bytes: s.json, json_per_structure: s.json / real }])),
          phonon_result_fields_bytes: phon,
          reencoded_by_this_code: reencoded,
        },
        temporal: {
          sqlite_file_bytes: temporalFileBytes,
          sqlite_tables: sqlite?.tables ?? null,
          per_workflow_tables_bytes: perWorkflowTables,
          per_workflow_tables_bytes_empty_server: emptyPerWorkflowTables,
          histories,
          history_bytes_per_structure: temporalHistoryPer,
        },
      },
      replicated,
      bytes_per_structure: { store: storePer, temporal: temporalPer, total: storePer + temporalPer },
      kb_per_structure: { store: storePer / 1024, temporal: temporalPer / 1024, total: (storePer + temporalPer) / 1024 },
      fixed_bytes: { store: storeFixed, temporal: temporalFixed },
      projection: {
        '1e4': proj(1e4),
        '1e5': proj(1e5),
        '1e6': proj(1e6),
        temporal_note: `Temporal keeps closed workflows for the namespace retention only (dev server ${DEV_SERVER_RETENTION_H} h; the cluster's namespace 7 d, engine/services/temporal-server.ts); its SQLite file reuses freed pages, so it holds about retention × throughput structures, not the campaign: temporal_gb_all_kept is the bound with nothing ever deleted`,
        temporal_gb_at_retention:
          wallPerStructureS !== null ? { throughput_structures_per_h: 3600 / wallPerStructureS, gb: (temporalFixed + temporalPer * Math.min(1e6, (DEV_SERVER_RETENTION_H * 3600) / wallPerStructureS)) / 1e9, retention_h: DEV_SERVER_RETENTION_H } : null,
      },
      goal: '≤ 100 KB per structure, both databases, band/DOS kept for the report (issue 18)',
      goal_met: (storePer + temporalPer) / 1024 <= 100,
      before: v.before ? (JSON.parse(readFileSync(resolve(v.before), 'utf8')) as unknown) : null,
      machine: { cpus: cpus().length, loadavg: loadavg()[0] },
      measured_at: new Date().toISOString(),
    };
    const file = resolve(v.out ?? join(ROOT, 'bench', 'results', 'storage.json'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
    console.log(JSON.stringify({ kb_per_structure: out.kb_per_structure, projection: out.projection, steps: out.real.store.steps }, null, 1));
    return 0;
  } finally {
    await store.close().catch(() => undefined);
    await stopServices(dir);
    if (!v['measure-only'] && !v.keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
