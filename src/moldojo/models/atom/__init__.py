"""The autoregressive atom-by-atom graph VAE, as one package: the ladder's first rung.

* :mod:`~moldojo.models.atom.config`: its hyperparameters;
* :mod:`~moldojo.models.atom.records`: atom types, the canonical order, teacher-forced batches;
* :mod:`~moldojo.models.atom.network`: the network;
* :mod:`~moldojo.models.atom.generator`: SMILES in, SMILES out;
* :mod:`~moldojo.models.atom.task`: its training task.
"""

from __future__ import annotations

from moldojo.models.atom.config import AtomConfig
from moldojo.models.atom.generator import DECODE_MODES, AtomGenerator, build_atom
from moldojo.models.atom.network import AtomVAE, DecodedAtoms
from moldojo.models.atom.records import AtomAlphabet, AtomBatch, collate, ordered
from moldojo.models.atom.task import AtomTask, OrderedMolecules, order_molecules, training_task
from moldojo.models.registry import ModelKind

__all__ = [
    "DECODE_MODES",
    "KIND",
    "AtomAlphabet",
    "AtomBatch",
    "AtomConfig",
    "AtomGenerator",
    "AtomTask",
    "AtomVAE",
    "DecodedAtoms",
    "OrderedMolecules",
    "build_atom",
    "collate",
    "order_molecules",
    "ordered",
]

KIND = ModelKind(
    name="atom",
    generator=AtomGenerator,
    training_task=training_task,
    description="autoregressive graph VAE decoding atom by atom (type, neighbours, bond orders)",
)
