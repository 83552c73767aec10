"""Training the hierarchical motif VAE: its batches, for :func:`~moldojo.training.loop.fit`."""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np

from moldojo.chem.vocab import MotifVocabulary, build_vocabulary
from moldojo.errors import DatasetError
from moldojo.models.hier.generator import HierGenerator, build_hier, make_records, to_batch
from moldojo.models.hier.network import HierBatch
from moldojo.models.hier.records import RecordPack
from moldojo.models.hier.tables import MotifTables
from moldojo.models.task import GeneratorTask, TrainingInputs

__all__ = ["HierTask", "training_task"]

log = logging.getLogger(__name__)


class HierTask(GeneratorTask):
    """The hierarchical motif VAE as a :class:`~moldojo.training.loop.Task`.

    Args:
        generator: the model with its motif vocabulary (a fresh one to train from scratch).
        train: the training molecules' records
            (:func:`~moldojo.models.hier.generator.make_records`).
        valid_smiles, valid_samples, seed: as :class:`GeneratorTask`.
    """

    generator: HierGenerator
    train: RecordPack

    def batch(self, indices: np.ndarray) -> HierBatch:
        return to_batch(self.train, indices, self.generator.tables)


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
        vocab, _ = build_vocabulary(enumerate(smiles), min_count=settings.min_count,
                                    jobs=inputs.jobs, source=inputs.source,
                                    config=inputs.graph_config)  # fmt: skip
        tables = MotifTables.from_vocabulary(vocab)
    records = make_records(smiles, tables, inputs.graph_config, inputs.config, jobs=inputs.jobs,
                           progress=inputs.progress)  # fmt: skip
    kept = [r for r in records if not isinstance(r, str)]
    dropped = Counter(r for r in records if isinstance(r, str))
    if dropped:
        log.warning("%d training molecules left out: %s", dropped.total(),
                    ", ".join(f"{k} {v}" for k, v in dropped.most_common()))  # fmt: skip
    if not kept:
        raise DatasetError(f"{inputs.source}: no training molecule has a motif tree")
    if not saved:
        tables = MotifTables(tables.motifs, tables.configs,
                             max(len(r["motif_id"]) for r in kept))  # fmt: skip
    log.info("%d training molecules, %d motifs, %d configurations, %d validation molecules",
             len(kept), tables.num_motifs, tables.num_configs,
             len(inputs.valid_smiles))  # fmt: skip
    model = build_hier(inputs.config, tables).to(inputs.device)
    generator = HierGenerator(model, tables, inputs.graph_config)
    return HierTask(generator, RecordPack(kept), inputs.valid_smiles,
                    valid_samples=inputs.valid_samples, seed=inputs.seed)  # fmt: skip
