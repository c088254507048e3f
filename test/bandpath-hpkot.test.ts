// HPKOT band path against seekpath's reference data (../shared/data/reference/seekpath): every
// example cell gets its folder's extended Bravais type, and our own tables give the same point
// coordinates and path as seekpath's symbolic tables evaluated for that cell.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Mat3, type Vec3, norm3, sub3, vecmat3 } from '../core/math/linalg.js';
import {
  EXTENDED_BRAVAIS_TYPES,
  type LatticeParams,
  bandPath,
  hpkotTable,
  reciprocalRows,
} from '../core/phonon/bandpath/index.js';
import { readPoscar } from '../core/structure/io/poscar.js';
import { volume } from '../core/structure/structure.js';
import { HAS_SHARED, SHARED_MISSING, sharedPath } from './helpers.js';

const DATA = sharedPath('data', 'reference', 'seekpath', 'band_path_data');

// ---- a small arithmetic evaluator for seekpath's symbolic tables (+ − * / and parentheses) ----
function evaluate(expr: string, vars: Record<string, number>): number {
  const tokens = expr.match(/\d+(\.\d+)?|[A-Za-z_][A-Za-z_0-9]*|[-+*/()]/g);
  if (!tokens || tokens.join('') !== expr.replace(/\s+/g, '')) throw new Error(`cannot tokenize ${expr}`);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++]!;
  const factor = (): number => {
    const t = next();
    if (t === '-') return -factor();
    if (t === '+') return factor();
    if (t === '(') {
      const v = sum();
      if (next() !== ')') throw new Error(`missing ) in ${expr}`);
      return v;
    }
    if (/^\d/.test(t)) return Number(t);
    if (!(t in vars)) throw new Error(`unknown symbol ${t} in ${expr}`);
    return vars[t]!;
  };
  const product = (): number => {
    let v = factor();
    while (peek() === '*' || peek() === '/') v = next() === '*' ? v * factor() : v / factor();
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === '+' || peek() === '-') v = next() === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (i !== tokens.length) throw new Error(`trailing tokens in ${expr}`);
  return v;
}

function lines(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => l.split(/\s+/));
}

/** seekpath's points for one extended type, evaluated for given conventional lattice parameters. */
function seekpathPoints(type: string, lp: LatticeParams): { points: Record<string, Vec3>; path: [string, string][] } {
  const vars: Record<string, number> = {
    a: lp.a,
    b: lp.b,
    c: lp.c,
    cosalpha: lp.cosAlpha,
    cosbeta: lp.cosBeta,
    cosgamma: lp.cosGamma,
    sinbeta: Math.sqrt(1 - lp.cosBeta * lp.cosBeta),
  };
  const params: Record<string, number> = {};
  for (const [name, expr] of lines(`${DATA}/${type}/k_vector_parameters.txt`)) {
    params[name!] = evaluate(expr!, { ...vars, ...params });
  }
  const points: Record<string, Vec3> = {};
  for (const [label, x, y, z] of lines(`${DATA}/${type}/points.txt`)) {
    points[label!] = [evaluate(x!, params), evaluate(y!, params), evaluate(z!, params)];
  }
  const path = lines(`${DATA}/${type}/path.txt`).map(([s, e]) => [s!, e!] as [string, string]);
  return { points, path };
}

function exampleCells(type: string): { file: string; text: string }[] {
  return readdirSync(`${DATA}/${type}`)
    .filter((f) => f.startsWith('POSCAR'))
    .map((f) => ({ file: f, text: readFileSync(`${DATA}/${type}/${f}`, 'utf8') }));
}

describe.skipIf(!HAS_SHARED)('HPKOT vs seekpath reference data', () => {
  if (!HAS_SHARED) console.warn(SHARED_MISSING);

  it('the reference folder holds the 29 extended Bravais types', () => {
    const folders = existsSync(DATA) ? readdirSync(DATA).sort() : [];
    expect(folders).toEqual([...EXTENDED_BRAVAIS_TYPES].sort());
  });

  it('the evaluator reads seekpath-style expressions', () => {
    expect(evaluate('(1+a*a/b/b)/4', { a: 2, b: 4 })).toBeCloseTo(0.3125, 15);
    expect(evaluate('-1+P', { P: 0.25 })).toBe(-0.75);
    expect(evaluate('1/2-2*Z*c*cosbeta/a', { Z: 0.5, c: 2, cosbeta: -0.5, a: 4 })).toBe(0.75);
    expect(() => evaluate('1/2+Q', {})).toThrow(/unknown symbol/);
  });

  for (const type of EXTENDED_BRAVAIS_TYPES) {
    describe(type, () => {
      const examples = HAS_SHARED ? exampleCells(type) : [];
      it.each(examples.map((e) => [e.file, e.text] as const))('%s: type, points and path', (file, text) => {
        const s = readPoscar(text, `${type}/${file}`)[0]!;
        const bp = bandPath(s);
        expect(bp.extendedBravais).toBe(type);
        // our tables against seekpath's, both evaluated for the conventional cell we found
        const ref = seekpathPoints(type, bp.latticeParams);
        expect(bp.path).toEqual(ref.path);
        expect(Object.keys(bp.pointsHpkot).sort()).toEqual(Object.keys(ref.points).sort());
        for (const [label, k] of Object.entries(ref.points)) {
          const ours = bp.pointsHpkot[label]!;
          for (let i = 0; i < 3; i++) expect(ours[i], `${label}[${i}]`).toBeCloseTo(k[i]!, 12);
        }
        // the HPKOT primitive cell is primitive: conventional volume / centring multiplicity
        const centring = { P: 1, A: 2, C: 2, I: 2, F: 4, R: 3 }[bp.bravais[1] as 'P'] ?? NaN;
        const n = s.numbers.length * volume(bp.hpkotPrimitive) / volume(s);
        expect(bp.hpkotPrimitive.numbers.length).toBeCloseTo(n, 6);
        expect(centring).toBeGreaterThan(0);
        // special points lie in the closed first Brillouin zone of the HPKOT primitive lattice
        const B = reciprocalRows(bp.hpkotPrimitive.lattice as Mat3);
        const scale = norm3(B[0]) + norm3(B[1]) + norm3(B[2]);
        for (const [label, f] of Object.entries(bp.pointsHpkot)) {
          const k = vecmat3(f, B);
          for (let i = -2; i <= 2; i++)
            for (let j = -2; j <= 2; j++)
              for (let l = -2; l <= 2; l++) {
                if (i === 0 && j === 0 && l === 0) continue;
                const G = vecmat3([i, j, l], B);
                expect(norm3(k), `${label} closer to G=(${i},${j},${l})`).toBeLessThanOrEqual(norm3(sub3(k, G)) + 1e-9 * scale);
              }
        }
        // points are mapped correctly to the input cell: same Cartesian vectors
        const Bin = reciprocalRows(s.lattice as Mat3);
        for (const [label, f] of Object.entries(bp.pointsHpkot)) {
          const d = norm3(sub3(vecmat3(f, B), vecmat3(bp.points[label]!, Bin)));
          expect(d, label).toBeLessThan(1e-10 * scale);
        }
      });
    });
  }

  it('tables: parameter-free types give the same points for any lattice parameters', () => {
    const lp1: LatticeParams = { a: 3, b: 4, c: 5, cosAlpha: 0, cosBeta: -0.2, cosGamma: 0 };
    const lp2: LatticeParams = { a: 7, b: 4.5, c: 3.1, cosAlpha: 0, cosBeta: -0.4, cosGamma: 0 };
    for (const t of ['aP2', 'aP3', 'cP1', 'cP2', 'cF1', 'cF2', 'cI1', 'hP1', 'hP2', 'tP1', 'oP1'] as const) {
      expect(hpkotTable(t, lp1).points).toEqual(hpkotTable(t, lp2).points);
    }
    expect(hpkotTable('tI1', lp1).points).not.toEqual(hpkotTable('tI1', lp2).points);
  });
});
