// The phonon result as stored under `storage: 'compact'` (issue 18 item 4: ≤ 100 KB per
// structure at 10^5). A MatterGen-sized result holds ~100,000 frequencies (band path + mesh), of
// which classification reads a few hundred and the report draws ~200 points of the band path and
// a 200-bin DOS. So the stored result keeps:
//   - commensurate q: whole, float64 (ν_max, the acoustic check, the loew rule);
//   - band path and mesh: only the rows and modes classification reads, float64, with their
//     row indices in the full sets (core/stability/compact.ts: labels, minima, locations and
//     counts bit-identical to the full sets');
//   - plot: the band path at the report's resolution (≤ 200 q-points, every segment kept with
//     its labels and the lowest mode's q-point; frequencies rounded up to 2^-10 THz, the report
//     draws 10^-3 THz) and the DOS from the full mesh (float32 values).
// What is left out (the other ~99 % of band and mesh modes) is recomputable from the force
// constants; no step reads it.
import { gaussianDos } from '../core/phonon/dos.js';
import { classificationSubset } from '../core/stability/compact.js';
import type { PhononOut } from './steps.js';

/** Band points kept for the plot (the report draws 200). */
export const PLOT_BAND_POINTS = 200;
/** DOS bins (the report's). */
export const PLOT_DOS_BINS = 200;
/** Plot frequencies are multiples of this (THz): 2^-10, exact in float32 up to 16,384 THz. */
export const PLOT_STEP_THZ = 1 / 1024;

function evenlySpaced(n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, i) => Math.round((i * (n - 1)) / (k - 1)));
}

type Band = NonNullable<PhononOut['band']>;
export type PlotBand = NonNullable<NonNullable<PhononOut['plot']>['band']>;

/**
 * The band path reduced for drawing: per segment its share of `points` q-points, ends and the
 * lowest mode's kept; each branch as integers of PLOT_STEP_THZ (rounded up), difference-coded
 * along the path (small integers: the store keeps them in a few bits each).
 */
export function plotBand(band: Band, points = PLOT_BAND_POINTS): PlotBand {
  const total = band.qpoints.length;
  let soft = -1;
  let softNu = Infinity;
  band.frequencies.forEach((f, k) => {
    for (let b = 0; b < f.length; b++)
      if (f[b]! < softNu) {
        softNu = f[b]!;
        soft = k;
      }
  });
  const segments = band.segments.length > 0 ? band.segments : [{ n: total }];
  const rows: number[] = [];
  const outSegments: PlotBand['segments'] = [];
  let start = 0;
  for (const seg of segments) {
    const keep = new Set(evenlySpaced(seg.n, Math.max(2, Math.ceil((seg.n * points) / total))));
    if (soft >= start && soft < start + seg.n) keep.add(soft - start);
    const idx = [...keep].sort((a, b) => a - b);
    for (const i of idx) rows.push(start + i);
    outSegments.push({ ...('labels' in seg && seg.labels ? { labels: seg.labels } : {}), n: idx.length });
    start += seg.n;
  }
  const nBranches = rows.length > 0 ? band.frequencies[rows[0]!]!.length : 0;
  const branches = Array.from({ length: nBranches }, (_, b) => {
    let prev = 0;
    return rows.map((k) => {
      const v = Math.ceil(band.frequencies[k]![b]! / PLOT_STEP_THZ);
      const d = v - prev;
      prev = v;
      return d;
    });
  });
  return {
    qpoints: rows.map((k) => band.qpoints[k]!.map((x) => Math.fround(x))),
    segments: outSegments,
    stepTHz: PLOT_STEP_THZ,
    branches,
    // where the lowest mode on the path is drawn (its exact value is in the classification rows)
    ...(soft >= 0 ? { soft: { row: rows.indexOf(soft), band: band.frequencies[soft]!.indexOf(softNu) } } : {}),
    ...(band.note ? { note: band.note } : {}),
  };
}

/** The plot band's frequencies (q-point rows, THz) from its difference-coded branches. */
export function plotBandFrequencies(p: PlotBand): number[][] {
  const n = p.qpoints.length;
  const out = Array.from({ length: n }, () => new Array<number>(p.branches.length));
  p.branches.forEach((br, b) => {
    let v = 0;
    for (let k = 0; k < n; k++) {
      v += br[k]!;
      out[k]![b] = v * p.stepTHz;
    }
  });
  return out;
}

/** The compact stored form of a full phonon result. */
export function compactPhonons(full: PhononOut): PhononOut {
  const band = full.band && full.band.qpoints.length > 0 ? full.band : null;
  const mesh = full.mesh && full.mesh.qpoints.length > 0 ? full.mesh : null;
  const rb = band ? classificationSubset(band) : null;
  const rm = mesh ? classificationSubset(mesh) : null;
  const dosFrom = mesh ? { f: mesh.frequencies, w: mesh.weights, source: 'mesh' as const } : band ? { f: band.frequencies, w: null, source: 'band' as const } : null;
  const dos = dosFrom ? gaussianDos(dosFrom.f, dosFrom.w, PLOT_DOS_BINS) : null;
  return {
    ...full,
    band: full.band && rb ? { qpoints: rb.qpoints, frequencies: rb.frequencies, rows: rb.rows, segments: full.band.segments, ...(full.band.note ? { note: full.band.note } : {}) } : full.band,
    mesh: full.mesh && rm ? { mesh: full.mesh.mesh, qpoints: rm.qpoints, frequencies: rm.frequencies, weights: rm.rows.map((k) => full.mesh!.weights[k]!), rows: rm.rows } : full.mesh,
    storage: 'compact',
    plot: {
      band: band ? plotBand(band) : null,
      bandPoints: band ? band.qpoints.length : 0,
      meshPoints: mesh ? mesh.qpoints.length : 0,
      dos: dos && dosFrom ? { ...dos, values: dos.values.map((v) => Math.fround(v)), source: dosFrom.source } : null,
    },
  };
}
