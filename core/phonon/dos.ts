// Phonon density of states, Gaussian-smeared on an even grid: states / THz / primitive cell.
// One implementation for the stored compact phonon result (pipeline/steps.ts) and the report's
// DOS of results stored in full (report/spectrum.ts).

export interface GaussianDos {
  /** centre of the first bin, THz */
  nu0: number;
  /** bin width, THz */
  dnu: number;
  /** per bin, normalised by the total weight */
  values: number[];
  sigmaTHz: number;
  /** rows of frequencies it was made from */
  qpoints: number;
}

/** DOS of `frequencies` (rows of one q-point each) with row weights (null: 1 each). */
export function gaussianDos(frequencies: readonly ArrayLike<number>[], weights: readonly number[] | null, bins: number): GaussianDos | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const f of frequencies)
    for (let i = 0; i < f.length; i++) {
      const v = f[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return null;
  const pad = Math.max(0.05 * (hi - lo), 0.1);
  lo -= pad;
  hi += pad;
  const dnu = (hi - lo) / bins;
  const sigma = 1.5 * dnu;
  const values = new Float64Array(bins);
  let wsum = 0;
  const norm = 1 / (sigma * Math.sqrt(2 * Math.PI));
  frequencies.forEach((f, k) => {
    const w = weights ? (weights[k] ?? 1) : 1;
    wsum += w;
    for (let j = 0; j < f.length; j++) {
      const v = f[j]!;
      const c = (v - lo) / dnu - 0.5;
      const from = Math.max(0, Math.floor(c - (4 * sigma) / dnu));
      const to = Math.min(bins - 1, Math.ceil(c + (4 * sigma) / dnu));
      for (let i = from; i <= to; i++) {
        const d = (lo + (i + 0.5) * dnu - v) / sigma;
        values[i]! += w * norm * Math.exp(-0.5 * d * d);
      }
    }
  });
  return { nu0: lo + 0.5 * dnu, dnu, values: Array.from(values, (v) => v / wsum), sigmaTHz: sigma, qpoints: frequencies.length };
}
