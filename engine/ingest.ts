// Reading a campaign's inputs into the store: every file under the given paths, every structure
// in each file (core/structure/io), its canonical content hash (core/structure/hash) and the
// exact geometry (its sha256 is the ref every step's key starts from). Files or structures that
// cannot be read become items rejected at ingest with their typed error code; nothing stops.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { STRUCTURE_DEFAULTS } from '../config/structure.js';
import { isInputError } from '../core/errors.js';
import { readStructureFile } from '../core/structure/io/index.js';
import { reducedFormula, structureHash } from '../core/structure/hash.js';
import type { Structure } from '../core/structure/structure.js';
import { toJson } from '../pipeline/structure-json.js';
import { canonicalJson } from '../config/index.js';
import { type NewItem, type Store, sha256Hex } from '../store/index.js';

const STRUCTURE_EXT = /\.(cif|mcif|vasp|poscar|contcar|xyz|extxyz|json)$/i;

/** Structure files under the given files/directories (directories recursively, sorted). */
export function collectFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string, explicit: boolean) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      if (explicit) out.push(p); // reported as unreadable at ingest
      return;
    }
    if (st.isDirectory()) {
      for (const f of readdirSync(p).sort()) {
        if (f.startsWith('.')) continue;
        walk(join(p, f), false);
      }
    } else if (explicit || STRUCTURE_EXT.test(p) || /^(POSCAR|CONTCAR)/i.test(basename(p))) out.push(p);
  };
  for (const p of paths) walk(resolve(p), true);
  return [...new Set(out)];
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
}

/** Add every structure of `paths` as items of the campaign (idempotent). */
export async function ingest(store: Store, campaignId: number, partitions: number, paths: readonly string[], onFile?: (done: number, total: number) => void): Promise<IngestSummary> {
  const files = collectFiles(paths);
  let structures = 0;
  let rejected = 0;
  let newItems = 0;
  const batch: NewItem[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    newItems += await store.addItems(campaignId, partitions, batch.splice(0));
  };
  for (let fi = 0; fi < files.length; fi++) {
    const path = files[fi]!;
    let list: Structure[];
    try {
      list = readStructureFile(path);
    } catch (e) {
      if (!isInputError(e)) throw e;
      rejected++;
      batch.push({ structureId: null, sourcePath: path, sourceIndex: 0, sourceName: basename(path), rejected: { errorClass: e.code, message: e.message } });
      continue;
    }
    const text = readFileSync(path, 'utf8');
    const fileSha = sha256Hex(text);
    await store.putSourceFile(fileSha, path, text);
    for (let k = 0; k < list.length; k++) {
      const s = list[k]!;
      const name = s.name ?? (list.length > 1 ? `${basename(path)}#${k}` : basename(path));
      let hash: string;
      try {
        hash = structureHash(s);
      } catch (e) {
        if (!isInputError(e)) throw e;
        rejected++;
        batch.push({ structureId: null, sourcePath: path, sourceIndex: k, sourceName: name, rejected: { errorClass: e.code, message: e.message } });
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
    onFile?.(fi + 1, files.length);
  }
  await flush();
  return { files: files.length, structures, rejectedAtIngest: rejected, newItems };
}
