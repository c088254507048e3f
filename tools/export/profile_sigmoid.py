"""Is onnxruntime's float64 Sigmoid worth rewriting in the exported CHGNet graph?

    tools/.venv/bin/python tools/export/profile_sigmoid.py [--rows 40000] [--repeats 20]

(onnx and onnxruntime from tools/requirements.txt, as installed by tools/reference/ensure-venv.sh)

Sigmoid takes 14 % of the float64 graph's kernel time (bench/results/mlip-onnx-profile.json)
against 3.5 % in float32. This times three equivalent one-operator graphs on a float64
(rows × 64) tensor with 1 thread: Sigmoid, Reciprocal(1 + Exp(−x)), and 0.5·(1 + Tanh(x/2)),
each twice, interleaved, and writes bench/results/onnx-sigmoid-float64.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def graph(kind: str):
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.DOUBLE, [None, 64])
    y = helper.make_tensor_value_info("y", TensorProto.DOUBLE, [None, 64])
    one = helper.make_tensor("one", TensorProto.DOUBLE, [], [1.0])
    half = helper.make_tensor("half", TensorProto.DOUBLE, [], [0.5])
    if kind == "sigmoid":
        nodes, inits = [helper.make_node("Sigmoid", ["x"], ["y"])], []
    elif kind == "reciprocal_exp":
        nodes = [
            helper.make_node("Neg", ["x"], ["n"]),
            helper.make_node("Exp", ["n"], ["e"]),
            helper.make_node("Add", ["e", "one"], ["a"]),
            helper.make_node("Reciprocal", ["a"], ["y"]),
        ]
        inits = [one]
    else:
        nodes = [
            helper.make_node("Mul", ["x", "half"], ["h"]),
            helper.make_node("Tanh", ["h"], ["t"]),
            helper.make_node("Add", ["t", "one"], ["a"]),
            helper.make_node("Mul", ["a", "half"], ["y"]),
        ]
        inits = [one, half]
    g = helper.make_graph(nodes, kind, [x], [y], inits)
    # IR 9 / opset 17: what onnxruntime 1.30 (onnxruntime-node) loads
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=40000)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    import numpy as np
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.rows, 64)) * 4
    exact = 1 / (1 + np.exp(-x))
    times: dict[str, list[float]] = {}
    errors: dict[str, float] = {}
    for kind in ["sigmoid", "reciprocal_exp", "tanh"] * 2:
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.log_severity_level = 3
        s = ort.InferenceSession(graph(kind).SerializeToString(), so, providers=["CPUExecutionProvider"])
        y = s.run(None, {"x": x})[0]
        errors[kind] = float(np.abs(y - exact).max())
        t = time.perf_counter()
        for _ in range(args.repeats):
            s.run(None, {"x": x})
        times.setdefault(kind, []).append((time.perf_counter() - t) / args.repeats * 1e3)
    out = {
        "description": "ms per run of one float64 activation over a (rows x 64) tensor, 1 onnxruntime thread; each variant measured twice, interleaved",
        "command": "tools/.venv/bin/python tools/export/profile_sigmoid.py",
        "onnxruntime": ort.__version__,
        "rows": args.rows,
        "loadavg_1min": os.getloadavg()[0],
        "ms": times,
        "max_abs_error_vs_numpy": errors,
    }
    path = REPO / "bench" / "results" / "onnx-sigmoid-float64.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(times))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
