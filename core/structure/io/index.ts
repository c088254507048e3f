// Structure file reading and writing: format detection, the per-format readers, and a
// size-guarded file reader. Every failure is a StructureError with a typed code.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { SoftmodeInputError, StructureError, UsageError } from '../../errors.js';
import { VALIDATION } from '../../../config/validation.js';
import type { Structure } from '../structure.js';
import { checkText, inputError } from './common.js';
import { readCif, readCifDetailed, writeCif } from './cif.js';
import { readPoscar, writePoscar } from './poscar.js';
import { readExtxyz, writeExtxyz } from './extxyz.js';
import { readPymatgenJson } from './pymatgen.js';

export type StructureFormat = 'cif' | 'poscar' | 'extxyz' | 'pymatgen-json';
export const STRUCTURE_FORMATS: readonly StructureFormat[] = ['cif', 'poscar', 'extxyz', 'pymatgen-json'];

export { readCif, readCifDetailed, writeCif, readPoscar, writePoscar, readExtxyz, writeExtxyz, readPymatgenJson };
export { cellparToLattice, latticeToCellpar } from './cell.js';

/**
 * Decide the format from the file name, falling back to the content. Throws
 * `unsupported_format` when neither tells.
 */
export function detectFormat(path: string, text: string): StructureFormat {
  const name = basename(path).toLowerCase();
  const ext = extname(name);
  if (ext === '.cif' || ext === '.mcif') return 'cif';
  if (ext === '.xyz' || ext === '.extxyz') return 'extxyz';
  if (ext === '.json') return 'pymatgen-json';
  if (ext === '.vasp' || ext === '.poscar' || ext === '.contcar' || /^(poscar|contcar)/.test(name)) return 'poscar';
  // content sniffing
  const head = text.slice(0, 4096);
  const trimmed = head.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return 'pymatgen-json';
  if (/^\s*data_\S/im.test(head)) return 'cif';
  const lines = head.split(/\r\n|\n|\r/);
  if (/^\s*\d+\s*$/.test(lines[0] ?? '') && /lattice\s*=/i.test(lines[1] ?? '')) return 'extxyz';
  if (/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?(\s+\S+)*\s*$/.test(lines[1] ?? '') && (lines[2] ?? '').trim().split(/\s+/).length >= 3) return 'poscar';
  throw new StructureError('unsupported_format', `${path}: cannot tell the structure format from the name or the content`, { source: path });
}

/** Parse text of a known format. */
export function readStructuresFromText(text: string, format: StructureFormat, sourceName?: string): Structure[] {
  // a UTF-8 byte-order mark (editors on Windows) is not part of any format
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  switch (format) {
    case 'cif':
      return readCif(text, sourceName);
    case 'poscar':
      return readPoscar(text, sourceName);
    case 'extxyz':
      return readExtxyz(text, sourceName);
    case 'pymatgen-json':
      return readPymatgenJson(text, sourceName);
    default:
      throw new UsageError(`unknown format '${String(format)}'`);
  }
}

/**
 * Read every structure in a file (synchronous). Files larger than VALIDATION.maxFileBytes are
 * refused (`file_too_large`) before reading; binary content is `unparsable`.
 */
export function readStructureFile(path: string, format?: StructureFormat): Structure[] {
  const text = readStructureText(path);
  return readStructuresFromText(text, format ?? detectFormat(path, text), path);
}

/** What one file holds: the structures that could be read and the parts that could not. */
export interface StructureFileRead {
  /** structures with their index in the file (a CIF: among its blocks holding a structure) */
  structures: { index: number; structure: Structure }[];
  /** parts of the file rejected on their own (a bad CIF data block among good ones) */
  failures: { index: number; name: string; error: StructureError }[];
}

/**
 * Read a file part by part: a CIF block by block (a bad block is a failure of its own, the
 * good blocks are kept); the other formats as a whole. Problems of the whole file (unreadable,
 * too large, binary, not the format) are thrown, as by readStructureFile.
 */
export function readStructureFileDetailed(path: string, format?: StructureFormat): StructureFileRead {
  let text = readStructureText(path);
  const fmt = format ?? detectFormat(path, text);
  if (fmt === 'cif') {
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return readCifDetailed(text, path);
  }
  return { structures: readStructuresFromText(text, fmt, path).map((structure, index) => ({ index, structure })), failures: [] };
}

/** The text of a structure file, size-guarded and checked to be text (StructureError otherwise). */
export function readStructureText(path: string): string {
  const ctx = { source: path };
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw inputError('unreadable_file', ctx, 'not a regular file');
    size = st.size;
  } catch (e) {
    if (e instanceof SoftmodeInputError) throw e;
    throw inputError('unreadable_file', ctx, `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (size > VALIDATION.maxFileBytes)
    throw inputError('file_too_large', ctx, `file has ${size} bytes; the limit is ${VALIDATION.maxFileBytes}`, { bytes: size, limit: VALIDATION.maxFileBytes });
  // read at most limit+1 bytes: the file may grow between stat and read
  const buf = Buffer.alloc(Math.min(size, VALIDATION.maxFileBytes) + 1);
  let got = 0;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    for (;;) {
      const r = readSync(fd, buf, got, buf.length - got, null);
      if (r <= 0) break;
      got += r;
      if (got >= buf.length) break;
    }
  } catch (e) {
    throw inputError('unreadable_file', ctx, `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (got > VALIDATION.maxFileBytes) throw inputError('file_too_large', ctx, `file grew beyond ${VALIDATION.maxFileBytes} bytes while reading`);
  const bytes = buf.subarray(0, got);
  if (bytes.includes(0)) throw inputError('unparsable', ctx, 'binary data (NUL bytes): not a text structure file');
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  checkText(text, ctx);
  return text;
}
