"""Reference side of the matgl potentials' parity: matgl 2.0.4's own PyTorch code (M3GNet on DGL,
TensorNet on PyG, as that release runs them) on frames of ../shared/data/parity/*.xyz, MatterGen
CIFs and a few generated structures, float32 (as users run it) and float64, one structure per call
(matgl's ASE calculator evaluates one structure at a time). Runs in tools/.venv-matgl
(tools/requirements-matgl.txt: torch 2.2.1 + dgl 2.1.0, the newest DGL on PyPI, which needs torch
<= 2.2).

    tools/.venv-matgl/bin/python tools/export/matgl_parity.py --model m3gnet-mp-2021.2.8 \
        --out tools/export/.cache/matgl-parity-m3gnet-mp-2021.2.8.json [--frames-per-file 20 --mattergen 10]

Writes JSON: items (structure as evaluated, pytorch_float32 / pytorch_float64 {energy eV, forces
eV/Å, stress eV/Å³ = matgl's GPa / 160.21766208, ASE sign}) and, for M3GNet, `graphs`: matgl's own
edge list (order included) and three-body index columns for the first few items, which
core/potential/graph-matgl.ts must reproduce.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

GPA_PER_EV_A3 = 160.21766208  # matgl's own factor


def structure_dict(s) -> dict:
    return {"lattice": s.lattice.matrix.tolist(), "frac": s.frac_coords.tolist(), "numbers": [int(site.specie.Z) for site in s]}


def example_structures():
    """Generated structures (no external data): a perturbed diamond Si cell, rocksalt, rutile, a
    triclinic cell with unwrapped coordinates, a sparse bcc Cs cell (few three-body pairs)."""
    import numpy as np
    from pymatgen.core import Lattice, Structure

    rng = np.random.default_rng(20251201)
    si = Structure(Lattice.cubic(5.43), ["Si"] * 8,
                   [[0, 0, 0], [0.25, 0.25, 0.25], [0.5, 0.5, 0], [0.75, 0.75, 0.25],
                    [0.5, 0, 0.5], [0.75, 0.25, 0.75], [0, 0.5, 0.5], [0.25, 0.75, 0.75]])
    si = Structure(si.lattice, si.species, si.frac_coords + rng.normal(0, 0.01, (8, 3)))
    nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]).get_primitive_structure()
    tio2 = Structure.from_spacegroup("P4_2/mnm", Lattice.tetragonal(4.594, 2.959), ["Ti", "O"], [[0, 0, 0], [0.3048, 0.3048, 0]])
    tio2 = Structure(tio2.lattice, tio2.species, tio2.frac_coords + rng.normal(0, 0.005, (6, 3)))
    tri = Structure(Lattice.from_parameters(4.1, 4.7, 5.3, 81, 97, 112), ["Li", "Fe", "O", "O"],
                    [[0.02, -0.03, 0.01], [0.51, 0.48, 1.02], [0.24, 0.77, 0.33], [0.8, 0.21, -0.64]])
    cs = Structure(Lattice.cubic(6.14), ["Cs", "Cs"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    return [("generated/Si8-perturbed", si), ("generated/NaCl-prim", nacl), ("generated/TiO2-rutile-perturbed", tio2),
            ("generated/LiFeO2-triclinic-unwrapped", tri), ("generated/Cs2-bcc", cs)]


def select_items(shared: Path, frames_per_file: int, mattergen: int) -> list[dict]:
    from ase.io import read
    from pymatgen.core import Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    items = [{"source": name, "index": 0, "kind": "generated", "s": s} for name, s in example_structures()]
    for xyz in sorted((shared / "data" / "parity").glob("*.xyz")) if frames_per_file else []:
        frames = read(str(xyz), index=":")
        step = max(1, len(frames) // frames_per_file)
        for idx in range(0, len(frames), step)[:frames_per_file]:
            items.append({"source": str(xyz.relative_to(shared)), "index": idx, "kind": "xyz", "s": AseAtomsAdaptor.get_structure(frames[idx])})
    if mattergen:
        cifs = sorted(p for p in (shared / "data" / "structures" / "mattergen").rglob("*.cif") if "_symmetrized" not in p.name)
        step = max(1, len(cifs) // mattergen)
        for p in cifs[::step][:mattergen]:
            items.append({"source": str(p.relative_to(shared)), "index": 0, "kind": "cif", "s": Structure.from_file(str(p))})
    return items


def main() -> int:
    from matgl_models import MATGL_COMMIT, MODELS, weights_dir

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=sorted(MODELS))
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--frames-per-file", type=int, default=20)
    ap.add_argument("--mattergen", type=int, default=10)
    ap.add_argument("--graphs", type=int, default=12, help="items whose matgl graph is written (M3GNet)")
    ap.add_argument("--precisions", default="float32,float64")
    ap.add_argument("--fixture", default=None, help="also write matgl's graphs (counts + sha256) of the --graphs items here "
                    "(test/fixtures/matgl-graph-reference.json)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--matgl-git-dir", default=None)
    ap.add_argument("--weights-dir", default=None)
    args = ap.parse_args()
    spec = MODELS[args.model]
    os.environ["MATGL_BACKEND"] = spec["backend"]
    os.environ.setdefault("DGLBACKEND", "pytorch")

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    import matgl
    from matgl.ext.pymatgen import Structure2Graph

    wdir = weights_dir(args.model, args.matgl_git_dir, args.weights_dir)
    items = select_items(Path(args.shared), args.frames_per_file, args.mattergen)
    timing = {}
    kept = items
    for precision in [p for p in args.precisions.split(",") if p]:
        matgl.set_default_dtype("float", 64 if precision == "float64" else 32)
        pot = matgl.load_model(str(wdir))
        if precision == "float64":
            # TensorNet's checkpoint fixes its layers' dtype to float32 (init arg dtype): cast all
            pot = pot.to(torch.float64)
        pot.eval()
        conv = Structure2Graph(element_types=pot.model.element_types, cutoff=pot.model.cutoff)
        t0 = time.time()
        for it in kept:
            g, lat, state = conv.get_graph(it["s"])
            e, f, s, _ = pot(g, lat, torch.tensor(state, dtype=matgl.float_th))
            it[f"pytorch_{precision}"] = {
                "energy": float(e.detach()),
                "forces": f.detach().double().numpy().tolist(),
                "stress": (s.detach().double().numpy().reshape(3, 3) / GPA_PER_EV_A3).tolist(),
            }
        timing[precision] = time.time() - t0
        print(f"matgl {precision}: {len(kept)} structures in {timing[precision]:.1f}s", file=sys.stderr)
    graphs = []
    if spec["backend"] == "DGL" and args.graphs:
        graphs = m3gnet_graphs(kept[: args.graphs])
    if args.fixture:
        write_fixture(Path(args.fixture), graphs, kept, matgl.__version__)
    out_items = []
    for it in kept:
        d = {k: v for k, v in it.items() if k != "s"}
        d["structure"] = structure_dict(it["s"])
        out_items.append(d)
    out = {
        "generated_by": "tools/export/matgl_parity.py",
        "model": args.model,
        "matgl_name": spec["matgl_name"],
        "matgl": matgl.__version__,
        "matgl_backend": spec["backend"],
        "matgl_commit": MATGL_COMMIT,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "state_sha256": spec["sha256"]["state.pt"],
        "selection": {"frames_per_file": args.frames_per_file, "mattergen": args.mattergen},
        "seconds": timing,
        "items": out_items,
        "graphs": graphs,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out))
    print(f"wrote {args.out}: {len(out_items)} structures", file=sys.stderr)
    return 0


def write_fixture(path: Path, graphs: list[dict], items: list[dict], version: str) -> None:
    import hashlib

    def digest(x) -> str:
        return hashlib.sha256(json.dumps(x, separators=(",", ":")).encode()).hexdigest()

    by = {(it["source"], it["index"]): it for it in items}
    out = {
        "description": "matgl's own M3GNet graph of each structure (Structure2Graph edges in pymatgen's order, and the five "
        "three-body index columns of matgl <= 2), as counts and the sha256 of their compact JSON "
        "([[i, j, n1, n2, n3], ...] and [[P[a], P[b], a, b, s], ...]); core/potential/graph-matgl.ts must reproduce them.",
        "generated_by": "tools/.venv-matgl/bin/python tools/export/matgl_parity.py --model m3gnet-mp-2021.2.8 --out /tmp/graphs.json --frames-per-file 8 --mattergen 8 --graphs 100 --precisions \'\' --fixture test/fixtures/matgl-graph-reference.json",
        "matgl": version,
        "cutoff": 5.0,
        "threebody_cutoff": 4.0,
        "structures": [
            {"source": g["source"], "index": g["index"], "structure": structure_dict(by[(g["source"], g["index"])]["s"]),
             "edges": len(g["edges"]), "three_body": len(g["three_body"]),
             "edges_sha256": digest(g["edges"]), "three_body_sha256": digest(g["three_body"])}
            for g in graphs
        ],
    }
    path.write_text(json.dumps(out, indent=1) + "\n")


def m3gnet_graphs(items) -> list[dict]:
    """matgl 2.0.4's own M3GNet graph of each item: the edge list in its order (pymatgen's
    find_points_in_spheres) and, per three-body row, the five index columns the exported graph
    takes: the two bonds whose geometry forms the angle (parent ids), the two bonds whose cutoff
    weights and neighbour atom are used, and the bond the term is added to (see matgl_flat.py)."""
    import torch
    import matgl
    from matgl.ext.pymatgen import Structure2Graph
    from matgl.graph._compute_dgl import compute_pair_vector_and_distance, create_line_graph, prune_edges_by_features
    from matgl.utils.maths import get_segment_indices_from_n

    conv = Structure2Graph(element_types=matgl.config.DEFAULT_ELEMENTS, cutoff=5.0)
    out = []
    for it in items:
        g, lat, _ = conv.get_graph(it["s"])
        g.edata["pbc_offshift"] = torch.matmul(g.edata["pbc_offset"], lat[0])
        g.ndata["pos"] = g.ndata["frac_coords"] @ lat[0]
        v, d = compute_pair_vector_and_distance(g)
        g.edata["bond_vec"] = v
        g.edata["bond_dist"] = d
        lg = create_line_graph(g, 4.0)
        pruned = prune_edges_by_features(g, feat_name="bond_dist", condition=lambda x: x > 4.0)
        parent_of = pruned.edata["edge_ids"].long().view(-1)
        a, b = (x.long() for x in lg.edges())
        seg = get_segment_indices_from_n(lg.ndata["n_triple_ij"]).long() if len(a) else torch.zeros(0, dtype=torch.long)
        src, dst = (x.long() for x in g.edges())
        out.append({
            "source": it["source"], "index": it["index"],
            "edges": [[int(i), int(j), *[int(round(float(x))) for x in im]] for i, j, im in zip(src, dst, g.edata["pbc_offset"])],
            "three_body": torch.stack([parent_of[a], parent_of[b], a, b, seg], 1).tolist() if len(a) else [],
        })
    return out


if __name__ == "__main__":
    sys.exit(main())
