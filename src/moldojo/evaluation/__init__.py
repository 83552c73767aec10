"""Evaluation of generated molecules: the MOSES and GuacaMol metrics with the reference
definitions, molecular properties, and reconstruction accuracy.

Sits above ``chem`` and ``data``; imports torch (for ChemNet and the similarity products) but
nothing from ``moldojo.nn`` or ``moldojo.models``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moldojo.evaluation.guacamol import (
        GuacamolReference,
        GuacamolResult,
        guacamol_metrics,
        guacamol_reference,
    )
    from moldojo.evaluation.moses import (
        MOSES_KEYS,
        MosesResult,
        moses_metrics,
        moses_train_smiles,
    )
    from moldojo.evaluation.reference import (
        ReferenceStats,
        moses_reference,
        reference_from_smiles,
    )

# Imported on first use (PEP 562): ``moldojo.evaluation.plots`` alone, which the web explorer
# and ``sample --grid`` need, should not pay for SciPy's statistics (a second at start-up).
_WHERE = {
    "GuacamolReference": "guacamol", "GuacamolResult": "guacamol",
    "guacamol_metrics": "guacamol", "guacamol_reference": "guacamol",
    "MOSES_KEYS": "moses", "MosesResult": "moses", "moses_metrics": "moses",
    "moses_train_smiles": "moses",
    "ReferenceStats": "reference", "moses_reference": "reference",
    "reference_from_smiles": "reference",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'moldojo.evaluation' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"moldojo.evaluation.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "MOSES_KEYS",
    "GuacamolReference",
    "GuacamolResult",
    "MosesResult",
    "ReferenceStats",
    "guacamol_metrics",
    "guacamol_reference",
    "moses_metrics",
    "moses_reference",
    "moses_train_smiles",
    "reference_from_smiles",
]
