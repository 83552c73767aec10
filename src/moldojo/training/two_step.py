"""Training the two-step VAE: its batches, its loss and its validation, for :func:`fit`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from moldojo.data.atom_types import OrderedGraphs, type_ranks
from moldojo.data.features import featurize_batch, ranges
from moldojo.models.two_step import TwoStepBatch
from moldojo.nn.batch import GraphBatch
from moldojo.sampling.two_step import TwoStepGenerator
from moldojo.training.generator_task import GeneratorTask, stereo_blind

__all__ = ["TwoStepTask", "stereo_blind"]


class TwoStepTask(GeneratorTask):
    """The two-step VAE as a :class:`~moldojo.training.loop.Task`.

    Args:
        generator: the model with its atom types (a fresh one to train from scratch).
        train: the training molecules in canonical atom order.
        valid_smiles, valid_samples, seed: as :class:`GeneratorTask`.
    """

    model_kind = "two-step"

    def __init__(
        self,
        generator: TwoStepGenerator,
        train: OrderedGraphs,
        valid_smiles: Sequence[str],
        *,
        valid_samples: int = 500,
        seed: int = 0,
    ) -> None:
        super().__init__(generator, valid_smiles, valid_samples=valid_samples, seed=seed)
        self.train = train
        self.num_train = len(train)
        self.ranks = type_ranks(train.graphs)

    def batch(self, indices: np.ndarray) -> TwoStepBatch:
        graphs = self.train.graphs
        arrays = featurize_batch(graphs, indices, self.generator.spec)
        starts, sizes = graphs.atom_ptr[indices], graphs.num_atoms[indices]
        atom_rows = ranges(starts, sizes)
        node_type = self.train.type_ids[atom_rows]
        num_types = len(self.generator.atom_types)
        molecule = np.repeat(np.arange(len(indices)), sizes)
        counts = np.bincount(molecule * num_types + node_type, minlength=len(indices) * num_types)
        bond_starts = graphs.bond_ptr[indices]
        bond_sizes = graphs.bond_ptr[indices + 1] - bond_starts
        bond_order = graphs.bonds["bond_type"][ranges(bond_starts, bond_sizes)]
        num_bonds = arrays["edge_index"].shape[1] // 2  # featurize_batch: u -> v first, u < v
        return TwoStepBatch(
            graph=GraphBatch.from_arrays(arrays),
            counts=torch.from_numpy(counts.reshape(len(indices), num_types)),
            rank=torch.from_numpy(self.ranks[atom_rows]),
            node_type=torch.from_numpy(node_type),
            bonds=torch.from_numpy(arrays["edge_index"][:, :num_bonds].copy()),
            bond_order=torch.from_numpy(bond_order.astype(np.int64)),
        )

    def validate(self) -> dict[str, float]:
        """Reconstruction (stereo-blind, posterior mean, constrained greedy decoding) of the
        validation molecules; validity raw and constrained and uniqueness of prior samples."""
        metrics = self.reconstruction()
        if self.valid_samples:
            z = self.prior_points()
            raw = self.generator.decode(z, mode="raw")
            constrained = self.generator.decode(z, mode="constrained")
            valid = [s for s in constrained if s is not None]
            metrics["validity_raw"] = sum(s is not None for s in raw) / len(raw)
            metrics["validity_constrained"] = len(valid) / len(constrained)
            metrics["uniqueness"] = len(set(valid)) / len(valid) if valid else 0.0
        return metrics
