"""Builders shared by the two-step tests (not a test module)."""

from __future__ import annotations

import torch

from moldojo.chem import GraphConfig, mol_to_graph, parse_smiles
from moldojo.data import PackedGraphs
from moldojo.models.two_step import TwoStepConfig
from moldojo.models.two_step.atom_types import AtomTypes, order_graphs
from moldojo.models.two_step.generator import TwoStepGenerator, build_two_step
from moldojo.models.two_step.task import TwoStepTask

SMALL = TwoStepConfig(hidden_dim=32, decoder_dim=32, latent_dim=16, encoder_layers=2,
                      decoder_layers=3)  # fmt: skip


def make_task(smiles: list[str], config: TwoStepConfig = SMALL, seed: int = 0) -> TwoStepTask:
    torch.manual_seed(seed)
    packed = PackedGraphs.from_graphs([mol_to_graph(parse_smiles(s)) for s in smiles])
    types = AtomTypes.build(packed)
    model = build_two_step(config, types, GraphConfig())
    generator = TwoStepGenerator(model, types, GraphConfig())
    return TwoStepTask(generator, order_graphs(packed, types, progress=False), smiles,
                       valid_samples=20)  # fmt: skip
