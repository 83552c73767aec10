"""GuacaMol's distribution-learning scores: hand cases and guacamol 0.5.5's own numbers."""

from __future__ import annotations

import math

import pytest

from conftest import SHARED
from moldojo.evaluation.guacamol import GUACAMOL_KEYS, guacamol_metrics

FIXTURES = SHARED / "fixtures" / "metrics"
TRAIN = ["CCO", "CCN", "c1ccccc1", "CC(=O)O", "CCCC", "c1ccncc1", "CC(C)O", "OCCO"]


def test_stream_semantics_by_hand() -> None:
    # Given four samples: two valid, one empty, one garbage; stereo twins count once
    generated = ["C[C@H](N)O", "", "xyz", "C[C@@H](N)O"]
    result = guacamol_metrics(generated, TRAIN, number_samples=4)
    s = result.scores
    assert s["validity"] == pytest.approx(2 / 4)
    assert s["uniqueness"] == pytest.approx(1 / 4)  # stereo-blind: the two are one molecule
    assert s["novelty"] == pytest.approx(1 / 4)  # both enantiomers unique, one stereo-blind form
    assert any("penalised" in note for note in result.notes)


def test_novelty_against_training_set() -> None:
    result = guacamol_metrics(["CCO", "OCC", "CCCl", "CCBr"], TRAIN, number_samples=3)
    # first 3 distinct canonical samples are CCO, CCCl, CCBr; CCO is in the training set
    assert result.scores["novelty"] == pytest.approx(2 / 3)
    assert result.number_samples == 3


def test_training_copies_score_near_one() -> None:
    result = guacamol_metrics(TRAIN, TRAIN, number_samples=len(TRAIN))
    assert result.scores["validity"] == result.scores["uniqueness"] == 1.0
    assert result.scores["novelty"] == 0.0
    assert result.scores["KL_divergence"] == pytest.approx(1.0, abs=1e-6)
    assert result.fcd == pytest.approx(0.0, abs=1e-3)


def test_empty_input_is_undefined_with_a_note() -> None:
    result = guacamol_metrics([], TRAIN)
    assert all(math.isnan(result.scores[k]) for k in GUACAMOL_KEYS) and result.notes


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared metric fixtures absent")
def test_gen_b_matches_guacamol_0_5_5() -> None:
    # Reference: benchmarks/guacamol_reference.py gen_b.smi TRAIN --samples 1000, TRAIN = the
    # first 5,000 molecules of moses-mini:train, run with guacamol 0.5.5's own benchmark classes,
    # RDKit 2026.09.1 and fcd_torch 1.0.7.
    want = {
        "validity": 0.98,
        "uniqueness": 0.95,
        "novelty": 0.95,
        "KL_divergence": 0.9867511142530562,
        "FCD_score": 0.5664521414430134,
    }
    from moldojo.data import resolve_one

    records = resolve_one("moses-mini:train").records()
    train = [text.split()[0] for _, text in records][:5000]
    generated = [line.strip() for line in (FIXTURES / "gen_b.smi").read_text().splitlines()]
    got = guacamol_metrics(generated, train, number_samples=1000, n_jobs=2).scores
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-6), key
