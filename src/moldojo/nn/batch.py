"""``GraphBatch``: several graphs as one disconnected graph, the input of every layer.

Pure torch (PyTorch Geometric only inside the optional conversion methods); imports nothing
from moldojo's chemistry or data layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["GraphBatch"]


@dataclass(frozen=True)
class GraphBatch:
    """``B`` graphs with ``N`` nodes and ``E`` directed edges in total.

    An undirected bond is two directed edges. Nodes of graph ``b`` are
    ``ptr[b]:ptr[b + 1]``; edges use global node numbers.

    Attributes:
        x: ``[N, F]`` node features.
        edge_index: ``[2, E]`` long, row 0 the source, row 1 the target of each edge.
        edge_attr: ``[E, F_e]`` edge features, or None.
        batch: ``[N]`` long, the graph of each node.
        ptr: ``[B + 1]`` long, node offsets of the graphs.
        y: ``[B, *]`` graph-level targets, or None.
    """

    x: Tensor
    edge_index: Tensor
    batch: Tensor
    ptr: Tensor
    edge_attr: Tensor | None = None
    y: Tensor | None = None

    @property
    def num_graphs(self) -> int:
        return int(self.ptr.numel() - 1)

    @property
    def num_nodes(self) -> int:
        return int(self.x.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edge_index.shape[1])

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> GraphBatch:
        """Move to ``device``; ``dtype`` (if given) applies to the float tensors."""

        def move(t: Tensor | None) -> Tensor | None:
            if t is None:
                return None
            if dtype is not None and t.is_floating_point():
                return t.to(device=device, dtype=dtype)
            return t.to(device)

        return GraphBatch(
            x=move(self.x),
            edge_index=move(self.edge_index),
            batch=move(self.batch),
            ptr=move(self.ptr),
            edge_attr=move(self.edge_attr),
            y=move(self.y),
        )

    @classmethod
    def from_graph(
        cls,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
        y: Tensor | None = None,
    ) -> GraphBatch:
        """A batch of one graph.

        Args:
            x: ``[N, F]``; edge_index: ``[2, E]``; edge_attr: ``[E, F_e]`` or None;
            y: ``[*]`` target of the graph, or None (stored as ``[1, *]``).
        """
        n = x.shape[0]
        return cls(
            x=x,
            edge_index=edge_index.long(),
            batch=torch.zeros(n, dtype=torch.long, device=x.device),
            ptr=torch.tensor([0, n], dtype=torch.long, device=x.device),
            edge_attr=edge_attr,
            y=None if y is None else y.unsqueeze(0),
        )

    @classmethod
    def collate(cls, graphs: Sequence[GraphBatch]) -> GraphBatch:
        """Join graphs (or batches) into one batch, renumbering nodes."""
        if not graphs:
            raise ValueError("cannot collate an empty list of graphs")
        node_offsets = torch.tensor([0] + [g.num_nodes for g in graphs]).cumsum(0)
        edge_index = torch.cat(
            [g.edge_index + int(off) for g, off in zip(graphs, node_offsets[:-1], strict=True)],
            dim=1,
        )
        graph_offsets = torch.tensor([0] + [g.num_graphs for g in graphs]).cumsum(0)
        batch = torch.cat(
            [g.batch + int(off) for g, off in zip(graphs, graph_offsets[:-1], strict=True)]
        )
        ptr = torch.cat(
            [graphs[0].ptr[:1]]
            + [g.ptr[1:] + int(off) for g, off in zip(graphs, node_offsets[:-1], strict=True)]
        )
        has_edge_attr = [g.edge_attr is not None for g in graphs]
        if any(has_edge_attr) and not all(has_edge_attr):
            raise ValueError("some graphs have edge_attr and some do not")
        has_y = [g.y is not None for g in graphs]
        if any(has_y) and not all(has_y):
            raise ValueError("some graphs have y and some do not")
        return cls(
            x=torch.cat([g.x for g in graphs]),
            edge_index=edge_index,
            batch=batch,
            ptr=ptr,
            edge_attr=torch.cat([g.edge_attr for g in graphs]) if all(has_edge_attr) else None,
            y=torch.cat([g.y for g in graphs]) if all(has_y) else None,
        )

    @classmethod
    def from_arrays(
        cls, arrays: dict[str, np.ndarray], device: torch.device | str = "cpu"
    ) -> GraphBatch:
        """From NumPy arrays named like the attributes (``x``, ``edge_index``, ``ptr``, and
        optionally ``edge_attr``, ``y``), as :func:`moldojo.data.features.featurize_batch` makes;
        ``batch`` is derived from ``ptr``. Float arrays become float32."""

        def tensor(a: np.ndarray) -> Tensor:
            t = torch.from_numpy(np.ascontiguousarray(a))
            return t.float() if t.is_floating_point() else t.long()

        ptr = tensor(arrays["ptr"])
        batch = torch.repeat_interleave(torch.arange(ptr.numel() - 1), ptr.diff())
        return cls(
            x=tensor(arrays["x"]),
            edge_index=tensor(arrays["edge_index"]),
            batch=batch,
            ptr=ptr,
            edge_attr=tensor(arrays["edge_attr"]) if arrays.get("edge_attr") is not None else None,
            y=tensor(arrays["y"]) if arrays.get("y") is not None else None,
        ).to(device)

    def to_pyg(self) -> Any:
        """A ``torch_geometric.data.Batch`` with the same tensors (needs PyTorch Geometric).

        It shares the tensors and feeds PyG layers and :meth:`from_pyg`; it was not built by
        ``Batch.from_data_list``, so PyG's ``to_data_list()`` cannot split it.
        """
        from torch_geometric.data import Batch, Data

        data = Data(x=self.x, edge_index=self.edge_index, edge_attr=self.edge_attr, y=self.y)
        data.batch = self.batch
        data.ptr = self.ptr
        return _as_pyg_batch(data, Batch)

    @classmethod
    def from_pyg(cls, data: Any) -> GraphBatch:
        """From a ``torch_geometric.data.Data`` (one graph) or ``Batch``."""
        batch = getattr(data, "batch", None)
        if batch is None:  # one graph; its y is kept as PyG has it (graph-level y is [1, *])
            n = data.x.shape[0]
            batch = torch.zeros(n, dtype=torch.long, device=data.x.device)
        ptr = getattr(data, "ptr", None)
        if ptr is None:
            counts = torch.bincount(batch, minlength=int(batch.max()) + 1 if batch.numel() else 0)
            ptr = torch.cat([batch.new_zeros(1), counts.cumsum(0)])
        return cls(
            x=data.x,
            edge_index=data.edge_index,
            batch=batch,
            ptr=ptr,
            edge_attr=data.edge_attr,
            y=data.y,
        )

    def replace(self, **changes: Tensor | None) -> GraphBatch:
        """A copy with some tensors replaced (e.g. new node states ``x``)."""
        return replace(self, **changes)


def _as_pyg_batch(data: Any, batch_cls: Any) -> Any:
    """Wrap a Data that already holds ``batch`` and ``ptr`` as a PyG Batch without copying."""
    out = batch_cls(**{k: v for k, v in data.items()})
    out._num_graphs = int(data.ptr.numel() - 1)
    return out
