// The hostile-input corpus: every file in test/corpus/manifest.json must give its typed error
// (from reading or from validation), quickly and without exhausting memory. Inputs too large to
// keep in the repository (size guard, huge loops, huge cells) are generated in a temp dir.
import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers.js';
import { readStructureFile } from '../core/structure/io/index.js';
import { assertValidStructure } from '../core/structure/validate.js';
import { SoftmodeInputError } from '../core/errors.js';
import { VALIDATION } from '../config/validation.js';

const CORPUS = join(REPO_ROOT, 'test', 'corpus');
const manifest = JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8')) as { files: Record<string, { code: string; why: string }> };
const PER_FILE_MS = 2000;
const PER_FILE_HEAP_BYTES = 256 * 1024 * 1024;

/** Read then validate; the code of the first typed error, or 'ok'. Anything else rethrows. */
function outcome(path: string): { code: string; message: string; stage: 'read' | 'validate' | 'none' } {
  let stage: 'read' | 'validate' = 'read';
  try {
    const structures = readStructureFile(path);
    stage = 'validate';
    for (const s of structures) assertValidStructure(s);
    return { code: 'ok', message: '', stage: 'none' };
  } catch (e) {
    if (e instanceof SoftmodeInputError) return { code: e.code, message: e.message, stage };
    throw e; // a crash: not a typed error
  }
}

function timed(path: string): ReturnType<typeof outcome> & { ms: number; heap: number } {
  const h0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const r = outcome(path);
  return { ...r, ms: performance.now() - t0, heap: process.memoryUsage().heapUsed - h0 };
}

describe('malformed and hostile corpus', () => {
  const files = Object.keys(manifest.files).sort();

  it('has at least 30 files, each listed in the manifest', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
    const onDisk = readdirSync(CORPUS).filter((f) => f !== 'manifest.json').sort();
    expect(onDisk).toEqual(files);
  });

  for (const f of files) {
    const want = manifest.files[f]!;
    it(`${f} → ${want.code} (${want.why})`, () => {
      const r = timed(join(CORPUS, f));
      expect(r.code, r.message).toBe(want.code);
      expect(r.message.length).toBeGreaterThan(0);
      if (r.stage === 'read') expect(r.message).toContain(f); // reader messages name the file
      expect(r.ms).toBeLessThan(PER_FILE_MS);
      expect(r.heap).toBeLessThan(PER_FILE_HEAP_BYTES);
    });
  }
});

describe('generated hostile inputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'softmode-corpus-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a file over the size limit before reading it', () => {
    const p = join(dir, 'big.cif');
    writeFileSync(p, 'data_x\n');
    truncateSync(p, VALIDATION.maxFileBytes + 1); // sparse: costs no disk
    const r = timed(p);
    expect(r.code).toBe('file_too_large');
    expect(r.ms).toBeLessThan(100);
  });

  it('refuses a CIF atom loop with more rows than the read limit, fast', () => {
    const rows = VALIDATION.maxAtomsRead + 10;
    const p = join(dir, 'huge-loop.cif');
    const body = 'H 0.1 0.2 0.3\n'.repeat(rows);
    writeFileSync(p, `data_x\n_cell_length_a 500\n_cell_length_b 500\n_cell_length_c 500\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\nloop_\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n${body}`);
    const r = timed(p);
    expect(r.code).toBe('too_many_atoms');
    expect(r.ms).toBeLessThan(5000);
  });

  it('rejects a cell over maxAtomsInCell without a symmetry search or pair loop', () => {
    const n = VALIDATION.maxAtomsInCell + 1;
    const edge = Math.ceil(Math.cbrt(n));
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(`${(i % edge) / edge} ${(Math.floor(i / edge) % edge) / edge} ${Math.floor(i / edge / edge) / edge}`);
    const a = edge * 2.5;
    const p = join(dir, 'POSCAR-big');
    writeFileSync(p, `big\n1.0\n${a} 0 0\n0 ${a} 0\n0 0 ${a}\nC\n${n}\nDirect\n${lines.join('\n')}\n`);
    const r = timed(p);
    expect(r.code).toBe('too_many_atoms');
    expect(r.ms).toBeLessThan(2000);
  });

  it('memory guards: CIF token count, frames per file, JSON size', () => {
    const cif = join(dir, 'many-tokens.cif');
    writeFileSync(cif, 'data_x\nloop_\n_junk\n' + '1 '.repeat(VALIDATION.maxCifTokens + 10) + '\n');
    let r = timed(cif);
    expect(r.code, r.message).toBe('file_too_large');
    expect(r.ms).toBeLessThan(5000);
    const xyz = join(dir, 'many-frames.xyz');
    writeFileSync(xyz, '1\nLattice="3 0 0 0 3 0 0 0 3" Properties=species:S:1:pos:R:3\nH 0 0 0\n'.repeat(VALIDATION.maxStructuresPerFile + 1));
    r = timed(xyz);
    expect(r.code, r.message).toBe('too_many_atoms');
    expect(r.ms).toBeLessThan(5000);
    const json = join(dir, 'big.json');
    writeFileSync(json, '[' + ' '.repeat(VALIDATION.maxJsonBytes) + ']');
    r = timed(json);
    expect(r.code, r.message).toBe('file_too_large');
    expect(r.ms).toBeLessThan(2000);
  });

  it('missing files and directories are unreadable_file', () => {
    expect(outcome(join(dir, 'does-not-exist.cif')).code).toBe('unreadable_file');
    expect(outcome(dir).code).toBe('unreadable_file');
  });
});
