"""Training the hierarchical motif VAE: batches, loss and validation, for :func:`fit`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from moldojo.data.motif_trees import RecordPack
from moldojo.models.hier import HierBatch
from moldojo.sampling.hier import HierGenerator, to_batch
from moldojo.training.generator_task import GeneratorTask

__all__ = ["HierTask"]


class HierTask(GeneratorTask):
    """The hierarchical motif VAE as a :class:`~moldojo.training.loop.Task`.

    Args:
        generator: the model with its motif vocabulary (a fresh one to train from scratch).
        train: the training molecules' records (:func:`~moldojo.sampling.hier.make_records`).
        valid_smiles, valid_samples, seed: as :class:`GeneratorTask`.
    """

    model_kind = "hier"

    def __init__(
        self,
        generator: HierGenerator,
        train: RecordPack,
        valid_smiles: Sequence[str],
        *,
        valid_samples: int = 500,
        seed: int = 0,
    ) -> None:
        super().__init__(generator, valid_smiles, valid_samples=valid_samples, seed=seed)
        self.train = train
        self.num_train = len(train)

    def batch(self, indices: np.ndarray) -> HierBatch:
        return to_batch(self.train, indices, self.generator.tables)

    def validate(self) -> dict[str, float]:
        """Reconstruction (stereo-blind, posterior mean, greedy) of the validation molecules;
        validity and uniqueness of greedy prior samples."""
        metrics = self.reconstruction()
        if self.valid_samples:
            samples = self.generator.decode(self.prior_points())
            valid = [s for s in samples if s is not None]
            metrics["validity"] = len(valid) / len(samples)
            metrics["uniqueness"] = len(set(valid)) / len(valid) if valid else 0.0
        return metrics
