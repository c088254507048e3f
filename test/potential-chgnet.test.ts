// CHGNet 0.3.0 in onnxruntime-node against PyTorch CHGNet's recorded answers
// (test/fixtures/chgnet-0.3.0-reference.json, made by tools/export/make_chgnet_fixture.py),
// plus finite differences, determinism, batching and the model-integrity checks.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoftmodeInputError } from '../core/errors.js';
import { buildChgnetGraph } from '../core/potential/graph-chgnet.js';
import { MATTERSIM_PROTOCOL, PHONONBENCH_PROTOCOL, withTrajectoryPrecision } from '../config/relax.js';
import { resolvePotential as loadPotential, resolveTrajectoryPotential } from '../core/potential/index.js';

const loadTrajectoryPotential = (p: Parameters<typeof resolveTrajectoryPotential>[0], protocol: { trajectoryPrecision?: 'float32' | 'float64' | null }) => resolveTrajectoryPotential(p, protocol.trajectoryPrecision);
import { relax } from '../core/relax/relax.js';
import { ModelIntegrityError, OnnxPotential } from '../core/potential/onnx-potential.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';
import { REPO_ROOT } from './helpers.js';
import { rattle, rockSalt } from './relax-fixtures.js';

interface RefResult {
  energy: number;
  forces: number[][];
  stress: number[][];
}
interface FixtureItem {
  name: string;
  structure: { lattice: number[][]; frac: number[][]; numbers: number[] };
  graph: { num_edges: number; num_triplets: number; edges: number[][]; triplets: number[][]; bonds: number[][][] };
  pytorch_float32: RefResult;
  pytorch_float64: RefResult;
}
const fixture = JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/chgnet-0.3.0-reference.json'), 'utf8')) as {
  structures: FixtureItem[];
  checkpoint_sha256: string;
};
const items = fixture.structures;
const structures: Structure[] = items.map((it) => makeStructure({ ...it.structure, name: it.name }));
const MODEL_DIR = join(REPO_ROOT, 'models/chgnet-0.3.0');

function maxDiff(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number {
  let m = 0;
  a.forEach((r, i) => r.forEach((x, k) => (m = Math.max(m, Math.abs(x - b[i]![k]!)))));
  return m;
}

describe('CHGNet graph (TypeScript) = CHGNet converter graph', () => {
  for (const it0 of items) {
    it(`${it0.name}: same directed edges, bond pairing and triplets`, () => {
      const s = structures[items.indexOf(it0)]!;
      const g = buildChgnetGraph(s);
      const E = g.edgeCenter.length;
      const edge = (k: number) => [g.edgeCenter[k]!, g.edgeNeighbour[k]!, g.edgeImage[3 * k]!, g.edgeImage[3 * k + 1]!, g.edgeImage[3 * k + 2]!];
      const key = (x: readonly number[]) => x.join(',');
      const ours = new Set(Array.from({ length: E }, (_, k) => key(edge(k))));
      const theirs = new Set(it0.graph.edges.map(key));
      expect(E).toBe(it0.graph.num_edges);
      expect([...theirs].filter((x) => !ours.has(x))).toEqual([]);
      expect(ours.size).toBe(E);
      // undirected pairing: each bond = the same two directed edges
      const bondsOurs = new Set<string>();
      for (let u = 0; u < g.undirectedToDirected.length; u++) {
        const pair: string[] = [];
        for (let k = 0; k < E; k++) if (g.directedToUndirected[k] === u) pair.push(key(edge(k)));
        bondsOurs.add(pair.sort().join('|'));
      }
      const bondsTheirs = new Set(it0.graph.bonds.map((p) => p.map(key).sort().join('|')));
      expect(bondsOurs).toEqual(bondsTheirs);
      // triplets as (centre, leg 1, leg 2) named by neighbour and image
      const T = g.triplets.length / 5;
      expect(T).toBe(it0.graph.num_triplets);
      const tripOurs = new Set<string>();
      for (let t = 0; t < T; t++) {
        const [c, ui, di, uj, dj] = Array.from(g.triplets.subarray(5 * t, 5 * t + 5));
        expect(g.directedToUndirected[di!]).toBe(ui);
        expect(g.directedToUndirected[dj!]).toBe(uj);
        const a = edge(di!);
        const b = edge(dj!);
        expect(a[0]).toBe(c);
        expect(b[0]).toBe(c);
        tripOurs.add(key([c!, ...a.slice(1), ...b.slice(1)]));
      }
      expect(tripOurs).toEqual(new Set(it0.graph.triplets.map(key)));
    });
  }
});

describe('CHGNet 0.3.0 ONNX vs PyTorch CHGNet', () => {
  let p64: OnnxPotential;
  let p32: OnnxPotential;
  beforeAll(async () => {
    p64 = await OnnxPotential.load('chgnet-0.3.0', { precision: 'float64', threads: 1 });
    p32 = await OnnxPotential.load('chgnet-0.3.0', { precision: 'float32', threads: 1 });
  });
  afterAll(async () => {
    await p64?.dispose();
    await p32?.dispose();
  });

  it('identity names the model, the checkpoint and the precision', () => {
    expect(p64.identity).toEqual({ model: 'chgnet-0.3.0', checkpointSha256: fixture.checkpoint_sha256, architecture: 'chgnet', precision: 'float64' });
    expect(p32.identity.precision).toBe('float32');
    expect(p64.supportedElements.has(1) && p64.supportedElements.has(94) && !p64.supportedElements.has(95)).toBe(true);
  });

  it('float64 graph reproduces PyTorch CHGNet in float64 (batched)', async () => {
    const res = await p64.evaluate(structures);
    items.forEach((it0, i) => {
      const r = res[i]!;
      const n = it0.structure.numbers.length;
      const ref = it0.pytorch_float64;
      expect(Math.abs(r.energy - ref.energy) / n).toBeLessThan(1e-10);
      expect(maxDiff(r.forces, ref.forces)).toBeLessThan(1e-9);
      expect(maxDiff(r.stress, ref.stress)).toBeLessThan(1e-10);
    });
  });

  it('float32 graph agrees with PyTorch CHGNet float32 to float32 rounding', async () => {
    const res = await p32.evaluate(structures);
    items.forEach((it0, i) => {
      const r = res[i]!;
      const n = it0.structure.numbers.length;
      const ref = it0.pytorch_float32;
      expect(Math.abs(r.energy - ref.energy) / n).toBeLessThan(2e-5);
      // float32 forces: 1e-5..1e-4 eV/Å rounding (acos' derivative near collinear triplets)
      expect(maxDiff(r.forces, ref.forces)).toBeLessThan(3e-4);
      expect(maxDiff(r.stress, ref.stress)).toBeLessThan(1e-5);
    });
  });

  it('one structure per run gives the batched answer', async () => {
    const batched = await p64.evaluate(structures);
    for (let i = 0; i < structures.length; i++) {
      const [one] = await p64.evaluate([structures[i]!]);
      expect(Math.abs(one!.energy - batched[i]!.energy)).toBeLessThan(1e-11);
      expect(maxDiff(one!.forces, batched[i]!.forces)).toBeLessThan(1e-11);
    }
  });

  it('packs only small graphs into one run (config onnx-potential-3 budget); a supercell runs alone', async () => {
    const a = 5.43;
    const si = makeStructure({
      lattice: [[a, 0, 0], [0, a, 0], [0, 0, a]],
      frac: [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5], [0.25, 0.25, 0.25], [0.75, 0.75, 0.25], [0.75, 0.25, 0.75], [0.25, 0.75, 0.75]],
      numbers: Array(8).fill(14),
    });
    const big = makeStructure({
      lattice: [[2 * a, 0, 0], [0, 2 * a, 0], [0, 0, 2 * a]],
      frac: [0, 1].flatMap((i) => [0, 1].flatMap((j) => [0, 1].flatMap((k) => si.frac.map((f) => [(f[0]! + i) / 2, (f[1]! + j) / 2, (f[2]! + k) / 2])))),
      numbers: Array(64).fill(14),
    });
    const sizes: number[][] = [];
    const spy = p64.runBatch.bind(p64);
    p64.runBatch = (graphs) => {
      sizes.push(graphs.map((g) => g.numAtoms));
      return spy(graphs);
    };
    try {
      const res = await p64.evaluate([si, si, si, si, big, big]);
      expect(sizes).toEqual([[8, 8, 8, 8], [64], [64]]);
      // the same crystal: energy per atom agrees between the 8-atom cell and its 2×2×2 supercell
      expect(Math.abs(res[0]!.energy / 8 - res[4]!.energy / 64)).toBeLessThan(1e-9);
    } finally {
      delete (p64 as { runBatch?: unknown }).runBatch;
    }
  });

  it('forces are −∂E/∂r and stress is (1/V)·∂E/∂ε (central differences, float64 graph)', async () => {
    const h = 1e-4; // Å and strain
    for (const idx of [0, 3, 6]) {
      const s = structures[idx]!;
      const L = s.lattice;
      const cart = s.frac.map((f) => [0, 1, 2].map((k) => f[0] * L[0][k]! + f[1] * L[1][k]! + f[2] * L[2][k]!));
      const probes: Structure[] = [];
      const comps: [number, number][] = [];
      for (let i = 0; i < Math.min(cart.length, 4); i++)
        for (let k = 0; k < 3; k++) {
          comps.push([i, k]);
          for (const sgn of [1, -1]) {
            const c2 = cart.map((p) => [...p]);
            c2[i]![k]! += sgn * h;
            probes.push(makeStructure({ lattice: L, cart: c2, numbers: s.numbers }));
          }
        }
      const strains: [number, number][] = [[0, 0], [1, 1], [2, 2], [0, 1], [1, 2], [2, 0]];
      for (const [a, b] of strains)
        for (const sgn of [1, -1]) {
          // L' = L (I + ε) with ε = ±h e_a e_bᵀ, fractional positions fixed
          const L2 = L.map((row) => {
            const r = [...row];
            r[b] = r[b]! + sgn * h * row[a]!;
            return r;
          });
          probes.push(makeStructure({ lattice: L2, frac: s.frac, numbers: s.numbers }));
        }
      const [base, ...res] = await p64.evaluate([s, ...probes]);
      const V = Math.abs(
        L[0][0] * (L[1][1] * L[2][2] - L[1][2] * L[2][1]) - L[0][1] * (L[1][0] * L[2][2] - L[1][2] * L[2][0]) + L[0][2] * (L[1][0] * L[2][1] - L[1][1] * L[2][0]),
      );
      let fScale = 0;
      let fErr = 0;
      comps.forEach(([i, k], q) => {
        const fd = -(res[2 * q]!.energy - res[2 * q + 1]!.energy) / (2 * h);
        fErr = Math.max(fErr, Math.abs(fd - base!.forces[i]![k]!));
        fScale = Math.max(fScale, Math.abs(fd));
      });
      expect(fErr / Math.max(fScale, 1e-2)).toBeLessThan(1e-3);
      let sScale = 0;
      let sErr = 0;
      const off = 2 * comps.length;
      strains.forEach(([a, b], q) => {
        const fd = (res[off + 2 * q]!.energy - res[off + 2 * q + 1]!.energy) / (2 * h) / V;
        sErr = Math.max(sErr, Math.abs(fd - base!.stress[a]![b]!));
        sScale = Math.max(sScale, Math.abs(fd));
      });
      expect(sErr / Math.max(sScale, 1e-3)).toBeLessThan(1e-3);
    }
  });

  it('loadPotential resolves names and precisions', async () => {
    const p = await loadPotential('chgnet-0.3.0-float32', { threads: 1 });
    expect(p.identity.precision).toBe('float32');
    await p.dispose?.();
    await expect(loadPotential('chgnet-9.9.9')).rejects.toBeInstanceOf(SoftmodeInputError);
    await expect(loadPotential('chgnet-0.3.0-float32', { precision: 'float64' })).rejects.toBeInstanceOf(SoftmodeInputError);
    const lj = await loadPotential('lennard-jones');
    expect(lj.identity.model).toContain('lennard-jones');
  });

  it('phononbench relaxes along a float32 trajectory and decides in float64, ending where float64 throughout ends', async () => {
    const s = rattle(rockSalt(5.7), 11, 0.02, 0.01);
    const trajectory = await loadTrajectoryPotential(p64, PHONONBENCH_PROTOCOL);
    expect(trajectory?.identity).toEqual({ ...p64.identity, precision: 'float32' });
    try {
      const mixed = await relax(s, p64, PHONONBENCH_PROTOCOL, { trajectoryPotential: trajectory! });
      const f64 = await relax(s, p64, withTrajectoryPrecision(PHONONBENCH_PROTOCOL, 'float64'));
      expect(mixed.verdict).toBe('converged');
      expect(f64.verdict).toBe('converged');
      expect(mixed.trajectoryPrecision).toBe('float32');
      expect(f64.trajectoryPrecision).toBe('float64');
      // the reported energy is the float64 model's at the final geometry, bit for bit
      const [again] = await p64.evaluate([mixed.structure]);
      expect(mixed.energy).toBe(again!.energy);
      expect(mixed.maxForce).toBeLessThanOrEqual(PHONONBENCH_PROTOCOL.finalFmax!);
      // both end at the same minimum (measured: 7e-11 eV/atom, 2e-6 Å apart, after the cell moved
      // by 0.06 Å): float32 noise is far below the 0.0025 eV/Å round tolerance
      expect(Math.abs(mixed.energyPerAtom - f64.energyPerAtom)).toBeLessThan(1e-7);
      expect(maxDiff(mixed.structure.lattice, f64.structure.lattice)).toBeLessThan(1e-4);
      expect(maxDiff(mixed.structure.lattice, s.lattice)).toBeGreaterThan(0.03);
    } finally {
      await trajectory?.dispose?.();
    }
    // nothing to load when the protocol's trajectory precision is the model's, or names none,
    // or the potential has a single precision
    expect(await loadTrajectoryPotential(p64, withTrajectoryPrecision(PHONONBENCH_PROTOCOL, 'float64'))).toBeNull();
    expect(await loadTrajectoryPotential(p64, MATTERSIM_PROTOCOL)).toBeNull();
    expect(await loadTrajectoryPotential(await loadPotential('lennard-jones'), PHONONBENCH_PROTOCOL)).toBeNull();
  });

  it('refuses elements outside 1..94 and isolated atoms with typed errors', async () => {
    const bad = makeStructure({ lattice: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], frac: [[0, 0, 0]], numbers: [95] });
    await expect(p64.evaluate([bad])).rejects.toMatchObject({ name: 'StructureError', code: 'unsupported_element' });
    const lonely = makeStructure({ lattice: [[12, 0, 0], [0, 12, 0], [0, 0, 12]], frac: [[0, 0, 0], [0.5, 0.5, 0.5]], numbers: [14, 14] });
    await expect(p64.evaluate([lonely])).rejects.toMatchObject({ name: 'StructureError', code: 'isolated_atom' });
  });
});

describe('determinism and integrity', () => {
  it('2 threads give the 1-thread answer (float64, to summation-order rounding)', async () => {
    const one = await OnnxPotential.load('chgnet-0.3.0', { precision: 'float64', threads: 1 });
    const two = await OnnxPotential.load('chgnet-0.3.0', { precision: 'float64', threads: 2 });
    try {
      const [a, b] = [await one.evaluate(structures), await two.evaluate(structures)];
      a.forEach((x, i) => {
        expect(Math.abs(x.energy - b[i]!.energy)).toBeLessThan(1e-10);
        expect(maxDiff(x.forces, b[i]!.forces)).toBeLessThan(1e-10);
      });
    } finally {
      await one.dispose();
      await two.dispose();
    }
  });

  it('20 runs with 2 threads give bit-identical outputs (both precisions)', async () => {
    for (const precision of ['float64', 'float32'] as const) {
      const p = await OnnxPotential.load('chgnet-0.3.0', { precision, threads: 2 });
      try {
        const some = structures.slice(0, 4);
        const first = await p.evaluate(some);
        for (let r = 1; r < 20; r++) {
          const again = await p.evaluate(some);
          again.forEach((x, i) => {
            expect(x.energy).toBe(first[i]!.energy);
            expect(x.forces).toEqual(first[i]!.forces);
            expect(x.stress).toEqual(first[i]!.stress);
          });
        }
      } finally {
        await p.dispose();
      }
    }
  });

  it('a model file whose sha256 differs from the manifest is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'softmode-model-'));
    try {
      const manifest = JSON.parse(readFileSync(join(MODEL_DIR, 'manifest.json'), 'utf8'));
      symlinkSync(join(MODEL_DIR, manifest.files.float32.path), join(dir, manifest.files.float32.path));
      copyFileSync(join(MODEL_DIR, 'LICENSE-CHGNet'), join(dir, 'LICENSE-CHGNet'));
      manifest.files.float32.sha256 = '0'.repeat(64);
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
      const err = await OnnxPotential.load('chgnet-0.3.0', { modelDir: dir, precision: 'float32' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelIntegrityError);
      expect((err as ModelIntegrityError).code).toBe('model_checksum_mismatch');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
