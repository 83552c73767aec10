"""Random graphs for layer tests (import as ``from graphs import random_graph, permute_nodes``)."""

from __future__ import annotations

import torch

from moldojo.nn.batch import GraphBatch


def random_graph(
    num_nodes: int,
    num_edges: int,
    in_dim: int,
    edge_dim: int | None = None,
    *,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    isolated: int = 1,
) -> GraphBatch:
    """One random directed graph; the last ``isolated`` nodes have no edges, and with enough
    edges some pairs repeat (multi-edges)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(num_nodes, in_dim, generator=g, dtype=dtype)
    connected = max(num_nodes - isolated, 1)
    edge_index = torch.randint(0, connected, (2, num_edges), generator=g)
    if num_edges >= 2:
        edge_index[:, -1] = edge_index[:, 0]  # a guaranteed multi-edge
    edge_attr = None
    if edge_dim is not None:
        edge_attr = torch.randn(num_edges, edge_dim, generator=g, dtype=dtype)
    return GraphBatch.from_graph(x, edge_index, edge_attr)


def permute_nodes(graph: GraphBatch, perm: torch.Tensor) -> GraphBatch:
    """The same graph with old node ``perm[k]`` moved to position ``k`` (one graph only)."""
    new_index = torch.empty_like(perm)
    new_index[perm] = torch.arange(perm.numel())
    return graph.replace(x=graph.x[perm], edge_index=new_index[graph.edge_index])
