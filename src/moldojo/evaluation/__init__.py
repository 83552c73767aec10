"""Evaluation of generated molecules: the MOSES and GuacaMol metrics with the reference
definitions, molecular properties, and reconstruction accuracy.

Sits above ``chem`` and ``data``; imports torch (for ChemNet and the similarity products) but
nothing from ``moldojo.nn`` or ``moldojo.models``.
"""

from __future__ import annotations

from moldojo.evaluation.guacamol import (
    GuacamolReference,
    GuacamolResult,
    guacamol_metrics,
    guacamol_reference,
)
from moldojo.evaluation.moses import MOSES_KEYS, MosesResult, moses_metrics, moses_train_smiles
from moldojo.evaluation.reference import ReferenceStats, moses_reference, reference_from_smiles

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
