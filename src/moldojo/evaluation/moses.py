"""The MOSES metrics (Polykovskiy et al. 2020, Front. Pharmacol. 11:565644) with the reference
definitions of ``molsets`` 0.3.1 ``get_all_metrics``.

Same keys, same numbers; the work is organised differently:

* every generated string is parsed once, in a worker pool, and everything per molecule is
  computed in that pass (:func:`moldojo.evaluation.molecules.describe`);
* repeated molecules are computed once and weighted by their count;
* ChemNet runs once over the generated set, not once per reference set;
* reference statistics and fingerprints are loaded from an on-disk cache;
* nearest-neighbour similarity skips generated fingerprints found verbatim in the reference.

Definitions, in MOSES's words where they are subtle: ``valid`` is the fraction of strings that
parse and sanitise; the rest is computed on the valid ones, in canonical form, parsed again.
``unique@k`` is over the first k valid molecules (all of them, with a note, when there are fewer
than k, as MOSES does). ``Novelty`` is the fraction of distinct canonical molecules not in the
training set, compared as strings. ``IntDiv``/``IntDiv2`` are 1 minus the (power) mean pairwise
Tanimoto similarity over all ordered pairs, self-pairs included. ``Scaf`` counts only scaffolds with
at least two rings. ``logP``/``SA``/``QED``/``weight`` are Wasserstein-1 distances to the
reference (test) distribution.

Imports torch, NumPy, SciPy and RDKit (through the modules it uses); nothing from ``moldojo.nn``.
"""

from __future__ import annotations

import gzip
import logging
import math
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.spatial.distance import cosine as cosine_distance
from scipy.stats import wasserstein_distance

from moldojo.data.sources import moses_data_dir
from moldojo.errors import DatasetError
from moldojo.evaluation.fcd import fcd_stats, frechet_distance
from moldojo.evaluation.molecules import FINGERPRINT_BITS, MolRecord, describe
from moldojo.evaluation.reference import PROPERTIES, ReferenceStats, moses_reference
from moldojo.evaluation.similarity import (
    dense_fingerprints,
    max_similarity,
    power_mean_similarity,
)
from moldojo.parallel import pmap

logger = logging.getLogger(__name__)

__all__ = ["MOSES_KEYS", "MosesResult", "moses_metrics", "moses_train_smiles"]

#: The keys of ``get_all_metrics``, in its order.
MOSES_KEYS = (
    "valid", "unique@1000", "unique@10000",
    "FCD/Test", "SNN/Test", "Frag/Test", "Scaf/Test",
    "FCD/TestSF", "SNN/TestSF", "Frag/TestSF", "Scaf/TestSF",
    "IntDiv", "IntDiv2", "Filters", "logP", "SA", "QED", "weight", "Novelty",
)  # fmt: skip


@dataclass
class MosesResult:
    """The metrics, and what a reader needs to trust them.

    Attributes:
        metrics: ``MOSES_KEYS`` -> value (NaN where a metric is undefined, with a note).
        n_input: strings given.
        n_valid: strings that parse.
        n_distinct: distinct canonical molecules among the valid ones.
        notes: sentences about fallbacks and undefined values, for the user to read.
    """

    metrics: dict[str, float]
    n_input: int
    n_valid: int
    n_distinct: int
    notes: list[str] = field(default_factory=list)


def moses_train_smiles() -> frozenset[str]:
    """The MOSES training split as written in the molsets wheel (the strings MOSES compares
    generated canonical SMILES against for novelty)."""
    path = moses_data_dir() / "train.csv.gz"
    if not path.is_file():
        raise DatasetError(f"{path} is missing from the molsets wheel: reinstall molsets==0.3.1")
    with gzip.open(path, "rt") as handle:
        next(handle)  # header
        return frozenset(line.split(",", 1)[0].strip() for line in handle)


def describe_all(
    smiles: Sequence[str], *, jobs: int = 1, progress: bool | None = None
) -> list[MolRecord]:
    """One :class:`MolRecord` per input string; repeated strings are described once."""
    distinct = list(dict.fromkeys(smiles))
    records = pmap(describe, distinct, jobs=jobs, description="molecules", progress=progress)
    by_text = dict(zip(distinct, records, strict=True))
    return [by_text[s] for s in smiles]


def moses_metrics(
    generated: Sequence[str],
    *,
    test: ReferenceStats | None = None,
    test_scaffolds: ReferenceStats | None = None,
    train: Collection[str] | None = None,
    k: Sequence[int] = (1000, 10000),
    jobs: int = 1,
    device: str | torch.device = "cpu",
    progress: bool | None = None,
    records: Sequence[MolRecord] | None = None,
) -> MosesResult:
    """The MOSES suite for a list of generated SMILES.

    Args:
        generated: SMILES strings, one per sample, invalid ones and repeats included.
        test: reference statistics for the ``/Test`` keys; default MOSES test.
        test_scaffolds: reference for ``/TestSF``; default MOSES scaffold test.
        train: training SMILES for novelty; default MOSES train (as MOSES, compared verbatim).
        k: the ``unique@k`` sizes.
        jobs: worker processes for the RDKit work.
        device: where ChemNet and the similarity products run.
        records: :func:`describe_all` of ``generated``, if already computed.
    """
    notes: list[str] = []
    metrics = {key: math.nan for key in MOSES_KEYS}
    for size in k:
        metrics.setdefault(f"unique@{size}", math.nan)
    if records is None:
        records = describe_all(generated, jobs=jobs, progress=progress)
    n_input = len(generated)
    if n_input == 0:
        notes.append("no molecules given: every metric is undefined")
        return MosesResult(metrics, 0, 0, 0, notes)

    valid = [r for r in records if r.valid]
    metrics["valid"] = len(valid) / n_input
    if not valid:
        notes.append("no valid molecule: every metric but 'valid' is undefined")
        return MosesResult(metrics, n_input, 0, 0, notes)
    usable = [r for r in valid if r.recanonical is not None]
    if len(usable) < len(valid):
        notes.append(
            f"{len(valid) - len(usable)} valid molecules could not be parsed back from their "
            "canonical SMILES and are left out of the metrics after 'valid'"
        )
    for size in k:
        first = valid[:size]
        if len(first) < size:
            notes.append(
                f"unique@{size}: only {len(first)} valid molecules, so computed over all of "
                "them (as MOSES does)"
            )
        metrics[f"unique@{size}"] = len({r.recanonical for r in first}) / len(first)
    if not usable:
        return MosesResult(metrics, n_input, len(valid), 0, notes)

    # Distinct molecules with their multiplicities: each is computed once, counted as often.
    groups: dict[str, list[MolRecord]] = {}
    for record in usable:
        groups.setdefault(record.recanonical, []).append(record)
    unique = [members[0] for members in groups.values()]
    weights = np.array([len(members) for members in groups.values()], dtype=np.int64)
    fingerprints = dense_fingerprints([r.bits for r in unique], FINGERPRINT_BITS)

    test = test if test is not None else moses_reference("test")
    test_scaffolds = (
        test_scaffolds if test_scaffolds is not None else moses_reference("test-scaffolds")
    )
    # fcd_torch canonicalises again what MOSES passes it: that is recanonical.
    gen_fcd = fcd_stats([r.recanonical for r in usable], device=device)
    if gen_fcd is None:
        notes.append("FCD needs at least two valid molecules")
    fragments: Counter = Counter()
    scaffolds: Counter = Counter()
    for record, weight in zip(unique, weights, strict=True):
        for fragment in record.fragments:
            fragments[fragment] += int(weight)
        if record.scaffold is not None:
            scaffolds[record.scaffold] += int(weight)

    for suffix, reference in (("Test", test), ("TestSF", test_scaffolds)):
        metrics[f"FCD/{suffix}"] = frechet_distance(reference.fcd, gen_fcd)
        nearest = max_similarity(reference.fingerprints, fingerprints, device=device)
        metrics[f"SNN/{suffix}"] = float(np.average(nearest, weights=weights))
        metrics[f"Frag/{suffix}"] = _cosine_similarity(reference.fragments, fragments)
        metrics[f"Scaf/{suffix}"] = _cosine_similarity(reference.scaffolds, scaffolds)
    if not scaffolds:
        notes.append("no generated molecule has a scaffold of two or more rings: Scaf is undefined")

    for p, key in ((1, "IntDiv"), (2, "IntDiv2")):
        means = power_mean_similarity(fingerprints, weights, p=p, device=device)
        metrics[key] = float(1 - np.average(means, weights=weights))
    metrics["Filters"] = float(np.average([r.passes_filters for r in unique], weights=weights))
    values = {
        "logP": [r.logp for r in unique],
        "SA": [r.sa for r in unique],
        "QED": [r.qed for r in unique],
        "weight": [r.weight for r in unique],
    }
    for key in PROPERTIES:
        metrics[key] = float(
            wasserstein_distance(test.properties[key], values[key], v_weights=weights)
        )
    train_set = train if train is not None else moses_train_smiles()
    distinct = list(groups)
    metrics["Novelty"] = sum(s not in train_set for s in distinct) / len(distinct)
    return MosesResult(metrics, n_input, len(valid), len(distinct), notes)


def _cosine_similarity(reference: Counter, generated: Counter) -> float:
    """Cosine similarity of two count vectors indexed by string; NaN if either is empty."""
    if not reference or not generated:
        return math.nan
    keys = sorted(set(reference) | set(generated))
    ref = np.array([reference.get(key, 0) for key in keys], dtype=np.float64)
    gen = np.array([generated.get(key, 0) for key in keys], dtype=np.float64)
    return float(1 - cosine_distance(ref, gen))
