"""The hierarchical motif VAE: atoms -> attachment configurations -> motifs, decoded motif by motif.

After HierVAE (Jin, Barzilay and Jaakkola, ICML 2020, "Hierarchical Generation of Molecular
Graphs using Structural Motifs"), on moldojo's motif trees (:mod:`moldojo.chem.motifs`) and
layers (:mod:`moldojo.nn`). The data side, what every array means, is
:mod:`moldojo.models.hier.records`.

**Encoder**, three message-passing networks of residual gated GCN layers:

1. *AtomMPN* over the atom graph (atom type, hydrogens, attachment flag; bond orders).
2. *Attachment level*: one node per motif, connected like the tree; input = embedding of the
   motif's attachment configuration + mean of the AtomMPN states of its atoms.
3. *MotifMPN* over the tree; input = motif-type embedding + attachment-level state; edges are
   *ancestry edges* (each motif to every ancestor, labelled with the distance; ``motif_edges =
   "tree"`` for the paper's plain tree edges).
4. ``mu``, ``logvar`` from the root motif's final state (``readout="mean"``: the mean of all).

**Decoder**, depth-first with a stack of motifs. The root motif comes from ``z``; then at every
event the top motif ``u`` of the stack either gets a child or is popped:

* the partial tree goes through the decoder's MotifMPN (input: motif + configuration embeddings
  + a projection of ``z``); ``u``'s state ``h_u`` feeds the heads;
* *stop*: ``MLP(z, h_u)`` -> pop or not (pop is forced when no motif can attach, a child forced
  while ``u`` has an attachment atom left unused);
* *MotifMLP*: ``MLP(z, h_u)`` scored against the motif embeddings -> the child's motif;
* *AttachmentConfMLP*: ``MLP(z, h_u, e_motif)`` scored against the embeddings of that motif's
  configurations -> the child's configuration;
* *AttachmentMLP*: ``MLP(z, h_u, a_p, a_c)`` -> the pair (parent atom ``p``, child atom ``c``)
  to merge, among pairs of equal atom type whose merge keeps valences. ``a_p`` is the state of
  the parent's atom from the decoder's AtomMPN over the *partial molecule* (so that atoms of
  the same element are told apart by their place in it), ``a_c`` the same network's state of
  the child's atom over the child's configuration graph, symmetric child atoms counted once.

The classification layers share the embedding tables of the inputs (weight tying), which keeps
the model small for vocabularies of thousands of motifs.

**Rungs.** Two flags of :class:`HierConfig` take levels away, for a ladder of models:

* ``atom_level = False``: the encoder has no AtomMPN (step 1) and pools nothing from atoms; the
  attachment level reads the configuration embedding alone (or, with no attachment level
  either, the MotifMPN reads the motif embedding alone). The decoder is unchanged.
* ``attachment_configs = False``: no configurations anywhere. The encoder has no attachment
  level (step 2): the MotifMPN's input is the motif embedding + the mean of the AtomMPN states
  of the motif's atoms (none with ``atom_level = False``). The decoder has no
  AttachmentConfMLP, no configuration embedding in its MotifMPN's input and no configuration
  loss (no ``config`` or ``config_acc`` in the loss dict); children are bare motifs, the pair
  is chosen among every (atom of ``u`` with hydrogens left, atom of the child motif) of equal
  type whose merge keeps valences, ``a_c`` read over the child's bare motif graph, and the stop
  head decides alone whenever some motif can attach (no child is forced). The attachment flag
  of the atom features is then 0 everywhere (:mod:`moldojo.models.hier.records`).

**Training** is teacher-forced on the depth-first order: all events of all molecules of a batch
at once (one pass per network), losses summed per molecule and averaged over the batch.

Training reads the decoder networks' states at a few rows only (the top motif of each event, the
atoms of each candidate pair; the root, for the encoder's MotifMPN with ``readout="root"``), so
those networks are *trimmed layer by layer* (:class:`LayerPlan`, as PyTorch Geometric's
``trim_to_layer``): each layer computes only the rows and edges that a later layer or a target
reads. The losses and gradients are those of the untrimmed networks (``HierVAE.trim = False``);
on moses-mini batches of 128 it halves the decoder AtomMPN's time and takes a fifth off a
training step on one CPU core. Decoding reads the decoder MotifMPN at each tree's top motif only,
trimmed the same way: greedy decoding of polymers (training trees of up to 41 motifs, decoded
up to twice as many, each motif joined to all its ancestors) runs 1.7 times faster, and decodes
the same molecules.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

import torch
from torch import Tensor, nn

from moldojo.models.hier.config import HierConfig
from moldojo.models.vae import gaussian_kl, reparameterize
from moldojo.nn.batch import GraphBatch
from moldojo.nn.blocks import EncoderOutput, GNNEncoder, ResidualBlock
from moldojo.nn.conv.gated_gcn import GatedGCNConv
from moldojo.nn.registry import LAYERS, build_layer
from moldojo.nn.scatter import scatter_max, scatter_mean, scatter_sum

__all__ = [
    "BOND_ORDERS",
    "HierBatch",
    "HierVAE",
    "LayerPlan",
    "MLP",
    "layer_plan",
    "scatter_log_softmax",
]

#: Bond orders of the atom graphs (Kekule): single, double, triple.
BOND_ORDERS = 3


@dataclass(frozen=True)
class HierBatch:
    """What the network reads of a batch of molecules, built by
    :func:`~moldojo.models.hier.generator.to_batch` from their records (what each array means:
    :mod:`moldojo.models.hier.records`). Index tensors are ``long`` and point at rows of this
    batch; flags are ``bool``; features ``float32``.

    Sizes: ``B`` molecules; ``N`` atoms and ``E`` bonds; ``K`` motif nodes, ``T`` tree edges
    and ``A`` (node, atom) memberships; ``P`` partial-tree rows and ``Q`` their edges; ``V``
    events, ``C`` of them child events; ``R = B + C`` motifs to predict (roots, then children)
    and ``S`` candidate configurations; ``D`` decoder atom rows (partial-molecule balls, then
    the child configurations' atoms) and ``F`` their bonds; ``X`` candidate attachment pairs.

    Attributes:
        num_molecules: ``B``.
        atom_x: ``[N, atom_dim]`` atom features (type one-hot, hydrogens, attachment flag).
        bond_src, bond_dst: ``[E]`` atoms of each bond (once each); bond_order: ``[E]`` 1-3.
        motif_id, config_id: ``[K]`` motif and configuration of each node.
        motif_id_mol: ``[K]`` molecule of each node.
        root: ``[B]`` node of each molecule's root.
        edge_src, edge_dst, edge_dist: ``[T]`` ancestor, descendant and their distance (1 for
            a tree edge).
        member_node, member_atom: ``[A]`` each node's atoms.
        pt_node, pt_node_mol: ``[P]`` node and molecule of each partial-tree row.
        pt_src, pt_dst, pt_dist: ``[Q]`` edges between partial-tree rows, and distances.
        ev_top: ``[V]`` partial-tree row of the top motif at each event; ev_pop: ``[V]`` pop.
        ce_top, ce_top_mol: ``[C]`` partial-tree row of the parent at each child event, and
            its molecule; ce_child: ``[C]`` node of the child.
        config_candidates: ``[S]`` candidate configurations of each motif to predict;
            config_row: ``[S]`` which (of ``R``) each is a candidate for (both empty for a
            model without attachment configurations).
        dec_x: ``[D, atom_dim]`` atom features of the decoder's AtomMPN graph.
        dec_src, dec_dst, dec_order: ``[F]`` its bonds.
        pair_event: ``[X]`` child event of each candidate pair; pair_parent,
            pair_child_row: ``[X]`` decoder rows of its parent atom and child atom (rows of the
            children's bare motif graphs, for a model without attachment configurations);
            pair_label: ``[X]`` the right pair.
    """

    num_molecules: int
    atom_x: Tensor
    bond_src: Tensor
    bond_dst: Tensor
    bond_order: Tensor
    motif_id: Tensor
    config_id: Tensor
    motif_id_mol: Tensor
    root: Tensor
    edge_src: Tensor
    edge_dst: Tensor
    edge_dist: Tensor
    member_node: Tensor
    member_atom: Tensor
    pt_node: Tensor
    pt_node_mol: Tensor
    pt_src: Tensor
    pt_dst: Tensor
    pt_dist: Tensor
    ev_top: Tensor
    ev_pop: Tensor
    ce_top: Tensor
    ce_top_mol: Tensor
    ce_child: Tensor
    config_candidates: Tensor
    config_row: Tensor
    dec_x: Tensor
    dec_src: Tensor
    dec_dst: Tensor
    dec_order: Tensor
    pair_event: Tensor
    pair_parent: Tensor
    pair_child_row: Tensor
    pair_label: Tensor

    def to(self, device: torch.device | str) -> HierBatch:
        """The same batch with every tensor on ``device``."""
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        return HierBatch(**{k: v.to(device) if isinstance(v, Tensor) else v
                            for k, v in moved.items()})  # fmt: skip


class MLP(nn.Sequential):
    """``Linear -> ReLU -> Linear``."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int) -> None:
        super().__init__(nn.Linear(in_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, out_dim))


def scatter_log_softmax(scores: Tensor, group: Tensor, num_groups: int) -> Tensor:
    """Log-softmax of ``scores [R]`` within groups ``group [R]`` (numerically stable)."""
    top = scatter_max(scores.detach(), group, num_groups)[group]
    shifted = scores - top
    log_norm = torch.log(scatter_sum(shifted.exp(), group, num_groups))[group]
    return shifted - log_norm


class LabelMPN(nn.Module):
    """Residual blocks of a layer that reads edge features without updating them, every block
    reading the raw edge labels (no per-edge hidden state: on graphs with many more edges than
    nodes, such as partial trees with ancestry edges, that is where the time would go).

    Shapes: the same :class:`~moldojo.nn.batch.GraphBatch` and output as :class:`GNNEncoder`
    (``x [N, dim]`` input, ``edge_attr [E, label_dim]``).
    """

    def __init__(self, layer: str, dim: int, num_layers: int, label_dim: int,
                 norm: str | None) -> None:  # fmt: skip
        super().__init__()
        self.blocks = nn.ModuleList(
            ResidualBlock(build_layer(layer, dim, dim, edge_dim=label_dim), dim=dim, norm=norm)
            for _ in range(num_layers)
        )

    def forward(self, batch: GraphBatch) -> EncoderOutput:
        h = batch.x
        for block in self.blocks:
            h, _ = block(h, batch.edge_index, batch.edge_attr)
        return EncoderOutput(h, None)


def _graph(x: Tensor, src: Tensor, dst: Tensor, edge_attr: Tensor) -> GraphBatch:
    """Both directions of each edge, as a batch the encoders read (one graph: only the edges
    matter to the layers)."""
    n = x.shape[0]
    index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
    zeros = torch.zeros(n, dtype=torch.long, device=x.device)
    ptr = torch.tensor([0, n], device=x.device)
    return GraphBatch(x=x, edge_index=index, batch=zeros, ptr=ptr,
                      edge_attr=torch.cat([edge_attr, edge_attr]))  # fmt: skip


class LayerPlan(NamedTuple):
    """Which rows and edges each layer of an ``L``-layer network computes when its output is read
    only at some *target* rows (layer-wise trimming, as PyTorch Geometric's ``trim_to_layer``).

    Layer ``l`` (``1 .. L``) only needs the states of the rows within ``k = L - l`` hops of a
    target, hence the edges into those rows (their sources lie within ``k + 1`` hops, the rows
    layer ``l - 1`` produced); a layer that updates edge states only needs those of the edges
    the next layer reads, into rows within ``k - 1`` hops, and none after the last layer. Rows
    are renumbered nearest the targets first and edges by the hop of their target, so that
    every layer works on prefixes (slices, not masks). Build with :func:`layer_plan`.

    Attributes:
        node: ``[n_L]`` the input rows kept (within ``L`` hops of a target), in the new order.
        edge: ``[m_{L-1}]`` the directed edges kept (target within ``L - 1`` hops), in order.
        edge_index: ``[2, m_{L-1}]`` those edges, in the new row numbering.
        nodes: ``(n_0, .., n_L)``; the rows within ``k`` hops are the first ``n_k``.
        edges: ``(m_0, .., m_{L-1})``; the edges into rows within ``k`` hops are the first
            ``m_k``.
        position: ``[N]`` the new row of every input row (below ``n_0`` for a target).
    """

    node: Tensor
    edge: Tensor
    edge_index: Tensor
    nodes: tuple[int, ...]
    edges: tuple[int, ...]
    position: Tensor


def layer_plan(edge_index: Tensor, num_nodes: int, targets: Tensor, num_layers: int) -> LayerPlan:
    """The :class:`LayerPlan` of a ``num_layers``-layer network over ``edge_index [2, E]``
    (``num_nodes`` rows, both directions of every undirected edge listed) read at the rows
    ``targets [T]`` (repeats allowed)."""
    src, dst = edge_index[0], edge_index[1]
    far = num_layers + 1  # "more than num_layers hops": rows and edges left out
    hop = torch.full((num_nodes,), far, dtype=torch.long, device=edge_index.device)
    hop[targets] = 0
    for _ in range(num_layers):  # Bellman-Ford rounds: hop[i] = min(hop[i], hop[j] + 1), j -> i
        hop = hop.scatter_reduce(0, dst, hop[src] + 1, reduce="amin")  # stays <= far
    edge_hop = hop[dst]
    counts = torch.stack(
        [torch.bincount(hop, minlength=far + 1), torch.bincount(edge_hop, minlength=far + 1)]
    )
    counts = counts[:, :far].cumsum(1).tolist()  # one read from the device for every prefix
    nodes, edges = tuple(counts[0]), tuple(counts[1][:num_layers])
    order = torch.argsort(hop, stable=True)
    edge = torch.argsort(edge_hop, stable=True)[: edges[-1]]
    position = torch.empty_like(order)
    position[order] = torch.arange(num_nodes, device=order.device)
    return LayerPlan(node=order[: nodes[-1]], edge=edge, edge_index=position[edge_index[:, edge]],
                     nodes=nodes, edges=edges, position=position)  # fmt: skip


def _trimmable(net: nn.Module) -> bool:
    """Whether :func:`_trimmed_states` computes ``net``: gated GCN blocks (whose convolution
    takes ``num_targets``), not with batch normalisation (whose statistics are over every row)."""
    return isinstance(net, GNNEncoder) and all(
        isinstance(b.conv, GatedGCNConv) and not isinstance(b.norm, nn.BatchNorm1d)
        for b in net.blocks
    )


def _trimmed_states(net: GNNEncoder, batch: GraphBatch, targets: Tensor) -> Tensor:
    """``net(batch).x[targets]``, computing each layer only where a target reads it."""
    plan = layer_plan(batch.edge_index, batch.num_nodes, targets, net.num_layers)
    h = net.node_embedding(batch.x[plan.node])  # (n_L, D)
    e = net.edge_embedding(batch.edge_attr[plan.edge])  # (m_{L-1}, D)
    for i, block in enumerate(net.blocks):
        k = net.num_layers - 1 - i  # this layer's output: rows within k hops
        index = plan.edge_index[:, : plan.edges[k]]  # e: the states of exactly these edges
        h, e = block(h, index, e, num_targets=plan.nodes[k],
                     num_edges=plan.edges[k - 1] if k else 0)  # fmt: skip
    return net.final_norm(h)[plan.position[targets]]


class HierVAE(nn.Module):
    """The hierarchical motif VAE (module docstring).

    Args:
        config: hyperparameters.
        num_motifs: ``M`` motif types.
        config_motif: ``[C]`` the motif of each configuration (configurations grouped by motif).
        atom_dim: atom feature size (type one-hot + :data:`ATOM_FEATURES_EXTRA`).

    Attributes:
        trim: whether networks read at a few rows only compute what those rows need
            (:class:`LayerPlan`; never with ``norm="batch"``, whose statistics are over every
            row). False runs every layer on every row: the same values, slower.
    """

    def __init__(self, config: HierConfig, num_motifs: int, config_motif: list[int],
                 atom_dim: int) -> None:  # fmt: skip
        super().__init__()
        self.config = config
        d, zd = config.hidden_dim, config.latent_dim
        norm = None if config.norm == "none" else config.norm
        self.num_motifs = num_motifs
        self.register_buffer("config_motif", torch.as_tensor(config_motif, dtype=torch.long))
        self.motif_embedding = nn.Embedding(num_motifs, d)
        self.motif_bias = nn.Parameter(torch.zeros(num_motifs))
        if config.attachment_configs:
            self.config_embedding = nn.Embedding(len(config_motif), d)
            self.config_bias = nn.Parameter(torch.zeros(len(config_motif)))

        def gnn(in_dim: int, layers: int, edge_dim: int, layer: str = "gated-gcn") -> nn.Module:
            if LAYERS[layer].updates_edges:
                return GNNEncoder(layer, in_dim, d, layers, edge_dim=edge_dim, norm=norm)
            return LabelMPN(layer, d, layers, edge_dim, norm)

        # encoder
        if config.atom_level:
            self.atom_mpn = gnn(atom_dim, config.atom_layers, BOND_ORDERS)
        if config.attachment_configs:
            self.attachment_mpn = gnn(d, config.attachment_layers, 1)
        self.motif_mpn = gnn(d, config.motif_layers, config.max_distance, config.motif_layer)
        self.to_mu = nn.Linear(d, zd)
        self.to_logvar = nn.Linear(d, zd)
        # decoder
        self.z_to_tree = nn.Linear(zd, d)
        self.decoder_motif_mpn = gnn(d, config.motif_layers, config.max_distance,
                                     config.motif_layer)  # fmt: skip
        self.decoder_atom_mpn = gnn(atom_dim, config.radius, BOND_ORDERS)
        self.stop_head = MLP(zd + d, d, 1)
        self.motif_head = MLP(zd + d, d, d)
        if config.attachment_configs:
            self.config_head = MLP(zd + 2 * d, d, d)
        self.pair_head = MLP(zd + 3 * d, d, 1)
        self.trim = True

    def _states(self, net: nn.Module, batch: GraphBatch, targets: Tensor | None) -> Tensor:
        """``net``'s node states at rows ``targets`` (all rows when None), trimmed when it can."""
        if targets is None:
            return net(batch).x
        if self.trim and _trimmable(net):
            return _trimmed_states(net, batch, targets)
        return net(batch).x[targets]

    # -- encoder ---------------------------------------------------------------------------------

    def _distance(self, dist: Tensor) -> Tensor:
        index = dist.clamp(max=self.config.max_distance) - 1
        return nn.functional.one_hot(index, self.config.max_distance).float()

    def _bond(self, order: Tensor) -> Tensor:
        return nn.functional.one_hot(order - 1, BOND_ORDERS).float()

    def encode(self, b: HierBatch) -> tuple[Tensor, Tensor]:
        """``(mu, logvar)``, ``[B, latent_dim]`` each."""
        x = self.motif_embedding(b.motif_id)  # (K, D)
        h = None  # what the levels below the motifs add to each motif node
        if self.config.atom_level:
            bonds = _graph(b.atom_x, b.bond_src, b.bond_dst, self._bond(b.bond_order))
            h_atom = self.atom_mpn(bonds).x
            h = scatter_mean(h_atom[b.member_atom], b.member_node, x.shape[0])
        if self.config.attachment_configs:
            x_conf = self.config_embedding(b.config_id)
            x_conf = x_conf if h is None else x_conf + h
            tree = b.edge_dist == 1
            ones = torch.ones(int(tree.sum()), 1, device=x.device)
            h = self.attachment_mpn(_graph(x_conf, b.edge_src[tree], b.edge_dst[tree], ones)).x
        if h is not None:
            x = x + h
        graph = _graph(x, b.edge_src, b.edge_dst, self._distance(b.edge_dist))
        if self.config.readout == "root":
            state = self._states(self.motif_mpn, graph, b.root)
        else:
            state = scatter_mean(self.motif_mpn(graph).x, b.motif_id_mol, b.num_molecules)
        return self.to_mu(state), self.to_logvar(state)

    # -- decoder pieces (shared by training and decoding) ----------------------------------------

    def tree_states(self, z_rows: Tensor, motif: Tensor, config: Tensor | None, src: Tensor,
                    dst: Tensor, dist: Tensor, targets: Tensor | None = None
                    ) -> Tensor:  # fmt: skip
        """Decoder MotifMPN over partial trees; ``z_rows`` is ``z`` of each node's molecule,
        ``config`` each node's configuration (read only with attachment configurations).
        Returns ``[P, hidden_dim]``, or ``[T, hidden_dim]``: the rows ``targets [T]`` only."""
        x = self.motif_embedding(motif) + self.z_to_tree(z_rows)
        if self.config.attachment_configs:
            x = x + self.config_embedding(config)
        return self._states(self.decoder_motif_mpn, _graph(x, src, dst, self._distance(dist)),
                            targets)  # fmt: skip

    def atom_states(self, x: Tensor, src: Tensor, dst: Tensor, order: Tensor,
                    targets: Tensor | None = None) -> Tensor:  # fmt: skip
        """Decoder AtomMPN over partial molecules and configuration graphs. Returns
        ``[D, hidden_dim]``, or ``[T, hidden_dim]``: the rows ``targets [T]`` only."""
        return self._states(self.decoder_atom_mpn, _graph(x, src, dst, self._bond(order)),
                            targets)  # fmt: skip

    def stop_logits(self, z: Tensor, h_top: Tensor) -> Tensor:
        return self.stop_head(torch.cat([z, h_top], dim=1)).squeeze(1)

    def motif_logits(self, z: Tensor, h_top: Tensor) -> Tensor:
        """``[R, M]``; ``h_top`` is zero for the root."""
        query = self.motif_head(torch.cat([z, h_top], dim=1))
        return query @ self.motif_embedding.weight.T + self.motif_bias

    def config_scores(self, z: Tensor, h_top: Tensor, motif: Tensor, candidates: Tensor,
                      row: Tensor) -> Tensor:  # fmt: skip
        """Scores of candidate configurations ``candidates [R']`` for query rows ``row [R']``."""
        query = self.config_head(torch.cat([z, h_top, self.motif_embedding(motif)], dim=1))
        emb = self.config_embedding(candidates)
        return (query[row] * emb).sum(dim=1) + self.config_bias[candidates]

    def pair_scores(self, z: Tensor, h_top: Tensor, parent_atom: Tensor,
                    child_atom: Tensor) -> Tensor:  # fmt: skip
        """One score per candidate pair; every argument has one row per pair."""
        return self.pair_head(torch.cat([z, h_top, parent_atom, child_atom], dim=1)).squeeze(1)

    # -- training --------------------------------------------------------------------------------

    def loss(self, b: HierBatch, beta: float, generator: torch.Generator | None = None
             ) -> dict[str, Tensor]:  # fmt: skip
        """Teacher-forced losses, summed per molecule and averaged over the batch: ``loss`` and
        its parts ``stop``, ``motif``, ``config`` (only with attachment configurations),
        ``pair``, ``kl``, and the accuracies ``stop_acc``, ``motif_acc``, ``config_acc`` (with
        configurations) and ``pair_acc``."""
        mu, logvar = self.encode(b)
        z = reparameterize(mu, logvar, generator)
        n = b.num_molecules

        # partial trees -> the top motif's state at every event, and at every child event
        num_events = b.ev_top.shape[0]
        h_top = self.tree_states(z[b.pt_node_mol], b.motif_id[b.pt_node], b.config_id[b.pt_node],
                                 b.pt_src, b.pt_dst, b.pt_dist,
                                 targets=torch.cat([b.ev_top, b.ce_top]))  # fmt: skip
        h_top, h_parent = h_top[:num_events], h_top[num_events:]
        ev_mol = b.pt_node_mol[b.ev_top]
        stop = self.stop_logits(z[ev_mol], h_top)
        pop = b.ev_pop.float()
        stop_loss = nn.functional.binary_cross_entropy_with_logits(stop, pop, reduction="sum")

        # motif of the root (h_top = 0) and of every child
        ce_mol = b.ce_top_mol
        z_q = torch.cat([z, z[ce_mol]])
        h_q = torch.cat([h_parent.new_zeros(n, h_parent.shape[1]), h_parent])
        target = torch.cat([b.root, b.ce_child])
        motif = b.motif_id[target]
        logits = self.motif_logits(z_q, h_q)
        motif_loss = nn.functional.cross_entropy(logits, motif, reduction="sum")

        # configuration among the motif's (none without attachment configurations)
        parts: dict[str, Tensor] = {}
        if self.config.attachment_configs:
            cand, row = b.config_candidates, b.config_row
            scores = self.config_scores(z_q, h_q, motif, cand, row)
            log_p = scatter_log_softmax(scores, row, len(target))
            right = cand == b.config_id[target][row]
            parts["config"] = -log_p[right].sum()
            config_hit = scatter_max(scores, row, len(target))[row] == scores
            config_right = (config_hit & right).sum()

        # attachment pair
        num_pairs = b.pair_event.shape[0]
        rows = torch.cat([b.pair_parent, b.pair_child_row])
        h_atoms = self.atom_states(b.dec_x, b.dec_src, b.dec_dst, b.dec_order, targets=rows)
        event = b.pair_event
        pair = self.pair_scores(z[ce_mol[event]], h_parent[event], h_atoms[:num_pairs],
                                h_atoms[num_pairs:])  # fmt: skip
        num_children = b.ce_top.shape[0]
        log_pair = scatter_log_softmax(pair, event, num_children)
        pair_loss = -log_pair[b.pair_label].sum()
        pair_best = scatter_max(pair, event, num_children)[event] == pair
        pair_right = (pair_best & b.pair_label).sum()

        kl = gaussian_kl(mu, logvar).sum()
        recon = stop_loss + motif_loss
        if "config" in parts:
            recon = recon + parts["config"]
        recon = recon + pair_loss
        loss = (recon + beta * kl) / n
        with torch.no_grad():
            accuracy = {
                "stop_acc": ((stop > 0).float() == pop).float().mean(),
                "motif_acc": (logits.argmax(dim=1) == motif).float().mean(),
            }
            if "config" in parts:
                accuracy["config_acc"] = config_right.float() / len(target)
            accuracy["pair_acc"] = pair_right.float() / max(num_children, 1)
            return_parts = {
                "stop": stop_loss / n,
                "motif": motif_loss / n,
                **{name: value / n for name, value in parts.items()},  # config, if any
                "pair": pair_loss / n,
                "kl": kl / n,
                **accuracy,
            }
        return {"loss": loss, **return_parts}
