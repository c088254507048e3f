// Integration: early stopping (run --until-ci) through a real Temporal dev server and a real
// embedded PostgreSQL. A synthetic campaign with a known stable fraction p = 0.3: 120 fcc
// (stable under the Lennard-Jones test potential) and 280 simple-cubic (unstable) cells, named so
// that the INPUT order puts every stable one first. With the seeded random order the run must
// stop with the 95 % interval containing p and narrower than asked, leave the rest unscheduled,
// record why, and a second run without --until-ci must go on past the stop to the end.
// Identical cells share their step results (cache keys), so only two structures are computed.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopServices } from '../engine/services/index.js';
import { startPostgres } from '../engine/services/postgres.js';
import { Store } from '../store/index.js';
import { HAS_TEMPORAL, NO_TEMPORAL, cli, ensureBuilt, lastJsonLine, tempDir } from './engine-harness.js';

const FCC = 'fcc\n1.0\n0 1.8 1.8\n1.8 0 1.8\n1.8 1.8 0\nCu\n1\nDirect\n0 0 0\n';
const SC = 'sc\n1.0\n2.4 0 0\n0 2.4 0\n0 0 2.4\nCu\n1\nDirect\n0 0 0\n';
const N_STABLE = 120;
const N_UNSTABLE = 280;
const P = N_STABLE / (N_STABLE + N_UNSTABLE);
const HALF_WIDTH = 0.08;

describe.skipIf(!HAS_TEMPORAL)('engine: early stop at a confidence interval (run --until-ci)', () => {
  let dir = '';
  let inputs = '';
  let store: Store | undefined;
  // a window of 20 (10 per partition): structures past the stop are at most the ones already in
  // flight, so with ~100-130 needed for the interval at least ~250 stay unscheduled (with the
  // default 200 in flight the margin depended on the sample)
  const common = ['--model', 'lennard-jones', '--supercell', '2', '--inference-slots', '2', '--light-slots', '4', '--partitions', '2', '--window', '20'];

  beforeAll(() => {
    if (!HAS_TEMPORAL) console.warn(NO_TEMPORAL);
    ensureBuilt();
    dir = tempDir('engine-early-stop-');
    inputs = join(dir, 'inputs');
    mkdirSync(inputs, { recursive: true });
    // input order = name order: all stable cells first (a biased order on purpose)
    for (let i = 0; i < N_STABLE; i++) writeFileSync(join(inputs, `a-${String(i).padStart(3, '0')}-fcc.vasp`), FCC);
    for (let i = 0; i < N_UNSTABLE; i++) writeFileSync(join(inputs, `b-${String(i).padStart(3, '0')}-sc.vasp`), SC);
  });

  afterAll(async () => {
    await store?.close();
    await stopServices(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops with the interval around the true rate and narrower than asked; a run without it goes on', async () => {
    const r1 = await cli(['run', inputs, ...common, '--until-ci', String(HALF_WIDTH), '--seed', '7', '--campaign-dir', dir, '--name', 'es', '--json', '--keep-services'], {}, 600_000);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stderr + r1.stdout).toMatch(/stopped early: under full-bz the stable rate is/);
    const s1 = lastJsonLine(r1.stdout) as { progress: Record<string, number>; earlyStop: { n: number; stable: number; rate: number; lo: number; hi: number; halfWidth: number; preset: string } | null };
    const stop = s1.earlyStop!;
    expect(stop).not.toBeNull();
    expect(stop.preset).toBe('full-bz');
    expect(stop.halfWidth).toBe(HALF_WIDTH);
    // narrower than asked, on both sides, and containing the true fraction
    expect(stop.hi - stop.rate).toBeLessThan(HALF_WIDTH);
    expect(stop.rate - stop.lo).toBeLessThan(HALF_WIDTH);
    expect(stop.lo).toBeLessThanOrEqual(P);
    expect(stop.hi).toBeGreaterThanOrEqual(P);
    // it stopped well before the end: the rest is unscheduled, nothing failed
    expect(s1.progress['pending']).toBeGreaterThan(100);
    expect(s1.progress['running']).toBe(0);
    expect(s1.progress['failed']).toBe(0);
    expect(s1.progress['done']).toBeGreaterThanOrEqual(stop.n);
    // the input order would have given 100 % stable: the order really was shuffled
    expect(stop.stable).toBeLessThan(stop.n);

    const pg = await startPostgres(dir);
    store = new Store(pg.url);
    const c = (await store.getCampaign('es'))!;
    expect(c.status).toBe('stopped');
    expect(c.stop_reason?.reason).toBe('interval_reached');
    expect((c.config as { order?: unknown }).order).toEqual({ kind: 'random', seed: 7 });
    // ids follow the seeded shuffle: the stable cells are spread over the id range
    const items = await store.exportPage(c.id, 0, 1000);
    expect(items.length).toBe(N_STABLE + N_UNSTABLE);
    const firstHalf = items.slice(0, 200).filter((r) => String(r['source_name']).includes('fcc')).length;
    expect(firstHalf).toBeGreaterThan(30);
    expect(firstHalf).toBeLessThan(90);

    // go on past the stop: every structure gets its result, the stop is kept in the event log
    const r2 = await cli(['run', inputs, ...common, '--campaign-dir', dir, '--name', 'es', '--json', '--keep-services'], {}, 600_000);
    expect(r2.code, r2.stderr).toBe(0);
    const s2 = lastJsonLine(r2.stdout) as { progress: Record<string, number>; provenance: Record<string, number>; earlyStop: unknown };
    expect(s2.earlyStop).toBeNull();
    expect(s2.progress['done']).toBe(N_STABLE + N_UNSTABLE);
    expect(s2.provenance['recomputedSteps']).toBe(0);
    const c2 = (await store.getCampaign('es'))!;
    expect(c2.status).toBe('done');
    expect(c2.stop_reason).toBeNull();
    const kinds = (await store.campaignEvents(c.id)).map((e) => e.kind);
    expect(kinds).toEqual(['early_stop', 'resumed_past_stop']);
    const counts = await store.stableCounts(c.id, 'full-bz');
    expect(counts).toEqual({ stable: N_STABLE, n: N_STABLE + N_UNSTABLE });
  }, 1_200_000);
});
