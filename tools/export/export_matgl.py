"""Export matgl's pretrained M3GNet-MP-2021.2.8-PES and TensorNet-MatPES-PBE-v2025.1-PES to ONNX with
energy, forces and stress in the graph (float32 and float64), check them against matgl 2.0.4's own
PyTorch code, and write models/<name>/ (model.onnx, model-float64.onnx, manifest.json, LICENSE-matgl).

    tools/.venv/bin/python tools/export/export_matgl.py                      # both models
    tools/.venv/bin/python tools/export/export_matgl.py --model m3gnet-mp-2021.2.8 --matgl-git-dir DIR

The weights come from a local clone of materialsvirtuallab/matgl at the commit pinned in
matgl_models.py (--matgl-git-dir, MATGL_GIT_DIR, or --weights-dir with the three files); the export
is reproducible from them (same torch/onnx versions give the same files). The reference numbers
come from tools/export/matgl_parity.py run in tools/.venv-matgl (made by ensure-matgl-venv.sh);
this script runs it when its output is missing. The graph contract is in matgl_flat.py and in
each manifest.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))


def reference(name: str, args) -> dict:
    path = Path(args.reference_dir) / f"matgl-export-check-{name}.json"
    if not path.exists():
        py = subprocess.run([str(HERE / "ensure-matgl-venv.sh")], check=True, capture_output=True, text=True).stdout.strip()
        cmd = [py, str(HERE / "matgl_parity.py"), "--model", name, "--out", str(path), "--frames-per-file", "4", "--mattergen", "2", "--graphs", "6"]
        if args.matgl_git_dir:
            cmd += ["--matgl-git-dir", args.matgl_git_dir]
        if args.weights_dir:
            cmd += ["--weights-dir", args.weights_dir]
        subprocess.run(cmd, check=True)
    return json.loads(path.read_text())


def compare(a, b, natoms) -> dict:
    import numpy as np

    d = {"max_abs_energy_diff_eV_atom": 0.0, "max_abs_force_diff_eV_A": 0.0, "max_abs_stress_diff_eV_A3": 0.0}
    for (e1, f1, s1), (e2, f2, s2), n in zip(a, b, natoms):
        d["max_abs_energy_diff_eV_atom"] = max(d["max_abs_energy_diff_eV_atom"], abs(e1 - e2) / n)
        d["max_abs_force_diff_eV_A"] = max(d["max_abs_force_diff_eV_A"], float(np.abs(np.asarray(f1) - np.asarray(f2)).max()) if n else 0.0)
        d["max_abs_stress_diff_eV_A3"] = max(d["max_abs_stress_diff_eV_A3"], float(np.abs(np.asarray(s1) - np.asarray(s2)).max()))
    return d


def run_onnx(sess, kind, structures, dtype, flat_inputs, input_names):
    import numpy as np

    feeds = {k: v.numpy() for k, v in zip(input_names, flat_inputs(kind, structures, dtype=dtype))}
    e, f, s = sess.run(None, feeds)
    out, off = [], 0
    for i, st in enumerate(structures):
        n = len(st["numbers"])
        out.append((float(e[i]), np.asarray(f[off : off + n], dtype=np.float64), np.asarray(s[i], dtype=np.float64)))
        off += n
    return out


def main() -> int:
    from matgl_models import MATGL_COMMIT, MATGL_COMMIT_DATE, MATGL_PYPI, MATGL_REPOSITORY, MODELS, licence_text, sha256_file, weights_dir

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", choices=sorted(MODELS), help="default: all")
    ap.add_argument("--models-dir", default=str(REPO / "models"))
    ap.add_argument("--precision", default="float32,float64")
    ap.add_argument("--matgl-git-dir", default=None)
    ap.add_argument("--weights-dir", default=None)
    ap.add_argument("--reference-dir", default=str(HERE / ".cache"))
    args = ap.parse_args()

    from export_chgnet import ensure_requirements

    ensure_requirements()
    try:
        import torch_geometric  # noqa: F401  (matgl's TensorNet layers; added to requirements-export.txt later)
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-r", str(REPO / "tools" / "requirements-export.txt")], check=True)
    from matgl_source import ensure_matgl_source

    ensure_matgl_source()
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch

    import matgl_flat as mf
    from onnx_trace import inexact_float32_constants, trace_to_onnx

    precisions = [p for p in args.precision.split(",") if p]
    for name in args.model or sorted(MODELS):
        spec = MODELS[name]
        kind = spec["architecture"]
        wdir = weights_dir(name, args.matgl_git_dir, args.weights_dir)
        ref = reference(name, args)
        items = ref["items"]
        structures = [it["structure"] for it in items]
        natoms = [len(s["numbers"]) for s in structures]
        iargs = mf.init_args(wdir)
        out_dir = Path(args.models_dir) / name
        out_dir.mkdir(parents=True, exist_ok=True)
        input_names = mf.INPUTS[kind]
        dynamic = {k: v for k, v in mf.DYNAMIC.items() if k in input_names}
        trace_structs = [it["structure"] for it in items if it["kind"] == "generated"][:4]
        files, checks = {}, {}
        for precision in precisions:
            dtype = torch.float64 if precision == "float64" else torch.float32
            fname = "model.onnx" if precision == "float32" else "model-float64.onnx"
            path = out_dir / fname
            model = mf.build_energy_model(kind, wdir, precision)
            efs = mf.EFS(model, kind == "matgl-m3gnet").eval()
            ex = mf.flat_inputs(kind, trace_structs, dtype=dtype)
            sizes = [int(ex[0].shape[0]), int(ex[2].shape[0]), int(ex[4].shape[0])] + ([int(ex[6].shape[0])] if len(ex) > 6 else [])
            if len(set(sizes)) != len(sizes) or min(sizes) < 4 or set(sizes) & {5, 9, 32, 64, 89, 95, 128}:
                raise SystemExit(f"example sizes would specialise a dynamic dimension: {sizes}")
            print(f"[{name} {precision}] tracing and exporting -> {path}")
            ops = trace_to_onnx(
                efs, ex, input_names, mf.OUTPUT_NAMES, dynamic, str(path),
                decompose_layer_norm=(precision == "float64"),
                graph_pass=mf.graph_pass(precision),
                custom_translation_table=mf.custom_translations(),
            )
            onnx.checker.check_model(str(path))
            if precision == "float64":
                inexact = [v for v in inexact_float32_constants(str(path)) if (v * 1024) != round(v * 1024)]
                if inexact:
                    raise SystemExit(f"float64 graph has float32-rounded scalars: {sorted(set(inexact))}")
            bad_scatter = [n.name for n in onnx.load(str(path)).graph.node if n.op_type == "ScatterND" and any(a.name == "reduction" and a.s not in (b"", b"none") for a in n.attribute)]
            if bad_scatter:
                raise SystemExit(f"accumulating ScatterND: {bad_scatter}")
            so = ort.SessionOptions()
            so.intra_op_num_threads = 2
            sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
            batched = []
            for k in range(0, len(structures), 8):
                batched += run_onnx(sess, kind, structures[k : k + 8], dtype, mf.flat_inputs, input_names)
            single = [run_onnx(sess, kind, [s], dtype, mf.flat_inputs, input_names)[0] for s in structures]
            for e, f, s in batched:
                if not (np.isfinite(e) and np.isfinite(f).all() and np.isfinite(s).all()):
                    raise SystemExit(f"[{precision}] non-finite output")
            ref_same = [(it[f"pytorch_{precision}"]["energy"], it[f"pytorch_{precision}"]["forces"], it[f"pytorch_{precision}"]["stress"]) for it in items]
            ref32 = [(it["pytorch_float32"]["energy"], it["pytorch_float32"]["forces"], it["pytorch_float32"]["stress"]) for it in items]
            flat = []
            for s in structures:
                e_t, f_t, s_t = efs(*mf.flat_inputs(kind, [s], dtype=dtype))
                flat.append((float(e_t.detach()[0]), f_t.detach().double().numpy(), s_t.detach()[0].double().numpy()))
            runs = [run_onnx(sess, kind, structures[:8], dtype, mf.flat_inputs, input_names) for _ in range(5)]
            deterministic = all(compare(r, runs[0], natoms[:8]) == {k: 0.0 for k in compare(r, runs[0], natoms[:8])} for r in runs)
            c = {
                "structures": len(structures),
                f"vs_matgl_pytorch_{precision}": compare(batched, ref_same, natoms),
                f"vs_same_graph_pytorch_{precision}": compare(batched, flat, natoms),
                "batched_vs_single": compare(batched, single, natoms),
                "deterministic_2_threads_5_runs": deterministic,
            }
            if precision == "float64":
                c["vs_matgl_pytorch_float32"] = compare(batched, ref32, natoms)
            print(json.dumps(c, indent=1))
            limit = 1e-8 if precision == "float64" else 5e-4
            v = c[f"vs_matgl_pytorch_{precision}"]
            if v["max_abs_force_diff_eV_A"] > limit or v["max_abs_energy_diff_eV_atom"] > limit or not deterministic:
                raise SystemExit(f"[{name} {precision}] export check failed: {v}, deterministic {deterministic}")
            files[precision] = {"path": fname, "sha256": sha256_file(path), "bytes": path.stat().st_size, "nodes": sum(ops.values())}
            checks[precision] = c

        lic = licence_text(args.matgl_git_dir)
        if lic:
            (out_dir / "LICENSE-matgl").write_text(lic)
        manifest_path = out_dir / "manifest.json"
        old = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
        excluded = [z for z in mf.DEFAULT_ELEMENTS_EXCLUDED]
        inputs = {
            "atomic_numbers": ["int64", ["n_atoms"], "Z (1..94 except 84-88, which the model lacks)"],
            "positions": ["float", ["n_atoms", 3], "Cartesian A: fractional coordinates as given (not wrapped) times the lattice"],
            "cell": ["float", ["n_structures", 3, 3], "lattice row vectors, A"],
            "atom_owner": ["int64", ["n_atoms"], "structure index of each atom"],
            "edge_index": ["int64", ["n_edges", 2], "directed edges (centre, neighbour), 0 < d <= cutoff"],
            "edge_offset": ["float", ["n_edges", 3], "integer image of the neighbour (as float): neighbour at r_j + n.L"],
        }
        conventions = {
            "edges": "matgl's Structure2Graph: pymatgen find_points_in_spheres(cart, cart, r=cutoff, tol=1e-8) on the "
            "unwrapped Cartesian coordinates, self pairs removed",
            "indices": "global over the batch (offset by preceding structures' atoms and edges)",
        }
        if kind == "matgl-m3gnet":
            inputs["three_body"] = ["int64", ["n_triplets", 5],
                                    "(angle bond ij, angle bond ik, weight bond ij, weight bond ik, target bond): see three_body_indexing"]
            conventions["order"] = "edges in pymatgen's order, per structure: matgl 2.x's three-body indices depend on it"
            conventions["three_body_indexing"] = (
                "matgl-2-dgl: matgl <= 2 (DGL) numbers the bonds within the three-body cutoff ('pruned', P) and uses those "
                "numbers a, b as full edge-list indices for the neighbour atom, the two cutoff weights and (through "
                "n_triple_ij segments, empty ones collapsing) the bond the term is added to; the angle and radial basis use "
                "P[a], P[b]. Rows (P[a], P[b], a, b, s) in matgl's order (ordered pairs of distinct pruned bonds of each "
                "centre, a-major). matgl 3 changed this and retrained; these weights were trained with it. Built by "
                "core/potential/graph-matgl.ts, checked against matgl's own line graph (test/fixtures/matgl-graph-reference.json)."
            )
        else:
            conventions["order"] = "any order: the graph only sums over edges"
        manifest = {
            "name": name,
            "model": spec["matgl_name"],
            "architecture": kind,
            "version": spec["matgl_name"],
            "description": spec["description"] + ". Exported to ONNX with energy, forces = -dE/dr and stress = "
            "(1/V) dE/d(strain) computed inside the graph; reproduces matgl 2.0.4's PyTorch code (float64 graph to rounding).",
            "source": {
                "repository": MATGL_REPOSITORY,
                "commit": MATGL_COMMIT,
                "commit_date": MATGL_COMMIT_DATE,
                "path": f"pretrained_models/{spec['matgl_name']}/",
                "checkpoint": "state.pt",
                "checkpoint_sha256": spec["sha256"]["state.pt"],
                "files_sha256": spec["sha256"],
                "reference_code": f"{MATGL_PYPI} (PyPI; equal to src/matgl at the commit), backend {spec['backend']}",
                "training_data": spec["training_data"],
                "paper": spec["paper"],
            },
            "licence": {
                "name": "BSD-3-Clause (matgl code and pretrained weights)",
                "file": "LICENSE-matgl (matgl's LICENSE at the commit; redistribution of the weights must reproduce it)",
                "attribution": "Copyright (c) 2022, Materials Virtual Lab. The ONNX graph is a derived work produced by "
                "softmode's exporter (tools/export/export_matgl.py).",
            },
            "files": files,
            "cutoffs_A": {"atom_graph": float(iargs["cutoff"]), **({"three_body": float(iargs["threebody_cutoff"])} if kind == "matgl-m3gnet" else {})},
            "supported_atomic_numbers": [1, 94],
            "excluded_atomic_numbers": excluded,
            **({"three_body_indexing": "matgl-2-dgl"} if kind == "matgl-m3gnet" else {}),
            "model_args": {k: v for k, v in iargs.items() if k != "element_types"},
            "graph_conventions": conventions,
            "inputs": inputs,
            "outputs": {
                "energy": ["float", ["n_structures"], "total energy, eV (matgl: data_std * model + data_mean + elemental offsets)"],
                "forces": ["float", ["n_atoms", 3], "-dE/dr, eV/A"],
                "stress": ["float", ["n_structures", 3, 3], "(1/|V|) dE/d(strain), L' = L(I + strain), eV/A^3, ASE sign; matgl's "
                           "Potential returns this x 160.21766208 GPa"],
            },
            "precision_note": "float is float32 in model.onnx and float64 in model-float64.onnx (same weights, cast up; "
            "matgl's float64 run is the same code with set_default_dtype(float64) and the model cast to float64).",
            "export": {
                "command": f"tools/.venv/bin/python tools/export/export_matgl.py --model {name}",
                "weights": "a clone of the repository at the commit: --matgl-git-dir DIR (or MATGL_GIT_DIR), or --weights-dir",
                "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "torch": torch.__version__,
                "onnx": onnx.__version__,
                "onnxruntime": ort.__version__,
                "opset": 18,
                "python": platform.python_version(),
                "reference": {k: ref[k] for k in ("matgl", "matgl_backend", "torch")},
            },
            "export_check": checks,
        }
        if "parity" in old:
            manifest["parity"] = old["parity"]
        manifest["pytorch_reference"] = {
            "label": f"matgl {MATGL_PYPI.split('==')[1]} PyTorch ({spec['backend']})",
            "python": "tools/.venv-matgl/bin/python",
            "ensure": "tools/export/ensure-matgl-venv.sh",
            "parity": "tools/export/matgl_parity.py",
            "speed": "tools/export/matgl_speed.py",
            "args": ["--model", name],
        }
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
        print(f"wrote {out_dir}: {json.dumps(files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
