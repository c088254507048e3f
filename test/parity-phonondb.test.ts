// Quick phonondb parity (issue 4): softmode's post-processing of four DFT force sets against
// phonopy's numbers in bench/results/phonondb-reference.json (made by
// tools/reference/phonondb_reference.py; the full 171-archive run is `npm run parity:phonondb`).
// Four fast archives: fcc with PRIMITIVE_AXIS, stable (mp-961693); simple cubic, unstable under
// every preset (mp-546973); tetragonal where only `mattersim` says stable (mp-867300); C-centred
// orthorhombic with PRIMITIVE_AXIS where `loew` and `mattersim` say stable but the band path
// dips below −1e-3 THz near Γ (mp-7670).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiveId, compareArchive, DATA_DIR, listArchives, type ReferenceFile, REFERENCE_JSON, ruleDifferences, softmodeArchive, TARGET_FREQ_THZ, TARGET_MIN_FREQ_THZ } from '../bench/phonondb-parity.js';
import { HAS_SHARED, SHARED_MISSING } from './helpers.js';

const QUICK = ['mp-961693', 'mp-546973', 'mp-867300', 'mp-7670'];

if (!HAS_SHARED) console.warn(SHARED_MISSING);

describe.skipIf(!HAS_SHARED)('phonondb parity (4 archives)', () => {
  it('the committed reference exists and was made with the same stability rules', () => {
    expect(existsSync(REFERENCE_JSON), `${REFERENCE_JSON} missing: run npm run reference:phonondb`).toBe(true);
    const ref = JSON.parse(readFileSync(REFERENCE_JSON, 'utf8')) as ReferenceFile;
    expect(ruleDifferences(ref.rules)).toEqual([]);
    expect(ref.archives).toBe(listArchives().length);
  });

  for (const id of QUICK) {
    it(`${id}: commensurate ν within 1e-4 THz, band-path min within 1e-3 THz, same labels`, () => {
      const ref = JSON.parse(readFileSync(REFERENCE_JSON, 'utf8')) as ReferenceFile;
      const m = ref.materials.find((x) => x.id === id);
      expect(m, `${id} not in the reference`).toBeDefined();
      const archive = listArchives().find((a) => archiveId(a.split('/').pop()!) === id);
      expect(archive, `${id} not in ${DATA_DIR}`).toBeDefined();
      const sm = softmodeArchive(join(archive!));
      const c = compareArchive(m!, sm);
      expect(c.commensurateMatched).toBe(true);
      expect(c.maxAbsFreqDiffTHz).toBeLessThanOrEqual(TARGET_FREQ_THZ);
      expect(c.bandPointsSoftmode).toBe(c.bandPointsRef);
      expect(c.bravaisSoftmode).toBe(c.bravaisRef);
      expect(c.bandMinDiffTHz).toBeLessThanOrEqual(TARGET_MIN_FREQ_THZ);
      expect(c.meshSoftmode).toEqual(c.meshRef);
      expect(c.meshMinDiffTHz!).toBeLessThanOrEqual(TARGET_MIN_FREQ_THZ);
      expect(c.labelsSoftmode).toEqual(c.labelsRef);
    }, 60_000);
  }
});
