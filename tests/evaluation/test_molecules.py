"""Per-molecule quantities: the definitions MOSES uses, computed once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import AllChem

from moldojo.evaluation import molecules
from moldojo.evaluation.molecules import describe, get_mol, morgan_bits, passes_filters, scaffold

HARD = Path(__file__).resolve().parents[1] / "chem" / "hard_smiles.txt"
# Molecules that MOSES's filters reject, one per reason.
REJECTED = {
    "c1ccccc1N=Nc1ccccc1N(C)C": "PAINS azo",
    "C1CCCCCCC1": "ring of eight",
    "C[N+](C)(C)C": "charge",
    "CCP(C)C": "element",
    "O=C1C=CC(=O)C=C1": "MCF quinone",
}


def _sample_smiles() -> list[str]:
    lines = [line.split()[0] for line in HARD.read_text().splitlines() if line.strip()]
    return [s for s in lines if not s.startswith("#")]


def test_get_mol_rejects_empty_and_invalid() -> None:
    assert get_mol("") is None
    assert get_mol("C1CC") is None
    assert get_mol("C(C)(C)(C)(C)C") is None
    assert get_mol("CCO") is not None


def test_morgan_bits_equal_the_bit_vector_api() -> None:
    for smiles in ["CCO", "c1ccc2ccccc2c1", "C[C@H](N)C(=O)O", "[2H]C(Cl)=C/C=C/Br"]:
        mol = Chem.MolFromSmiles(smiles)
        legacy = AllChem.GetMorganFingerprintAsBitVect(mol, 2, nBits=1024)
        assert morgan_bits(mol).tolist() == list(legacy.GetOnBits())


@pytest.mark.parametrize("smiles", sorted(REJECTED))
def test_filters_reject_each_reason(smiles: str) -> None:
    assert not passes_filters(Chem.MolFromSmiles(smiles)), REJECTED[smiles]


def test_screened_filter_matching_equals_matching_every_pattern() -> None:
    # Given molecules that hit and miss the MCF/PAINS patterns
    smiles = _sample_smiles() + list(REJECTED) + ["Oc1ccccc1O", "N#CC(C#N)=Cc1ccccc1", "CCO"]
    hits = 0
    for text in smiles:
        mol = Chem.MolFromSmiles(text)
        if mol is None:
            continue
        with_hs = Chem.AddHs(mol)
        # When matched with and without the pattern-fingerprint screen
        every = any(with_hs.HasSubstructMatch(p) for p, _ in molecules._filter_patterns())
        # Then the answers agree
        assert molecules.has_filter_match(with_hs) == every, text
        hits += every
    assert hits >= 3


def test_scaffold_needs_two_rings() -> None:
    assert scaffold(Chem.MolFromSmiles("Cc1ccccc1")) is None
    assert scaffold(Chem.MolFromSmiles("Cc1ccc(-c2ccccn2)cc1")) == "c1ccc(-c2ccccn2)cc1"


def test_describe_invalid_and_valid() -> None:
    assert not describe("not a smiles").valid
    record = describe("OC(=O)c1ccccc1")
    assert record.valid and record.canonical == record.recanonical == "O=C(O)c1ccccc1"
    assert record.passes_filters
    assert record.bits.dtype == np.uint16 and len(record.bits) > 5
    assert "O=C(O)c1ccccc1" not in record.fragments  # BRICS cuts the acid off the ring
    assert 0 < record.qed < 1 and 1 <= record.sa <= 10
    assert record.weight == pytest.approx(122.123, abs=1e-3)
