"""Molecular properties on hand-checked cases."""

from __future__ import annotations

import pytest
from rdkit import Chem
from rdkit.Chem import Crippen

from moldojo.chem.properties import largest_ring_size, penalized_logp, sa_score


def test_largest_ring() -> None:
    assert largest_ring_size(Chem.MolFromSmiles("CCO")) == 0
    assert largest_ring_size(Chem.MolFromSmiles("c1ccc2ccccc2c1")) == 6
    assert largest_ring_size(Chem.MolFromSmiles("C1CCCCCCCCCCC1")) == 12


def test_penalized_logp_is_logp_minus_sa_minus_ring_penalty() -> None:
    # Given a 12-membered ring (penalty 12 - 6 = 6)
    mol = Chem.MolFromSmiles("C1CCCCCCCCCCC1")
    expected = Crippen.MolLogP(mol) - sa_score(mol) - 6
    assert penalized_logp(mol) == pytest.approx(expected)
    # And benzene, no ring penalty, easy to make
    benzene = Chem.MolFromSmiles("c1ccccc1")
    assert sa_score(benzene) < 2
    assert penalized_logp(benzene) == pytest.approx(Crippen.MolLogP(benzene) - sa_score(benzene))
