"""Per-operator time of the CHGNet ONNX graph in onnxruntime (CPU), for the speed note.

    tools/.venv/bin/python tools/export/profile_onnx.py [--precision float32|float64] [--threads 1]

Profiles a rattled 64-atom Si cell (4 runs after session creation) with onnxruntime's own
profiler and writes bench/results/mlip-onnx-profile.json (ms per run by operator type).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--precision", default="float32")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    import numpy as np
    import onnxruntime as ort
    import torch
    from pymatgen.core import Lattice, Structure

    from chgnet_checkpoint import load_chgnet
    from chgnet_flat import INPUT_NAMES, flat_inputs_from_graphs

    model = load_chgnet()
    s = Structure(Lattice.cubic(5.43), ["Si"] * 8, [[0, 0, 0], [0.25, 0.25, 0.25], [0.5, 0.5, 0], [0.75, 0.75, 0.25],
                                                   [0.5, 0, 0.5], [0.75, 0.25, 0.75], [0, 0.5, 0.5], [0.25, 0.75, 0.75]])
    s.make_supercell([2, 2, 2])
    rng = np.random.default_rng(0)
    s = Structure(s.lattice, s.species, s.cart_coords + rng.normal(0, 0.03, (len(s), 3)), coords_are_cartesian=True)
    g = model.graph_converter(s)
    dtype = torch.float32 if args.precision == "float32" else torch.float64
    feeds = {k: v.numpy() for k, v in zip(INPUT_NAMES, flat_inputs_from_graphs([g], dtype=dtype))}
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.enable_profiling = True
    so.profile_file_prefix = str(HERE / ".cache" / "ortprofile")
    (HERE / ".cache").mkdir(exist_ok=True)
    fname = "model.onnx" if args.precision == "float32" else "model-float64.onnx"
    sess = ort.InferenceSession(str(REPO / "models" / "chgnet-0.3.0" / fname), so, providers=["CPUExecutionProvider"])
    runs = 4
    for _ in range(runs):
        sess.run(None, feeds)
    events = json.loads(Path(sess.end_profiling()).read_text())
    by_op: dict[str, float] = {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            op = e["args"].get("op_name", "?")
            by_op[op] = by_op.get(op, 0.0) + e["dur"] / 1000 / runs
    total = sum(by_op.values())
    out = {
        "command": "tools/.venv/bin/python tools/export/profile_onnx.py",
        "case": {"atoms": len(s), "edges": int(feeds["edge_index"].shape[0]), "triplets": int(feeds["triplets"].shape[0]),
                 "precision": args.precision, "threads": args.threads},
        "kernel_ms_per_run": round(total, 2),
        "by_operator": [{"op": k, "ms": round(v, 2), "share": round(v / total, 3)} for k, v in sorted(by_op.items(), key=lambda x: -x[1])],
    }
    path = REPO / "bench" / "results" / "mlip-onnx-profile.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    old[f"{args.precision}_threads{args.threads}"] = out
    path.write_text(json.dumps(old, indent=2) + "\n")
    print(json.dumps(out["by_operator"][:8]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
