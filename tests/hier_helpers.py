"""Builders shared by the hierarchical-VAE tests (not a test module)."""

from __future__ import annotations

import numpy as np
import torch

from moldojo.chem import GraphConfig
from moldojo.chem.vocab import build_vocabulary
from moldojo.models.hier import HierConfig
from moldojo.models.hier.generator import HierGenerator, build_hier, make_records
from moldojo.models.hier.records import RecordPack
from moldojo.models.hier.tables import MotifTables
from moldojo.models.hier.task import HierTask

SMALL = HierConfig(hidden_dim=32, latent_dim=16, atom_layers=2, attachment_layers=1,
                   motif_layers=2)  # fmt: skip

MOLECULES = [
    "CCNC(=O)CNC(=O)Nc1ccc(-c2csnn2)cc1",
    "CCN(CCC#N)C(=O)c1ccc(C(C)(C)C)cc1",
    "N#Cc1cccc(C(=O)N2CCN(CCOc3ccccc3)CC2)c1",
    "Cc1ncccc1OCC(=O)Nc1ccc(F)cc1F",
    "COc1ccc(-c2nc(C)c(C(C)NCC3OCCO3)s2)cc1",
    "Cc1ccc(F)c(NC(=O)C2CCCN(C(N)=O)C2)c1",
    "O=C(O)c1ccccc1",
    "C[N+](C)(C)CC(=O)[O-]",
]


def make_tables(smiles: list[str], max_motifs: int = 0) -> MotifTables:
    vocab, _ = build_vocabulary(enumerate(smiles))
    tables = MotifTables.from_vocabulary(vocab)
    if max_motifs:
        tables = MotifTables(tables.motifs, tables.configs, max_motifs)
    return tables


def make_task(smiles: list[str], config: HierConfig = SMALL, seed: int = 0) -> HierTask:
    torch.manual_seed(seed)
    tables = make_tables(smiles)
    records = make_records(smiles, tables, GraphConfig(), config)
    assert not any(isinstance(r, str) for r in records)
    tables = MotifTables(tables.motifs, tables.configs, max(len(r["motif_id"]) for r in records))
    generator = HierGenerator(build_hier(config, tables), tables, GraphConfig())
    return HierTask(generator, RecordPack(records), smiles, valid_samples=20)


def train_steps(task: HierTask, steps: int, *, lr: float = 3e-3, beta: float = 0.0) -> float:
    """Plain Adam on full batches; the last loss."""
    model = task.model.train()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(0)
    indices = np.arange(task.num_train)
    loss = float("nan")
    for _ in range(steps):
        out = task.loss(task.batch(indices), beta, generator)
        optimiser.zero_grad()
        out["loss"].backward()
        optimiser.step()
        loss = out["loss"].item()
    model.eval()
    return loss
