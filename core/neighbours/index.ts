// Periodic neighbour list with cell lists: O(N) for a fixed density and cutoff.
//
// Method: the cell is first Niggli-reduced (an integer change of basis, so the same lattice),
// which keeps the search stencil small even for very skewed input cells. Positions are
// wrapped into [0,1) of the reduced cell and binned on a grid whose bin count along each
// axis comes from the perpendicular width of the cell (the distance between opposite faces),
// so every pair closer than the cutoff is found however oblique the cell is, and cutoffs
// larger than the cell simply widen the stencil over more periodic images. All offsets are
// reported in the ORIGINAL basis and relative to the ORIGINAL (unwrapped) fractional
// positions: vector = (f_j + offset − f_i) · L.
import { StructureError, UsageError } from '../errors.js';
import { type Mat3, cross3, det3, inv3, norm3 } from '../math/linalg.js';
import { niggliReduce } from '../structure/niggli.js';
import type { Structure } from '../structure/structure.js';

export interface NeighbourList {
  /** index of the centre atom i, one per pair */
  centers: Int32Array;
  /** index of the neighbour atom j, one per pair */
  neighbours: Int32Array;
  /** 3 ints per pair: integer cell offset of the neighbour in the structure's own basis */
  images: Int32Array;
  /** |vector|, Å */
  distances: Float64Array;
  /** 3 per pair: r_j + offset·L − r_i, Å (positions as given, not wrapped) */
  vectors: Float64Array;
}

/** Perpendicular widths of a cell (distance between opposite faces), Å. */
export function perpendicularWidths(L: readonly (readonly number[])[]): [number, number, number] {
  const V = Math.abs(det3(L));
  const [a, b, c] = L as [number[], number[], number[]];
  return [V / norm3(cross3(b, c)), V / norm3(cross3(c, a)), V / norm3(cross3(a, b))];
}

class GrowInt32 {
  buf = new Int32Array(1024);
  len = 0;
  push(x: number): void {
    if (this.len === this.buf.length) {
      const nb = new Int32Array(this.buf.length * 2);
      nb.set(this.buf);
      this.buf = nb;
    }
    this.buf[this.len++] = x;
  }
  result(): Int32Array {
    return this.buf.slice(0, this.len);
  }
}
class GrowFloat64 {
  buf = new Float64Array(1024);
  len = 0;
  push(x: number): void {
    if (this.len === this.buf.length) {
      const nb = new Float64Array(this.buf.length * 2);
      nb.set(this.buf);
      this.buf = nb;
    }
    this.buf[this.len++] = x;
  }
  result(): Float64Array {
    return this.buf.slice(0, this.len);
  }
}

/**
 * All pairs (i, j, offset) with |r_j + offset·L − r_i| < cutoff (strict), both directions,
 * excluding only i = j at zero offset. Sorted by centre, then neighbour, then offset
 * (lexicographic), so the order is deterministic.
 */
export function neighbourList(s: Structure, cutoff: number): NeighbourList {
  if (!(Number.isFinite(cutoff) && cutoff > 0))
    throw new UsageError(`neighbour cutoff must be a positive finite number, got ${cutoff}`);
  const n = s.numbers.length;
  if (s.frac.length !== n) throw new RangeError('positions and numbers differ in length');
  const L = s.lattice;
  for (const p of s.frac) for (const x of p) if (!Number.isFinite(x)) throw new StructureError('non_finite', 'position has a non-finite number');
  const { lattice: Lr, transform: T } = niggliReduce(L);
  const Tinv = inv3(T).map((r) => r.map((x) => Math.round(x))) as Mat3; // unimodular → integer inverse

  // Fractional coordinates in the reduced basis: r = f·L = f'·(T·L) ⇒ f' = f·T⁻¹.
  const w = new Float64Array(3 * n); // wrapped reduced coords in [0,1)
  const shift = new Int32Array(3 * n); // f' = w + shift
  const f0 = new Float64Array(3 * n); // original fractional coords
  for (let i = 0; i < n; i++) {
    const f = s.frac[i]!;
    f0[3 * i] = f[0]!;
    f0[3 * i + 1] = f[1]!;
    f0[3 * i + 2] = f[2]!;
    for (let k = 0; k < 3; k++) {
      const x = f[0]! * Tinv[0]![k]! + f[1]! * Tinv[1]![k]! + f[2]! * Tinv[2]![k]!;
      let fl = Math.floor(x);
      let wx = x - fl;
      if (wx >= 1) {
        wx = 0;
        fl += 1;
      }
      w[3 * i + k] = wx;
      shift[3 * i + k] = fl;
    }
  }

  // Bin grid from the perpendicular widths of the reduced cell.
  const widths = perpendicularWidths(Lr);
  const nb = widths.map((d) => Math.max(1, Math.floor(d / cutoff))) as [number, number, number];
  // keep the number of bins O(N) when the cutoff is tiny compared with the cell
  const maxBins = 4 * n + 64;
  while (nb[0] * nb[1] * nb[2] > maxBins) {
    const k = nb[0] >= nb[1] && nb[0] >= nb[2] ? 0 : nb[1] >= nb[2] ? 1 : 2;
    nb[k] = Math.max(1, Math.floor(nb[k] / 2));
  }
  // stencil half-width in bins: a neighbour's reduced fractional coordinate differs by at
  // most cutoff/width along each axis (small relative margin against rounding)
  const reach = widths.map((d, k) => Math.ceil((cutoff * nb[k]!) / d * (1 + 1e-9))) as [number, number, number];

  const nbins = nb[0] * nb[1] * nb[2];
  const binOf = new Int32Array(n);
  const count = new Int32Array(nbins + 1);
  for (let i = 0; i < n; i++) {
    const b0 = Math.min(nb[0] - 1, Math.floor(w[3 * i]! * nb[0]));
    const b1 = Math.min(nb[1] - 1, Math.floor(w[3 * i + 1]! * nb[1]));
    const b2 = Math.min(nb[2] - 1, Math.floor(w[3 * i + 2]! * nb[2]));
    const b = (b0 * nb[1] + b1) * nb[2] + b2;
    binOf[i] = b;
    count[b + 1]!++;
  }
  for (let b = 0; b < nbins; b++) count[b + 1]! += count[b]!;
  const binAtoms = new Int32Array(n);
  const fill = count.slice(0, nbins);
  for (let i = 0; i < n; i++) binAtoms[fill[binOf[i]!]!++] = i; // ascending atom index per bin

  const Lr00 = Lr[0][0], Lr01 = Lr[0][1], Lr02 = Lr[0][2];
  const Lr10 = Lr[1][0], Lr11 = Lr[1][1], Lr12 = Lr[1][2];
  const Lr20 = Lr[2][0], Lr21 = Lr[2][1], Lr22 = Lr[2][2];
  const L00 = L[0]![0]!, L01 = L[0]![1]!, L02 = L[0]![2]!;
  const L10 = L[1]![0]!, L11 = L[1]![1]!, L12 = L[1]![2]!;
  const L20 = L[2]![0]!, L21 = L[2]![1]!, L22 = L[2]![2]!;
  const T00 = T[0][0], T01 = T[0][1], T02 = T[0][2];
  const T10 = T[1][0], T11 = T[1][1], T12 = T[1][2];
  const T20 = T[2][0], T21 = T[2][1], T22 = T[2][2];
  const c2 = cutoff * cutoff;
  // candidates accept a slightly larger radius; the final strict test is on the vector
  // computed from the original coordinates
  const c2loose = c2 * (1 + 1e-9);

  const centers = new GrowInt32();
  const neighbours = new GrowInt32();
  const images = new GrowInt32();
  const distances = new GrowFloat64();
  const vectors = new GrowFloat64();

  // per-centre scratch, reused
  let candJ: number[] = [];
  let candO: number[] = [];
  for (let i = 0; i < n; i++) {
    candJ = [];
    candO = [];
    const wi0 = w[3 * i]!, wi1 = w[3 * i + 1]!, wi2 = w[3 * i + 2]!;
    const si0 = shift[3 * i]!, si1 = shift[3 * i + 1]!, si2 = shift[3 * i + 2]!;
    const b0 = Math.min(nb[0] - 1, Math.floor(wi0 * nb[0]));
    const b1 = Math.min(nb[1] - 1, Math.floor(wi1 * nb[1]));
    const b2 = Math.min(nb[2] - 1, Math.floor(wi2 * nb[2]));
    for (let d0 = -reach[0]; d0 <= reach[0]; d0++) {
      const B0 = b0 + d0;
      const o0 = Math.floor(B0 / nb[0]);
      const k0 = B0 - o0 * nb[0];
      for (let d1 = -reach[1]; d1 <= reach[1]; d1++) {
        const B1 = b1 + d1;
        const o1 = Math.floor(B1 / nb[1]);
        const k1 = B1 - o1 * nb[1];
        for (let d2 = -reach[2]; d2 <= reach[2]; d2++) {
          const B2 = b2 + d2;
          const o2 = Math.floor(B2 / nb[2]);
          const k2 = B2 - o2 * nb[2];
          const bin = (k0 * nb[1] + k1) * nb[2] + k2;
          for (let q = count[bin]!, qe = count[bin + 1]!; q < qe; q++) {
            const j = binAtoms[q]!;
            if (j === i && o0 === 0 && o1 === 0 && o2 === 0) continue;
            const x0 = w[3 * j]! + o0 - wi0;
            const x1 = w[3 * j + 1]! + o1 - wi1;
            const x2 = w[3 * j + 2]! + o2 - wi2;
            const cx = x0 * Lr00 + x1 * Lr10 + x2 * Lr20;
            const cy = x0 * Lr01 + x1 * Lr11 + x2 * Lr21;
            const cz = x0 * Lr02 + x1 * Lr12 + x2 * Lr22;
            if (cx * cx + cy * cy + cz * cz >= c2loose) continue;
            // offset in the reduced basis relative to unwrapped reduced coords, then to the
            // original basis: o_orig = (o − shift_j + shift_i) · T
            const p0 = o0 - shift[3 * j]! + si0;
            const p1 = o1 - shift[3 * j + 1]! + si1;
            const p2 = o2 - shift[3 * j + 2]! + si2;
            candJ.push(j);
            candO.push(p0 * T00 + p1 * T10 + p2 * T20, p0 * T01 + p1 * T11 + p2 * T21, p0 * T02 + p1 * T12 + p2 * T22);
          }
        }
      }
    }
    const m = candJ.length;
    const order = new Array<number>(m);
    for (let q = 0; q < m; q++) order[q] = q;
    order.sort((a, b) => candJ[a]! - candJ[b]! || candO[3 * a]! - candO[3 * b]! || candO[3 * a + 1]! - candO[3 * b + 1]! || candO[3 * a + 2]! - candO[3 * b + 2]!);
    const fi0 = f0[3 * i]!, fi1 = f0[3 * i + 1]!, fi2 = f0[3 * i + 2]!;
    for (const q of order) {
      const j = candJ[q]!;
      const e0 = candO[3 * q]!, e1 = candO[3 * q + 1]!, e2 = candO[3 * q + 2]!;
      const x0 = f0[3 * j]! + e0 - fi0;
      const x1 = f0[3 * j + 1]! + e1 - fi1;
      const x2 = f0[3 * j + 2]! + e2 - fi2;
      const vx = x0 * L00 + x1 * L10 + x2 * L20;
      const vy = x0 * L01 + x1 * L11 + x2 * L21;
      const vz = x0 * L02 + x1 * L12 + x2 * L22;
      const dist = Math.sqrt(vx * vx + vy * vy + vz * vz);
      if (!(dist < cutoff)) continue;
      centers.push(i);
      neighbours.push(j);
      images.push(e0);
      images.push(e1);
      images.push(e2);
      distances.push(dist);
      vectors.push(vx);
      vectors.push(vy);
      vectors.push(vz);
    }
  }
  return {
    centers: centers.result(),
    neighbours: neighbours.result(),
    images: images.result(),
    distances: distances.result(),
    vectors: vectors.result(),
  };
}
