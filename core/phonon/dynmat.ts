// Dynamical matrix and phonon frequencies (physics.md §3).
//   D_{iα,jβ}(q) = (m_i m_j)^−½ Σ_k Φ_αβ(p2s(i), k) · (1/M_ki) Σ_m exp(2πi q·τ_ki^(m)),
// k over supercell atoms that are copies of primitive atom j, q fractional in the primitive
// reciprocal basis (no 2π), τ the shortest vectors in primitive fractional coordinates.
// Then D ← (D + D†)/2 and ν = sign(λ)·√|λ|·factor (THz for Φ in eV/Å², m in AMU).
import { PHONON_CONFIG } from '../../config/phonon.js';
import {  } from '../errors.js';
import { hermitianEigen } from './eigen.js';
import type { ForceConstants } from './force-constants.js';
import type { PrimitiveInSupercell, ShortestVectors } from './primitive.js';

export interface ModesAt {
  /** THz, ascending; negative = imaginary */
  frequencies: Float64Array;
  /** eigenvectors as columns (component c of mode k at [c·3n + k]), mass-weighted as D's */
  vecRe?: Float64Array;
  vecIm?: Float64Array;
}

export class DynamicalMatrix {
  /** 3·np */
  readonly dim: number;
  readonly np: number;
  // One entry per (primitive atom i, supercell atom k): target block (i, j = s2p(k)), the
  // mass-scaled force-constant block Φ(p2s(i), k)/√(m_i m_j)/M_ki and its image vectors.
  private readonly npairs: number;
  private readonly pairRow: Int32Array; // 3i
  private readonly pairCol: Int32Array; // 3j
  private readonly pairFc: Float64Array; // 9 per pair
  private readonly pairMult: Int32Array;
  private readonly pairVec: Int32Array; // offset into svecs.vecs
  // Image vectors minus the basis offset x_j − x_i: integer lattice vectors, per image
  private readonly imageR: Int32Array;
  private readonly rMax: number;
  private scratch: { re: Float64Array; im: Float64Array } | undefined;

  constructor(
    readonly fc: ForceConstants,
    readonly prim: PrimitiveInSupercell,
    readonly svecs: ShortestVectors,
    /** AMU, one per primitive atom */
    readonly masses: readonly number[],
    readonly factor: number = PHONON_CONFIG.frequencyFactorTHz,
  ) {
    const np = prim.p2s.length;
    const ns = fc.natoms;
    if (svecs.ns !== ns || svecs.np !== np) throw new RangeError('shortest vectors do not match the force constants');
    if (masses.length !== np || masses.some((m) => !(m > 0))) throw new RangeError('need one positive mass per primitive atom');
    this.np = np;
    this.dim = 3 * np;
    const N = np * ns;
    this.npairs = N;
    this.pairRow = new Int32Array(N);
    this.pairCol = new Int32Array(N);
    this.pairFc = new Float64Array(9 * N);
    this.pairMult = new Int32Array(N);
    this.pairVec = new Int32Array(N);
    let t = 0;
    for (let i = 0; i < np; i++)
      for (let k = 0; k < ns; k++, t++) {
        const j = prim.s2pIndex[k]!;
        const p = k * np + i;
        const mult = svecs.multiplicity[p]!;
        const scale = 1 / Math.sqrt(masses[i]! * masses[j]!) / mult;
        const fo = (prim.p2s[i]! * ns + k) * 9;
        for (let e = 0; e < 9; e++) this.pairFc[9 * t + e] = fc.data[fo + e]! * scale;
        this.pairRow[t] = 3 * i;
        this.pairCol[t] = 3 * j;
        this.pairMult[t] = mult;
        this.pairVec[t] = svecs.offset[p]! * 3;
      }
    // τ = x_j − x_i + R with R integer (primitive fractional coordinates)
    const x = prim.primitive.frac;
    this.imageR = new Int32Array(svecs.vecs.length);
    let rMax = 0;
    t = 0;
    for (let i = 0; i < np; i++)
      for (let k = 0; k < ns; k++, t++) {
        const j = prim.s2pIndex[k]!;
        let o = this.pairVec[t]!;
        for (let m = 0; m < this.pairMult[t]!; m++, o += 3)
          for (let a = 0; a < 3; a++) {
            const r = svecs.vecs[o + a]! - (x[j]![a]! - x[i]![a]!);
            const ri = Math.round(r);
            if (Math.abs(r - ri) > 1e-6) throw new Error('shortest vector is not a lattice vector plus the basis offset');
            this.imageR[o + a] = ri;
            rMax = Math.max(rMax, Math.abs(ri));
          }
      }
    this.rMax = rMax;
  }

  /**
   * D'(q) = Λ D(q) Λ† with Λ = diag(e^{−2πi q·x_j}): the same eigenvalues as D(q), built from
   * integer lattice vectors so that the phases come from three small tables instead of one
   * sin/cos pair per image. Used for frequencies only (eigenvectors differ by those phases).
   */
  private gaugeMatrixAt(q: readonly number[]): { re: Float64Array; im: Float64Array } {
    const n = this.dim;
    // Only the lower triangle of (D + D†)/2 is built (all the eigensolver reads), straight from
    // the pairs: a contribution z to D[r][c] adds z/2 to [r][c] below the diagonal, conj(z)/2 to
    // [c][r] above it, and Re z on it. Scratch arrays are reused from one q to the next (the
    // caller consumes them before the next call).
    if (!this.scratch || this.scratch.re.length !== n * n) this.scratch = { re: new Float64Array(n * n), im: new Float64Array(n * n) };
    const { re, im } = this.scratch;
    re.fill(0);
    im.fill(0);
    const R = this.imageR;
    const F = this.pairFc;
    const pairMult = this.pairMult;
    const pairVec = this.pairVec;
    const pairRow = this.pairRow;
    const pairCol = this.pairCol;
    const w = 2 * this.rMax + 1;
    const tab = new Float64Array(6 * w); // per axis a: cos at [2(a·w + r + rMax)], sin at +1
    for (let a = 0; a < 3; a++)
      for (let r = -this.rMax; r <= this.rMax; r++) {
        const ph = 2 * Math.PI * q[a]! * r;
        tab[2 * (a * w + r + this.rMax)] = Math.cos(ph);
        tab[2 * (a * w + r + this.rMax) + 1] = Math.sin(ph);
      }
    const o1 = this.rMax;
    const o2 = w + this.rMax;
    const o3 = 2 * w + this.rMax;
    for (let t = 0, npairs = this.npairs; t < npairs; t++) {
      let cr = 0;
      let ci = 0;
      const mult = pairMult[t]!;
      let o = pairVec[t]!;
      for (let m = 0; m < mult; m++, o += 3) {
        const i0 = 2 * (o1 + R[o]!);
        const i1 = 2 * (o2 + R[o + 1]!);
        const i2 = 2 * (o3 + R[o + 2]!);
        const ar = tab[i0]!;
        const ai = tab[i0 + 1]!;
        const br = tab[i1]!;
        const bi = tab[i1 + 1]!;
        const xr = ar * br - ai * bi;
        const xi = ar * bi + ai * br;
        const c_r = tab[i2]!;
        const c_i = tab[i2 + 1]!;
        cr += xr * c_r - xi * c_i;
        ci += xr * c_i + xi * c_r;
      }
      // the ½ of (D + D†)/2 on the phase sum: exact (a power of two), so the same as halving
      // the sums afterwards
      const hr = 0.5 * cr;
      const hi = 0.5 * ci;
      const f = 9 * t;
      const I = pairRow[t]!;
      const J = pairCol[t]!;
      if (I > J) {
        // block below the diagonal: as it is
        let row = I * n + J;
        for (let a = 0, fa = f; a < 3; a++, fa += 3, row += n) {
          const x0 = F[fa]!;
          const x1 = F[fa + 1]!;
          const x2 = F[fa + 2]!;
          re[row] = re[row]! + x0 * hr;
          im[row] = im[row]! + x0 * hi;
          re[row + 1] = re[row + 1]! + x1 * hr;
          im[row + 1] = im[row + 1]! + x1 * hi;
          re[row + 2] = re[row + 2]! + x2 * hr;
          im[row + 2] = im[row + 2]! + x2 * hi;
        }
      } else if (I < J) {
        // block above: its conjugate transpose lands in block (J, I): F[a][b] → (J+b, I+a)
        const r0 = J * n + I;
        for (let a = 0, fa = f; a < 3; a++, fa += 3) {
          const x0 = F[fa]!;
          const x1 = F[fa + 1]!;
          const x2 = F[fa + 2]!;
          const c0 = r0 + a;
          const c1 = c0 + n;
          const c2 = c1 + n;
          re[c0] = re[c0]! + x0 * hr;
          im[c0] = im[c0]! - x0 * hi;
          re[c1] = re[c1]! + x1 * hr;
          im[c1] = im[c1]! - x1 * hi;
          re[c2] = re[c2]! + x2 * hr;
          im[c2] = im[c2]! - x2 * hi;
        }
      } else {
        // diagonal block: element (a, b) below, (b, a) conjugated above, 2·Re on the diagonal
        const r0 = I * n + I;
        for (let a = 0; a < 3; a++) {
          const fa = f + 3 * a;
          for (let b = 0; b < 3; b++) {
            const x = F[fa + b]!;
            if (a > b) {
              const at = r0 + a * n + b;
              re[at] = re[at]! + x * hr;
              im[at] = im[at]! + x * hi;
            } else if (a < b) {
              const at = r0 + b * n + a;
              re[at] = re[at]! + x * hr;
              im[at] = im[at]! - x * hi;
            } else {
              const at = r0 + a * n + a;
              re[at] = re[at]! + x * cr;
            }
          }
        }
      }
    }
    return { re, im };
  }

  /** D(q) as separate real and imaginary n×n arrays (row-major, n = 3·np), Hermitian. */
  matrixAt(q: readonly number[]): { re: Float64Array; im: Float64Array } {
    const n = this.dim;
    const re = new Float64Array(n * n);
    const im = new Float64Array(n * n);
    const v = this.svecs.vecs;
    const F = this.pairFc;
    const q0 = 2 * Math.PI * q[0]!;
    const q1 = 2 * Math.PI * q[1]!;
    const q2 = 2 * Math.PI * q[2]!;
    for (let t = 0; t < this.npairs; t++) {
      let cr = 0;
      let ci = 0;
      const mult = this.pairMult[t]!;
      let o = this.pairVec[t]!;
      for (let m = 0; m < mult; m++, o += 3) {
        const ph = q0 * v[o]! + q1 * v[o + 1]! + q2 * v[o + 2]!;
        cr += Math.cos(ph);
        ci += Math.sin(ph);
      }
      const f = 9 * t;
      const r0 = this.pairRow[t]! * n + this.pairCol[t]!;
      for (let a = 0; a < 3; a++) {
        const row = r0 + a * n;
        const fa = f + 3 * a;
        for (let b = 0; b < 3; b++) {
          const x = F[fa + b]!;
          re[row + b] = re[row + b]! + x * cr;
          im[row + b] = im[row + b]! + x * ci;
        }
      }
    }
    // make Hermitian: (D + D†)/2
    for (let r = 0; r < n; r++) {
      im[r * n + r] = 0;
      for (let c = 0; c < r; c++) {
        const ar = (re[r * n + c]! + re[c * n + r]!) / 2;
        const ai = (im[r * n + c]! - im[c * n + r]!) / 2;
        re[r * n + c] = ar;
        re[c * n + r] = ar;
        im[r * n + c] = ai;
        im[c * n + r] = -ai;
      }
    }
    return { re, im };
  }

  /** Frequencies (THz, ascending) and optionally eigenvectors at one q-point. */
  modesAt(q: readonly number[], withVectors = false): ModesAt {
    // eigenvectors in phonopy's phase convention need D itself; frequencies do not
    const { re, im } = withVectors ? this.matrixAt(q) : this.gaugeMatrixAt(q);
    const r = hermitianEigen(re, im, this.dim, withVectors);
    const f = new Float64Array(this.dim);
    for (let k = 0; k < this.dim; k++) {
      const l = r.values[k]!;
      f[k] = Math.sign(l) * Math.sqrt(Math.abs(l)) * this.factor;
    }
    return withVectors ? { frequencies: f, vecRe: r.vecRe!, vecIm: r.vecIm! } : { frequencies: f };
  }

  /** Frequencies (THz) at each q-point. */
  frequenciesAt(qpoints: readonly (readonly number[])[]): Float64Array[] {
    return qpoints.map((q) => this.modesAt(q).frequencies);
  }
}
