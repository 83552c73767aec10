"""Training the two-step VAE: its batches, for :func:`~moldojo.training.loop.fit`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch

from moldojo.data.features import featurize_batch, ranges
from moldojo.models.task import GeneratorTask, TrainingInputs
from moldojo.models.two_step.atom_types import AtomTypes, OrderedGraphs, order_graphs, type_ranks
from moldojo.models.two_step.generator import TwoStepGenerator, build_two_step
from moldojo.models.two_step.network import TwoStepBatch
from moldojo.nn.batch import GraphBatch

__all__ = ["TwoStepTask", "training_task"]

log = logging.getLogger(__name__)


class TwoStepTask(GeneratorTask):
    """The two-step VAE as a :class:`~moldojo.training.loop.Task`.

    Args:
        generator: the model with its atom types (a fresh one to train from scratch).
        train: the training molecules in canonical atom order.
        valid_smiles, valid_samples, seed: as :class:`GeneratorTask`.
    """

    def __init__(self, generator: TwoStepGenerator, train: OrderedGraphs,
                 valid_smiles: Sequence[str], *, valid_samples: int = 500,
                 seed: int = 0) -> None:  # fmt: skip
        super().__init__(generator, train, valid_smiles, valid_samples=valid_samples, seed=seed)
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


def training_task(inputs: TrainingInputs) -> TwoStepTask:
    """The two-step VAE's training task. The atom types come from the training molecules, or
    from the checkpoint being resumed so that the output layer keeps its meaning."""
    graphs = inputs.dataset.graphs.select(inputs.rows)
    saved = inputs.saved_vocabulary
    atom_types = AtomTypes.from_data(saved["atom_types"]) if saved else AtomTypes.build(graphs)
    ordered = order_graphs(graphs, atom_types, jobs=inputs.jobs, progress=inputs.progress)
    dropped = int((~ordered.kept).sum())
    if dropped:
        log.warning("%d training molecules have atom types outside the model's and are left out",
                    dropped)  # fmt: skip
    log.info("%d training molecules, %d atom types, %d validation molecules",
             len(ordered), len(atom_types), len(inputs.valid_smiles))  # fmt: skip
    model = build_two_step(inputs.config, atom_types, inputs.graph_config)
    generator = TwoStepGenerator(model.to(inputs.device), atom_types, inputs.graph_config)
    return TwoStepTask(generator, ordered, inputs.valid_smiles,
                       valid_samples=inputs.valid_samples, seed=inputs.seed)  # fmt: skip
