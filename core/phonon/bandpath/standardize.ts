// From any cell to the HPKOT description: crystallographic conventional cell (moyo, spglib
// setting), extended Bravais type, HPKOT primitive cell and the matrix that relates it to the
// input lattice. HPKOT = Hinuma et al., Comput. Mater. Sci. 128, 140 (2017), sections 3–4.
import type { MoyoDataset } from '@spglib/moyo-wasm';
import { BANDPATH_DEFAULTS } from '../../../config/bandpath.js';
import { StructureError } from '../../errors.js';
import { type Mat3, type Vec3, det3, dot3, inv3, matmul3, norm3, transpose3, vecmat3, wrap01 } from '../../math/linalg.js';
import { type Structure, makeStructure } from '../../structure/structure.js';
import { getSymmetry } from '../../symmetry/index.js';
import { loadMoyo } from '../../symmetry/moyo.js';
import { type CrystalFamily, crystalFamily, standardSetting } from '../../symmetry/standardize.js';
import { spglibLikeBasis } from './canonical.js';
import { niggliReduce, spglibNiggliOptions } from '../../structure/niggli.js';
import type { ExtendedBravais, LatticeParams } from './tables.js';

export type { CrystalFamily };
export type Centering = 'P' | 'A' | 'C' | 'I' | 'F' | 'R';

export interface HpkotCell {
  spaceGroup: number;
  /** Hall number of moyo's standardized setting (spglib's default setting of the group) */
  hallNumber: number;
  /** e.g. 'cF', 'oA', 'hR' */
  bravais: string;
  extendedBravais: ExtendedBravais;
  /** the point group contains −1 (matters only for paths without time reversal) */
  hasInversion: boolean;
  /** lattice parameters of the conventional cell (moyo's idealized standardized cell) */
  latticeParams: LatticeParams;
  /** conventional cell rows in the input Cartesian frame: conv = convFromInput · input lattice */
  convFromInput: Mat3;
  /** HPKOT primitive rows from conventional rows (HPKOT Table 3): prim = primFromConv · conv */
  primFromConv: Mat3;
  /** HPKOT primitive rows from input rows: hpkotFromInput = primFromConv · convFromInput */
  hpkotFromInput: Mat3;
  /** HPKOT primitive cell in the input Cartesian frame (atoms from moyo's standardized cell) */
  primitive: { lattice: Mat3; frac: Vec3[]; numbers: number[] };
  /** near-ties in the tests that choose the extended type (HPKOT's edge cases) */
  edgeCases: string[];
}

export function latticeParams(rows: Mat3): LatticeParams {
  const [v1, v2, v3] = rows;
  const a = norm3(v1);
  const b = norm3(v2);
  const c = norm3(v3);
  return { a, b, c, cosAlpha: dot3(v2, v3) / (b * c), cosBeta: dot3(v1, v3) / (a * c), cosGamma: dot3(v1, v2) / (a * b) };
}

/** Reciprocal rows without 2π: B = (L⁻¹)ᵀ, so that L · Bᵀ = 1. */
export function reciprocalRows(rows: Mat3): Mat3 {
  return transpose3(inv3(rows));
}

// HPKOT Table 3, written as rows of the primitive vectors in terms of the conventional a, b, c.
const HALF = 0.5;
const THIRD = 1 / 3;
type PrimitiveKind = 'P' | 'F' | 'I' | 'R' | 'oC' | 'oA' | 'mC';
const PRIM_FROM_CONV: Record<PrimitiveKind, Mat3> = {
  P: [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ],
  // a_P = (b+c)/2, b_P = (a+c)/2, c_P = (a+b)/2
  F: [
    [0, HALF, HALF],
    [HALF, 0, HALF],
    [HALF, HALF, 0],
  ],
  // a_P = (−a+b+c)/2, b_P = (a−b+c)/2, c_P = (a+b−c)/2
  I: [
    [-HALF, HALF, HALF],
    [HALF, -HALF, HALF],
    [HALF, HALF, -HALF],
  ],
  // obverse rhombohedral from hexagonal axes: a_P = (2a+b+c)/3, b_P = (−a+b+c)/3, c_P = (−a−2b+c)/3
  R: [
    [2 * THIRD, THIRD, THIRD],
    [-THIRD, THIRD, THIRD],
    [-THIRD, -2 * THIRD, THIRD],
  ],
  // C-centred orthorhombic: a_P = (a−b)/2, b_P = (a+b)/2, c_P = c
  oC: [
    [HALF, -HALF, 0],
    [HALF, HALF, 0],
    [0, 0, 1],
  ],
  // A-centred orthorhombic: a_P = (b−c)/2, b_P = (b+c)/2, c_P = a
  oA: [
    [0, HALF, -HALF],
    [0, HALF, HALF],
    [1, 0, 0],
  ],
  // C-centred monoclinic: a_P = (a+b)/2, b_P = (−a+b)/2, c_P = c
  mC: [
    [HALF, HALF, 0],
    [-HALF, HALF, 0],
    [0, 0, 1],
  ],
};

// Trigonal/hexagonal groups whose band path needs the extra K–H_2 segment (hP1 in HPKOT):
// point groups 3, −3, 312-type (P312, P3₁12, P3₂12), 31m and −31m; R groups never reach here.
const HP1_GROUPS = new Set([143, 144, 145, 147, 149, 151, 153, 157, 159, 162, 163]);

function primitiveKind(family: CrystalFamily, centering: Centering): PrimitiveKind {
  if (family === 'o' && centering === 'C') return 'oC';
  if (family === 'o' && centering === 'A') return 'oA';
  if (family === 'm' && centering === 'C') return 'mC';
  if (centering === 'A' || centering === 'C') throw new Error(`no HPKOT primitive for ${family}${centering}`);
  return centering;
}

interface Classification {
  ext: ExtendedBravais;
  edgeCases: string[];
}

function near(x: number, y: number, tol: number): boolean {
  return Math.abs(x - y) < tol;
}

function classifyNonTriclinic(
  family: CrystalFamily,
  centering: Centering,
  sg: number,
  lp: LatticeParams,
  tol: number,
): Classification {
  const edge: string[] = [];
  const { a, b, c, cosBeta } = lp;
  const key = `${family}${centering}`;
  switch (key) {
    case 'cP':
      return { ext: sg <= 206 ? 'cP1' : 'cP2', edgeCases: edge };
    case 'cF':
      return { ext: sg <= 206 ? 'cF1' : 'cF2', edgeCases: edge };
    case 'cI':
      return { ext: 'cI1', edgeCases: edge };
    case 'tP':
      return { ext: 'tP1', edgeCases: edge };
    case 'tI':
      if (near(a, c, tol)) edge.push('tI: a ≈ c');
      return { ext: c <= a ? 'tI1' : 'tI2', edgeCases: edge };
    case 'oP':
      return { ext: 'oP1', edgeCases: edge };
    case 'oF': {
      const [ia, ib, ic] = [1 / (a * a), 1 / (b * b), 1 / (c * c)];
      if (near(ia, ib + ic, tol)) edge.push('oF: 1/a² ≈ 1/b² + 1/c²');
      if (near(ic, ia + ib, tol)) edge.push('oF: 1/c² ≈ 1/a² + 1/b²');
      if (ia > ib + ic) return { ext: 'oF1', edgeCases: edge };
      if (ic > ia + ib) return { ext: 'oF2', edgeCases: edge };
      return { ext: 'oF3', edgeCases: edge };
    }
    case 'oI': {
      // the longest axis decides: c → oI1, a → oI2, b → oI3 (exact ties go to b, then a)
      const ranked = [
        { len: c, ext: 'oI1' as const, tie: 1 },
        { len: a, ext: 'oI2' as const, tie: 2 },
        { len: b, ext: 'oI3' as const, tie: 3 },
      ].sort((x, y) => y.len - x.len || y.tie - x.tie);
      if (near(ranked[0]!.len, ranked[1]!.len, tol)) edge.push('oI: two longest axes ≈ equal');
      return { ext: ranked[0]!.ext, edgeCases: edge };
    }
    case 'oC':
      if (near(a, b, tol)) edge.push('oC: a ≈ b');
      return { ext: a <= b ? 'oC1' : 'oC2', edgeCases: edge };
    case 'oA':
      if (near(b, c, tol)) edge.push('oA: b ≈ c');
      return { ext: b <= c ? 'oA1' : 'oA2', edgeCases: edge };
    case 'hP':
      return { ext: HP1_GROUPS.has(sg) ? 'hP1' : 'hP2', edgeCases: edge };
    case 'hR':
      if (near(Math.sqrt(3) * a, Math.sqrt(2) * c, tol)) edge.push('hR: √3·a ≈ √2·c');
      return { ext: Math.sqrt(3) * a <= Math.sqrt(2) * c ? 'hR1' : 'hR2', edgeCases: edge };
    case 'mP':
      return { ext: 'mP1', edgeCases: edge };
    case 'mC': {
      const sinBeta = Math.sqrt(1 - cosBeta * cosBeta);
      if (near(b, a * sinBeta, tol)) edge.push('mC: b ≈ a·sinβ');
      if (b < a * sinBeta) return { ext: 'mC1', edgeCases: edge };
      const f = (-a * cosBeta) / c + (a * a * sinBeta * sinBeta) / (b * b);
      if (near(f, 1, tol)) edge.push('mC: −a·cosβ/c + a²sin²β/b² ≈ 1');
      return { ext: f <= 1 ? 'mC2' : 'mC3', edgeCases: edge };
    }
    default:
      throw new StructureError('symmetry_failed', `unexpected lattice type ${key} for space group ${sg}`);
  }
}

/**
 * Triclinic (HPKOT §4.1 and Table 2): Niggli-reduce the reciprocal lattice, cycle the axes so that
 * |k_a·k_b·cos k_γ| is the smallest of the three such products, then flip two axes if needed to
 * make the reciprocal angles all obtuse (aP2) or all acute (aP3). Returns the integer matrix K
 * with new conventional rows = K · conventional rows.
 */
function triclinicCell(conv: Mat3, tol: number, niggliEps: number): { ext: ExtendedBravais; K: Mat3; edgeCases: string[] } {
  const edge: string[] = [];
  // seekpath reduces the 2π-scaled reciprocal rows with spglib's absolute ε (Å⁻²); the same
  // comparisons on rows without 2π need ε/(2π)², so near-ties break the same way.
  const recip = reciprocalRows(conv);
  const red = niggliReduce(recip, spglibNiggliOptions(niggliEps / (4 * Math.PI * Math.PI)));
  // real rows from reduced reciprocal rows: R = (B⁻¹)ᵀ; with B' = T·B, R' = T⁻ᵀ·R.
  let K = transpose3(inv3(red.transform));
  const recipParams = (Kc: Mat3) => latticeParams(reciprocalRows(matmul3(Kc, conv)));
  {
    const p = recipParams(K);
    const products = [
      Math.abs(p.b * p.c * p.cosAlpha),
      Math.abs(p.c * p.a * p.cosBeta),
      Math.abs(p.a * p.b * p.cosGamma),
    ];
    // index of the smallest product (first one on exact ties)
    let smallest = 0;
    for (let i = 1; i < 3; i++) if (products[i]! < products[smallest]!) smallest = i;
    // cyclic relabelling that brings the pair with the smallest product to (a, b)
    const cycle: Record<number, Mat3> = {
      0: [
        [0, 1, 0],
        [0, 0, 1],
        [1, 0, 0],
      ], // (a, b, c) ← (b, c, a)
      1: [
        [0, 0, 1],
        [1, 0, 0],
        [0, 1, 0],
      ], // (a, b, c) ← (c, a, b)
      2: [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
    };
    K = matmul3(cycle[smallest]!, K);
  }
  {
    const p = recipParams(K);
    const cosines = [p.cosAlpha, p.cosBeta, p.cosGamma];
    cosines.forEach((x, i) => {
      if (Math.abs(x) < tol) edge.push(`aP: reciprocal angle ${'αβγ'[i]} ≈ 90°`);
    });
    const acute = cosines.map((x) => x > 0);
    const nAcute = acute.filter(Boolean).length;
    if (nAcute === 1 || nAcute === 2) {
      // the odd angle is the one whose sign differs from the other two; flipping the two axes
      // other than its own index i keeps that angle and flips the other two.
      const odd = nAcute === 1 ? acute.indexOf(true) : acute.indexOf(false);
      const flip: Mat3 = [
        [odd === 0 ? 1 : -1, 0, 0],
        [0, odd === 1 ? 1 : -1, 0],
        [0, 0, odd === 2 ? 1 : -1],
      ];
      K = matmul3(flip, K);
    }
  }
  const p = recipParams(K);
  const c3 = [p.cosAlpha, p.cosBeta, p.cosGamma];
  if (c3.every((x) => x <= 0)) return { ext: 'aP2', K, edgeCases: edge };
  if (c3.every((x) => x >= 0)) return { ext: 'aP3', K, edgeCases: edge };
  throw new Error(`triclinic reduction left mixed reciprocal angles: ${c3.join(', ')}`);
}

function roundMatrix(m: Mat3, what: string): Mat3 {
  const r = m.map((row) => row.map((x) => Math.round(x))) as Mat3;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++)
      if (Math.abs(r[i]![j]! - m[i]![j]!) > 1e-6) throw new Error(`${what} is not integer: ${JSON.stringify(m)}`);
  return r;
}

/** Unique atoms of a cell given in fractional coordinates of a smaller cell (merged mod 1). */
function mergeAtoms(frac: Vec3[], numbers: number[], tol: number): { frac: Vec3[]; numbers: number[] } {
  const outF: Vec3[] = [];
  const outN: number[] = [];
  for (let i = 0; i < frac.length; i++) {
    const f = frac[i]!.map(wrap01) as Vec3;
    let dup = -1;
    for (let j = 0; j < outF.length; j++) {
      const g = outF[j]!;
      let ok = true;
      for (let k = 0; k < 3 && ok; k++) {
        const d = f[k]! - g[k]!;
        if (Math.abs(d - Math.round(d)) > tol) ok = false;
      }
      if (ok) {
        dup = j;
        break;
      }
    }
    if (dup >= 0) {
      if (outN[dup] !== numbers[i])
        throw new Error(`atoms of species ${outN[dup]} and ${numbers[i]} coincide in the HPKOT primitive cell`);
      continue;
    }
    outF.push(f);
    outN.push(numbers[i]!);
  }
  return { frac: outF, numbers: outN };
}

export interface StandardizeOptions {
  symprec?: number;
  edgeCaseThreshold?: number;
}

/** Standardize a structure for the HPKOT band path. */
export function hpkotCell(structure: Structure, opts: StandardizeOptions = {}): HpkotCell {
  const symprec = opts.symprec ?? BANDPATH_DEFAULTS.symprec;
  const tol = opts.edgeCaseThreshold ?? BANDPATH_DEFAULTS.edgeCaseThreshold;
  const sym = getSymmetry(structure, symprec, 'Spglib');
  const ds: MoyoDataset = sym.dataset;
  const sg = ds.number;
  const family = crystalFamily(sg);
  // spglib's standardized setting is the first Hall setting of the group; its centering letter
  // (A only for Amm2-type groups 38–41, R for rhombohedral groups on hexagonal axes) decides.
  const moyo = loadMoyo();
  const first = moyo.hall_symbol_entries_from_number(sg)[0]!;
  if (ds.hall_number !== first.hall_number)
    throw new Error(`moyo standardized to Hall ${ds.hall_number}, expected spglib's setting ${first.hall_number}`);
  const centering = first.centering as Centering;

  const input = structure.lattice as Mat3;
  // moyo's conventional cell: conv rows = Pᵀ · input rows (x_input = P · x_conv + o)
  const std = standardSetting(ds, 'conventional');
  let convFromInput = transpose3(std.linear);
  let convStd = std.lattice;
  let convFrac: Vec3[] = std.frac;
  const numbers = std.numbers;

  let ext: ExtendedBravais;
  let edgeCases: string[];
  if (family === 'a') {
    const tri = triclinicCell(convStd, tol, BANDPATH_DEFAULTS.niggliEpsilon);
    ext = tri.ext;
    edgeCases = tri.edgeCases;
    convStd = matmul3(tri.K, convStd);
    convFromInput = matmul3(tri.K, convFromInput);
    const Kinv = roundMatrix(inv3(tri.K), 'inverse triclinic transformation');
    convFrac = convFrac.map((f) => vecmat3(f, Kinv));
  } else {
    // moyo's standardized cell in the group's setting, re-chosen among the bases of that same
    // setting the way spglib chooses (seekpath's types and paths follow spglib's cell)
    // operations of the standardized cell itself: they sit at the setting's own origin, which the
    // origin search of keepsSetting needs (the input's origin can be anywhere)
    const stdOps = getSymmetry(makeStructure({ lattice: convStd, frac: convFrac, numbers }), symprec, 'Spglib').operations;
    const Q = spglibLikeBasis(
      family,
      sg,
      convStd,
      matmul3(convFromInput, input),
      input,
      stdOps,
      symprec,
      PRIM_FROM_CONV[primitiveKind(family, centering)],
    );
    convStd = matmul3(Q, convStd);
    convFromInput = matmul3(Q, convFromInput);
    const Qinv = roundMatrix(inv3(Q), 'inverse basis change');
    convFrac = convFrac.map((f) => vecmat3(f, Qinv));
    const cl = classifyNonTriclinic(family, centering, sg, latticeParams(convStd), tol);
    ext = cl.ext;
    edgeCases = cl.edgeCases;
  }
  const primFromConv = PRIM_FROM_CONV[primitiveKind(family, centering)];
  const hpkotFromInput = matmul3(primFromConv, convFromInput);
  const primLattice = matmul3(hpkotFromInput, input);
  // conv fractional f relates to primitive fractional f_P by f = f_P · P (rows), so f_P = f · P⁻¹
  const convToPrimFrac = roundMatrix(inv3(primFromConv), 'inverse HPKOT primitive transformation');
  const merged = mergeAtoms(
    convFrac.map((f) => vecmat3(f, convToPrimFrac)),
    numbers,
    BANDPATH_DEFAULTS.primitiveMergeTolerance,
  );
  const ratio = Math.abs(det3(convToPrimFrac));
  if (merged.frac.length * ratio !== numbers.length)
    throw new Error(`HPKOT primitive has ${merged.frac.length} atoms, expected ${numbers.length / ratio}`);

  const hasInversion = sym.operations.some((op) =>
    op.rotation.every((row, i) => row.every((x, j) => x === (i === j ? -1 : 0))),
  );
  return {
    spaceGroup: sg,
    hallNumber: ds.hall_number,
    bravais: `${family}${centering}`,
    extendedBravais: ext,
    hasInversion,
    latticeParams: latticeParams(convStd),
    convFromInput,
    primFromConv,
    hpkotFromInput,
    primitive: { lattice: primLattice, frac: merged.frac, numbers: merged.numbers },
    edgeCases,
  };
}
