// CHGNet's ONNX contract (tools/export/chgnet_flat.py, models/chgnet-0.3.0/manifest.json
// `inputs`): atom graph + bond graph (graph-chgnet.ts), fractional coordinates and lattices.
import * as ort from 'onnxruntime-node';
import { CHGNET_GRAPH, type OnnxPrecision } from '../../config/potential.js';
import type { Structure } from '../structure/structure.js';
import { batchChgnetGraphs, buildChgnetGraph, type ChgnetBatch, type ChgnetGraph } from './graph-chgnet.js';
import type { OnnxModelManifest } from './manifest.js';
import { ModelIntegrityError } from './model-error.js';
import { toFloat, type Feeds, type GraphSize, type ModelArchitecture } from './strategy.js';

export const chgnetArchitecture: ModelArchitecture<ChgnetGraph, ChgnetBatch> = Object.freeze({
  name: 'chgnet',

  checkManifest(m: OnnxModelManifest, path: string): void {
    const c = m.cutoffs_A;
    if (typeof c.bond_graph !== 'number')
      throw new ModelIntegrityError('model_manifest_invalid', `manifest ${path} (architecture chgnet) lacks cutoffs_A.bond_graph`);
    // the graph rules in graph-chgnet.ts are CHGNet's; a model trained with other cutoffs is another model
    if (c.atom_graph !== CHGNET_GRAPH.atomGraphCutoff || c.bond_graph !== CHGNET_GRAPH.bondGraphCutoff)
      throw new ModelIntegrityError(
        'model_manifest_invalid',
        `model cutoffs ${c.atom_graph}/${c.bond_graph} Å differ from config/potential.ts CHGNET_GRAPH`,
      );
  },

  buildGraph(s: Structure, m: OnnxModelManifest): ChgnetGraph {
    const c = m.cutoffs_A;
    return buildChgnetGraph(s, { atomGraphCutoff: c.atom_graph, bondGraphCutoff: c.bond_graph!, maxAtomicNumber: m.supported_atomic_numbers[1] });
  },

  batch: batchChgnetGraphs,

  feeds(b: ChgnetBatch, precision: OnnxPrecision): Feeds {
    const f = precision; // onnxruntime type names match ours
    return {
      atomic_numbers: new ort.Tensor('int64', b.atomicNumbers, [b.numAtoms]),
      frac_coords: new ort.Tensor(f, toFloat(precision, b.fracCoords), [b.numAtoms, 3]),
      lattice: new ort.Tensor(f, toFloat(precision, b.lattice), [b.numStructures, 3, 3]),
      atom_owner: new ort.Tensor('int64', b.atomOwner, [b.numAtoms]),
      edge_index: new ort.Tensor('int64', b.edgeIndex, [b.numEdges, 2]),
      edge_image: new ort.Tensor(f, toFloat(precision, b.edgeImage), [b.numEdges, 3]),
      directed2undirected: new ort.Tensor('int64', b.directedToUndirected, [b.numEdges]),
      undirected2directed: new ort.Tensor('int64', b.undirectedToDirected, [b.numBonds]),
      triplets: new ort.Tensor('int64', b.triplets, [b.numTriplets, 5]),
    };
  },

  sizeOf(g: ChgnetGraph): GraphSize {
    return { atoms: g.numAtoms, edges: g.edgeCenter.length, triplets: g.triplets.length / 5 };
  },
});
