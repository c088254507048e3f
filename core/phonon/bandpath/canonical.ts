// spglib-compatible choice of the conventional basis. moyo's 'Spglib' setting gives the right
// Hall setting, but where several bases describe the crystal in that same setting (axis order of
// Fmmm or Imma, the reduced monoclinic cell, 3- or 4-fold relabellings of a cubic cell) it picks
// another one than spglib, and seekpath's extended Bravais type and path follow spglib's choice.
// Here we enumerate the bases that keep the space-group setting and choose as spglib does:
//   orthorhombic: axes that may be exchanged are sorted by length (a ≤ b ≤ c where all are free);
//   monoclinic (unique axis b): β ≥ 90°, smallest |a| + |c|, and |a| ≤ |c| for P2, P2₁, Pm,
//     P2/m, P2₁/m (Parthé & Gelato's best cell);
//   and, among choices equal by these rules, the one closest to the input basis (spglib keeps the
//   input basis when it is already a standard one). "Closest" compares both the conventional and
//   the HPKOT primitive cell with the input, so an input that already is the HPKOT primitive cell
//   (what seekpath returns, what PhononBench relaxed) is kept as it is.
import { type Mat3, type Vec3, det3, dot3, inv3, matmul3, matvec3, norm3, transpose3 } from '../../math/linalg.js';
import type { SymmetryOperation } from '../../symmetry/index.js';
import type { CrystalFamily } from './standardize.js';

const ORIGIN_GRID = 24; // origin shifts k/24 cover the 1/2, 1/3, 1/4, 1/6, 1/8 of all settings
const TRANSLATION_TOL = 1e-4;

function key(W: Mat3): string {
  return W.flat().join(',');
}

function roundM(m: Mat3): Mat3 {
  return m.map((r) => r.map((x) => Math.round(x))) as Mat3;
}

/**
 * Whether the basis change Q (new rows = Q · old rows, integer, det ±1) keeps the operations of
 * the conventional cell the same set up to an origin shift, i.e. keeps the Hall setting.
 */
export function keepsSetting(ops: readonly SymmetryOperation[], Q: Mat3): boolean {
  // fractional column coordinates transform as x = Qᵀ x' → W' = Q⁻ᵀ W Qᵀ, w' = Q⁻ᵀ w
  const QinvT = roundM(transpose3(inv3(Q)));
  const QT = transpose3(Q);
  const table = new Map<string, Vec3[]>();
  for (const op of ops) {
    const k = key(op.rotation);
    const list = table.get(k) ?? [];
    list.push(op.translation);
    table.set(k, list);
  }
  const transformed = ops.map((op) => ({
    W: roundM(matmul3(matmul3(QinvT, op.rotation), QT)),
    w: matvec3(QinvT, op.translation),
  }));
  // rotation parts must be the same set
  for (const t of transformed) if (!table.has(key(t.W))) return false;
  // Flattened for the origin search: for op i, (W − I) row-major, w, and the allowed targets u.
  const isId = (W: Mat3) => W.every((r, i) => r.every((x, j) => x === (i === j ? 1 : 0)));
  const nearInt = (x: number) => Math.abs(x - Math.round(x)) < TRANSLATION_TOL;
  const fits = (w: Vec3, u: Vec3) => nearInt(w[0] - u[0]) && nearInt(w[1] - u[1]) && nearInt(w[2] - u[2]);
  // ops whose rotation is the identity (centring translations) do not depend on the origin
  for (const t of transformed) if (isId(t.W) && !table.get(key(t.W))!.some((u) => fits(t.w, u))) return false;
  const rest = transformed
    .filter((t) => !isId(t.W))
    .map((t) => ({
      A: [t.W[0][0] - 1, t.W[0][1], t.W[0][2], t.W[1][0], t.W[1][1] - 1, t.W[1][2], t.W[2][0], t.W[2][1], t.W[2][2] - 1],
      w: t.w,
      us: table.get(key(t.W))!,
    }));
  if (rest.length === 0) return true;
  const ok = (p0: number, p1: number, p2: number) => {
    for (const { A, w, us } of rest) {
      const s0 = w[0] + A[0]! * p0 + A[1]! * p1 + A[2]! * p2;
      const s1 = w[1] + A[3]! * p0 + A[4]! * p1 + A[5]! * p2;
      const s2 = w[2] + A[6]! * p0 + A[7]! * p1 + A[8]! * p2;
      let hit = false;
      for (const u of us) {
        if (nearInt(s0 - u[0]) && nearInt(s1 - u[1]) && nearInt(s2 - u[2])) {
          hit = true;
          break;
        }
      }
      if (!hit) return false;
    }
    return true;
  };
  for (let i = 0; i < ORIGIN_GRID; i++)
    for (let j = 0; j < ORIGIN_GRID; j++)
      for (let k = 0; k < ORIGIN_GRID; k++) if (ok(i / ORIGIN_GRID, j / ORIGIN_GRID, k / ORIGIN_GRID)) return true;
  return false;
}

function signedPermutations(): Mat3[] {
  const perms = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ];
  const out: Mat3[] = [];
  for (const p of perms)
    for (let s = 0; s < 8; s++) {
      const m: Mat3 = [
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ];
      for (let r = 0; r < 3; r++) m[r]![p[r]!] = (s >> r) & 1 ? -1 : 1;
      if (det3(m) === 1) out.push(m);
    }
  return out;
}

/** Integer bases of the hexagonal lattice with the same metric (the 6/mmm holohedry, det +1). */
function hexagonalAutomorphisms(conv: Mat3): Mat3[] {
  const G = matmul3(conv, transpose3(conv));
  const scale = G[0][0] + G[1][1] + G[2][2];
  const out: Mat3[] = [];
  const vals = [-1, 0, 1];
  for (const a of vals)
    for (const b of vals)
      for (const c of vals)
        for (const d of vals)
          for (const s of [-1, 1]) {
            const Q: Mat3 = [
              [a, b, 0],
              [c, d, 0],
              [0, 0, s],
            ];
            if (det3(Q) !== 1) continue;
            const G2 = matmul3(matmul3(Q, G), transpose3(Q));
            if (G2.every((r, i) => r.every((x, j) => Math.abs(x - G[i]![j]!) < 1e-8 * scale))) out.push(Q);
          }
  return out;
}

/** Bases of the monoclinic lattice with b kept (±b): a' = i·a + j·c, c' = k·a + l·c, det +1. */
function monoclinicBases(conv: Mat3): Mat3[] {
  // First Lagrange-reduce the (a, c) plane so that small coefficients reach the best cell.
  let R: [number, number, number, number] = [1, 0, 0, 1]; // a' = R0 a + R1 c, c' = R2 a + R3 c
  const vec = (x: number, y: number): Vec3 => [
    x * conv[0][0] + y * conv[2][0],
    x * conv[0][1] + y * conv[2][1],
    x * conv[0][2] + y * conv[2][2],
  ];
  for (let iter = 0; iter < 100; iter++) {
    let u = vec(R[0], R[1]);
    let v = vec(R[2], R[3]);
    if (dot3(v, v) < dot3(u, u)) {
      R = [R[2], R[3], R[0], R[1]];
      [u, v] = [v, u];
    }
    const m = Math.round(dot3(u, v) / dot3(u, u));
    if (m === 0) break;
    R = [R[0], R[1], R[2] - m * R[0], R[3] - m * R[1]];
  }
  const out: Mat3[] = [];
  const range = [-2, -1, 0, 1, 2];
  for (const i of range)
    for (const j of range)
      for (const k of range)
        for (const l of range) {
          const d2 = i * l - j * k;
          if (d2 !== 1 && d2 !== -1) continue;
          // in terms of the reduced pair (u, v): a' = i u + j v, c' = k u + l v
          const a1 = i * R[0] + j * R[2];
          const a3 = i * R[1] + j * R[3];
          const c1 = k * R[0] + l * R[2];
          const c3 = k * R[1] + l * R[3];
          for (const s of [-1, 1]) {
            const Q: Mat3 = [
              [a1, 0, a3],
              [0, s, 0],
              [c1, 0, c3],
            ];
            if (det3(Q) === 1) out.push(Q);
          }
        }
  return out;
}

function frobenius(a: Mat3, b: Mat3): number {
  let s = 0;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += (a[i]![j]! - b[i]![j]!) ** 2;
  return Math.sqrt(s);
}

interface Candidate {
  Q: Mat3;
  /** criteria compared in order, smaller first */
  keys: number[];
}

// Groups for which Parthé & Gelato's |a| ≤ |c| applies (spglib: no glide fixing the axes).
const MONOCLINIC_LENGTH_ORDER = new Set([3, 4, 6, 10, 11]);

/**
 * Choose the conventional basis. `conv` rows are moyo's standardized cell (any orientation),
 * `convInput` the same rows expressed in the input frame, `input` the input lattice; `ops` are the
 * operations of the conventional cell (its own fractional basis, centring translations included);
 * `primFromConv` the HPKOT primitive rows in terms of conventional rows.
 * Returns Q with chosen rows = Q · conv.
 */
export function spglibLikeBasis(
  family: CrystalFamily,
  spaceGroup: number,
  conv: Mat3,
  convInput: Mat3,
  input: Mat3,
  ops: readonly SymmetryOperation[],
  symprec: number,
  primFromConv: Mat3,
): Mat3 {
  let raw: Mat3[];
  switch (family) {
    case 'o':
    case 't':
    case 'c':
      raw = signedPermutations();
      break;
    case 'h':
      raw = hexagonalAutomorphisms(conv);
      break;
    case 'm':
      raw = monoclinicBases(conv);
      break;
    default:
      return [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ];
  }
  const scale = norm3(conv[0]) + norm3(conv[1]) + norm3(conv[2]);
  const candidates: Candidate[] = [];
  for (const Q of raw) {
    const L = matmul3(Q, conv);
    const len = [norm3(L[0]), norm3(L[1]), norm3(L[2])];
    const keys: number[] = [];
    if (family === 't' || family === 'c') {
      // only relabellings of the same metric are candidates
      const len0 = [norm3(conv[0]), norm3(conv[1]), norm3(conv[2])];
      if (len.some((x, i) => Math.abs(x - len0[i]!) > 1e-8 * scale)) continue;
    } else if (family === 'o') {
      keys.push(...len);
    } else if (family === 'm') {
      if (dot3(L[0], L[2]) > 1e-10 * scale * scale) continue; // β must not be acute
      if (MONOCLINIC_LENGTH_ORDER.has(spaceGroup) && len[0]! > len[2]! + 1e-10 * scale) continue;
      keys.push(len[0]! + len[2]!);
    }
    const convQ = matmul3(Q, convInput);
    keys.push(Math.min(frobenius(convQ, input), frobenius(matmul3(primFromConv, convQ), input)));
    candidates.push({ Q, keys });
  }
  // lengths compare with a tolerance (spglib: symprec for the monoclinic sum, ~exact otherwise)
  const tolFor = (i: number, c: Candidate) =>
    i < c.keys.length - 1 ? (family === 'm' ? symprec : 1e-8 * scale) : 1e-9 * scale;
  candidates.sort((x, y) => {
    for (let i = 0; i < x.keys.length; i++) {
      const d = x.keys[i]! - y.keys[i]!;
      if (Math.abs(d) > tolFor(i, x)) return d;
    }
    return 0;
  });
  for (const c of candidates) if (keepsSetting(ops, c.Q)) return c.Q;
  throw new Error(`no basis keeps the setting of space group ${spaceGroup} (internal error)`);
}
