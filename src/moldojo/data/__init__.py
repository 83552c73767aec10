"""Datasets: named splits and files of SMILES, read, checked and featurised into graphs.

Sits above :mod:`moldojo.chem`; imports no torch.
"""

from __future__ import annotations

from moldojo.data.dataset import (
    CheckReport,
    LoadReport,
    MolDataset,
    Rejection,
    SmilesList,
    cache_dir,
    check_source,
    featurize,
    load_dataset,
    read_smiles,
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
    "SmilesList",
    "SmilesSource",
    "cache_dir",
    "check_source",
    "featurize",
    "load_dataset",
    "read_smiles",
    "resolve",
    "resolve_one",
]
