// Golden checks of physics.md §8 items 1–5 against phonopy's own numbers
// (../shared/data/golden/phonopy/reference.json and the phonopy output files beside it).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  buildPhononModel,
  commensurateQpoints,
  defaultMesh,
  fcBlock,
  generateDisplacements,
  makeSupercell,
  meshQpoints,
  pointGroupRotations,
  shortestVectors,
  thermalProperties,
  type DisplacementForces,
} from '../core/phonon/index.js';
import { readForceSets, readPhonopyYaml } from '../core/phonon/phonopy-io.js';
import { HAS_SHARED, SHARED_MISSING, sharedPath } from './helpers.js';

if (!HAS_SHARED) console.warn(SHARED_MISSING);

const G = (...p: string[]): string => sharedPath('data/golden/phonopy', ...p);

interface Reference {
  [k: string]: any;
}

function ref(): Reference {
  return JSON.parse(readFileSync(G('reference.json'), 'utf8')) as Reference;
}

function flat(d: { atom: number; displacement: readonly number[] }[]): number[][] {
  return d.map((x) => [x.atom, ...x.displacement]);
}

function expectDisplacements(got: number[][], want: number[][]): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, k) => {
    expect(g[0]).toBe(want[k]![0]);
    for (let a = 1; a < 4; a++) expect(Math.abs(g[a]! - want[k]![a]!)).toBeLessThanOrEqual(1e-15);
  });
}

/** sorted frequencies at the 27 q of a 3×3×3 Γ-centred mesh; each reference row must match one */
function expectMeshRows(freqs: Float64Array[], rows: number[], atol: number): void {
  const n = freqs[0]!.length;
  for (let r = 0; r < rows.length / n; r++) {
    const row = rows.slice(n * r, n * r + n);
    const best = Math.min(...freqs.map((f) => Math.max(...row.map((x, t) => Math.abs(x - f[t]!)))));
    expect(best).toBeLessThanOrEqual(atol);
  }
}

const mesh333: number[][] = [];
for (const k of [-1, 0, 1]) for (const j of [-1, 0, 1]) for (const i of [-1, 0, 1]) mesh333.push([i / 3, j / 3, k / 3]);

describe.skipIf(!HAS_SHARED)('golden: displacements (physics.md §8.1)', () => {
  it('NaCl, both modes', () => {
    const d = readPhonopyYaml(G('NaCl', 'phonopy_disp.yaml'));
    const sc = makeSupercell(d.unitcell!, d.supercellMatrix!).structure;
    const want = ref()['NaCl'].displacements_ref as number[][];
    expectDisplacements(flat(generateDisplacements(sc, { diagonal: true })), want);
    expectDisplacements(flat(generateDisplacements(sc, { diagonal: false })), want);
  });
  it('Si, both modes', () => {
    const d = readPhonopyYaml(G('Si', 'phonopy_params.yaml'));
    const sc = makeSupercell(d.unitcell!, d.supercellMatrix!).structure;
    const want = ref()['Si'].displacements_ref as number[][];
    expectDisplacements(flat(generateDisplacements(sc, { diagonal: true })), want);
    expectDisplacements(flat(generateDisplacements(sc, { diagonal: false })), want);
  });
  it('SnO2: diagonal (phonopy default) and axis mode (its FORCE_SETS)', () => {
    const d = readPhonopyYaml(G('SnO2', 'phonopy_disp.yaml'));
    const sc = makeSupercell(d.unitcell!, d.supercellMatrix!).structure;
    expectDisplacements(flat(generateDisplacements(sc, { diagonal: true })), ref()['SnO2'].displacements_ref_generated_diagonal);
    expectDisplacements(flat(generateDisplacements(sc, { diagonal: false })), ref()['SnO2'].displacements_in_FORCE_SETS_axis_mode);
    expectDisplacements(flat(readForceSets(G('SnO2', 'FORCE_SETS')).sets), ref()['SnO2'].displacements_in_FORCE_SETS_axis_mode);
  });
  it('TiO2: diagonal', () => {
    const d = readPhonopyYaml(G('TiO2', 'phonopy_disp.yaml'));
    const sc = makeSupercell(d.unitcell!, d.supercellMatrix!).structure;
    expectDisplacements(flat(generateDisplacements(sc, { diagonal: true })), ref()['TiO2'].displacements_ref_generated_diagonal);
  });
  it('supercells reproduce phonopy atom order (NaCl, SnO2, TiO2, CaTiO3, MgB2, Si, Al)', () => {
    for (const f of ['NaCl/phonopy_disp.yaml', 'SnO2/phonopy_disp.yaml', 'TiO2/phonopy_disp.yaml', 'CaTiO3/phonopy_disp.yaml', 'MgB2/phonopy_disp.yaml', 'Si/phonopy_params.yaml', 'Al-ABACUS/phonopy.yaml']) {
      const d = readPhonopyYaml(G(f));
      const sc = makeSupercell(d.unitcell!, d.supercellMatrix!).structure;
      expect(sc.numbers).toEqual(d.supercell!.numbers);
      sc.frac.forEach((p, i) => {
        for (let a = 0; a < 3; a++) {
          const x = p[a]! - d.supercell!.frac[i]![a]!;
          expect(Math.abs(x - Math.round(x))).toBeLessThan(1e-12);
        }
      });
    }
  });
});

describe.skipIf(!HAS_SHARED)('golden: NaCl and Si force constants, dynamical matrix, frequencies (§8.2–3)', () => {
  it('NaCl Φ[1,10] after level-1 symmetrization, D(q), 3×3×3 frequencies', () => {
    const R = ref()['NaCl'];
    const d = readPhonopyYaml(G('NaCl', 'phonopy_disp.yaml'));
    const fs = readForceSets(G('NaCl', 'FORCE_SETS'));
    const m = buildPhononModel({ unitcell: d.unitcell!, supercellMatrix: d.supercellMatrix!, primitiveMatrix: d.primitiveMatrix!, supercell: d.supercell!, displacements: fs.sets, masses: d.unitcellMasses! });
    const blk = fcBlock(m.forceConstants, 1, 10).flat();
    blk.forEach((x, k) => expect(Math.abs(x - R.fc_1_10_ref_flat[k])).toBeLessThanOrEqual(1e-6));
    const hist: Record<string, number> = {};
    for (const x of m.svecs.multiplicity) hist[x] = (hist[x] ?? 0) + 1;
    expect(hist).toEqual({ 1: 54, 2: 54, 4: 18, 8: 2 });
    for (const key of Object.keys(R.dynmat.q_frac_primitive)) {
      const { re, im } = m.dynmat.matrixAt(R.dynmat.q_frac_primitive[key]);
      const want = R.dynmat.ref_re_im[key] as number[][][];
      for (let i = 0; i < 6; i++)
        for (let j = 0; j < 6; j++) {
          expect(Math.abs(re[i * 6 + j]! - want[i]![j]![0]!)).toBeLessThanOrEqual(1e-5);
          expect(Math.abs(im[i * 6 + j]! - want[i]![j]![1]!)).toBeLessThanOrEqual(1e-5);
        }
    }
    expectMeshRows(m.dynmat.frequenciesAt(mesh333), R.mesh_3x3x3_nonac.freqs_flat, 1e-5);
  });
  it('Si 3×3×3 frequencies and shortest-vector multiplicities', () => {
    const R = ref()['Si'];
    const d = readPhonopyYaml(G('Si', 'phonopy_params.yaml'));
    const m = buildPhononModel({ unitcell: d.unitcell!, supercellMatrix: d.supercellMatrix!, primitiveMatrix: d.primitiveMatrix!, displacements: d.displacements as DisplacementForces[], masses: d.unitcellMasses! });
    const hist: Record<string, number> = {};
    for (const x of m.svecs.multiplicity) hist[x] = (hist[x] ?? 0) + 1;
    expect(hist).toEqual({ 1: 10, 2: 12, 3: 8, 6: 2 });
    expectMeshRows(m.dynmat.frequenciesAt(mesh333), R.mesh_3x3x3.freqs_flat, 1e-5);
    // shortest vectors do not depend on which Niggli basis was found
    expect(shortestVectors(m.supercell, m.prim).vecs.length).toBe(m.svecs.vecs.length);
  });
});

describe.skipIf(!HAS_SHARED)('golden: Al-ABACUS band.yaml and mesh.yaml (§8.4)', () => {
  it('all 84 band and 60 mesh q-points within 1e-6 THz (no symmetrization, factor 21.490680)', () => {
    const d = readPhonopyYaml(G('Al-ABACUS', 'phonopy.yaml'));
    const fs = readForceSets(G('Al-ABACUS', 'FORCE_SETS'));
    // phonopy removes no drift; without symmetrization the drift matters, so keep it as phonopy does
    const m = buildPhononModel({
      unitcell: d.unitcell!,
      supercellMatrix: d.supercellMatrix!,
      primitiveMatrix: d.primitiveMatrix!,
      supercell: d.supercell!,
      displacements: fs.sets,
      masses: d.unitcellMasses!,
      symmetrizeLevel: 0,
      removeDrift: false,
      frequencyFactor: d.frequencyFactor!,
    });
    expect(d.frequencyFactor).toBeCloseTo(21.49068, 6);
    const counts: number[] = [];
    for (const f of ['band.yaml', 'mesh.yaml']) {
      const y = parseYaml(readFileSync(G('Al-ABACUS', f), 'utf8')) as { phonon: { 'q-position': number[]; band: { frequency: number }[] }[] };
      counts.push(y.phonon.length);
      let worst = 0;
      for (const p of y.phonon) {
        const want = p.band.map((b) => b.frequency).sort((a, b) => a - b);
        const got = m.dynmat.modesAt(p['q-position']).frequencies;
        want.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - got[i]!))));
      }
      expect(worst).toBeLessThanOrEqual(1e-6);
    }
    expect(counts).toEqual([84, 60]);
  });
});

describe.skipIf(!HAS_SHARED)('golden: Loew et al. mp-1000 (BaTe) (§8.2, §8.5)', () => {
  const path = sharedPath('data/golden/loew-mp-1000/mp-1000.yaml');
  it('Φ within 1e-10, frequencies at {0,½}³ within 1e-6 THz, ZPE on the default mesh within 1e-6 kJ/mol', () => {
    const d = readPhonopyYaml(path);
    const y = parseYaml(readFileSync(path, 'utf8')) as { phonon_freq: number[][]; free_e: number[]; temperatures: number[] };
    const m = buildPhononModel({ unitcell: d.unitcell!, supercellMatrix: d.supercellMatrix!, primitiveMatrix: d.primitiveMatrix!, supercell: d.supercell!, displacements: d.displacements as DisplacementForces[], masses: d.unitcellMasses! });
    let worst = 0;
    const want = d.forceConstants!.data;
    m.forceConstants.data.forEach((x, k) => (worst = Math.max(worst, Math.abs(x - want[k]!))));
    expect(worst).toBeLessThanOrEqual(1e-10);
    // the 8 points {0,½}³, a fastest, as stored in phonon_freq
    const qs: number[][] = [];
    for (const c of [0, 0.5]) for (const b of [0, 0.5]) for (const a of [0, 0.5]) qs.push([a, b, c]);
    const fr = m.dynmat.frequenciesAt(qs);
    let wf = 0;
    y.phonon_freq.forEach((row, k) => row.forEach((x, i) => (wf = Math.max(wf, Math.abs(x - fr[k]![i]!)))));
    expect(wf).toBeLessThanOrEqual(1e-6);
    // phonopy's default mesh (length 100) is 25×25×25 here
    const mesh = defaultMesh(m.primitive.lattice);
    expect(mesh).toEqual([25, 25, 25]);
    const mq = meshQpoints(mesh, pointGroupRotations(m.primitive));
    const t = thermalProperties(m.dynmat.frequenciesAt(mq.qpoints), mq.weights, { temperatures: [0], cutoffFrequency: 1e-5 });
    expect(y.temperatures[0]).toBe(0);
    expect(Math.abs(t.zpe - y.free_e[0]!)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(t.zpe - 2.691565)).toBeLessThanOrEqual(1e-6);
    expect(commensurateQpoints(m.prim.supercellMatrixOfPrimitive).length).toBe(32);
  });
});

describe.skipIf(!HAS_SHARED)('dynamical matrix: frequency path and eigenvectors agree', () => {
  it('modesAt without vectors (lattice-vector phases) equals the eigenvalues of D(q) with eigenvectors (SnO2, general q)', () => {
    const d = readPhonopyYaml(G('SnO2', 'phonopy_disp.yaml'));
    const fs = readForceSets(G('SnO2', 'FORCE_SETS'));
    const m = buildPhononModel({ unitcell: d.unitcell!, supercellMatrix: d.supercellMatrix!, supercell: d.supercell!, displacements: fs.sets, masses: d.unitcellMasses! });
    for (const q of [[0.1, 0.27, -0.33], [0.5, 0.5, 0.5], [0, 0, 0.25]]) {
      const a = m.dynmat.modesAt(q).frequencies;
      const b = m.dynmat.modesAt(q, true);
      a.forEach((x, k) => expect(Math.abs(x - b.frequencies[k]!)).toBeLessThan(1e-9));
      // D e = λ e for the lowest mode, with D in phonopy's phase convention
      const { re, im } = m.dynmat.matrixAt(q);
      const n = m.dynmat.dim;
      const lam = Math.sign(b.frequencies[0]!) * (b.frequencies[0]! / m.dynmat.factor) ** 2;
      let res = 0;
      for (let i = 0; i < n; i++) {
        let sr = 0;
        let si = 0;
        for (let j = 0; j < n; j++) {
          const xr = b.vecRe![j * n]!;
          const xi = b.vecIm![j * n]!;
          sr += re[i * n + j]! * xr - im[i * n + j]! * xi;
          si += re[i * n + j]! * xi + im[i * n + j]! * xr;
        }
        res = Math.max(res, Math.abs(sr - lam * b.vecRe![i * n]!), Math.abs(si - lam * b.vecIm![i * n]!));
      }
      expect(res).toBeLessThan(1e-10);
    }
  });
});
