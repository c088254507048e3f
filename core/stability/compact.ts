// The part of a q-point set that the stability rules read (issue 18 item 4: storage at 10^5).
// The band path and the mesh hold almost all of a phonon result's numbers (MatterGen-sized
// cells: ~600 band-path and ~2,000 mesh q-points × 40–70 modes); classifyStability (./index.ts)
// reads few of them:
//   - the minimum over all modes and over the modes a rule does not exempt, with where it is
//     (set, q-point, mode index; the first one in scan order on a tie: comparisons are strict);
//   - how many modes lie below a threshold that is never above 0 THz (−thresholdTHz, −K);
//   - at Γ only, the lowest modes (acoustic exemption, acoustic-sum check on the first Γ row);
//   - ν_max and the acoustic check read the commensurate set, which is never reduced.
// Rows are ascending (sorted eigenvalues). The reduced set keeps, in their order: every Γ row
// whole; every other row whose lowest mode is ≤ 0 THz, its modes ≤ 0 THz; and the first row with
// the lowest lowest-mode among the remaining rows, that mode only. Every mode left out is above 0
// THz (so never below a threshold) and not below a kept mode of its own row, which comes first in
// scan order (so it is never a minimum, nor first on a tie; exemptions are at Γ only, whose rows
// are whole): every label, minimum, location, count and reason is
// bit-identical to the full set's (test/storage-codec.test.ts, on real spectra and adversarial
// ones). A row that is not ascending is kept whole. Nothing is rounded: kept modes are float64.
import type { FrequencySet } from './index.js';

function isGammaQ(q: readonly number[]): boolean {
  // the same test as classifyStability's
  return q.every((x) => Math.abs(x - Math.round(x)) < 1e-8);
}

function ascending(row: ArrayLike<number>): boolean {
  for (let b = 1; b < row.length; b++) if (!(row[b]! >= row[b - 1]!)) return false;
  return true;
}

export interface ReducedSet {
  qpoints: number[][];
  frequencies: number[][];
  /** index of each kept row in the full set */
  rows: number[];
}

/** The rows and modes of a q-point set that classification reads (see above). */
export function classificationSubset(set: FrequencySet): ReducedSet {
  const keep = new Map<number, number>(); // row → modes kept
  let best = -1;
  let bestNu = Infinity;
  set.frequencies.forEach((row, k) => {
    const q = set.qpoints[k];
    if (!q || isGammaQ(q) || row.length === 0 || !ascending(row)) {
      keep.set(k, row.length);
      return;
    }
    if (row[0]! <= 0) {
      let e = 0;
      while (e < row.length && row[e]! <= 0) e++;
      keep.set(k, e);
      return;
    }
    if (row[0]! < bestNu) {
      bestNu = row[0]!;
      best = k;
    }
  });
  if (best >= 0) keep.set(best, 1);
  const rows = [...keep.keys()].sort((a, b) => a - b);
  return {
    qpoints: rows.map((k) => [...set.qpoints[k]!]),
    frequencies: rows.map((k) => Array.from(set.frequencies[k]!).slice(0, keep.get(k)!)),
    rows,
  };
}
