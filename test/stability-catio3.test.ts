// Cubic CaTiO3 with DFT forces (phonopy example data): known to be dynamically unstable, with
// soft octahedral-tilt modes at the zone-boundary points R (½,½,½) and M (½,½,0).
import { describe, expect, it } from 'vitest';
import { postProcess } from '../core/phonon/index.js';
import { readForceSets, readPhonopyYaml } from '../core/phonon/phonopy-io.js';
import { HAS_SHARED, SHARED_MISSING, sharedPath } from './helpers.js';

if (!HAS_SHARED) console.warn(SHARED_MISSING);

describe.skipIf(!HAS_SHARED)('golden: cubic CaTiO3 is unstable', () => {
  it('imaginary modes at R and M; every preset that can be evaluated says unstable', () => {
    const dir = sharedPath('data/golden/phonopy/CaTiO3');
    const d = readPhonopyYaml(`${dir}/phonopy_disp.yaml`);
    const fs = readForceSets(`${dir}/FORCE_SETS`);
    const r = postProcess({
      unitcell: d.unitcell!,
      supercellMatrix: d.supercellMatrix!,
      supercell: d.supercell!,
      displacements: fs.sets,
      masses: d.unitcellMasses!,
      options: { mesh: [8, 8, 8] },
    });
    const at = (q: number[]): Float64Array => {
      const k = r.commensurate.qpoints.findIndex((p) => p.every((x, i) => Math.abs(x - q[i]!) < 1e-12));
      expect(k).toBeGreaterThanOrEqual(0);
      return r.commensurate.frequencies[k]!;
    };
    const R = at([0.5, 0.5, 0.5]);
    const M = at([0.5, 0.5, 0]);
    expect(Math.min(R[0]!, M[0]!)).toBeLessThan(-1);
    expect(R[0]!).toBeLessThan(0);
    expect(M[0]!).toBeLessThan(0);
    // Γ acoustic modes are ~0 (sum rule after symmetrization)
    const full = r.classification['full-bz']!;
    expect(full.acousticSum!.ok).toBe(true);
    expect(full.stable).toBe(false);
    expect(full.imaginaryModes).toBeGreaterThan(0);
    const loew = r.classification.loew!;
    expect(loew.label).toBe('unstable');
    // the raw minimum sits at a zone-boundary point
    const q = loew.min.qpoint.map((x) => Math.abs(x - Math.round(x)));
    expect(q.filter((x) => Math.abs(x - 0.5) < 1e-9).length).toBeGreaterThanOrEqual(2);
    for (const p of ['phononbench', 'mattersim'] as const) if (r.classification[p]) expect(r.classification[p]!.stable).toBe(false);
    expect(r.thermo).not.toBeNull();
  });
});
