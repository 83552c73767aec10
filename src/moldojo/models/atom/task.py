"""Training the atom-by-atom VAE: its batches, for :func:`~moldojo.training.loop.fit`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from moldojo.chem.graph import MolGraph
from moldojo.data.packed import PackedGraphs
from moldojo.errors import DatasetError
from moldojo.models.atom.generator import AtomGenerator, build_atom
from moldojo.models.atom.records import AtomAlphabet, AtomBatch, collate, ordered
from moldojo.models.task import GeneratorTask, TrainingInputs
from moldojo.parallel import pmap

__all__ = ["AtomTask", "OrderedMolecules", "order_molecules", "training_task"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderedMolecules:
    """Training molecules in canonical breadth-first order, each atom of a known type.

    Attributes:
        graphs: the molecules.
        type_ids: ``[A]`` each packed atom's type.
    """

    graphs: PackedGraphs
    type_ids: np.ndarray

    def __len__(self) -> int:
        return len(self.graphs)


def order_molecules(graphs: PackedGraphs, alphabet: AtomAlphabet, *, jobs: int = 1,
                    progress: bool | None = None
                    ) -> tuple[OrderedMolecules, dict[str, int]]:  # fmt: skip
    """The molecules that the decoder can build, in its order, and how many were left out and
    why (``"unknown_atom_type"``, ``"too_large"``, ``"fragments"``)."""
    ids = alphabet.type_ids(graphs.atoms)
    mol = np.repeat(np.arange(len(graphs)), graphs.num_atoms)
    unknown = np.bincount(mol, ids < 0, len(graphs)) > 0
    large = graphs.num_atoms > alphabet.max_atoms
    keep = np.flatnonzero(~unknown & ~large)
    done: Sequence[MolGraph | None] = pmap(
        ordered, [graphs[int(i)] for i in keep], jobs=jobs, chunk_size=512,
        description="ordering atoms", progress=progress,
    )  # fmt: skip
    kept = [g for g in done if g is not None]
    dropped = {"unknown_atom_type": int(unknown.sum()), "too_large": int((large & ~unknown).sum()),
               "fragments": len(done) - len(kept)}  # fmt: skip
    packed = PackedGraphs.from_graphs(kept) if kept else graphs.select(np.zeros(0, np.int64))
    return OrderedMolecules(packed, alphabet.type_ids(packed.atoms)), dropped


class AtomTask(GeneratorTask):
    """The atom-by-atom VAE as a :class:`~moldojo.training.loop.Task`.

    Args:
        generator: the model with its atom types (a fresh one to train from scratch).
        train: the training molecules in the decoder's order.
        valid_smiles, valid_samples, seed: as :class:`GeneratorTask`.
    """

    def __init__(self, generator: AtomGenerator, train: OrderedMolecules,
                 valid_smiles: Sequence[str], *, valid_samples: int = 500,
                 seed: int = 0) -> None:  # fmt: skip
        super().__init__(generator, train, valid_smiles, valid_samples=valid_samples, seed=seed)

    def batch(self, indices: np.ndarray) -> AtomBatch:
        return collate(self.train.graphs, self.train.type_ids, indices, self.generator.alphabet,
                       self.generator.spec)  # fmt: skip


def training_task(inputs: TrainingInputs) -> AtomTask:
    """The atom-by-atom VAE's training task. The atom types come from the training molecules,
    or from the checkpoint being resumed so that the output layer keeps its meaning."""
    graphs = inputs.dataset.graphs.select(inputs.rows)
    saved = inputs.saved_vocabulary
    alphabet = AtomAlphabet.from_data(saved["atoms"]) if saved else AtomAlphabet.build(graphs)
    train, dropped = order_molecules(graphs, alphabet, jobs=inputs.jobs, progress=inputs.progress)
    if any(dropped.values()):
        log.warning("%d training molecules left out: %s", sum(dropped.values()),
                    ", ".join(f"{k} {v}" for k, v in dropped.items() if v))  # fmt: skip
    if not len(train):
        raise DatasetError(f"{inputs.source}: no training molecule fits the atom types")
    log.info("%d training molecules, %d atom types, %d validation molecules", len(train),
             len(alphabet), len(inputs.valid_smiles))  # fmt: skip
    model = build_atom(inputs.config, alphabet, inputs.graph_config).to(inputs.device)
    generator = AtomGenerator(model, alphabet, inputs.graph_config)
    return AtomTask(generator, train, inputs.valid_smiles, valid_samples=inputs.valid_samples,
                    seed=inputs.seed)  # fmt: skip
