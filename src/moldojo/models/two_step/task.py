"""Training the two-step VAE: its batches, for :func:`~moldojo.training.loop.fit`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch

from moldojo.chem import GraphConfig, MolGraph, mol_to_graph, parse_smiles
from moldojo.data.features import featurize_batch, ranges
from moldojo.data.packed import PackedGraphs
from moldojo.errors import DatasetError, InvalidMoleculeError, InvalidSmilesError
from moldojo.models.task import GeneratorTask, TrainingInputs, records_of_batch
from moldojo.models.two_step.atom_types import AtomTypes, OrderedGraphs, order_graphs, type_ranks
from moldojo.models.two_step.generator import TwoStepGenerator, build_two_step
from moldojo.models.two_step.network import TwoStepBatch
from moldojo.nn.batch import GraphBatch

__all__ = ["StreamedGraphs", "TwoStepTask", "training_task", "two_step_batch"]

log = logging.getLogger(__name__)

_TYPE_SAMPLE = 20_000  # streamed: molecules whose atom types, counts and sizes size the model


class TwoStepTask(GeneratorTask):
    """The two-step VAE as a :class:`~moldojo.training.loop.Task`.

    Args:
        generator: the model with its atom types (a fresh one to train from scratch).
        train: the training molecules in canonical atom order, or as :class:`StreamedGraphs`
            whose graphs the loop's workers build batch by batch.
        valid_smiles, valid_samples, seed: as :class:`GeneratorTask`.
        batch_workers: DataLoader worker processes building batches (streamed graphs).
    """

    def __init__(self, generator: TwoStepGenerator, train: OrderedGraphs | StreamedGraphs,
                 valid_smiles: Sequence[str], *, valid_samples: int = 500, seed: int = 0,
                 batch_workers: int = 0) -> None:  # fmt: skip
        super().__init__(generator, train, valid_smiles, valid_samples=valid_samples, seed=seed)
        self.batch_workers = batch_workers
        self.ranks = None if isinstance(train, StreamedGraphs) else type_ranks(train.graphs)

    def batch(self, indices: np.ndarray) -> TwoStepBatch:
        if isinstance(self.train, StreamedGraphs):
            return self.train.batch(indices)
        return two_step_batch(self.train, self.ranks, indices, self.generator)


def two_step_batch(ordered: OrderedGraphs, ranks: np.ndarray, indices: np.ndarray,
                   generator: TwoStepGenerator) -> TwoStepBatch:  # fmt: skip
    """The batch of molecules ``indices`` of ``ordered`` (``ranks``: :func:`type_ranks` of its
    graphs)."""
    graphs = ordered.graphs
    arrays = featurize_batch(graphs, indices, generator.spec)
    starts, sizes = graphs.atom_ptr[indices], graphs.num_atoms[indices]
    atom_rows = ranges(starts, sizes)
    node_type = ordered.type_ids[atom_rows]
    num_types = len(generator.atom_types)
    molecule = np.repeat(np.arange(len(indices)), sizes)
    counts = np.bincount(molecule * num_types + node_type, minlength=len(indices) * num_types)
    bond_starts = graphs.bond_ptr[indices]
    bond_sizes = graphs.bond_ptr[indices + 1] - bond_starts
    bond_order = graphs.bonds["bond_type"][ranges(bond_starts, bond_sizes)]
    num_bonds = arrays["edge_index"].shape[1] // 2  # featurize_batch: u -> v first, u < v
    return TwoStepBatch(
        graph=GraphBatch.from_arrays(arrays),
        counts=torch.from_numpy(counts.reshape(len(indices), num_types)),
        rank=torch.from_numpy(ranks[atom_rows]),
        node_type=torch.from_numpy(node_type),
        bonds=torch.from_numpy(arrays["edge_index"][:, :num_bonds].copy()),
        bond_order=torch.from_numpy(bond_order.astype(np.int64)),
    )


class StreamedGraphs:
    """The training molecules as SMILES, each batch's graphs built when the batch is (memory
    does not grow with the data set). A molecule that does not parse, or has an atom type or
    more atoms of one type than the model's (:class:`AtomTypes`, from a sample), is left out of
    its batch; a batch left empty takes the next molecules that have a graph."""

    def __init__(self, smiles: Sequence[str], generator: TwoStepGenerator) -> None:
        self.smiles = smiles
        self.generator = generator

    def __len__(self) -> int:
        return len(self.smiles)

    def graph(self, i: int) -> MolGraph | None:
        graph = _graph_of(self.smiles[i], self.generator.graph_config)
        if graph is None:
            return None
        types = self.generator.atom_types
        ids = types.type_ids({"atomic_num": graph.atomic_num, "num_hs": graph.num_hs,
                              "formal_charge": graph.formal_charge})  # fmt: skip
        if (ids < 0).any() or np.bincount(ids).max() > types.max_count:
            return None
        return graph

    def batch(self, indices: np.ndarray) -> TwoStepBatch:
        graphs = records_of_batch(self.graph, indices, len(self), "a graph of the model's types")
        ordered = order_graphs(PackedGraphs.from_graphs(graphs), self.generator.atom_types)
        rows = np.arange(len(ordered))
        return two_step_batch(ordered, type_ranks(ordered.graphs), rows, self.generator)


def _graph_of(smiles: str, config: GraphConfig) -> MolGraph | None:
    try:
        return mol_to_graph(parse_smiles(smiles, config), config)
    except (InvalidSmilesError, InvalidMoleculeError):
        return None


def training_task(inputs: TrainingInputs) -> TwoStepTask:
    """The two-step VAE's training task. The atom types come from the training molecules, or
    from the checkpoint being resumed so that the output layer keeps its meaning."""
    saved = inputs.saved_vocabulary
    if inputs.stream:  # atom types from a sample; the batches' graphs built as they are needed
        smiles = inputs.smiles
        rows = np.random.default_rng(inputs.seed).permutation(len(smiles))[:_TYPE_SAMPLE]
        sample = [g for g in (_graph_of(smiles[i], inputs.graph_config) for i in np.sort(rows))
                  if g is not None]  # fmt: skip
        if not sample:
            raise DatasetError(f"{inputs.source}: none of {len(rows)} molecules parses")
        graphs = PackedGraphs.from_graphs(sample)
    else:
        graphs = inputs.dataset.graphs.select(inputs.rows)
    atom_types = AtomTypes.from_data(saved["atom_types"]) if saved else AtomTypes.build(graphs)
    model = build_two_step(inputs.config, atom_types, inputs.graph_config)
    generator = TwoStepGenerator(model.to(inputs.device), atom_types, inputs.graph_config)
    if inputs.stream:
        train: OrderedGraphs | StreamedGraphs = StreamedGraphs(smiles, generator)
        log.info("%d training molecules (streamed; atom types from a sample of %d), %d atom "
                 "types, %d validation molecules", len(smiles), len(sample), len(atom_types),
                 len(inputs.valid_smiles))  # fmt: skip
    else:
        train = order_graphs(graphs, atom_types, jobs=inputs.jobs, progress=inputs.progress)
        dropped = int((~train.kept).sum())
        if dropped:
            log.warning("%d training molecules have atom types outside the model's and are "
                        "left out", dropped)  # fmt: skip
        log.info("%d training molecules, %d atom types, %d validation molecules",
                 len(train), len(atom_types), len(inputs.valid_smiles))  # fmt: skip
    return TwoStepTask(generator, train, inputs.valid_smiles, valid_samples=inputs.valid_samples,
                       seed=inputs.seed,
                       batch_workers=inputs.jobs if inputs.stream else 0)  # fmt: skip
