// Eigen-solver for complex Hermitian matrices on typed arrays.
//
// Method: Householder reduction of the Hermitian matrix to a Hermitian tridiagonal one, a
// diagonal unitary similarity that makes the off-diagonal real, then the implicit QL
// algorithm with Wilkinson shifts on the real symmetric tridiagonal matrix. Eigenvectors
// (optional) are the QL rotations applied to the identity, multiplied back by the phases and
// the Householder reflections. Working directly on the complex n×n matrix costs about a quarter
// of the real 2n×2n embedding.
//
// Two implementations of that one method:
//  * hermitianEigen (the default): the reduction, the QL step and the back-transformation run
//    in a WebAssembly kernel with SIMD (tools/eigen-wasm/src/lib.rs, built reproducibly by
//    tools/eigen-wasm/build.sh, `npm run build:eigen-kernel`; the module ships as
//    core/phonon/eigen-kernel.wasm and, base64, in eigen-kernel-wasm.ts, so nothing is compiled
//    at install). The matrix is held in "paired split complex" rows (the real, or imaginary,
//    parts of two neighbouring columns are one f64x2), and the rank-2 update of reduction step k
//    is applied in the same sweep as the matrix-vector product of step k+1, two rows at a time.
//    Eigenvalues only (every classification path) use LAPACK's root-free dsterf for the
//    tridiagonal step; with eigenvectors, the reference's QL with the rotations accumulated.
//    Same scaling, phases, ordering and output as the reference; the rounding differs
//    (eigenvalues agree to ~1e-14 of the spectral radius: test/eigen-kernel.test.ts). Speed
//    beside numpy's LAPACK: bench/phonon-speed.ts (npm run bench:phonon), eigen_vs_numpy.
//    The kernel's memory grows to the largest solve seen and stays (about 16·n² bytes without
//    vectors, 40·n² with).
//  * hermitianEigenReference: the same method in TypeScript, the reference the kernel is tested
//    against and the fallback where WebAssembly SIMD is unavailable (SOFTMODE_EIGEN=js forces it).
import { EIGEN_KERNEL_WASM_BASE64 } from './eigen-kernel-wasm.js';

export interface HermitianEigenResult {
  /** eigenvalues, ascending */
  values: Float64Array;
  /** eigenvectors as columns: vector k has components (vecRe[i*n+k], vecIm[i*n+k]) */
  vecRe?: Float64Array;
  vecIm?: Float64Array;
}

/**
 * Eigenvalues (ascending) and optionally eigenvectors of the Hermitian matrix A = re + i·im
 * (row-major n×n; only the lower triangle is read). The inputs are not modified.
 */
export function hermitianEigen(reIn: Float64Array, imIn: Float64Array, n: number, wantVectors = false): HermitianEigenResult {
  const k = eigenKernel();
  return k ? hermitianEigenWasm(k, reIn, imIn, n, wantVectors) : hermitianEigenReference(reIn, imIn, n, wantVectors);
}

/** Which implementation hermitianEigen uses in this process: 'wasm-simd' or 'js'. */
export function hermitianEigenBackend(): 'wasm-simd' | 'js' {
  return eigenKernel() ? 'wasm-simd' : 'js';
}

// ---- WebAssembly kernel ------------------------------------------------------------------

// The project's TypeScript libs (ES2023 + node types) do not declare WebAssembly: the little
// used here, typed locally.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}

interface KernelExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  __heap_base: { value: number };
  tridiag(n: number, am: number, d: number, er: number, ei: number, tau: number, hr: number, hi: number, vb: number): void;
  tql(n: number, d: number, e: number, z: number): number;
  sterf(n: number, d: number, e: number): number;
  apply_q(n: number, tau: number, hr: number, hi: number, xr: number, xi: number, work: number): void;
  scale(n: number, am: number, f: number): void;
  /** bench probe (bench/phonon-speed.ts): register-only f64x2 multiply-add throughput, 48 flops per iteration */
  simd_peak(iters: number, seed: number): number;
}

let kernel: KernelExports | null | undefined;

/** The instantiated kernel, or null where WebAssembly SIMD is unavailable or SOFTMODE_EIGEN=js. */
export function eigenKernel(): KernelExports | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  if (process.env.SOFTMODE_EIGEN === 'js') return kernel;
  try {
    const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const mod = new WA.Module(Buffer.from(EIGEN_KERNEL_WASM_BASE64, 'base64'));
    kernel = new WA.Instance(mod, {}).exports as KernelExports;
  } catch {
    kernel = null; // no WebAssembly SIMD here: the TypeScript reference does the work
  }
  return kernel;
}

/**
 * Byte offsets of the f64 arrays of one solve inside the kernel's memory (grown as needed).
 * am: the matrix in paired-split-complex rows (tools/eigen-wasm/src/lib.rs), n rows of
 * 2·n2 doubles (n2 = n rounded up to even); after the reduction it holds the eigenvectors'
 * real and imaginary parts (n×n each) for apply_q. vb: the kernel's per-step vectors (8·n2).
 */
function layout(k: KernelExports, n: number, wantVectors: boolean) {
  let at = (Number(k.__heap_base.value) + 15) & ~15;
  const take = (len: number): number => {
    const o = at;
    at += ((8 * len + 15) >> 4) << 4;
    return o;
  };
  const n2 = (n + 1) & ~1;
  const L = {
    n2,
    am: take(2 * n * n2),
    d: take(n),
    er: take(n),
    ei: take(n),
    tau: take(n),
    vb: take(8 * n2),
    hr: wantVectors ? take(n * n) : 0,
    hi: wantVectors ? take(n * n) : 0,
    z: wantVectors ? take(n * n) : 0,
  };
  const have = k.memory.buffer.byteLength;
  if (at > have) k.memory.grow(Math.ceil((at - have) / 65536));
  return L;
}

function hermitianEigenWasm(k: KernelExports, reIn: Float64Array, imIn: Float64Array, n: number, wantVectors: boolean): HermitianEigenResult {
  if (reIn.length < n * n || imIn.length < n * n) throw new RangeError('hermitianEigen: arrays shorter than n×n');
  if (n === 0) return wantVectors ? { values: new Float64Array(0), vecRe: new Float64Array(0), vecIm: new Float64Array(0) } : { values: new Float64Array(0) };
  const L = layout(k, n, wantVectors);
  const buf = k.memory.buffer;
  const f64 = (o: number, len: number): Float64Array => new Float64Array(buf, o, len);
  // lower triangle into paired-split-complex rows: (a, b) → re at a·rs + 4⌊b/2⌋ + b mod 2,
  // im 2 further; the largest magnitude on the way
  const rs = 2 * L.n2;
  const M = f64(L.am, n * rs);
  let maxAbs = 0;
  let nonFinite = 0; // stays 0 unless an entry is ±∞ or NaN (then x·0 is NaN)
  for (let i = 0; i < n; i++) {
    const r = i * n;
    const o = i * rs;
    for (let j = 0; j <= i; j++) {
      const q = o + ((j >> 1) << 2) + (j & 1);
      const x = reIn[r + j]!;
      const y = imIn[r + j]!;
      M[q] = x;
      M[q + 2] = y;
      const ax = Math.abs(x);
      const ay = Math.abs(y);
      if (ax > maxAbs) maxAbs = ax;
      if (ay > maxAbs) maxAbs = ay;
      nonFinite += x * 0 + y * 0;
    }
  }
  if (nonFinite !== 0) throw new RangeError('hermitianEigen: the matrix has a non-finite entry');
  // the same exact power-of-two scaling as the reference (see there): x·2^−h·2^−h
  const halfExp = maxAbs > 0 ? Math.round(Math.log2(maxAbs) / 2) : 0;
  if (halfExp !== 0) k.scale(n, L.am, 2 ** -halfExp);
  k.tridiag(n, L.am, L.d, L.er, L.ei, L.tau, L.hr, L.hi, L.vb);
  const d = f64(L.d, n);
  const eRe = f64(L.er, n);
  const eIm = f64(L.ei, n);
  // Phases making the sub-diagonal real: D_0 = 1, D_{k+1} = D_k β_k/|β_k|; |β_k| replaces β_k
  // in place (er becomes the real sub-diagonal e of the QL step).
  const phRe = new Float64Array(n);
  const phIm = new Float64Array(n);
  phRe[0] = 1;
  for (let q = 0; q < n - 1; q++) {
    const mag = Math.hypot(eRe[q]!, eIm[q]!);
    if (mag > 0) {
      const ur = eRe[q]! / mag;
      const ui = eIm[q]! / mag;
      phRe[q + 1] = phRe[q]! * ur - phIm[q]! * ui;
      phIm[q + 1] = phRe[q]! * ui + phIm[q]! * ur;
    } else {
      phRe[q + 1] = phRe[q]!;
      phIm[q + 1] = phIm[q]!;
    }
    eRe[q] = mag;
  }
  eRe[n - 1] = 0;
  if (wantVectors) {
    const z = f64(L.z, n * n);
    z.fill(0);
    for (let i = 0; i < n; i++) z[i * n + i] = 1;
  }
  // values only: LAPACK's root-free dsterf (what numpy's eigvalsh runs too); with vectors the
  // QL of the reference with the rotations accumulated
  const info = wantVectors ? k.tql(n, L.d, L.er, L.z) : k.sterf(n, L.d, L.er);
  if (info !== 0) throw new Error('tridiagonalQL: no convergence');
  const up = 2 ** halfExp;
  if (!wantVectors) {
    const values = Float64Array.from(d).sort();
    for (let i = 0; i < n; i++) values[i] = values[i]! * up * up;
    return { values };
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[a]! - d[b]!);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = d[order[i]!]! * up * up;
  // eigenvector c of A: Q · D · z_order[c]; X = D·Zᵀ (re, im: n×n each) where the matrix was
  const z = f64(L.z, n * n);
  const Ar = f64(L.am, n * n);
  const Ai = f64(L.am + 8 * n * n, n * n);
  for (let i = 0; i < n; i++) {
    const pr = phRe[i]!;
    const pi = phIm[i]!;
    for (let c = 0; c < n; c++) {
      const zz = z[order[c]! * n + i]!;
      Ar[i * n + c] = pr * zz;
      Ai[i * n + c] = pi * zz;
    }
  }
  k.apply_q(n, L.tau, L.hr, L.hi, L.am, L.am + 8 * n * n, L.vb);
  return { values, vecRe: Float64Array.from(Ar), vecIm: Float64Array.from(Ai) };
}

// ---- TypeScript reference ------------------------------------------------------------------

/** The same solver in TypeScript (the kernel's reference; also the fallback). */
export function hermitianEigenReference(reIn: Float64Array, imIn: Float64Array, n: number, wantVectors = false): HermitianEigenResult {
  if (reIn.length < n * n || imIn.length < n * n) throw new RangeError('hermitianEigen: arrays shorter than n×n');
  // Scale to entries of order 1 by an even power of two, undone on the eigenvalues. Without it
  // the reduction's higher powers of the entries under- or overflow far inside the double range
  // (a nearly zero force-constant matrix of 1e-57 failed to converge; 1e100 gave wrong values).
  // A power of two with an even exponent is exact through +, ×, ÷ and √, so the result is
  // bit-identical to the unscaled computation wherever that one did not under- or overflow.
  let maxAbs = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) maxAbs = Math.max(maxAbs, Math.abs(reIn[i * n + j]!), Math.abs(imIn[i * n + j]!));
  if (!Number.isFinite(maxAbs)) throw new RangeError('hermitianEigen: the matrix has a non-finite entry');
  const halfExp = maxAbs > 0 ? Math.round(Math.log2(maxAbs) / 2) : 0;
  // 2^(−2·halfExp) applied as two factors, so that neither overflows near the ends of the range
  const down = 2 ** -halfExp;
  // Lower triangle, complex numbers interleaved (re, im) for one memory stream per row.
  const A = new Float64Array(2 * n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      A[2 * (i * n + j)] = reIn[i * n + j]! * down * down;
      A[2 * (i * n + j) + 1] = imIn[i * n + j]! * down * down;
    }
  const d = new Float64Array(n);
  const eRe = new Float64Array(n); // complex sub-diagonal β_k = A[k+1][k]
  const eIm = new Float64Array(n);
  // Householder vector of step k (interleaved, length 2(n−k−1)) at H[2·n·k ...]
  const H = wantVectors ? new Float64Array(2 * n * n) : new Float64Array(0);
  const tau = new Float64Array(n);
  const v = new Float64Array(2 * n);
  const p = new Float64Array(2 * n);

  for (let k = 0; k < n - 1; k++) {
    const m = n - k - 1; // length of the column below the diagonal
    let scale = 0;
    for (let t = 0; t < m; t++) {
      const o = 2 * ((k + 1 + t) * n + k);
      v[2 * t] = A[o]!;
      v[2 * t + 1] = A[o + 1]!;
      scale = Math.max(scale, Math.abs(A[o]!), Math.abs(A[o + 1]!));
    }
    if (m === 1 || scale === 0) {
      // nothing to annihilate
      eRe[k] = v[0]!;
      eIm[k] = v[1]!;
      tau[k] = 0;
      continue;
    }
    let s2 = 0;
    for (let t = 0; t < 2 * m; t++) {
      const x = v[t]! / scale;
      s2 += x * x;
    }
    const alpha = scale * Math.sqrt(s2);
    const x0abs = Math.hypot(v[0]!, v[1]!);
    const phr = x0abs > 0 ? v[0]! / x0abs : 1;
    const phi = x0abs > 0 ? v[1]! / x0abs : 0;
    // v = x + φ α e1, H = I − τ v v†, τ = 2 / (v†v); H x = −φ α e1
    v[0] = v[0]! + phr * alpha;
    v[1] = v[1]! + phi * alpha;
    let vv = 0;
    for (let t = 0; t < 2 * m; t++) vv += v[t]! * v[t]!;
    const tk = 2 / vv;
    tau[k] = tk;
    eRe[k] = -phr * alpha;
    eIm[k] = -phi * alpha;
    if (wantVectors) H.set(v.subarray(0, 2 * m), 2 * n * k);
    // p = A' v with A' the trailing m×m block (Hermitian, lower triangle stored)
    const off = k + 1;
    p.fill(0, 0, 2 * m);
    for (let a = 0; a < m; a++) {
      const row = 2 * ((off + a) * n + off);
      const var_ = v[2 * a]!;
      const vai = v[2 * a + 1]!;
      let sr = 0;
      let si = 0;
      for (let b = 0, o = row; b < a; b++, o += 2) {
        const ar = A[o]!;
        const ai = A[o + 1]!;
        const br = v[2 * b]!;
        const bi = v[2 * b + 1]!;
        sr += ar * br - ai * bi;
        si += ar * bi + ai * br;
        // contribution of A[b][a] = conj(A[a][b]) to p[b]
        p[2 * b] = p[2 * b]! + ar * var_ + ai * vai;
        p[2 * b + 1] = p[2 * b + 1]! + ar * vai - ai * var_;
      }
      const dr = A[row + 2 * a]!;
      p[2 * a] = p[2 * a]! + sr + dr * var_;
      p[2 * a + 1] = p[2 * a + 1]! + si + dr * vai;
    }
    // K = (τ/2) v†(τ A'v) (real), w = τ A'v − K v  →  A' ← A' − v w† − w v†
    let kr = 0;
    for (let t = 0; t < 2 * m; t++) kr += v[t]! * p[t]!;
    const K = 0.5 * tk * tk * kr;
    for (let t = 0; t < 2 * m; t++) p[t] = tk * p[t]! - K * v[t]!;
    for (let a = 0; a < m; a++) {
      const row = 2 * ((off + a) * n + off);
      const var_ = v[2 * a]!;
      const vai = v[2 * a + 1]!;
      const war = p[2 * a]!;
      const wai = p[2 * a + 1]!;
      for (let b = 0, o = row; b <= a; b++, o += 2) {
        // v_a conj(w_b) + w_a conj(v_b)
        const wbr = p[2 * b]!;
        const wbi = p[2 * b + 1]!;
        const vbr = v[2 * b]!;
        const vbi = v[2 * b + 1]!;
        A[o] = A[o]! - (var_ * wbr + vai * wbi + war * vbr + wai * vbi);
        A[o + 1] = A[o + 1]! - (vai * wbr - var_ * wbi + wai * vbr - war * vbi);
      }
    }
  }
  for (let i = 0; i < n; i++) d[i] = A[2 * (i * n + i)]!;
  // Phases making the sub-diagonal real: D_0 = 1, D_{k+1} = D_k β_k/|β_k|.
  const phRe = new Float64Array(n);
  const phIm = new Float64Array(n);
  const e = new Float64Array(n);
  phRe[0] = 1;
  for (let k = 0; k < n - 1; k++) {
    const mag = Math.hypot(eRe[k]!, eIm[k]!);
    e[k] = mag;
    if (mag > 0) {
      const ur = eRe[k]! / mag;
      const ui = eIm[k]! / mag;
      phRe[k + 1] = phRe[k]! * ur - phIm[k]! * ui;
      phIm[k + 1] = phRe[k]! * ui + phIm[k]! * ur;
    } else {
      phRe[k + 1] = phRe[k]!;
      phIm[k + 1] = phIm[k]!;
    }
  }
  let z: Float64Array | undefined;
  if (wantVectors) {
    z = new Float64Array(n * n);
    for (let i = 0; i < n; i++) z[i * n + i] = 1;
  }
  tridiagonalQL(d, e, n, z);
  // sort ascending
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[a]! - d[b]!);
  const values = new Float64Array(n);
  const up = 2 ** halfExp;
  for (let i = 0; i < n; i++) values[i] = d[order[i]!]! * up * up;
  if (!z) return { values };
  // eigenvector k of A: Q · D · z_k with Q = H_0 H_1 ⋯ H_{n−2}
  const outRe = new Float64Array(n * n);
  const outIm = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < n; c++) {
      const zz = z[order[c]! * n + i]!;
      outRe[i * n + c] = phRe[i]! * zz;
      outIm[i * n + c] = phIm[i]! * zz;
    }
  const sr = new Float64Array(n);
  const si = new Float64Array(n);
  for (let k = n - 2; k >= 0; k--) {
    const tk = tau[k]!;
    if (tk === 0) continue;
    const hb = 2 * n * k;
    const off = k + 1;
    const m = n - off;
    // columns c: x ← x − τ v (v† x), over rows off..n−1
    sr.fill(0);
    si.fill(0);
    for (let t = 0; t < m; t++) {
      const row = (off + t) * n;
      const ar = H[hb + 2 * t]!;
      const ai = -H[hb + 2 * t + 1]!; // conj(v_t)
      for (let c = 0; c < n; c++) {
        const xr = outRe[row + c]!;
        const xi = outIm[row + c]!;
        sr[c] = sr[c]! + ar * xr - ai * xi;
        si[c] = si[c]! + ar * xi + ai * xr;
      }
    }
    for (let t = 0; t < m; t++) {
      const row = (off + t) * n;
      const ar = tk * H[hb + 2 * t]!;
      const ai = tk * H[hb + 2 * t + 1]!;
      for (let c = 0; c < n; c++) {
        outRe[row + c] = outRe[row + c]! - (ar * sr[c]! - ai * si[c]!);
        outIm[row + c] = outIm[row + c]! - (ar * si[c]! + ai * sr[c]!);
      }
    }
  }
  return { values, vecRe: outRe, vecIm: outIm };
}

/**
 * Implicit QL with Wilkinson shifts on the symmetric tridiagonal matrix with diagonal d and
 * sub-diagonal e (e[k] couples k and k+1). d is overwritten by the eigenvalues (unsorted);
 * if z (n×n, start from the identity) is given, eigenvector j is accumulated in row j.
 */
export function tridiagonalQL(d: Float64Array, e: Float64Array, n: number, z?: Float64Array): void {
  e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= Number.EPSILON * dd) break;
      }
      if (m === l) break;
      if (++iter > 60) throw new Error('tridiagonalQL: no convergence');
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      let underflow = false;
      for (; i >= l; i--) {
        let f = s * e[i]!;
        const b = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] = d[i + 1]! - p;
          e[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (z) {
          // z holds the vectors as rows (contiguous): row j = vector j
          const r0 = i * n;
          const r1 = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            f = z[r1 + k]!;
            const zi = z[r0 + k]!;
            z[r1 + k] = s * zi + c * f;
            z[r0 + k] = c * zi - s * f;
          }
        }
      }
      if (underflow && i >= l) continue;
      d[l] = d[l]! - p;
      e[l] = g;
      e[m] = 0;
    }
  }
}
