"""Scaffolds: the substructure every molecule of a constrained search or sample must contain.

A scaffold is any connected molecule given as SMILES; a molecule *keeps* it when the scaffold is
a substructure of it (RDKit substructure match: elements, charges, bond types and aromaticity;
hydrogen counts and stereo are not compared, so that substituents may replace any hydrogen).
Imports RDKit and :mod:`moldojo.chem` only.
"""

from __future__ import annotations

from collections.abc import Sequence

from rdkit import Chem

from moldojo.chem.config import GraphConfig
from moldojo.chem.smiles import parse_smiles, quiet_rdkit

__all__ = ["keeps_scaffold", "parse_scaffold"]


def parse_scaffold(smiles: str, config: GraphConfig | None = None) -> Chem.Mol:
    """The scaffold as a molecule, canonical atom order.

    Raises:
        InvalidSmilesError: the SMILES cannot be parsed, has several fragments, or is outside
            ``config`` (as :func:`~moldojo.chem.parse_smiles`).
    """
    mol = parse_smiles(smiles, config)
    return Chem.MolFromSmiles(Chem.MolToSmiles(mol))


def keeps_scaffold(smiles: Sequence[str | None], scaffold: Chem.Mol) -> list[bool]:
    """Per molecule, whether ``scaffold`` is a substructure of it (False for None or an
    unparsable SMILES)."""
    out = []
    with quiet_rdkit():
        for s in smiles:
            mol = Chem.MolFromSmiles(s) if s else None
            out.append(mol is not None and mol.HasSubstructMatch(scaffold))
    return out
