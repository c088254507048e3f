// The stored phonon result (pipeline/steps.ts PhononOut, the `phonons` step payload) reduced for
// drawing: the band structure along the stored HPKOT path with its labelled high-symmetry points
// (imaginary modes negative, phonopy's convention, as stored) and a DOS from the stored mesh.
import { inv3, norm3, sub3, transpose3, vecmat3 } from '../core/math/linalg.js';
import { type GaussianDos, gaussianDos } from '../core/phonon/dos.js';
import { plotBandFrequencies } from '../pipeline/phonon-storage.js';
import type { PhononOut } from '../pipeline/steps.js';
import { round } from './stats.js';
import type { CompactBand, CompactDos, LatticeParams } from './types.js';

/** Points drawn along the whole path (each segment keeps its share, ends and the soft mode kept). */
export const BAND_POINTS_DRAWN = 200;
/** Frequencies on the page are integers of this many THz. */
export const BAND_SCALE_THZ = 1e-3;
export const DOS_BINS = 200;

const SUBSCRIPTS: Record<string, string> = { '0': '₀', '1': '₁', '2': '₂', '3': '₃', '4': '₄', '5': '₅', '6': '₆', '7': '₇', '8': '₈', '9': '₉' };

/** 'GAMMA' → 'Γ', 'S_0' → 'S₀' (seekpath's names as phonopy plots them). */
export function prettyLabel(l: string): string {
  if (/^gamma$/i.test(l) || l === 'G' || l === 'Γ') return 'Γ';
  return l.replace(/_(\d)/g, (_, d: string) => SUBSCRIPTS[d] ?? d);
}

/** Reciprocal basis without 2π: rows b_j with a_i · b_j = δ_ij. */
function reciprocal(lattice: readonly (readonly number[])[]): number[][] {
  return transpose3(inv3(lattice)).map((r) => [...r]);
}

function evenlySpaced(n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, i) => Math.round((i * (n - 1)) / (k - 1)));
}

export function compactBand(ph: PhononOut, pointsDrawn = BAND_POINTS_DRAWN): CompactBand | null {
  if (ph.storage === 'compact') {
    // stored compact (pipeline/phonon-storage.ts): the plot's path at drawing resolution; the
    // lowest mode on the path exactly from the rows classification keeps
    const pb = ph.plot?.band;
    if (!pb) return null;
    let exact = Infinity;
    for (const f of ph.band?.frequencies ?? []) for (const v of f) if (v < exact) exact = v;
    const frequencies = plotBandFrequencies(pb);
    if (pb.soft && Number.isFinite(exact) && frequencies[pb.soft.row]) frequencies[pb.soft.row]![pb.soft.band] = exact;
    const drawn = compactBand({ ...ph, storage: undefined, band: { qpoints: pb.qpoints, frequencies, segments: pb.segments, ...(pb.note ? { note: pb.note } : {}) } }, pointsDrawn);
    if (!drawn) return null;
    return { ...drawn, pointsStored: ph.plot!.bandPoints, ...(drawn.soft && Number.isFinite(exact) ? { soft: { ...drawn.soft, nuTHz: exact } } : {}) };
  }
  const band = ph.band;
  if (!band || band.qpoints.length === 0 || band.frequencies.length !== band.qpoints.length) return null;
  const B = reciprocal(ph.primitive.lattice);
  const nBranches = band.frequencies[0]!.length;
  // the lowest frequency on the stored path
  let soft = { k: 0, b: 0, nu: Infinity };
  band.frequencies.forEach((f, k) => {
    for (let b = 0; b < f.length; b++) if (f[b]! < soft.nu) soft = { k, b, nu: f[b]! };
  });
  const total = band.qpoints.length;
  const x: number[] = [];
  const nu: (number | null)[][] = Array.from({ length: nBranches }, () => []);
  const ticks: { x: number; label: string }[] = [];
  let softX = 0;
  let pos = 0;
  let start = 0;
  let prevEnd: string | undefined;
  const segments = band.segments.length > 0 ? band.segments : [{ n: total }];
  for (const [si, seg] of segments.entries()) {
    const labels = 'labels' in seg && seg.labels ? seg.labels.map(prettyLabel) : undefined;
    const qs = band.qpoints.slice(start, start + seg.n);
    const cart = qs.map((q) => vecmat3(q, B));
    if (si > 0) {
      const jump = labels !== undefined && prevEnd !== undefined && labels[0] !== prevEnd;
      if (jump) {
        // a discontinuity of the path (U|K): same x, a gap in every branch
        x.push(round(pos, 5));
        for (const br of nu) br.push(null);
        ticks[ticks.length - 1] = { x: round(pos, 5), label: `${prevEnd}|${labels![0]}` };
      }
    } else ticks.push({ x: 0, label: labels?.[0] ?? '' });
    const dist = [0];
    for (let i = 1; i < cart.length; i++) dist.push(dist[i - 1]! + norm3(sub3(cart[i]!, cart[i - 1]!)));
    const keep = new Set(evenlySpaced(seg.n, Math.max(2, Math.ceil((seg.n * pointsDrawn) / total))));
    if (soft.k >= start && soft.k < start + seg.n) keep.add(soft.k - start);
    for (const i of [...keep].sort((a, b) => a - b)) {
      const k = start + i;
      x.push(round(pos + dist[i]!, 5));
      const f = band.frequencies[k]!;
      for (let b = 0; b < nBranches; b++) nu[b]!.push(Math.round(f[b]! / BAND_SCALE_THZ));
      if (k === soft.k) softX = pos + dist[i]!;
    }
    pos += dist[dist.length - 1] ?? 0;
    ticks.push({ x: round(pos, 5), label: labels?.[1] ?? '' });
    prevEnd = labels?.[1];
    start += seg.n;
  }
  const q = band.qpoints[soft.k]!.map((v) => round(v, 4));
  return {
    x,
    nu,
    scale: BAND_SCALE_THZ,
    ticks,
    soft: Number.isFinite(soft.nu) ? { x: round(softX, 5), nuTHz: soft.nu, q, branch: soft.b, label: `(${q.join(', ')})` } : null,
    pointsStored: total,
    pointsDrawn: x.length,
    ...(band.note ? { note: band.note } : {}),
  };
}

/**
 * Phonon DOS, Gaussian-smeared, from the stored mesh (weights as stored) or, without a mesh,
 * from the band path (unweighted): states / THz / primitive cell.
 */
export function phononDos(ph: PhononOut, bins = DOS_BINS): CompactDos | null {
  let d: (GaussianDos & { source: 'mesh' | 'band' }) | null;
  if (ph.storage === 'compact') d = ph.plot?.dos ?? null; // made from the full mesh when it was computed
  else {
    const set = ph.mesh && ph.mesh.qpoints.length > 0 ? { f: ph.mesh.frequencies, w: ph.mesh.weights, source: 'mesh' as const } : ph.band && ph.band.qpoints.length > 0 ? { f: ph.band.frequencies, w: null, source: 'band' as const } : null;
    const g = set ? gaussianDos(set.f, set.w, bins) : null;
    d = g && set ? { ...g, source: set.source } : null;
  }
  if (!d) return null;
  const max = Math.max(...d.values);
  return {
    nu0: round(d.nu0, 5),
    dnu: round(d.dnu, 7),
    values: d.values.map((x) => (x < 1e-6 * max ? 0 : Number(x.toPrecision(4)))),
    sigmaTHz: round(d.sigmaTHz, 5),
    source: d.source,
    qpoints: d.qpoints,
  };
}

export function latticeParams(lattice: readonly (readonly number[])[]): LatticeParams {
  const [a, b, c] = [lattice[0]!, lattice[1]!, lattice[2]!];
  const la = norm3(a);
  const lb = norm3(b);
  const lc = norm3(c);
  const ang = (u: readonly number[], v: readonly number[], lu: number, lv: number) => (Math.acos(Math.max(-1, Math.min(1, (u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!) / (lu * lv)))) * 180) / Math.PI;
  const vol = Math.abs(a[0]! * (b[1]! * c[2]! - b[2]! * c[1]!) - a[1]! * (b[0]! * c[2]! - b[2]! * c[0]!) + a[2]! * (b[0]! * c[1]! - b[1]! * c[0]!));
  return { a: round(la, 4), b: round(lb, 4), c: round(lc, 4), alpha: round(ang(b, c, lb, lc), 3), beta: round(ang(a, c, la, lc), 3), gamma: round(ang(a, b, la, lb), 3), volume: round(vol, 3) };
}
