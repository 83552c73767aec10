"""Molecular properties computed with RDKit: the targets of property prediction and search.

Imports RDKit only.
"""

from __future__ import annotations

from rdkit import Chem
from rdkit.Chem import Crippen

__all__ = ["largest_ring_size", "penalized_logp", "sa_score"]


def sa_score(mol: Chem.Mol) -> float:
    """Synthetic accessibility score (Ertl & Schuffenhauer 2009), 1 (easy) to 10 (hard), with
    RDKit's reference implementation ``rdkit.Contrib.SA_Score``."""
    from rdkit.Contrib.SA_Score import sascorer  # loads its fragment table on first use

    return float(sascorer.calculateScore(mol))


def largest_ring_size(mol: Chem.Mol) -> int:
    """Atoms in the largest ring of the smallest set of smallest rings; 0 if acyclic."""
    return max((len(ring) for ring in mol.GetRingInfo().AtomRings()), default=0)


def penalized_logp(mol: Chem.Mol) -> float:
    """Penalised logP, unnormalised: Crippen logP - SA score - max(0, largest ring - 6)
    (Kusner et al. 2017; Jin et al. 2018 normalise each term, which is not done here)."""
    ring_penalty = max(0, largest_ring_size(mol) - 6)
    return float(Crippen.MolLogP(mol)) - sa_score(mol) - ring_penalty
