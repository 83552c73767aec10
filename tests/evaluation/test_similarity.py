"""Tanimoto aggregations against a direct float64 computation."""

from __future__ import annotations

import numpy as np
import pytest

from moldojo.evaluation.similarity import (
    dense_fingerprints,
    max_similarity,
    power_mean_similarity,
)


def _tanimoto(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x, y = x.astype(np.float64), y.astype(np.float64)
    c = x @ y.T
    union = x.sum(1)[:, None] + y.sum(1)[None, :] - c
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = c / union
    sim[union == 0] = 1.0  # MOSES: two empty fingerprints are identical
    return sim


def _random_fingerprints(rng: np.random.Generator, n: int, bits: int = 64) -> np.ndarray:
    fps = (rng.random((n, bits)) < rng.uniform(0.02, 0.3, size=(n, 1))).astype(np.uint8)
    fps[0] = 0  # an empty fingerprint
    return fps


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_max_similarity_matches_direct_computation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference = _random_fingerprints(rng, 300)
    generated = _random_fingerprints(rng, 70)
    generated[5] = reference[17]  # an exact copy: similarity 1 through the hash path
    got = max_similarity(reference, generated, block=64)
    want = _tanimoto(generated, reference).max(1)
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert got[5] == 1.0


def test_empty_generated_fingerprint_is_zero_without_an_empty_reference() -> None:
    reference = np.eye(4, dtype=np.uint8)
    generated = np.zeros((2, 4), dtype=np.uint8)
    generated[1, 0] = 1
    np.testing.assert_allclose(max_similarity(reference, generated), [0.0, 1.0])


@pytest.mark.parametrize("p", [1, 2])
def test_power_mean_with_weights_equals_repeated_rows(p: int) -> None:
    rng = np.random.default_rng(3)
    distinct = _random_fingerprints(rng, 40)
    weights = rng.integers(1, 4, size=40)
    repeated = np.repeat(distinct, weights, axis=0)
    got = power_mean_similarity(distinct, weights, p=p, block=16)
    sim = _tanimoto(repeated, repeated) ** p
    want_repeated = sim.mean(1) ** (1 / p)
    want = np.repeat(got, weights)
    np.testing.assert_allclose(want, want_repeated, atol=1e-6)


def test_dense_fingerprints_sets_the_listed_bits() -> None:
    fps = dense_fingerprints([np.array([0, 3]), np.array([], dtype=np.uint16)], 5)
    assert fps.tolist() == [[1, 0, 0, 1, 0], [0, 0, 0, 0, 0]]
