// Small dense real matrices (n ≤ 6) for the cell filter: exponential, principal logarithm and
// the Fréchet derivative of the exponential. Row-major Float64Array of length n².
//
// expm: scaling and squaring with the [13/13] Padé approximant (Higham 2005), the method
// scipy.linalg.expm uses. logm: inverse scaling and squaring — square roots (Denman–Beavers)
// until ‖X − I‖₁ ≤ 0.25, then log(I + Y) by m-point Gauss–Legendre quadrature of
// ∫₀¹ Y(I + tY)⁻¹ dt (the [m/m] Padé approximant), scaled back by 2^k.
// Fréchet derivative: L(A, E) is the upper-right block of exp([[A, E], [0, A]]).

export type Mat = Float64Array;

export function eye(n: number): Mat {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

export function mul(a: Mat, b: Mat, n: number): Mat {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] = c[i * n + j]! + aik * b[k * n + j]!;
    }
  return c;
}

export function add(a: Mat, b: Mat, sb = 1): Mat {
  const c = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) c[i] = a[i]! + sb * b[i]!;
  return c;
}

export function scale(a: Mat, s: number): Mat {
  const c = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) c[i] = a[i]! * s;
  return c;
}

/** Induced 1-norm (max column sum). */
export function norm1(a: Mat, n: number): number {
  let best = 0;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.abs(a[i * n + j]!);
    if (s > best) best = s;
  }
  return best;
}

/** Solve A·X = B (B n×m, row-major) by LU with partial pivoting. */
export function solve(a: Mat, b: Mat, n: number, m = n): Mat {
  const A = Float64Array.from(a);
  const X = Float64Array.from(b);
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(A[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(A[i * n + k]!);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (best === 0 || !Number.isFinite(best)) throw new RangeError('singular matrix in solve');
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = A[k * n + j]!;
        A[k * n + j] = A[p * n + j]!;
        A[p * n + j] = t;
      }
      for (let j = 0; j < m; j++) {
        const t = X[k * m + j]!;
        X[k * m + j] = X[p * m + j]!;
        X[p * m + j] = t;
      }
    }
    const piv = A[k * n + k]!;
    for (let i = k + 1; i < n; i++) {
      const f = A[i * n + k]! / piv;
      if (f === 0) continue;
      for (let j = k; j < n; j++) A[i * n + j] = A[i * n + j]! - f * A[k * n + j]!;
      for (let j = 0; j < m; j++) X[i * m + j] = X[i * m + j]! - f * X[k * m + j]!;
    }
  }
  for (let k = n - 1; k >= 0; k--) {
    const piv = A[k * n + k]!;
    for (let j = 0; j < m; j++) {
      let s = X[k * m + j]!;
      for (let i = k + 1; i < n; i++) s -= A[k * n + i]! * X[i * m + j]!;
      X[k * m + j] = s / piv;
    }
  }
  return X;
}

export function inverse(a: Mat, n: number): Mat {
  return solve(a, eye(n), n);
}

// [13/13] Padé coefficients of exp: b_j = (26−j)!·13! / (26!·j!·(13−j)!), normalised so b_13 = 1
// exactly as in Higham's table (the ratios are what matter).
const PADE13: number[] = (() => {
  const m = 13;
  const fact = (k: number): number => {
    let f = 1;
    for (let i = 2; i <= k; i++) f *= i;
    return f;
  };
  const c: number[] = [];
  for (let j = 0; j <= m; j++) c.push((fact(2 * m - j) * fact(m)) / (fact(2 * m) * fact(j) * fact(m - j)));
  const top = c[m]!;
  return c.map((x) => Math.round(x / top));
})();
// Largest ‖A‖₁ for which the unscaled [13/13] approximant is accurate to double precision.
const THETA13 = 5.371920351148152;

export function expm(a: Mat, n: number): Mat {
  for (const x of a) if (!Number.isFinite(x)) throw new RangeError('non-finite matrix in expm');
  const nrm = norm1(a, n);
  const s = nrm > THETA13 ? Math.max(0, Math.ceil(Math.log2(nrm / THETA13))) : 0;
  const A = s > 0 ? scale(a, Math.pow(2, -s)) : a;
  const b = PADE13;
  const I = eye(n);
  const A2 = mul(A, A, n);
  const A4 = mul(A2, A2, n);
  const A6 = mul(A4, A2, n);
  const lin = (terms: [number, Mat][]): Mat => {
    const r = new Float64Array(n * n);
    for (const [c, M] of terms) for (let i = 0; i < r.length; i++) r[i] = r[i]! + c * M[i]!;
    return r;
  };
  const U = mul(
    A,
    add(mul(A6, lin([[b[13]!, A6], [b[11]!, A4], [b[9]!, A2]]), n), lin([[b[7]!, A6], [b[5]!, A4], [b[3]!, A2], [b[1]!, I]])),
    n,
  );
  const V = add(mul(A6, lin([[b[12]!, A6], [b[10]!, A4], [b[8]!, A2]]), n), lin([[b[6]!, A6], [b[4]!, A4], [b[2]!, A2], [b[0]!, I]]));
  let R = solve(add(V, U, -1), add(V, U), n);
  for (let k = 0; k < s; k++) R = mul(R, R, n);
  return R;
}

/** Fréchet derivative of expm at A in direction E. */
export function expmFrechet(a: Mat, e: Mat, n: number): Mat {
  const N = 2 * n;
  const big = new Float64Array(N * N);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      big[i * N + j] = a[i * n + j]!;
      big[(i + n) * N + (j + n)] = a[i * n + j]!;
      big[i * N + (j + n)] = e[i * n + j]!;
    }
  const X = expm(big, N);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = X[i * N + (j + n)]!;
  return out;
}

/** Principal square root by the Denman–Beavers iteration. */
export function sqrtm(a: Mat, n: number): Mat {
  let Y: Mat = Float64Array.from(a);
  let Z: Mat = eye(n);
  for (let it = 0; it < 100; it++) {
    const Yi = inverse(Y, n);
    const Zi = inverse(Z, n);
    const Yn = scale(add(Y, Zi), 0.5);
    const Zn = scale(add(Z, Yi), 0.5);
    let diff = 0;
    let size = 0;
    for (let i = 0; i < Yn.length; i++) {
      diff = Math.max(diff, Math.abs(Yn[i]! - Y[i]!));
      size = Math.max(size, Math.abs(Yn[i]!));
    }
    Y = Yn;
    Z = Zn;
    if (diff <= 1e-15 * size) break;
  }
  return Y;
}

// Gauss–Legendre nodes and weights on [0, 1], computed once (Newton on P_m).
function gaussLegendre01(m: number): { x: number[]; w: number[] } {
  const x: number[] = [];
  const w: number[] = [];
  for (let i = 1; i <= m; i++) {
    let t = Math.cos((Math.PI * (i - 0.25)) / (m + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = t;
      for (let k = 2; k <= m; k++) {
        const p2 = ((2 * k - 1) * t * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = (m * (t * p1 - p0)) / (t * t - 1);
      const dt = p1 / dp;
      t -= dt;
      if (Math.abs(dt) < 1e-16) break;
    }
    // recompute derivative at the converged node
    let p0 = 1;
    let p1 = t;
    for (let k = 2; k <= m; k++) {
      const p2 = ((2 * k - 1) * t * p1 - (k - 1) * p0) / k;
      p0 = p1;
      p1 = p2;
    }
    dp = (m * (t * p1 - p0)) / (t * t - 1);
    x.push((1 - t) / 2);
    w.push(1 / ((1 - t * t) * dp * dp));
  }
  return { x, w };
}
const LOG_QUAD = gaussLegendre01(10);

/** Principal matrix logarithm (eigenvalues must avoid the closed negative real axis). */
export function logm(a: Mat, n: number): Mat {
  for (const x of a) if (!Number.isFinite(x)) throw new RangeError('non-finite matrix in logm');
  const I = eye(n);
  let X: Mat = Float64Array.from(a);
  let k = 0;
  while (norm1(add(X, I, -1), n) > 0.25) {
    X = sqrtm(X, n);
    if (++k > 60) throw new RangeError('logm: no convergence of square roots (matrix too far from identity?)');
  }
  const Y = add(X, I, -1);
  const L = new Float64Array(n * n);
  for (let q = 0; q < LOG_QUAD.x.length; q++) {
    const term = solve(add(I, Y, LOG_QUAD.x[q]!), Y, n); // (I + tY)⁻¹Y = Y(I + tY)⁻¹
    const wq = LOG_QUAD.w[q]!;
    for (let i = 0; i < L.length; i++) L[i] = L[i]! + wq * term[i]!;
  }
  return k > 0 ? scale(L, Math.pow(2, k)) : L;
}
