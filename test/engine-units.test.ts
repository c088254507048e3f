// Engine pieces that need no servers: content keys, the Wilson interval, supercell flags, the
// compute-thread pool (heartbeats stay possible while a thread burns CPU; typed input errors
// cross the thread boundary), and config snapshots.
import { describe, expect, it } from 'vitest';
import { ComputePool } from '../activities/compute/pool.js';
import { StructureError } from '../core/errors.js';
import { loadConfigSnapshot } from '../config/index.js';
import { wilson } from '../engine/campaign.js';
import { supercellRuleOf } from '../pipeline/supercell.js';

const parseSupercell = (v: string) => supercellRuleOf(v, 'full-bz');
import { stepKey } from '../store/keys.js';
import { ensureBuilt } from './engine-harness.js';

describe('engine units', () => {
  it('step keys are canonical and change with every ingredient', () => {
    const base = { step: 'relax', cacheVersion: 'relax-1', inputRefs: ['a'.repeat(64)], params: { fmax: 0.005, rounds: 15 }, modelSha256: 'b'.repeat(64) };
    const k = stepKey(base);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    // key order of params does not matter
    expect(stepKey({ ...base, params: { rounds: 15, fmax: 0.005 } })).toBe(k);
    expect(stepKey({ ...base, params: { fmax: 0.0025, rounds: 15 } })).not.toBe(k);
    expect(stepKey({ ...base, cacheVersion: 'relax-2' })).not.toBe(k);
    expect(stepKey({ ...base, modelSha256: 'c'.repeat(64) })).not.toBe(k);
    expect(stepKey({ ...base, inputRefs: ['d'.repeat(64)] })).not.toBe(k);
    expect(stepKey({ ...base, step: 'forces' })).not.toBe(k);
  });

  it('Wilson interval matches the closed form', () => {
    // k = 8 of n = 10: textbook 95 % Wilson interval (0.490, 0.943)
    const w = wilson(8, 10);
    expect(w.p).toBe(0.8);
    expect(w.lo).toBeCloseTo(0.4902, 4);
    expect(w.hi).toBeCloseTo(0.9433, 4);
    const z = wilson(0, 20);
    expect(z.lo).toBe(0);
    expect(z.hi).toBeCloseTo(0.1611, 4);
  });

  it('supercell flags', () => {
    expect(parseSupercell('2')).toEqual({ kind: 'explicit', matrix: [[2, 0, 0], [0, 2, 0], [0, 0, 2]] });
    expect(parseSupercell('phononbench')).toEqual({ kind: 'phononbench' });
    expect(parseSupercell('min-length:15:300')).toEqual({ kind: 'min-length', minLength: 15, maxAtoms: 300 });
    expect(() => parseSupercell('two')).toThrow(/--supercell/);
    // no rule given: the preset's policy (PhononBench keeps its 2×2×2 of the input cell)
    expect(supercellRuleOf(undefined, 'phononbench')).toEqual({ kind: 'phononbench' });
    expect(supercellRuleOf(undefined, 'full-bz').kind).toBe('min-image');
    expect(supercellRuleOf('min-image:18:300', 'full-bz')).toMatchObject({ kind: 'min-image', minImageDistance: 18, maxAtoms: 300 });
  });

  it('compute threads keep the main thread free and carry typed input errors', async () => {
    ensureBuilt();
    const pool = new ComputePool(2);
    try {
      // while a thread spins for 1.5 s, the main event loop keeps ticking (heartbeats would go out)
      let ticks = 0;
      const timer = setInterval(() => ticks++, 50);
      const t0 = Date.now();
      await pool.run({ kind: 'spin', ms: 1500 });
      clearInterval(timer);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1450);
      expect(ticks).toBeGreaterThan(15);

      // atoms on top of each other: a StructureError in the thread arrives typed, with its code
      // (every kind of error crossing the boundary: test/errors.test.ts)
      const bad = { lattice: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], frac: [[0, 0, 0], [0, 0, 0.001]], numbers: [14, 14] };
      const e = await pool.run({ kind: 'validate', structure: bad, params: { symprec: 1e-5, validationVersion: 'validation-1', supportedElements: null } }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(StructureError);
      expect((e as StructureError).code).toBe('atoms_too_close');

      // an aborted job terminates its thread; the pool goes on
      const ac = new AbortController();
      const p = pool.run({ kind: 'spin', ms: 10_000 }, { signal: ac.signal });
      setTimeout(() => ac.abort(new Error('cancelled')), 100);
      await expect(p).rejects.toThrow('cancelled');
      await expect(pool.run({ kind: 'spin', ms: 10 })).resolves.toBeTruthy();
    } finally {
      await pool.close();
    }
    // generous: ensureBuilt() may compile first (tsc takes a minute on a loaded 2-core machine)
  }, 240_000);

  it('the config snapshot holds every area with its version', async () => {
    const snap = await loadConfigSnapshot();
    expect(Object.keys(snap.areas)).toEqual(expect.arrayContaining(['engine', 'phonon', 'relax']));
    expect(snap.versions['engine']).toContain('engine-4');
    expect(snap.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
