"""Export CHGNet 0.3.0 to ONNX with energy, forces (−∂E/∂r) and stress (strain derivative)
inside the graph, verify it against PyTorch CHGNet, and write models/chgnet-0.3.0/.

    tools/.venv/bin/python tools/export/export_chgnet.py            # float32 + float64
    tools/.venv/bin/python tools/export/export_chgnet.py --precision float32

(installs tools/requirements-export.txt into tools/.venv first if onnxscript is missing)

Outputs, in --out (default models/chgnet-0.3.0):
  model.onnx           float32 graph
  model-float64.onnx   float64 graph (same weights, cast up)
  manifest.json        identity, checksums, contract, units, licence, export check figures
The graph's input/output contract is documented in chgnet_flat.py and in the manifest.
"""

from __future__ import annotations

import argparse
import copy
import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))


def ensure_requirements() -> None:
    try:
        import onnxscript  # noqa: F401
    except ImportError:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-r", str(REPO / "tools" / "requirements-export.txt")],
            check=True,
        )


ATOM_GRAPH_CUTOFF = 6.0
BOND_GRAPH_CUTOFF = 3.0
GPA_PER_EV_A3 = 160.21766208  # the factor CHGNet itself uses


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def example_structures():
    """Small generated structures (no external data): diverse graph sizes, incl. no triplets."""
    import numpy as np
    from pymatgen.core import Lattice, Structure

    rng = np.random.default_rng(20231022)
    si = Structure(
        Lattice.cubic(5.43),
        ["Si"] * 8,
        [[0, 0, 0], [0.25, 0.25, 0.25], [0.5, 0.5, 0], [0.75, 0.75, 0.25],
         [0.5, 0, 0.5], [0.75, 0.25, 0.75], [0, 0.5, 0.5], [0.25, 0.75, 0.75]],
    )
    nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    nacl = nacl.get_primitive_structure()
    tio2 = Structure.from_spacegroup(
        "P4_2/mnm", Lattice.tetragonal(4.594, 2.959), ["Ti", "O"], [[0, 0, 0], [0.3048, 0.3048, 0]]
    )
    lifepo = Structure(
        Lattice.from_parameters(10.33, 6.01, 4.69, 90, 90, 90),
        ["Li", "Fe", "P", "O", "O", "O"],
        [[0, 0, 0], [0.28, 0.25, 0.97], [0.09, 0.25, 0.42], [0.10, 0.25, 0.74],
         [0.46, 0.25, 0.21], [0.17, 0.05, 0.28]],
    )
    cs = Structure(Lattice.cubic(6.14), ["Cs", "Cs"], [[0, 0, 0], [0.5, 0.5, 0.5]])  # no bond < 3 Å
    mono = Structure(Lattice.from_parameters(3.1, 3.3, 3.6, 81, 97, 112), ["Al"], [[0.1, 0.2, 0.3]])
    # left-handed lattice (rows b, a, c of a triclinic cell): checks the |V| in the stress
    lh = Lattice.from_parameters(4.1, 4.4, 4.8, 84, 95, 103).matrix[[1, 0, 2]]
    left = Structure(Lattice(lh), ["Mg", "O", "O"], [[0.1, 0.1, 0.1], [0.55, 0.5, 0.45], [0.2, 0.6, 0.7]])
    out = []
    for s, sigma in [(si, 0.06), (nacl, 0.04), (tio2, 0.05), (lifepo, 0.03), (cs, 0.05), (mono, 0.0), (left, 0.02)]:
        cart = s.cart_coords + rng.normal(0, sigma, (len(s), 3)) if sigma else s.cart_coords
        frac = cart @ np.linalg.inv(s.lattice.matrix)
        # a small strain so stresses are non-trivial
        eps = np.eye(3) + rng.normal(0, 0.01, (3, 3))
        s = Structure(Lattice(s.lattice.matrix @ eps), s.species, frac)
        out.append(s)
    return out


def torch_reference(model, graphs):
    """CHGNet's own prediction: total energy (eV), forces (eV/Å), stress (eV/Å³, ASE sign)."""
    import torch

    preds = model.predict_graph(graphs, task="efs", batch_size=16)
    if not isinstance(preds, list):
        preds = [preds]
    out = []
    for g, p in zip(graphs, preds):
        n = int(g.atomic_number.shape[0])
        # CHGNet divides by the signed volume: undo that for left-handed lattices
        sign = 1.0 if float(torch.det(g.lattice.detach().double())) > 0 else -1.0
        out.append((float(p["e"]) * n, p["f"].astype("float64"), sign * p["s"].astype("float64") / GPA_PER_EV_A3))
    return out


def run_onnx(session, graphs, dtype):
    import numpy as np
    import torch
    from chgnet_flat import INPUT_NAMES, flat_inputs_from_graphs

    inputs = flat_inputs_from_graphs(graphs, dtype=dtype)
    e, f, s = session.run(None, {k: v.numpy() for k, v in zip(INPUT_NAMES, inputs)})
    out, off = [], 0
    for i, g in enumerate(graphs):
        n = int(g.atomic_number.shape[0])
        out.append((float(e[i]), np.asarray(f[off : off + n], dtype=np.float64), np.asarray(s[i], dtype=np.float64)))
        off += n
    return out


def compare(a, b, graphs):
    import numpy as np

    de = df = ds = 0.0
    for (ea, fa, sa), (eb, fb, sb), g in zip(a, b, graphs):
        n = int(g.atomic_number.shape[0])
        de = max(de, abs(ea - eb) / n)
        df = max(df, float(np.abs(fa - fb).max()))
        ds = max(ds, float(np.abs(sa - sb).max()))
    return {"max_abs_energy_diff_eV_atom": de, "max_abs_force_diff_eV_A": df, "max_abs_stress_diff_eV_A3": ds}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(REPO / "models" / "chgnet-0.3.0"))
    ap.add_argument("--precision", default="float32,float64")
    args = ap.parse_args()
    ensure_requirements()

    import chgnet
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch

    from chgnet_checkpoint import CHECKPOINT_MEMBER, CHECKPOINT_SHA256, WHEEL_SPEC, checkpoint_path, load_chgnet
    from chgnet_flat import INPUT_NAMES, OUTPUT_NAMES, ChgnetEFS, flat_inputs_from_graphs
    from onnx_trace import inexact_float32_constants, trace_to_onnx

    torch.manual_seed(0)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    precisions = [p.strip() for p in args.precision.split(",") if p.strip()]
    for p in precisions:
        if p not in ("float32", "float64"):
            raise SystemExit(f"unknown precision {p}")

    model = load_chgnet()
    conv = model.graph_converter
    if conv.atom_graph_cutoff != ATOM_GRAPH_CUTOFF or conv.bond_graph_cutoff != BOND_GRAPH_CUTOFF:
        raise SystemExit(f"unexpected cutoffs {conv.atom_graph_cutoff} / {conv.bond_graph_cutoff}")
    structures = example_structures()
    graphs = [conv(s) for s in structures]
    # trace on the first four (sizes all distinct and > 5, so no shape gets specialised)
    trace_graphs = graphs[:4]
    dims = [int(x.shape[0]) for x in flat_inputs_from_graphs(trace_graphs)]
    n_atoms, n_struct, n_edges, n_bonds, n_trip = dims[0], dims[2], dims[4], dims[7], dims[8]
    sizes = [n_atoms, n_struct, n_edges, n_bonds, n_trip]
    if len(set(sizes)) != len(sizes) or min(sizes) < 4 or set(sizes) & {5, 9, 31, 64, 94}:
        raise SystemExit(f"example sizes would specialise a dynamic dimension: {sizes}")

    dynamic = {
        "atomic_numbers": {0: "n_atoms"},
        "frac_coords": {0: "n_atoms"},
        "lattice": {0: "n_structures"},
        "atom_owner": {0: "n_atoms"},
        "edge_index": {0: "n_edges"},
        "edge_image": {0: "n_edges"},
        "directed2undirected": {0: "n_edges"},
        "undirected2directed": {0: "n_bonds"},
        "triplets": {0: "n_triplets"},
    }
    reference = torch_reference(model, graphs)
    files = {}
    checks = {}
    for precision in precisions:
        dtype = torch.float32 if precision == "float32" else torch.float64
        fname = "model.onnx" if precision == "float32" else "model-float64.onnx"
        path = out_dir / fname
        m = copy.deepcopy(model).to(dtype)
        efs = ChgnetEFS(m, dtype).eval()
        print(f"[{precision}] tracing and exporting -> {path}")
        ops = trace_to_onnx(
            efs, flat_inputs_from_graphs(trace_graphs, dtype=dtype), INPUT_NAMES, OUTPUT_NAMES, dynamic, str(path),
            decompose_layer_norm=(precision == "float64"),
        )
        onnx.checker.check_model(str(path))
        if precision == "float64":
            # only LayerNorm's eps (1e-5 as float32: 2.5e-13 off) may remain a rounded scalar
            inexact = [v for v in inexact_float32_constants(str(path)) if abs(v - 1e-5) > 1e-12]
            if inexact:
                raise SystemExit(f"float64 graph has float32-rounded scalars: {sorted(set(inexact))}")

        so = ort.SessionOptions()
        so.intra_op_num_threads = 2
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        # one batch with every example, and each structure alone (batch of one)
        batched = run_onnx(sess, graphs, dtype)
        single = [run_onnx(sess, [g], dtype)[0] for g in graphs]
        for a in (batched, single):
            for e, f, s in a:
                if not (np.isfinite(e) and np.isfinite(f).all() and np.isfinite(s).all()):
                    raise SystemExit(f"[{precision}] non-finite output")
        vs_torch = compare(batched, reference, graphs)
        batch_vs_single = compare(batched, single, graphs)
        # the flat PyTorch graph in the same precision: isolates export error from rounding
        flat_ref = []
        e_t, f_t, s_t = efs(*flat_inputs_from_graphs(graphs, dtype=dtype))
        off = 0
        for i, g in enumerate(graphs):
            n = int(g.atomic_number.shape[0])
            flat_ref.append((float(e_t[i]), f_t[off : off + n].detach().double().numpy(), s_t[i].detach().double().numpy()))
            off += n
        vs_flat_torch = compare(batched, flat_ref, graphs)
        runs = [run_onnx(sess, graphs, dtype) for _ in range(10)]
        deterministic = all(compare(r, runs[0], graphs)["max_abs_force_diff_eV_A"] == 0.0 and
                            compare(r, runs[0], graphs)["max_abs_energy_diff_eV_atom"] == 0.0 for r in runs)
        print(f"  vs PyTorch CHGNet (float32): {vs_torch}")
        print(f"  vs traced-module PyTorch ({precision}): {vs_flat_torch}")
        print(f"  batched vs single: {batch_vs_single}; deterministic (2 threads, 10 runs): {deterministic}")
        limit = 5e-4  # a broken export is off by orders of magnitude more than float32 rounding
        if vs_torch["max_abs_force_diff_eV_A"] > limit or vs_torch["max_abs_energy_diff_eV_atom"] > limit:
            raise SystemExit(f"[{precision}] export check failed: {vs_torch}")
        if not deterministic:
            raise SystemExit(f"[{precision}] outputs differ between identical runs")
        files[precision] = {
            "path": fname,
            "sha256": sha256_file(path),
            "bytes": path.stat().st_size,
            "nodes": sum(ops.values()),
        }
        checks[precision] = {
            "structures": [s.composition.reduced_formula for s in structures],
            "vs_pytorch_chgnet_float32": vs_torch,
            f"vs_pytorch_same_graph_{precision}": vs_flat_torch,
            "batched_vs_single": batch_vs_single,
            "deterministic_2_threads_10_runs": deterministic,
        }

    licence_src = Path(chgnet.__file__).resolve().parent.parent / f"chgnet-{chgnet.__version__}.dist-info"
    licence_files = [p for p in (licence_src / "LICENSE", licence_src / "licenses" / "LICENSE") if p.exists()]
    if not licence_files:
        raise SystemExit(f"chgnet LICENSE not found in {licence_src}")
    (out_dir / "LICENSE-CHGNet").write_text(licence_files[0].read_text())

    manifest_path = out_dir / "manifest.json"
    old = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest = {
        "name": "chgnet-0.3.0",
        "model": "CHGNet",
        "architecture": "chgnet",  # the graph contract: core/potential/architectures.ts
        "version": "0.3.0",
        "description": "CHGNet 0.3.0 universal potential (pretrained on MPtrj) exported to ONNX with "
        "energy, forces = -dE/dr and stress = (1/V) dE/d(strain) computed inside the graph "
        "(autograd traced to plain operators).",
        "source": {
            "package": "chgnet",
            "package_version_used": chgnet.__version__,
            "checkpoint": CHECKPOINT_MEMBER,
            "checkpoint_sha256": CHECKPOINT_SHA256,
            "checkpoint_obtained_from": f"{WHEEL_SPEC} wheel (PyPI); the chgnet==0.3.0 wheel is yanked "
            "because it lacks these weights",
            "paper": "B. Deng et al., CHGNet as a pretrained universal neural network potential for "
            "charge-informed atomistic modelling, Nature Machine Intelligence 5, 1031 (2023)",
            "repository": "https://github.com/CederGroupHub/chgnet",
        },
        "licence": {
            "name": "Modified BSD (CHGNet licence: 3-clause BSD plus an enhancements clause)",
            "file": "LICENSE-CHGNet (copied from the chgnet package; binary redistribution of the "
            "weights must reproduce it)",
            "attribution": "CHGNet, Copyright (c) 2023, The Regents of the University of California, "
            "through Lawrence Berkeley National Laboratory and the University of California, Berkeley. "
            "The ONNX graph is a derived work produced by softmode's exporter (tools/export).",
        },
        "files": files,
        "cutoffs_A": {"atom_graph": ATOM_GRAPH_CUTOFF, "bond_graph": BOND_GRAPH_CUTOFF},
        "supported_atomic_numbers": [1, 94],
        "graph_conventions": {
            "atom_graph": "directed edges (i, j, image n) for every pair with 0 < |r_j + n.L - r_i| <= 6 A "
            "(both directions, periodic images included)",
            "undirected_bonds": "each directed edge (i, j, n) is paired with its reverse (j, i, -n); "
            "undirected2directed picks one directed edge of each pair",
            "bond_graph": "for every undirected bond u with length <= 3 A and each of its two directed "
            "edges d (centre c), one row (c, u, d, und(e), e) for every other directed edge e leaving c "
            "with length < 3 A",
            "order": "any order: the graph only sums over edges and triplets (results agree to rounding)",
            "indices": "global over the batch (offset by preceding structures' atoms, edges, bonds)",
        },
        "inputs": {
            "atomic_numbers": ["int64", ["n_atoms"], "Z, 1..94"],
            "frac_coords": ["float", ["n_atoms", 3], "fractional coordinates as given (not wrapped)"],
            "lattice": ["float", ["n_structures", 3, 3], "lattice row vectors, A"],
            "atom_owner": ["int64", ["n_atoms"], "structure index of each atom, 0..n_structures-1"],
            "edge_index": ["int64", ["n_edges", 2], "directed atom-graph edges (centre, neighbour)"],
            "edge_image": ["float", ["n_edges", 3], "integer cell offset of the neighbour, as float"],
            "directed2undirected": ["int64", ["n_edges"], "undirected bond of each directed edge"],
            "undirected2directed": ["int64", ["n_bonds"], "one directed edge of each undirected bond"],
            "triplets": ["int64", ["n_triplets", 5], "(centre atom, bond i, edge i, bond j, edge j)"],
        },
        "outputs": {
            "energy": ["float", ["n_structures"], "total energy, eV"],
            "forces": ["float", ["n_atoms", 3], "-dE/dr, eV/A"],
            "stress": ["float", ["n_structures", 3, 3],
                       "(1/|V|) dE/d(strain) with L' = L(I + strain), eV/A^3, ASE sign (tensile positive); "
                       "CHGNet's 's' output is this x 160.21766208 GPa (for a left-handed lattice "
                       "CHGNet divides by the signed volume and flips the sign; this graph does not)"],
        },
        "precision_note": "float is float32 in model.onnx and float64 in model-float64.onnx. The float64 "
        "graph has the same weights (cast up); it removes float32 rounding noise of the graph itself.",
        "export": {
            "command": "tools/.venv/bin/python tools/export/export_chgnet.py",
            "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": ort.__version__,
            "opset": 18,
            "python": platform.python_version(),
        },
        "export_check": checks,
    }
    if "parity" in old:
        manifest["parity"] = old["parity"]  # written by bench/mlip-parity (npm run parity:mlip)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {manifest_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
