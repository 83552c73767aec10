"""Graph layers written from their papers, in pure PyTorch: the dojo.

Primitives (:mod:`~moldojo.nn.scatter`, :class:`~moldojo.nn.batch.GraphBatch`), one convolution
per file in :mod:`moldojo.nn.conv`, residual blocks and readouts. Imports torch only: no RDKit,
nothing from moldojo's chemistry or data layers (PyTorch Geometric only for optional conversion).
"""

from __future__ import annotations

from moldojo.nn.batch import GraphBatch
from moldojo.nn.registry import LAYERS, LayerSpec, build_layer
from moldojo.nn.scatter import scatter_max, scatter_mean, scatter_softmax, scatter_sum

__all__ = [
    "LAYERS",
    "GraphBatch",
    "LayerSpec",
    "build_layer",
    "scatter_max",
    "scatter_mean",
    "scatter_softmax",
    "scatter_sum",
]
