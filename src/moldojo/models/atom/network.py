"""The autoregressive atom-by-atom graph VAE: the first rung of the ladder to the hierarchical
model, and the baseline its argument is made against.

Read top to bottom:

1. **Encoder.** An AtomMPN (residual gated GCN blocks, :class:`~moldojo.nn.blocks.GNNEncoder`)
   over the molecule, pooled to ``mu`` and ``logvar``; ``z`` by reparameterisation.
2. **Decoder**, one atom at a time in canonical breadth-first order
   (:mod:`~moldojo.models.atom.records`). Before each new atom the decoder's AtomMPN runs over
   the partial molecule (atoms: type embedding, an embedding of the atom's *age*, the atoms
   added since, and a projection of ``z``; bonds: their order), giving a state ``h_j`` per
   placed atom and their mean ``g``. Then:

   - *AtomMLP* ``(z, g, size)`` gives the new atom's type, or stop (``size``: an embedding of
     the atoms placed, which a mean cannot tell);
   - the new atom starts from its type embedding ``u``; *NeighborMLP* scores every placed atom
     ``j`` from ``(z, u, g)`` and ``h_j``, and stop from ``(z, u, g)``; the choice is one atom or
     stop. *BondMLP* ``(z, u, g, h_j)`` gives the bond's order. A message from ``(h_j, order)``
     is added to ``u``, and the next neighbour is chosen, until stop: several bonds per atom,
     so rings close.

   Valence masks (each type's capacity, :class:`~moldojo.models.atom.records.AtomAlphabet`)
   remove every option that would overfill an atom, in training and in constrained decoding,
   so decoded molecules are valid by construction; raw decoding keeps only the structural
   masks of the breadth-first order (connected, neighbours in ascending order and none before
   the last atom's parent) and reports its own validity. Without the ages and the parent
   floor, the decoder could not tell where the breadth-first front was: after 10 minutes on
   moses-mini its neighbour loss was 38 nats per molecule against 10 with them, and greedy
   decoding never stopped (0.8% of prior samples under the atom limit, 100% with them).

**Loss.** Cross-entropy of every decision of the molecule (types and stop, neighbours and stop,
bond orders), summed per molecule, plus ``beta * KL``, averaged over the batch. Teacher forcing
is one forward pass: :func:`~moldojo.models.atom.records.collate` lays out all the partial
molecules of a batch as one disconnected graph (``n (n + 1) / 2`` nodes for ``n`` atoms), and
the neighbour decisions score all their candidates at once.

**Decoding** (:meth:`AtomVAE.decode`) runs the same modules over a batch of latent points, one
step per atom for all molecules together.

Imports torch and :mod:`moldojo.nn`; no RDKit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from moldojo.models.atom.config import AtomConfig
from moldojo.models.atom.records import NUM_ORDERS, AtomBatch
from moldojo.models.vae import gaussian_kl, reparameterize, tempered_softmax
from moldojo.nn.batch import GraphBatch
from moldojo.nn.blocks import GNNEncoder
from moldojo.nn.readout import Readout

__all__ = ["MAX_AGE", "AtomVAE", "DecodedAtoms"]

#: Atoms added after a placed atom, as the decoder sees it: older ones share the last embedding.
MAX_AGE = 16


@dataclass(frozen=True)
class DecodedAtoms:
    """Molecules decoded by :meth:`AtomVAE.decode`, on the CPU.

    Attributes:
        types: per molecule, its atoms' types in the order they were added.
        bonds: per molecule, its bonds ``(earlier atom, later atom, order)``.
        too_large: per molecule, decoding reached the atom limit before stopping.
    """

    types: list[list[int]]
    bonds: list[list[tuple[int, int, int]]]
    too_large: list[bool]


def _mlp(in_dim: int, hidden: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))


def _choose(logits: Tensor, temperature: float, generator: torch.Generator | None) -> Tensor:
    """``[R]`` one option per row of masked ``logits [R, C]``: argmax, or a tempered draw."""
    if temperature <= 0:
        return logits.argmax(-1)
    probs = tempered_softmax(logits.float().cpu(), temperature)
    return torch.multinomial(probs, 1, generator=generator).view(-1).to(logits.device)


class Chooser(Protocol):
    """Makes the decoder's choices: ``(kind, molecules, t, logits) -> [R]`` options, where
    ``kind`` is ``"atom"`` (columns: types, then stop), ``"neighbour"`` (column 0 stop, ``j + 1``
    atom ``j``) or ``"order"`` (columns: orders 1-3, of the bonds ``(j, t)`` with ``j`` given),
    ``molecules [R]`` the rows' molecules and ``-inf`` in ``logits`` what masks forbid."""

    def __call__(self, kind: str, molecules: Tensor, t: int, logits: Tensor,
                 j: Tensor | None = None) -> Tensor: ...  # fmt: skip


class AtomVAE(nn.Module):
    """The atom-by-atom VAE; the module docstring explains the model.

    Args:
        config: hyperparameters.
        node_dim, edge_dim: encoder input feature sizes.
        capacity: ``[T]`` the largest bond-order sum of each atom type.
        max_atoms: the largest training molecule; decoding stops at twice as many atoms.
    """

    def __init__(self, config: AtomConfig, *, node_dim: int, edge_dim: int,
                 capacity: list[int], max_atoms: int) -> None:  # fmt: skip
        super().__init__()
        self.config = config
        self.num_types = len(capacity)
        self.max_atoms = max_atoms
        self.register_buffer("capacity", torch.as_tensor(capacity, dtype=torch.long))
        d, latent = config.hidden_dim, config.latent_dim
        norm = None if config.norm == "none" else config.norm
        self.encoder = GNNEncoder("gated-gcn", node_dim, d, config.encoder_layers,
                                  edge_dim=edge_dim, norm=norm)  # fmt: skip
        self.readout = Readout(config.readout)
        self.to_mu = nn.Linear(d, latent)
        self.to_logvar = nn.Linear(d, latent)

        self.type_embedding = nn.Embedding(self.num_types, d)
        self.age_embedding = nn.Embedding(MAX_AGE + 1, d)
        self.size_embedding = nn.Embedding(2 * max_atoms + 1, d)
        self.z_to_node = nn.Linear(latent, d)
        self.decoder = GNNEncoder(config.decoder_layer, d, d, config.decoder_layers,
                                  edge_dim=NUM_ORDERS, norm=norm)  # fmt: skip
        context = latent + 2 * d  # (z, u, g)
        self.atom_mlp = _mlp(latent + 2 * d, d, self.num_types + 1)
        self.stop_mlp = _mlp(context, d, 1)
        self.query = nn.Linear(context, d)  # NeighborMLP, split: the decision's part ...
        self.key = nn.Linear(d, d, bias=False)  # ... and each candidate's part
        self.score = nn.Sequential(nn.ReLU(), nn.Linear(d, 1))
        self.bond_mlp = _mlp(context + d, d, NUM_ORDERS)
        self.order_embedding = nn.Embedding(NUM_ORDERS, d)
        self.message = _mlp(2 * d, d, d)

    # ---------------------------------------------------------------------------- encoder

    def encode(self, graph: GraphBatch) -> tuple[Tensor, Tensor]:
        """``(mu, logvar)``, each ``[B, latent_dim]``, of a batch of molecular graphs."""
        h = self.encoder(graph).x
        pooled = self.readout(h, graph.batch, graph.num_graphs)
        return self.to_mu(pooled), self.to_logvar(pooled)

    # ------------------------------------------------------------------------ the pieces

    def _prefix_states(self, z: Tensor, node_type: Tensor, node_age: Tensor, node_mol: Tensor,
                       node_prefix: Tensor, edge_index: Tensor, edge_order: Tensor,
                       num_prefixes: int) -> tuple[Tensor, Tensor]:  # fmt: skip
        """The decoder AtomMPN over partial molecules: ``h [Np, d]`` per node, and
        ``g [P + 1, d]`` their mean per prefix, row 0 the empty molecule (zeros)."""
        x = (self.type_embedding(node_type) + self.age_embedding(node_age.clamp(max=MAX_AGE))
             + self.z_to_node(z)[node_mol])  # fmt: skip
        edge_attr = F.one_hot(edge_order - 1, NUM_ORDERS).to(x.dtype)
        ptr = torch.zeros(num_prefixes + 1, dtype=torch.long, device=x.device)  # unused
        graph = GraphBatch(x=x, edge_index=edge_index, batch=node_prefix, ptr=ptr,
                           edge_attr=edge_attr)  # fmt: skip
        h = self.decoder(graph).x
        g = Readout("mean")(h, node_prefix, num_prefixes)
        return h, torch.cat([g.new_zeros(1, g.shape[1]), g])

    def _bond_message(self, h_j: Tensor, order: Tensor) -> Tensor:
        return self.message(torch.cat([h_j, self.order_embedding(order - 1)], dim=-1))

    # ------------------------------------------------------------------------- training

    def decision_logits(self, batch: AtomBatch, z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Masked logits of every teacher-forced decision: atoms ``[Da, T + 1]``, neighbours
        ``[Dn, max_atoms + 1]`` (column 0 stop, ``j + 1`` atom ``j``), bonds ``[K, 3]``;
        ``-inf`` where a mask forbids."""
        h, g = self._prefix_states(z, batch.node_type, batch.node_age, batch.node_mol,
                                   batch.node_prefix, batch.edge_index, batch.edge_order,
                                   batch.prefix_ptr.numel() - 1)  # fmt: skip
        atom = self.atom_mlp(torch.cat([z[batch.atom_mol], g[batch.atom_prefix + 1],
                                        self.size_embedding(batch.atom_size)], dim=-1))
        atom = atom.masked_fill(~batch.atom_ok, float("-inf"))

        messages = self._bond_message(h[batch.bond_node], batch.bond_order)
        cum = torch.cat([messages.new_zeros(1, messages.shape[1]), messages.cumsum(0)])
        u = self.type_embedding(batch.nb_type) + cum[batch.nb_hi] - cum[batch.nb_lo]
        context = torch.cat([z[batch.nb_mol], u, g[batch.nb_prefix + 1]], dim=-1)
        stop = self.stop_mlp(context).squeeze(-1)
        cand = self.score(self.query(context)[batch.cand_dec] + self.key(h)[batch.cand_node])
        neighbour = stop.new_full((stop.shape[0], batch.max_atoms + 1), float("-inf"))
        neighbour[:, 0] = stop.masked_fill(~batch.nb_stop_ok, float("-inf"))
        ok = batch.cand_ok
        neighbour = neighbour.index_put((batch.cand_dec[ok], batch.cand_col[ok]),
                                        cand.squeeze(-1)[ok].to(neighbour.dtype))  # fmt: skip

        bond = self.bond_mlp(torch.cat([context[batch.bond_dec], h[batch.bond_node]], dim=-1))
        bond = bond.masked_fill(~batch.bond_ok, float("-inf"))
        return atom, neighbour, bond

    def loss(self, batch: AtomBatch, beta: float, generator: torch.Generator | None = None
             ) -> dict[str, Tensor]:  # fmt: skip
        """``{"loss", "atom_loss", "neighbour_loss", "bond_loss", "kl", "atom_acc",
        "neighbour_acc", "bond_acc"}``: losses summed per molecule, averaged over the batch."""
        mu, logvar = self.encode(batch.graph)
        z = reparameterize(mu, logvar, generator)
        atom, neighbour, bond = self.decision_logits(batch, z)
        num = batch.num_molecules
        parts = {
            "atom_loss": F.cross_entropy(atom.float(), batch.atom_target, reduction="sum") / num,
            "neighbour_loss": F.cross_entropy(neighbour.float(), batch.nb_target,
                                              reduction="sum") / num,
            "bond_loss": F.cross_entropy(bond.float(), batch.bond_order - 1,
                                         reduction="sum") / num,
        }  # fmt: skip
        kl = gaussian_kl(mu.float(), logvar.float()).mean()
        out = {"loss": sum(parts.values()) + beta * kl, **parts, "kl": kl}
        with torch.no_grad():
            out["atom_acc"] = (atom.argmax(-1) == batch.atom_target).float().mean()
            out["neighbour_acc"] = (neighbour.argmax(-1) == batch.nb_target).float().mean()
            if bond.shape[0]:
                out["bond_acc"] = (bond.argmax(-1) == batch.bond_order - 1).float().mean()
        return out

    # ------------------------------------------------------------------------- decoding

    @torch.no_grad()
    def decode(self, z: Tensor, *, temperature: float = 0.0,
               generator: torch.Generator | None = None, constrained: bool = True,
               chooser: Chooser | None = None) -> DecodedAtoms:  # fmt: skip
        """Molecules of latent points ``z [B, latent_dim]``, one atom per step for all.

        Args:
            temperature: 0 takes every decision's most likely option; ``> 0`` samples each from
                ``softmax(logits / temperature)`` with ``generator``.
            constrained: valence masks on (valid by construction) or off (raw).
            chooser: makes the choices instead (tests replay known molecules through it).
        """
        if chooser is None:
            def chooser(kind: str, molecules: Tensor, t: int, logits: Tensor,
                        j: Tensor | None = None) -> Tensor:  # fmt: skip
                return _choose(logits, temperature, generator)

        device, num = z.device, z.shape[0]
        limit = 2 * self.max_atoms
        types = torch.full((num, limit), -1, dtype=torch.long, device=device)
        used = torch.zeros((num, limit), dtype=torch.long, device=device)
        active = torch.arange(num, device=device)
        bonds: list[Tensor] = []  # rows (molecule, s, d, order)
        too_large = torch.zeros(num, dtype=torch.bool, device=device)
        floor = torch.zeros(num, dtype=torch.long, device=device)  # parent of the last atom
        for t in range(limit + 1):
            if active.numel() == 0:
                break
            h, g = self._step_states(z, types, active, t, bonds)
            size = self.size_embedding(torch.full_like(active, t))
            logits = self.atom_mlp(torch.cat([z[active], g, size], dim=-1))
            ok = torch.ones_like(logits, dtype=torch.bool)
            ok[:, -1] = t > 0
            if t == limit:
                ok[:, :-1] = False
                too_large[active] = True
            elif constrained and t > 0:
                room = self.capacity[types[active, :t]] - used[active, :t]
                above = torch.arange(t, device=device)[None, :] >= floor[active, None]
                free = ((room >= 1) & above).any(1, keepdim=True)
                ok[:, :-1] = free & (self.capacity >= 1)[None, :]
            choice = chooser("atom", active, t, logits.masked_fill(~ok, float("-inf")))
            grow = choice < self.num_types
            active, choice, h, g = active[grow], choice[grow], h[grow], g[grow]
            if active.numel() == 0:
                break
            types[active, t] = choice
            if t > 0:
                self._bond_new_atoms(z, types, used, floor, active, choice, h, g, t, bonds,
                                     chooser, constrained)  # fmt: skip
        rows = torch.cat(bonds).cpu().tolist() if bonds else []
        per_mol: list[list[tuple[int, int, int]]] = [[] for _ in range(num)]
        for b, s, d, order in rows:
            per_mol[b].append((s, d, order))
        type_lists = [[int(x) for x in row if x >= 0] for row in types.cpu().tolist()]
        return DecodedAtoms(type_lists, per_mol, too_large.cpu().tolist())

    def _step_states(self, z: Tensor, types: Tensor, active: Tensor, t: int,
                     bonds: list[Tensor]) -> tuple[Tensor, Tensor]:  # fmt: skip
        """``h [A, t, d]`` and ``g [A, d]`` of the active molecules' partial molecules."""
        num, d = active.numel(), self.config.hidden_dim
        if t == 0:
            return z.new_zeros(num, 0, d), z.new_zeros(num, d)
        position = torch.full((z.shape[0],), -1, dtype=torch.long, device=z.device)
        position[active] = torch.arange(num, device=z.device)
        node_mol = active.repeat_interleave(t)
        node_age = (t - 1 - torch.arange(t, device=z.device)).repeat(num)
        node_prefix = torch.arange(num, device=z.device).repeat_interleave(t)
        node_type = types[active, :t].reshape(-1)
        if bonds:
            rows = torch.cat(bonds)
            rows = rows[position[rows[:, 0]] >= 0]
            base = position[rows[:, 0]] * t
            src, dst = base + rows[:, 1], base + rows[:, 2]
            edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
            edge_order = torch.cat([rows[:, 3], rows[:, 3]])
        else:
            edge_index = torch.zeros((2, 0), dtype=torch.long, device=z.device)
            edge_order = torch.zeros(0, dtype=torch.long, device=z.device)
        h, g = self._prefix_states(z, node_type, node_age, node_mol, node_prefix, edge_index,
                                   edge_order, num)  # fmt: skip
        return h.view(num, t, d), g[1:]

    def _bond_new_atoms(self, z: Tensor, types: Tensor, used: Tensor, floor: Tensor,
                        mols: Tensor, new_type: Tensor, h: Tensor, g: Tensor, t: int,
                        bonds: list[Tensor], chooser: Chooser,
                        constrained: bool) -> None:  # fmt: skip
        """Choose the earlier neighbours and bond orders of atom ``t`` of molecules ``mols``, at
        or after the floor (``floor``: the parent of the last atom, then of this one)."""
        num = mols.numel()
        lowest = floor[mols]
        u = self.type_embedding(new_type)
        key = self.key(h)  # [A, t, d]
        prev = torch.full((num,), -1, dtype=torch.long, device=z.device)
        going = torch.ones(num, dtype=torch.bool, device=z.device)
        columns = torch.arange(t, device=z.device)
        for i in range(t + 1):
            rows = torch.nonzero(going).view(-1)
            if rows.numel() == 0:
                break
            mol = mols[rows]
            context = torch.cat([z[mol], u[rows], g[rows]], dim=-1)
            stop = self.stop_mlp(context)
            cand = self.score(self.query(context)[:, None, :] + key[rows]).squeeze(-1)
            ok = (columns[None, :] > prev[rows, None]) & (columns[None, :] >= lowest[rows, None])
            room_new = self.capacity[types[mol, t]] - used[mol, t]
            room = self.capacity[types[mol, :t]] - used[mol, :t]
            if constrained:
                ok &= (room >= 1) & (room_new >= 1)[:, None]
            stop_ok = torch.full((rows.numel(), 1), i > 0, device=z.device)
            stop_ok |= ~ok.any(1, keepdim=True)  # nothing left to bond: stop
            logits = torch.cat([stop, cand], dim=1)
            logits = logits.masked_fill(~torch.cat([stop_ok, ok], dim=1), float("-inf"))
            pick = chooser("neighbour", mol, t, logits)
            going[rows[pick == 0]] = False
            bonded = pick > 0
            rows, mol, j = rows[bonded], mol[bonded], pick[bonded] - 1
            if rows.numel() == 0:
                continue
            h_j = h[rows, j]
            bond_logits = self.bond_mlp(torch.cat([context[bonded], h_j], dim=-1))
            if constrained:
                limit = torch.minimum(room_new[bonded], room[bonded, j])
                orders = torch.arange(1, NUM_ORDERS + 1, device=z.device)
                allowed = orders[None, :] <= limit[:, None]
                bond_logits = bond_logits.masked_fill(~allowed, float("-inf"))
            order = chooser("order", mol, t, bond_logits, j) + 1
            bonds.append(torch.stack([mol, j, torch.full_like(j, t), order], dim=1))
            used[mol, j] += order
            used[mol, t] += order
            prev[rows] = j
            if i == 0:
                floor[mol] = j  # the first neighbour is the parent
            u = u.index_add(0, rows, self._bond_message(h_j, order))
