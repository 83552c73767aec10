"""Per-molecule property targets of a dataset, computed once and cached like the graphs.

Imports RDKit through :mod:`moldojo.chem`; no torch.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable

import numpy as np
from rdkit import Chem

from moldojo.chem.properties import penalized_logp
from moldojo.data.dataset import MolDataset, cache_dir
from moldojo.parallel import imap_chunks

__all__ = ["PROPERTIES", "property_targets"]

log = logging.getLogger(__name__)

#: Property name -> function of an RDKit molecule.
PROPERTIES: dict[str, Callable[[Chem.Mol], float]] = {"penalized_logp": penalized_logp}
_VERSION = 1


def property_targets(
    dataset: MolDataset, name: str = "penalized_logp", jobs: int = 1
) -> np.ndarray:
    """``[M]`` float64: property ``name`` of every molecule of ``dataset``, cached on disk under
    the hash of the dataset's SMILES."""
    if name not in PROPERTIES:
        raise KeyError(f"unknown property {name!r}; known: {', '.join(PROPERTIES)}")
    digest = hashlib.sha256("\n".join(dataset.smiles).encode()).hexdigest()[:24]
    path = cache_dir() / "targets" / f"{name}-v{_VERSION}-{digest}.npy"
    if path.is_file():
        values = np.load(path, allow_pickle=False)
        if values.shape == (len(dataset),):
            return values
    parts = list(imap_chunks(_COMPUTE[name], dataset.smiles, jobs=jobs, chunk_size=2000))
    values = np.concatenate(parts) if parts else np.zeros(0)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as f:
            np.save(f, values)
        os.replace(f.name, path)
    except OSError as error:
        log.warning("could not cache %s targets at %s: %s", name, path, error)
    return values


def _penalized_logp_chunk(smiles: list[str]) -> np.ndarray:
    return np.array([penalized_logp(Chem.MolFromSmiles(s)) for s in smiles], dtype=np.float64)


_COMPUTE = {"penalized_logp": _penalized_logp_chunk}
