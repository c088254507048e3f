"""CHGNet's energy as a pure tensor function of flat, batched graph inputs, plus a wrapper
that differentiates it (forces, stress) so the whole thing can be traced into plain ops.

Why a re-statement and not CHGNet.forward: CHGNet.forward takes Python CrystalGraph objects,
loops over structures, uses data-dependent shapes (bincount) and calls autograd.grad on
leaf tensors it creates itself. None of that exports. Here the same arithmetic is written
against the weights of a loaded CHGNet (its submodules are reused, so the weights are the
checkpoint's own), with:
  * every scatter as `index_add` on a zero tensor whose size is known from an input shape
    (exports to ScatterElements(reduction='add'), never ScatterND);
  * every gather as `index_select` (its backward is again an index_add);
  * the composition model (AtomRef) as a per-atom lookup of its linear weights, summed per
    structure (CHGNet: fc(bincount(Z)/n) per structure, then ×n by callers: same sum);
  * the total energy per structure as output (CHGNet's `e` is per atom).

Graph inputs (all indices global over the batch, int64):
  atomic_numbers [N]      Z (1..94)
  frac_coords    [N,3]    fractional coordinates
  lattice        [B,3,3]  row vectors (Å)
  atom_owner     [N]      structure index of each atom
  edge_index     [E,2]    directed atom-graph edges (center, neighbour), d <= 6 Å
  edge_image     [E,3]    integer image of the neighbour (as float)
  directed2undirected [E] undirected bond of each directed edge
  undirected2directed [U] one directed edge of each undirected bond
  triplets       [T,5]    bond graph rows (center atom, undirected i, directed i,
                          undirected j, directed j), CHGNet's column order
Outputs: energy [B] (eV, total), forces [N,3] (eV/Å), stress [B,3,3] (eV/Å³, ASE sign:
(1/|V|)·∂E/∂ε with L' = L(I+ε); CHGNet's own 's' is this times 160.21766208, in GPa,
for right-handed lattices; CHGNet divides by the signed volume, so for a left-handed lattice its
stress has the opposite sign).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def _aggregate_sum(data: Tensor, owners: Tensor, num_owner_like: Tensor) -> Tensor:
    """Row sums of `data` grouped by `owners`, with as many rows as `num_owner_like` has."""
    out = data.new_zeros((num_owner_like.shape[0], data.shape[1]))
    return out.index_add(0, owners, data)


class _AcosFloat64(torch.autograd.Function):
    """acos for float64 graphs: onnxruntime has no double Acos kernel.

    Forward: float32 acos as a start, then three Newton steps on cos(t) = x in double (sin t is
    >= 1.4e-3 because CHGNet scales cosines by 1 - 1e-6, so each step squares the error:
    1e-7 -> 1e-11 -> rounding level, 4e-14 measured near x = -1). Backward: the exact derivative -1/sqrt(1 - x^2),
    as torch's own acos backward, so forces stay the derivative of the energy.
    """

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:  # noqa: D102
        t = torch.acos(x.to(torch.float32)).to(x.dtype)
        for _ in range(3):
            t = t + (torch.cos(t) - x) / torch.sin(t)
        ctx.save_for_backward(x)
        return t

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # noqa: D102
        (x,) = ctx.saved_tensors
        return -grad * torch.rsqrt(1 - x * x)


def _acos(x: Tensor) -> Tensor:
    return _AcosFloat64.apply(x) if x.dtype == torch.float64 else torch.acos(x)


class ChgnetEnergy(nn.Module):
    """Total energy per structure from flat inputs, using a loaded CHGNet's weights."""

    def __init__(self, chgnet: nn.Module) -> None:
        super().__init__()
        m = chgnet
        if not m.mlp_first or m.read_out_type != "sum" or not m.is_intensive:
            raise ValueError("only the mlp_first / sum read-out CHGNet (0.3.0 layout) is supported")
        self.atom_embedding = m.atom_embedding.embedding
        self.rbf_ag = m.bond_basis_expansion.rbf_expansion_ag
        self.rbf_bg = m.bond_basis_expansion.rbf_expansion_bg
        self.fourier = m.angle_basis_expansion.fourier_expansion
        self.bond_embedding = m.bond_embedding
        self.bond_weights_ag = m.bond_weights_ag
        self.bond_weights_bg = m.bond_weights_bg
        self.angle_embedding = m.angle_embedding
        self.atom_conv_layers = m.atom_conv_layers
        self.bond_conv_layers = m.bond_conv_layers
        self.angle_layers = m.angle_layers
        self.readout_norm = m.readout_norm
        self.mlp = m.mlp
        # AtomRef weights [1, 94] -> per-element reference energy, row (Z-1)
        self.register_buffer(
            "atom_ref", m.composition_model.fc.weight.detach().reshape(-1, 1).clone()
        )

        # Scalars as buffers (converted with the module's dtype): the ONNX exporter stores
        # Python-float scalars as float32 constants, which would round 1/6, sqrt(1/3), ...
        # in a float64 graph.
        for tag, rbf in (("ag", self.rbf_ag), ("bg", self.rbf_bg)):
            env = rbf.smooth_cutoff
            consts = [rbf.inv_cutoff, rbf.norm_const, env.cutoff, env.a, env.b, env.c]
            self.register_buffer(f"radial_{tag}", torch.tensor(consts, dtype=torch.float64).to(torch.float32))
        self.register_buffer("angle_consts", torch.tensor(
            [1 - 1e-6, 1.0 / math.sqrt(2.0)], dtype=torch.float64
        ).to(torch.float32))
        self.register_buffer("fourier_scale", self._fourier_scale(torch.float32))
        self._radial_p = {"ag": self.rbf_ag.smooth_cutoff.p, "bg": self.rbf_bg.smooth_cutoff.p}

    def to_exact(self, dtype: torch.dtype) -> "ChgnetEnergy":
        """Cast weights to dtype and recompute the scalar buffers from their exact values."""
        self.to(dtype)
        for tag, rbf in (("ag", self.rbf_ag), ("bg", self.rbf_bg)):
            env = rbf.smooth_cutoff
            consts = [rbf.inv_cutoff, rbf.norm_const, env.cutoff, env.a, env.b, env.c]
            setattr(self, f"radial_{tag}", torch.tensor(consts, dtype=torch.float64).to(dtype))
        self.angle_consts = torch.tensor(
            [1 - 1e-6, 1.0 / math.sqrt(2.0)], dtype=torch.float64
        ).to(dtype)
        self.fourier_scale = self._fourier_scale(dtype)
        return self

    def _fourier_scale(self, dtype: torch.dtype) -> Tensor:
        # sqrt(pi) as a [1, num_angular] row, not a scalar: onnxruntime's MatMulScaleFusion folds
        # a scalar division next to a MatMul into FusedMatMul's float32 `alpha` attribute, which
        # rounds it in a float64 graph (measured: 6e-8 eV/A force error). A row is not fused.
        n = 1 + 2 * self.fourier.frequencies.shape[0]
        return torch.full((1, n), math.sqrt(math.pi), dtype=torch.float64).to(dtype)

    def _radial(self, tag: str, rbf: nn.Module, dist: Tensor) -> Tensor:
        # RadialBessel with CutoffPolynomial envelope, as chgnet.model.basis
        c = getattr(self, f"radial_{tag}")
        inv_cutoff, norm_const, env_cutoff, a, b, cc = (c[i] for i in range(6))
        p = self._radial_p[tag]
        d = dist[:, None]
        out = norm_const * torch.sin(rbf.frequencies * (d * inv_cutoff)) / d
        r_scaled = d / env_cutoff
        env_val = 1 + a * r_scaled**p + b * r_scaled ** (p + 1) + cc * r_scaled ** (p + 2)
        smooth = torch.where(r_scaled < 1, env_val, torch.zeros_like(r_scaled))
        return smooth * out

    def _angular(self, angle: Tensor) -> Tensor:
        # Fourier expansion as chgnet.model.basis.Fourier: [1/sqrt2, sin(k a), cos(k a)] / sqrt(pi)
        tmp = angle[:, None] * self.fourier.frequencies[None, :]
        const = torch.zeros_like(angle[:, None]) + self.angle_consts[1]
        return torch.cat([const, torch.sin(tmp), torch.cos(tmp)], dim=1) / self.fourier_scale

    def forward(
        self,
        atomic_numbers: Tensor,
        positions: Tensor,
        lattices: Tensor,
        atom_owner: Tensor,
        edge_index: Tensor,
        edge_image: Tensor,
        directed2undirected: Tensor,
        undirected2directed: Tensor,
        triplets: Tensor,
    ) -> Tensor:
        center = edge_index[:, 0]
        neighbour = edge_index[:, 1]
        edge_owner = atom_owner.index_select(0, center)
        edge_lattice = lattices.index_select(0, edge_owner)  # [E,3,3]
        offset = (edge_image[:, :, None] * edge_lattice).sum(dim=1)  # image @ lattice
        vec = positions.index_select(0, center) - (positions.index_select(0, neighbour) + offset)
        length = torch.sqrt((vec * vec).sum(dim=1))
        unit = vec / length[:, None]
        und_len = length.index_select(0, undirected2directed)
        bases_ag = self._radial("ag", self.rbf_ag, und_len)
        bases_bg = self._radial("bg", self.rbf_bg, und_len)

        t_center = triplets[:, 0]
        t_bond_i = triplets[:, 1]
        t_edge_i = triplets[:, 2]
        t_bond_j = triplets[:, 3]
        t_edge_j = triplets[:, 4]
        cos_ij = (unit.index_select(0, t_edge_i) * unit.index_select(0, t_edge_j)).sum(dim=1)
        angle = _acos(cos_ij * self.angle_consts[0])
        angle_bases = self._angular(angle)

        atom_feas = self.atom_embedding(atomic_numbers - 1)
        bond_feas = self.bond_embedding(bases_ag)
        bw_ag = self.bond_weights_ag(bases_ag)
        bw_bg = self.bond_weights_bg(bases_bg)
        angle_feas = self.angle_embedding(angle_bases)
        bw_ag_directed = bw_ag.index_select(0, directed2undirected)
        bw_bg_i = bw_bg.index_select(0, t_bond_i)
        bw_bg_j = bw_bg.index_select(0, t_bond_j)

        n_layers = len(self.atom_conv_layers)
        for idx in range(n_layers):
            layer = self.atom_conv_layers[idx]
            messages = torch.cat(
                [
                    atom_feas.index_select(0, center),
                    bond_feas.index_select(0, directed2undirected),
                    atom_feas.index_select(0, neighbour),
                ],
                dim=1,
            )
            messages = layer.twoBody_atom(messages) * bw_ag_directed
            new_atom = layer.mlp_out(_aggregate_sum(messages, center, atom_feas))
            atom_feas = new_atom + atom_feas
            if layer.atom_norm is not None:
                atom_feas = layer.atom_norm(atom_feas)
            if idx == n_layers - 1:
                break
            bond_layer = self.bond_conv_layers[idx]
            total = torch.cat(
                [
                    bond_feas.index_select(0, t_bond_i),
                    bond_feas.index_select(0, t_bond_j),
                    angle_feas,
                    atom_feas.index_select(0, t_center),
                ],
                dim=1,
            )
            update = bond_layer.twoBody_bond(total) * bw_bg_i * bw_bg_j
            new_bond = bond_layer.mlp_out(_aggregate_sum(update, t_bond_i, bond_feas))
            bond_feas = new_bond + bond_feas
            if bond_layer.bond_norm is not None:
                bond_feas = bond_layer.bond_norm(bond_feas)
            angle_layer = self.angle_layers[idx]
            total = torch.cat(
                [
                    bond_feas.index_select(0, t_bond_i),
                    bond_feas.index_select(0, t_bond_j),
                    angle_feas,
                    atom_feas.index_select(0, t_center),
                ],
                dim=1,
            )
            angle_feas = angle_layer.twoBody_bond(total) + angle_feas
            if angle_layer.angle_norm is not None:
                angle_feas = angle_layer.angle_norm(angle_feas)

        atom_feas = self.readout_norm(atom_feas)
        site_energy = self.mlp(atom_feas) + self.atom_ref.index_select(0, atomic_numbers - 1)
        return _aggregate_sum(site_energy, atom_owner, lattices)[:, 0]


def lattice_volumes(lattices: Tensor) -> Tensor:
    a, b, c = lattices[:, 0, :], lattices[:, 1, :], lattices[:, 2, :]
    cross = torch.stack(
        [
            b[:, 1] * c[:, 2] - b[:, 2] * c[:, 1],
            b[:, 2] * c[:, 0] - b[:, 0] * c[:, 2],
            b[:, 0] * c[:, 1] - b[:, 1] * c[:, 0],
        ],
        dim=1,
    )
    return (a * cross).sum(dim=1)


class ChgnetEFS(nn.Module):
    """Energy, forces = −∂E/∂r and stress = (1/V)·∂E/∂ε in one forward pass."""

    def __init__(self, chgnet: nn.Module, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.energy_model = ChgnetEnergy(chgnet).to_exact(dtype)

    def forward(
        self,
        atomic_numbers: Tensor,
        frac_coords: Tensor,
        lattice: Tensor,
        atom_owner: Tensor,
        edge_index: Tensor,
        edge_image: Tensor,
        directed2undirected: Tensor,
        undirected2directed: Tensor,
        triplets: Tensor,
    ) -> tuple[Tensor, Tensor, Tensor]:
        with torch.enable_grad():
            strain = torch.zeros_like(lattice).requires_grad_(True)
            # L' = L (I + ε), as CHGNet's BatchedGraph; row vectors
            strained = lattice + torch.matmul(lattice, strain)
            atom_lattice = strained.index_select(0, atom_owner)  # [N,3,3]
            positions = (frac_coords[:, :, None] * atom_lattice).sum(dim=1)
            energy = self.energy_model(
                atomic_numbers,
                positions,
                strained,
                atom_owner,
                edge_index,
                edge_image,
                directed2undirected,
                undirected2directed,
                triplets,
            )
            # ∂E/∂positions with the lattice held fixed (positions are an intermediate, as
            # in CHGNet), and the total derivative with respect to the strain
            grad_pos, grad_strain = torch.autograd.grad(energy.sum(), [positions, strain])
        forces = -grad_pos
        # |V|: CHGNet divides by the signed triple product, which flips its stress for a
        # left-handed lattice; the physical stress uses the volume
        stress = grad_strain / torch.abs(lattice_volumes(lattice))[:, None, None]
        return energy, forces, stress


INPUT_NAMES = [
    "atomic_numbers",
    "frac_coords",
    "lattice",
    "atom_owner",
    "edge_index",
    "edge_image",
    "directed2undirected",
    "undirected2directed",
    "triplets",
]
OUTPUT_NAMES = ["energy", "forces", "stress"]


def flat_inputs_from_graphs(graphs, dtype=torch.float32) -> tuple[Tensor, ...]:
    """Batch CHGNet CrystalGraph objects into the flat inputs (offsets applied)."""
    zs, fracs, lats, owners, edges, images, d2us, u2ds, trips = [], [], [], [], [], [], [], [], []
    atom_off = 0
    dir_off = 0
    und_off = 0
    for gi, g in enumerate(graphs):
        n = g.atomic_number.shape[0]
        zs.append(g.atomic_number.long())
        fracs.append(g.atom_frac_coord.detach().to(dtype))
        lats.append(g.lattice.detach().to(dtype)[None])
        owners.append(torch.full((n,), gi, dtype=torch.long))
        edges.append(g.atom_graph.long() + atom_off)
        images.append(g.neighbor_image.to(dtype))
        d2us.append(g.directed2undirected.long() + und_off)
        u2ds.append(g.undirected2directed.long() + dir_off)
        if len(g.bond_graph) != 0:
            bg = g.bond_graph.long()
            trips.append(
                torch.stack(
                    [
                        bg[:, 0] + atom_off,
                        bg[:, 1] + und_off,
                        bg[:, 2] + dir_off,
                        bg[:, 3] + und_off,
                        bg[:, 4] + dir_off,
                    ],
                    dim=1,
                )
            )
        atom_off += n
        dir_off += g.atom_graph.shape[0]
        und_off += g.undirected2directed.shape[0]
    triplets = torch.cat(trips) if trips else torch.zeros((0, 5), dtype=torch.long)
    return (
        torch.cat(zs),
        torch.cat(fracs),
        torch.cat(lats),
        torch.cat(owners),
        torch.cat(edges),
        torch.cat(images),
        torch.cat(d2us),
        torch.cat(u2ds),
        triplets,
    )
