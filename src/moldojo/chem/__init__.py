"""Chemistry with RDKit: SMILES parsing and the exact molecule <-> graph conversion.

This package sits just above the bottom layer: it imports RDKit and NumPy, never torch, and
nothing from the rest of moldojo except :mod:`moldojo.errors` and the process pool of
:mod:`moldojo.parallel`.
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
from moldojo.chem.motifs import MotifNode, MotifTree, assemble, decompose
from moldojo.chem.smiles import (
    SKIP_REASONS,
    canonical_smiles,
    parse_smiles,
    quiet_rdkit,
)
from moldojo.chem.vocab import MotifVocabulary, build_vocabulary, check_motifs

__all__ = [
    "BOND_TYPES",
    "FEATURIZER_VERSION",
    "SKIP_REASONS",
    "GraphConfig",
    "MolGraph",
    "MotifNode",
    "MotifTree",
    "MotifVocabulary",
    "assemble",
    "build_vocabulary",
    "canonical_smiles",
    "check_motifs",
    "decompose",
    "graph_to_mol",
    "graph_to_smiles",
    "mol_to_graph",
    "parse_smiles",
    "quiet_rdkit",
    "roundtrip",
]
