"""Record MatterSim's own M3GNet graph (GraphConvertor: edges within 5 Å, three-body pairs
within 4 Å) for a few generated structures as test/fixtures/m3gnet-graph-reference.json, so
core/potential/graph-m3gnet.ts can be checked against it without Python.

    tools/.venv/bin/python tools/export/make_m3gnet_fixture.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))


def main() -> int:
    import numpy as np
    from pymatgen.io.ase import AseAtomsAdaptor

    from chgnet_reference import structure_dict
    from export_chgnet import example_structures
    from export_mattersim import _stub_torch_geometric
    from mattersim_source import MATTERSIM_SPEC, ensure_mattersim_source

    ensure_mattersim_source()
    _stub_torch_geometric()
    from mattersim.datasets.utils.convertor import GraphConvertor

    conv = GraphConvertor("m3gnet", 5.0, True, 4.0)
    names = ["Si8-perturbed", "NaCl-prim", "TiO2-rutile", "Cs2-bcc", "Al1-triclinic", "MgO2-left-handed"]
    picks = [0, 1, 2, 4, 5, 6]
    structures = example_structures()
    items = []
    for name, k in zip(names, picks):
        s = structures[k]
        g = conv.convert(AseAtomsAdaptor.get_atoms(s))
        ei = g["edge_index"].numpy().astype(int)
        img = np.rint(g["pbc_offsets"].numpy()).astype(int)
        edges = [(int(i), int(j), *map(int, im)) for i, j, im in zip(ei[0], ei[1], img)]
        tb = g["three_body_indices"]
        trips = []
        if tb is not None:
            for a, b in tb.numpy().astype(int).reshape(-1, 2):
                e1, e2 = edges[a], edges[b]
                assert e1[0] == e2[0]
                trips.append((e1[0], *e1[1:], *e2[1:]))
        items.append({"name": name, "structure": structure_dict(s), "edges": sorted(edges), "three_body": sorted(trips)})
    out = {
        "description": "MatterSim GraphConvertor graphs (edges (i, j, image) with positions wrapped into the cell; "
        "three-body (centre, j, image_j, k, image_k)).",
        "generated_by": "tools/.venv/bin/python tools/export/make_m3gnet_fixture.py",
        "mattersim": MATTERSIM_SPEC,
        "cutoff": 5.0,
        "threebody_cutoff": 4.0,
        "structures": items,
    }
    path = REPO / "test" / "fixtures" / "m3gnet-graph-reference.json"
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
