"""Export a MatterSim-v1 (M3GNet) model to ONNX with energy, forces and stress in the graph,
with the same tracer as CHGNet, and check it against MatterSim's own PyTorch code.

    # proof on this machine: the real architecture (mattersim-v1.0.0-1M sizes) with random weights
    tools/.venv/bin/python tools/export/export_mattersim.py --random-seed 0

    # a user with internet: download the checkpoint MatterSim itself downloads, then
    #   https://raw.githubusercontent.com/microsoft/mattersim/main/pretrained_models/mattersim-v1.0.0-1M.pth
    tools/.venv/bin/python tools/export/export_mattersim.py --checkpoint mattersim-v1.0.0-1M.pth \
        --out models/mattersim-v1.0.0-1m

Reference: MatterSim's M3Gnet.forward on graphs from MatterSim's GraphConvertor, with
forces/stress from autograd exactly as mattersim.forcefield.potential.Potential.forward does
(strain ε: cell' = cell(I+ε), r' = r(I+ε); F = −∂E/∂r'; σ = ∂E/∂ε / V). The ONNX graph is
checked on generated structures and on frames of ../shared/data/parity (when present).
Writes <out>/model.onnx, <out>/manifest.json and <out>/parity.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))


def _stub_torch_geometric() -> None:
    """GraphConvertor returns torch_geometric.data.Data(**fields); a plain record is enough."""
    if "torch_geometric.data" in sys.modules:
        return
    try:
        import torch_geometric.data  # noqa: F401

        return
    except ImportError:
        pass

    class Data:  # minimal stand-in: attribute bag
        def __init__(self, **kw):
            self.__dict__.update(kw)

        def __getitem__(self, k):
            return self.__dict__[k]

        def keys(self):
            return self.__dict__.keys()

    tg = types.ModuleType("torch_geometric")
    tgd = types.ModuleType("torch_geometric.data")
    tgd.Data = Data
    tg.data = tgd
    sys.modules["torch_geometric"] = tg
    sys.modules["torch_geometric.data"] = tgd


def mattersim_reference(model, graph, dtype):
    """MatterSim's own forward + Potential.forward's autograd, one structure; eV, eV/Å, eV/Å³."""
    import torch

    n = int(graph["num_atoms"])
    nb = int(graph["num_bonds"])
    tb = graph["three_body_indices"]
    inp = {
        "atom_pos": graph["atom_pos"].to(dtype).clone(),
        "cell": graph["cell"].to(dtype).clone(),
        "pbc_offsets": graph["pbc_offsets"].to(dtype),
        "atom_attr": graph["atom_attr"].to(dtype),
        "edge_index": graph["edge_index"].long(),
        "three_body_indices": tb.long() if tb is not None else torch.zeros((0, 2), dtype=torch.long),
        "num_three_body": torch.tensor([0 if tb is None else tb.shape[0]]),
        "num_bonds": torch.tensor([nb]),
        "num_triple_ij": graph["num_triple_ij"].long().view(-1, 1),
        "num_atoms": torch.tensor([n]),
        "num_graphs": 1,
        "batch": torch.zeros(n, dtype=torch.long),
    }
    strain = torch.zeros_like(inp["cell"]).requires_grad_(True)
    eye = torch.eye(3, dtype=dtype)[None]
    inp["cell"] = torch.matmul(inp["cell"], eye + strain)
    inp["atom_pos"] = torch.einsum("bi, bij -> bj", inp["atom_pos"], (eye + strain)[inp["batch"]])
    volume = torch.linalg.det(inp["cell"])
    e = model.forward(inp)
    g_pos, g_strain = torch.autograd.grad(e.sum(), [inp["atom_pos"], strain])
    stress = g_strain / volume.abs()[:, None, None]
    return float(e.detach()[0]), (-g_pos).detach().double().numpy(), stress.detach()[0].double().numpy()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="MatterSim checkpoint (.pth with 'model' and 'model_args')")
    src.add_argument("--random-seed", type=int, help="random weights of the default (1M) architecture")
    ap.add_argument("--out", default=None)
    ap.add_argument("--parity-frames", type=int, default=40, help="frames of ../shared/data/parity to check")
    args = ap.parse_args()

    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch
    from ase.io import read
    from pymatgen.io.ase import AseAtomsAdaptor

    from export_chgnet import ensure_requirements, example_structures, sha256_file
    from m3gnet_flat import DYNAMIC, INPUT_NAMES, OUTPUT_NAMES, M3gnetEFS, flat_inputs_from_mattersim, restore_scatter
    from mattersim_source import MATTERSIM_SPEC, ensure_mattersim_source, m3gnet_class
    from onnx_trace import trace_to_onnx

    ensure_requirements()
    ensure_mattersim_source()
    _stub_torch_geometric()
    from mattersim.datasets.utils.convertor import GraphConvertor

    M3Gnet = m3gnet_class()
    if args.checkpoint:
        ckpt = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
        model = M3Gnet(device="cpu", **ckpt["model_args"])
        # as MatterSim's own loader (strict=False), but say what did not match
        res = model.load_state_dict(ckpt["model"], strict=False)
        if res.missing_keys or res.unexpected_keys:
            print(f"warning: missing {res.missing_keys}, unexpected {res.unexpected_keys}", file=sys.stderr)
        name = Path(args.checkpoint).stem.lower()
        checkpoint_sha = sha256_file(Path(args.checkpoint))
    else:
        torch.manual_seed(args.random_seed)
        model = M3Gnet(device="cpu")
        # the default normaliser is scale 1 / shift 0: randomise it too so its path is tested, and
        # scale it so forces come out at physical magnitudes (~0.1-1 eV/Å rather than ~1e-3),
        # which makes the absolute parity tolerances meaningful
        with torch.no_grad():
            model.normalizer.scale.copy_(300 * (1 + 0.1 * torch.randn_like(model.normalizer.scale)))
            model.normalizer.shift.copy_(torch.randn_like(model.normalizer.shift))
        name = f"mattersim-v1-random-seed{args.random_seed}"
        checkpoint_sha = hashlib.sha256(
            b"".join(t.detach().numpy().tobytes() for t in model.state_dict().values())
        ).hexdigest()
    model.eval()
    out_dir = Path(args.out) if args.out else HERE / ".cache" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    cutoff = float(model.model_args["cutoff"])
    tb_cutoff = float(model.model_args["threebody_cutoff"])
    conv = GraphConvertor("m3gnet", cutoff, True, tb_cutoff)

    atoms_list = [AseAtomsAdaptor.get_atoms(s) for s in example_structures()]
    labels = ["generated"] * len(atoms_list)
    parity_dir = REPO.parent / "shared" / "data" / "parity"
    if args.parity_frames and parity_dir.exists():
        for xyz in sorted(parity_dir.glob("*.xyz")):
            frames = read(str(xyz), index=":")
            step = max(1, len(frames) // (args.parity_frames // 2))
            for k in range(0, len(frames), step)[: args.parity_frames // 2]:
                atoms_list.append(frames[k])
                labels.append(f"{xyz.name}#{k}")
    graphs = [conv.convert(a.copy()) for a in atoms_list]

    trace = graphs[:5]
    dims = [int(x.shape[0]) for x in flat_inputs_from_mattersim(trace)]
    sizes = [dims[0], dims[2], dims[4], dims[6]]
    if len(set(sizes)) != len(sizes) or min(sizes) < 5 or set(sizes) & {16, 64, 95, 128}:
        raise SystemExit(f"example sizes would specialise a dynamic dimension: {sizes}")
    path = out_dir / "model.onnx"
    efs = M3gnetEFS(model).eval()
    print(f"tracing and exporting {name} -> {path}")
    ops = trace_to_onnx(efs, flat_inputs_from_mattersim(trace), INPUT_NAMES, OUTPUT_NAMES, DYNAMIC, str(path))
    onnx.checker.check_model(str(path))
    restore_scatter()  # the reference below runs MatterSim's code as shipped

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    diffs = {"max_abs_energy_diff_eV_atom": 0.0, "max_abs_force_diff_eV_A": 0.0, "max_abs_stress_diff_eV_A3": 0.0}
    ref_prec = {}
    per = []
    batch = 8
    for k0 in range(0, len(graphs), batch):
        chunk = graphs[k0 : k0 + batch]
        feeds = {n: t.numpy() for n, t in zip(INPUT_NAMES, flat_inputs_from_mattersim(chunk))}
        e, f, s = sess.run(None, feeds)
        off = 0
        for i, g in enumerate(chunk):
            n = int(g["num_atoms"])
            re, rf, rs = mattersim_reference(model, g, torch.float32)
            d = (abs(float(e[i]) - re) / n, float(np.abs(f[off : off + n] - rf).max()), float(np.abs(s[i] - rs).max()))
            diffs["max_abs_energy_diff_eV_atom"] = max(diffs["max_abs_energy_diff_eV_atom"], d[0])
            diffs["max_abs_force_diff_eV_A"] = max(diffs["max_abs_force_diff_eV_A"], d[1])
            diffs["max_abs_stress_diff_eV_A3"] = max(diffs["max_abs_stress_diff_eV_A3"], d[2])
            per.append({"structure": labels[k0 + i], "atoms": n, "dE_atom": d[0], "dF": d[1], "dS": d[2], "max_abs_force": float(np.abs(rf).max())})
            off += n
    # the PyTorch reference's own float32 rounding, for scale: float64 of the same code
    m64 = M3Gnet(device="cpu", **model.model_args)
    m64.load_state_dict(model.state_dict())
    m64 = m64.double().eval()
    own = {"max_abs_energy_diff_eV_atom": 0.0, "max_abs_force_diff_eV_A": 0.0, "max_abs_stress_diff_eV_A3": 0.0}
    for g in graphs[:12]:
        n = int(g["num_atoms"])
        a = mattersim_reference(model, g, torch.float32)
        try:
            b = mattersim_reference(m64, g, torch.float64)
        except RuntimeError as exc:  # a float32 literal inside MatterSim's code
            ref_prec["float64_reference_error"] = str(exc)[:200]
            break
        own["max_abs_energy_diff_eV_atom"] = max(own["max_abs_energy_diff_eV_atom"], abs(a[0] - b[0]) / n)
        own["max_abs_force_diff_eV_A"] = max(own["max_abs_force_diff_eV_A"], float(np.abs(a[1] - b[1]).max()))
        own["max_abs_stress_diff_eV_A3"] = max(own["max_abs_stress_diff_eV_A3"], float(np.abs(a[2] - b[2]).max()))
    diffs["max_abs_force_eV_A"] = max(p["max_abs_force"] for p in per)
    # relative to the largest force in the set (per-structure ratios blow up where forces vanish by symmetry)
    diffs["max_force_diff_over_max_force"] = diffs["max_abs_force_diff_eV_A"] / max(diffs["max_abs_force_eV_A"], 1e-12)
    targets = {"max_abs_energy_diff_eV_atom": 2e-5, "max_abs_force_diff_eV_A": 5e-5, "max_abs_stress_diff_eV_A3": 1e-4}
    passed = all(diffs[k] <= v for k, v in targets.items())
    if "float64_reference_error" in ref_prec:
        own = {"not_available": "MatterSim's forward casts pbc_offsets with .float(), so it cannot run in float64"}
    parity = {
        "model": name,
        "source": MATTERSIM_SPEC,
        "checkpoint": args.checkpoint or f"random weights, torch.manual_seed({args.random_seed})",
        "weights_sha256": checkpoint_sha,
        "structures": len(graphs),
        "onnx_float32_vs_mattersim_pytorch_float32": diffs,
        "mattersim_pytorch_float32_vs_float64_first12": own,
        "targets": targets,
        "passed": passed,
        "per_structure": per,
        # MatterSim's own answers for the generated structures, for the Node-side check
        # (test/potential-m3gnet-onnx.test.ts runs when this folder exists)
        "reference_generated": [
            {"structure": {"lattice": a.cell.array.tolist(), "frac": a.get_scaled_positions(wrap=False).tolist(),
                           "numbers": [int(z) for z in a.numbers]},
             "energy": r[0], "forces": r[1].tolist(), "stress": r[2].tolist()}
            for a, r in ((atoms_list[i], mattersim_reference(model, graphs[i], torch.float32)) for i in range(7))
        ],
        **ref_prec,
    }
    (out_dir / "parity.json").write_text(json.dumps(parity, indent=2) + "\n")
    if not args.checkpoint:
        # the random-weight proof is a result of the export path: keep it with the benchmarks
        (REPO / "bench" / "results" / "mattersim-random-parity.json").write_text(json.dumps(parity, indent=2) + "\n")
    manifest = {
        "name": name,
        "model": "MatterSim (M3GNet)",
        "architecture": "m3gnet",  # the graph contract: core/potential/architectures.ts
        "source": {"package": MATTERSIM_SPEC, "checkpoint": parity["checkpoint"], "checkpoint_sha256": checkpoint_sha},
        "files": {"float32": {"path": "model.onnx", "sha256": sha256_file(path), "bytes": path.stat().st_size, "nodes": sum(ops.values())}},
        "cutoffs_A": {"atom_graph": cutoff, "three_body": tb_cutoff},
        "supported_atomic_numbers": [1, int(model.model_args["max_z"])],
        "model_args": model.model_args,
        "inputs": INPUT_NAMES,
        "outputs": OUTPUT_NAMES,
        "graph_conventions": {
            "edges": "directed (i, j, image) with 0 < d <= cutoff (pymatgen find_points_in_spheres), positions wrapped into the cell",
            "three_body": "ordered pairs (ij, ik) of distinct edges leaving the same atom, both <= threebody cutoff",
        },
        "units": {"energy": "eV", "forces": "eV/A", "stress": "eV/A^3, (1/|V|) dE/d strain, ASE sign"},
        "licence": "MatterSim code and weights: MIT (microsoft/mattersim)",
        "parity": {k: parity[k] for k in ("onnx_float32_vs_mattersim_pytorch_float32", "passed", "structures")},
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps({k: parity[k] for k in ("onnx_float32_vs_mattersim_pytorch_float32", "mattersim_pytorch_float32_vs_float64_first12", "passed", "structures")}, indent=1))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
