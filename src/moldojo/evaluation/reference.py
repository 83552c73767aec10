"""Reference sets for the MOSES metrics: their precomputed statistics, cached on disk.

A reference set enters the metrics only through statistics: ChemNet mean and covariance,
fingerprints, BRICS fragment and scaffold counts, and the property values. For MOSES's test and
scaffold-test splits they are read from the molsets wheel (``test_stats.npz``,
``test_scaffolds_stats.npz``), which stores them as pickles; they are converted once into a plain
NumPy archive in the cache directory, so that later runs load them fast and without unpickling.
For a user's own reference file they are computed (as MOSES's ``compute_intermediate_statistics``
does: on the molecules as written, not re-canonicalised) and cached under a hash of the file.
:func:`source_smiles` reads the SMILES of a reference or training set: a record longer than
``GraphConfig.max_smiles_length`` characters is invalid and never given to RDKit.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from moldojo.chem.config import MAX_SMILES_LENGTH
from moldojo.data.dataset import cache_dir
from moldojo.data.sources import SmilesSource, moses_data_dir
from moldojo.errors import DatasetError
from moldojo.evaluation.fcd import FCDStats, fcd_stats
from moldojo.evaluation.molecules import FINGERPRINT_BITS, describe_reference
from moldojo.evaluation.similarity import dense_fingerprints
from moldojo.parallel import pmap

logger = logging.getLogger(__name__)

__all__ = [
    "PROPERTIES",
    "ReferenceStats",
    "first_fields",
    "load_cached",
    "moses_reference",
    "reference_from_smiles",
    "reference_from_source",
    "some_lines",
    "source_smiles",
]

#: The properties whose distributions MOSES compares, in its key names.
PROPERTIES = ("logP", "SA", "QED", "weight")
CACHE_FORMAT = 1


@dataclass(frozen=True)
class ReferenceStats:
    """Everything the MOSES metrics need from a reference set.

    Attributes:
        name: where it came from (``"moses:test"``, a file path).
        fcd: ChemNet statistics, or ``None`` for fewer than two molecules.
        fingerprints: ``[N, 1024]`` uint8 0/1 Morgan fingerprints, one per molecule.
        fragments: BRICS fragment SMILES -> count over the set.
        scaffolds: scaffold SMILES (two or more rings) -> count over the set.
        properties: ``PROPERTIES`` name -> ``[N]`` float64 values.
    """

    name: str
    fcd: FCDStats | None
    fingerprints: np.ndarray
    fragments: Counter
    scaffolds: Counter
    properties: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.fingerprints)


def _save(stats: ReferenceStats, path: Path) -> None:
    arrays: dict[str, np.ndarray] = {
        "format": np.array(CACHE_FORMAT),
        "name": np.array(stats.name),
        "packed": np.packbits(stats.fingerprints, axis=1),
        "fragment_keys": np.array(list(stats.fragments), dtype=str),
        "fragment_counts": np.array(list(stats.fragments.values()), dtype=np.int64),
        "scaffold_keys": np.array(list(stats.scaffolds), dtype=str),
        "scaffold_counts": np.array(list(stats.scaffolds.values()), dtype=np.int64),
    }
    if stats.fcd is not None:
        arrays.update(fcd_mu=stats.fcd.mu, fcd_sigma=stats.fcd.sigma, fcd_count=stats.fcd.count)
    for key, values in stats.properties.items():
        arrays[f"property_{key}"] = values
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        np.savez(handle, **arrays)
    os.replace(temporary, path)


def load_cached(path: Path) -> ReferenceStats | None:
    """Statistics saved by this module, or ``None`` if absent, unreadable or of another format."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["format"]) != CACHE_FORMAT:
                return None
            fcd = None
            if "fcd_mu" in data:
                fcd = FCDStats(data["fcd_mu"], data["fcd_sigma"], int(data["fcd_count"]))
            return ReferenceStats(
                name=str(data["name"]),
                fcd=fcd,
                fingerprints=np.unpackbits(data["packed"], axis=1)[:, :FINGERPRINT_BITS],
                fragments=Counter(dict(zip(data["fragment_keys"].tolist(),
                                           data["fragment_counts"].tolist(), strict=True))),
                scaffolds=Counter(dict(zip(data["scaffold_keys"].tolist(),
                                           data["scaffold_counts"].tolist(), strict=True))),
                properties={k: data[f"property_{k}"] for k in PROPERTIES},
            )  # fmt: skip
    except (OSError, KeyError, ValueError) as error:
        if path.exists():
            logger.warning("ignoring unreadable cache %s (%s)", path, error)
        return None


def _cache_file(kind: str, digest: str) -> Path:
    return cache_dir() / "evaluation" / f"{kind}-{digest[:16]}.npz"


def moses_reference(split: str) -> ReferenceStats:
    """MOSES's precomputed statistics of ``"test"`` or ``"test-scaffolds"``, cached on disk."""
    if split not in ("test", "test-scaffolds"):
        raise DatasetError(
            f"MOSES has reference statistics for test and test-scaffolds, not {split}"
        )
    source = moses_data_dir() / f"{split.replace('-', '_')}_stats.npz"
    if not source.is_file():
        raise DatasetError(f"{source} is missing from the molsets wheel: reinstall molsets==0.3.1")
    status = source.stat()
    digest = f"{status.st_size:x}{status.st_mtime_ns:x}"
    cached = _cache_file(f"moses-{split}", digest)
    stats = load_cached(cached)
    if stats is not None:
        return stats
    logger.info("converting %s (once; cached in %s)", source, cached)
    # The archive is a pickle inside the installed molsets wheel, as trusted as its code.
    raw = np.load(source, allow_pickle=True)["stats"].item()
    stats = ReferenceStats(
        name=f"moses:{split}",
        fcd=FCDStats(
            mu=np.asarray(raw["FCD"]["mu"]),
            sigma=np.asarray(raw["FCD"]["sigma"]),
            count=len(raw["logP"]["values"]),
        ),
        fingerprints=np.asarray(raw["SNN"]["fps"], dtype=np.uint8),
        fragments=Counter(raw["Frag"]["frag"]),
        scaffolds=Counter(raw["Scaf"]["scaf"]),
        properties={k: np.asarray(raw[k]["values"], dtype=np.float64) for k in PROPERTIES},
    )
    _save(stats, cached)
    return stats


def first_fields(lines: Iterable[tuple[int, str]], max_length: int = MAX_SMILES_LENGTH
                 ) -> tuple[list[str], list[int]]:  # fmt: skip
    """The first whitespace-separated field of each ``(line number, text)``, in order, ``""``
    for an empty text and for a field longer than ``max_length`` characters (never given to
    RDKit, which took minutes over a 10 MB line); and the numbers of the lines cut so."""
    smiles: list[str] = []
    too_long: list[int] = []
    for line, text in lines:
        fields = text.split(maxsplit=1)
        first = fields[0] if fields else ""
        if len(first) > max_length:
            too_long.append(line)
            first = ""
        smiles.append(first)
    return smiles, too_long


def some_lines(numbers: Sequence[int]) -> str:
    """``2, 5, 9, 11, 14, ...``: the first five line numbers, for a warning."""
    return ", ".join(map(str, numbers[:5])) + (", ..." if len(numbers) > 5 else "")


def source_smiles(source: SmilesSource, max_length: int = MAX_SMILES_LENGTH) -> list[str]:
    """The first field of every record of ``source``, in order (:func:`first_fields`); records
    longer than ``max_length`` characters are counted in a warning."""
    smiles, too_long = first_fields(source.records(), max_length)
    if too_long:
        records = "1 record" if len(too_long) == 1 else f"{len(too_long):,} records"
        logger.warning(
            "%s: %s longer than %s characters left out as invalid (line %s)",
            source.name, records, f"{max_length:,}", some_lines(too_long),
        )  # fmt: skip
    return smiles


def reference_from_smiles(
    name: str,
    smiles: Sequence[str],
    *,
    jobs: int = 1,
    device: str | torch.device = "cpu",
    progress: bool | None = None,
) -> ReferenceStats:
    """Statistics of a reference list of SMILES; invalid entries are left out with a warning."""
    records = pmap(
        describe_reference, list(smiles), jobs=jobs, description="reference", progress=progress
    )
    valid = [r for r in records if r.valid and r.bits is not None]
    if len(valid) < len(records):
        logger.warning(
            "%s: %d of %d reference SMILES are invalid and left out",
            name, len(records) - len(valid), len(records),
        )  # fmt: skip
    if not valid:
        raise DatasetError(f"the reference set {name} has no valid molecule")
    fragments: Counter = Counter()
    for record in valid:
        fragments.update(record.fragments)
    return ReferenceStats(
        name=name,
        fcd=fcd_stats([r.canonical for r in valid], device=device),
        fingerprints=dense_fingerprints([r.bits for r in valid], FINGERPRINT_BITS),
        fragments=fragments,
        scaffolds=Counter(r.scaffold for r in valid if r.scaffold is not None),
        properties={
            "logP": np.array([r.logp for r in valid]),
            "SA": np.array([r.sa for r in valid]),
            "QED": np.array([r.qed for r in valid]),
            "weight": np.array([r.weight for r in valid]),
        },
    )


def reference_from_source(
    source: SmilesSource,
    *,
    jobs: int = 1,
    device: str | torch.device = "cpu",
    progress: bool | None = None,
) -> ReferenceStats:
    """Statistics of a dataset split or file, computed once and cached under its content hash."""
    cached = _cache_file("reference", source.fingerprint())
    stats = load_cached(cached)
    if stats is not None:
        return stats
    smiles = source_smiles(source)  # empty and overlong records are invalid
    stats = reference_from_smiles(source.name, smiles, jobs=jobs, device=device, progress=progress)
    _save(stats, cached)
    return stats
