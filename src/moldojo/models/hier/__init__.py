"""The hierarchical motif VAE (after HierVAE, Jin, Barzilay and Jaakkola 2020), as one package.

* :mod:`~moldojo.models.hier.config`: its hyperparameters;
* :mod:`~moldojo.models.hier.tables`: the motif vocabulary as arrays;
* :mod:`~moldojo.models.hier.records`: each molecule's motif tree as the arrays a training step
  reads;
* :mod:`~moldojo.models.hier.decoding`: the decode state machine (a molecule built motif by
  motif, and every rule of what may come next), shared by teacher forcing and inference;
* :mod:`~moldojo.models.hier.network`: the network (encoder, decoder heads, loss);
* :mod:`~moldojo.models.hier.generator`: SMILES in, SMILES out (decoding motif by motif);
* :mod:`~moldojo.models.hier.task`: its training task.
"""

from __future__ import annotations

from moldojo.models.hier.config import HierConfig
from moldojo.models.hier.generator import HierGenerator, build_hier, make_records, to_batch
from moldojo.models.hier.network import HierBatch, HierVAE
from moldojo.models.hier.records import RecordPack, tree_record
from moldojo.models.hier.tables import MotifTables
from moldojo.models.hier.task import HierTask, training_task
from moldojo.models.registry import ModelKind

__all__ = [
    "KIND",
    "HierBatch",
    "HierConfig",
    "HierGenerator",
    "HierTask",
    "HierVAE",
    "MotifTables",
    "RecordPack",
    "build_hier",
    "make_records",
    "to_batch",
    "tree_record",
]

KIND = ModelKind(
    name="hier",
    generator=HierGenerator,
    training_task=training_task,
    description="hierarchical motif VAE (atoms, attachment configurations, motifs)",
    streams=True,
)
