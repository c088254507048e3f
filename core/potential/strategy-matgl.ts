// The ONNX contracts of matgl's potentials as exported by tools/export/export_matgl.py
// (tools/export/matgl_flat.py): matgl's edge list (graph-matgl.ts, pymatgen's order), Cartesian
// positions of the structure as given, cells; M3GNet adds five-column three-body rows.
//  * 'matgl-m3gnet'    M3GNet as matgl <= 2 (DGL) runs it (manifest `three_body_indexing`: 'matgl-2-dgl')
//  * 'matgl-tensornet' TensorNet (matgl 2, PyG): the atom graph only
import * as ort from 'onnxruntime-node';
import type { OnnxPrecision } from '../../config/potential.js';
import type { Structure } from '../structure/structure.js';
import { batchMatglGraphs, buildMatglGraph, type MatglBatch, type MatglGraph } from './graph-matgl.js';
import type { OnnxModelManifest } from './manifest.js';
import { ModelIntegrityError } from './model-error.js';
import { toFloat, type Feeds, type GraphSize, type ModelArchitecture } from './strategy.js';

/** the three-body indexing schemes graph-matgl.ts builds */
const THREE_BODY_INDEXING = ['matgl-2-dgl'];

function excludedOf(m: OnnxModelManifest): number[] {
  const x = m['excluded_atomic_numbers'];
  return Array.isArray(x) ? x.filter((z): z is number => typeof z === 'number') : [];
}

function make(name: 'matgl-m3gnet' | 'matgl-tensornet'): ModelArchitecture<MatglGraph, MatglBatch> {
  const threeBody = name === 'matgl-m3gnet';
  return Object.freeze({
    name,

    checkManifest(m: OnnxModelManifest, path: string): void {
      const x = m['excluded_atomic_numbers'];
      if (x !== undefined && (!Array.isArray(x) || x.some((z) => !Number.isInteger(z))))
        throw new ModelIntegrityError('model_manifest_invalid', `manifest ${path}: excluded_atomic_numbers must be a list of atomic numbers`);
      if (!threeBody) return;
      if (typeof m.cutoffs_A.three_body !== 'number')
        throw new ModelIntegrityError('model_manifest_invalid', `manifest ${path} (architecture ${name}) lacks cutoffs_A.three_body`);
      const scheme = m['three_body_indexing'];
      if (typeof scheme !== 'string' || !THREE_BODY_INDEXING.includes(scheme))
        throw new ModelIntegrityError(
          'model_manifest_invalid',
          `manifest ${path} (architecture ${name}) names three_body_indexing ${JSON.stringify(scheme)}; known: ${THREE_BODY_INDEXING.join(', ')}`,
        );
    },

    buildGraph(s: Structure, m: OnnxModelManifest): MatglGraph {
      return buildMatglGraph(s, {
        cutoff: m.cutoffs_A.atom_graph,
        ...(threeBody ? { threeBodyCutoff: m.cutoffs_A.three_body! } : {}),
        zRange: m.supported_atomic_numbers,
        excluded: excludedOf(m),
      });
    },

    batch: batchMatglGraphs,

    feeds(b: MatglBatch, precision: OnnxPrecision): Feeds {
      const feeds: Feeds = {
        atomic_numbers: new ort.Tensor('int64', b.atomicNumbers, [b.numAtoms]),
        positions: new ort.Tensor(precision, toFloat(precision, b.positions), [b.numAtoms, 3]),
        cell: new ort.Tensor(precision, toFloat(precision, b.cell), [b.numStructures, 3, 3]),
        atom_owner: new ort.Tensor('int64', b.atomOwner, [b.numAtoms]),
        edge_index: new ort.Tensor('int64', b.edgeIndex, [b.numEdges, 2]),
        edge_offset: new ort.Tensor(precision, toFloat(precision, b.edgeOffset), [b.numEdges, 3]),
      };
      if (threeBody) feeds['three_body'] = new ort.Tensor('int64', b.threeBody, [b.numTriplets, 5]);
      return feeds;
    },

    sizeOf(g: MatglGraph): GraphSize {
      return { atoms: g.numAtoms, edges: g.edgeCenter.length, triplets: g.threeBody.length / 5 };
    },
  });
}

export const matglM3gnetArchitecture = make('matgl-m3gnet');
export const matglTensornetArchitecture = make('matgl-tensornet');

/** Atomic numbers a manifest excludes inside its supported range (matgl: Po, At, Rn, Fr, Ra). */
export { excludedOf as excludedAtomicNumbers };
