"""Molecular properties computed with RDKit: the targets of property prediction and search.

Imports RDKit only.
"""

from __future__ import annotations

from rdkit import Chem
from rdkit.Chem import Crippen

__all__ = [
    "largest_basis_cycle",
    "largest_ring_size",
    "penalized_logp",
    "penalized_logp_normalized",
    "sa_score",
]


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


# ZINC-250k statistics used by JT-VAE (Jin et al. 2018) to normalise each term of penalised logP;
# its published optimisation results (5.30 / 4.93 / 4.49) are on this scale.
_ZINC_LOGP = (2.4570953396190123, 1.434324401111988)
_ZINC_NEG_SA = (-3.0525811293166134, 0.8335207024513095)
_ZINC_NEG_CYCLE = (-0.0485696876403053, 0.2860212110245455)


def largest_basis_cycle(mol: Chem.Mol) -> int:
    """Atoms in the largest cycle of networkx's cycle basis of the molecular graph; 0 if acyclic.

    This is JT-VAE's ring term. It equals :func:`largest_ring_size` except in some bridged
    polycycles, where a cycle basis can hold a cycle longer than every smallest ring.
    """
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(mol.GetNumAtoms()))
    graph.add_edges_from((b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds())
    return max((len(cycle) for cycle in nx.cycle_basis(graph)), default=0)


def penalized_logp_normalized(mol: Chem.Mol) -> float:
    """Penalised logP as JT-VAE computes it: each of logP, -SA and -max(0, largest cycle - 6)
    standardised with ZINC-250k's mean and standard deviation, then summed. The cycle comes from
    a networkx cycle basis, as in JT-VAE's code (:func:`largest_basis_cycle`)."""
    logp = float(Crippen.MolLogP(mol))
    cycle = max(0, largest_basis_cycle(mol) - 6)
    return (
        (logp - _ZINC_LOGP[0]) / _ZINC_LOGP[1]
        + (-sa_score(mol) - _ZINC_NEG_SA[0]) / _ZINC_NEG_SA[1]
        + (-cycle - _ZINC_NEG_CYCLE[0]) / _ZINC_NEG_CYCLE[1]
    )
