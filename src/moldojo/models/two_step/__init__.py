"""The one-shot graph VAE with Bresson & Laurent's two-step decoder, as one package.

* :mod:`~moldojo.models.two_step.config`: its hyperparameters;
* :mod:`~moldojo.models.two_step.atom_types`: its records (atom types, canonical atom order);
* :mod:`~moldojo.models.two_step.network`: the network;
* :mod:`~moldojo.models.two_step.decoding`: bond probabilities to a graph, raw or constrained;
* :mod:`~moldojo.models.two_step.generator`: SMILES in, SMILES out;
* :mod:`~moldojo.models.two_step.task`: its training batches.
"""

from __future__ import annotations

from moldojo.models.registry import ModelKind
from moldojo.models.two_step.config import TwoStepConfig
from moldojo.models.two_step.decoding import DecodedGraph, constrained_graph, raw_graph
from moldojo.models.two_step.generator import DECODE_MODES, TwoStepGenerator, build_two_step
from moldojo.models.two_step.network import TwoStepBatch, TwoStepVAE, complete_pairs
from moldojo.models.two_step.task import TwoStepTask, training_task

__all__ = [
    "DECODE_MODES",
    "KIND",
    "DecodedGraph",
    "TwoStepBatch",
    "TwoStepConfig",
    "TwoStepGenerator",
    "TwoStepTask",
    "TwoStepVAE",
    "build_two_step",
    "complete_pairs",
    "constrained_graph",
    "raw_graph",
]

KIND = ModelKind(
    name="two-step",
    generator=TwoStepGenerator,
    training_task=training_task,
    description="one-shot graph VAE with the two-step decoder (bag of atoms, then bonds)",
    streams=True,
)
