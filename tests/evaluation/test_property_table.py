"""Properties and reconstruction accuracy on hand-computed cases."""

from __future__ import annotations

import math

import pytest
from rdkit import Chem
from rdkit.Chem import Crippen

from moldojo.chem.properties import (
    largest_basis_cycle,
    largest_ring_size,
    penalized_logp,
    penalized_logp_normalized,
    sa_score,
)
from moldojo.evaluation.properties import PROPERTY_NAMES, property_table
from moldojo.evaluation.reconstruction import reconstruction_accuracy


def test_normalised_penalised_logp_is_the_jtvae_formula() -> None:
    # Given cyclononane: one ring of nine atoms, so a cycle penalty of 3
    mol = Chem.MolFromSmiles("C1CCCCCCCC1")
    assert largest_basis_cycle(mol) == largest_ring_size(mol) == 9
    logp, sa = Crippen.MolLogP(mol), sa_score(mol)
    # Then each term is standardised with JT-VAE's ZINC-250k constants
    want = (
        (logp - 2.4570953396190123) / 1.434324401111988
        + (-sa + 3.0525811293166134) / 0.8335207024513095
        + (-3 + 0.0485696876403053) / 0.2860212110245455
    )
    assert penalized_logp_normalized(mol) == pytest.approx(want)
    assert penalized_logp(mol) == pytest.approx(logp - sa - 3)


def test_property_table_marks_invalid_as_nan() -> None:
    table = property_table(["CCO", "C1CC", "c1ccccc1"])
    assert set(table) == set(PROPERTY_NAMES)
    assert math.isnan(table["QED"][1]) and not math.isnan(table["QED"][0])
    assert table["weight"][2] == pytest.approx(78.114, abs=1e-3)


def test_reconstruction_accuracy_stereo_aware_and_blind() -> None:
    inputs = ["C[C@H](N)O", "CCO", "c1ccccc1", "not smiles"]
    decoded = ["C[C@@H](N)O", "OCC", None, "CC"]
    aware = reconstruction_accuracy(inputs, decoded, stereo=True)
    blind = reconstruction_accuracy(inputs, decoded, stereo=False)
    assert (aware.n, aware.matched, aware.invalid_decoded, aware.invalid_inputs) == (3, 1, 1, 1)
    assert aware.accuracy == pytest.approx(1 / 3)
    assert blind.accuracy == pytest.approx(2 / 3)
    assert blind.summary() == "reconstruction accuracy: 66.7% (n=3, stereo-blind)"
    with pytest.raises(ValueError, match="2 inputs but 1"):
        reconstruction_accuracy(["C", "CC"], ["C"])
