// MatterSim-v1 (M3GNet) with random weights, exported by tools/export/export_mattersim.py,
// run in Node through OnnxPotential + the TypeScript M3GNet graph, against MatterSim's own
// PyTorch answers recorded by the exporter. The exported model is a local build product
// (tools/export/.cache, not committed: random weights are a proof of the export path, not a
// model to ship), so this test runs only where the exporter has been run:
//   tools/.venv/bin/python tools/export/export_mattersim.py --random-seed 0
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxPotential } from '../core/potential/onnx-potential.js';
import { makeStructure } from '../core/structure/structure.js';
import { REPO_ROOT } from './helpers.js';

const DIR = join(REPO_ROOT, 'tools/export/.cache/mattersim-v1-random-seed0');
const parityPath = join(DIR, 'parity.json');
const HAS_MODEL = existsSync(join(DIR, 'model.onnx')) && existsSync(parityPath);
const parity = HAS_MODEL
  ? (JSON.parse(readFileSync(parityPath, 'utf8')) as {
      reference_generated?: { structure: { lattice: number[][]; frac: number[][]; numbers: number[] }; energy: number; forces: number[][]; stress: number[][] }[];
    })
  : undefined;

describe.skipIf(!HAS_MODEL || !parity?.reference_generated)('MatterSim (random weights) ONNX in Node vs MatterSim PyTorch', () => {
  it('energy, forces and stress agree to float32 rounding', async () => {
    const pot = await OnnxPotential.load('mattersim-v1-random-seed0', { modelDir: DIR, precision: 'float32', threads: 1 });
    try {
      expect(pot.architecture).toBe('m3gnet');
      const refs = parity!.reference_generated!;
      const res = await pot.evaluate(refs.map((r) => makeStructure(r.structure)));
      let dE = 0;
      let dF = 0;
      let dS = 0;
      let fMax = 0;
      refs.forEach((r, i) => {
        const n = r.structure.numbers.length;
        dE = Math.max(dE, Math.abs(res[i]!.energy - r.energy) / n);
        r.forces.forEach((row, a) =>
          row.forEach((v, k) => {
            dF = Math.max(dF, Math.abs(res[i]!.forces[a]![k]! - v));
            fMax = Math.max(fMax, Math.abs(v));
          }),
        );
        r.stress.forEach((row, a) => row.forEach((v, k) => (dS = Math.max(dS, Math.abs(res[i]!.stress[a]![k]! - v)))));
      });
      expect(fMax).toBeGreaterThan(0.05); // physical-size forces, so the tolerances mean something
      expect(dE).toBeLessThan(2e-5);
      expect(dF).toBeLessThan(5e-5);
      expect(dS).toBeLessThan(1e-4);
    } finally {
      await pot.dispose();
    }
  });
});
