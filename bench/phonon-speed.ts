// Phonon speed benchmark → bench/results/phonon-speed.json
//   eig_600_ms              eigenvalues of a 600×600 Hermitian dynamical-matrix-like matrix
//   eig_600_vectors_ms      the same with eigenvectors
//   eigen_vs_numpy          (issue 16 item 2) the Hermitian eigen-solver at 3n = 150, 300, 456
//                           (a 152-atom cell), 600, 792 beside numpy's LAPACK in the same run, on
//                           the same matrices (written to a temporary file and read by
//                           tools/reference/eigen_speed.py in tools/.venv): numpy.linalg.eigh
//                           (zheevd, values and vectors) and numpy.linalg.eigvalsh (values only:
//                           what phonopy's band path calls per q) against softmode's values-only
//                           solve (what every classification path uses), softmode with
//                           eigenvectors, and the TypeScript reference solver (the solver before
//                           the WebAssembly kernel). One thread on both sides (OMP/OPENBLAS/MKL
//                           _NUM_THREADS=1; softmode is single-threaded). BENCH_ROUNDS rounds
//                           (default 3), each timing both sides; medians of the per-round
//                           medians and of the per-round ratios. Beside each time its flop
//                           rate (16/3·n³ per solve), and the kernel's register-only f64x2
//                           multiply-add probe: the ceiling of WebAssembly SIMD128 here.
//   band_path_large         the band path (HPKOT q-points + frequencies) of the largest primitive
//                           cells in ../shared/data/dft-phonondb, softmode beside phonopy
//                           (phonon.run_qpoints, eigvalsh per q) in the same run, and softmode with
//                           the TypeScript reference solver (SOFTMODE_EIGEN=js, a child process)
//                           for the largest one.
//   postprocess_20atom_ms   full post-processing of a 20-atom primitive cell, force evaluations
//                           excluded: displacements, force constants (solve, distribution,
//                           symmetrization), dynamical matrix, commensurate q, HPKOT band path,
//                           default mesh, all stability presets, thermodynamics.
// Times are process CPU time (user + system) of this single-threaded code, which equals wall
// time on an unloaded core; the development machine is shared by many jobs, so wall time there
// measures the contention more than the code (it is recorded beside, as *_wall_ms).
// Headline (postprocess_20atom_ms): BaPSe3 (mp-11008, P2_1/c, 20-atom primitive cell, 1×2×1…
// supercell as in phonondb) post-processed from its DFT FORCE_SETS in ../shared/data/dft-phonondb.
// supercell_symmetry_nacl_444: supercell operations + permutations + displacements + force
// constants of a 512-atom NaCl 4×4×4 supercell (conventional 8-atom cell, spring-model forces),
// with the operations derived from the unit cell (default) vs moyo on the whole supercell,
// measured in the same run; the force constants of the two paths are compared.
// Worst case (postprocess_20atom_p1_ms): a 20-atom cell without symmetry (P1: no reduction of
// displacements or mesh), 2×2×2 supercell, forces from a harmonic spring model written here
// (central springs between neighbours closer than 3.6 Å) so the force constants are physical.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPhononModel, computeForceConstants, generateDisplacements, hermitianEigen, makeSupercell, postProcess, type DisplacementForces } from '../core/phonon/index.js';
import { bandPath } from '../core/phonon/bandpath/index.js';
import { eigenKernel, hermitianEigenBackend, hermitianEigenReference } from '../core/phonon/eigen.js';
import { repoRoot } from '../core/paths.js';
import { getSymmetry } from '../core/symmetry/index.js';
import { supercellSymmetry } from '../core/symmetry/supercell-symmetry.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';
import { parsePhonopyConf, readForceSets } from '../core/phonon/phonopy-io.js';
import { readStructureFile } from '../core/structure/io/index.js';
import { parseProcessArgs } from '../cli/lib/args.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** 20 atoms in an orthorhombic-ish triclinic cell, ≥ 1.9 Å apart, deterministic. */
function cell20(): Structure {
  const r = lcg(2024);
  const lattice = [
    [7.6, 0, 0],
    [0.3, 5.9, 0],
    [0.2, -0.25, 5.7],
  ];
  const frac: number[][] = [];
  const cart = (f: number[]): number[] => [0, 1, 2].map((j) => f[0]! * lattice[0]![j]! + f[1]! * lattice[1]![j]! + f[2]! * lattice[2]![j]!);
  while (frac.length < 20) {
    const f = [r(), r(), r()];
    let ok = true;
    for (const g of frac) {
      for (const a of [-1, 0, 1])
        for (const b of [-1, 0, 1])
          for (const c of [-1, 0, 1]) {
            const d = cart([f[0]! - g[0]! + a, f[1]! - g[1]! + b, f[2]! - g[2]! + c]);
            if (Math.hypot(d[0]!, d[1]!, d[2]!) < 1.9) ok = false;
          }
    }
    if (ok) frac.push(f);
  }
  const numbers = frac.map((_, i) => (i % 2 === 0 ? 14 : 8));
  return makeStructure({ lattice, frac, numbers });
}

/**
 * Harmonic central springs between atoms closer than rc: Φ(i,j) = −k r̂r̂ᵀ per bond image.
 * Forces of a supercell with one displaced atom d: F_d = −Σ k r̂r̂ᵀ u, F_j = +k r̂r̂ᵀ u per bond d–j.
 */
function springBonds(s: Structure, rc = 3.6): { i: number; j: number; e: number[] }[] {
  const n = s.numbers.length;
  const L = s.lattice;
  const bonds: { i: number; j: number; e: number[] }[] = [];
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      for (const a of [-1, 0, 1])
        for (const b of [-1, 0, 1])
          for (const c of [-1, 0, 1]) {
            if (i === j && a === 0 && b === 0 && c === 0) continue;
            const f = [s.frac[j]![0]! - s.frac[i]![0]! + a, s.frac[j]![1]! - s.frac[i]![1]! + b, s.frac[j]![2]! - s.frac[i]![2]! + c];
            const d = [0, 1, 2].map((t) => f[0]! * L[0][t]! + f[1]! * L[1][t]! + f[2]! * L[2][t]!);
            const r = Math.hypot(d[0]!, d[1]!, d[2]!);
            if (r <= rc) bonds.push({ i, j, e: d.map((x) => x / r) });
          }
  return bonds;
}

function springForces(n: number, bonds: { i: number; j: number; e: number[] }[], atom: number, u: readonly number[], k = 5): number[][] {
  const F = Array.from({ length: n }, () => [0, 0, 0]);
  for (const b of bonds) {
    if (b.i !== atom) continue;
    const p = b.e[0]! * u[0]! + b.e[1]! * u[1]! + b.e[2]! * u[2]!;
    for (let t = 0; t < 3; t++) {
      F[atom]![t] = F[atom]![t]! - k * p * b.e[t]!;
      F[b.j]![t] = F[b.j]![t]! + k * p * b.e[t]!;
    }
  }
  return F;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function benchEig(n: number, vectors: boolean, repeats: number): number {
  const { re, im } = randomHermitian(n, 7);
  hermitianEigen(re, im, n, vectors); // warm-up (JIT)
  const ts: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const c0 = process.cpuUsage();
    hermitianEigen(re, im, n, vectors);
    const c = process.cpuUsage(c0);
    ts.push((c.user + c.system) / 1000);
  }
  return median(ts);
}

function p1Case(): { unit: Structure; S: number[][]; sets: DisplacementForces[] } {
  const unit = cell20();
  const S = [
    [2, 0, 0],
    [0, 2, 0],
    [0, 0, 2],
  ];
  const sc = makeSupercell(unit, S).structure;
  // force evaluations (excluded from the timing)
  const bonds = springBonds(sc);
  const sets: DisplacementForces[] = generateDisplacements(sc).map((d) => ({
    atom: d.atom,
    displacement: d.displacement,
    forces: springForces(sc.numbers.length, bonds, d.atom, d.displacement),
  }));
  return { unit, S, sets };
}

/** phonondb archive (DFT forces) → unit cell, DIM, primitive axes, force sets; null if absent. */
function phonondbCase(id: string): { unit: Structure; S: number[][]; P?: number[][]; sets: DisplacementForces[]; name: string } | null {
  const dir = resolve(repoRoot(), '..', 'shared', 'data', 'dft-phonondb');
  if (!existsSync(dir)) return null;
  const file = readdirSync(dir).find((f) => f.startsWith(`materials-id-${id}-`));
  if (!file) return null;
  const tmp = mkdtempSync(join(tmpdir(), 'phonon-bench-'));
  try {
    execFileSync('tar', ['--lzma', '-xf', join(dir, file), '-C', tmp]);
    const sub = join(tmp, readdirSync(tmp)[0]!);
    const conf = parsePhonopyConf(readFileSync(join(sub, 'phonopy.conf'), 'utf8'));
    return {
      unit: readStructureFile(join(sub, 'POSCAR-unitcell'))[0]!,
      S: conf.supercellMatrix!,
      ...(conf.primitiveMatrix ? { P: conf.primitiveMatrix } : {}),
      sets: readForceSets(join(sub, 'FORCE_SETS')).sets,
      name: file,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function benchPostprocess(input: { unit: Structure; S: number[][]; P?: number[][]; sets: DisplacementForces[] }, repeats: number): { ms: number; detail: Record<string, unknown> } {
  const { unit, S, sets } = input;
  const scFull = makeSupercell(unit, S);
  const sc = scFull.structure;
  const ts: number[] = [];
  const walls: number[] = [];
  let detail: Record<string, unknown> = {};
  for (let k = 0; k <= repeats; k++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    // displacement generation is part of post-processing (supercell operations from the unit cell)
    const disps2 = generateDisplacements(scFull, { unitcell: unit });
    const r = postProcess({ unitcell: unit, supercellMatrix: S, ...(input.P ? { primitiveMatrix: input.P } : {}), displacements: sets });
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const ms = (c.user + c.system) / 1000;
    if (k > 0) {
      // first run warms up the JIT
      ts.push(ms);
      walls.push(wall);
    }
    detail = {
      displacements: disps2.length,
      primitive_atoms: r.model.primitive.numbers.length,
      supercell_atoms: sc.numbers.length,
      commensurate_q: r.commensurate.qpoints.length,
      band_q: r.band?.segments.reduce((a, s) => a + s.qpoints.length, 0) ?? 0,
      band_note: r.band?.note ?? null,
      mesh: r.mesh?.mesh,
      mesh_irreducible_q: r.mesh?.qpoints.length,
      label_full_bz: r.classification['full-bz']?.label,
      min_frequency_THz: r.classification['full-bz']?.min.frequency,
      stages_ms: r.timingsMs,
    };
  }
  return { ms: median(ts), detail: { ...detail, wall_ms: median(walls) } };
}

function cpuMs<T>(f: () => T): { value: T; ms: number; wall_ms: number } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = f();
  const c = process.cpuUsage(c0);
  return { value, ms: +((c.user + c.system) / 1000).toFixed(1), wall_ms: +(performance.now() - t0).toFixed(1) };
}

/** NaCl 4×4×4 (512 atoms): supercell symmetry from the unit cell vs moyo on the supercell. */
function benchSupercellSymmetry(): Record<string, unknown> {
  const a = 5.69;
  const fcc = [
    [0, 0, 0],
    [0, 0.5, 0.5],
    [0.5, 0, 0.5],
    [0.5, 0.5, 0],
  ];
  const unit = makeStructure({
    lattice: [
      [a, 0, 0],
      [0, a, 0],
      [0, 0, a],
    ],
    frac: [...fcc, ...fcc.map((p) => p.map((x) => (x + 0.5) % 1))],
    numbers: [11, 11, 11, 11, 17, 17, 17, 17],
  });
  const sc = makeSupercell(unit, [
    [4, 0, 0],
    [0, 4, 0],
    [0, 0, 4],
  ]);
  const s = sc.structure;
  supercellSymmetry(unit, makeSupercell(unit, [[2, 0, 0], [0, 2, 0], [0, 0, 2]])); // warm-up (JIT, moyo load)
  const derivedSym = cpuMs(() => supercellSymmetry(unit, sc));
  const directSym = cpuMs(() => getSymmetry(s));
  const bonds = springBonds(s);
  const withForces = (d: { atom: number; displacement: [number, number, number] }[]): DisplacementForces[] =>
    d.map((x) => ({ ...x, forces: springForces(s.numbers.length, bonds, x.atom, x.displacement) }));
  // whole symmetry-dependent part: operations, displacements, force constants (forces excluded)
  const derivedAll = cpuMs(() => {
    const sym = supercellSymmetry(unit, sc);
    const disps = generateDisplacements(s, { operations: sym.operations, equivalentAtoms: sym.equivalentAtoms });
    return { disps, sym };
  });
  const sets = withForces(derivedAll.value.disps);
  const derivedFc = cpuMs(() => computeForceConstants(s, sets, { symmetry: derivedAll.value.sym }));
  const directAll = cpuMs(() => {
    const sym = getSymmetry(s);
    return { disps: generateDisplacements(s, { operations: sym.operations, equivalentAtoms: sym.equivalentAtoms }), ops: sym.operations };
  });
  const directFc = cpuMs(() => computeForceConstants(s, sets, { operations: directAll.value.ops }));
  let maxDiff = 0;
  derivedFc.value.data.forEach((x, k) => (maxDiff = Math.max(maxDiff, Math.abs(x - directFc.value.data[k]!))));
  const sameDisps = JSON.stringify(derivedAll.value.disps) === JSON.stringify(directAll.value.disps);
  return {
    case: 'NaCl conventional cell (a = 5.69 Å) 4×4×4 = 512 atoms, spring-model forces',
    operations: derivedSym.value.operations.length,
    displacements: sets.length,
    symmetry_from_unitcell_ms: derivedSym.ms,
    symmetry_direct_moyo_ms: directSym.ms,
    symmetry_from_unitcell_wall_ms: derivedSym.wall_ms,
    symmetry_direct_moyo_wall_ms: directSym.wall_ms,
    displacements_plus_fc_from_unitcell_ms: +(derivedAll.ms + derivedFc.ms).toFixed(1),
    displacements_plus_fc_direct_ms: +(directAll.ms + directFc.ms).toFixed(1),
    same_displacements: sameDisps,
    same_operation_order: derivedSym.value.operations.every((op, k) => {
      const q = directSym.value.operations[k]!;
      return JSON.stringify(op.rotation) === JSON.stringify(q.rotation) && op.translation.every((t, i) => Math.abs(((t - q.translation[i]! + 0.5) % 1 + 1) % 1 - 0.5) < 1e-6);
    }),
    fc_max_abs_diff: maxDiff,
  };
}

function randomHermitian(n: number, seed: number): { re: Float64Array; im: Float64Array } {
  const r = lcg(seed);
  const re = new Float64Array(n * n);
  const im = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      const a = r() - 0.5;
      const b = i === j ? 0 : r() - 0.5;
      re[i * n + j] = a;
      re[j * n + i] = a;
      im[i * n + j] = b;
      im[j * n + i] = -b;
    }
  return { re, im };
}

function cpuOf(f: () => void): number {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

const round3 = (x: number): number => +x.toFixed(3);

/** tools/.venv python (installed by tools/reference/ensure-venv.sh on first use), or the reason not. */
function referencePython(): { py: string } | { error: string } {
  const r = spawnSync(join(repoRoot(), 'tools', 'reference', 'ensure-venv.sh'), ['phonondb'], { encoding: 'utf8' });
  if (r.status !== 0) return { error: `tools/reference/ensure-venv.sh failed: ${(r.stderr || '').trim().split('\n').pop()}` };
  return { py: r.stdout.trim() };
}

const ONE_THREAD = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

function runPython(py: string, args: string[]): unknown {
  const script = join(repoRoot(), 'tools', 'reference', 'eigen_speed.py');
  const out = execFileSync(py, [script, ...args], { encoding: 'utf8', env: { ...process.env, ...ONE_THREAD }, maxBuffer: 1 << 28 });
  return JSON.parse(out);
}

interface NumpyRow {
  n: number;
  eigh_ms: number;
  eigvalsh_ms: number;
  values: number[];
}

/** Eigen-solve times at each size, softmode and numpy side by side, BENCH_ROUNDS rounds. */
function benchEigenVsNumpy(sizes: number[], rounds: number): Record<string, unknown> {
  const py = referencePython();
  const mats = sizes.map((n) => ({ n, ...randomHermitian(n, 1000 + n) }));
  const dir = mkdtempSync(join(tmpdir(), 'eigen-speed-'));
  try {
    for (const m of mats) {
      const z = new Float64Array(2 * m.n * m.n);
      for (let k = 0; k < m.n * m.n; k++) {
        z[2 * k] = m.re[k]!;
        z[2 * k + 1] = m.im[k]!;
      }
      writeFileSync(join(dir, `m${m.n}.bin`), Buffer.from(z.buffer));
    }
    // warm-up (JIT, wasm tier-up) on every size and path
    for (const m of mats) {
      hermitianEigen(m.re, m.im, m.n);
      hermitianEigen(m.re, m.im, m.n, true);
      hermitianEigenReference(m.re, m.im, m.n);
    }
    const reps = (n: number): number => (n <= 300 ? 7 : 3);
    const perRound: { sm: Record<number, { values_ms: number; vectors_ms: number; reference_values_ms: number }>; np: NumpyRow[] | null }[] = [];
    let numpyInfo: unknown = null;
    let numpyError: string | null = 'error' in py ? py.error : null;
    for (let r = 0; r < rounds; r++) {
      const sm: (typeof perRound)[number]['sm'] = {};
      for (const m of mats) {
        const t = (f: () => void, k: number): number => median(Array.from({ length: k }, () => cpuOf(f)));
        sm[m.n] = {
          values_ms: t(() => hermitianEigen(m.re, m.im, m.n), reps(m.n)),
          vectors_ms: t(() => hermitianEigen(m.re, m.im, m.n, true), reps(m.n)),
          reference_values_ms: t(() => hermitianEigenReference(m.re, m.im, m.n), m.n <= 300 ? 3 : 1),
        };
      }
      let np: NumpyRow[] | null = null;
      if ('py' in py) {
        try {
          const res = runPython(py.py, ['eigen', dir, String(Math.max(3, reps(600)))]) as { numpy: unknown; sizes: NumpyRow[] };
          numpyInfo = res.numpy;
          np = res.sizes;
        } catch (e) {
          numpyError = (e as Error).message.split('\n')[0]!;
        }
      }
      perRound.push({ sm, np });
    }
    const rows = mats.map((m) => {
      const sm = perRound.map((p) => p.sm[m.n]!);
      const np = perRound.map((p) => p.np?.find((x) => x.n === m.n) ?? null).filter((x): x is NumpyRow => x !== null);
      const med = (xs: number[]): number | null => (xs.length ? round3(median(xs)) : null);
      const ratio = (a: (i: number) => number, b: (i: number) => number): number | null =>
        np.length === perRound.length ? med(perRound.map((_, i) => a(i) / b(i))) : null;
      // agreement of the eigenvalues: kernel vs numpy (LAPACK) and vs the reference solver
      const w = hermitianEigen(m.re, m.im, m.n).values;
      const ref = hermitianEigenReference(m.re, m.im, m.n).values;
      let scale = 0;
      let dRef = 0;
      let dNp = 0;
      for (let k = 0; k < m.n; k++) {
        scale = Math.max(scale, Math.abs(ref[k]!));
        dRef = Math.max(dRef, Math.abs(w[k]! - ref[k]!));
        if (np[0]) dNp = Math.max(dNp, Math.abs(w[k]! - np[0].values[k]!));
      }
      return {
        n: m.n,
        softmode_values_ms: med(sm.map((x) => x.values_ms)),
        softmode_vectors_ms: med(sm.map((x) => x.vectors_ms)),
        softmode_reference_ts_values_ms: med(sm.map((x) => x.reference_values_ms)),
        numpy_eigh_ms: med(np.map((x) => x.eigh_ms)),
        numpy_eigvalsh_ms: med(np.map((x) => x.eigvalsh_ms)),
        ratio_values_vs_eigh: ratio((i) => sm[i]!.values_ms, (i) => np[i]!.eigh_ms),
        ratio_values_vs_eigvalsh: ratio((i) => sm[i]!.values_ms, (i) => np[i]!.eigvalsh_ms),
        ratio_vectors_vs_eigh: ratio((i) => sm[i]!.vectors_ms, (i) => np[i]!.eigh_ms),
        ratio_reference_ts_values_vs_eigh: ratio((i) => sm[i]!.reference_values_ms, (i) => np[i]!.eigh_ms),
        // the reduction's arithmetic (LAPACK's count for xHETRD: 16/3·n³ real flops) per second of
        // the whole values-only solve, each side
        softmode_values_gflops: gflops(m.n, med(sm.map((x) => x.values_ms))),
        numpy_eigvalsh_gflops: gflops(m.n, med(np.map((x) => x.eigvalsh_ms))),
        max_abs_diff_values_vs_numpy_rel: np[0] ? +(dNp / scale).toExponential(2) : null,
        max_abs_diff_values_vs_reference_ts_rel: +(dRef / scale).toExponential(2),
        rounds: { softmode: sm, numpy: np.map((x) => ({ eigh_ms: round3(x.eigh_ms), eigvalsh_ms: round3(x.eigvalsh_ms) })) },
      };
    });
    return {
      matrices: 'random Hermitian (entries uniform in ±0.5, LCG seed 1000 + n), the same bytes on both sides',
      softmode_backend: hermitianEigenBackend(),
      time_basis: 'process CPU time; softmode single-threaded (JS + one WebAssembly instance); numpy time.process_time with OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=1',
      rounds,
      repeats_per_round: 'softmode: 7 (n <= 300) or 3 solves, median; reference TS: 3 or 1; numpy: 3+ after a warm-up, median',
      ratio_note: 'ratio = softmode / numpy (< 1: softmode faster), median over rounds of the per-round ratio. values = eigenvalues only (every classification path: commensurate q, band path, mesh); phonopy\'s band path calls eigvalsh per q',
      numpy: numpyInfo,
      ...(numpyError ? { numpy_error: numpyError } : {}),
      simd128_peak_gflops: simdPeakGflops(),
      gflops_note:
        'gflops = 16/3·n³ (the Householder reduction, LAPACK\'s flop count for xHETRD, which dominates both solves) / the whole values-only time. simd128_peak_gflops: the kernel\'s register-only probe (12 independent f64x2 x·c₁ + c₂ chains, no memory; WebAssembly SIMD128 has no fused multiply-add): the ceiling of any WebAssembly kernel in this engine on this core. Where numpy_eigvalsh_gflops comes near or above it, ratio ≤ 1.0 needs more than that ceiling (AVX-512 FMA on numpy\'s side).',
      sizes: rows,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function gflops(n: number, ms: number | null): number | null {
  return ms === null || ms <= 0 ? null : round3(((16 / 3) * n ** 3) / (ms * 1e6));
}

/** The kernel's f64x2 multiply-add throughput probe, GFlop/s (median of 5, after tier-up). */
function simdPeakGflops(): number | null {
  const k = eigenKernel();
  if (!k) return null;
  // warm-up calls: V8 tiers a WebAssembly function up between calls, not inside a running loop
  for (let i = 0; i < 20; i++) k.simd_peak(200_000, 1.5);
  const iters = 10_000_000;
  const runs = Array.from({ length: 5 }, () => cpuOf(() => k.simd_peak(iters, 1.5)));
  return round3((48 * iters) / (median(runs) * 1e6));
}

/** softmode's band path (HPKOT q-points + frequencies) of one phonondb archive, CPU ms. */
function softmodeBand(input: { unit: Structure; S: number[][]; P?: number[][]; sets: DisplacementForces[] }): { ms: number; q: number; atoms: number; min: number } {
  const model = buildPhononModel({ unitcell: input.unit, supercellMatrix: input.S, ...(input.P ? { primitiveMatrix: input.P } : {}), displacements: input.sets });
  let q = 0;
  let min = Infinity;
  const ms = cpuOf(() => {
    const bp = bandPath(model.primitive, {});
    const qs = bp.segments.flatMap((sg) => sg.qpoints);
    q = qs.length;
    for (const f of model.dynmat.frequenciesAt(qs)) min = Math.min(min, f[0]!);
  });
  return { ms, q, atoms: model.primitive.numbers.length, min };
}

/** Band paths of the largest phonondb primitive cells, softmode beside phonopy. */
function benchBandLarge(ids: string[], beforeId: string | null, rounds: number): Record<string, unknown> {
  const dir = resolve(repoRoot(), '..', 'shared', 'data', 'dft-phonondb');
  if (!existsSync(dir)) return { note: 'phonondb archives not available (../shared missing)' };
  const py = referencePython();
  const cells = ids.map((id) => {
    const c = phonondbCase(id);
    if (!c) return { id, error: 'archive not found' };
    softmodeBand(c); // warm-up (JIT) on the same cell
    // rounds: softmode, then phonopy, side by side
    const sm: ReturnType<typeof softmodeBand>[] = [];
    const ph: { band_solve_s: number; band_q: number; primitive_atoms: number; band_min_THz: number; phonopy: string }[] = [];
    let phonopyError: string | null = 'error' in py ? py.error : null;
    for (let r = 0; r < rounds; r++) {
      sm.push(softmodeBand(c));
      if ('py' in py)
        try {
          ph.push(runPython(py.py, ['band', join(dir, c.name), '1']) as (typeof ph)[number]);
        } catch (e) {
          phonopyError = (e as Error).message.split('\n')[0]!;
        }
    }
    const smS = sm.map((x) => x.ms / 1000);
    const row: Record<string, unknown> = {
      id: `mp-${id}`,
      archive: c.name,
      primitive_atoms: sm[0]!.atoms,
      dim: 3 * sm[0]!.atoms,
      band_q: sm[0]!.q,
      softmode_band_s: round3(median(smS)),
      softmode_band_s_rounds: smS.map(round3),
      softmode_band_min_THz: sm[0]!.min,
      phonopy: ph.length
        ? { version: ph[0]!.phonopy, band_solve_s: round3(median(ph.map((x) => x.band_solve_s))), band_solve_s_rounds: ph.map((x) => round3(x.band_solve_s)), band_q: ph[0]!.band_q, primitive_atoms: ph[0]!.primitive_atoms, band_min_THz: ph[0]!.band_min_THz }
        : { error: phonopyError },
      ratio_softmode_vs_phonopy: ph.length === rounds ? round3(median(smS.map((x, i) => x / ph[i]!.band_solve_s))) : null,
    };
    if (id === beforeId) {
      // the same band path with the TypeScript solver (the solver before the kernel), in a child
      // process with SOFTMODE_EIGEN=js; once (it takes ~40 s)
      const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { encoding: 'utf8', env: { ...process.env, SOFTMODE_EIGEN: 'js', BENCH_BAND_ONLY: id }, maxBuffer: 1 << 24 });
      const m = /BAND_ONLY (\{.*\})/.exec(child.stdout ?? '');
      row.softmode_band_reference_ts_solver_s = m ? round3((JSON.parse(m[1]!) as { ms: number }).ms / 1000) : `failed: ${(child.stderr ?? '').slice(-200)}`;
    }
    return row;
  });
  return {
    what: 'band path (HPKOT, 101 points on the longest segment): q-points + frequencies at every q; model (force constants) excluded on both sides; CPU time, one thread; BENCH_ROUNDS rounds side by side, medians (ratio: median of the per-round ratios)',
    note_152_atoms: 'no archive in ../shared/data/dft-phonondb has a 152-atom primitive cell: the largest are mp-24560 (88 atoms, 1100 band q), mp-662599 and mp-8878 (84), mp-14493, mp-5965, mp-6527 (80); the eigen-solve at 3n = 456 (a 152-atom cell) is in eigen_vs_numpy',
    cells,
  };
}

if (process.env.BENCH_BAND_ONLY) {
  // child of benchBandLarge: one band path with the solver SOFTMODE_EIGEN chose
  const c = phonondbCase(process.env.BENCH_BAND_ONLY);
  if (!c) process.exit(1);
  const r = softmodeBand(c);
  console.log(`BAND_ONLY ${JSON.stringify({ ...r, backend: hermitianEigenBackend() })}`);
  process.exit(0);
}

parseProcessArgs('bench:phonon', {}); // no options (BENCH_REPEATS=N in the environment): -h, and an unknown one is an error
const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 2));
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const eigenVsNumpy = benchEigenVsNumpy([150, 300, 456, 600, 792], ROUNDS);
const bandLarge = benchBandLarge(['24560', '14493'], '24560', ROUNDS);
const symCase = benchSupercellSymmetry();
const eig600 = benchEig(600, false, REPEATS + 1);
const eig600v = benchEig(600, true, REPEATS);
const p1 = benchPostprocess(p1Case(), REPEATS);
const real = phonondbCase('11008');
const pp = real ? { ...benchPostprocess(real, REPEATS), name: real.name } : null;
const result = {
  benchmark: 'phonon-speed',
  date: new Date().toISOString(),
  node: process.version,
  time_basis: 'process CPU time (single thread); *_wall_ms beside it',
  eig_600_ms: +eig600.toFixed(1),
  eig_600_vectors_ms: +eig600v.toFixed(1),
  eigen_backend: hermitianEigenBackend(),
  eigen_vs_numpy: eigenVsNumpy,
  band_path_large: bandLarge,
  postprocess_20atom_ms: pp ? +pp.ms.toFixed(1) : null,
  postprocess_20atom: pp ? { case: pp.name, ...pp.detail } : 'phonondb archive not available (../shared missing)',
  postprocess_20atom_p1_ms: +p1.ms.toFixed(1),
  postprocess_20atom_p1: { case: 'synthetic P1 20-atom cell, spring-model forces', ...p1.detail },
  supercell_symmetry_nacl_444: symCase,
  targets: { eig_600_ms: 1000, postprocess_20atom_ms: 2000, eigen_ratio_vs_numpy: 1.0, band_path_152_atoms_s: 15 },
};
const repo = repoRoot();
const out = join(repo, 'bench', 'results', 'phonon-speed.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
console.log(JSON.stringify(result, null, 1));
