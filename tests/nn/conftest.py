"""Random graphs for layer tests: isolated nodes, multi-edges and several graphs per batch.

The helpers live in ``graphs.py`` (``from graphs import random_graph, permute_nodes``); the
``graph_factory`` fixture hands out ``random_graph``.
"""

from __future__ import annotations

import pytest
from graphs import permute_nodes, random_graph

__all__ = ["permute_nodes", "random_graph"]


@pytest.fixture
def graph_factory():
    return random_graph
