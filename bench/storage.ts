// Storage per structure (issue 18 item 4): bytes in softmode's PostgreSQL store and in the
// Temporal server's database for a campaign of MatterGen-sized structures, by table and by step,
// and the projection to 10^5 and 10^6 structures.
//
//   npm run bench:storage -- [--structures 200] [--model lennard-jones] [--supercell preset] [--keep]
//   npm run bench:storage -- --measure-only --campaign-dir DIR --name NAME   (an existing campaign)
//
// Inputs: the MatterGen CIFs in ../shared/data/structures (450), repeated with lattices scaled by
// distinct factors (1 + k·1e-4) when more are asked for, so every input is distinct (nothing is
// served from the store). The pair potential makes the run fast; what is stored per structure
// (spectra over the primitive cell's band path and mesh, displaced supercells and their forces)
// has the same shape whatever the potential.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { readStructureFile, writePoscar } from '../core/structure/io/index.js';
import { makeStructure } from '../core/structure/structure.js';
import { repoRoot } from '../core/paths.js';
import { ensureServices, stopServices } from '../engine/services/index.js';
import { Store } from '../store/index.js';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';

const SPEC = {
  structures: { kind: 'positive-int', default: 200, metavar: 'N', help: 'structures in the campaign (default 200)' },
  model: { kind: 'string', default: 'lennard-jones', metavar: 'NAME', help: 'potential (default lennard-jones)' },
  supercell: { kind: 'string', default: 'preset', metavar: 'RULE', help: "supercell rule (default: the preset's policy)" },
  'measure-only': { kind: 'boolean', help: 'measure an existing campaign (--campaign-dir, --name) instead of running one' },
  'campaign-dir': { kind: 'string', metavar: 'DIR', help: 'campaign directory (default .campaigns/bench-storage)' },
  name: { kind: 'string', default: 'storage', metavar: 'NAME', help: 'campaign name' },
  keep: { kind: 'boolean', help: 'keep the campaign directory' },
} as const satisfies OptionsSpec;

const ROOT = repoRoot();
const MATTERGEN = resolve(ROOT, '..', 'shared', 'data', 'structures');

function cifsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...cifsUnder(p));
    else if (f.endsWith('.cif')) out.push(p);
  }
  return out;
}

function writeInputs(dir: string, n: number): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const base = cifsUnder(MATTERGEN).map((p) => readStructureFile(p)[0]!);
  for (let k = 0; k < n; k++) {
    const s = base[k % base.length]!;
    const f = 1 + Math.floor(k / base.length) * 1e-4;
    const t = makeStructure({ lattice: s.lattice.map((r) => r.map((x) => x * f)), frac: s.frac, numbers: s.numbers });
    const sub = join(dir, String(Math.floor(k / 1000)).padStart(3, '0'));
    if (k % 1000 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `m${String(k).padStart(6, '0')}.vasp`), writePoscar(t));
  }
}

function cli(args: string[]): Promise<number | null> {
  return new Promise((res) => {
    const p: ChildProcess = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('close', (code) => res(code));
  });
}

function fileBytes(dir: string, match: (name: string) => boolean): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    const st = statSync(p);
    if (st.isDirectory()) total += fileBytes(p, match);
    else if (match(f)) total += st.size;
  }
  return total;
}

async function main(): Promise<number> {
  const a = parseProcessArgs('bench:storage', SPEC);
  const v = a.values;
  const dir = resolve(v['campaign-dir'] ?? join(ROOT, '.campaigns', 'bench-storage'));
  const t0 = Date.now();
  if (!v['measure-only']) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const inputs = join(dir, 'inputs');
    writeInputs(inputs, v.structures);
    const code = await cli(['run', inputs, '--model', v.model, '--supercell', v.supercell, '--name', v.name, '--campaign-dir', dir, '--keep-services']);
    if (code !== 0 && code !== 1) throw new Error(`softmode run exited with ${code}`);
  }
  const runS = (Date.now() - t0) / 1000;
  const svc = await ensureServices(dir);
  const store = new Store(svc.databaseUrl);
  try {
    const c = await store.getCampaign(v.name);
    if (!c) throw new Error(`no campaign ${v.name} in ${dir}`);
    const p = await store.progress(c.id);
    // whole database (VACUUM first so dead tuples do not count) and per table / per step
    await store.pool.query('vacuum full');
    const db = await store.pool.query<{ bytes: string }>('select pg_database_size(current_database()) as bytes');
    const tables = await store.pool.query<{ relname: string; bytes: string }>(
      `select c.relname, pg_total_relation_size(c.oid) as bytes from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind = 'r' order by 2 desc`,
    );
    const steps = await store.pool.query<{ step: string; n: string; payload: string; uncompressed: string }>(
      'select step, count(*) as n, sum(length(payload)) as payload, sum(payload_bytes) as uncompressed from step_results group by step order by 3 desc',
    );
    // the Temporal dev server's SQLite file(s) for this campaign directory
    const temporalBytes = fileBytes(join(dir), (f) => /\.(db|sqlite)(-wal|-shm)?$/.test(f) || /temporal.*\.db/.test(f));
    const n = Math.max(1, p.done + p.failed + p.rejected);
    const storeBytes = Number(db.rows[0]!.bytes);
    const perStructure = { store: storeBytes / n, temporal: temporalBytes / n, total: (storeBytes + temporalBytes) / n };
    const out = {
      description:
        'Bytes per finished structure of a campaign over MatterGen structures (../shared/data/structures, lattices scaled to make each distinct): softmode PostgreSQL store (after VACUUM FULL, whole database) and the Temporal dev server SQLite file(s) of the campaign directory; by table and by step (gzip payload bytes). Projection = per structure × N.',
      command: `npm run bench:storage -- ${process.argv.slice(2).join(' ')}`.trim(),
      campaign: { name: c.name, model: c.model_name, preset: c.preset, supercell: (c.config as { displace?: { supercell?: unknown } }).displace?.supercell },
      structures: p.total,
      finished: { done: p.done, failed: p.failed, rejected: p.rejected },
      run_wall_s: v['measure-only'] ? null : runS,
      bytes: { store: storeBytes, temporal: temporalBytes },
      bytes_per_structure: perStructure,
      kb_per_structure: { store: perStructure.store / 1024, temporal: perStructure.temporal / 1024, total: perStructure.total / 1024 },
      projection_gb: {
        '1e5': (perStructure.total * 1e5) / 1e9,
        '1e6': (perStructure.total * 1e6) / 1e9,
      },
      tables: Object.fromEntries(tables.rows.map((r) => [r.relname, { bytes: Number(r.bytes), per_structure: Number(r.bytes) / n }])),
      steps: Object.fromEntries(steps.rows.map((r) => [r.step, { results: Number(r.n), payload_bytes: Number(r.payload), payload_per_structure: Number(r.payload) / n, uncompressed_bytes: Number(r.uncompressed) }])),
      goal: '≤ 100 KB per structure, both databases, band/DOS kept for the report (issue 18)',
      machine: { cpus: cpus().length, loadavg: loadavg()[0] },
      measured_at: new Date().toISOString(),
    };
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'results', 'storage.json'), JSON.stringify(out, null, 2) + '\n');
    console.log(JSON.stringify({ kb_per_structure: out.kb_per_structure, steps: out.steps }, null, 1));
    return 0;
  } finally {
    await store.close();
    if (!v['measure-only']) {
      await stopServices(dir);
      if (!v.keep) rmSync(dir, { recursive: true, force: true });
    }
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
