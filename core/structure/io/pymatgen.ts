// pymatgen Structure JSON (Structure.as_dict()): one object or a list of them.
import type { Mat3, Vec3 } from '../../math/linalg.js';
import { inv3, vecmat3 } from '../../math/linalg.js';
import { VALIDATION } from '../../../config/validation.js';
import { makeStructure, type Structure } from '../structure.js';
import { checkAtomCount, checkText, clip, elementNumber, inputError, type SourceContext } from './common.js';

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finiteNumber(v: unknown, ctx: SourceContext, what: string): number {
  if (typeof v !== 'number') {
    // Python's json writes NaN/Infinity bare (JSON.parse rejects those earlier); strings are wrong shape
    throw inputError(v === null ? 'non_finite' : 'unparsable', ctx, `${what} is ${v === null ? 'null' : typeof v}, not a number`);
  }
  if (!Number.isFinite(v)) throw inputError('non_finite', ctx, `${what} is not finite`);
  return v;
}

function vec3(v: unknown, ctx: SourceContext, what: string): Vec3 {
  if (!Array.isArray(v) || v.length !== 3) throw inputError('unparsable', ctx, `${what} is not a list of three numbers`);
  return [finiteNumber(v[0], ctx, what), finiteNumber(v[1], ctx, what), finiteNumber(v[2], ctx, what)];
}

function oneStructure(d: unknown, index: number | undefined, sourceName: string | undefined): Structure {
  const ctx: SourceContext = { source: sourceName, ...(index !== undefined ? { frame: index } : {}) };
  if (!isObj(d)) throw inputError('unparsable', ctx, 'expected a pymatgen Structure object');
  const cls = d['@class'];
  if (cls === 'Molecule' || cls === 'IMolecule') throw inputError('no_cell', ctx, 'a pymatgen Molecule has no cell');
  if (cls !== undefined && cls !== 'Structure' && cls !== 'IStructure') throw inputError('unsupported_format', ctx, `pymatgen class '${clip(String(cls))}' is not a Structure`);
  const lat = d['lattice'];
  if (!isObj(lat) || !Array.isArray(lat['matrix'])) throw inputError('no_cell', ctx, 'no lattice.matrix');
  const m = lat['matrix'] as unknown[];
  if (m.length !== 3) throw inputError('no_cell', ctx, 'lattice.matrix is not 3×3');
  const lattice = m.map((r, k) => vec3(r, ctx, `lattice.matrix row ${k}`)) as Mat3;
  const sites = d['sites'];
  if (!Array.isArray(sites)) throw inputError('unparsable', ctx, 'no sites list');
  checkAtomCount(sites.length, ctx);
  if (sites.length === 0) throw inputError('empty_structure', ctx, 'no sites');
  let inv: Mat3 | undefined;
  const frac: Vec3[] = [];
  const numbers: number[] = [];
  const labels: string[] = [];
  sites.forEach((site, k) => {
    const sctx = { ...ctx, line: undefined };
    if (!isObj(site)) throw inputError('unparsable', sctx, `site ${k} is not an object`);
    const species = site['species'];
    if (!Array.isArray(species) || species.length === 0) throw inputError('unparsable', sctx, `site ${k} has no species list`);
    if (species.length > 1) throw inputError('partial_occupancy', sctx, `site ${k} holds ${species.length} species (disorder)`);
    const sp = species[0];
    if (!isObj(sp) || typeof sp['element'] !== 'string') throw inputError('unparsable', sctx, `site ${k}: species entry has no element`);
    const occ = sp['occu'] === undefined ? 1 : finiteNumber(sp['occu'], sctx, `site ${k} occupancy`);
    if (Math.abs(occ - 1) > VALIDATION.occupancyTolerance) throw inputError('partial_occupancy', sctx, `site ${k} has occupancy ${occ}`, { occupancy: occ });
    numbers.push(elementNumber(sp['element'], sctx, true));
    if (site['abc'] !== undefined) frac.push(vec3(site['abc'], sctx, `site ${k} abc`));
    else if (site['xyz'] !== undefined) {
      if (!inv) {
        try {
          inv = inv3(lattice);
        } catch {
          throw inputError('no_cell', ctx, 'degenerate cell: lattice is singular');
        }
      }
      frac.push(vecmat3(vec3(site['xyz'], sctx, `site ${k} xyz`), inv));
    } else throw inputError('unparsable', sctx, `site ${k} has neither abc nor xyz`);
    labels.push(typeof site['label'] === 'string' ? site['label'] : String(sp['element']));
  });
  const name = sourceName !== undefined ? (index !== undefined ? `${sourceName}#${index}` : sourceName) : index !== undefined ? `structure${index}` : undefined;
  return makeStructure({ lattice, frac, numbers, labels, ...(name !== undefined ? { name } : {}) });
}

export function readPymatgenJson(text: string, sourceName?: string): Structure[] {
  const ctx: SourceContext = { source: sourceName };
  checkText(text, ctx);
  if (text.length > VALIDATION.maxJsonBytes)
    throw inputError('file_too_large', ctx, `JSON text of ${text.length} characters; the limit for pymatgen JSON is ${VALIDATION.maxJsonBytes} (split the list into several files)`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw inputError('unparsable', ctx, `invalid JSON: ${clip(String((e as Error).message ?? e), 120)}`);
  }
  if (Array.isArray(data)) {
    if (data.length === 0) throw inputError('empty_structure', ctx, 'empty list');
    if (data.length > VALIDATION.maxStructuresPerFile) throw inputError('too_many_atoms', ctx, `${data.length} structures in one file; the limit is ${VALIDATION.maxStructuresPerFile}`);
    let total = 0;
    for (const d of data) {
      const sites = isObj(d) ? d['sites'] : undefined;
      total += Array.isArray(sites) ? sites.length : 0;
    }
    checkAtomCount(total, ctx, VALIDATION.maxAtomsPerFile);
    return data.map((d, i) => oneStructure(d, i, sourceName));
  }
  return [oneStructure(data, undefined, sourceName)];
}
