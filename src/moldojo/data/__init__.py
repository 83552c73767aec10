"""Datasets: named splits and files of SMILES, read, checked and featurised into graphs.

Sits above :mod:`moldojo.chem`; imports no torch.
"""

from __future__ import annotations

from moldojo.data.dataset import (
    CheckReport,
    LoadReport,
    MolDataset,
    Rejection,
    cache_dir,
    check_source,
    featurize,
    load_dataset,
)
from moldojo.data.packed import PackedGraphs
from moldojo.data.sources import DATASETS, DatasetInfo, SmilesSource, resolve, resolve_one

__all__ = [
    "DATASETS",
    "CheckReport",
    "DatasetInfo",
    "LoadReport",
    "MolDataset",
    "PackedGraphs",
    "Rejection",
    "SmilesSource",
    "cache_dir",
    "check_source",
    "featurize",
    "load_dataset",
    "resolve",
    "resolve_one",
]
