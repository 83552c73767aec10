"""GuacaMol's distribution-learning metrics: hand-computed cases, the file-as-generator stream, and
guacamol 0.5.5's own numbers on a shared fixture."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from conftest import SHARED
from moldojo.errors import ConfigError
from moldojo.evaluation.guacamol import (
    GUACAMOL_KEYS,
    _random_subset_indices,
    guacamol_metrics,
    guacamol_reference,
    nearest_neighbour_similarity,
)

FIXTURES = SHARED / "fixtures" / "metrics"
#: Twenty varied drug-like molecules: enough spread for every KL density estimate.
DRUGS = [
    "CC(=O)Oc1ccccc1C(=O)O", "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "CN1CCC[C@H]1c1cccnc1",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "CC(=O)Nc1ccc(O)cc1", "OC(=O)c1ccccc1O",
    "c1ccc2[nH]ccc2c1", "CCN(CC)CC", "O=C(O)CCc1ccccc1", "COc1ccc(CCN)cc1",
    "NC(=O)c1cccnc1", "CC1=CC(=O)CC(C)(C)C1", "Clc1ccc(Cl)c(Cl)c1", "CCOC(=O)c1ccc(N)cc1",
    "O=C1CCCCC1", "c1ccc(-c2ccccn2)nc1", "CC(C)(C)OC(=O)NCC(=O)O", "OCC1OC(O)C(O)C(O)C1O",
    "CSc1ccc(C=O)cc1", "N#Cc1ccc(Br)cc1",
]  # fmt: skip


def _metrics(generated, training, n, **kwargs):
    return guacamol_metrics(generated, training, number_samples=n, progress=False, **kwargs)


def test_validity_of_the_first_n_lines() -> None:
    # Given an empty string, a non-SMILES and two molecules
    result = _metrics(["C", "", "xyz", "CC"], ["CCO", "CCN"], 4)
    # Then half of the first four lines are valid
    assert result.validity == 0.5
    assert result.counts["number_valid"] == 2
    # And the later scores, short of molecules, are penalised with a note
    assert result.uniqueness == 2 / 4
    assert any("penalised" in note for note in result.notes)


def test_uniqueness_is_stereo_blind_and_novelty_compares_stereo_blind_forms() -> None:
    # Given two enantiomers, their stereo-free form and ethanol written backwards
    generated = ["C[C@H](N)O", "C[C@@H](N)O", "CC(N)O", "OCC"]
    # When ethanol is the whole training set
    result = _metrics(generated, ["CCO"], 4)
    # Then all are valid, but stereo-blind there are two molecules
    assert result.validity == 1.0
    assert result.uniqueness == 2 / 4
    # Novelty samples four distinct *isomeric* molecules, of which one stereo-blind form is novel
    assert result.counts["number_unique_sampled"] == 4
    assert result.novelty == 1 / 4


def test_the_file_is_read_as_a_stream_with_guacamol_tries() -> None:
    # Given n = 2 and a file whose molecules come late
    generated = ["xyz", "xyz", "C", "xyz", "CC", "CCC"]
    result = _metrics(generated, ["CCO", "CCN"], 2)
    # Then validity sees only the first two lines
    assert result.validity == 0.0
    # sample_valid_molecules asks for 2 (none valid), 2 (C), then 1 (CC): two valid of n
    assert result.counts["number_valid_sampled"] == 2 and result.uniqueness == 1.0
    # sample_unique_molecules (max_tries 2) stops after 4 lines drawn: only C
    assert result.counts["number_unique_sampled"] == 1 and result.novelty == 1 / 2


def test_an_empty_line_is_a_unique_molecule_as_in_guacamol() -> None:
    # guacamol's canonicalize("") is "" (RDKit reads an empty molecule), so sample_unique_molecules
    # keeps it and NoveltyBenchmark counts it, although ValidityBenchmark does not.
    result = _metrics(["", "C"], ["CCO", "CCN"], 2)
    assert result.validity == 0.5
    assert result.novelty == 1.0


def test_novelty_against_a_small_training_set() -> None:
    # Given ethanol twice (one written backwards) and two halides; ethanol is in training
    result = _metrics(["CCO", "OCC", "CCCl", "CCBr"], ["CCO", "CCN"], 3)
    # Then the first three distinct molecules are CCO, CCCl and CCBr, two of them novel
    assert result.counts["number_novel"] == 2
    assert result.novelty == pytest.approx(2 / 3)


def test_training_copies_have_kl_score_one_and_fcd_zero() -> None:
    # Given the training set itself, reordered and written non-canonically where possible
    generated = [Chem.MolToSmiles(Chem.MolFromSmiles(s), doRandom=True) for s in DRUGS[::-1]]
    # When n is the training set's size (so the training subset is all of it)
    result = _metrics(generated, DRUGS, len(DRUGS))
    # Then every descriptor distribution is the same, and so is the ChemNet one
    assert result.validity == result.uniqueness == 1.0
    assert result.novelty == 0.0
    assert max(result.kl_divs.values()) == pytest.approx(0.0, abs=1e-12)
    assert result.kl_divergence == pytest.approx(1.0, abs=1e-12)
    assert result.fcd == pytest.approx(0.0, abs=1e-3)
    assert result.fcd_score == pytest.approx(1.0, abs=1e-3)


def test_to_dict_keys() -> None:
    result = _metrics(DRUGS[:10], DRUGS, 10)
    out = result.to_dict()
    assert set(out) == {*GUACAMOL_KEYS, "metadata"}
    assert out["metadata"]["number_samples"] == 10
    assert set(out["metadata"]["kl_divs"]) == {
        "BertzCT", "MolLogP", "MolWt", "TPSA", "NumHAcceptors", "NumHDonors",
        "NumRotatableBonds", "NumAliphaticRings", "NumAromaticRings", "internal_similarity",
    }  # fmt: skip
    assert out["FCD_score"] == pytest.approx(math.exp(-0.2 * out["FCD"]))


def test_small_training_set_is_used_whole_with_a_warning(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="moldojo.evaluation.guacamol"):
        result = _metrics(DRUGS[:12], DRUGS[:15], 20)
    assert result.counts["training_subset"] == 15
    assert "use all of them" in caplog.text
    assert not math.isnan(result.kl_divergence)


def test_empty_input_gives_zeros_and_undefined_with_a_warning(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="moldojo.evaluation.guacamol"):
        result = _metrics([], DRUGS, 10)
    assert result.validity == result.uniqueness == result.novelty == 0.0
    assert math.isnan(result.kl_divergence) and math.isnan(result.fcd_score)
    assert "no samples" in caplog.text


def test_too_few_molecules_give_undefined_kl_not_a_traceback() -> None:
    # One molecule repeated: guacamol's KDE would raise on a single point
    result = _metrics(["CCO"] * 5, DRUGS, 5)
    assert result.uniqueness == 1 / 5
    assert math.isnan(result.kl_divs["BertzCT"]) and math.isnan(result.kl_divergence)
    assert not math.isnan(result.kl_divs["NumHDonors"])  # a histogram needs no spread


def test_a_precomputed_reference_gives_the_same_result() -> None:
    reference = guacamol_reference(DRUGS, number_samples=8, progress=False)
    direct = _metrics(DRUGS[5:17], DRUGS, 8)
    reused = _metrics(DRUGS[5:17], reference, 8)
    assert reused.to_dict() == direct.to_dict()
    with pytest.raises(ConfigError, match="number_samples"):
        _metrics(DRUGS, reference, 9)


def test_random_subset_is_numpys_seed_42_choice() -> None:
    # guacamol: np.random.seed(42); np.random.choice(dataset, n, replace=False)
    dataset = [f"C{'C' * i}O" for i in range(50)]
    state = np.random.get_state()
    try:
        np.random.seed(42)
        want = list(np.random.choice(dataset, 17, replace=False))
    finally:
        np.random.set_state(state)
    assert [dataset[i] for i in _random_subset_indices(len(dataset), 17)] == want


@pytest.mark.parametrize("block", [3, 2048])
def test_nearest_neighbour_similarity_is_rdkits(block: int) -> None:
    # Given molecules including two empty ones (Tanimoto 0 between them in RDKit)
    mols = [Chem.MolFromSmiles(s) for s in [*DRUGS, "", "C", ""]]
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=4096)
    fps = [generator.GetFingerprint(m) for m in mols]
    n = len(fps)
    want = np.zeros((n, n))
    for i in range(n):
        want[i] = DataStructs.BulkTanimotoSimilarity(fps[i], fps)
    np.fill_diagonal(want, 0.0)
    bits = [np.array(list(fp.GetOnBits()), dtype=np.uint16) for fp in fps]
    got = nearest_neighbour_similarity(bits, block=block)
    np.testing.assert_array_equal(got, want.max(axis=1))


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared metric fixtures absent")
def test_gen_b_matches_guacamol_0_5_5() -> None:
    # Printed by guacamol 0.5.5's own benchmark classes (RDKit 2026.09.1, SciPy 1.17.1, NumPy
    # 2.4.6, fcd_torch 1.0.7 for ChemNet), the training file being the first 5,000 SMILES of
    # moses-mini:train, one per line:
    #   /tmp/refvenv/bin/python benchmarks/guacamol_reference.py \
    #       /work/shared/fixtures/metrics/gen_b.smi /tmp/train5k.smi --samples 1000
    want = {
        "validity": 0.98,
        "uniqueness": 0.95,
        "novelty": 0.95,
        "KL_divergence": 0.9867511142530562,
        "FCD_score": 0.5664521414430134,
        "FCD": 2.8418134160361603,
    }
    want_kl = {
        "BertzCT": 0.015491693004934895,
        "MolLogP": 0.029501762563081017,
        "MolWt": 0.003579742072317961,
        "TPSA": 0.004384357128111721,
        "NumHAcceptors": 0.023388920650096307,
        "NumHDonors": 0.004209830350491623,
        "NumRotatableBonds": 0.007643856946378724,
        "NumAliphaticRings": 0.008078172207533226,
        "NumAromaticRings": 0.009235568187848202,
        "internal_similarity": 0.028323043735154728,
    }
    from moldojo.data import resolve_one

    train = [text.split()[0] for _, text in resolve_one("moses-mini:train").records()][:5000]
    lines = (FIXTURES / "gen_b.smi").read_text().splitlines()
    generated = [line.split()[0] if line.split() else "" for line in lines]
    got = guacamol_metrics(generated, train, number_samples=1000, n_jobs=2, progress=False)
    out = got.to_dict()
    for key, value in want.items():
        # ChemNet's float32 activations and the Fréchet trace differ in round-off (~1e-7)
        tolerance = 1e-5 if key.startswith("FCD") else 1e-9
        assert out[key] == pytest.approx(value, abs=tolerance), key
    for key, value in want_kl.items():
        assert out["metadata"]["kl_divs"][key] == pytest.approx(value, abs=1e-9), key
