// ML-potential parity: an exported model (default CHGNet 0.3.0) run as ONNX in Node
// (onnxruntime-node) against its own PyTorch code (float32 as users run it, and float64), on
// frames of ../shared/data/parity/*.xyz and MatterGen structures; plus each one's error against
// the DFT labels of the xyz frames.
//
//   npm run parity:mlip                       (runs the PyTorch side, then the ONNX side)
//   npm run parity:mlip -- --model m3gnet-mp-2021.2.8 --frames-per-file 20 --mattergen 10
//   node dist/bench/mlip-parity.js [--model M] [--reuse] [--frames-per-file 125] [--mattergen 60] [--threads 1]
//
// The PyTorch side: for CHGNet tools/export/chgnet_parity.py in tools/.venv (created and filled
// from tools/requirements.txt if absent); for a model whose manifest names a `pytorch_reference`
// (the matgl models: tools/export/matgl_parity.py in tools/.venv-matgl, made by its `ensure`
// script), that one. It writes the structures it evaluated; this side evaluates exactly those
// (same atoms, same order) and re-reads the xyz frames with our own reader to take the DFT labels
// (and to check that both readers agree on the geometry).
// Writes bench/results/mlip-parity.json (CHGNet) or mlip-parity-<model>.json, and the `parity`
// summary in models/<model>/manifest.json. The result keeps the reference numbers of the first
// structures (`test_frames`) for test/potential-*.test.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';
import { type OnnxPotential, resolvePotential } from '../core/potential/index.js';
import { pytorchReference, referencePython } from './mlip-reference.js';
import { repoRoot } from '../core/paths.js';
import type { PotentialResult } from '../core/potential/types.js';
import { readStructureFile } from '../core/structure/io/index.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';

interface Pred {
  energy: number;
  forces: number[][];
  stress: number[][];
}
interface Item {
  source: string;
  index: number;
  kind: 'xyz' | 'cif';
  structure: { lattice: number[][]; frac: number[][]; numbers: number[] };
  pytorch_float32: Pred;
  pytorch_float64: Pred;
}

const root = repoRoot();
const shared = join(root, '..', 'shared');
const { values: args } = parseProcessArgs('parity:mlip', {
  model: { kind: 'string', default: 'chgnet-0.3.0', help: 'model name (default chgnet-0.3.0)' },
  reuse: { kind: 'boolean', help: 'reuse the PyTorch results already written' },
  'frames-per-file': { kind: 'int', min: 0, default: 125, help: 'xyz frames per parity file (default 125)' },
  mattergen: { kind: 'int', min: 0, default: 60, help: 'MatterGen structures (default 60)' },
  threads: { kind: 'positive-int', default: 1, help: 'threads of both sides (default 1)' },
} as const satisfies OptionsSpec);
const threads = args.threads;

function toStructure(it: Item): Structure {
  return makeStructure({ ...it.structure, name: `${it.source}#${it.index}` });
}

interface Diffs {
  max_abs_energy_diff_eV_atom: number;
  max_abs_force_diff_eV_A: number;
  max_abs_stress_diff_eV_A3: number;
  worst_force: { structure: string; atoms: number; diff: number };
  /** distribution over structures of each structure's max |ΔF| */
  force_diff_percentiles_eV_A: { p50: number; p90: number; p99: number };
  'frames_within_5e-5_eV_A': number;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))] ?? NaN;
}

function compare(a: readonly Pred[] | readonly PotentialResult[], b: readonly Pred[], items: readonly Item[]): Diffs {
  const d: Diffs = {
    max_abs_energy_diff_eV_atom: 0,
    max_abs_force_diff_eV_A: 0,
    max_abs_stress_diff_eV_A3: 0,
    worst_force: { structure: '', atoms: 0, diff: 0 },
    force_diff_percentiles_eV_A: { p50: 0, p90: 0, p99: 0 },
    'frames_within_5e-5_eV_A': 0,
  };
  const perFrame: number[] = [];
  items.forEach((it, i) => {
    const x = a[i]!;
    const y = b[i]!;
    const n = it.structure.numbers.length;
    d.max_abs_energy_diff_eV_atom = Math.max(d.max_abs_energy_diff_eV_atom, Math.abs(x.energy - y.energy) / n);
    let fd = 0;
    x.forces.forEach((r, k) => r.forEach((v, c) => (fd = Math.max(fd, Math.abs(v - y.forces[k]![c]!)))));
    if (fd > d.worst_force.diff) d.worst_force = { structure: `${it.source}#${it.index}`, atoms: n, diff: fd };
    d.max_abs_force_diff_eV_A = Math.max(d.max_abs_force_diff_eV_A, fd);
    perFrame.push(fd);
    x.stress.forEach((r, k) => r.forEach((v, c) => (d.max_abs_stress_diff_eV_A3 = Math.max(d.max_abs_stress_diff_eV_A3, Math.abs(v - y.stress[k]![c]!)))));
  });
  d.force_diff_percentiles_eV_A = { p50: percentile(perFrame, 0.5), p90: percentile(perFrame, 0.9), p99: percentile(perFrame, 0.99) };
  d['frames_within_5e-5_eV_A'] = perFrame.filter((x) => x <= 5e-5).length;
  return d;
}

interface Dft {
  energy: number;
  forces: number[][];
  stress: number[][] | undefined;
}

function maeVsDft(pred: readonly (Pred | PotentialResult)[], dft: readonly (Dft | undefined)[], items: readonly Item[]) {
  let e = 0;
  let ne = 0;
  let f = 0;
  let nf = 0;
  let s = 0;
  let ns = 0;
  items.forEach((it, i) => {
    const d = dft[i];
    if (!d) return;
    const p = pred[i]!;
    e += Math.abs(p.energy - d.energy) / it.structure.numbers.length;
    ne++;
    p.forces.forEach((r, k) => r.forEach((v, c) => ((f += Math.abs(v - d.forces[k]![c]!)), nf++)));
    if (d.stress) p.stress.forEach((r, k) => r.forEach((v, c) => ((s += Math.abs(v - d.stress![k]![c]!)), ns++)));
  });
  return { energy: e / ne, force: f / nf, stress: s / ns, frames: ne, units: { energy: 'eV/atom', force: 'eV/Å (per component)', stress: 'eV/Å³ (per component)' } };
}

async function main(): Promise<void> {
  const model = args.model;
  const chgnet = model === 'chgnet-0.3.0';
  const ref0 = pytorchReference(model);
  const cache = join(root, chgnet ? 'tools/export/.cache/mlip-parity-pytorch.json' : `tools/export/.cache/mlip-parity-pytorch-${model}.json`);
  if (!args.reuse || !existsSync(cache)) {
    const py = referencePython(ref0);
    console.log(`${ref0.label} (${ref0.parity}) ...`);
    execFileSync(
      py,
      [join(root, ref0.parity), ...ref0.args, '--out', cache, '--frames-per-file', String(args['frames-per-file']), '--mattergen', String(args.mattergen), '--threads', String(threads)],
      { stdio: 'inherit' },
    );
  }
  const ref = JSON.parse(readFileSync(cache, 'utf8')) as { items: Item[]; seconds: Record<string, number>; chgnet_package?: string; matgl?: string; matgl_backend?: string; torch: string };
  const items = ref.items;
  const structures = items.map(toStructure);

  // DFT labels and a geometry cross-check from our own extxyz reader
  const dft: (Dft | undefined)[] = items.map(() => undefined);
  let readerMaxPosDiff = 0;
  const bySource = new Map<string, number[]>();
  items.forEach((it, i) => {
    if (it.kind === 'xyz') bySource.set(it.source, [...(bySource.get(it.source) ?? []), i]);
  });
  for (const [source, idxs] of bySource) {
    const frames = readStructureFile(join(shared, source));
    for (const i of idxs) {
      const it = items[i]!;
      const s = frames[it.index]!;
      if (s.numbers.join() !== it.structure.numbers.join()) throw new Error(`${source}#${it.index}: our reader and ASE disagree on the atoms`);
      for (let a = 0; a < s.numbers.length; a++)
        for (let k = 0; k < 3; k++) {
          // compare Cartesian positions (ASE → pymatgen may wrap fractional coordinates)
          const ours = [0, 1, 2].map((c) => s.frac[a]![0] * s.lattice[0][c]! + s.frac[a]![1] * s.lattice[1][c]! + s.frac[a]![2] * s.lattice[2][c]!);
          const f = it.structure.frac[a]!;
          const L = it.structure.lattice;
          const theirs = [0, 1, 2].map((c) => f[0]! * L[0]![c]! + f[1]! * L[1]![c]! + f[2]! * L[2]![c]!);
          readerMaxPosDiff = Math.max(readerMaxPosDiff, Math.abs(ours[k]! - theirs[k]!));
        }
      const p = s.properties;
      if (p?.energy !== undefined && p.forces)
        dft[i] = { energy: p.energy, forces: p.forces.map((v) => [...v]), stress: p.stress ? p.stress.map((r) => [...r]) : undefined };
    }
  }

  const results: Record<string, { onnx: PotentialResult[]; seconds: number }> = {};
  for (const precision of ['float64', 'float32'] as const) {
    const pot = (await resolvePotential(model, { precision, threads })) as OnnxPotential;
    const t0 = performance.now();
    const onnx = await pot.evaluate(structures);
    results[precision] = { onnx, seconds: (performance.now() - t0) / 1000 };
    await pot.dispose();
  }
  const t32 = items.map((it) => it.pytorch_float32);
  const t64 = items.map((it) => it.pytorch_float64);
  const byPrecision = Object.fromEntries(
    Object.entries(results).map(([p, r]) => [
      p,
      {
        vs_pytorch_float32: compare(r.onnx, t32, items),
        vs_pytorch_float64: compare(r.onnx, t64, items),
        mae_vs_dft: maeVsDft(r.onnx, dft, items),
        node_seconds: r.seconds,
      },
    ]),
  );
  const shipped = byPrecision['float64']!;
  const atoms = items.map((it) => it.structure.numbers.length);
  const out = {
    description:
      `${model}: ONNX in Node (onnxruntime-node, CPU) vs ${ref0.label} (its own code). Top-level figures: the default ` +
      'float64 ONNX graph vs the PyTorch reference in float32 (as users run it). by_precision gives both ONNX graphs against both ' +
      'PyTorch precisions; pytorch_float32_vs_float64 is the float32 reference\'s own rounding error, which bounds any ' +
      'comparison against it.',
    model,
    command: chgnet ? 'npm run parity:mlip' : `npm run parity:mlip -- --model ${model} --frames-per-file ${args['frames-per-file']} --mattergen ${args.mattergen}`,
    frames: items.length,
    frames_xyz: items.filter((it) => it.kind === 'xyz').length,
    structures_mattergen: items.filter((it) => it.kind === 'cif').length,
    atoms_min: Math.min(...atoms),
    atoms_max: Math.max(...atoms),
    max_abs_force_diff_eV_A: shipped.vs_pytorch_float32.max_abs_force_diff_eV_A,
    max_abs_energy_diff_eV_atom: shipped.vs_pytorch_float32.max_abs_energy_diff_eV_atom,
    max_abs_stress_diff_eV_A3: shipped.vs_pytorch_float32.max_abs_stress_diff_eV_A3,
    mae_vs_dft: { energy: shipped.mae_vs_dft.energy, force: shipped.mae_vs_dft.force, stress: shipped.mae_vs_dft.stress },
    mae_vs_dft_pytorch_float32: maeVsDft(t32, dft, items),
    mae_vs_dft_by_source: Object.fromEntries(
      [...bySource.keys()].map((src) => {
        const keep = (i: number) => items[i]!.source === src;
        const sub = items.filter((_, i) => keep(i));
        return [
          src,
          {
            onnx_float64: maeVsDft(results['float64']!.onnx.filter((_, i) => keep(i)), dft.filter((_, i) => keep(i)), sub),
            pytorch_float32: maeVsDft(t32.filter((_, i) => keep(i)), dft.filter((_, i) => keep(i)), sub),
          },
        ];
      }),
    ),
    pytorch_float32_vs_float64: compare(t32, t64, items),
    note: !chgnet
      ? `The reference is ${ref0.label}. pytorch_float32_vs_float64 is that code's own float32 rounding; the float64 ONNX graph ` +
        'against the float64 reference (by_precision.float64.vs_pytorch_float64) is the export\'s own error. Effect on phonons: a ' +
        'force error dF over the 0.01 A displacement is a force-constant error dF/0.01 eV/A^2.'
      : 'What bounds the float32 comparisons: PyTorch CHGNet float32 differs from the same code in float64 by ' +
      'max_abs_force_diff in pytorch_float32_vs_float64 (float32 rounding amplified by d(acos)/dx = -1/sqrt(1-x^2) ' +
      'at nearly collinear triplets, cos scaled by 1-1e-6). The float64 ONNX graph reproduces PyTorch float64 to ' +
      '~1e-11 eV/A (by_precision.float64.vs_pytorch_float64), so its difference from PyTorch float32 is the float32 ' +
      'reference\'s own error. Effect on phonons: a force error dF over the 0.01 A displacement is a force-constant ' +
      'error dF/0.01 eV/A^2; near-zero modes then read nu ~ 15.633*sqrt(dPhi/m) THz, e.g. dF = 1e-3 eV/A, m = 28 amu: ' +
      '~1 THz of spurious (possibly imaginary) frequency; dF = 1e-5: ~0.1 THz; the float64 graph (dF ~ 1e-11) is clean.',
    by_precision: byPrecision,
    reader_check: { max_abs_cartesian_diff_A: readerMaxPosDiff, note: 'our extxyz reader vs ASE on the same frames' },
    pytorch: {
      ...(ref.chgnet_package ? { chgnet: ref.chgnet_package } : {}),
      ...(ref.matgl ? { matgl: ref.matgl, matgl_backend: ref.matgl_backend } : {}),
      torch: ref.torch,
      seconds: ref.seconds,
      threads,
    },
    // the reference numbers of the first structures, for test/potential-*.test.ts
    test_frames: items.slice(0, 6).map((it) => ({ source: it.source, index: it.index, kind: it.kind, structure: it.structure, pytorch_float32: it.pytorch_float32, pytorch_float64: it.pytorch_float64 })),
    date_utc: new Date().toISOString(),
  };
  const resultName = chgnet ? 'mlip-parity.json' : `mlip-parity-${model}.json`;
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results', resultName), JSON.stringify(out, null, 2) + '\n');

  // parity summary into the model's manifest (does not change the model's checksum)
  const mpath = join(root, 'models', model, 'manifest.json');
  const manifest = JSON.parse(readFileSync(mpath, 'utf8')) as Record<string, unknown>;
  manifest['parity'] = {
    source: `bench/results/${resultName} (${out.command})`,
    date_utc: out.date_utc,
    frames: out.frames,
    float64_vs_pytorch_float32: shipped.vs_pytorch_float32,
    float64_vs_pytorch_float64: shipped.vs_pytorch_float64,
    float32_vs_pytorch_float32: byPrecision['float32']!.vs_pytorch_float32,
    pytorch_float32_vs_float64: out.pytorch_float32_vs_float64,
    mae_vs_dft_float64: out.mae_vs_dft,
  };
  writeFileSync(mpath, JSON.stringify(manifest, null, 2) + '\n');
  console.log(JSON.stringify({ frames: out.frames, shipped: shipped.vs_pytorch_float32, float64_vs_torch64: shipped.vs_pytorch_float64, f32: byPrecision['float32']!.vs_pytorch_float32, torch32_vs_64: out.pytorch_float32_vs_float64, mae: out.mae_vs_dft, mae_torch: out.mae_vs_dft_pytorch_float32 }, null, 1));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
