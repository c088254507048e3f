import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../cli/commands/phonons.js';
import { threadsOption } from '../cli/lib/args.js';

// The one-process path (`softmode phonons x --model ...`): relax, displace, evaluate, post-process.
describe('softmode phonons --model', () => {
  it('computes forces with a potential and classifies fcc Cu (Lennard-Jones) as stable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'softmode-phonons-model-'));
    const a = 3.61 / 2;
    writeFileSync(join(dir, 'Cu.vasp'), `Cu fcc\n1.0\n0 ${a} ${a}\n${a} 0 ${a}\n${a} ${a} 0\nCu\n1\nDirect\n0 0 0\n`);
    const code = await run([join(dir, 'Cu.vasp'), '--model', 'lennard-jones', '--dim', '3 3 3', '--no-band', '--mesh', '4 4 4', '--out', join(dir, 'out'), '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(readFileSync(join(dir, 'out', 'result.json'), 'utf8'));
    expect(result.natomsSupercell).toBe(27);
    expect(result.label).toBe('stable');
    // forces were really computed: FORCE_SETS holds one displacement for fcc with non-zero forces
    const forceSets = readFileSync(join(dir, 'out', 'FORCE_SETS'), 'utf8').trim().split('\n');
    expect(Number(forceSets[1])).toBe(1);
    const forceRows = forceSets.slice(5, 5 + 27).map((l) => l.trim().split(/\s+/).map(Number));
    expect(Math.max(...forceRows.flat().map(Math.abs))).toBeGreaterThan(1e-4);
  });

  it('refuses a --threads that is not a positive integer and an unknown --trajectory-precision', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'softmode-phonons-threads-'));
    writeFileSync(join(dir, 'Cu.vasp'), `Cu fcc\n1.0\n0 1.8 1.8\n1.8 0 1.8\n1.8 1.8 0\nCu\n1\nDirect\n0 0 0\n`);
    for (const bad of ['0', '1.5', 'two']) expect(await run([join(dir, 'Cu.vasp'), '--model', 'lennard-jones', '--threads', bad, '--no-band'])).toBe(2);
    for (const bad of ['float16', 'double']) expect(await run([join(dir, 'Cu.vasp'), '--model', 'lennard-jones', '--trajectory-precision', bad, '--no-band'])).toBe(2);
    expect(threadsOption(undefined)).toBe(availableParallelism());
    expect(threadsOption('3')).toBe(3);
  });

  it('refuses --forces together with --model', async () => {
    expect(await run(['x.vasp', '--model', 'lennard-jones', '--forces', 'FORCE_SETS'])).toBe(2);
  });
});
