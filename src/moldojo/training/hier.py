"""Training the hierarchical motif VAE: batches, loss and validation, for :func:`fit`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from moldojo.data.motif_trees import RecordPack
from moldojo.models.hier import HierBatch
from moldojo.sampling.hier import HierGenerator, to_batch
from moldojo.training.two_step import stereo_blind

__all__ = ["HierTask"]


class HierTask:
    """The hierarchical motif VAE as a :class:`~moldojo.training.loop.Task`.

    Args:
        generator: the model with its motif vocabulary (a fresh one to train from scratch).
        train: the training molecules' records (:func:`~moldojo.sampling.hier.make_records`).
        valid_smiles: molecules reconstructed after every epoch.
        valid_samples: molecules sampled from the prior after every epoch.
        seed: seed of the validation samples (the same latent points every epoch).
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
        self.generator = generator
        self.model = generator.model
        self.train = train
        self.num_train = len(train)
        self.valid_smiles = list(valid_smiles)
        self.valid_targets = [stereo_blind(s) for s in self.valid_smiles]
        self.valid_samples = valid_samples
        self.seed = seed

    def batch(self, indices: np.ndarray) -> HierBatch:
        return to_batch(self.train, indices, self.generator.tables)

    def loss(self, batch: HierBatch, beta: float, generator: torch.Generator) -> dict[str, Tensor]:
        return self.model.loss(batch, beta, generator)

    def validate(self) -> dict[str, float]:
        """Reconstruction (stereo-blind, posterior mean, greedy) of the validation molecules;
        validity and uniqueness of greedy prior samples."""
        metrics: dict[str, float] = {}
        if self.valid_smiles:
            decoded = self.generator.reconstruct(self.valid_smiles)
            hits = sum(
                d is not None and d == t for d, t in zip(decoded, self.valid_targets, strict=True)
            )
            metrics["reconstruction"] = hits / len(self.valid_smiles)
        if self.valid_samples:
            z = torch.randn(self.valid_samples, self.generator.latent_dim,
                            generator=torch.Generator().manual_seed(self.seed))  # fmt: skip
            samples = self.generator.decode(z)
            valid = [s for s in samples if s is not None]
            metrics["validity"] = len(valid) / len(samples)
            metrics["uniqueness"] = len(set(valid)) / len(valid) if valid else 0.0
        return metrics

    def vocabulary(self) -> object:
        return self.generator.vocabulary()
