"""The FCD plumbing: fcd_torch's encoding, counts as weights, the Fréchet formula."""

from __future__ import annotations

import numpy as np
import pytest

from moldojo.evaluation.fcd import FCDStats, fcd_stats, frechet_distance, one_hot

fcd_utils = pytest.importorskip("fcd_torch.utils")


@pytest.mark.parametrize(
    "smiles",
    ["CCO", "c1ccccc1Cl", "C[C@H](N)C(=O)O", "[Si](Br)(I)[Na+]", "C" * 400, "OC(=O)c1ccc(Br)cc1"],
)
def test_one_hot_is_fcd_torch_encoding(smiles: str) -> None:
    want = fcd_utils.get_one_hot(smiles, 350) / 35
    got = one_hot([smiles])[0].numpy().T
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=0, atol=0)


def _random_stats(rng: np.random.Generator, dim: int = 12) -> FCDStats:
    x = rng.normal(size=(40, dim)) @ rng.normal(size=(dim, dim))
    return FCDStats(x.mean(0), np.cov(x.T), 40)


def test_frechet_distance_matches_fcd_torch() -> None:
    rng = np.random.default_rng(0)
    a, b = _random_stats(rng), _random_stats(rng)
    want = fcd_utils.calculate_frechet_distance(a.mu, a.sigma, b.mu, b.sigma)
    assert frechet_distance(a, b) == pytest.approx(want, rel=1e-9)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    assert np.isnan(frechet_distance(a, None))


def test_repeated_molecules_count_as_often_as_they_occur() -> None:
    # Given a list with repeats
    smiles = ["CCO", "CCO", "c1ccccc1", "CC(=O)O", "CCO", "CCN"]
    # When the statistics are computed on distinct molecules with counts
    stats = fcd_stats(smiles)
    # Then they equal mean and covariance over every row, repeats included
    from moldojo.evaluation.fcd import activations

    rows = activations(smiles).astype(np.float64)
    np.testing.assert_allclose(stats.mu, rows.mean(0), atol=1e-7)
    np.testing.assert_allclose(stats.sigma, np.cov(rows.T), atol=1e-7)
    assert stats.count == 6
    assert fcd_stats(["CCO"]) is None
