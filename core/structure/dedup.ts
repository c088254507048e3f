// Deduplication of many structures: a cheap pre-filter splits the set into buckets that can
// only contain matches, and the structure matcher runs only inside a bucket (and against the
// neighbouring volume bucket), so 10^5 structures of varied chemistry are far from quadratic.
//
// Pre-filter key: reduced formula | atoms in the primitive cell | volume-per-atom bucket, and
// optionally (dedup.spacegroupInKey) the space group at a loose symprec (dedup.spacegroupSymprec).
// The formula and the atom count per primitive cell are exact for the matcher (it never
// matches different ones). The space group is only a heuristic: structures the matcher calls
// the same can differ in space group at a loose symprec (3 of the 225 MatterGen P1/symmetrized
// pairs do), so by default it only orders the comparisons inside a bucket (same space group
// first, where a match is most likely) and never splits a match. Volume buckets are log-spaced with relative width `volumeBucket`;
// a structure is compared with its own and the two adjacent buckets, so copies whose volumes
// per atom differ by less than that factor always meet (the matcher scales volumes, so
// copies scaled by more are not grouped).
//
// Inside a bucket, grouping is greedy in input order, like pymatgen's group_structures: each
// structure joins the first earlier group whose representative it matches; identical
// canonical hashes join without running the matcher.
import { STRUCTURE_DEFAULTS, type DedupConfig, type StructureMatcherConfig } from '../../config/structure.js';
import { SoftmodeInputError, UsageError } from '../errors.js';
import { det3 } from '../math/linalg.js';
import { getSymmetry } from '../symmetry/index.js';
import { structureHash } from './hash.js';
import { type ReducedStructure, StructureMatcher } from './matcher.js';
import type { Structure } from './structure.js';

export interface DedupOptions {
  matcher?: Partial<StructureMatcherConfig>;
  dedup?: Partial<DedupConfig>;
  /** precomputed canonical hashes (same order as the input), to skip recomputing them */
  hashes?: readonly (string | null)[];
}

export interface DedupResult {
  /** groups of input indices; the first index of each group is its representative */
  groups: number[][];
  /** per input: index of its group in `groups` (−1 when the structure could not be processed) */
  groupOf: number[];
  /** inputs that could not be analysed (e.g. invalid cell), with the error code */
  failed: { index: number; code: string; message: string }[];
  /** number of matcher comparisons run */
  comparisons: number;
}

interface Prepared {
  index: number;
  reduced: ReducedStructure;
  key: string;
  spacegroup: number;
  bucket: number;
  hash: string | null;
}

/** Group structures that the matcher says are the same (see the file comment). */
export function dedupStructures(structures: readonly Structure[], opts: DedupOptions = {}): DedupResult {
  const dcfg = { ...STRUCTURE_DEFAULTS.dedup, ...opts.dedup };
  if (!(dcfg.volumeBucket > 0)) throw new UsageError('volumeBucket must be positive');
  const matcher = new StructureMatcher(opts.matcher);
  const logW = Math.log(1 + dcfg.volumeBucket);
  const failed: DedupResult['failed'] = [];
  const prepared: (Prepared | null)[] = structures.map((s, index) => {
    try {
      const reduced = matcher.reduce(s);
      let sg = 0;
      try {
        sg = getSymmetry(s, dcfg.spacegroupSymprec).number;
      } catch (e) {
        if (!(e instanceof SoftmodeInputError && e.code === 'symmetry_failed')) throw e;
      }
      const vpa = Math.abs(det3(s.lattice)) / s.numbers.length;
      let hash: string | null = opts.hashes?.[index] ?? null;
      if (hash === null) {
        try {
          hash = structureHash(s);
        } catch {
          hash = null;
        }
      }
      return {
        index,
        reduced,
        key: `${reduced.formula}|${reduced.numbers.length}` + (dcfg.spacegroupInKey ? `|${sg}` : ''),
        spacegroup: sg,
        bucket: Math.floor(Math.log(vpa) / logW),
        hash,
      };
    } catch (e) {
      const code = e instanceof SoftmodeInputError ? e.code : 'internal';
      failed.push({ index, code, message: e instanceof Error ? e.message : String(e) });
      return null;
    }
  });

  const groups: number[][] = [];
  const groupOf = new Array<number>(structures.length).fill(-1);
  // per key → per bucket → representatives (group ids)
  const reps = new Map<string, Map<number, number[]>>();
  const repOf: Prepared[] = [];
  let comparisons = 0;
  for (const p of prepared) {
    if (!p) continue;
    let byBucket = reps.get(p.key);
    if (!byBucket) reps.set(p.key, (byBucket = new Map()));
    let joined = -1;
    search: for (const b of [p.bucket, p.bucket - 1, p.bucket + 1]) {
      for (const g of byBucket.get(b) ?? []) {
        const r = repOf[g]!;
        if (p.hash !== null && p.hash === r.hash) {
          joined = g;
          break search;
        }
      }
    }
    if (joined < 0) {
      const candidates = [p.bucket, p.bucket - 1, p.bucket + 1].flatMap((b) => byBucket.get(b) ?? []);
      // same space group first (stable: earlier groups first within each class)
      candidates.sort((x, y) => Number(repOf[y]!.spacegroup === p.spacegroup) - Number(repOf[x]!.spacegroup === p.spacegroup) || x - y);
      for (const g of candidates) {
        comparisons++;
        if (matcher.fitReduced(repOf[g]!.reduced, p.reduced)) {
          joined = g;
          break;
        }
      }
    }
    if (joined >= 0) {
      groups[joined]!.push(p.index);
      groupOf[p.index] = joined;
    } else {
      const g = groups.length;
      groups.push([p.index]);
      groupOf[p.index] = g;
      repOf[g] = p;
      const list = byBucket.get(p.bucket);
      if (list) list.push(g);
      else byBucket.set(p.bucket, [g]);
    }
  }
  return { groups, groupOf, failed, comparisons };
}
