// matgl's pretrained potentials exported to ONNX (tools/export/export_matgl.py): M3GNet-MP-2021.2.8
// and TensorNet-MatPES-PBE-v2025.1, run in Node through the registry against the reference numbers
// of matgl 2.0.4's own PyTorch code that `npm run parity:mlip -- --model <name>` stored in
// bench/results/mlip-parity-<name>.json (`test_frames`); plus the TypeScript graph against matgl's
// own graphs (test/fixtures/matgl-graph-reference.json: pymatgen's edge order and matgl 2's
// three-body indices, which the M3GNet weights depend on).
//
// The model files are optional: where models/<name>/model*.onnx is absent (rebuild it with the
// command in its manifest's export.command), the model's tests skip and say so.
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelIntegrityError, type OnnxPotential, resolvePotential } from '../core/potential/index.js';
import { buildMatglGraph, fma } from '../core/potential/graph-matgl.js';
import { makeStructure } from '../core/structure/structure.js';
import { REPO_ROOT } from './helpers.js';

interface Pred {
  energy: number;
  forces: number[][];
  stress: number[][];
}
interface Frame {
  source: string;
  index: number;
  structure: { lattice: number[][]; frac: number[][]; numbers: number[] };
  pytorch_float32: Pred;
  pytorch_float64: Pred;
}

const MODELS = ['m3gnet-mp-2021.2.8', 'm3gnet-matpes-pbe-v2025.1', 'tensornet-matpes-pbe-v2025.1'] as const;

function maxDiffs(r: { energy: number; forces: readonly (readonly number[])[]; stress: readonly (readonly number[])[] }, p: Pred, n: number) {
  let dF = 0;
  let dS = 0;
  r.forces.forEach((row, a) => row.forEach((v, k) => (dF = Math.max(dF, Math.abs(v - p.forces[a]![k]!)))));
  r.stress.forEach((row, a) => row.forEach((v, k) => (dS = Math.max(dS, Math.abs(v - p.stress[a]![k]!)))));
  return { dE: Math.abs(r.energy - p.energy) / n, dF, dS };
}

for (const model of MODELS) {
  const dir = join(REPO_ROOT, 'models', model);
  const manifestPath = join(dir, 'manifest.json');
  const manifest = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: Record<string, { path: string }>; export?: { command?: string } }) : undefined;
  const files = manifest ? Object.values(manifest.files).map((f) => join(dir, f.path)) : [];
  const hasModel = files.length === 2 && files.every((f) => existsSync(f));
  const resultsPath = join(REPO_ROOT, 'bench/results', `mlip-parity-${model}.json`);
  const frames = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as { test_frames?: Frame[] }).test_frames ?? [] : [];
  if (!hasModel)
    console.warn(`skipping ${model}: ${manifest ? `model files absent (${manifest.export?.command ?? 'see its manifest'})` : `no ${manifestPath}`}`);
  else if (frames.length === 0) console.warn(`skipping ${model} parity: no test_frames in ${resultsPath} (npm run parity:mlip -- --model ${model})`);

  describe.skipIf(!hasModel || frames.length === 0)(`${model} ONNX in Node vs matgl 2.0.4 PyTorch`, () => {
    it('float64 graph reproduces matgl float64 to rounding', async () => {
      const pot = (await resolvePotential(`${model}-float64`, { threads: 1 })) as OnnxPotential;
      try {
        const res = await pot.evaluate(frames.map((f) => makeStructure(f.structure)));
        frames.forEach((f, i) => {
          const d = maxDiffs(res[i]!, f.pytorch_float64, f.structure.numbers.length);
          expect(d.dE, `${f.source}#${f.index}`).toBeLessThan(1e-9);
          expect(d.dF, `${f.source}#${f.index}`).toBeLessThan(1e-8);
          expect(d.dS, `${f.source}#${f.index}`).toBeLessThan(1e-9);
        });
        // and the frames carry physical forces, so the bounds mean something
        expect(Math.max(...frames.flatMap((f) => f.pytorch_float64.forces.flat().map(Math.abs)))).toBeGreaterThan(0.05);
      } finally {
        await pot.dispose();
      }
    });

    it('float32 graph agrees with matgl float32 within float32 noise', async () => {
      const pot = (await resolvePotential(model, { precision: 'float32', threads: 1 })) as OnnxPotential;
      try {
        expect(pot.identity.precision).toBe('float32');
        const res = await pot.evaluate(frames.map((f) => makeStructure(f.structure)));
        frames.forEach((f, i) => {
          const d = maxDiffs(res[i]!, f.pytorch_float32, f.structure.numbers.length);
          expect(d.dE, `${f.source}#${f.index}`).toBeLessThan(2e-5);
          expect(d.dF, `${f.source}#${f.index}`).toBeLessThan(5e-4);
          expect(d.dS, `${f.source}#${f.index}`).toBeLessThan(1e-5);
        });
      } finally {
        await pot.dispose();
      }
    });

    it('refuses the elements the model lacks (Po..Ra) as a structure error', async () => {
      const pot = (await resolvePotential(model, { threads: 1 })) as OnnxPotential;
      try {
        expect(pot.supportedElements.has(84)).toBe(false);
        expect(pot.supportedElements.has(83)).toBe(true);
        const po = makeStructure({ lattice: [[3.35, 0, 0], [0, 3.35, 0], [0, 0, 3.35]], frac: [[0, 0, 0]], numbers: [84] });
        await expect(pot.evaluate([po])).rejects.toMatchObject({ code: 'unsupported_element' });
      } finally {
        await pot.dispose();
      }
    });
  });
}

describe('matgl graph in TypeScript', () => {
  const fixture = JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/matgl-graph-reference.json'), 'utf8')) as {
    cutoff: number;
    threebody_cutoff: number;
    structures: { source: string; index: number; structure: Frame['structure']; edges: number; three_body: number; edges_sha256: string; three_body_sha256: string }[];
  };
  const sha = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex');

  it("reproduces matgl's edge order and three-body indices", () => {
    expect(fixture.structures.length).toBeGreaterThan(5);
    for (const ref of fixture.structures) {
      const g = buildMatglGraph(makeStructure(ref.structure), { cutoff: fixture.cutoff, threeBodyCutoff: fixture.threebody_cutoff, zRange: [1, 94], excluded: [] });
      const edges = Array.from(g.edgeCenter, (c, e) => [c, g.edgeNeighbour[e]!, g.edgeImage[3 * e]!, g.edgeImage[3 * e + 1]!, g.edgeImage[3 * e + 2]!]);
      const tb: number[][] = [];
      for (let k = 0; k < g.threeBody.length; k += 5) tb.push(Array.from(g.threeBody.subarray(k, k + 5)));
      const name = `${ref.source}#${ref.index}`;
      expect([edges.length, tb.length], name).toEqual([ref.edges, ref.three_body]);
      expect(sha(edges), name).toBe(ref.edges_sha256);
      expect(sha(tb), name).toBe(ref.three_body_sha256);
    }
  });

  it('fma is the correctly rounded a*b+c', () => {
    expect(fma(0.1, 10, -1)).toBe(5.551115123125783e-17); // 0.1*10-1 rounds to 0 without fusing
    expect(fma(2, 3, 4)).toBe(10);
    expect(fma(-0.5, 0.25, 1e-300)).toBe(-0.125);
    expect(fma(3, 1 / 3, -1)).toBe(-5.551115123125783e-17);
  });

  it('names the export command when a model file is missing', async () => {
    const { mkdtempSync, cpSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const tmp = mkdtempSync(join(tmpdir(), 'matgl-missing-'));
    try {
      cpSync(join(REPO_ROOT, 'models/m3gnet-mp-2021.2.8/manifest.json'), join(tmp, 'manifest.json'));
      const err = await resolvePotential('m3gnet-mp-2021.2.8', { modelDir: tmp }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelIntegrityError);
      expect((err as ModelIntegrityError).code).toBe('model_not_found');
      expect((err as Error).message).toContain('tools/export/export_matgl.py');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
