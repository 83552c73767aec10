"""Graph layers written from their papers, in pure PyTorch: the dojo.

The seven convolutions by the names people know (one per file in :mod:`moldojo.nn.conv`):
``from moldojo.nn import GCNConv``, as with PyTorch Geometric. Beside them the primitives
(:mod:`~moldojo.nn.scatter`, :class:`GraphBatch`), the layer registry (:data:`LAYERS`,
:func:`build_layer`), residual blocks, an encoder stack and readouts.

Imports torch only: no RDKit, nothing from moldojo's chemistry or data layers (PyTorch
Geometric only for optional conversion).
"""

from __future__ import annotations

from moldojo.nn.batch import GraphBatch
from moldojo.nn.blocks import EncoderOutput, GNNEncoder, ResidualBlock
from moldojo.nn.conv.gat import GATConv
from moldojo.nn.conv.gated_gcn import GatedGCNConv
from moldojo.nn.conv.gatv2 import GATv2Conv
from moldojo.nn.conv.gcn import GCNConv
from moldojo.nn.conv.gine import GINEConv
from moldojo.nn.conv.mpnn import MPNNConv
from moldojo.nn.conv.transformer import GraphTransformerConv
from moldojo.nn.readout import Readout
from moldojo.nn.registry import LAYERS, LayerSpec, build_layer
from moldojo.nn.scatter import scatter_max, scatter_mean, scatter_softmax, scatter_sum

__all__ = [
    "LAYERS",
    "EncoderOutput",
    "GATConv",
    "GATv2Conv",
    "GCNConv",
    "GINEConv",
    "GNNEncoder",
    "GatedGCNConv",
    "GraphBatch",
    "GraphTransformerConv",
    "LayerSpec",
    "MPNNConv",
    "Readout",
    "ResidualBlock",
    "build_layer",
    "scatter_max",
    "scatter_mean",
    "scatter_softmax",
    "scatter_sum",
]
