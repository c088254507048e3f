"""PyTorch CHGNet as the reference the ONNX model is compared with.

Two references, both CHGNet's OWN forward (CHGNet.predict_graph, its converter and autograd):
  * float32: CHGNet exactly as its users run it.
  * float64: the same code with its dtype switched to float64. CHGNet hard-codes float32 in
    two places that would otherwise break or round a float64 run; they are shimmed here:
    `datatype` (converter/batched graph) is set to float64, and AtomRef's composition
    fractions (bincount/n, cast with `.float()`) are kept in float64.
Stress is returned in eV/Å³ with the ASE sign, (1/|V|)·∂E/∂ε: CHGNet divides by the signed
volume, so its stress of a left-handed lattice is sign-flipped; we undo that.
"""

from __future__ import annotations

import contextlib
import copy
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chgnet_checkpoint import load_chgnet  # noqa: E402

GPA_PER_EV_A3 = 160.21766208  # CHGNet's own conversion factor


@contextlib.contextmanager
def chgnet_dtype(dtype: torch.dtype):
    """Switch CHGNet's hard-coded graph dtype (and torch's default) for the duration."""
    import chgnet.graph.converter as cv
    import chgnet.graph.crystalgraph as cg
    import chgnet.model.model as cm

    saved = (cm.datatype, cv.datatype, cg.datatype, torch.get_default_dtype())
    cm.datatype = cv.datatype = cg.datatype = dtype
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        cm.datatype, cv.datatype, cg.datatype = saved[:3]
        torch.set_default_dtype(saved[3])


class ChgnetReference:
    def __init__(self, threads: int | None = None) -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        self.model32 = load_chgnet()
        m64 = copy.deepcopy(self.model32).double()
        comp = m64.composition_model

        def assemble64(graphs):
            feas = []
            for g in graphs:
                fea = torch.bincount(g.atomic_number - 1, minlength=comp.max_num_elements).to(torch.float64)
                feas.append(fea / g.atomic_number.shape[0] if comp.is_intensive else fea)
            return torch.stack(feas, dim=0)

        comp._assemble_graphs = assemble64
        self.model64 = m64

    def graphs(self, structures, precision: str = "float32"):
        dtype = torch.float32 if precision == "float32" else torch.float64
        model = self.model32 if precision == "float32" else self.model64
        with chgnet_dtype(dtype):
            return [model.graph_converter(s) for s in structures]

    def predict_graphs(self, graphs, precision: str = "float32", batch_size: int = 16):
        """[(total energy eV, forces eV/Å [n,3], stress eV/Å³ [3,3] ASE sign)] per graph."""
        dtype = torch.float32 if precision == "float32" else torch.float64
        model = self.model32 if precision == "float32" else self.model64
        with chgnet_dtype(dtype):
            preds = model.predict_graph(list(graphs), task="efs", batch_size=batch_size)
        if not isinstance(preds, list):
            preds = [preds]
        out = []
        for g, p in zip(graphs, preds):
            n = int(g.atomic_number.shape[0])
            sign = 1.0 if float(torch.det(g.lattice.detach().double())) > 0 else -1.0
            out.append(
                (
                    float(p["e"]) * n,
                    np.asarray(p["f"], dtype=np.float64),
                    sign * np.asarray(p["s"], dtype=np.float64) / GPA_PER_EV_A3,
                )
            )
        return out

    def predict(self, structures, precision: str = "float32", batch_size: int = 16):
        return self.predict_graphs(self.graphs(structures, precision), precision, batch_size)


def graph_sets(graph) -> dict:
    """CHGNet converter's graph as sets independent of order: directed edges (i, j, image) and
    triplets ((centre, j1, image1), (j2, image2)) naming each leg by its neighbour and image."""
    ag = graph.atom_graph.numpy().astype(int)
    img = np.rint(graph.neighbor_image.numpy()).astype(int)
    edges = [(int(i), int(j), *map(int, im)) for (i, j), im in zip(ag, img)]
    trips = []
    for row in graph.bond_graph.numpy().astype(int):
        c, _ui, di, _uj, dj = row
        e1, e2 = edges[di], edges[dj]
        assert e1[0] == c and e2[0] == c
        trips.append((int(c), e1[1], *e1[2:], e2[1], *e2[2:]))
    d2u = graph.directed2undirected.numpy().astype(int)
    # undirected pairing as pairs of directed edges (as tuples), order-free
    pairs: dict[int, list] = {}
    for k, u in enumerate(d2u):
        pairs.setdefault(int(u), []).append(edges[k])
    bonds = [sorted(v) for v in pairs.values()]
    return {"edges": sorted(edges), "triplets": sorted(trips), "bonds": sorted(bonds)}


def structure_dict(s) -> dict:
    return {
        "lattice": s.lattice.matrix.tolist(),
        "frac": s.frac_coords.tolist(),
        "numbers": [int(site.specie.Z) for site in s],
    }
