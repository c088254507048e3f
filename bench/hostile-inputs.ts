// Hostile inputs through a real campaign (issue #14 item 5): ≥ 50 inputs that a careless or
// malicious folder can hold (the committed corpus test/corpus/* with its manifest, and the
// generated cases: a cell of 1e308 Å, 10,000 atoms, a 512-atom simple-cubic cell, files without
// an extension, a name that is not UTF-8, a symbolic-link loop and a broken link, a multi-block
// CIF with one bad block, the elements Og (Z 118) and Am (95), an empty file, a 60 MB file,
// binary junk, a directory named like a CIF, a FIFO, …) go through one real
// `softmode run FOLDER --model lennard-jones --supercell 2` under one time limit. Every input's
// outcome is recorded (done / rejected at ingest / rejected at validation or a later step /
// skipped with the reason), with its error class, message and time, and the run is judged on:
// 0 crashes of the run, 0 hangs (every input accounted for within the limit), 0 silent skips
// (every entry of the folder is an item or in the skipped list: checked against a directory
// listing). Og and Am also go through chgnet-0.3.0, whose manifest bounds its elements.
//
//   npm run bench:hostile [-- --limit-s 900 --out hostile-inputs --subset --no-chgnet]
//
// Writes bench/results/hostile-inputs.json. test/hostile-inputs.test.ts runs a subset.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../core/paths.js';
import { mulberry32 } from '../core/math/random.js';
import { isInputError } from '../core/errors.js';
import { readStructureFileDetailed } from '../core/structure/io/index.js';
import { structureHash } from '../core/structure/hash.js';
import { preflightStructure } from '../core/structure/validate.js';
import { writePoscar } from '../core/structure/io/index.js';
import { exampleStructures } from '../examples/structures.js';
import { collectStructureFiles } from '../engine/ingest.js';
import { ensureServices, stopServices } from '../engine/services/index.js';
import { Store } from '../store/index.js';
import { parseProcessArgs } from '../cli/lib/args.js';

// ---------------------------------------------------------------- the inputs

export interface HostileInput {
  /** path relative to the folder, as bytes where the name is not UTF-8 */
  rel: string | Buffer;
  /** printable name (invalid bytes as \xNN) */
  name: string;
  what: string;
  /** the error class the corpus manifest expects (readStructureFile + validateStructure) */
  expectCode?: string;
  /** part of the test's subset */
  subset: boolean;
}

const CELL = (a: number | string, b: number | string = a, c: number | string = a) =>
  `_cell_length_a ${a}\n_cell_length_b ${b}\n_cell_length_c ${c}\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n`;

/** A P1 CIF block of an fcc cell of one element (4 atoms). */
function fccCif(block: string, symbol: string, a: number | string): string {
  return (
    `data_${block}\n_symmetry_space_group_name_H-M 'P 1'\n` +
    CELL(a) +
    'loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n' +
    [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]].map((p, i) => `${symbol}${i + 1} ${symbol} ${p.join(' ')}`).join('\n') +
    '\n'
  );
}

/** Rock salt from its space group (the reader expands the symmetry). */
function rocksaltCif(block: string): string {
  return `data_${block}\n_symmetry_space_group_name_H-M 'F m -3 m'\n_space_group_IT_number 225\n${CELL(5.64)}loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nNa1 Na 0 0 0\nCl1 Cl 0.5 0.5 0.5\n`;
}

/** A simple-cubic n×n×m supercell of one element as POSCAR text. */
function simpleCubicPoscar(title: string, symbol: string, a: number, n: [number, number, number]): string {
  const lines = [title, '1.0', `${a * n[0]} 0 0`, `0 ${a * n[1]} 0`, `0 0 ${a * n[2]}`, symbol, String(n[0] * n[1] * n[2]), 'Direct'];
  for (let i = 0; i < n[0]; i++) for (let j = 0; j < n[1]; j++) for (let k = 0; k < n[2]; k++) lines.push(`${i / n[0]} ${j / n[1]} ${k / n[2]}`);
  return lines.join('\n') + '\n';
}

function printable(b: Buffer): string {
  return [...b].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : `\\x${x.toString(16).padStart(2, '0')}`)).join('');
}

/**
 * Build the hostile inputs under `root` (created). `subset`: only the ~15 inputs the test runs.
 * Returns what was made; the folder may hold more entries than listed (a directory's content).
 */
export function buildHostileInputs(root: string, opts: { subset?: boolean } = {}): HostileInput[] {
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o755);
  const made: HostileInput[] = [];
  const rand = mulberry32(14_5);
  const bytes = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
    return b;
  };
  const add = (subset: boolean, rel: string, what: string, make: (p: string) => void, expectCode?: string): void => {
    if (opts.subset && !subset) return;
    const p = join(root, rel);
    make(p);
    made.push({ rel, name: rel, what, subset, ...(expectCode ? { expectCode } : {}) });
  };
  const text = (s: string) => (p: string) => writeFileSync(p, s);
  const [si, nacl] = [exampleStructures().find((s) => s.name === 'Si-diamond')!, exampleStructures().find((s) => s.name === 'NaCl-rocksalt')!];

  // the committed corpus (its manifest says what each file is)
  const corpusDir = join(repoRoot(), 'test', 'corpus');
  const manifest = JSON.parse(readFileSync(join(corpusDir, 'manifest.json'), 'utf8')) as { files: Record<string, { code: string; why: string }> };
  const corpusSubset = new Set(['binary-garbage.cif', 'overlapping-atoms.cif', 'symmetry-bomb.cif']);
  if (Object.keys(manifest.files).some((f) => !opts.subset || corpusSubset.has(f))) mkdirSync(join(root, 'corpus'), { recursive: true });
  for (const [f, m] of Object.entries(manifest.files).sort()) {
    add(corpusSubset.has(f), join('corpus', f), `corpus: ${m.why}`, (p) => copyFileSync(join(corpusDir, f), p), m.code);
  }

  // generated cases
  add(true, 'good-si.vasp', 'a good structure (Si diamond), the baseline', text(writePoscar(si)));
  add(true, 'cell-1e308.cif', 'CIF with _cell_length_a 1e308 (finite, absurd)', text(fccCif('huge', 'Cu', '1e308').replace(CELL('1e308'), CELL('1e308', 3.6, 3.6))));
  add(false, 'cell-1e-308.cif', 'CIF with _cell_length_a 1e-308 (a flat cell)', text(fccCif('tiny', 'Cu', 3.6).replace(CELL(3.6), CELL('1e-308', 3.6, 3.6))));
  add(false, 'cell-1e309.cif', 'CIF with _cell_length_a 1e309 (overflows to Infinity)', text(fccCif('inf', 'Cu', 3.6).replace(CELL(3.6), CELL('1e309', 3.6, 3.6))));
  add(true, 'atoms-10000.vasp', '10,000-atom cell (generated POSCAR, 10×10×100 simple cubic)', text(simpleCubicPoscar('10000 atoms', 'Cu', 2.64, [10, 10, 100])));
  add(false, 'sc-512.vasp', '512-atom highly symmetric cell (8×8×8 simple-cubic supercell, 1-atom primitive)', text(simpleCubicPoscar('sc 8x8x8', 'Cu', 2.64, [8, 8, 8])));
  add(true, 'noext-cif', 'a CIF without an extension', text(fccCif('noext', 'Cu', 3.6)));
  add(false, 'README', 'plain text without an extension', text('these are my structures\n'));
  add(false, 'POSCAR', 'a POSCAR named POSCAR (no extension, taken by name)', text(writePoscar(nacl)));
  add(false, 'CONTCAR_junk', 'junk named CONTCAR* (taken by name)', (p) => writeFileSync(p, bytes(2000)));
  {
    // a Buffer path: the bytes reach the file system as they are
    const raw = Buffer.concat([Buffer.from('bad-name-'), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('.cif')]);
    writeFileSync(Buffer.concat([Buffer.from(root + '/'), raw]), fccCif('badname', 'Cu', 3.6));
    made.push({ rel: raw, name: printable(raw), what: 'a file name with invalid UTF-8 bytes (0xff 0xfe 0x80)', subset: true });
  }
  add(true, 'loop-dir', 'a symbolic link to its own folder (a directory cycle)', (p) => symlinkSync('.', p));
  add(false, 'self-loop.cif', 'a symbolic link to itself (ELOOP)', (p) => symlinkSync('self-loop.cif', p));
  add(true, 'broken-link.cif', 'a broken symbolic link', (p) => symlinkSync('no-such-target.cif', p));
  add(false, 'link-to-good.vasp', 'a symbolic link to a good file (an item of its own)', (p) => symlinkSync('good-si.vasp', p));
  add(
    true,
    'multi-block.cif',
    'multi-block CIF: 3 good blocks and one bad one (block 2: _cell_length_a abc)',
    text([rocksaltCif('nacl_a'), fccCif('cu_b', 'Cu', 3.615), fccCif('bad_c', 'Cu', 'abc'), fccCif('al_d', 'Al', 4.05)].join('\n')),
  );
  add(
    false,
    'multi-block-syntax.cif',
    'multi-block CIF: good, a block with a syntax error (a data name twice), good',
    text([fccCif('cu_a', 'Cu', 3.615), fccCif('dup_b', 'Cu', 3.6).replace('_cell_angle_beta 90\n', '_cell_angle_beta 90\n_cell_angle_beta 91\n'), fccCif('al_c', 'Al', 4.05)].join('\n')),
  );
  add(true, 'og.cif', 'element Og (Z 118), fcc', text(fccCif('og', 'Og', 5.6)));
  add(true, 'am.vasp', 'element Am (Z 95), fcc', text(`Am fcc\n1.0\n4.9 0 0\n0 4.9 0\n0 0 4.9\nAm\n4\nDirect\n0 0 0\n0.5 0.5 0\n0.5 0 0.5\n0 0.5 0.5\n`));
  add(true, 'zero-bytes.vasp', 'an empty (zero-byte) file', text(''));
  add(true, 'huge-60MB.xyz', 'a 60 MB file (over the 50 MB limit)', (p) => {
    const fd = openSync(p, 'w');
    writeSync(fd, `1\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3\nSi 0 0 0\n`);
    const chunk = Buffer.from('# padding line of a file that is far too large to be a structure\n'.repeat(16384));
    for (let written = 0; written < 60 * 1024 * 1024; written += chunk.length) writeSync(fd, chunk);
    closeSync(fd);
  });
  add(true, 'junk.cif', 'binary junk named .cif (64 kB of random bytes)', (p) => writeFileSync(p, bytes(65536)));
  add(false, 'junk.json', 'binary junk named .json', (p) => writeFileSync(p, bytes(4096)));
  add(false, 'junk.xyz', 'binary junk named .xyz', (p) => writeFileSync(p, bytes(4096)));
  add(false, 'utf16.cif', 'a CIF saved as UTF-16LE (NUL bytes)', (p) => writeFileSync(p, Buffer.from('\ufeff' + fccCif('u16', 'Cu', 3.6), 'utf16le')));
  add(false, 'bom-crlf.vasp', 'a good POSCAR with a byte-order mark and CRLF line ends', text('\ufeff' + writePoscar(nacl).replace(/\n/g, '\r\n')));
  add(false, 'spaces and ünïcode 名前.cif', 'a good CIF with spaces and non-ASCII in its name', text(fccCif('unicode', 'Cu', 3.615)));
  add(false, 'newline\nin-name.vasp', 'a file name with a newline in it (junk content)', text('not a structure\n'));
  add(false, 'x'.repeat(240) + '.vasp', 'a 245-character file name (junk content)', text('junk\n'));
  add(false, '.hidden.cif', 'a hidden file', text(fccCif('hidden', 'Cu', 3.6)));
  add(false, 'huge-coordinates.vasp', 'fractional coordinates of 1e300', text('big\n1.0\n4 0 0\n0 4 0\n0 0 4\nCu\n1\nDirect\n1e300 1e300 1e300\n'));
  add(false, 'text-field-bomb.cif', 'CIF with an unterminated ;text field', text('data_x\n_cell_length_a\n;\nnever closed\n'));
  add(false, 'many-blocks.cif', 'CIF with 300 empty data blocks', text(Array.from({ length: 300 }, (_, i) => `data_b${i}\n_note x\n`).join('')));
  add(false, 'json-list-one-bad.json', 'pymatgen JSON list: a good structure and a bad one', text('[{"@class": "Structure", "lattice": {"matrix": [[4,0,0],[0,4,0],[0,0,4]]}, "sites": [{"species": [{"element": "Cu", "occu": 1}], "abc": [0,0,0]}]}, {"@class": "Structure"}]'));
  add(true, 'dir-named.cif', 'a directory named like a CIF (holding a good POSCAR)', (p) => {
    mkdirSync(p);
    writeFileSync(join(p, 'inner.vasp'), writePoscar(si));
  });
  add(false, 'empty-dir.cif', 'an empty directory named like a CIF', (p) => mkdirSync(p));
  add(false, join('deep', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'deep.cif'), 'a junk file 9 directories down', (p) => {
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, bytes(300));
  });
  add(true, 'fifo.cif', 'a FIFO named like a CIF (reading it would block)', (p) => {
    const r = spawnSync('mkfifo', [p]);
    if (r.status !== 0) writeFileSync(p, 'mkfifo unavailable: placeholder\n');
  });
  return made;
}

// ---------------------------------------------------------------- listing (the ground truth)

export interface ListedEntry {
  /** the path as the collector spells it (names decoded as UTF-8) */
  path: string;
  kind: 'file' | 'symlink' | 'dir' | 'other';
}

/** Every entry under `root` (symbolic links not followed), from the file system itself. */
export function listTree(root: string): ListedEntry[] {
  const out: ListedEntry[] = [];
  const walk = (dir: string, rawDir: Buffer): void => {
    for (const raw of readdirSync(rawDir, { encoding: 'buffer' })) {
      const rawPath = Buffer.concat([rawDir, Buffer.from('/'), raw]);
      const path = join(dir, raw.toString('utf8'));
      const st = lstatSync(rawPath);
      const kind = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
      out.push({ path, kind });
      if (kind === 'dir') walk(path, rawPath);
    }
  };
  walk(root, Buffer.from(root));
  return out;
}

// ---------------------------------------------------------------- the run and its outcome

export type Outcome = 'done' | 'rejected_at_ingest' | 'rejected_at_validation' | 'rejected_later' | 'failed' | 'cancelled' | 'unfinished' | 'skipped' | 'empty_directory' | 'missing';

export interface ItemOutcome {
  path: string;
  index: number;
  name: string | null;
  outcome: Outcome;
  status: string;
  /** the workflow step that rejected it (validate, relax, phonons, …); unfinished: the last step done */
  step?: string;
  errorClass: string | null;
  message: string | null;
  label?: string | null;
  /** wall time of its structure workflow, ms */
  wallMs: number | null;
}

export interface InputReport {
  name: string;
  what: string;
  expectCode?: string;
  outcomes: Outcome[];
  items: ItemOutcome[];
  skipped?: string;
  /** reading + preflight + hash in this process, as ingest does it (ms) */
  ingestMs: number | null;
}

export interface HostileRun {
  model: string;
  command: string[];
  limitS: number;
  wallS: number;
  exitCode: number | null;
  timedOut: boolean;
  /** the run ended otherwise than with 0 (all fine) or 1 (some items failed) */
  crashed: boolean;
  stderrTail: string;
  skippedReported: number | null;
  items: ItemOutcome[];
  skipped: { path: string; reason: string }[];
  listing: ListedEntry[];
  /** entries of the listing that are neither an item's file nor skipped (nor a walked directory) */
  silentSkips: string[];
  /** items not finished when the run ended */
  hangs: ItemOutcome[];
}

const CLI = () => join(repoRoot(), 'dist', 'cli', 'main.js');

/** Run the CLI once with a wall-clock limit (SIGINT at the limit, SIGKILL 60 s later). */
function runCli(args: string[], limitMs: number, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean; wallMs: number }> {
  return new Promise((res) => {
    const t0 = Date.now();
    const p = spawn(process.execPath, [CLI(), ...args], { cwd: repoRoot(), env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const kill = setTimeout(() => {
      timedOut = true;
      p.kill('SIGINT');
      setTimeout(() => p.kill('SIGKILL'), 60_000).unref();
    }, limitMs);
    p.on('close', (code) => {
      clearTimeout(kill);
      res({ code, stdout, stderr, timedOut, wallMs: Date.now() - t0 });
    });
  });
}

/**
 * `softmode run folder --model M --supercell 2 --campaign-dir dir --keep-services` under one
 * limit, then every item read back from the store (status, error class and message, the step
 * that rejected it, wall time) and the folder's listing compared with items + skipped paths.
 */
export async function runHostileCampaign(folder: string, campaignDir: string, opts: { model?: string; limitMs: number; name?: string; extraArgs?: string[] }): Promise<HostileRun> {
  const model = opts.model ?? 'lennard-jones';
  const name = opts.name ?? `hostile-${model}`;
  const args = ['run', folder, '--model', model, '--supercell', '2', '--campaign-dir', campaignDir, '--name', name, '--keep-services', '--json', ...(opts.extraArgs ?? [])];
  const r = await runCli(args, opts.limitMs, { SOFTMODE_RETRY_INITIAL_MS: '200' });
  const m = /skipped (\d+) path\(s\)/.exec(r.stdout + r.stderr);
  // what the collector skipped (the run prints the first 20 only; same function, same folder)
  const { skipped } = collectStructureFiles([folder]);
  const items: ItemOutcome[] = [];
  const services = await ensureServices(campaignDir, { temporal: false });
  const store = new Store(services.databaseUrl);
  try {
    const c = await store.getCampaign(name);
    if (c) {
      for (let after = 0; ; ) {
        const page = await store.exportPage(c.id, after, 1000);
        if (page.length === 0) break;
        for (const row of page) {
          after = Number(row['item_id']);
          const status = String(row['status']);
          let outcome: Outcome;
          let step: string | undefined;
          if (status === 'done') outcome = 'done';
          else if (status === 'rejected' && row['workflow_id'] === null) outcome = 'rejected_at_ingest';
          else if (status === 'rejected') {
            const audit = await store.auditItem(after);
            const rej = audit.attempts.find((a) => a['outcome'] === 'rejected');
            step = rej ? String(rej['step']) : undefined;
            outcome = step === 'validate' ? 'rejected_at_validation' : 'rejected_later';
          } else if (status === 'failed') outcome = 'failed';
          else if (status === 'cancelled') outcome = 'cancelled';
          else {
            // still pending or running when the run ended: where it was
            outcome = 'unfinished';
            const audit = await store.auditItem(after);
            const last = audit.attempts[audit.attempts.length - 1];
            step = last ? `after ${String(last['step'])}` : 'not begun';
          }
          items.push({
            path: String(row['source_path']),
            index: Number(row['source_index']),
            name: (row['source_name'] as string | null) ?? null,
            outcome,
            status,
            ...(step ? { step } : {}),
            errorClass: (row['error_class'] as string | null) ?? null,
            message: row['error_message'] === null ? null : String(row['error_message']).slice(0, 500),
            label: (row['label'] as string | null) ?? null,
            wallMs: row['wall_ms'] === null ? null : Number(row['wall_ms']),
          });
        }
      }
    }
  } finally {
    await store.close();
    await stopServices(campaignDir);
  }
  const listing = listTree(folder);
  const taken = new Set([...items.map((i) => i.path), ...skipped.map((s) => s.path)]);
  const silentSkips = listing
    .filter((e) => {
      if (taken.has(e.path)) return false;
      // a directory (or a link to one) that was walked shows through its content
      if (e.kind === 'dir' || (e.kind === 'symlink' && isDir(e.path))) return !isEmptyDir(e.path) && ![...taken].some((t) => t.startsWith(e.path + '/'));
      return true;
    })
    .map((e) => e.path);
  // stopped at the limit: SIGINT must end it cleanly (130); a SIGKILL after 60 s (null) is a hang, not a crash
  const crashed = r.timedOut ? !(r.code === 130 || r.code === null) : !(r.code === 0 || (r.code === 1 && items.some((i) => i.outcome === 'failed')));
  return {
    model,
    command: ['softmode', ...args],
    limitS: opts.limitMs / 1000,
    wallS: r.wallMs / 1000,
    exitCode: r.code,
    timedOut: r.timedOut,
    crashed,
    stderrTail: r.stderr.slice(-3000),
    skippedReported: m ? Number(m[1]) : 0,
    items,
    skipped,
    listing,
    silentSkips,
    hangs: items.filter((i) => i.outcome === 'unfinished'),
  };
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isEmptyDir(p: string): boolean {
  try {
    return readdirSync(p).length === 0;
  } catch {
    return false;
  }
}

/** Reading + preflight + hash of one file, as ingest does it (ms), median of `repeats`. */
export function ingestTimeMs(path: string, repeats = 3): number | null {
  const times: number[] = [];
  try {
    if (!statSync(path).isFile()) return null;
  } catch {
    return null;
  }
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    try {
      const read = readStructureFileDetailed(path);
      for (const { structure } of read.structures) {
        try {
          preflightStructure(structure);
          structureHash(structure);
        } catch (e) {
          if (!isInputError(e)) throw e;
        }
      }
    } catch (e) {
      if (!isInputError(e)) return null;
    }
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

/** Each input with its items (or its skip), by path. */
export function reportInputs(folder: string, inputs: readonly HostileInput[], run: HostileRun, knownIngestMs: ReadonlyMap<string, number | null> = new Map()): InputReport[] {
  return inputs.map((inp) => {
    const path = typeof inp.rel === 'string' ? join(folder, inp.rel) : join(folder, inp.rel.toString('utf8'));
    const items = run.items.filter((i) => i.path === path || i.path.startsWith(path + '/'));
    const skip = run.skipped.find((s) => s.path === path);
    const outcomes: Outcome[] = items.map((i) => i.outcome);
    if (skip) outcomes.push('skipped');
    const underSkipped = run.skipped.filter((s) => s.path.startsWith(path + '/'));
    if (outcomes.length === 0 && underSkipped.length > 0) outcomes.push('skipped');
    if (outcomes.length === 0) outcomes.push(isDir(path) && isEmptyDir(path) ? 'empty_directory' : 'missing');
    return {
      name: inp.name,
      what: inp.what,
      ...(inp.expectCode ? { expectCode: inp.expectCode } : {}),
      outcomes,
      items,
      ...(skip ? { skipped: skip.reason } : underSkipped.length ? { skipped: underSkipped.map((s) => `${s.path.slice(path.length + 1)}: ${s.reason}`).join('; ') } : {}),
      ingestMs: knownIngestMs.has(path) ? knownIngestMs.get(path)! : typeof inp.rel === 'string' ? ingestTimeMs(path, 1) : null,
    };
  });
}

export function countBy<T>(xs: readonly T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const a = parseProcessArgs('bench:hostile', {
    'limit-s': { kind: 'positive-int', default: 900, help: 'one time limit for the whole lennard-jones run, s (default 900)' },
    out: { kind: 'string', default: 'hostile-inputs', metavar: 'NAME', help: 'bench/results/NAME.json' },
    subset: { kind: 'boolean', help: 'only the test subset (~20 inputs)' },
    'no-chgnet': { kind: 'boolean', help: 'skip the chgnet-0.3.0 run over Og and Am' },
  } as const);
  const v = a.values;
  const base = resolve(repoRoot(), 'test', 'tmp', `hostile-${process.pid}`);
  mkdirSync(base, { recursive: true });
  chmodSync(base, 0o755);
  const folder = join(base, 'inputs');
  const campaignDir = join(base, 'campaign');
  const inputs = buildHostileInputs(folder, { subset: v.subset });
  const listed = listTree(folder);
  console.error(`${inputs.length} hostile inputs (${listed.length} entries) in ${folder}`);

  // the 512-atom cell's ingest time (read + preflight + hash: once, it takes long), and the
  // 10,000-atom one's (median of 3)
  const sc512 = join(folder, 'sc-512.vasp');
  const ingest512 = inputs.some((i) => i.rel === 'sc-512.vasp') ? ingestTimeMs(sc512, 1) : null;
  const ingest10k = ingestTimeMs(join(folder, 'atoms-10000.vasp'), 3);
  console.error(`ingest (read + preflight + hash): 512-atom cell ${ingest512?.toFixed(1)} ms, 10,000-atom cell ${ingest10k?.toFixed(1)} ms`);

  const run = await runHostileCampaign(folder, campaignDir, { limitMs: v['limit-s'] * 1000 });
  const reports = reportInputs(folder, inputs, run, new Map([[sc512, ingest512]]));
  console.error(`run: exit ${run.exitCode} in ${run.wallS.toFixed(0)} s${run.timedOut ? ' (TIMED OUT)' : ''}; ${run.items.length} items, ${run.skipped.length} skipped`);

  // element support under the ML model: Og and Am through chgnet-0.3.0 (its manifest: Z 1–94)
  let chgnet: { run: Omit<HostileRun, 'listing'>; inputs: InputReport[] } | null = null;
  if (!v['no-chgnet']) {
    const elFolder = join(base, 'elements');
    mkdirSync(elFolder, { recursive: true });
    for (const f of ['og.cif', 'am.vasp']) copyFileSync(join(folder, f), join(elFolder, f));
    const elInputs = inputs.filter((i) => i.rel === 'og.cif' || i.rel === 'am.vasp');
    const cr = await runHostileCampaign(elFolder, campaignDir, { model: 'chgnet-0.3.0', limitMs: 900_000 });
    const { listing: _l, ...rest } = cr;
    chgnet = { run: rest, inputs: reportInputs(elFolder, elInputs, cr) };
  }

  const allOutcomes = reports.flatMap((r) => r.outcomes);
  const result = {
    bench: 'hostile-inputs',
    issue: '#14 item 5',
    date: new Date().toISOString(),
    command: run.command.join(' ').replace(base, '$TMP'),
    limit_s: run.limitS,
    inputs: inputs.length,
    folder_entries: listed.length,
    items: run.items.length,
    skipped_paths: run.skipped.length,
    criteria: {
      /** the run ended otherwise than 0 / 1 (items failed) / 130 (stopped at the limit) */
      crashes: run.crashed ? 1 : 0,
      /** inputs with neither an item nor a skip when the limit came, or a run deaf to SIGINT */
      hangs: reports.filter((r) => r.outcomes.includes('missing')).length + (run.exitCode === null ? 1 : 0),
      /** entries of the directory listing that are neither an item's file nor skipped */
      silent_skips: run.silentSkips.length,
      /** ingested items still computing at the limit (listed under `hangs`, with the last step done) */
      unfinished_at_limit: run.hangs.length,
      run_stopped_at_limit: run.timedOut,
      failed_items: run.items.filter((i) => i.outcome === 'failed').length,
    },
    outcomes_by_kind: countBy(allOutcomes, (o) => o),
    items_by_error_class: countBy(run.items, (i) => `${i.outcome}: ${i.errorClass ?? i.label ?? '-'}`),
    skipped_by_reason: countBy(run.skipped, (s) => s.reason.replace(base, '$TMP')),
    corpus_code_mismatches: reports
      .filter((r) => r.expectCode && r.items.length > 0 && !r.items.some((i) => i.errorClass === r.expectCode))
      .map((r) => ({ name: r.name, expected: r.expectCode, got: r.items.map((i) => i.errorClass ?? i.status) })),
    ingest_ms: { 'sc-512 (512 atoms, 1-atom primitive)': ingest512, 'atoms-10000': ingest10k },
    run: { exit_code: run.exitCode, wall_s: run.wallS, timed_out: run.timedOut, crashed: run.crashed, skipped_reported_by_run: run.skippedReported, stderr_tail: run.crashed || run.timedOut ? run.stderrTail : undefined },
    silent_skips: run.silentSkips,
    hangs: run.hangs.map((h) => ({ ...h, path: h.path.replace(base, '$TMP') })),
    per_input: reports.map((r) => ({ ...r, name: r.name.replace(base, '$TMP'), items: r.items.map((i) => ({ ...i, path: i.path.replace(base, '$TMP') })) })),
    chgnet_elements: chgnet
      ? {
          command: chgnet.run.command.join(' ').replace(base, '$TMP'),
          exit_code: chgnet.run.exitCode,
          crashed: chgnet.run.crashed,
          per_input: chgnet.inputs.map((r) => ({ name: r.name, outcomes: r.outcomes, items: r.items.map((i) => ({ ...i, path: i.path.replace(base, '$TMP') })) })),
        }
      : null,
  };
  const out = join(repoRoot(), 'bench', 'results', `${v.out}.json`);
  // the temporary folder's path is $TMP everywhere (messages name their files)
  writeFileSync(out, JSON.stringify(result, null, 2).split(base).join('$TMP') + '\n');
  console.log(JSON.stringify({ inputs: result.inputs, items: result.items, skipped: result.skipped_paths, criteria: result.criteria, outcomes: result.outcomes_by_kind, ingest_ms: result.ingest_ms }, null, 2));
  console.error(`wrote ${out}`);
  spawnSync('rm', ['-rf', base]);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
