// The MatterSim-v1 (M3GNet) graph built in TypeScript against MatterSim's own GraphConvertor
// (test/fixtures/m3gnet-graph-reference.json, made by tools/export/make_m3gnet_fixture.py).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchM3gnetGraphs, buildM3gnetGraph } from '../core/potential/graph-m3gnet.js';
import { makeStructure } from '../core/structure/structure.js';
import { REPO_ROOT } from './helpers.js';

interface Item {
  name: string;
  structure: { lattice: number[][]; frac: number[][]; numbers: number[] };
  edges: number[][];
  three_body: number[][];
}
const fixture = JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/m3gnet-graph-reference.json'), 'utf8')) as { structures: Item[] };

describe('M3GNet graph (TypeScript) = MatterSim GraphConvertor', () => {
  for (const item of fixture.structures) {
    it(`${item.name}: same edges (5 Å) and three-body pairs (4 Å)`, () => {
      const g = buildM3gnetGraph(makeStructure(item.structure));
      const key = (x: readonly number[]) => x.join(',');
      const E = g.edgeCenter.length;
      const edge = (k: number) => [g.edgeCenter[k]!, g.edgeNeighbour[k]!, g.edgeImage[3 * k]!, g.edgeImage[3 * k + 1]!, g.edgeImage[3 * k + 2]!];
      expect(E).toBe(item.edges.length);
      expect(new Set(Array.from({ length: E }, (_, k) => key(edge(k))))).toEqual(new Set(item.edges.map(key)));
      const T = g.threeBody.length / 2;
      expect(T).toBe(item.three_body.length);
      const ours = new Set<string>();
      for (let t = 0; t < T; t++) {
        const a = edge(g.threeBody[2 * t]!);
        const b = edge(g.threeBody[2 * t + 1]!);
        expect(a[0]).toBe(b[0]);
        ours.add(key([...a, ...b.slice(1)]));
      }
      expect(ours).toEqual(new Set(item.three_body.map(key)));
    });
  }

  it('batching offsets atom and edge indices', () => {
    const gs = fixture.structures.slice(0, 3).map((it) => buildM3gnetGraph(makeStructure(it.structure)));
    const b = batchM3gnetGraphs(gs);
    expect(b.numAtoms).toBe(gs.reduce((a, g) => a + g.numAtoms, 0));
    const e0 = gs[0]!.edgeCenter.length;
    const a0 = gs[0]!.numAtoms;
    expect(Number(b.edgeIndex[2 * e0])).toBe(gs[1]!.edgeCenter[0]! + a0);
    const t0 = gs[0]!.threeBody.length / 2;
    if (gs[1]!.threeBody.length) expect(Number(b.threeBody[2 * t0])).toBe(gs[1]!.threeBody[0]! + e0);
    expect(Number(b.atomOwner[a0])).toBe(1);
  });
});
