"""Molecular properties of generated molecules: QED, logP, SA, weight and penalised logP.

The per-molecule functions live in :mod:`moldojo.chem.properties` (RDKit only); this module
applies them to lists of SMILES, in parallel, with invalid entries as NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit.Chem import Crippen, Descriptors
from rdkit.Chem.QED import qed

from moldojo.chem.properties import penalized_logp, penalized_logp_normalized, sa_score
from moldojo.evaluation.molecules import get_mol
from moldojo.parallel import pmap

__all__ = ["PROPERTY_NAMES", "molecule_properties", "property_table"]

#: Column names of :func:`property_table`.
PROPERTY_NAMES = ("QED", "logP", "SA", "weight", "penalized_logP", "penalized_logP_normalized")


def molecule_properties(smiles: str) -> tuple[float, ...]:
    """The :data:`PROPERTY_NAMES` values of one SMILES string; all NaN if it is invalid."""
    mol = get_mol(smiles)
    if mol is None:
        return (float("nan"),) * len(PROPERTY_NAMES)
    return (
        float(qed(mol)),
        float(Crippen.MolLogP(mol)),
        sa_score(mol),
        float(Descriptors.MolWt(mol)),
        penalized_logp(mol),
        penalized_logp_normalized(mol),
    )


def property_table(
    smiles: Sequence[str], *, jobs: int = 1, progress: bool | None = None
) -> dict[str, np.ndarray]:
    """Property name -> ``[N]`` float64 values (NaN for invalid SMILES)."""
    rows = pmap(molecule_properties, list(smiles), jobs=jobs, description="properties",
                progress=progress)  # fmt: skip
    table = np.array(rows, dtype=np.float64).reshape(len(rows), len(PROPERTY_NAMES))
    return {name: table[:, i] for i, name in enumerate(PROPERTY_NAMES)}
