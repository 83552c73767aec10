"""The layers of the dojo by name: what ``moldojo dojo list`` shows and the benchmark builds.

Every convolution follows one interface::

    conv = Conv(in_dim, out_dim, edge_dim=...)        # edge_dim only if ``uses_edges``
    x = conv(x, edge_index, edge_attr)               # [N, in_dim] -> [N, out_dim]
    x, edge_attr = conv(x, edge_index, edge_attr)    # layers with ``updates_edges``

Layer modules are imported on first use, so listing the dojo stays cheap.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from torch import nn

__all__ = ["LAYERS", "LayerSpec", "build_layer"]


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the dojo.

    Attributes:
        module: where the class lives.
        cls: the class name.
        description: one line for ``moldojo dojo list``.
        uses_edges: whether it reads edge features (``edge_dim`` is passed).
        updates_edges: whether ``forward`` returns ``(x, edge_attr)``.
        pyg: the PyTorch Geometric counterpart it is checked against.
    """

    module: str
    cls: str
    description: str
    uses_edges: bool
    updates_edges: bool
    pyg: str

    def load(self) -> type[nn.Module]:
        return getattr(importlib.import_module(self.module), self.cls)


LAYERS: dict[str, LayerSpec] = {
    "gcn": LayerSpec(
        "moldojo.nn.conv.gcn", "GCNConv",
        "graph convolution, symmetric normalisation with self-loops (Kipf & Welling 2017)",
        uses_edges=False, updates_edges=False, pyg="GCNConv",
    ),
    "gine": LayerSpec(
        "moldojo.nn.conv.gine", "GINEConv",
        "graph isomorphism network with edge features (Xu et al. 2019; Hu et al. 2020)",
        uses_edges=True, updates_edges=False, pyg="GINEConv",
    ),
    "mpnn": LayerSpec(
        "moldojo.nn.conv.mpnn", "MPNNConv",
        "message passing with an edge network and a GRU update (Gilmer et al. 2017)",
        uses_edges=True, updates_edges=False, pyg="NNConv",
    ),
    "gat": LayerSpec(
        "moldojo.nn.conv.gat", "GATConv",
        "multi-head graph attention (Velickovic et al. 2018)",
        uses_edges=True, updates_edges=False, pyg="GATConv",
    ),
    "gatv2": LayerSpec(
        "moldojo.nn.conv.gatv2", "GATv2Conv",
        "graph attention with dynamic attention scores (Brody et al. 2022)",
        uses_edges=True, updates_edges=False, pyg="GATv2Conv",
    ),
    "gated-gcn": LayerSpec(
        "moldojo.nn.conv.gated_gcn", "GatedGCNConv",
        "residual gated graph ConvNet updating nodes and edges (Bresson & Laurent 2017)",
        uses_edges=True, updates_edges=True, pyg="ResGatedGraphConv",
    ),
    "transformer": LayerSpec(
        "moldojo.nn.conv.transformer", "GraphTransformerConv",
        "graph transformer attention with edge features (Dwivedi & Bresson 2020)",
        uses_edges=True, updates_edges=False, pyg="TransformerConv",
    ),
}  # fmt: skip


def build_layer(name: str, in_dim: int, out_dim: int, edge_dim: int | None = None) -> nn.Module:
    """A layer of the dojo with its default options.

    Raises:
        KeyError: unknown name (the message lists the known ones).
    """
    if name not in LAYERS:
        raise KeyError(f"unknown layer {name!r}; layers: {', '.join(LAYERS)}")
    spec = LAYERS[name]
    cls = spec.load()
    if spec.uses_edges:
        return cls(in_dim, out_dim, edge_dim=edge_dim)
    return cls(in_dim, out_dim)
