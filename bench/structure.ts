// Structure-layer benchmark: CIF parse rate, neighbour list at 10^3 / 10^4 atoms (6 Å),
// canonical hash and matcher rates, and dedup of the MatterGen set (450 files).
//
//   npm run bench:structure            (= npm run build && node dist/bench/structure.js)
//
// Writes bench/results/structure.json. Headline times are wall-clock medians of repeated runs
// (after a warm-up run) on one thread; `details.*_cpu_ms` are the CPU times of the same runs,
// which are the better number on a shared, oversubscribed machine.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { STRUCTURE_DEFAULTS } from '../config/structure.js';
import { neighbourList } from '../core/neighbours/index.js';
import { repoRoot } from '../core/paths.js';
import { dedupStructures } from '../core/structure/dedup.js';
import { structureHash } from '../core/structure/hash.js';
import { readStructureFile } from '../core/structure/io/index.js';
import { StructureMatcher } from '../core/structure/matcher.js';
import { makeStructure, type Structure } from '../core/structure/structure.js';
import { mulberry32 } from '../core/math/random.js';
import { parseProcessArgs } from '../cli/lib/args.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Wall-clock ms of each run; CPU ms (user+system of this process) collected in `cpu`. */
function timeIt(fn: () => void, repeats: number, cpu?: number[]): number[] {
  const out: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu?.push((c.user + c.system) / 1000);
  }
  return out;
}


/**
 * n atoms at 0.08 atoms/Å³ (a typical oxide density) in a moderately skewed cell, placed on a
 * jittered grid so no two atoms are unphysically close.
 */
function denseStructure(n: number, seed: number): Structure {
  const rnd = mulberry32(seed);
  const side = Math.cbrt(n / 0.08);
  const k = Math.ceil(Math.cbrt(n));
  const frac: number[][] = [];
  for (let i = 0; i < k && frac.length < n; i++)
    for (let j = 0; j < k && frac.length < n; j++)
      for (let l = 0; l < k && frac.length < n; l++) frac.push([(i + 0.5 + 0.3 * (rnd() - 0.5)) / k, (j + 0.5 + 0.3 * (rnd() - 0.5)) / k, (l + 0.5 + 0.3 * (rnd() - 0.5)) / k]);
  return makeStructure({
    lattice: [[side, 0, 0], [0.25 * side, side, 0], [-0.15 * side, 0.2 * side, side]],
    frac,
    numbers: frac.map((_, i) => (i % 3 === 0 ? 14 : 8)),
  });
}

function main(): void {
  const root = repoRoot();
  const mattergen = resolve(root, '..', 'shared', 'data', 'structures', 'mattergen');
  const files: string[] = [];
  for (const d of readdirSync(mattergen).sort()) for (const f of readdirSync(join(mattergen, d)).sort()) if (f.endsWith('.cif')) files.push(join(mattergen, d, f));
  let structures: Structure[] = [];

  // CIF parse rate: all 450 MatterGen files, 3 passes
  const cifCpu: number[] = [];
  const cifMs = timeIt(() => {
    structures = files.map((f) => readStructureFile(f)[0]!);
  }, 3, cifCpu);
  const cifFilesPerS = files.length / (median(cifMs) / 1000);

  // neighbour lists at 6 Å
  const nl: Record<string, { ms: number; cpuMs: number; pairs: number; atoms: number }> = {};
  for (const [n, reps] of [[1000, 7], [10000, 3]] as const) {
    const s = denseStructure(n, n);
    let pairs = 0;
    neighbourList(s, 6); // warm-up (JIT)
    const cpu: number[] = [];
    const ms = timeIt(() => {
      pairs = neighbourList(s, 6).centers.length;
    }, reps, cpu);
    nl[String(n)] = { ms: median(ms), cpuMs: median(cpu), pairs, atoms: n };
  }

  // hash and matcher rates on the MatterGen structures
  const hashMs = timeIt(() => {
    for (const s of structures) structureHash(s);
  }, 1)[0]!;
  const sm = new StructureMatcher();
  const reduced = structures.map((s) => sm.reduce(s));
  // each P1 file against its _symmetrized twin
  const twinPairs: [number, number][] = [];
  files.forEach((f, i) => {
    if (!f.endsWith('_symmetrized.cif')) twinPairs.push([i, files.indexOf(f.replace(/\.cif$/, '_symmetrized.cif'))]);
  });
  let fits = 0;
  const fitMs = timeIt(() => {
    for (const [i, j] of twinPairs) if (j >= 0 && sm.fitReduced(reduced[i]!, reduced[j]!)) fits++;
  }, 1)[0]!;

  // dedup of the whole MatterGen set (450 structures = 225 P1/symmetrized pairs)
  let groups = 0, comparisons = 0;
  const dedupCpu: number[] = [];
  const dedupMs = timeIt(() => {
    const r = dedupStructures(structures);
    groups = r.groups.length;
    comparisons = r.comparisons;
  }, 1, dedupCpu)[0]!;

  const result = {
    cif_files_per_s: Math.round(cifFilesPerS * 10) / 10,
    neighbour_ms_1e3: Math.round(nl['1000']!.ms * 100) / 100,
    neighbour_ms_1e4: Math.round(nl['10000']!.ms * 100) / 100,
    dedup_ms_mattergen: Math.round(dedupMs),
    details: {
      cif_files: files.length,
      cif_files_per_cpu_s: Math.round((files.length / (median(cifCpu) / 1000)) * 10) / 10,
      neighbour_cutoff_A: 6,
      neighbour_density_per_A3: 0.08,
      neighbour_cpu_ms_1e3: Math.round(nl['1000']!.cpuMs * 100) / 100,
      neighbour_cpu_ms_1e4: Math.round(nl['10000']!.cpuMs * 100) / 100,
      neighbour_pairs_1e3: nl['1000']!.pairs,
      neighbour_pairs_1e4: nl['10000']!.pairs,
      hash_per_s: Math.round((structures.length / hashMs) * 1000 * 10) / 10,
      matcher_fits_per_s: Math.round((twinPairs.length / fitMs) * 1000 * 10) / 10,
      matcher_pairs: twinPairs.length,
      matcher_pairs_matched: fits,
      dedup_cpu_ms_mattergen: Math.round(dedupCpu[0]!),
      dedup_structures: structures.length,
      dedup_groups: groups,
      dedup_matcher_comparisons: comparisons,
      config_version: STRUCTURE_DEFAULTS.version,
    },
    machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' },
    date: new Date().toISOString(),
  };
  const out = join(root, 'bench', 'results', 'structure.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
}

parseProcessArgs('bench:structure', {}); // no options: -h, and an unknown one is an error
main();
