"""Training the hierarchical motif VAE: its batches, for :func:`~moldojo.training.loop.fit`.

A vocabulary built from the training molecules is cached beside the featurised datasets
(:func:`moldojo.data.dataset.cache_dir`), keyed by the molecules, ``min_count``, the graph
configuration and :data:`~moldojo.chem.vocab.DECOMPOSITION_VERSION`: the second run on the same
data reads it instead of decomposing every molecule again (24 s for moses-mini on this machine's
2 cores; minutes for MOSES).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moldojo import distributed
from moldojo._version import __version__
from moldojo.chem.graph import GraphConfig
from moldojo.chem.vocab import DECOMPOSITION_VERSION, MotifVocabulary, build_vocabulary
from moldojo.data.dataset import cache_dir
from moldojo.errors import DatasetError, VocabularyError
from moldojo.models.hier.config import HierConfig
from moldojo.models.hier.generator import (
    HierGenerator,
    build_hier,
    make_records,
    record_of,
    to_batch,
)
from moldojo.models.hier.network import HierBatch
from moldojo.models.hier.records import RecordPack
from moldojo.models.hier.tables import MotifTables
from moldojo.models.task import GeneratorTask, TrainingInputs, records_of_batch

__all__ = ["HierTask", "StreamedRecords", "cached_vocabulary", "training_task"]

log = logging.getLogger(__name__)

_SIZE_SAMPLE = 5000  # streamed: molecules whose trees are built up front for the largest tree


class HierTask(GeneratorTask):
    """The hierarchical motif VAE as a :class:`~moldojo.training.loop.Task`.

    Args:
        generator: the model with its motif vocabulary (a fresh one to train from scratch).
        train: the training molecules' records
            (:func:`~moldojo.models.hier.generator.make_records`), or the molecules as
            :class:`StreamedRecords` whose records the loop's workers build batch by batch.
        valid_smiles, valid_samples, seed: as :class:`GeneratorTask`.
        batch_workers: DataLoader worker processes building batches (streamed records).
    """

    generator: HierGenerator
    train: RecordPack | StreamedRecords

    def __init__(self, *args: Any, batch_workers: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_workers = batch_workers

    def batch(self, indices: np.ndarray) -> HierBatch:
        if isinstance(self.train, StreamedRecords):
            return self.train.batch(indices)
        return to_batch(self.train, indices, self.generator.tables,
                        self.generator.model.config.attachment_configs)  # fmt: skip


class StreamedRecords:
    """The training molecules as SMILES, each batch's records built when the batch is: memory
    does not grow with the data set, and the work is spread over the loop's DataLoader workers.

    A molecule without a record (unparsable, or a motif outside the vocabulary) is left out of
    its batch; a batch left empty takes the next molecules of the data set that have one.
    """

    def __init__(self, smiles: Sequence[str], tables: MotifTables, graph_config: GraphConfig,
                 config: HierConfig) -> None:  # fmt: skip
        self.smiles = smiles
        self.tables = tables
        self.graph_config = graph_config
        self.edges, self.radius = config.motif_edges, config.radius
        self.configs = config.attachment_configs
        if not self.configs:
            tables.motif_graphs  # noqa: B018 -- built once here, not in every worker

    def __len__(self) -> int:
        return len(self.smiles)

    def record(self, i: int) -> dict[str, np.ndarray] | None:
        """Molecule ``i``'s record, or None when it has none."""
        record = record_of(self.smiles[i], self.tables, self.graph_config, self.edges,
                           self.radius, self.configs)  # fmt: skip
        return None if isinstance(record, str) else record

    def batch(self, indices: np.ndarray) -> HierBatch:
        kept = records_of_batch(self.record, indices, len(self), "a motif tree in the vocabulary")
        return to_batch(RecordPack(kept), np.arange(len(kept)), self.tables, self.configs)


def training_task(inputs: TrainingInputs) -> HierTask:
    """The hierarchical VAE's training task. The motif vocabulary is read from the checkpoint
    being resumed, else from ``vocabulary.path``, else built from the training molecules;
    molecules with a motif outside it are left out and counted."""
    smiles, saved, settings = inputs.smiles, inputs.saved_vocabulary, inputs.vocabulary
    if saved:
        tables = MotifTables.from_data(saved["motifs"])
    elif settings.path:
        vocab = MotifVocabulary.read(settings.path).filter(settings.min_count)
        tables = MotifTables.from_vocabulary(vocab)
    else:
        with distributed.rank_zero_first():  # built once, by process 0; the others read it
            vocab = cached_vocabulary(smiles, settings.min_count, inputs.graph_config,
                                      source=inputs.source, jobs=inputs.jobs)  # fmt: skip
        if not vocab.motifs:  # streamed data is parsed here first: none of it may
            raise DatasetError(f"{inputs.source}: no training molecule has a motif tree "
                               "(none parses, or none is seen min_count times)")  # fmt: skip
        tables = MotifTables.from_vocabulary(vocab)
    if inputs.stream:  # the trees of a sample now, for its largest tree and a first count
        rows = np.random.default_rng(inputs.seed).permutation(len(smiles))[:_SIZE_SAMPLE]
        sample = [smiles[i] for i in np.sort(rows)]
    else:
        sample = smiles
    records = make_records(sample, tables, inputs.graph_config, inputs.config, jobs=inputs.jobs,
                           progress=inputs.progress)  # fmt: skip
    kept = [r for r in records if not isinstance(r, str)]
    dropped = Counter(r for r in records if isinstance(r, str))
    if dropped:
        where = f" (of a sample of {len(sample)}; streamed)" if inputs.stream else ""
        log.warning("%d training molecules left out%s: %s", dropped.total(), where,
                    ", ".join(f"{k} {v}" for k, v in dropped.most_common()))  # fmt: skip
    if not kept:
        raise DatasetError(f"{inputs.source}: no training molecule has a motif tree")
    if not saved:
        tables = MotifTables(tables.motifs, tables.configs,
                             max(len(r["motif_id"]) for r in kept))  # fmt: skip
    if inputs.stream:
        train: RecordPack | StreamedRecords = StreamedRecords(
            smiles, tables, inputs.graph_config, inputs.config)
        kept_count = len(smiles)
    else:
        train, kept_count = RecordPack(kept), len(kept)
    log.info("%d training molecules%s, %d motifs, %d configurations, %d validation molecules",
             kept_count, " (streamed)" if inputs.stream else "", tables.num_motifs,
             tables.num_configs, len(inputs.valid_smiles))  # fmt: skip
    model = build_hier(inputs.config, tables).to(inputs.device)
    generator = HierGenerator(model, tables, inputs.graph_config)
    return HierTask(generator, train, inputs.valid_smiles, valid_samples=inputs.valid_samples,
                    seed=inputs.seed,
                    batch_workers=inputs.jobs if inputs.stream else 0)  # fmt: skip


def cached_vocabulary(
    smiles: Sequence[str],
    min_count: int,
    config: GraphConfig,
    *,
    source: str = "",
    jobs: int = 1,
) -> MotifVocabulary:
    """The vocabulary of ``smiles`` (:func:`~moldojo.chem.vocab.build_vocabulary`), read from the
    cache when these molecules were counted before with the same settings, else built and cached.

    A cache file that cannot be read or written costs time, never the result: it is built again
    (with a warning).
    """
    key = json.dumps({
        "decomposition": DECOMPOSITION_VERSION, "moldojo": __version__, "min_count": min_count,
        "config": config.model_dump(), "source": source,
        "smiles": hashlib.sha256("\n".join(smiles).encode()).hexdigest(),
    }, sort_keys=True)  # fmt: skip
    path = cache_dir() / "vocabularies" / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.vocab"
    if path.is_file():
        try:
            vocab = MotifVocabulary.read(path)
        except VocabularyError as error:
            log.warning("ignoring the unreadable cached vocabulary %s (%s); building it again",
                        path, error)  # fmt: skip
        else:
            log.info("%s: read the vocabulary from the cache %s", source or "training data", path)
            return vocab
    vocab, _ = build_vocabulary(enumerate(smiles), min_count=min_count, jobs=jobs, source=source,
                                config=config)  # fmt: skip
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        vocab.write(tmp)
        os.replace(tmp, path)
    except (OSError, VocabularyError) as error:  # a read-only or full disk costs speed only
        Path(tmp).unlink(missing_ok=True)
        log.warning("could not cache the vocabulary in %s: %s", path, error)
    return vocab
