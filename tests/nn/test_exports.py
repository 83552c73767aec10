"""The seven layers are reachable by their names from ``moldojo.nn``, as with PyG."""

from __future__ import annotations

import pytest

import moldojo.nn
from moldojo.nn import LAYERS


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_layer_is_exported_by_its_class_name(name: str) -> None:
    spec = LAYERS[name]
    assert getattr(moldojo.nn, spec.cls) is spec.load()
    assert spec.cls in moldojo.nn.__all__


def test_gcn_imports_like_pyg() -> None:
    from moldojo.nn import GCNConv

    assert GCNConv(4, 8).extra_repr()
