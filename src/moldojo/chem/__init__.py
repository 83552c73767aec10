"""Chemistry with RDKit: SMILES parsing and the exact molecule <-> graph conversion.

This package is the bottom of the stack: it imports RDKit and NumPy, never torch, and nothing
from the rest of moldojo except :mod:`moldojo.errors`.
"""

from __future__ import annotations

from moldojo.chem.graph import (
    BOND_TYPES,
    FEATURIZER_VERSION,
    GraphConfig,
    MolGraph,
    graph_to_mol,
    graph_to_smiles,
    mol_to_graph,
    roundtrip,
)
from moldojo.chem.smiles import (
    SKIP_REASONS,
    canonical_smiles,
    parse_smiles,
    quiet_rdkit,
)

__all__ = [
    "BOND_TYPES",
    "FEATURIZER_VERSION",
    "SKIP_REASONS",
    "GraphConfig",
    "MolGraph",
    "canonical_smiles",
    "graph_to_mol",
    "graph_to_smiles",
    "mol_to_graph",
    "parse_smiles",
    "quiet_rdkit",
    "roundtrip",
]
