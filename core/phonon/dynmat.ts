// Dynamical matrix and phonon frequencies (physics.md §3).
//   D_{iα,jβ}(q) = (m_i m_j)^−½ Σ_k Φ_αβ(p2s(i), k) · (1/M_ki) Σ_m exp(2πi q·τ_ki^(m)),
// k over supercell atoms that are copies of primitive atom j, q fractional in the primitive
// reciprocal basis (no 2π), τ the shortest vectors in primitive fractional coordinates.
// Then D ← (D + D†)/2 and ν = sign(λ)·√|λ|·factor (THz for Φ in eV/Å², m in AMU).
import { PHONON_CONFIG } from '../../config/phonon.js';
import { SoftmodeInputError } from '../errors.js';
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
  private readonly pairs: { i: number; j: number; k: number; fcOffset: number; massInv: number; mult: number; vecOffset: number }[];

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
    if (svecs.ns !== ns || svecs.np !== np) throw new SoftmodeInputError('invalid_argument', 'shortest vectors do not match the force constants');
    if (masses.length !== np || masses.some((m) => !(m > 0))) throw new SoftmodeInputError('invalid_argument', 'need one positive mass per primitive atom');
    this.np = np;
    this.dim = 3 * np;
    this.pairs = [];
    for (let i = 0; i < np; i++)
      for (let k = 0; k < ns; k++) {
        const j = prim.s2pIndex[k]!;
        const p = k * np + i;
        this.pairs.push({
          i,
          j,
          k,
          fcOffset: (prim.p2s[i]! * ns + k) * 9,
          massInv: 1 / Math.sqrt(masses[i]! * masses[j]!),
          mult: svecs.multiplicity[p]!,
          vecOffset: svecs.offset[p]! * 3,
        });
      }
  }

  /** D(q) as separate real and imaginary n×n arrays (row-major, n = 3·np), Hermitian. */
  matrixAt(q: readonly number[]): { re: Float64Array; im: Float64Array } {
    const n = this.dim;
    const re = new Float64Array(n * n);
    const im = new Float64Array(n * n);
    const fc = this.fc.data;
    const v = this.svecs.vecs;
    const q0 = 2 * Math.PI * q[0]!;
    const q1 = 2 * Math.PI * q[1]!;
    const q2 = 2 * Math.PI * q[2]!;
    for (const p of this.pairs) {
      let cr = 0;
      let ci = 0;
      for (let m = 0; m < p.mult; m++) {
        const o = p.vecOffset + 3 * m;
        const ph = q0 * v[o]! + q1 * v[o + 1]! + q2 * v[o + 2]!;
        cr += Math.cos(ph);
        ci += Math.sin(ph);
      }
      const s = p.massInv / p.mult;
      cr *= s;
      ci *= s;
      for (let a = 0; a < 3; a++) {
        const row = (3 * p.i + a) * n + 3 * p.j;
        const fo = p.fcOffset + 3 * a;
        for (let b = 0; b < 3; b++) {
          const f = fc[fo + b]!;
          re[row + b] = re[row + b]! + f * cr;
          im[row + b] = im[row + b]! + f * ci;
        }
      }
    }
    // make Hermitian: (D + D†)/2
    for (let r = 0; r < n; r++) {
      re[r * n + r] = re[r * n + r]!;
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
    const { re, im } = this.matrixAt(q);
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
