// Reading a campaign's inputs into the store: every file under the given paths, every structure
// in each file (core/structure/io), its canonical content hash (core/structure/hash) and the
// exact geometry (its sha256 is the ref every step's key starts from). Files or structures that
// cannot be read become items rejected at ingest with their typed error code; nothing stops.
import { lstatSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ENGINE_DEFAULTS } from '../config/engine.js';
import { STRUCTURE_DEFAULTS } from '../config/structure.js';
import { isInputError } from '../core/errors.js';
import { type StructureFileRead, readStructureFileDetailed } from '../core/structure/io/index.js';
import { reducedFormula, structureHash } from '../core/structure/hash.js';
import { preflightStructure } from '../core/structure/validate.js';
import type { Structure } from '../core/structure/structure.js';
import { toJson } from '../pipeline/structure-json.js';
import { canonicalJson } from '../config/index.js';
import { type IngestedFile, type NewItem, type Store, sha256Hex } from '../store/index.js';

const STRUCTURE_EXT = /\.(cif|mcif|vasp|poscar|contcar|xyz|extxyz|json)$/i;

/** Whether a file found in a directory is taken as a structure file (by its name). */
export function isStructureFileName(name: string): boolean {
  return STRUCTURE_EXT.test(name) || /^(POSCAR|CONTCAR)/i.test(name);
}

export interface SkippedPath {
  path: string;
  reason: string;
}

export interface CollectedFiles {
  /** structure files, sorted within each directory, each once */
  files: string[];
  /** everything under the given directories that was not taken, with why */
  skipped: SkippedPath[];
}

/**
 * The structure files under the given paths. A path given explicitly is always taken (a missing
 * one too: ingest reports it unreadable). Directories are walked recursively in name order;
 * symbolic links are followed, to files and to directories, each real directory once (no
 * cycles). Hidden entries, names that are not structure files, broken links and names that are
 * not valid UTF-8 are listed in `skipped` with the reason, never dropped silently.
 */
export function collectStructureFiles(paths: readonly string[]): CollectedFiles {
  const files: string[] = [];
  const skipped: SkippedPath[] = [];
  const seenDirs = new Set<string>();
  const walk = (dir: string): void => {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch (e) {
      skipped.push({ path: dir, reason: `unreadable directory: ${(e as Error).message}` });
      return;
    }
    if (seenDirs.has(real)) {
      // a link cycle (a link to an ancestor) or a second way to a directory already walked
      skipped.push({ path: dir, reason: `directory already walked (${real}): a symbolic-link cycle or a second link to it` });
      return;
    }
    seenDirs.add(real);
    let entries: Buffer[];
    try {
      entries = readdirSync(dir, { encoding: 'buffer' });
    } catch (e) {
      skipped.push({ path: dir, reason: `unreadable directory: ${(e as Error).message}` });
      return;
    }
    const names = entries
      .map((raw) => ({ raw, name: raw.toString('utf8') }))
      .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    for (const { raw, name } of names) {
      const p = join(dir, name);
      if (!Buffer.from(name, 'utf8').equals(raw)) {
        skipped.push({ path: p, reason: 'file name is not valid UTF-8 (rename the file)' });
        continue;
      }
      if (name.startsWith('.')) {
        skipped.push({ path: p, reason: 'hidden entry' });
        continue;
      }
      let st;
      try {
        st = statSync(p);
      } catch {
        skipped.push({ path: p, reason: lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() ? 'broken symbolic link' : 'unreadable' });
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (!st.isFile()) skipped.push({ path: p, reason: 'not a regular file' });
      else if (isStructureFileName(name)) files.push(p);
      else skipped.push({ path: p, reason: 'not a structure file name (.cif .mcif .vasp .poscar .contcar .xyz .extxyz .json, POSCAR*, CONTCAR*)' });
    }
  };
  for (const given of paths) {
    const p = resolve(given);
    let st;
    try {
      st = statSync(p);
    } catch {
      files.push(p); // reported as unreadable at ingest
      continue;
    }
    if (st.isDirectory()) walk(p);
    else files.push(p);
  }
  return { files: [...new Set(files)], skipped };
}

/** Structure files under the given files/directories (see collectStructureFiles). */
export function collectFiles(paths: readonly string[]): string[] {
  return collectStructureFiles(paths).files;
}

export function geometrySha256(s: Structure): string {
  return sha256Hex(canonicalJson({ lattice: s.lattice, frac: s.frac, numbers: s.numbers }));
}

export const HASH_KIND = `softmode-canonical/${STRUCTURE_DEFAULTS.version}`;

export interface IngestSummary {
  files: number;
  structures: number;
  rejectedAtIngest: number;
  newItems: number;
  /** files with the size and mtime they had when this campaign read them: not read again */
  unchanged: number;
  /** files read before whose size or mtime changed: read again, but their items keep the content first read */
  changed: string[];
}

/** Add every structure of `paths` as items of the campaign (idempotent). */
export async function ingest(
  store: Store,
  campaignId: number,
  partitions: number,
  paths: readonly string[],
  onFile?: (done: number, total: number) => void,
  signal?: AbortSignal,
  order?: { kind: 'random'; seed: number },
  /** models of the campaign (settings.models): each input becomes one item per model */
  models = 1,
): Promise<IngestSummary> {
  const files = collectFiles(paths);
  // Multi-model: each block of inputs is added once per model, model-major (all of the block
  // under model 0, then under model 1, …). Parents run items in id order, so the inference queue
  // sees one model's structures back to back and each compute thread keeps reusing the session
  // it has loaded (pipeline/potentials.ts bounds how many it keeps); blocks rather than the whole
  // campaign per model, so over a month-long campaign every model's results (and the comparison)
  // grow together, and an early stop (--until-ci) sees every model.
  const addItems = async (items: NewItem[]): Promise<number> => {
    if (models <= 1) return store.addItems(campaignId, partitions, items);
    let n = 0;
    const block = ENGINE_DEFAULTS.modelBlockStructures;
    for (let i = 0; i < items.length; i += block) {
      const chunk = items.slice(i, i + block);
      const expanded: NewItem[] = [];
      for (let m = 0; m < models; m++) for (const it of chunk) expanded.push({ ...it, modelIndex: m });
      n += await store.addItems(campaignId, partitions, expanded);
    }
    return n;
  };
  let structures = 0;
  let rejected = 0;
  let newItems = 0;
  // incremental: a file whose size and mtime are those recorded when it was read is skipped
  const known = await store.ingestedFiles(campaignId);
  let unchanged = 0;
  const changed: string[] = [];
  const readNow: IngestedFile[] = [];
  const batch: NewItem[] = [];
  // random order: every item of this ingest is held, then added in the order of a seeded hash
  // of its source (path, index), so ids (the order parents run items in) are a seeded shuffle
  // that does not depend on how the files were listed. Items already in the store keep theirs.
  const held: NewItem[] = [];
  const flush = async (final = false) => {
    if (order) {
      held.push(...batch.splice(0));
      if (!final) return;
      const key = (it: NewItem) => sha256Hex(`${order.seed}\0${it.sourcePath}\0${it.sourceIndex}`);
      const keyed = held.splice(0).map((it) => ({ it, k: key(it) }));
      keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
      for (let i = 0; i < keyed.length; i += 500) newItems += await addItems(keyed.slice(i, i + 500).map((x) => x.it));
      return;
    }
    if (batch.length === 0) return;
    newItems += await addItems(batch.splice(0));
  };
  const reject = (path: string, index: number, name: string, e: unknown): void => {
    rejected++;
    // a reader that throws anything but a typed structure error on one file is a bug in that
    // reader: the file is rejected with the fault named (stack included), the campaign goes on
    const errorClass = isInputError(e) ? e.code : 'reader_fault';
    const message = isInputError(e) ? e.message : `${path}: ${(e as Error)?.stack ?? String(e)}`.slice(0, 4000);
    batch.push({ structureId: null, sourcePath: path, sourceIndex: index, sourceName: name, rejected: { errorClass, message } });
  };
  for (let fi = 0; fi < files.length; fi++) {
    if (signal?.aborted) break;
    const path = files[fi]!;
    let st: { size: number; mtimeMs: number } | null = null;
    try {
      const x = statSync(path);
      st = { size: x.size, mtimeMs: x.mtimeMs };
    } catch {
      // unreadable: the reader below rejects it with the reason
    }
    const before = known.get(path);
    if (st && before) {
      if (before.size === st.size && before.mtimeMs === st.mtimeMs) {
        unchanged++;
        onFile?.(fi + 1, files.length);
        continue;
      }
      changed.push(path);
    }
    const rejectedBefore = rejected;
    const structuresBefore = structures;
    let read: StructureFileRead;
    try {
      // a CIF block by block: a bad block is rejected on its own, the good ones are kept
      read = readStructureFileDetailed(path);
    } catch (e) {
      reject(path, 0, basename(path), e);
      if (st) readNow.push({ path, size: st.size, mtimeMs: st.mtimeMs, sha256: null, structures: 0, rejected: rejected - rejectedBefore });
      continue;
    }
    const text = readFileSync(path, 'utf8');
    const fileSha = sha256Hex(text);
    await store.putSourceFile(fileSha, path, text);
    const parts = read.structures.length + read.failures.length;
    for (const f of read.failures) reject(path, f.index, f.name || `${basename(path)}#${f.index}`, f.error);
    for (const { index: k, structure: s } of read.structures) {
      const name = s.name ?? (parts > 1 ? `${basename(path)}#${k}` : basename(path));
      if (signal?.aborted) break;
      let hash: string;
      try {
        // sizes, finite numbers and the cell first: nothing costly runs on absurd input
        preflightStructure(s);
        hash = structureHash(s);
      } catch (e) {
        reject(path, k, name, e);
        continue;
      }
      const id = await store.putStructure({
        geometrySha256: geometrySha256(s),
        hash,
        hashKind: HASH_KIND,
        formula: reducedFormula(s.numbers),
        natoms: s.numbers.length,
        sourcePath: path,
        sourceIndex: k,
        sourceName: name,
        sourceSha256: fileSha,
        structure: toJson(s),
      });
      structures++;
      batch.push({ structureId: id, sourcePath: path, sourceIndex: k, sourceName: name });
      if (batch.length >= 500) await flush();
    }
    if (st && !signal?.aborted) readNow.push({ path, size: st.size, mtimeMs: st.mtimeMs, sha256: fileSha, structures: structures - structuresBefore, rejected: rejected - rejectedBefore });
    onFile?.(fi + 1, files.length);
  }
  // an interrupted random-order ingest adds nothing: the next run ingests again (idempotent)
  if (!(order && signal?.aborted)) {
    await flush(true);
    // only now are these files' items committed: a crash before this line re-reads them
    await store.recordIngestedFiles(campaignId, readNow);
  }
  return { files: files.length, structures, rejectedAtIngest: rejected, newItems, unchanged, changed };
}
