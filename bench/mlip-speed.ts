// ML-potential speed: ms per evaluation (energy + forces + stress) of an exported model (default
// CHGNet 0.3.0) as ONNX in Node (onnxruntime-node, CPU) vs its own PyTorch code eager, same
// machine, same run, equal threads.
//
//   npm run bench:mlip
//   npm run bench:mlip -- --model m3gnet-mp-2021.2.8 --threads 1 --sizes 8,64,216
//   node dist/bench/mlip-speed.js [--model M] [--threads 1,2] [--sizes 8,64,216,512] [--reps 3]
//
// The PyTorch side is the model's reference (bench/mlip-reference.ts): CHGNet's
// tools/export/chgnet_speed.py, the matgl models' tools/export/matgl_speed.py (matgl 2.0.4 in
// float32, one structure per call as its ASE calculator runs). Writes bench/results/mlip-speed.json
// (CHGNet) or mlip-speed-<model>.json.
//
// Cells: diamond Si supercells (1³, 2³, 3³, 4³ conventional cells = 8, 64, 216, 512 atoms),
// rattled 0.03 Å (fixed seed); a batch holds differently rattled copies. For each case:
//   onnx_ms   OnnxPotential.evaluate(batch) per call: TS graph build + onnxruntime run + unpack
//   torch_ms  CHGNet.predict_structure(batch, task='efs') per call: pymatgen/cython graph +
//             eager forward + autograd forces/stress (tools/export/chgnet_speed.py)
//   ratio     torch_ms / onnx_ms (> 1: ONNX faster)
// plus the model-only parts (onnx_run_ms on prebuilt graphs, torch_forward_ms on prebuilt
// CrystalGraphs / matgl graphs). PyTorch runs float32 (as users run it); ONNX runs both graphs.
// Medians of `reps` calls after a warm-up. Writes bench/results/mlip-speed.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';
import { type OnnxPotential, resolvePotential } from '../core/potential/index.js';
import { repoRoot } from '../core/paths.js';
import { pytorchReference, referencePython } from './mlip-reference.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';

const root = repoRoot();
const { values: args } = parseProcessArgs('bench:mlip', {
  model: { kind: 'string', default: 'chgnet-0.3.0', help: 'model name (default chgnet-0.3.0)' },
  threads: { kind: 'list', item: 'int', min: 1, default: [1, 2], metavar: '1,2', help: 'thread counts (default 1,2)' },
  sizes: { kind: 'list', item: 'int', min: 1, default: [8, 64, 216, 512], metavar: '8,64,...', help: 'cell sizes in atoms: 8, 64, 216, 512 (default all)' },
  reps: { kind: 'positive-int', default: 2, help: 'timed calls per case after the warm-up (default 2)' },
} as const satisfies OptionsSpec);
const threadList = args.threads;
const sizes = args.sizes;
const reps = args.reps;
const BATCH: Record<number, number> = { 8: 8, 64: 8, 216: 4, 512: 2 };

/** Deterministic normal deviates (mulberry32 + Box-Muller). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  const uni = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uni())) * Math.cos(2 * Math.PI * uni());
}

function siliconSupercell(atoms: number, seed: number): Structure {
  const n = Math.round(Math.cbrt(atoms / 8));
  if (8 * n ** 3 !== atoms) throw new Error(`${atoms} is not 8·n³`);
  const a = 5.43;
  const basis = [[0, 0, 0], [0.25, 0.25, 0.25], [0.5, 0.5, 0], [0.75, 0.75, 0.25], [0.5, 0, 0.5], [0.75, 0.25, 0.75], [0, 0.5, 0.5], [0.25, 0.75, 0.75]];
  const g = rng(seed);
  const cart: number[][] = [];
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      for (let k = 0; k < n; k++)
        for (const b of basis) cart.push([(b[0]! + i) * a + 0.03 * g(), (b[1]! + j) * a + 0.03 * g(), (b[2]! + k) * a + 0.03 * g()]);
  return makeStructure({ lattice: [[n * a, 0, 0], [0, n * a, 0], [0, 0, n * a]], cart, numbers: cart.map(() => 14), name: `Si${atoms}` });
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timeIt(fn: () => Promise<unknown> | unknown, n: number): Promise<number> {
  await fn();
  const ts: number[] = [];
  for (let r = 0; r < n; r++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

interface CaseSpec {
  atoms: number;
  batch: number;
  threads: number;
  reps: number;
  structures: Structure[];
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const specs: CaseSpec[] = [];
  for (const threads of threadList)
    for (const atoms of sizes)
      for (const batch of [1, BATCH[atoms] ?? 2]) {
        const structures = Array.from({ length: batch }, (_, b) => siliconSupercell(atoms, 1000 * atoms + b));
        specs.push({ atoms, batch, threads, reps: atoms * batch >= 1024 ? Math.max(1, reps - 1) : reps, structures });
      }

  // PyTorch side first, same run
  const cacheDir = join(root, 'tools/export/.cache');
  mkdirSync(cacheDir, { recursive: true });
  const casesPath = join(cacheDir, 'mlip-speed-cases.json');
  const torchPath = join(cacheDir, 'mlip-speed-torch.json');
  writeFileSync(
    casesPath,
    JSON.stringify({
      cases: specs.map((c) => ({
        atoms: c.atoms,
        batch: c.batch,
        threads: c.threads,
        reps: c.reps,
        structures: c.structures.map((s) => ({ lattice: s.lattice, frac: s.frac, numbers: s.numbers })),
      })),
    }),
  );
  const model = args.model;
  const chgnet = model === 'chgnet-0.3.0';
  const ref = pytorchReference(model);
  if (!ref.speed) throw new Error(`the PyTorch reference of ${model} has no speed script`);
  execFileSync(referencePython(ref), [join(root, ref.speed), ...ref.args, casesPath, torchPath], { stdio: 'inherit' });
  const torch = JSON.parse(readFileSync(torchPath, 'utf8')) as { torch: string; reference?: string; cases: { atoms: number; batch: number; threads: number; total_ms: number; forward_ms: number }[] };

  const cases: Record<string, unknown>[] = [];
  for (const precision of ['float32', 'float64'] as const)
    for (const threads of threadList) {
      const pot = (await resolvePotential(model, { precision, threads })) as OnnxPotential;
      for (const c of specs.filter((x) => x.threads === threads)) {
        const onnxMs = await timeIt(() => pot.evaluate(c.structures), c.reps);
        const graphs = pot.buildGraphs(c.structures);
        const graphMs = await timeIt(() => pot.buildGraphs(c.structures), c.reps);
        const runMs = await timeIt(() => pot.evaluateGraphs(graphs), c.reps);
        const t = torch.cases.find((x) => x.atoms === c.atoms && x.batch === c.batch && x.threads === c.threads)!;
        const row = {
          atoms: c.atoms,
          batch: c.batch,
          threads,
          precision,
          onnx_ms: onnxMs,
          torch_ms: t.total_ms,
          ratio: t.total_ms / onnxMs,
          onnx_graph_ms: graphMs,
          onnx_run_ms: runMs,
          torch_forward_ms: t.forward_ms,
          ratio_model_only: t.forward_ms / runMs,
          edges: graphs.reduce((a, g) => a + pot.strategy.sizeOf(g).edges, 0),
          triplets: graphs.reduce((a, g) => a + pot.strategy.sizeOf(g).triplets, 0),
        };
        cases.push(row);
        console.log(JSON.stringify(row));
      }
      await pot.dispose();
    }
  const out = {
    description:
      `${model}: ms per evaluation (energy+forces+stress) per call of \`batch\` structures; ratio = torch_ms / onnx_ms (>1: ONNX faster). ` +
      `${ref.label} eager runs float32; precision names the ONNX graph. Same machine, same run, equal thread counts.`,
    model,
    command: chgnet ? 'npm run bench:mlip' : `npm run bench:mlip -- --model ${model} --threads ${threadList.join(',')} --sizes ${sizes.join(',')} --reps ${reps}`,
    note: (chgnet ? '' : `PyTorch side: ${torch.reference ?? ref.label}. `) +
      'This machine has 2 cores shared with other jobs (see machine.loadavg): the threads=2 PyTorch figures are ' +
      'inflated by OpenMP oversubscription and should be read with care; threads=1 is the fair comparison here. ' +
      (chgnet ? '' : 'The PyTorch side evaluates the structures of a batch one after another (matgl\'s calculator). ') +
      (!chgnet ? '' : 'Per-operator profile of the ONNX graph: bench/results/mlip-onnx-profile.json (tools/export/profile_onnx.py): ' +
      'ScatterElements (segment sums of the forward pass and the backward of every gather) dominates, then Gemm and ' +
      'element-wise Mul. The float64 graph costs ~2-3x the float32 one.'),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg_start: load0, loadavg_end: loadavg() },
    torch: torch.torch,
    ...(torch.reference ? { pytorch_reference: torch.reference } : {}),
    onnxruntime_node: JSON.parse(readFileSync(join(root, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version as string,
    cases,
    date_utc: new Date().toISOString(),
  };
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results', chgnet ? 'mlip-speed.json' : `mlip-speed-${model}.json`), JSON.stringify(out, null, 2) + '\n');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
