"""The MOSES suite: hand-computed cases, and the reference implementation's own outputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import SHARED
from moldojo.evaluation import MOSES_KEYS, moses_metrics, reference_from_smiles
from moldojo.evaluation.reference import _save, load_cached

FIXTURES = SHARED / "fixtures" / "metrics"
REFERENCE = ["CCO", "c1ccccc1", "CC(=O)Nc1ccc(O)cc1", "c1ccc2[nH]ccc2c1", "CCN(CC)CC"]


@pytest.fixture(scope="module")
def tiny_reference():
    return reference_from_smiles("tiny", REFERENCE)


def _metrics(generated, reference, train=()):
    return moses_metrics(
        generated, test=reference, test_scaffolds=reference, train=frozenset(train)
    )


def test_reference_copies_score_as_identical(tiny_reference) -> None:
    # Given the reference molecules themselves, written differently
    generated = ["OCC", "c1ccccc1", "CC(=O)Nc1ccc(O)cc1", "c1ccc2[nH]ccc2c1", "CCN(CC)CC"]
    # When scored against that reference
    result = _metrics(generated, tiny_reference, train=["CCO"])
    m = result.metrics
    # Then they are valid, unique, their nearest neighbour is themselves and distributions match
    assert m["valid"] == 1.0 and m["unique@1000"] == 1.0
    assert m["SNN/Test"] == pytest.approx(1.0)
    assert m["Frag/Test"] == pytest.approx(1.0)
    assert m["Scaf/Test"] == pytest.approx(1.0)  # indole is the only 2-ring scaffold
    for key in ("logP", "SA", "QED", "weight"):
        assert m[key] == pytest.approx(0.0, abs=1e-12)
    assert m["FCD/Test"] == pytest.approx(0.0, abs=1e-3)
    assert m["Novelty"] == pytest.approx(4 / 5)  # CCO is in the training set
    assert any("unique@1000" in note for note in result.notes)


def test_validity_uniqueness_and_int_div_by_hand(tiny_reference) -> None:
    # Given two valid copies of one molecule, one stereo-free duplicate form, and junk
    generated = ["CCO", "OCC", "", "C1CC", "not smiles", "c1ccccc1"]
    m = _metrics(generated, tiny_reference).metrics
    assert m["valid"] == pytest.approx(3 / 6)
    assert m["unique@1000"] == pytest.approx(2 / 3)  # over the three valid ones
    # IntDiv over all ordered pairs, self-pairs included: ethanol x2 and benzene share no bit
    assert m["IntDiv"] == pytest.approx(1 - (2 * (2 / 3) + 1 * (1 / 3)) / 3)
    assert m["Filters"] == 1.0


def test_undefined_metrics_are_nan_with_a_note(tiny_reference) -> None:
    empty = _metrics([], tiny_reference)
    assert all(math.isnan(v) for v in empty.metrics.values()) and empty.notes
    junk = _metrics(["xx", "", "C1CC"], tiny_reference)
    assert junk.metrics["valid"] == 0.0
    assert all(math.isnan(v) for k, v in junk.metrics.items() if k != "valid")
    assert list(junk.metrics) == list(MOSES_KEYS)


def test_reference_cache_round_trip(tiny_reference, tmp_path) -> None:
    _save(tiny_reference, tmp_path / "ref.npz")
    again = load_cached(tmp_path / "ref.npz")
    assert again.name == "tiny"
    np.testing.assert_array_equal(again.fingerprints, tiny_reference.fingerprints)
    assert again.fragments == tiny_reference.fragments
    assert again.scaffolds == tiny_reference.scaffolds
    np.testing.assert_array_equal(again.fcd.sigma, tiny_reference.fcd.sigma)
    for key, values in tiny_reference.properties.items():
        np.testing.assert_array_equal(again.properties[key], values)
    assert load_cached(tmp_path / "missing.npz") is None


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared metric fixtures absent")
def test_gen_b_matches_the_moses_reference_implementation() -> None:
    # Given a 1,000-line generator output and what molsets 0.3.1 printed for it
    generated = [line.strip() for line in (FIXTURES / "gen_b.smi").read_text().splitlines()]
    want = json.loads((FIXTURES / "gen_b.moses.json").read_text())
    # When moldojo computes the suite with the same references and training set
    got = moses_metrics(generated, jobs=2).metrics
    # Then every key agrees: within 1e-3, FCD within 1e-3 relative
    assert set(got) == set(MOSES_KEYS)
    for key in MOSES_KEYS:
        tolerance = 1e-3 * abs(want[key]) if key.startswith("FCD") else 1e-3
        assert abs(got[key] - want[key]) <= tolerance, (key, got[key], want[key])
