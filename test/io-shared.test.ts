// Read the shared real-world sets: every MatterGen CIF (P1 files and their symmetrized twins,
// which need symmetry expansion) and every frame of the parity extended-XYZ sets.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAS_SHARED, SHARED_MISSING, sharedPath } from './helpers.js';
import { readStructureFile } from '../core/structure/io/index.js';
import { validateStructure } from '../core/structure/validate.js';
import type { Structure } from '../core/structure/structure.js';
import { volume } from '../core/structure/structure.js';

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

function reducedCounts(s: Structure): string {
  const c = new Map<number, number>();
  for (const z of s.numbers) c.set(z, (c.get(z) ?? 0) + 1);
  const g = [...c.values()].reduce((a, b) => {
    while (b) [a, b] = [b, a % b];
    return a;
  });
  return [...c.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([z, k]) => `${z}:${k / g}`)
    .join(' ');
}

if (!HAS_SHARED) console.warn(SHARED_MISSING);

describe.skipIf(!HAS_SHARED)('shared MatterGen CIFs', () => {
  it('reads all 450 files; each symmetrized twin expands to the same formula and about the same volume per atom', () => {
    const files = walk(sharedPath('data/structures/mattergen')).filter((f) => f.endsWith('.cif'));
    expect(files.length).toBe(450);
    const byPath = new Map<string, Structure>();
    for (const f of files) {
      const list = readStructureFile(f);
      expect(list.length, f).toBe(1);
      const s = list[0]!;
      const v = validateStructure(s);
      expect(v.ok, `${f}: ${JSON.stringify(v)}`).toBe(true);
      byPath.set(f, s);
    }
    let pairs = 0;
    for (const [f, s] of byPath) {
      if (!f.endsWith('_symmetrized.cif')) continue;
      const p1 = byPath.get(f.replace('_symmetrized.cif', '.cif'));
      expect(p1, f).toBeDefined();
      expect(reducedCounts(s), f).toBe(reducedCounts(p1!));
      const vpa = volume(s) / s.numbers.length;
      const vpa1 = volume(p1!) / p1!.numbers.length;
      expect(Math.abs(vpa - vpa1) / vpa1, f).toBeLessThan(1e-2); // twins were refined at symprec 0.1: the cell may change slightly
      pairs++;
    }
    expect(pairs).toBe(225);
  });
});

describe.skipIf(!HAS_SHARED)('shared parity extended XYZ', () => {
  it('reads all 2,000 frames with energy, forces and stress', () => {
    let frames = 0;
    for (const name of ['alexandria-random-1k.xyz', 'mptrj-random-1k.xyz']) {
      const list = readStructureFile(sharedPath('data/parity', name));
      expect(list.length).toBe(1000);
      for (const s of list) {
        const p = s.properties!;
        expect(typeof p.energy).toBe('number');
        expect(Number.isFinite(p.energy)).toBe(true);
        expect(p.forces!.length).toBe(s.numbers.length);
        expect(p.stress!.length).toBe(3);
        expect(p.stress!.flat().every(Number.isFinite)).toBe(true);
        expect(p['labelKeys']).toEqual({ energy: 'energy', forces: 'forces', stress: 'stress' });
        expect(s.numbers.length).toBeGreaterThanOrEqual(1);
        frames++;
      }
    }
    expect(frames).toBe(2000);
  });
});
