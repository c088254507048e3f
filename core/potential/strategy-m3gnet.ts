// MatterSim-v1's M3GNet ONNX contract (tools/export/m3gnet_flat.py): atom graph + three-body
// pairs of edges (graph-m3gnet.ts), Cartesian positions of the wrapped structure and cells.
import * as ort from 'onnxruntime-node';
import type { OnnxPrecision } from '../../config/potential.js';
import type { Structure } from '../structure/structure.js';
import { batchM3gnetGraphs, buildM3gnetGraph, type M3gnetBatch, type M3gnetGraph } from './graph-m3gnet.js';
import type { OnnxModelManifest } from './manifest.js';
import { ModelIntegrityError } from './model-error.js';
import { toFloat, type Feeds, type GraphSize, type ModelArchitecture } from './strategy.js';

export const m3gnetArchitecture: ModelArchitecture<M3gnetGraph, M3gnetBatch> = Object.freeze({
  name: 'm3gnet',

  checkManifest(m: OnnxModelManifest, path: string): void {
    // the cutoffs are the checkpoint's (model_args); the graph builder takes them from the manifest
    if (typeof m.cutoffs_A.three_body !== 'number')
      throw new ModelIntegrityError('model_manifest_invalid', `manifest ${path} (architecture m3gnet) lacks cutoffs_A.three_body`);
  },

  buildGraph(s: Structure, m: OnnxModelManifest): M3gnetGraph {
    const c = m.cutoffs_A;
    return buildM3gnetGraph(s, { cutoff: c.atom_graph, threeBodyCutoff: c.three_body!, maxAtomicNumber: m.supported_atomic_numbers[1] });
  },

  batch: batchM3gnetGraphs,

  feeds(b: M3gnetBatch, precision: OnnxPrecision): Feeds {
    return {
      atomic_numbers: new ort.Tensor('int64', b.atomicNumbers, [b.numAtoms]),
      positions: new ort.Tensor(precision, toFloat(precision, b.positions), [b.numAtoms, 3]),
      cell: new ort.Tensor(precision, toFloat(precision, b.cell), [b.numStructures, 3, 3]),
      atom_owner: new ort.Tensor('int64', b.atomOwner, [b.numAtoms]),
      edge_index: new ort.Tensor('int64', b.edgeIndex, [b.numEdges, 2]),
      edge_offset: new ort.Tensor(precision, toFloat(precision, b.edgeOffset), [b.numEdges, 3]),
      three_body: new ort.Tensor('int64', b.threeBody, [b.numTriplets, 2]),
    };
  },

  sizeOf(g: M3gnetGraph): GraphSize {
    return { atoms: g.numAtoms, edges: g.edgeCenter.length, triplets: g.threeBody.length / 2 };
  },
});
