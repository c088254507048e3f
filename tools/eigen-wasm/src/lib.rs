//! Hermitian eigen-solver kernel for softmode (core/phonon/eigen.ts), compiled to
//! wasm32-unknown-unknown with SIMD128 by tools/eigen-wasm/build.sh.
//!
//! Same method as the TypeScript solver it replaces (and which stays as its reference):
//! Householder reduction of the Hermitian matrix to Hermitian tridiagonal form, then the
//! implicit QL algorithm with Wilkinson shifts on the real symmetric tridiagonal matrix, then
//! (only when eigenvectors are wanted) the back-transformation by the Householder reflections.
//! For eigenvalues alone the tridiagonal step is LAPACK's root-free dsterf (`sterf` below).
//! What differs is the memory traffic and the arithmetic width:
//!  * the complex matrix is held in "paired split complex" rows (below), so the real (or the
//!    imaginary) parts of two consecutive columns are one f64x2 vector;
//!  * the rank-2 update of reduction step k is applied in the same sweep over the trailing
//!    block as the Hermitian matrix-vector product of step k+1 (one read and one write of each
//!    element per step instead of two reads and one write);
//!  * two rows are swept together, so every vector loaded along a row serves both.
//! The JavaScript side (core/phonon/eigen.ts) owns the memory layout: it passes byte offsets of
//! f64 arrays inside this module's memory. No allocation, no imports, no panics (raw pointers).
#![no_std]

use core::arch::wasm32::*;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    unreachable()
}

#[inline(always)]
unsafe fn ld(p: *const f64) -> v128 {
    v128_load(p as *const v128)
}
#[inline(always)]
unsafe fn st(p: *mut f64, v: v128) {
    v128_store(p as *mut v128, v)
}
#[inline(always)]
fn add(a: v128, b: v128) -> v128 {
    f64x2_add(a, b)
}
#[inline(always)]
fn sub(a: v128, b: v128) -> v128 {
    f64x2_sub(a, b)
}
#[inline(always)]
fn mul(a: v128, b: v128) -> v128 {
    f64x2_mul(a, b)
}
#[inline(always)]
fn sp(x: f64) -> v128 {
    f64x2_splat(x)
}
#[inline(always)]
fn hsum(v: v128) -> f64 {
    f64x2_extract_lane::<0>(v) + f64x2_extract_lane::<1>(v)
}
#[inline(always)]
fn fabs(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & 0x7fff_ffff_ffff_ffff)
}
#[inline(always)]
fn fmax(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}
#[inline(always)]
fn sqrt(x: f64) -> f64 {
    // f64x2.sqrt (IEEE correctly rounded, as f64.sqrt) on one lane: the scalar intrinsic is
    // not stable in Rust 1.95
    f64x2_extract_lane::<0>(f64x2_sqrt(f64x2_splat(x)))
}
/// √(a² + b²) without destructive under- or overflow: directly when the sum of squares lies
/// well inside the double range (the matrix is scaled to entries of order one, so nearly
/// always), else in EISPACK's pythag form.
#[inline(always)]
fn hypot(a: f64, b: f64) -> f64 {
    let s = a * a + b * b;
    if s > 1e-290 && s < 1e290 {
        return sqrt(s);
    }
    let a = fabs(a);
    let b = fabs(b);
    let (mx, mn) = if a > b { (a, b) } else { (b, a) };
    if mx == 0.0 {
        return 0.0;
    }
    let r = mn / mx;
    mx * sqrt(1.0 + r * r)
}

// Storage ("paired split complex"): a complex vector x_0..x_{m−1} is stored in blocks of two
// elements, [re x_2j, re x_2j+1, im x_2j, im x_2j+1], so that one f64x2 holds the real (or the
// imaginary) parts of two consecutive elements. The matrix: row a at a·rs (rs = 2·n2 doubles,
// n2 = n rounded up to even), element (a, b) at re: (b>>1)·4 + (b&1), im: +2.
// The per-step vectors live in one block array VB, 16 doubles per pair of indices:
// slots vp (re, im), wp, vc, p as below; element b of slot q at (b>>1)·16 + 2q + (b&1).
const VPR: usize = 0;
const VPI: usize = 1;
const WPR: usize = 2;
const WPI: usize = 3;
const VCR: usize = 4;
const VCI: usize = 5;
const PR: usize = 6;
const PI: usize = 7;

#[inline(always)]
fn mi(b: usize) -> usize {
    ((b >> 1) << 2) + (b & 1)
}
#[inline(always)]
fn vi(b: usize, q: usize) -> usize {
    ((b >> 1) << 4) + 2 * q + (b & 1)
}

/// One sweep over the trailing block rows/columns off..n−1 (lower triangle, diagonal included):
/// apply the pending update A ← A − vp wp† − wp vp† (UPD) and accumulate p += A·vc (HEMV) with
/// the updated elements. Rows go R at a time, then one at a time.
#[inline(always)]
unsafe fn sweep<const UPD: bool, const HEMV: bool>(n: usize, rs: usize, off: usize, am: *mut f64, vb: *mut f64) {
    let mut a = off;
    while a + ROWS <= n {
        rows::<UPD, HEMV, ROWS>(rs, off, am, vb, a);
        a += ROWS;
    }
    while a < n {
        rows::<UPD, HEMV, 1>(rs, off, am, vb, a);
        a += 1;
    }
}

const ROWS: usize = 2;

/// Rows a..a+R−1 of the sweep: columns off..a−1 (two at a time where aligned) for all R rows,
/// then the triangle of columns a..a+R−1 (diagonal included) element by element.
#[inline(always)]
unsafe fn rows<const UPD: bool, const HEMV: bool, const R: usize>(rs: usize, off: usize, am: *mut f64, vb: *mut f64, a: usize) {
    let g = |b: usize, q: usize| -> f64 { *vb.add(vi(b, q)) };
    let mut rp = [am; R];
    let mut vr = [0.0f64; R];
    let mut vi_ = [0.0f64; R];
    let mut wr = [0.0f64; R];
    let mut wi = [0.0f64; R];
    let mut cr = [0.0f64; R];
    let mut ci = [0.0f64; R];
    for r in 0..R {
        rp[r] = am.add((a + r) * rs);
        if UPD {
            vr[r] = g(a + r, VPR);
            vi_[r] = g(a + r, VPI);
            wr[r] = g(a + r, WPR);
            wi[r] = g(a + r, WPI);
        }
        if HEMV {
            cr[r] = g(a + r, VCR);
            ci[r] = g(a + r, VCI);
        }
    }
    let mut tr = [0.0f64; R];
    let mut ti = [0.0f64; R];
    // scalar element (row r, column b < a + r), both contributions
    let one = |r: usize, b: usize, tr: &mut [f64; R], ti: &mut [f64; R]| {
        let (vbr, vbi, wbr, wbi) = if UPD { (g(b, VPR), g(b, VPI), g(b, WPR), g(b, WPI)) } else { (0.0, 0.0, 0.0, 0.0) };
        let o = mi(b);
        let (xr, xi) = elem::<UPD>(rp[r].add(o), rp[r].add(o + 2), vr[r], vi_[r], wr[r], wi[r], vbr, vbi, wbr, wbi);
        if HEMV {
            let cbr = g(b, VCR);
            let cbi = g(b, VCI);
            tr[r] += xr * cbr - xi * cbi;
            ti[r] += xr * cbi + xi * cbr;
            *vb.add(vi(b, PR)) += xr * cr[r] + xi * ci[r];
            *vb.add(vi(b, PI)) += xr * ci[r] - xi * cr[r];
        }
    };
    let mut b = off;
    if b & 1 == 1 && b < a {
        for r in 0..R {
            one(r, b, &mut tr, &mut ti);
        }
        b += 1;
    }
    let jend = a >> 1;
    if (b >> 1) < jend {
        let mut svr = [sp(0.0); R];
        let mut svi = [sp(0.0); R];
        let mut swr = [sp(0.0); R];
        let mut swi = [sp(0.0); R];
        let mut scr = [sp(0.0); R];
        let mut sci = [sp(0.0); R];
        for r in 0..R {
            svr[r] = sp(vr[r]);
            svi[r] = sp(vi_[r]);
            swr[r] = sp(wr[r]);
            swi[r] = sp(wi[r]);
            scr[r] = sp(cr[r]);
            sci[r] = sp(ci[r]);
        }
        let mut sr = [sp(0.0); R];
        let mut si = [sp(0.0); R];
        let mut x = [am; R];
        for r in 0..R {
            x[r] = rp[r].add(mi(b));
        }
        let mut v = vb.add(vi(b, 0));
        let mut j = b >> 1;
        while j < jend {
            let (vbr, vbi, wbr, wbi) = if UPD { (ld(v), ld(v.add(2)), ld(v.add(4)), ld(v.add(6))) } else { (sp(0.0), sp(0.0), sp(0.0), sp(0.0)) };
            let (cbr, cbi) = if HEMV { (ld(v.add(8)), ld(v.add(10))) } else { (sp(0.0), sp(0.0)) };
            let mut pr_ = sp(0.0);
            let mut pi_ = sp(0.0);
            for r in 0..R {
                let mut xr = ld(x[r]);
                let mut xi = ld(x[r].add(2));
                if UPD {
                    xr = sub(xr, add(add(mul(svr[r], wbr), mul(svi[r], wbi)), add(mul(swr[r], vbr), mul(swi[r], vbi))));
                    xi = sub(xi, add(sub(mul(svi[r], wbr), mul(svr[r], wbi)), sub(mul(swi[r], vbr), mul(swr[r], vbi))));
                    st(x[r], xr);
                    st(x[r].add(2), xi);
                }
                if HEMV {
                    sr[r] = add(sr[r], sub(mul(xr, cbr), mul(xi, cbi)));
                    si[r] = add(si[r], add(mul(xr, cbi), mul(xi, cbr)));
                    pr_ = add(pr_, add(mul(xr, scr[r]), mul(xi, sci[r])));
                    pi_ = add(pi_, sub(mul(xr, sci[r]), mul(xi, scr[r])));
                }
                x[r] = x[r].add(4);
            }
            if HEMV {
                st(v.add(12), add(ld(v.add(12)), pr_));
                st(v.add(14), add(ld(v.add(14)), pi_));
            }
            v = v.add(16);
            j += 1;
        }
        b = jend << 1;
        for r in 0..R {
            tr[r] += hsum(sr[r]);
            ti[r] += hsum(si[r]);
        }
    }
    // the rest: columns b..a+r−1 of row r, then its diagonal
    for r in 0..R {
        for c in b..a + r {
            one(r, c, &mut tr, &mut ti);
        }
        let o = mi(a + r);
        let d = diag::<UPD>(rp[r].add(o), rp[r].add(o + 2), vr[r], vi_[r], wr[r], wi[r]);
        if HEMV {
            *vb.add(vi(a + r, PR)) += tr[r] + d * cr[r];
            *vb.add(vi(a + r, PI)) += ti[r] + d * ci[r];
        }
    }
}

/// One off-diagonal element: apply the pending update if UPD, store, return it.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn elem<const UPD: bool>(xr: *mut f64, xi: *mut f64, var: f64, vai: f64, war: f64, wai: f64, vbr: f64, vbi: f64, wbr: f64, wbi: f64) -> (f64, f64) {
    if UPD {
        let r = *xr - (var * wbr + vai * wbi + war * vbr + wai * vbi);
        let i = *xi - (vai * wbr - var * wbi + wai * vbr - war * vbi);
        *xr = r;
        *xi = i;
        (r, i)
    } else {
        (*xr, *xi)
    }
}

/// A diagonal element (real): apply the pending update if UPD, store, return it.
#[inline(always)]
unsafe fn diag<const UPD: bool>(xr: *mut f64, xi: *mut f64, var: f64, vai: f64, war: f64, wai: f64) -> f64 {
    if UPD {
        let r = *xr - (var * war + vai * wai + war * var + wai * vai);
        *xr = r;
        *xi = 0.0;
        r
    } else {
        *xr
    }
}

/// Householder reduction of the Hermitian n×n matrix `am` (paired-split-complex rows, see
/// above; lower triangle read and destroyed) to tridiagonal form: diagonal d[n], complex
/// sub-diagonal (er, ei)[n−1] with β_k = T[k+1][k], τ[n−1]; if hr ≠ 0 the Householder vector
/// of step k (length n−k−1) is stored at (hr, hi)[k·n ..]. vb: 8·n2 f64 (zeroed here).
/// Reflection k: H = I − τ v v†, H x = β e1.
#[no_mangle]
pub unsafe extern "C" fn tridiag(n: usize, am: *mut f64, d: *mut f64, er: *mut f64, ei: *mut f64, tau: *mut f64, hr: *mut f64, hi: *mut f64, vb: *mut f64) {
    let n2 = (n + 1) & !1;
    let rs = 2 * n2;
    for t in 0..8 * n2 {
        *vb.add(t) = 0.0;
    }
    let g = |b: usize, q: usize| -> f64 { *vb.add(vi(b, q)) };
    let s = |b: usize, q: usize, x: f64| *vb.add(vi(b, q)) = x;
    let mut pending = false;
    for k in 0..n {
        let off = k + 1;
        // column k, rows k..n−1: the pending update (which the previous sweep left out), then
        // copied into vc (rows off..), p cleared, the largest magnitude on the way
        let (vkr, vki, wkr, wki) = (g(k, VPR), g(k, VPI), g(k, WPR), g(k, WPI));
        if pending {
            let o = k * rs + mi(k);
            diag::<true>(am.add(o), am.add(o + 2), vkr, vki, wkr, wki);
        }
        *d.add(k) = *am.add(k * rs + mi(k));
        if off >= n {
            break;
        }
        let m = n - off;
        let mut scale = 0.0f64;
        for a in off..n {
            let o = a * rs + mi(k);
            let (xr, xi) = if pending {
                elem::<true>(am.add(o), am.add(o + 2), g(a, VPR), g(a, VPI), g(a, WPR), g(a, WPI), vkr, vki, wkr, wki)
            } else {
                (*am.add(o), *am.add(o + 2))
            };
            s(a, VCR, xr);
            s(a, VCI, xi);
            s(a, PR, 0.0);
            s(a, PI, 0.0);
            scale = fmax(scale, fmax(fabs(xr), fabs(xi)));
        }
        if m == 1 || scale == 0.0 {
            *er.add(k) = g(off, VCR);
            *ei.add(k) = g(off, VCI);
            *tau.add(k) = 0.0;
            if pending {
                sweep::<true, false>(n, rs, off, am, vb);
            }
            pending = false;
            continue;
        }
        // ‖x‖: directly where no square can under- or overflow, else scaled by the largest
        let alpha = if scale > 1e-150 && scale < 1e150 {
            sqrt(dot(vb, off, n, VCR, VCI, VCR, VCI))
        } else {
            let mut s2 = 0.0;
            for a in off..n {
                let xr = g(a, VCR) / scale;
                let xi = g(a, VCI) / scale;
                s2 += xr * xr;
                s2 += xi * xi;
            }
            scale * sqrt(s2)
        };
        let x0r = g(off, VCR);
        let x0i = g(off, VCI);
        let x0abs = hypot(x0r, x0i);
        let phr = if x0abs > 0.0 { x0r / x0abs } else { 1.0 };
        let phi = if x0abs > 0.0 { x0i / x0abs } else { 0.0 };
        s(off, VCR, x0r + phr * alpha);
        s(off, VCI, x0i + phi * alpha);
        let vv = dot(vb, off, n, VCR, VCI, VCR, VCI);
        let tk = 2.0 / vv;
        *tau.add(k) = tk;
        *er.add(k) = -phr * alpha;
        *ei.add(k) = -phi * alpha;
        if !hr.is_null() {
            for t in 0..m {
                *hr.add(k * n + t) = g(off + t, VCR);
                *hi.add(k * n + t) = g(off + t, VCI);
            }
        }
        if pending {
            sweep::<true, true>(n, rs, off, am, vb);
        } else {
            sweep::<false, true>(n, rs, off, am, vb);
        }
        // K = (τ/2) v†(τ A v) (real), w = τ A v − K v; the pending update becomes v w† + w v†
        let kk = 0.5 * tk * tk * dot(vb, off, n, VCR, VCI, PR, PI);
        next_pending(vb, off, n, tk, kk);
        pending = true;
    }
}

/// Σ_{a = off..n−1} (x_a y_a + u_a z_a) over the vb slots (x, u) and (y, z): the real part of
/// a Hermitian inner product. Two indices at a time; index n (padding of odd n) holds zeros.
#[inline(always)]
unsafe fn dot(vb: *const f64, off: usize, n: usize, qx: usize, qu: usize, qy: usize, qz: usize) -> f64 {
    let mut acc = 0.0;
    let mut a = off;
    if a & 1 == 1 {
        acc += *vb.add(vi(a, qx)) * *vb.add(vi(a, qy)) + *vb.add(vi(a, qu)) * *vb.add(vi(a, qz));
        a += 1;
    }
    let mut v = sp(0.0);
    while a < n {
        let base = vb.add((a >> 1) << 4);
        v = add(v, add(mul(ld(base.add(2 * qx)), ld(base.add(2 * qy))), mul(ld(base.add(2 * qu)), ld(base.add(2 * qz)))));
        a += 2;
    }
    acc + hsum(v)
}

/// wp ← τ p − K vc, vp ← vc over indices off..n−1 (two at a time; padding stays zero).
#[inline(always)]
unsafe fn next_pending(vb: *mut f64, off: usize, n: usize, tk: f64, kk: f64) {
    let mut a = off;
    if a & 1 == 1 {
        let g = |q: usize| *vb.add(vi(a, q));
        let (pr, pi, cr, ci) = (g(PR), g(PI), g(VCR), g(VCI));
        *vb.add(vi(a, WPR)) = tk * pr - kk * cr;
        *vb.add(vi(a, WPI)) = tk * pi - kk * ci;
        *vb.add(vi(a, VPR)) = cr;
        *vb.add(vi(a, VPI)) = ci;
        a += 1;
    }
    let (vt, vk) = (sp(tk), sp(kk));
    while a < n {
        let base = vb.add((a >> 1) << 4);
        let cr = ld(base.add(2 * VCR));
        let ci = ld(base.add(2 * VCI));
        st(base.add(2 * WPR), sub(mul(vt, ld(base.add(2 * PR))), mul(vk, cr)));
        st(base.add(2 * WPI), sub(mul(vt, ld(base.add(2 * PI))), mul(vk, ci)));
        st(base.add(2 * VPR), cr);
        st(base.add(2 * VPI), ci);
        a += 2;
    }
}

/// x ← (x·f)·f for every stored element of the lower triangle of the paired-split-complex
/// matrix (the exact power-of-two scaling of core/phonon/eigen.ts: two products, as there).
/// The upper element of the last pair of a row is scaled too (it is never read).
#[no_mangle]
pub unsafe extern "C" fn scale(n: usize, am: *mut f64, f: f64) {
    let n2 = (n + 1) & !1;
    let rs = 2 * n2;
    let vf = sp(f);
    for a in 0..n {
        let mut p = am.add(a * rs);
        for _ in 0..=(a >> 1) {
            st(p, mul(mul(ld(p), vf), vf));
            st(p.add(2), mul(mul(ld(p.add(2)), vf), vf));
            p = p.add(4);
        }
    }
}

/// Implicit QL with Wilkinson shifts on the symmetric tridiagonal matrix (d[n] diagonal,
/// e[n] sub-diagonal, e[k] couples k and k+1). d is overwritten by the eigenvalues (unsorted).
/// If z ≠ 0 (n×n, the identity on entry), eigenvector j is accumulated in row j.
/// Returns 0, or 1 when an eigenvalue did not converge in 60 iterations.
#[no_mangle]
pub unsafe extern "C" fn tql(n: usize, d: *mut f64, e: *mut f64, z: *mut f64) -> i32 {
    if n == 0 {
        return 0;
    }
    *e.add(n - 1) = 0.0;
    let eps = f64::EPSILON;
    for l in 0..n {
        let mut iter = 0;
        loop {
            let mut m = l;
            while m < n - 1 {
                let dd = fabs(*d.add(m)) + fabs(*d.add(m + 1));
                if fabs(*e.add(m)) <= eps * dd {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            iter += 1;
            if iter > 60 {
                return 1;
            }
            let mut g = (*d.add(l + 1) - *d.add(l)) / (2.0 * *e.add(l));
            let mut r = hypot(g, 1.0);
            g = *d.add(m) - *d.add(l) + *e.add(l) / (g + if g >= 0.0 { fabs(r) } else { -fabs(r) });
            let mut s = 1.0;
            let mut c = 1.0;
            let mut p = 0.0;
            let mut i = m as isize - 1;
            let mut underflow = false;
            while i >= l as isize {
                let iu = i as usize;
                let f = s * *e.add(iu);
                let b = c * *e.add(iu);
                r = hypot(f, g);
                *e.add(iu + 1) = r;
                if r == 0.0 {
                    *d.add(iu + 1) -= p;
                    *e.add(m) = 0.0;
                    underflow = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = *d.add(iu + 1) - p;
                r = (*d.add(iu) - g) * s + 2.0 * c * b;
                p = s * r;
                *d.add(iu + 1) = g + p;
                g = c * r - b;
                if !z.is_null() {
                    rotate(z.add(iu * n), z.add((iu + 1) * n), n, c, s);
                }
                i -= 1;
            }
            if underflow && i >= l as isize {
                continue;
            }
            *d.add(l) -= p;
            *e.add(l) = g;
            *e.add(m) = 0.0;
        }
    }
    0
}

/// Eigenvalues (unsorted) of the symmetric tridiagonal matrix with diagonal d[n] and
/// sub-diagonal e[n−1], no vectors: LAPACK's dsterf (Pal–Walker–Kahan root-free QL/QR, each
/// unreduced block by QL or QR according to which end is smaller), translated from
/// Reference-LAPACK SRC/dsterf.f. Its inner step has one square root fewer and a shorter
/// dependency chain than tql's; the block scaling (LAPACK's dlascl to SSFMAX/SSFMIN) is here an
/// exact power of two bringing the block norm near one, applied in the same cases.
/// d is overwritten by the eigenvalues, e destroyed. Returns 0, or the number of unconverged
/// off-diagonal elements after 30·n iterations.
#[no_mangle]
pub unsafe extern "C" fn sterf(n: usize, d: *mut f64, e: *mut f64) -> i32 {
    if n <= 1 {
        return 0;
    }
    let eps = f64::EPSILON * 0.5; // dlamch('E')
    let eps2 = eps * eps;
    let safmin = f64::MIN_POSITIVE; // dlamch('S')
    let ssfmax = sqrt(1.0 / safmin) / 3.0;
    let ssfmin = sqrt(safmin) / eps2;
    let nmaxit = 30 * n;
    let mut jtot = 0usize;
    let dd = |i: isize| -> f64 { *d.offset(i) };
    let ee = |i: isize| -> f64 { *e.offset(i) };
    let setd = |i: isize, x: f64| *d.offset(i) = x;
    let sete = |i: isize, x: f64| *e.offset(i) = x;
    let nn = n as isize;
    let mut l1: isize = 0;
    loop {
        if l1 >= nn {
            break;
        }
        if l1 > 0 {
            sete(l1 - 1, 0.0);
        }
        let mut m = l1;
        while m < nn - 1 {
            if fabs(ee(m)) <= sqrt(fabs(dd(m))) * sqrt(fabs(dd(m + 1))) * eps {
                sete(m, 0.0);
                break;
            }
            m += 1;
        }
        let mut l = l1;
        let lsv = l;
        let mut lend = m;
        let lendsv = lend;
        l1 = m + 1;
        if lend == l {
            continue;
        }
        // scale the block l..=lend when its largest entry is outside [ssfmin, ssfmax]
        let mut anorm = 0.0f64;
        for i in l..=lend {
            anorm = fmax(anorm, fabs(dd(i)));
        }
        for i in l..lend {
            anorm = fmax(anorm, fabs(ee(i)));
        }
        if anorm == 0.0 {
            continue;
        }
        let mut f = 1.0f64;
        if anorm > ssfmax || anorm < ssfmin {
            let two64 = 18446744073709551616.0f64;
            while anorm * f > 16.0 {
                f /= two64;
            }
            while anorm * f < 1.0 / 16.0 {
                f *= two64;
            }
            for i in l..=lend {
                setd(i, dd(i) * f);
            }
            for i in l..lend {
                sete(i, ee(i) * f);
            }
        }
        for i in l..lend {
            sete(i, ee(i) * ee(i));
        }
        if fabs(dd(lend)) < fabs(dd(l)) {
            lend = lsv;
            l = lendsv;
        }
        if lend >= l {
            // QL iteration
            loop {
                let mut m = lend;
                if l != lend {
                    let mut mm = l;
                    while mm < lend {
                        if fabs(ee(mm)) <= eps2 * fabs(dd(mm) * dd(mm + 1)) {
                            break;
                        }
                        mm += 1;
                    }
                    m = mm;
                }
                if m < lend {
                    sete(m, 0.0);
                }
                let mut p = dd(l);
                if m == l {
                    setd(l, p);
                    l += 1;
                    if l <= lend {
                        continue;
                    }
                    break;
                }
                if m == l + 1 {
                    let rte = sqrt(ee(l));
                    let (rt1, rt2) = lae2(dd(l), rte, dd(l + 1));
                    setd(l, rt1);
                    setd(l + 1, rt2);
                    sete(l, 0.0);
                    l += 2;
                    if l <= lend {
                        continue;
                    }
                    break;
                }
                if jtot == nmaxit {
                    break;
                }
                jtot += 1;
                let rte = sqrt(ee(l));
                let mut sigma = (dd(l + 1) - p) / (2.0 * rte);
                let r = hypot(sigma, 1.0);
                sigma = p - rte / (sigma + if sigma >= 0.0 { fabs(r) } else { -fabs(r) });
                let mut c = 1.0;
                let mut s = 0.0;
                let mut gamma = dd(m) - sigma;
                p = gamma * gamma;
                let mut i = m - 1;
                while i >= l {
                    let bb = ee(i);
                    let r = p + bb;
                    if i != m - 1 {
                        sete(i + 1, s * r);
                    }
                    let oldc = c;
                    c = p / r;
                    s = bb / r;
                    let oldgam = gamma;
                    let alpha = dd(i);
                    gamma = c * (alpha - sigma) - s * oldgam;
                    setd(i + 1, oldgam + (alpha - gamma));
                    p = if c != 0.0 { (gamma * gamma) / c } else { oldc * bb };
                    i -= 1;
                }
                sete(l, s * p);
                setd(l, sigma + gamma);
            }
        } else {
            // QR iteration
            loop {
                let mut m = l;
                while m >= lend + 1 {
                    if fabs(ee(m - 1)) <= eps2 * fabs(dd(m) * dd(m - 1)) {
                        break;
                    }
                    m -= 1;
                }
                if m < lend + 1 {
                    m = lend;
                }
                if m > lend {
                    sete(m - 1, 0.0);
                }
                let mut p = dd(l);
                if m == l {
                    setd(l, p);
                    l -= 1;
                    if l >= lend {
                        continue;
                    }
                    break;
                }
                if m == l - 1 {
                    let rte = sqrt(ee(l - 1));
                    let (rt1, rt2) = lae2(dd(l), rte, dd(l - 1));
                    setd(l, rt1);
                    setd(l - 1, rt2);
                    sete(l - 1, 0.0);
                    l -= 2;
                    if l >= lend {
                        continue;
                    }
                    break;
                }
                if jtot == nmaxit {
                    break;
                }
                jtot += 1;
                let rte = sqrt(ee(l - 1));
                let mut sigma = (dd(l - 1) - p) / (2.0 * rte);
                let r = hypot(sigma, 1.0);
                sigma = p - rte / (sigma + if sigma >= 0.0 { fabs(r) } else { -fabs(r) });
                let mut c = 1.0;
                let mut s = 0.0;
                let mut gamma = dd(m) - sigma;
                p = gamma * gamma;
                for i in m..l {
                    let bb = ee(i);
                    let r = p + bb;
                    if i != m {
                        sete(i - 1, s * r);
                    }
                    let oldc = c;
                    c = p / r;
                    s = bb / r;
                    let oldgam = gamma;
                    let alpha = dd(i + 1);
                    gamma = c * (alpha - sigma) - s * oldgam;
                    setd(i, oldgam + (alpha - gamma));
                    p = if c != 0.0 { (gamma * gamma) / c } else { oldc * bb };
                }
                sete(l - 1, s * p);
                setd(l, sigma + gamma);
            }
        }
        if f != 1.0 {
            for i in lsv..=lendsv {
                setd(i, dd(i) / f);
            }
        }
        if jtot >= nmaxit {
            let mut bad = 0;
            for i in 0..nn - 1 {
                if ee(i) != 0.0 {
                    bad += 1;
                }
            }
            return bad;
        }
    }
    0
}

/// Eigenvalues of the symmetric 2×2 matrix [[a, b], [b, c]]: (larger, smaller) in absolute
/// value (LAPACK's dlae2).
#[inline(always)]
fn lae2(a: f64, b: f64, c: f64) -> (f64, f64) {
    let sm = a + c;
    let df = a - c;
    let adf = fabs(df);
    let tb = b + b;
    let ab = fabs(tb);
    let (acmx, acmn) = if fabs(a) > fabs(c) { (a, c) } else { (c, a) };
    let rt = if adf > ab {
        adf * sqrt(1.0 + (ab / adf) * (ab / adf))
    } else if adf < ab {
        ab * sqrt(1.0 + (adf / ab) * (adf / ab))
    } else {
        ab * sqrt(2.0)
    };
    if sm < 0.0 {
        let rt1 = 0.5 * (sm - rt);
        (rt1, (acmx / rt1) * acmn - (b / rt1) * b)
    } else if sm > 0.0 {
        let rt1 = 0.5 * (sm + rt);
        (rt1, (acmx / rt1) * acmn - (b / rt1) * b)
    } else {
        (0.5 * rt, -0.5 * rt)
    }
}

/// rows (z0, z1) ← (c z0 − s z1, s z0 + c z1)
#[inline(always)]
unsafe fn rotate(z0: *mut f64, z1: *mut f64, n: usize, c: f64, s: f64) {
    let vc = sp(c);
    let vs = sp(s);
    let mut k = 0;
    while k + 2 <= n {
        let a = ld(z0.add(k));
        let b = ld(z1.add(k));
        st(z1.add(k), add(mul(vs, a), mul(vc, b)));
        st(z0.add(k), sub(mul(vc, a), mul(vs, b)));
        k += 2;
    }
    while k < n {
        let a = *z0.add(k);
        let b = *z1.add(k);
        *z1.add(k) = s * a + c * b;
        *z0.add(k) = c * a - s * b;
        k += 1;
    }
}

/// X ← H_0 H_1 ⋯ H_{n−2} X for the complex n×n matrix X = (xr, xi) (row-major), with the
/// reflections H_k = I − τ_k v_k v_k† of tridiag (v_k acting on rows k+1..n−1).
/// work: 2n f64.
#[no_mangle]
pub unsafe extern "C" fn apply_q(n: usize, tau: *const f64, hr: *const f64, hi: *const f64, xr: *mut f64, xi: *mut f64, work: *mut f64) {
    if n < 2 {
        return;
    }
    let sr = work;
    let si = work.add(n);
    for k in (0..n - 1).rev() {
        let tk = *tau.add(k);
        if tk == 0.0 {
            continue;
        }
        let off = k + 1;
        let m = n - off;
        for c in 0..n {
            *sr.add(c) = 0.0;
            *si.add(c) = 0.0;
        }
        // s = v† X (rows off..n−1), two rows at a time
        let mut t = 0;
        while t < m {
            let two = t + 1 < m;
            let a0r = *hr.add(k * n + t);
            let a0i = -*hi.add(k * n + t);
            let (a1r, a1i) = if two { (*hr.add(k * n + t + 1), -*hi.add(k * n + t + 1)) } else { (0.0, 0.0) };
            let row0 = (off + t) * n;
            let row1 = if two { row0 + n } else { row0 };
            let (va0r, va0i, va1r, va1i) = (sp(a0r), sp(a0i), sp(a1r), sp(a1i));
            let mut c = 0;
            while c + 2 <= n {
                let x0r = ld(xr.add(row0 + c));
                let x0i = ld(xi.add(row0 + c));
                let mut accr = add(ld(sr.add(c)), sub(mul(va0r, x0r), mul(va0i, x0i)));
                let mut acci = add(ld(si.add(c)), add(mul(va0r, x0i), mul(va0i, x0r)));
                if two {
                    let x1r = ld(xr.add(row1 + c));
                    let x1i = ld(xi.add(row1 + c));
                    accr = add(accr, sub(mul(va1r, x1r), mul(va1i, x1i)));
                    acci = add(acci, add(mul(va1r, x1i), mul(va1i, x1r)));
                }
                st(sr.add(c), accr);
                st(si.add(c), acci);
                c += 2;
            }
            while c < n {
                let x0r = *xr.add(row0 + c);
                let x0i = *xi.add(row0 + c);
                *sr.add(c) += a0r * x0r - a0i * x0i;
                *si.add(c) += a0r * x0i + a0i * x0r;
                if two {
                    let x1r = *xr.add(row1 + c);
                    let x1i = *xi.add(row1 + c);
                    *sr.add(c) += a1r * x1r - a1i * x1i;
                    *si.add(c) += a1r * x1i + a1i * x1r;
                }
                c += 1;
            }
            t += if two { 2 } else { 1 };
        }
        // X −= τ v s
        for t in 0..m {
            let ar_ = tk * *hr.add(k * n + t);
            let ai_ = tk * *hi.add(k * n + t);
            let row = (off + t) * n;
            let (var_, vai_) = (sp(ar_), sp(ai_));
            let mut c = 0;
            while c + 2 <= n {
                let s_r = ld(sr.add(c));
                let s_i = ld(si.add(c));
                st(xr.add(row + c), sub(ld(xr.add(row + c)), sub(mul(var_, s_r), mul(vai_, s_i))));
                st(xi.add(row + c), sub(ld(xi.add(row + c)), add(mul(var_, s_i), mul(vai_, s_r))));
                c += 2;
            }
            while c < n {
                let s_r = *sr.add(c);
                let s_i = *si.add(c);
                *xr.add(row + c) -= ar_ * s_r - ai_ * s_i;
                *xi.add(row + c) -= ar_ * s_i + ai_ * s_r;
                c += 1;
            }
        }
    }
}

/// Bench probe, not part of the solver: the f64x2 multiply-and-add throughput of this engine on
/// this core with no memory traffic (12 independent chains x ← x·c₁ + c₂, 48 flops per round;
/// WebAssembly SIMD128 has no fused multiply-add). bench/phonon-speed.ts divides 48·iters by
/// the time: the ceiling any kernel here can reach, beside the reduction's own flop rate.
#[no_mangle]
pub extern "C" fn simd_peak(iters: u32, seed: f64) -> f64 {
    let c1 = sp(0.999_999);
    let c2 = sp(1e-7);
    let mut x = [sp(seed); 12];
    for (k, v) in x.iter_mut().enumerate() {
        *v = sp(seed + k as f64);
    }
    for _ in 0..iters {
        for v in x.iter_mut() {
            *v = add(mul(*v, c1), c2);
        }
    }
    let mut s = sp(0.0);
    for v in x {
        s = add(s, v);
    }
    hsum(s)
}
