import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { THERMO_CONFIG } from '../config/phonon.js';
import { SoftmodeInputError } from '../core/errors.js';
import { det3 } from '../core/math/linalg.js';
import { chooseSupercell, commensurateQpoints, computeForceConstants, makeSupercell, meshQpoints, thermalProperties, type DisplacementForces } from '../core/phonon/index.js';
import { formatForceSets, formatPhonopyDispYaml, parseForceSets, parsePhonopyConf, parsePhonopyYaml } from '../core/phonon/phonopy-io.js';
import { makeStructure } from '../core/structure/structure.js';
import { run as phononsCli } from '../cli/commands/phonons.js';
import { HAS_SHARED, SHARED_MISSING, sharedPath } from './helpers.js';

if (!HAS_SHARED) console.warn(SHARED_MISSING);

const a = 4.05;
const fccPrim = makeStructure({ lattice: [[0, a / 2, a / 2], [a / 2, 0, a / 2], [a / 2, a / 2, 0]], frac: [[0, 0, 0]], numbers: [13] });

describe('supercells', () => {
  it('non-diagonal matrix: fcc primitive → conventional cube with 4 atoms (column convention)', () => {
    const M = [[-1, 1, 1], [1, -1, 1], [1, 1, -1]];
    const sc = makeSupercell(fccPrim, M);
    expect(sc.structure.numbers.length).toBe(4);
    const L = sc.structure.lattice;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(L[i]![j]!).toBeCloseTo(i === j ? a : 0, 12);
    const pos = sc.structure.frac.map((p) => p.map((x) => Math.round(x * 2) / 2).join(',')).sort();
    expect(pos).toEqual(['0,0,0', '0,0.5,0.5', '0.5,0,0.5', '0.5,0.5,0']);
    expect(sc.s2u).toEqual([0, 0, 0, 0]);
  });
  it('diagonal matrix keeps unit-cell blocks with a fastest', () => {
    const s = makeStructure({ lattice: [[3, 0, 0], [0, 4, 0], [0, 0, 5]], frac: [[0, 0, 0], [0.5, 0.5, 0.5]], numbers: [11, 17] });
    const sc = makeSupercell(s, [[2, 0, 0], [0, 3, 0], [0, 0, 1]]);
    expect(sc.u2s).toEqual([0, 6]);
    expect(sc.structure.frac[1]).toEqual([0.5, 0, 0]);
    expect(sc.structure.frac[2]).toEqual([0, 1 / 3, 0]);
  });
  it('rejects non-integer and singular matrices', () => {
    expect(() => makeSupercell(fccPrim, [[1.5, 0, 0], [0, 1, 0], [0, 0, 1]])).toThrow(SoftmodeInputError);
    expect(() => makeSupercell(fccPrim, [[1, 0, 0], [1, 0, 0], [0, 0, 1]])).toThrow(SoftmodeInputError);
  });
  it('choice rules are recorded: explicit, PhononBench 2×2×2, minimum length with an atom cap', () => {
    expect(chooseSupercell(fccPrim, { kind: 'phononbench' }).matrix).toEqual([[2, 0, 0], [0, 2, 0], [0, 0, 2]]);
    const ml = chooseSupercell(fccPrim, { kind: 'min-length', minLength: 20, maxAtoms: 1000 });
    expect(ml.matrix).toEqual([[7, 0, 0], [0, 7, 0], [0, 0, 7]]);
    expect(Math.min(...ml.lengths)).toBeGreaterThanOrEqual(20);
    const capped = chooseSupercell(fccPrim, { kind: 'min-length', minLength: 20, maxAtoms: 200 });
    expect(capped.natoms).toBeLessThanOrEqual(200);
    expect(capped.note).toMatch(/capped/);
    expect(capped.rule.kind).toBe('min-length');
  });
});

describe('q-points', () => {
  it('commensurate points: det(M) distinct points, Γ first, Mᵀq integral', () => {
    const M = [[-2, 2, 2], [2, -2, 2], [2, 2, -2]];
    const q = commensurateQpoints(M);
    expect(q.length).toBe(Math.abs(det3(M)));
    expect(q[0]).toEqual([0, 0, 0]);
    const keys = new Set(q.map((p) => p.map((x) => Math.round(x * 1e8)).join(',')));
    expect(keys.size).toBe(q.length);
    for (const p of q)
      for (let j = 0; j < 3; j++) {
        const v = M[0]![j]! * p[0] + M[1]![j]! * p[1] + M[2]![j]! * p[2];
        expect(Math.abs(v - Math.round(v))).toBeLessThan(1e-9);
      }
    expect(commensurateQpoints([[2, 0, 0], [0, 2, 0], [0, 0, 2]]).slice(0, 3)).toEqual([[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0]]);
  });
  it('mesh reduction keeps the total weight; Γ-centred and shifted', () => {
    const cubic = [
      [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
      [[0, 1, 0], [1, 0, 0], [0, 0, 1]],
      [[0, 0, 1], [1, 0, 0], [0, 1, 0]],
      [[-1, 0, 0], [0, 1, 0], [0, 0, 1]],
    ] as never;
    for (const shift of [false, true]) {
      const m = meshQpoints([6, 6, 6], cubic, true, [shift, shift, shift]);
      expect(m.weights.reduce((x, y) => x + y, 0)).toBe(216);
      expect(m.qpoints.length).toBeLessThan(216);
      expect(Math.min(...m.mapping)).toBe(0);
    }
    expect(meshQpoints([4, 4, 4], [], false).qpoints.length).toBe(64);
    expect(meshQpoints([4, 4, 4]).qpoints.length).toBe(36); // time reversal: (64 + 8 self-conjugate)/2
    expect(() => meshQpoints([0, 1, 1])).toThrow(SoftmodeInputError);
  });
});

describe('thermodynamics', () => {
  it('S = −∂F/∂T and C_v = T ∂S/∂T for an Einstein solid; ZPE = F(0)', () => {
    const freqs = [Float64Array.from([1.5, 3, 7])];
    const T = 250;
    const h = 0.01;
    const t = thermalProperties(freqs, [1], { temperatures: [0, T - h, T, T + h] });
    const [p0, pm, p, pp] = t.points as [any, any, any, any];
    expect(t.zpe).toBeCloseTo(p0.freeEnergy, 12);
    expect(t.zpe).toBeCloseTo(((1.5 + 3 + 7) / 2) * THERMO_CONFIG.thzToEv * THERMO_CONFIG.evToKjmol, 12);
    const dFdT = ((pp.freeEnergy - pm.freeEnergy) / (2 * h)) * 1000; // J/K/mol
    expect(p.entropy).toBeCloseTo(-dFdT, 4);
    const dSdT = (pp.entropy - pm.entropy) / (2 * h);
    expect(p.heatCapacity).toBeCloseTo(T * dSdT, 3);
    // high-T limit: C_v → 3 modes · k_B per cell
    const hot = thermalProperties(freqs, [1], { temperatures: [1e5] }).points[0]!;
    expect(hot.heatCapacity).toBeCloseTo(3 * THERMO_CONFIG.kB * THERMO_CONFIG.evToKjmol * 1000, 2);
  });
  it('leaves out modes at or below the cutoff and rejects negative temperatures', () => {
    const t = thermalProperties([Float64Array.from([-1, 0, 2])], undefined, { temperatures: [300] });
    expect(t.skippedModes).toBe(2);
    expect(() => thermalProperties([Float64Array.from([1])], undefined, { temperatures: [-1] })).toThrow(SoftmodeInputError);
  });
});

describe('force constants: input checks', () => {
  it('rejects wrong force shapes and displacement sets that do not span space', () => {
    const sc = makeSupercell(makeStructure({ lattice: [[3, 0, 0], [0, 3.2, 0], [0, 0, 3.4]], frac: [[0, 0, 0]], numbers: [13] }), [[2, 0, 0], [0, 1, 0], [0, 0, 1]]).structure;
    const zero = [[0, 0, 0], [0, 0, 0]];
    expect(() => computeForceConstants(sc, [{ atom: 0, displacement: [0.01, 0, 0], forces: [[0, 0, 0]] }])).toThrow(SoftmodeInputError);
    expect(() => computeForceConstants(sc, [{ atom: 0, displacement: [0.01, 0, 0], forces: zero }])).toThrow(/span/);
  });
});

describe('phonopy files', () => {
  it('FORCE_SETS and phonopy_disp.yaml round-trip; phonopy.conf fractions', () => {
    const sets: DisplacementForces[] = [{ atom: 1, displacement: [0.01, 0, 0], forces: [[0.1, -0.2, 0.3], [-0.1, 0.2, -0.3]] }];
    const back = parseForceSets(formatForceSets(2, sets));
    expect(back.natoms).toBe(2);
    expect(back.sets).toEqual(sets);
    expect(() => parseForceSets('2\n1\n\n3\n0 0 0\n')).toThrow(SoftmodeInputError);
    const unit = makeStructure({ lattice: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], frac: [[0, 0, 0]], numbers: [29] });
    const sc = makeSupercell(unit, [[2, 0, 0], [0, 1, 0], [0, 0, 1]]);
    const text = formatPhonopyDispYaml({
      unitcell: unit,
      unitcellMasses: [63.546],
      supercell: sc.structure,
      supercellMasses: [63.546, 63.546],
      supercellMatrix: sc.matrix,
      primitiveMatrix: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
      displacements: sets,
      symprec: 1e-5,
      frequencyFactor: 15.633302300230191,
    });
    const d = parsePhonopyYaml(text);
    expect(d.supercellMatrix).toEqual(sc.matrix);
    expect(d.unitcellMasses).toEqual([63.546]);
    expect(d.supercell!.frac).toEqual(sc.structure.frac);
    expect((d.displacements![0] as DisplacementForces).forces).toEqual(sets[0]!.forces);
    expect(parsePhonopyConf('DIM = 2 2 1\nPRIMITIVE_AXIS = 0 1/2 1/2 1/2 0 1/2 1/2 1/2 0').primitiveMatrix![0]).toEqual([0, 0.5, 0.5]);
    expect(() => parsePhonopyYaml('unit_cell: [1, 2')).toThrow(SoftmodeInputError);
  });
});

describe.skipIf(!HAS_SHARED)('softmode phonons (CLI, in process)', () => {
  it('NaCl golden inputs: classification printed, phonopy files written and readable', async () => {
    const out = mkdtempSync(join(tmpdir(), 'softmode-phonons-'));
    try {
      const dir = sharedPath('data/golden/phonopy/NaCl');
      const logs: string[] = [];
      const orig = console.log;
      console.log = (...x: unknown[]) => void logs.push(x.join(' '));
      let code: number;
      try {
        code = await phononsCli([`${dir}/phonopy_disp.yaml`, '--forces', `${dir}/FORCE_SETS`, '--mesh', '6 6 6', '--out', out]);
      } finally {
        console.log = orig;
      }
      expect(code).toBe(0);
      expect(logs.join('\n')).toMatch(/full-bz\s+STABLE/);
      const res = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
      expect(res.natomsPrimitive).toBe(2);
      expect(res.classification.loew.label).toBe('stable');
      const disp = parsePhonopyYaml(readFileSync(join(out, 'phonopy_disp.yaml'), 'utf8'));
      expect(disp.supercell!.numbers.length).toBe(64);
      expect(parseForceSets(readFileSync(join(out, 'FORCE_SETS'), 'utf8')).sets.length).toBe(2);
      const mesh = parseYaml(readFileSync(join(out, 'mesh.yaml'), 'utf8')) as { phonon: { weight: number }[] };
      expect(mesh.phonon.reduce((x, p) => x + p.weight, 0)).toBe(216);
      expect(await phononsCli([`${dir}/phonopy_disp.yaml`])).toBe(2);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
