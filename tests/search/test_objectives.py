"""Objectives: the built-in scores equal RDKit's, specs combine, and a user's function that
misbehaves is reported in one line."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from rdkit import Chem
from rdkit.Chem import QED, Crippen

from moldojo.chem.properties import penalized_logp_normalized, sa_score
from moldojo.search import tanimoto
from moldojo.search.objectives import ObjectiveError, make_objective

MOLECULES = ["CC(=O)Nc1ccc(O)cc1", "O=C(O)c1ccccc1OC(C)=O", "CCCCCCCCCC"]


def test_builtin_objectives_are_rdkits_scores_higher_is_better() -> None:
    mols = [Chem.MolFromSmiles(s) for s in MOLECULES]
    assert make_objective("qed")(MOLECULES) == pytest.approx([QED.qed(m) for m in mols])
    assert make_objective("logp")(MOLECULES) == pytest.approx([Crippen.MolLogP(m) for m in mols])
    assert make_objective("sa")(MOLECULES) == pytest.approx([-sa_score(m) for m in mols])
    assert make_objective("PLogP")(MOLECULES) == pytest.approx(
        [penalized_logp_normalized(m) for m in mols])  # fmt: skip
    similarity = make_objective(f"similarity:{MOLECULES[0]}")(MOLECULES)
    assert similarity[0] == 1.0
    assert similarity[1] == pytest.approx(tanimoto(MOLECULES[0], MOLECULES[1]))


def test_weighted_specs_are_summed() -> None:
    objective = make_objective(["2*qed", "-0.5 * logp", "1e-1*sa"])
    qed, logp, sa = (make_objective(s)(MOLECULES) for s in ("qed", "logp", "sa"))
    expected = [2 * q - 0.5 * p + 0.1 * s for q, p, s in zip(qed, logp, sa, strict=True)]
    assert objective(MOLECULES) == pytest.approx(expected)
    assert objective.name == "2*qed + -0.5 * logp + 1e-1*sa"


BAD_SPECS = [
    "nope",
    "qed2",
    "similarity:",
    "similarity:c1cc",
    "2*",
    "python:",
    "python:nomodule",
    "python:json:nothing",
    "python:no_such_module_xyz:f",
    "python:json:__doc__",
]


@pytest.mark.parametrize("spec", BAD_SPECS)
def test_a_bad_spec_is_one_line(spec: str) -> None:
    with pytest.raises(ObjectiveError) as error:
        make_objective(spec)
    assert "\n" not in str(error.value)


def test_python_targets_by_module_and_by_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:  # fmt: skip
    (tmp_path / "my_scores.py").write_text(
        "def length(smiles):\n    return [float(len(s)) for s in smiles]\n"
        "def raises(smiles):\n    raise RuntimeError('boom')\n"
        "def short(smiles):\n    return [1.0]\n"
        "def words(smiles):\n    return ['a' for s in smiles]\n"
        "def some_none(smiles):\n    return [None for s in smiles]\n"
    )
    monkeypatch.chdir(tmp_path)
    # A module in the current directory, and the same file by its path
    for spec in ("python:my_scores:length", f"python:{tmp_path / 'my_scores.py'}:length"):
        assert make_objective(spec)(["CCO", "C"]) == [3.0, 1.0]
    # A target that raises, returns the wrong length or not numbers: one line each
    for name, message in (("raises", "raised RuntimeError: boom"),
                          ("short", "returned 1 values for 2 molecules"),
                          ("words", "not a number")):  # fmt: skip
        with pytest.raises(ObjectiveError, match=message) as error:
            make_objective(f"python:my_scores:{name}")(["CCO", "C"])
        assert "\n" not in str(error.value)
    # None means "cannot score": NaN
    assert all(math.isnan(v) for v in make_objective("python:my_scores:some_none")(["CCO"]))


def test_a_callable_is_an_objective() -> None:
    objective = make_objective(lambda smiles: [1.0] * len(smiles))
    assert objective(["C", "CC"]) == [1.0, 1.0]
