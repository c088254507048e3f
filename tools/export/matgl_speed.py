"""PyTorch side of `npm run bench:mlip -- --model <matgl model>`: time matgl 2.0.4 (its own code,
float32 as users run it) on the cases bench/mlip-speed.ts writes, at the same thread counts.
Runs in tools/.venv-matgl.

    tools/.venv-matgl/bin/python tools/export/matgl_speed.py --model m3gnet-mp-2021.2.8 CASES.json OUT.json

Per case: `total_ms` = per call, for each structure of the batch in turn (matgl's ASE calculator
evaluates one structure at a time): Structure2Graph (pymatgen neighbour search) + Potential
(forward + autograd forces and stress); `forward_ms` = the Potential calls on prebuilt graphs.
Median of `reps` calls after one warm-up call.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    from matgl_models import MATGL_PYPI, MODELS, weights_dir

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=sorted(MODELS))
    ap.add_argument("--matgl-git-dir", default=None)
    ap.add_argument("--weights-dir", default=None)
    ap.add_argument("cases")
    ap.add_argument("out")
    args = ap.parse_args()
    spec = MODELS[args.model]
    os.environ["MATGL_BACKEND"] = spec["backend"]
    os.environ.setdefault("DGLBACKEND", "pytorch")
    import numpy as np
    import torch
    import matgl
    from matgl.ext.pymatgen import Structure2Graph
    from pymatgen.core import Lattice, Structure

    pot = matgl.load_model(str(weights_dir(args.model, args.matgl_git_dir, args.weights_dir))).eval()
    conv = Structure2Graph(element_types=pot.model.element_types, cutoff=pot.model.cutoff)
    cases = json.loads(Path(args.cases).read_text())["cases"]
    out = []
    for case in cases:
        torch.set_num_threads(case["threads"])
        structures = [Structure(Lattice(np.array(s["lattice"])), s["numbers"], np.array(s["frac"])) for s in case["structures"]]

        def total():
            for s in structures:
                g, lat, st = conv.get_graph(s)
                pot(g, lat, torch.tensor(st, dtype=matgl.float_th))

        graphs = [conv.get_graph(s) for s in structures]

        def forward():
            for g, lat, st in graphs:
                pot(g, lat, torch.tensor(st, dtype=matgl.float_th))

        timings = {}
        for name, fn in (("total_ms", total), ("forward_ms", forward)):
            fn()
            ts = []
            for _ in range(case["reps"]):
                t0 = time.perf_counter()
                fn()
                ts.append((time.perf_counter() - t0) * 1000)
            timings[name] = statistics.median(ts)
        out.append({"atoms": case["atoms"], "batch": case["batch"], "threads": case["threads"], **timings})
        print(f"matgl {case['atoms']} atoms x{case['batch']} threads {case['threads']}: {timings}", file=sys.stderr)
    Path(args.out).write_text(json.dumps({
        "torch": torch.__version__,
        "reference": f"{MATGL_PYPI} ({spec['backend']}, float32), {spec['matgl_name']}",
        "cases": out,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
