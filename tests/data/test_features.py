"""Numeric features of packed graphs: layout, both bond directions, batch offsets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from moldojo.data import load_dataset
from moldojo.data.features import EDGE_DIM, FeatureSpec, featurize_batch
from moldojo.nn.batch import GraphBatch

SMILES = ["CCO", "c1ccccc1", "[NH4+]", "C/C=C/[C@H](N)O"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory):
    path = Path(tmp_path_factory.mktemp("features")) / "mols.smi"
    path.write_text("\n".join(SMILES) + "\n")
    return load_dataset(str(path))


def test_every_atom_has_one_element_one_charge_one_h_count(dataset) -> None:
    spec = FeatureSpec()
    arrays = featurize_batch(dataset.graphs, np.arange(len(dataset)), spec)
    n_el = len(spec.elements)
    x = arrays["x"]
    assert x.shape == (int(dataset.graphs.num_atoms.sum()), spec.node_dim)
    np.testing.assert_array_equal(x[:, :n_el].sum(1), 1)
    np.testing.assert_array_equal(x[:, n_el : n_el + 5].sum(1), 1)
    np.testing.assert_array_equal(x[:, n_el + 5 : n_el + 10].sum(1), 1)


def test_bonds_appear_in_both_directions_with_batch_offsets(dataset) -> None:
    # Given two molecules in reverse order, When featurised as one batch
    arrays = featurize_batch(dataset.graphs, np.array([1, 0]), FeatureSpec())
    # Then node offsets follow the chosen order (benzene 6 atoms, then ethanol 3)
    assert arrays["ptr"].tolist() == [0, 6, 9]
    edges = arrays["edge_index"]
    assert edges.shape == (2, 2 * (6 + 2))
    pairs = {tuple(e) for e in edges.T.tolist()}
    assert all((b, a) in pairs for a, b in pairs)  # every edge has its reverse
    assert {(6, 7), (7, 8)} <= pairs  # ethanol's bonds, shifted by benzene's 6 atoms
    assert arrays["edge_attr"].shape == (16, EDGE_DIM)
    np.testing.assert_array_equal(arrays["edge_attr"][:, :4].sum(1), 1)  # one bond type each


def test_stereo_and_charge_features(dataset) -> None:
    spec = FeatureSpec()
    arrays = featurize_batch(dataset.graphs, np.array([2, 3]), spec)
    n_el = len(spec.elements)
    assert arrays["x"][0, n_el + 3] == 1  # [NH4+]: charge +1 is slot -2..+2 -> index 3
    tail = n_el + 10
    assert arrays["x"][:, tail + 1].sum() == 1  # one stereo centre in the second molecule
    assert arrays["edge_attr"][:, 4].sum() == 2  # one stereo double bond, both directions


def test_graph_batch_from_arrays(dataset) -> None:
    arrays = featurize_batch(dataset.graphs, np.arange(len(dataset)), FeatureSpec())
    arrays["y"] = np.arange(len(dataset), dtype=np.float64)
    batch = GraphBatch.from_arrays(arrays)
    assert batch.num_graphs == len(dataset)
    assert batch.batch.tolist() == np.repeat(np.arange(4), dataset.graphs.num_atoms).tolist()
    assert batch.x.dtype.is_floating_point and batch.y.shape == (4,)
