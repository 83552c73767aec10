"""``moldojo evaluate`` end to end, in process."""

from __future__ import annotations

import json

import pytest

from moldojo.cli import main
from moldojo.evaluation import MOSES_KEYS


def test_evaluate_writes_exactly_the_moses_keys_and_plots(tmp_path, capsys) -> None:
    gen = tmp_path / "gen.smi"
    gen.write_text("CCO\nc1ccccc1\n\nnot-a-smiles\nCC(=O)Nc1ccc(O)cc1\nc1ccc2[nH]ccc2c1\n")
    ref = tmp_path / "ref.smi"
    ref.write_text("CCO\nc1ccccc1\nCC(=O)Nc1ccc(O)cc1\nc1ccc2[nH]ccc2c1\nCCN\n")
    out = tmp_path / "out.json"
    code = main(["evaluate", str(gen), "--ref", str(ref), "--train", str(ref), "--json",
                 str(out), "--plots", str(tmp_path / "plots"), "--jobs", "1"])  # fmt: skip
    assert code == 0
    metrics = json.loads(out.read_text())
    assert list(metrics) == list(MOSES_KEYS)
    assert metrics["valid"] == pytest.approx(4 / 6)
    assert metrics["Novelty"] == 0.0  # every valid molecule is in the training file
    assert metrics["SNN/Test"] == pytest.approx(1.0)
    plots = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert plots == ["QED.png", "SA.png", "logP.png", "weight.png"]
    captured = capsys.readouterr()
    assert "valid" in captured.out and "0.6667" in captured.out
    assert "6 lines, 4 valid" in captured.err  # a count -q leaves out (only errors)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"\xff\xfe\x00binary", "not a UTF-8 text file")],
)
def test_bad_files_give_one_line_errors(tmp_path, capsys, content, message) -> None:
    gen = tmp_path / "gen.smi"
    gen.write_bytes(content)
    assert main(["evaluate", str(gen), "-q"]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_missing_file(tmp_path, capsys) -> None:
    assert main(["evaluate", str(tmp_path / "nope.smi"), "-q"]) == 1
    assert "no such file" in capsys.readouterr().err


def test_evaluate_guacamol_suite(tmp_path) -> None:
    gen = tmp_path / "gen.smi"
    gen.write_text("CCO\nc1ccccc1\nCCCl\nCC(=O)Nc1ccc(O)cc1\nCCBr\nCCCBr\n")
    train = tmp_path / "train.smi"
    train.write_text("CCO\nc1ccccc1O\nCC(=O)Nc1ccc(O)cc1\nCCN\nCCCC\nCCOC\n")
    out = tmp_path / "out.json"
    code = main(["evaluate", str(gen), "--suite", "guacamol", "--train", str(train),
                 "--guacamol-samples", "6", "--json", str(out), "-q", "--jobs", "1"])  # fmt: skip
    assert code == 0
    scores = json.loads(out.read_text())
    assert set(scores) == {"validity", "uniqueness", "novelty", "KL_divergence", "FCD_score", "FCD"}
    assert scores["validity"] == 1.0 and scores["novelty"] == pytest.approx(4 / 6)
