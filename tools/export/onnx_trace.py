"""Trace an energy+gradient module (one that calls torch.autograd.grad inside forward) into
plain aten ops with make_fx and export it to ONNX with dynamic shapes.

Shared by the CHGNet and MatterSim exporters.

Choices that matter for correctness in onnxruntime:
  * index_add is decomposed to scatter_add with an expanded index, which exports to
    ScatterElements(reduction='add'). PyTorch's default decomposition turns index_add into
    index_put(accumulate=True) -> ScatterND(reduction='add'), whose CPU kernel in
    onnxruntime races on repeated indices when it runs multi-threaded.
  * the ONNX exporter's graph optimiser is switched off: its "Mul by 1 -> Identity" rewrite
    matches constants with a relative tolerance of 1e-5 and so deleted CHGNet's
    `cos * (1 - 1e-6)` (found by comparing every intermediate with PyTorch; the dropped factor
    gave acos(±1) and NaN forces). onnxruntime optimises the graph itself at load time.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import torch
from torch._decomp import core_aten_decompositions
from torch.fx.experimental.proxy_tensor import make_fx

aten = torch.ops.aten


def _index_add_as_scatter_add(self, dim, index, source, alpha=1):
    if alpha != 1:
        source = source * alpha
    if source.dim() == 0:
        source = source.reshape(1)
    shape = [1] * source.dim()
    shape[dim] = -1
    idx = index.reshape(shape).expand(source.shape)
    return aten.scatter_add.default(self, dim, idx, source)


def _index_put_as_scatter_add(self, indices, values, accumulate=False):
    """Backward of x[idx] (one 1-D index on dim 0) is index_put(accumulate=True): make it a
    scatter_add as well; anything else keeps PyTorch's own lowering (checked after export)."""
    if accumulate and len(indices) == 1 and indices[0] is not None and indices[0].dim() == 1 and indices[0].dtype != torch.bool:
        idx = indices[0]
        if values.dim() < self.dim():
            values = values.expand((idx.shape[0],) + tuple(self.shape[1:]))
        return _index_add_as_scatter_add(self, 0, idx, values)
    return NotImplemented


def decompositions(decompose_layer_norm: bool = False) -> dict:
    table = dict(core_aten_decompositions())
    table[aten.index_put.default] = _index_put_as_scatter_add
    if decompose_layer_norm:
        # The exporter types LayerNormalization's mean/inv-std outputs as the input type, but
        # for double inputs onnxruntime expects them float (stash_type): decompose instead.
        from torch._decomp import get_decompositions

        table.update(get_decompositions([aten.native_layer_norm.default]))
    table[aten.index_add.default] = _index_add_as_scatter_add
    return table


def trace_to_onnx(
    module: torch.nn.Module,
    example_inputs: Sequence[torch.Tensor],
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_dims: dict[str, dict[int, str]],
    out_path: str,
    opset: int = 18,
    verbose: bool = True,
    decompose_layer_norm: bool = False,
    graph_pass=None,
    custom_translation_table: dict | None = None,
) -> dict:
    """make_fx (symbolic) + torch.onnx.export(dynamo=True, optimize=False). Returns op counts.
    `graph_pass(gm)`, if given, may rewrite the traced torch.fx graph before the export;
    `custom_translation_table` goes to torch.onnx.export (ONNX functions for ops it lacks)."""
    module = module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    t0 = time.time()
    gm = make_fx(
        module,
        tracing_mode="symbolic",
        decomposition_table=decompositions(decompose_layer_norm),
        _allow_non_fake_inputs=True,  # weights become graph constants
    )(*example_inputs)
    if graph_pass is not None:
        graph_pass(gm)
    t1 = time.time()

    # torch.export needs a module whose forward has named arguments
    names = list(input_names)
    src = "def forward(self, {a}):\n    return self.gm({a})\n".format(a=", ".join(names))
    scope: dict = {}
    exec(src, scope)  # noqa: S102 - builds a fixed-signature forward from our own names
    wrapper_cls = type("TracedGraph", (torch.nn.Module,), {"forward": scope["forward"]})
    wrapper = wrapper_cls()
    wrapper.gm = gm

    dims: dict[str, torch.export.Dim] = {}
    dynamic_shapes = {}
    for name in names:
        spec = dynamic_dims.get(name, {})
        dynamic_shapes[name] = {
            axis: dims.setdefault(dim_name, torch.export.Dim(dim_name)) for axis, dim_name in spec.items()
        }
    prog = torch.onnx.export(
        wrapper,
        tuple(example_inputs),
        dynamic_shapes=dynamic_shapes,
        input_names=names,
        output_names=list(output_names),
        dynamo=True,
        opset_version=opset,
        optimize=False,
        external_data=False,
        verbose=False,
        **({"custom_translation_table": custom_translation_table} if custom_translation_table else {}),
    )
    prog.save(out_path, external_data=False)
    t2 = time.time()

    import onnx

    model = onnx.load(out_path)
    ops = Counter(n.op_type for n in model.graph.node)
    if ops.get("ScatterND", 0):
        # slice_scatter (select/slice backward) gives ScatterND with reduction 'none' and
        # unique indices: deterministic. Refuse any accumulating ScatterND.
        for n in model.graph.node:
            if n.op_type == "ScatterND":
                for a in n.attribute:
                    if a.name == "reduction" and a.s not in (b"", b"none"):
                        raise RuntimeError(f"accumulating ScatterND in exported graph: {n.name}")
    if verbose:
        print(f"  make_fx {t1 - t0:.1f}s, onnx export {t2 - t1:.1f}s, {sum(ops.values())} nodes")
    return dict(ops)


def inexact_float32_constants(onnx_path: str) -> list[float]:
    """Float32 constants in a float64 graph that are not small integers: the exporter turns
    Python-float scalars into float32 constants (then casts them), which rounds them."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load(onnx_path)
    bad = []
    for node in model.graph.node:
        if node.op_type != "Constant":
            continue
        for a in node.attribute:
            if a.name == "value" and a.t.data_type == onnx.TensorProto.FLOAT:
                v = numpy_helper.to_array(a.t).astype(np.float64).ravel()
                bad.extend(float(x) for x in v if x != round(x))
    return bad
