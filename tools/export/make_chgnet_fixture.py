"""Record PyTorch CHGNet's answers for a few small structures as the unit-test fixture
test/fixtures/chgnet-0.3.0-reference.json (reproducible: run this again to regenerate).

    tools/.venv/bin/python tools/export/make_chgnet_fixture.py

Per structure: the structure itself, CHGNet's converter graph as order-free sets (directed
edges, undirected pairing, triplets), and CHGNet's energy/forces/stress from its own PyTorch
code in float32 and in float64 (see chgnet_reference.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))


def main() -> int:
    import chgnet
    import torch

    from chgnet_checkpoint import CHECKPOINT_SHA256
    from chgnet_reference import ChgnetReference, graph_sets, structure_dict
    from export_chgnet import example_structures

    ref = ChgnetReference(threads=1)
    structures = example_structures()
    names = ["Si8-perturbed", "NaCl-prim", "TiO2-rutile", "LiFePO4-like", "Cs2-bcc-no-triplets", "Al1-triclinic", "MgO2-left-handed"]
    p32 = ref.predict(structures, "float32")
    p64 = ref.predict(structures, "float64")
    graphs = ref.graphs(structures, "float32")
    items = []
    for name, s, g, a, b in zip(names, structures, graphs, p32, p64):
        sets = graph_sets(g)
        items.append(
            {
                "name": name,
                "structure": structure_dict(s),
                "graph": {
                    "num_edges": len(sets["edges"]),
                    "num_triplets": len(sets["triplets"]),
                    "edges": sets["edges"],
                    "triplets": sets["triplets"],
                    "bonds": sets["bonds"],
                },
                "pytorch_float32": {"energy": a[0], "forces": a[1].tolist(), "stress": a[2].tolist()},
                "pytorch_float64": {"energy": b[0], "forces": b[1].tolist(), "stress": b[2].tolist()},
            }
        )
    out = {
        "description": "PyTorch CHGNet 0.3.0 reference answers (its own forward: converter, model, autograd) "
        "for small generated structures; energy eV (total), forces eV/A, stress eV/A^3 ASE sign "
        "((1/|V|) dE/d strain). Graph sets: edges (i, j, image), triplets (centre, j1, image1, j2, image2), "
        "bonds = pairs of directed edges forming one undirected bond.",
        "generated_by": "tools/.venv/bin/python tools/export/make_chgnet_fixture.py",
        "chgnet_package": chgnet.__version__,
        "torch": torch.__version__,
        "checkpoint_sha256": CHECKPOINT_SHA256,
        "structures": items,
    }
    path = REPO / "test" / "fixtures" / "chgnet-0.3.0-reference.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
