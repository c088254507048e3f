"""MatterSim's M3GNet energy as a tensor function of flat batched graph inputs, and the same
energy+forces+stress wrapper as CHGNet's (traced by onnx_trace.trace_to_onnx).

M3Gnet.forward itself cannot be traced with dynamic shapes: it evaluates
`int(num_atoms.sum())` even when totals are supplied (dict.get's default is computed eagerly)
and builds the three-body edge map with repeat_interleave over per-edge counts. This module
re-states only that top-level function, calling M3Gnet's own submodules (rbf, sbf,
edge_encoder, the MainBlocks with `total_num_atoms`/`total_num_bonds`/`three_body_edge_map`
given, final, normalizer) so the weights and layer arithmetic are MatterSim's.

Graph inputs (global indices, int64):
  atomic_numbers [N]; positions [N,3] Cartesian Å; cell [B,3,3] rows; atom_owner [N];
  edge_index [E,2] (centre, neighbour) for 0 < d <= 5 Å; edge_offset [E,3] neighbour image;
  three_body [T,2] pairs of edge indices (ij, ik) with a common centre, j != k edge, both
  edges <= 4 Å (MatterSim's compute_threebody order: by centre, then ij, then ik).
Outputs: energy [B] eV, forces [N,3] eV/Å, stress [B,3,3] eV/Å³ = (1/|V|)·∂E/∂ε (ASE sign).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from chgnet_flat import _acos, lattice_volumes


def _scatter_sum(src: Tensor, index: Tensor, dim: int = -1, out=None, dim_size=None, reduce: str = "sum") -> Tensor:
    """torch_runstats.scatter without @torch.jit.script: the scripted version turns a symbolic
    `dim_size` (the number of atoms/edges) into a constant while tracing. Same arithmetic:
    zeros(size).scatter_add_(dim, broadcast index, src)."""
    assert reduce == "sum" and out is None and dim_size is not None
    if dim < 0:
        dim = src.dim() + dim
    idx = index
    if idx.dim() == 1:
        for _ in range(dim):
            idx = idx.unsqueeze(0)
    for _ in range(idx.dim(), src.dim()):
        idx = idx.unsqueeze(-1)
    idx = idx.expand_as(src)
    size = list(src.shape)
    size[dim] = dim_size
    return src.new_zeros(size).scatter_add(dim, idx, src)


_ORIGINAL_SCATTER: dict = {}


def _untorchscript_scatter() -> None:
    """Swap MatterSim's TorchScript helpers for plain-Python ones while tracing (TorchScript
    turns symbolic sizes into constants): torch_runstats' scatter -> _scatter_sum, and the
    scripted spherical harmonics -> the Python function it was compiled from."""
    import mattersim.forcefield.m3gnet.m3gnet as mm
    import mattersim.forcefield.m3gnet.modules.angle_encoding as ae
    import mattersim.forcefield.m3gnet.modules.message_passing as mp

    for mod in (mp, mm):
        _ORIGINAL_SCATTER.setdefault((mod, "scatter"), mod.scatter)
        mod.scatter = _scatter_sum
    sh = ae._spherical_harmonics
    py = getattr(sh, "_torchdynamo_inline", None)
    if py is not None:
        _ORIGINAL_SCATTER.setdefault((ae, "_spherical_harmonics"), sh)
        ae._spherical_harmonics = py


def restore_scatter() -> None:
    """Put MatterSim's own (TorchScript) scatter back, e.g. before running it as the reference."""
    for (mod, name), fn in _ORIGINAL_SCATTER.items():
        setattr(mod, name, fn)


class M3gnetEnergy(nn.Module):
    def __init__(self, m3gnet: nn.Module) -> None:
        super().__init__()
        _untorchscript_scatter()
        self.m = m3gnet

    def forward(self, atomic_numbers, positions, cell, atom_owner, edge_index, edge_offset, three_body):
        m = self.m
        center = edge_index[:, 0]
        neighbour = edge_index[:, 1]
        edge_batch = atom_owner.index_select(0, center)
        offset = (edge_offset[:, :, None] * cell.index_select(0, edge_batch)).sum(dim=1)
        edge_vector = positions.index_select(0, center) - (positions.index_select(0, neighbour) + offset)
        edge_length = torch.linalg.norm(edge_vector, dim=1)
        t_ij = three_body[:, 0]
        t_ik = three_body[:, 1]
        vij = edge_vector.index_select(0, t_ij)
        vik = edge_vector.index_select(0, t_ik)
        rij = edge_length.index_select(0, t_ij)
        rik = edge_length.index_select(0, t_ik)
        cos_jik = torch.sum(vij * vik, dim=1) / (rij * rik)
        cos_jik = torch.clamp(cos_jik, min=-1.0 + 1e-7, max=1.0 - 1e-7)
        triple_edge_length = rik.view(-1)
        edge_length = edge_length.unsqueeze(-1)

        atom_attr = m.atom_embedding(F.one_hot(atomic_numbers, num_classes=m.max_z + 1).to(positions.dtype))
        edge_attr = m.rbf(edge_length.view(-1))
        edge_attr_zero = edge_attr
        edge_attr = m.edge_encoder(edge_attr)
        three_basis = m.sbf(triple_edge_length, _acos(cos_jik))
        n_atoms = positions.shape[0]
        n_edges = edge_index.shape[0]
        dummy = torch.zeros_like(atomic_numbers[:1])
        edge_index_t = edge_index.t()
        for conv in m.graph_conv:
            atom_attr, edge_attr = conv(
                atom_attr,
                edge_attr,
                edge_attr_zero,
                edge_index_t,
                three_basis,
                three_body,
                edge_length,
                dummy,
                dummy,
                dummy,
                total_num_atoms=n_atoms,
                total_num_bonds=n_edges,
                three_body_edge_map=t_ij,
            )
        energies_i = m.final(atom_attr).view(-1)
        energies_i = m.normalizer(energies_i, atomic_numbers)
        out = energies_i.new_zeros((cell.shape[0],))
        return out.index_add(0, atom_owner, energies_i)


class M3gnetEFS(nn.Module):
    def __init__(self, m3gnet: nn.Module) -> None:
        super().__init__()
        self.energy_model = M3gnetEnergy(m3gnet)

    def forward(self, atomic_numbers, positions, cell, atom_owner, edge_index, edge_offset, three_body):
        with torch.enable_grad():
            strain = torch.zeros_like(cell).requires_grad_(True)
            eye = torch.eye(3, dtype=cell.dtype)[None]
            strained_cell = torch.matmul(cell, eye + strain)
            # MatterSim strains Cartesian positions the same way: r' = r (I + ε)
            atom_strain = (eye + strain).index_select(0, atom_owner)
            strained_pos = (positions[:, :, None] * atom_strain).sum(dim=1)
            energy = self.energy_model(atomic_numbers, strained_pos, strained_cell, atom_owner, edge_index, edge_offset, three_body)
            grad_pos, grad_strain = torch.autograd.grad(energy.sum(), [strained_pos, strain])
        stress = grad_strain / torch.abs(lattice_volumes(cell))[:, None, None]
        return energy, -grad_pos, stress


INPUT_NAMES = ["atomic_numbers", "positions", "cell", "atom_owner", "edge_index", "edge_offset", "three_body"]
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


def flat_inputs_from_mattersim(graph_dicts, dtype=torch.float32):
    """Batch MatterSim GraphConvertor outputs (dict per structure) into the flat inputs."""
    zs, pos, cells, owners, edges, offs, trips = [], [], [], [], [], [], []
    a0 = e0 = 0
    for gi, g in enumerate(graph_dicts):
        n = int(g["num_atoms"])
        zs.append(g["atom_attr"].view(-1).long())
        pos.append(g["atom_pos"].to(dtype))
        cells.append(g["cell"].view(1, 3, 3).to(dtype))
        owners.append(torch.full((n,), gi, dtype=torch.long))
        ei = g["edge_index"].long().t() + a0
        edges.append(ei)
        offs.append(g["pbc_offsets"].to(dtype))
        tb = g["three_body_indices"]
        if tb is not None and len(tb):
            trips.append(tb.long().view(-1, 2) + e0)
        a0 += n
        e0 += ei.shape[0]
    return (
        torch.cat(zs),
        torch.cat(pos),
        torch.cat(cells),
        torch.cat(owners),
        torch.cat(edges),
        torch.cat(offs),
        torch.cat(trips) if trips else torch.zeros((0, 2), dtype=torch.long),
    )
