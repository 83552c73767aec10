"""The HAMD network: a graph-level "is it Hamiltonian?" logit and a score for every edge.

::

    x_v  = [onehot(min(deg v, 7)), deg v / mean deg]     # [N, 9]: nothing but degrees
    e_uv = [1, [min(deg u, deg v) = 2]]                  # [E, 2]: is the edge forced?
    (h, e) = GNNEncoder(layer)(x, e)                     # [N, D], [E, D] (edge-updating layers)
    r_b  = [mean_{v in b} h_v, max_{v in b} h_v]         # [B, 2D]
    logit_b = MLP(r_b)                                   # [B]: P(Hamiltonian) = sigmoid
    s_uv = MLP([h_u + h_v, h_u * h_v, e_uv + e_vu])      # [E / 2]: one per undirected edge

The inputs are what every cheap rule sees (degrees, and the edges that a vertex of degree 2
forces into any Hamiltonian cycle); what the network adds over such rules is what message
passing finds around them. The readout pools with the mean *and* the maximum: an obstruction is
local (one vertex that three forced edges meet is enough), and a maximum finds it at any size,
where a sum would change scale between the 25-node graphs of training and the 200-node graphs of
testing. The edge scores are trained towards the cycle of the exact label (one of possibly many
Hamiltonian cycles), and guide :func:`moldojo.hamd.find.find_cycle`.

Imports torch, numpy, :mod:`moldojo.config`, :mod:`moldojo.nn` and
:mod:`moldojo.hamd.graphs`; never ``cli``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from pydantic import Field, field_validator
from torch import Tensor, nn

from moldojo.config import Config, Size
from moldojo.hamd.graphs import Graph
from moldojo.nn.batch import GraphBatch
from moldojo.nn.blocks import GNNEncoder
from moldojo.nn.readout import Readout
from moldojo.nn.registry import LAYERS

__all__ = [
    "EDGE_FEATURES",
    "NODE_FEATURES",
    "GraphArrays",
    "HamdBatch",
    "HamdConfig",
    "HamdNet",
    "HamdOutput",
    "collate",
    "featurize",
    "graph_arrays",
]

#: Degrees above this share the last one-hot slot.
_MAX_DEGREE = 7
#: Width of a node's input features: the degree one-hot and the degree over the mean degree.
NODE_FEATURES = _MAX_DEGREE + 2
#: Width of an edge's input features: a constant and "forced" (an end of degree 2).
EDGE_FEATURES = 2


class HamdConfig(Config):
    """Hyperparameters of :class:`HamdNet`.

    The default layer was chosen by measurement (``benchmarks/hamd.py layers``, BENCHMARKS.md):
    each of ``gated-gcn``, ``gine``, ``gat`` and ``gcn`` trained 6 minutes on one core on the
    same 14,000 graphs of 20 to 50 nodes, then tested on fresh graphs of 50 nodes. All four
    decide ``critical`` graphs (99.8-100%); on ``hard`` ones GINE was the most accurate (94.4%,
    against 93.8% for GAT, 92.8% for the gated GCN, which managed 5 epochs to GINE's 10, and
    91.8% for GCN).

    Args:
        layer: the message-passing layer, a name of :data:`moldojo.nn.LAYERS`.
        hidden_dim: size of node and edge states.
        num_layers: residual blocks; a vertex sees this many hops around it.
        norm: normalisation inside the blocks.
        dropout: dropout inside the blocks.
        edge_weight: weight of the edge loss (the cycle's edges, on Hamiltonian graphs) beside
            the decision loss.
    """

    layer: str = "gine"
    hidden_dim: Size = 64
    num_layers: Size = 8
    norm: Literal["layer", "batch", "none"] = "layer"
    dropout: float = Field(0.0, ge=0, lt=1)
    edge_weight: float = Field(0.5, ge=0)

    @field_validator("layer")
    @classmethod
    def _known_layer(cls, value: str) -> str:
        if value not in LAYERS:
            raise ValueError(f"layer {value!r} is not one of {', '.join(LAYERS)}")
        return value


@dataclass(frozen=True)
class HamdBatch:
    """Graphs ready for :class:`HamdNet`, with their targets when known.

    Attributes:
        graph: the batch: ``x [N, NODE_FEATURES]``, ``edge_index [2, E]`` with the two
            directions of undirected edge ``k`` at columns ``2k`` and ``2k + 1``,
            ``edge_attr [E, EDGE_FEATURES]``.
        edge_graph: ``[E / 2]`` long, the graph of each undirected edge.
        label: ``[B]`` float, 1 when Hamiltonian, or None.
        on_cycle: ``[E / 2]`` float, 1 for an edge of the label's cycle, or None.
    """

    graph: GraphBatch
    edge_graph: Tensor
    label: Tensor | None = None
    on_cycle: Tensor | None = None

    def to(self, device: torch.device | str) -> HamdBatch:
        def move(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.to(device)

        return HamdBatch(
            self.graph.to(device), self.edge_graph.to(device), move(self.label),
            move(self.on_cycle),
        )  # fmt: skip

    @property
    def num_graphs(self) -> int:
        return self.graph.num_graphs


@dataclass(frozen=True)
class GraphArrays:
    """One graph's inputs for :class:`HamdNet`, made once (:func:`graph_arrays`) and joined into
    batches (:func:`collate`).

    Attributes:
        x: ``[n, NODE_FEATURES]`` node features.
        edges: ``[2, M]`` each undirected edge once, ``u < v``, in :meth:`Graph.edges` order.
        attr: ``[M, EDGE_FEATURES]`` edge features.
        on_cycle: ``[M]``, 1 for an edge of the label's cycle (all 0 for a graph without one), or
            None when the graph has no target.
    """

    x: np.ndarray
    edges: np.ndarray
    attr: np.ndarray
    on_cycle: np.ndarray | None = None


def graph_arrays(
    graph: Graph, cycle: Sequence[int] | None = None, *, targets: bool = False
) -> GraphArrays:
    """The inputs of one graph and, with ``targets``, which edges are on ``cycle`` (its
    Hamiltonian cycle in vertex order, or None for a graph without one)."""
    matrix = graph.matrix()
    degree = matrix.sum(1)  # (n,)
    x = np.zeros((graph.n, NODE_FEATURES), dtype=np.float32)
    x[np.arange(graph.n), np.minimum(degree, _MAX_DEGREE)] = 1.0
    x[:, -1] = degree / max(degree.mean(), 1e-9)
    u, v = np.nonzero(np.triu(matrix))  # (M,), (M,): each edge once, u < v, sorted
    forced = (np.minimum(degree[u], degree[v]) == 2).astype(np.float32)
    attr = np.stack([np.ones_like(forced), forced], axis=1)  # (M, 2)
    on = None
    if targets:
        on = np.zeros(u.size, dtype=np.float32)
        if cycle is not None:
            a = np.asarray(cycle)
            b = np.roll(a, -1)
            hits = np.zeros_like(matrix)
            hits[np.minimum(a, b), np.maximum(a, b)] = True
            on = hits[u, v].astype(np.float32)
    return GraphArrays(x, np.stack([u, v]), attr, on)


def collate(items: Sequence[GraphArrays], labels: Sequence[bool] | None = None) -> HamdBatch:
    """One batch of graphs' arrays; ``on_cycle`` when every item has it, ``label`` when
    ``labels`` are given. Each edge becomes two directed ones, at columns ``2k`` and ``2k + 1``."""
    offsets = np.cumsum([0] + [item.x.shape[0] for item in items])
    edges = [  # (2, 2M): u->v and v->u side by side, renumbered into the batch
        np.stack([item.edges, item.edges[::-1]], axis=2).reshape(2, -1) + offset
        for item, offset in zip(items, offsets[:-1], strict=False)
    ]
    batch = GraphBatch.from_arrays(
        {
            "x": (np.concatenate([item.x for item in items]) if items
                  else np.zeros((0, NODE_FEATURES), np.float32)),
            "edge_index": np.concatenate(edges, axis=1) if edges else np.zeros((2, 0), np.int64),
            "edge_attr": (np.concatenate([np.repeat(item.attr, 2, axis=0) for item in items])
                          if items else np.zeros((0, EDGE_FEATURES), np.float32)),
            "ptr": offsets,
        }
    )  # fmt: skip
    edge_graph = [np.full(item.edges.shape[1], i) for i, item in enumerate(items)]
    targets = bool(items) and all(item.on_cycle is not None for item in items)
    return HamdBatch(
        graph=batch,
        edge_graph=torch.from_numpy(np.concatenate(edge_graph) if edge_graph
                                    else np.zeros(0, np.int64)).long(),
        label=None if labels is None else torch.tensor([float(h) for h in labels]),
        on_cycle=(torch.from_numpy(np.concatenate([item.on_cycle for item in items]))
                  if targets else None),
    )  # fmt: skip


def featurize(
    graphs: Sequence[Graph],
    labels: Sequence[bool] | None = None,
    cycles: Sequence[Sequence[int] | None] | None = None,
) -> HamdBatch:
    """One batch of ``graphs``, with targets when ``labels`` (and ``cycles``) are given.

    The undirected edges of each graph come in :meth:`Graph.edges` order (``u < v``, sorted), so
    that edge scores line up with that list.

    Args:
        graphs: the graphs (any sizes; a graph without edges is allowed).
        labels: whether each is Hamiltonian.
        cycles: each graph's Hamiltonian cycle (vertex order) or None.
    """
    targets = cycles is not None
    items = [graph_arrays(g, cycles[i] if targets else None, targets=targets)  # type: ignore[index]
             for i, g in enumerate(graphs)]  # fmt: skip
    return collate(items, labels)


@dataclass(frozen=True)
class HamdOutput:
    """What :class:`HamdNet` returns.

    Attributes:
        logits: ``[B]``, the logit that each graph is Hamiltonian.
        edge_logits: ``[E / 2]``, the logit that each undirected edge is on the cycle.
    """

    logits: Tensor
    edge_logits: Tensor


class HamdNet(nn.Module):
    """The HAMD classifier and edge scorer (equations in the module docstring).

    Args:
        config: the hyperparameters.

    Shapes:
        - input: a :class:`HamdBatch` from :func:`featurize`.
        - returns: :class:`HamdOutput`, ``logits [B]`` and ``edge_logits [E / 2]``.
    """

    def __init__(self, config: HamdConfig) -> None:
        super().__init__()
        self.config = config
        dim = config.hidden_dim
        self.encoder = GNNEncoder(
            config.layer, NODE_FEATURES, dim, config.num_layers, edge_dim=EDGE_FEATURES,
            norm=None if config.norm == "none" else config.norm, dropout=config.dropout,
        )  # fmt: skip
        self.mean = Readout("mean")
        self.max = Readout("max")
        self.head = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, 1))
        edge_in = 3 * dim if self.encoder.updates_edges else 2 * dim
        self.edge_head = nn.Sequential(nn.Linear(edge_in, dim), nn.ReLU(), nn.Linear(dim, 1))

    def forward(self, batch: HamdBatch) -> HamdOutput:
        graph = batch.graph
        h, e = self.encoder(graph)  # (N, D), (E, D) or None
        pooled = torch.cat([
            self.mean(h, graph.batch, graph.num_graphs),
            self.max(h, graph.batch, graph.num_graphs),
        ], dim=1)  # fmt: skip  # (B, 2D)
        logits = self.head(pooled).squeeze(-1)  # (B,)
        u, v = graph.edge_index[0, 0::2], graph.edge_index[1, 0::2]  # (E/2,): one per edge
        hu, hv = h.index_select(0, u), h.index_select(0, v)
        parts = [hu + hv, hu * hv]  # symmetric in u and v
        if e is not None:
            parts.append(e.view(-1, 2, e.shape[-1]).sum(1))  # (E/2, D): both directions
        edge_logits = self.edge_head(torch.cat(parts, dim=1)).squeeze(-1)  # (E/2,)
        return HamdOutput(logits, edge_logits)
