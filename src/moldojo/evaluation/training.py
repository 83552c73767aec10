"""Training sets for novelty: the canonical SMILES set, computed once and cached on disk.

MOSES compares generated canonical SMILES with its training split *as written in the wheel*
(those strings are already RDKit-canonical); :func:`training_set` keeps exactly that for MOSES.
Any other training set (a dataset split or a file) is canonicalised with the installed RDKit,
once, and the set is cached under a hash of the file's content, so novelty compares like with
like. The SMILES are read by :func:`~moldojo.evaluation.reference.source_smiles`, as a
reference set's are: a record over the length limit is invalid and never given to RDKit.
"""

from __future__ import annotations

import gzip
import logging
import os

from rdkit import Chem

from moldojo.chem.smiles import quiet_rdkit
from moldojo.data.dataset import cache_dir
from moldojo.data.sources import SmilesSource, resolve_one
from moldojo.evaluation.molecules import get_mol
from moldojo.evaluation.reference import source_smiles
from moldojo.parallel import pmap

logger = logging.getLogger(__name__)

__all__ = ["canonical_or_none", "training_set", "training_smiles"]

_MOSES_NAMES = ("moses", "moses:train")


def canonical_or_none(smiles: str, isomeric: bool = True) -> str | None:
    """RDKit canonical SMILES of a string (MOSES's parse), or ``None`` if it is invalid."""
    with quiet_rdkit():
        mol = get_mol(smiles)
        return None if mol is None else Chem.MolToSmiles(mol, isomericSmiles=isomeric)


def _canonical_stereo_blind(smiles: str) -> str | None:
    return canonical_or_none(smiles, isomeric=False)


def training_smiles(spec: str) -> list[str]:
    """The SMILES of a training set, in file order (first field of each record; empty and
    overlong records left out)."""
    source = resolve_one("moses:train" if spec == "moses" else spec)
    return [s for s in source_smiles(source) if s]


def training_set(
    spec: str | None = None,
    *,
    isomeric: bool = True,
    jobs: int = 1,
    progress: bool | None = None,
) -> frozenset[str]:
    """Canonical SMILES of a training set (default: MOSES train, verbatim, as MOSES does).

    Args:
        spec: ``None``/``"moses"``/``"moses:train"``, another dataset split, or a file.
        isomeric: keep stereo in the canonical form (MOSES: yes; GuacaMol's novelty: no).
    """
    from moldojo.evaluation.moses import moses_train_smiles

    if (spec is None or spec in _MOSES_NAMES) and isomeric:
        return moses_train_smiles()
    source = resolve_one("moses:train" if spec in (None, "moses") else spec)
    return _cached_canonical_set(source, isomeric=isomeric, jobs=jobs, progress=progress)


def _cached_canonical_set(
    source: SmilesSource, *, isomeric: bool, jobs: int, progress: bool | None
) -> frozenset[str]:
    kind = "isomeric" if isomeric else "stereo-blind"
    path = cache_dir() / "evaluation" / f"train-{kind}-{source.fingerprint()[:16]}.txt.gz"
    if path.is_file():
        with gzip.open(path, "rt") as handle:
            return frozenset(line.rstrip("\n") for line in handle)
    smiles = [s for s in source_smiles(source) if s]
    logger.info("canonicalising %d molecules of %s (once; cached)", len(smiles), source.name)
    func = canonical_or_none if isomeric else _canonical_stereo_blind
    canonical = pmap(func, smiles, jobs=jobs, chunk_size=2048, description="training set",
                     progress=progress)  # fmt: skip
    result = frozenset(s for s in canonical if s is not None)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with gzip.open(temporary, "wt", compresslevel=1) as handle:
        handle.writelines(f"{s}\n" for s in sorted(result))
    os.replace(temporary, path)
    return result
