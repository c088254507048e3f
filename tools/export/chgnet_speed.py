"""PyTorch side of `npm run bench:mlip`: time CHGNet 0.3.0 eager (its own code) on the cases
bench/mlip-speed.ts writes, at the same thread counts, and write the timings back.

    tools/.venv/bin/python tools/export/chgnet_speed.py CASES.json OUT.json

Per case: `total_ms` = CHGNet.predict_structure(structures, task='efs') per call (graph
conversion + forward + autograd forces/stress), `forward_ms` = the model call on prebuilt
CrystalGraphs only. Median of `reps` calls after one warm-up call.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    cases_path, out_path = sys.argv[1], sys.argv[2]
    import numpy as np
    import torch
    from pymatgen.core import Lattice, Structure

    from chgnet_checkpoint import load_chgnet

    spec = json.loads(Path(cases_path).read_text())
    model = load_chgnet()
    out = []
    for case in spec["cases"]:
        torch.set_num_threads(case["threads"])
        structures = [
            Structure(Lattice(np.array(s["lattice"])), s["numbers"], np.array(s["frac"])) for s in case["structures"]
        ]
        reps = case["reps"]

        def total():
            model.predict_structure(structures, task="efs", batch_size=len(structures))

        graphs = [model.graph_converter(s) for s in structures]

        def forward():
            model(graphs, task="efs")

        timings = {}
        for name, fn in (("total_ms", total), ("forward_ms", forward)):
            fn()  # warm-up
            ts = []
            for _ in range(reps):
                t0 = time.perf_counter()
                fn()
                ts.append((time.perf_counter() - t0) * 1000)
            timings[name] = statistics.median(ts)
        out.append({"atoms": case["atoms"], "batch": case["batch"], "threads": case["threads"], **timings})
        print(f"torch {case['atoms']} atoms x{case['batch']} threads {case['threads']}: {timings}", file=sys.stderr)
    Path(out_path).write_text(json.dumps({"torch": torch.__version__, "cases": out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
