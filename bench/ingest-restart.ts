// Incremental ingest at campaign scale (issue 18 item 4): a restart must not read every input
// file again. Generates N distinct small POSCAR files, ingests them into a fresh campaign on a
// real embedded PostgreSQL (the first ingest: every file read, hashed, stored), then ingests the
// same inputs again as `softmode run` does on every restart (collect + ingest), and once more
// after touching a few files (those are read again and reported as changed).
//
//   npm run bench:ingest -- [--files 100000] [--keep]
//
// Writes bench/results/ingest-restart.json. The first ingest is the slow part (~ms per file);
// the restart is what the issue bounds (≤ 30 s at 10^5 files).
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { writePoscar } from '../core/structure/io/index.js';
import { makeStructure } from '../core/structure/structure.js';
import { repoRoot } from '../core/paths.js';
import { createCampaign } from '../engine/campaign.js';
import { collectStructureFiles, ingest } from '../engine/ingest.js';
import { startPostgres } from '../engine/services/postgres.js';
import { stopServices } from '../engine/services/index.js';
import { Store } from '../store/index.js';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';

const SPEC = {
  files: { kind: 'positive-int', default: 100_000, metavar: 'N', help: 'input files' },
  keep: { kind: 'boolean', help: 'keep the temporary campaign directory' },
} as const satisfies OptionsSpec;

const ELEMENTS = [3, 11, 12, 13, 19, 20, 26, 29, 30, 47, 55, 56];

async function main(): Promise<number> {
  const a = parseProcessArgs('bench:ingest', SPEC);
  const n = a.values.files;
  const root = repoRoot();
  const dir = join(root, 'test', 'tmp', `ingest-restart-${process.pid}`);
  const inputs = join(dir, 'inputs');
  rmSync(dir, { recursive: true, force: true });
  // 1,000 files per directory, as a generator's output tree would be
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const sub = join(inputs, `d${String(Math.floor(i / 1000)).padStart(4, '0')}`);
    if (i % 1000 === 0) mkdirSync(sub, { recursive: true });
    const a0 = 3.0 + (i % 997) * 1e-3;
    const z1 = ELEMENTS[i % ELEMENTS.length]!;
    const z2 = ELEMENTS[Math.floor(i / ELEMENTS.length) % ELEMENTS.length]!;
    const s = makeStructure({ lattice: [[a0, 0, 0], [0, a0 * (1 + (i % 7) * 1e-3), 0], [0, 0, a0 * (1 + Math.floor(i / 997) * 1e-4)]], frac: [[0, 0, 0], [0.5, 0.5, 0.5]], numbers: [z1, z2] });
    writeFileSync(join(sub, `s${String(i).padStart(6, '0')}.vasp`), writePoscar(s));
  }
  const writeS = (performance.now() - t0) / 1000;
  process.stderr.write(`${n} files written in ${writeS.toFixed(1)} s\n`);

  const pg = await startPostgres(dir);
  const store = new Store(pg.url);
  try {
    await store.migrate();
    const timed = async (label: string) => {
      const t = performance.now();
      const { files } = collectStructureFiles([inputs]);
      const tc = performance.now();
      const r = await ingest(store, campaign.id, campaign.partitions, files);
      const out = { label, files: files.length, collect_s: (tc - t) / 1000, ingest_s: (performance.now() - tc) / 1000, total_s: (performance.now() - t) / 1000, read: files.length - r.unchanged, unchanged: r.unchanged, changed: r.changed.length, new_items: r.newItems };
      process.stderr.write(`${label}: ${JSON.stringify(out)}\n`);
      return out;
    };
    const { campaign } = await createCampaign(store, { name: 'ingest', model: 'lennard-jones', preset: 'full-bz', relaxProtocol: 'phononbench', supercell: undefined, inputs: [inputs], partitions: Math.max(1, Math.ceil(n / 10_000)) });
    const first = await timed('first ingest (every file read)');
    const restart = await timed('restart (nothing changed)');
    // touch 100 files: read again, reported as changed, no new items
    const touched = Math.min(100, n);
    const later = new Date(Date.now() + 60_000);
    const { files } = collectStructureFiles([inputs]);
    for (let i = 0; i < touched; i++) utimesSync(files[Math.floor((i * files.length) / touched)]!, later, later);
    const afterTouch = await timed(`restart after touching ${touched} files`);
    const result = {
      description: 'Incremental ingest: wall time of collecting and ingesting N structure files into a campaign on a real embedded PostgreSQL, first (every file read, parsed, hashed, stored) and on a restart (files whose size and mtime match ingested_files are not read again)',
      command: `npm run bench:ingest -- --files ${n}`,
      files: n,
      machine: { cpus: cpus().length, loadavg_start: loadavg()[0] },
      write_inputs_s: writeS,
      first,
      restart,
      after_touch: afterTouch,
      restart_per_10k_files_s: (restart.total_s / n) * 10_000,
      goal: 'restart of a 10^5-file campaign ingests in ≤ 30 s (issue 18)',
      measured_at: new Date().toISOString(),
    };
    mkdirSync(join(root, 'bench', 'results'), { recursive: true });
    writeFileSync(join(root, 'bench', 'results', 'ingest-restart.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(JSON.stringify({ first: first.total_s, restart: restart.total_s, afterTouch: afterTouch.total_s }));
    return 0;
  } finally {
    await store.close();
    await stopServices(dir);
    if (!a.values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
