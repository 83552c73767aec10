"""A graph-level property regressor: the model of the dojo benchmark.

    h = GNNEncoder(layer)(G)                 # [N, hidden]: embedding + residual blocks
    r = Readout(readout)(h, batch)           # [B, hidden]
    y = MLP(r)                               # [B]: hidden -> hidden -> hidden/2 -> 1

As in the ZINC experiments of Dwivedi et al. (2020, "Benchmarking Graph Neural Networks").
Imports torch and :mod:`moldojo.nn` only.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from moldojo.nn.batch import GraphBatch
from moldojo.nn.blocks import GNNEncoder
from moldojo.nn.readout import Readout

__all__ = ["GraphRegressor"]


class GraphRegressor(nn.Module):
    """Predicts one number per graph.

    Args:
        layer: a name from :data:`moldojo.nn.LAYERS`.
        in_dim: node feature width.
        edge_dim: edge feature width (ignored by layers that do not read edges).
        hidden_dim: width of every block.
        num_layers: residual blocks.
        readout: how node states are pooled.
        norm: normalisation inside the blocks.
        dropout: dropout inside the blocks.

    Shapes:
        input: a :class:`GraphBatch` with ``x [N, in_dim]``, ``edge_attr [E, edge_dim]``.
        output: ``[B]``.
    """

    def __init__(
        self,
        layer: str,
        in_dim: int,
        edge_dim: int | None,
        *,
        hidden_dim: int = 128,
        num_layers: int = 4,
        readout: Literal["sum", "mean", "max", "attention"] = "sum",
        norm: Literal["batch", "layer"] | None = "batch",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.encoder = GNNEncoder(
            layer, in_dim, hidden_dim, num_layers, edge_dim=edge_dim, norm=norm, dropout=dropout
        )
        self.readout = Readout(readout, dim=hidden_dim)
        self.head = nn.Sequential(
            nn.Linear(hidden_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim // 2),
            nn.ReLU(),
            nn.Linear(hidden_dim // 2, 1),
        )

    def forward(self, batch: GraphBatch) -> Tensor:
        h = self.encoder(batch).x  # (N, hidden)
        r = self.readout(h, batch.batch, batch.num_graphs)  # (B, hidden)
        return self.head(r).squeeze(-1)  # (B,)
