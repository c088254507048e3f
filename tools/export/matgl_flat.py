"""matgl 2.0.4's M3GNet and TensorNet potentials as tensor functions of flat batched graph inputs,
with energy, forces and stress in one traceable module (onnx_trace.trace_to_onnx), built from
matgl's own layers (imported from the pinned wheel by matgl_source.py) and the checkpoint's
state.pt, key for key.

Only what depends on DGL / PyG graph objects is re-stated here (the top-level forward, M3GNet's
graph convolution and three-body update, the readouts, the elemental offsets and Potential's
scaling); every basis function, MLP and TensorNet layer is matgl's module with the checkpoint's
weights.

M3GNet's three-body term as matgl <= 2 (DGL) computes it
--------------------------------------------------------
matgl 2.x builds the three-body line graph on the bonds within 4 Å ("pruned" bonds, numbered in
the order of the full edge list) and then uses those line-graph indices a, b directly as indices
of the FULL edge list in ThreeBodyInteractions: the neighbour atom k and both cutoff weights are
those of full-list bonds a and b, and the term is added to full-list bond s(t) (segments from
n_triple_ij, where bonds with no triple collapse), while the angle and the radial basis use the
right pruned bonds P[a], P[b]. matgl 3 calls this a bug and retrained; the checkpoints here were
trained with it, so the graph takes all five index columns per three-body row and reproduces it:

  three_body [T, 5] = (angle bond ij, angle bond ik, weight bond ij, weight bond ik, target bond)

matgl 2.x: (P[a], P[b], a, b, s); a consistent M3GNet would be (e_ij, e_ik, e_ij, e_ik, e_ij).
Since a, b and s are positions in matgl's edge list, the edge list must be in matgl's order
(pymatgen's find_points_in_spheres): core/potential/graph-matgl.ts reproduces it, and
legacy_three_body() below states the rule once more, in numpy.

Graph inputs (global indices, int64): atomic_numbers [N]; positions [N,3] Cartesian Å (fractional
coordinates as given, times the lattice); cell [B,3,3] rows; atom_owner [N]; edge_index [E,2]
(centre, neighbour) for 0 < d <= 5 Å; edge_offset [E,3] neighbour image; three_body [T,5] (M3GNet).
Outputs: energy [B] eV, forces [N,3] eV/Å, stress [B,3,3] eV/Å³ = (1/|V|)·∂E/∂ε (ASE sign),
as matgl's Potential (strain ε: cell' = cell(I+ε), positions = frac·cell').
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from chgnet_flat import lattice_volumes

DEFAULT_ELEMENTS_EXCLUDED = (84, 85, 86, 87, 88)  # Po, At, Rn, Fr, Ra: not in matgl's DEFAULT_ELEMENTS


def init_args(wdir: Path) -> dict:
    return json.loads((Path(wdir) / "model.json").read_text())["kwargs"]["model"]["init_args"]


def _z_table(element_types) -> torch.Tensor:
    """Z -> index in element_types (0 for elements the model lacks; the caller refuses them)."""
    from pymatgen.core.periodic_table import Element

    zs = [Element(e).Z for e in element_types]
    t = torch.zeros(max(zs) + 1, dtype=torch.long)
    for i, z in enumerate(zs):
        t[z] = i
    return t


class _AtomRef(nn.Module):
    def __init__(self, n: int):
        super().__init__()
        self.register_buffer("property_offset", torch.zeros(n))
        self.register_buffer("onehot", torch.eye(n))


class _Container(nn.Module):
    pass


class _PotentialHead(nn.Module):
    """matgl's Potential around a model: E = data_std * E_model + data_mean + sum of elemental offsets."""

    def __init__(self, model: nn.Module, n_types: int, element_types):
        super().__init__()
        self.model = model
        self.register_buffer("data_mean", torch.zeros(()))
        self.register_buffer("data_std", torch.ones(()))
        self.element_refs = _AtomRef(n_types)
        self.register_buffer("z_to_type", _z_table(element_types), persistent=False)

    def load_checkpoint(self, wdir: Path) -> None:
        state = torch.load(Path(wdir) / "state.pt", map_location="cpu", weights_only=True)
        res = self.load_state_dict(state, strict=True)
        assert not res.missing_keys and not res.unexpected_keys

    def energy(self, atomic_numbers, positions, cell, atom_owner, edge_index, edge_offset, three_body=None):
        node_type = self.z_to_type.index_select(0, atomic_numbers)
        center = edge_index[:, 0]
        neighbour = edge_index[:, 1]
        edge_batch = atom_owner.index_select(0, center)
        # matgl: pbc_offshift = (pbc_offset[..., None] * lattice[edge]).sum(1); bond = (r_dst + shift) - r_src
        offshift = (edge_offset[:, :, None] * cell.index_select(0, edge_batch)).sum(dim=1)
        bond_vec = (positions.index_select(0, neighbour) + offshift) - positions.index_select(0, center)
        bond_dist = torch.linalg.norm(bond_vec, dim=1)
        atomic = self.atomic_energies(node_type, edge_index, bond_vec, bond_dist, three_body)
        e = atomic.new_zeros((cell.shape[0],)).index_add(0, atom_owner, atomic)
        e = self.data_std * e + self.data_mean
        refs = self.element_refs.property_offset.to(e.dtype).index_select(0, node_type)
        return e + e.new_zeros((cell.shape[0],)).index_add(0, atom_owner, refs)


class LegacyM3GNet(_PotentialHead):
    """matgl 2.0.4 M3GNet (DGL) + Potential, energy of flat inputs (three_body: 5 columns)."""

    def __init__(self, args: dict):
        from matgl.layers import MLP, ActivationFunction, BondExpansion, GatedMLP
        from matgl.layers._basis import SphericalBesselWithHarmonics

        assert not args["include_state"] and not args["is_intensive"] and args["rbf_type"] == "SphericalBessel"
        assert not args["use_phi"] and args["ntargets"] == 1
        act = ActivationFunction[args["activation_type"]].value()
        max_n, max_l, cutoff = args["max_n"], args["max_l"], float(args["cutoff"])
        degree = max_n * max_l
        degree_rbf = max_n if args["use_smooth"] else max_n * max_l
        dn, de, units, nblocks = args["dim_node_embedding"], args["dim_edge_embedding"], args["units"], args["nblocks"]
        m = _Container()
        m.bond_expansion = BondExpansion(max_l, max_n, cutoff, rbf_type="SphericalBessel", smooth=args["use_smooth"])
        m.embedding = _Container()
        m.embedding.layer_node_embedding = nn.Embedding(len(args["element_types"]), dn)
        m.embedding.layer_edge_embedding = MLP([degree_rbf, de], activation=act, activate_last=True)
        m.basis_expansion = SphericalBesselWithHarmonics(max_n=max_n, max_l=max_l, cutoff=cutoff, use_phi=False, use_smooth=args["use_smooth"])
        m.three_body_interactions = nn.ModuleList()
        m.graph_layers = nn.ModuleList()
        for _ in range(nblocks):
            tb = _Container()
            tb.update_network_atom = MLP(dims=[dn, degree], activation=nn.Sigmoid(), activate_last=True)
            tb.update_network_bond = GatedMLP(in_feats=degree, dims=[de], use_bias=False)
            m.three_body_interactions.append(tb)
            gl = _Container()
            gl.conv = _Container()
            gl.conv.edge_update_func = GatedMLP(in_feats=2 * dn + de, dims=[units, units, de])
            gl.conv.edge_weight_func = nn.Linear(degree_rbf, de, bias=False)
            gl.conv.node_update_func = GatedMLP(in_feats=2 * dn + de, dims=[units, units, dn])
            gl.conv.node_weight_func = nn.Linear(degree_rbf, dn, bias=False)
            m.graph_layers.append(gl)
        m.final_layer = _Container()
        m.final_layer.gated = GatedMLP(in_feats=dn, dims=[dn, units, units, 1], activate_last=False)
        super().__init__(m, len(args["element_types"]), args["element_types"])
        self.max_n, self.max_l = max_n, max_l
        self.threebody_cutoff = float(args["threebody_cutoff"])
        self.degree = degree

    def atomic_energies(self, node_type, edge_index, bond_vec, bond_dist, three_body):
        from matgl.layers._three_body import combine_sbf_shf
        from matgl.utils.cutoff import polynomial_cutoff

        m = self.model
        center = edge_index[:, 0]
        neighbour = edge_index[:, 1]
        n_atoms = node_type.shape[0]
        n_edges = edge_index.shape[0]
        expanded = m.bond_expansion(bond_dist)
        g_ij, g_ik, w_ij, w_ik, target = (three_body[:, k] for k in range(5))
        vec1 = bond_vec.index_select(0, g_ij)
        vec2 = bond_vec.index_select(0, g_ik)
        cos = torch.sum(vec1 * vec2, dim=1) / (torch.norm(vec1, dim=1) * torch.norm(vec2, dim=1))
        cos = cos.clamp(min=-1 + 1e-7, max=1 - 1e-7)
        be = m.basis_expansion
        sbf = be.sbf(bond_dist.index_select(0, g_ik))
        shf = be.shf(cos, torch.zeros_like(cos))
        three_basis = combine_sbf_shf(sbf, shf, max_n=self.max_n, max_l=self.max_l, use_phi=False)
        three_cut = polynomial_cutoff(bond_dist, self.threebody_cutoff)
        weights = three_cut.index_select(0, w_ij) * three_cut.index_select(0, w_ik)
        end_atom = neighbour.index_select(0, w_ik)
        node_feat = m.embedding.layer_node_embedding(node_type)
        edge_feat = m.embedding.layer_edge_embedding(expanded)
        for tb, gl in zip(m.three_body_interactions, m.graph_layers):
            upd = tb.update_network_atom(node_feat)
            basis = three_basis * upd.index_select(0, end_atom)
            basis = basis * weights[:, None]
            new_bonds = basis.new_zeros((n_edges, self.degree)).index_add(0, target, basis)
            edge_feat = edge_feat + tb.update_network_bond(new_bonds)
            c = gl.conv
            vi = node_feat.index_select(0, center)
            vj = node_feat.index_select(0, neighbour)
            mij = c.edge_update_func(torch.cat([vi, vj, edge_feat], dim=1)) * c.edge_weight_func(expanded)
            edge_feat = edge_feat + mij
            mess = c.node_update_func(torch.cat([vi, vj, edge_feat], dim=1)) * c.node_weight_func(expanded)
            node_feat = node_feat + mess.new_zeros((n_atoms, mess.shape[1])).index_add(0, neighbour, mess)
        return m.final_layer.gated(node_feat).view(-1)


def _trace_mean(tensor: torch.Tensor) -> torch.Tensor:
    """tensor.diagonal(dim1=-1, dim2=-2).mean(-1), written with three element selections: the
    backward of diagonal() copies into a diagonal view in place, which torch.export rejects."""
    return (tensor[..., 0, 0] + tensor[..., 1, 1] + tensor[..., 2, 2]) / 3


def _patch_tensornet_maths() -> None:
    """matgl's decompose_tensor / vector_to_symtensor with _trace_mean (same arithmetic up to the
    order of the three-term sum), in every module that imported them."""
    import matgl.layers._embedding_pyg as emb
    import matgl.layers._graph_convolution_pyg as gc
    import matgl.models._tensornet_pyg as tn
    import matgl.utils.maths as mm

    def vector_to_symtensor(vector):
        tensor = torch.matmul(vector.unsqueeze(-1), vector.unsqueeze(-2))
        scalars = _trace_mean(tensor)[..., None, None] * torch.eye(3, 3, device=tensor.device, dtype=tensor.dtype)
        return 0.5 * (tensor + tensor.transpose(-2, -1)) - scalars

    def decompose_tensor(tensor):
        scalars = _trace_mean(tensor)[..., None, None] * torch.eye(3, 3, device=tensor.device, dtype=tensor.dtype)
        skew = 0.5 * (tensor - tensor.transpose(-2, -1))
        traceless = 0.5 * (tensor + tensor.transpose(-2, -1)) - scalars
        return scalars, skew, traceless

    for mod in (mm, emb, gc, tn):
        if hasattr(mod, "decompose_tensor"):
            mod.decompose_tensor = decompose_tensor
        if hasattr(mod, "vector_to_symtensor"):
            mod.vector_to_symtensor = vector_to_symtensor


class TensorNetPyG(_PotentialHead):
    """matgl 2.0.4 TensorNet (PyG) + Potential, energy of flat inputs; matgl's own layers."""

    def __init__(self, args: dict):
        from matgl.models._tensornet_pyg import TensorNet

        _patch_tensornet_maths()
        a = dict(args)
        a["dtype"] = torch.get_default_dtype()  # the checkpoint says float32; the caller casts anyway
        assert not a["include_state"] and not a["is_intensive"]
        model = TensorNet(**a)
        super().__init__(model, len(args["element_types"]), args["element_types"])

    def atomic_energies(self, node_type, edge_index, bond_vec, bond_dist, three_body):
        from matgl.utils.maths import decompose_tensor, tensor_norm

        m = self.model
        g = SimpleNamespace(node_type=node_type, edge_index=edge_index.t(), bond_vec=bond_vec, bond_dist=bond_dist)
        g.edge_attr = m.bond_expansion(bond_dist)
        X, _ = m.tensor_embedding(g, None)
        for layer in m.layers:
            X = layer(g, X)
        scalars, skew, traceless = decompose_tensor(X)
        x = torch.cat((tensor_norm(scalars), tensor_norm(skew), tensor_norm(traceless)), dim=-1)
        x = m.linear(m.out_norm(x))
        return m.final_layer.gated(x).view(-1)


def _traceable_sbf(sbf: nn.Module) -> None:
    """matgl's SphericalBesselFunction._call_sbf with its two untraceable steps made traceable, same
    values: the normalisation factor (matgl: torch.tensor(sqrt(2 / cutoff**3)) from the cutoff
    buffer, evaluated in Python on every call) computed once here by that same expression, and
    the clamp r_c[r_c > cutoff] = cutoff (a data-dependent index_put) as a where()."""
    import types
    from math import sqrt

    from matgl.utils.maths import SPHERICAL_BESSEL_ROOTS

    if sbf.smooth:
        return
    sbf._factor = torch.tensor(sqrt(2.0 / sbf.cutoff**3))

    def _call_sbf(self, r):
        r_c = torch.where(r > self.cutoff, self.cutoff.to(r.dtype), r)
        roots = SPHERICAL_BESSEL_ROOTS[: self.max_l, : self.max_n]
        results = []
        for i in range(self.max_l):
            root = roots[i].clone()
            func = self.funcs[i]
            func_add1 = self.funcs[i + 1]
            results.append(func(r_c[:, None] * root[None, :] / self.cutoff) * self._factor / torch.abs(func_add1(root[None, :])))
        return torch.cat(results, axis=1)

    sbf._call_sbf = types.MethodType(_call_sbf, sbf)


def build_energy_model(kind: str, wdir: Path, precision: str) -> _PotentialHead:
    """As matgl's float32 / float64 runs build it: constructed under the default dtype of that
    precision (some constants are made from tensors at construction), checkpoint loaded, cast."""
    import matgl

    dtype = torch.float64 if precision == "float64" else torch.float32
    matgl.set_default_dtype("float", 64 if precision == "float64" else 32)
    cls = {"matgl-m3gnet": LegacyM3GNet, "matgl-tensornet": TensorNetPyG}[kind]
    m = cls(init_args(wdir))
    m.load_checkpoint(wdir)
    m = m.to(dtype).eval()
    for mod in m.modules():
        if type(mod).__name__ == "SphericalBesselFunction":
            _traceable_sbf(mod)
    return m


class EFS(nn.Module):
    """energy, forces = -dE/dr, stress = (1/|V|) dE/d(strain), strain applied as matgl's Potential does."""

    def __init__(self, energy_model: _PotentialHead, three_body: bool):
        super().__init__()
        self.energy_model = energy_model
        self.three_body = three_body

    def forward(self, atomic_numbers, positions, cell, atom_owner, edge_index, edge_offset, three_body=None):
        with torch.enable_grad():
            strain = torch.zeros_like(cell).requires_grad_(True)
            eye = torch.eye(3, dtype=cell.dtype)[None]
            strained_cell = torch.matmul(cell, eye + strain)
            atom_strain = (eye + strain).index_select(0, atom_owner)
            strained_pos = (positions[:, :, None] * atom_strain).sum(dim=1)
            energy = self.energy_model.energy(atomic_numbers, strained_pos, strained_cell, atom_owner, edge_index, edge_offset, three_body)
            grad_pos, grad_strain = torch.autograd.grad(energy.sum(), [strained_pos, strain])
        stress = grad_strain / torch.abs(lattice_volumes(cell))[:, None, None]
        return energy, -grad_pos, stress


INPUTS = {
    "matgl-m3gnet": ["atomic_numbers", "positions", "cell", "atom_owner", "edge_index", "edge_offset", "three_body"],
    "matgl-tensornet": ["atomic_numbers", "positions", "cell", "atom_owner", "edge_index", "edge_offset"],
}
OUTPUT_NAMES = ["energy", "forces", "stress"]
DYNAMIC = {
    "atomic_numbers": {0: "n_atoms"},
    "positions": {0: "n_atoms"},
    "cell": {0: "n_structures"},
    "atom_owner": {0: "n_atoms"},
    "edge_index": {0: "n_edges"},
    "edge_offset": {0: "n_edges"},
    "three_body": {0: "n_triplets"},
}


# ---------------------------------------------------------------------------------------------
# graphs (numpy): matgl's edge list and matgl 2.x's three-body index columns


def matgl_edges(lattice: np.ndarray, frac: np.ndarray, cutoff: float):
    """matgl's Structure2Graph: pymatgen find_points_in_spheres on the Cartesian coordinates
    (fractional as given, times the lattice), self pairs removed; edges in pymatgen's order."""
    from pymatgen.optimization.neighbors import find_points_in_spheres

    cart = np.ascontiguousarray(frac @ lattice)
    src, dst, images, dist = find_points_in_spheres(
        cart, cart, r=cutoff, pbc=np.array([1, 1, 1], dtype=np.int64), lattice=np.ascontiguousarray(lattice), tol=1e-8
    )
    keep = (src != dst) | (dist > 1e-8)
    return src[keep].astype(np.int64), dst[keep].astype(np.int64), np.rint(images[keep]).astype(np.int64)


def legacy_three_body(src, dst, images, lattice, frac, threebody_cutoff: float) -> np.ndarray:
    """matgl 2.x's three-body rows as the five columns above (see the module docstring)."""
    cart = frac @ lattice
    d = np.linalg.norm(cart[dst] + images @ lattice - cart[src], axis=1)
    pruned = np.nonzero(d <= threebody_cutoff)[0]  # P: full-list id of each pruned bond
    psrc = src[pruned]
    n_atoms = frac.shape[0]
    nb = np.bincount(psrc, minlength=n_atoms)
    rows = []
    cs = 0
    for n in nb:
        for i in range(n):
            for j in range(n):
                if i != j:
                    rows.append((cs + i, cs + j))
        cs += n
    if not rows:
        return np.zeros((0, 5), dtype=np.int64)
    ab = np.array(rows, dtype=np.int64)
    max_id = int(ab.max()) + 1
    n_triple_ij = np.repeat(nb - 1, nb)[:max_id]
    seg = np.zeros(int(n_triple_ij.sum()), dtype=np.int64)
    seg[np.cumsum(n_triple_ij)[:-1]] = 1  # matgl's get_segment_indices_from_n, repeated boundaries included
    seg = np.cumsum(seg)
    return np.stack([pruned[ab[:, 0]], pruned[ab[:, 1]], ab[:, 0], ab[:, 1], seg], axis=1)


def flat_inputs(kind: str, structures, dtype=torch.float64, cutoff: float = 5.0, threebody_cutoff: float = 4.0):
    """Batch structures ({lattice, frac, numbers}) into the flat inputs."""
    zs, pos, cells, owners, edges, offs, trips = [], [], [], [], [], [], []
    a0 = e0 = 0
    for gi, s in enumerate(structures):
        L = np.asarray(s["lattice"], dtype=np.float64)
        F = np.asarray(s["frac"], dtype=np.float64)
        n = F.shape[0]
        src, dst, img = matgl_edges(L, F, cutoff)
        zs.append(torch.tensor(s["numbers"], dtype=torch.long))
        pos.append(torch.tensor(F @ L, dtype=dtype))
        cells.append(torch.tensor(L, dtype=dtype).view(1, 3, 3))
        owners.append(torch.full((n,), gi, dtype=torch.long))
        edges.append(torch.tensor(np.stack([src, dst], 1) + a0, dtype=torch.long).view(-1, 2))
        offs.append(torch.tensor(img, dtype=dtype).view(-1, 3))
        if kind == "matgl-m3gnet":
            tb = legacy_three_body(src, dst, img, L, F, threebody_cutoff)
            trips.append(torch.tensor(tb + e0, dtype=torch.long).view(-1, 5))
        a0 += n
        e0 += len(src)
    out = [torch.cat(zs), torch.cat(pos), torch.cat(cells), torch.cat(owners), torch.cat(edges), torch.cat(offs)]
    if kind == "matgl-m3gnet":
        out.append(torch.cat(trips))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# float64 export: Python-float scalars the exporter would round to float32 constants


_TENSOR_OVERLOAD = {
    "aten.mul.Tensor": "mul.Tensor", "aten.add.Tensor": "add.Tensor", "aten.sub.Tensor": "sub.Tensor",
    "aten.div.Tensor": "div.Tensor", "aten.mul.Scalar": "mul.Tensor", "aten.add.Scalar": "add.Tensor",
    "aten.sub.Scalar": "sub.Tensor", "aten.div.Scalar": "div.Tensor", "aten.clamp.default": "clamp.Tensor",
    "aten.gt.Scalar": "gt.Tensor", "aten.lt.Scalar": "lt.Tensor", "aten.ge.Scalar": "ge.Tensor",
    "aten.le.Scalar": "le.Tensor", "aten.pow.Tensor_Scalar": "pow.Tensor_Tensor",
}


def float64_scalars_pass(gm) -> int:
    """Replace every Python-float argument that float32 cannot represent exactly (matgl's
    spherical-harmonic constants 0.48860251190292..., the cos clamp 1 - 1e-7, ...) in a float64
    op by a float64 0-d tensor constant, switching to the op's Tensor overload: torch.onnx turns
    Python-float scalars into float32 constants, which would put ~1e-8 relative errors into the
    float64 graph. Returns the number of arguments replaced; raises for an op it cannot rewrite."""
    aten = torch.ops.aten
    count = 0
    for node in list(gm.graph.nodes):
        if node.op != "call_function":
            continue
        tensors = [a for a in node.args if isinstance(a, torch.fx.Node) and hasattr(a.meta.get("val"), "dtype")]
        if not tensors or tensors[0].meta["val"].dtype != torch.float64:
            continue
        bad = [i for i, a in enumerate(node.args) if isinstance(a, float) and float(np.float32(a)) != a]
        if not bad and not any(isinstance(v, float) and float(np.float32(v)) != v for v in node.kwargs.values()):
            continue
        key = str(node.target)
        if key not in _TENSOR_OVERLOAD or node.kwargs:
            raise RuntimeError(f"cannot make the float scalar of {key} {node.args} {node.kwargs} float64")
        name, overload = _TENSOR_OVERLOAD[key].split(".")
        args = list(node.args)
        for i, a in enumerate(args):
            if isinstance(a, (float, int)) and not isinstance(a, bool) and i > 0:
                attr = f"_f64_scalar_{count}"
                gm.register_buffer(attr, torch.tensor(float(a), dtype=torch.float64))
                with gm.graph.inserting_before(node):
                    args[i] = gm.graph.get_attr(attr)
                count += 1
        node.args = tuple(args)
        node.target = getattr(getattr(aten, name), overload)
    gm.graph.lint()
    gm.recompile()
    return count


def strip_view_of(gm) -> int:
    """aten.alias (left by the decomposition of TensorNet's `.t()`/tensor products) becomes
    prims.view_of in the exporter, which has no ONNX lowering: both are the identity on values, so
    their uses take their input."""
    n = 0
    for node in list(gm.graph.nodes):
        if node.op == "call_function" and node.target in (torch.ops.prims.view_of.default, torch.ops.aten.alias.default):
            node.replace_all_uses_with(node.args[0])
            gm.graph.erase_node(node)
            n += 1
    gm.graph.lint()
    gm.recompile()
    return n


def graph_pass(precision: str):
    def run(gm):
        strip_view_of(gm)
        if precision == "float64":
            float64_scalars_pass(gm)

    return run


def custom_translations() -> dict:
    """ONNX lowerings torch.onnx lacks: prims.view_of (an alias the exporter's own decomposition of
    TensorNet's graph leaves behind) is the identity."""
    from onnxscript import opset18 as op

    def view_of(x):
        return op.Identity(x)

    return {torch.ops.prims.view_of.default: view_of}
