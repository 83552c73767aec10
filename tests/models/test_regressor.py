"""The dojo's property regressor: shapes, order invariance, learning a handful of molecules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from rdkit import Chem

from moldojo.data import load_dataset
from moldojo.data.features import FeatureSpec, featurize_batch
from moldojo.models.regressor import GraphRegressor
from moldojo.nn.batch import GraphBatch

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "C1CCNCC1", "O=C(O)c1ccccc1", "CCN(CC)CC"]


def batch_of(smiles: list[str], tmp_path: Path, targets: np.ndarray | None = None) -> GraphBatch:
    path = tmp_path / f"m{abs(hash(tuple(smiles)))}.smi"
    path.write_text("\n".join(smiles) + "\n")
    dataset = load_dataset(str(path))
    arrays = featurize_batch(dataset.graphs, np.arange(len(dataset)), FeatureSpec())
    if targets is not None:
        arrays["y"] = targets
    return GraphBatch.from_arrays(arrays)


@pytest.mark.parametrize("layer", ["gated-gcn", "gcn"])
def test_prediction_does_not_depend_on_atom_order(layer: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    spec = FeatureSpec()
    model = GraphRegressor(layer, spec.node_dim, spec.edge_dim, hidden_dim=16, num_layers=2)
    model = model.double().eval()
    # Given the same molecules written with randomised atom orders
    shuffled = [
        Chem.MolToRandomSmilesVect(Chem.MolFromSmiles(s), 1, randomSeed=7)[0] for s in SMILES
    ]
    a = model(batch_of(SMILES, tmp_path).to("cpu", torch.float64))
    b = model(batch_of(shuffled, tmp_path).to("cpu", torch.float64))
    # Then the graph-level predictions are equal
    torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)
    assert a.shape == (len(SMILES),)


def test_overfits_a_handful_of_molecules(tmp_path: Path) -> None:
    torch.manual_seed(0)
    spec = FeatureSpec()
    targets = np.linspace(-2, 2, len(SMILES)).astype(np.float32)
    batch = batch_of(SMILES, tmp_path, targets)
    model = GraphRegressor("gated-gcn", spec.node_dim, spec.edge_dim, hidden_dim=32, num_layers=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(300):
        loss = torch.nn.functional.l1_loss(model(batch), batch.y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    assert torch.nn.functional.l1_loss(model(batch), batch.y).item() < 0.1
