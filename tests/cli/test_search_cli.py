"""moldojo interpolate and moldojo neighbours, end to end and in process."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from rdkit import Chem

import moldojo
from cli_helpers import run_cli
from moldojo.chem.scaffold import keeps_scaffold
from moldojo.cli import main
from moldojo.search import tanimoto

A, B = "CC(=O)Nc1ccc(O)cc1", "Cc1ccccc1C(=O)OCC"


@pytest.mark.parametrize("model", [[], ["two-step"]])
def test_interpolate_prints_steps_plus_two_lines(
    model: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a, b = (A, B) if not model else ("CCO", "OC1CC1C#N")
    # When interpolating with 3 steps, drawing the strip
    grid = tmp_path / "strip.png"
    assert main(["interpolate", *model, a, b, "--steps", "3", "--path", "slerp",
                 "--grid", str(grid)]) == 0  # fmt: skip
    out, err = capsys.readouterr()
    lines = out.splitlines()
    # Then 5 lines, the reconstructions first and last, one summary line on stderr
    assert len(lines) == 5
    assert main(["interpolate", *model, a, a, "--steps", "1"]) == 0
    assert capsys.readouterr().out.splitlines() == [lines[0]] * 3
    assert err.count("\n") == 1 and "moves changed the molecule" in err
    assert grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # And the same command gives the same lines
    assert main(["interpolate", *model, a, b, "--steps", "3", "--path", "slerp"]) == 0
    assert capsys.readouterr().out.splitlines() == lines


def test_interpolate_to_a_file_reports_on_stdout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "path.smi"
    assert main(["interpolate", A, B, "--steps", "2", "-o", str(out_file)]) == 0
    out, _ = capsys.readouterr()
    assert len(out_file.read_text().splitlines()) == 4
    assert out.count("\n") == 1 and str(out_file) in out


@pytest.mark.parametrize("model", [[], ["two-step"]])
def test_neighbours_are_seeded_and_scored(
    model: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    query = A if not model else "CCO"
    args = ["neighbours", *model, query, "-n", "6", "--radius", "0.5", "--seed", "3"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    rows = [line.split("\t") for line in out.splitlines()]
    # Then 6 rows SMILES<TAB>similarity, most similar first, similarity as RDKit has it
    assert len(rows) == 6 and all(len(r) == 2 for r in rows)
    values = [float(v) for _, v in rows]
    assert values == sorted(values, reverse=True)
    for smiles, value in rows:
        assert value == f"{tanimoto(query, smiles):.3f}"
    assert err.count("\n") == 1 and "valid" in err and "unique" in err
    # And the same seed gives the same output, another seed may not
    assert main(args) == 0
    assert capsys.readouterr().out == out


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        (["interpolate", "C1CC", B, "--steps", "2"], 1),
        (["interpolate", A, "not-a-smiles", "--steps", "2"], 1),
        (["interpolate", A, B, "--steps", "0"], 2),
        (["interpolate", A, B, "--steps", "-3"], 2),
        (["interpolate", A, "--steps", "2"], 1),
        (["neighbours", "C1CC", "-n", "2"], 1),
        (["neighbours", A, "-n", "0"], 2),
        (["neighbours", A, "--radius", "nan"], 2),
        (["neighbours", A, "--radius", "-1"], 2),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    argv: list[str], status: int, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file, grid = tmp_path / "sub" / "out.txt", tmp_path / "grid.png"
    assert run_cli([*argv, "-o", str(out_file), "--grid", str(grid)]) == status
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "error" in err
    assert list(tmp_path.iterdir()) == []


def test_failed_decodes_are_empty_lines_and_counted(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a model whose odd rows fail to decode
    from moldojo.cli import interpolate, neighbours
    from moldojo.models.generator import Decoded

    def load(run_dir: str | None, device: str):  # noqa: ANN202
        model = moldojo.load("two-step")
        decode = model.decode

        def patched(z, **kwargs):  # noqa: ANN001, ANN003, ANN202
            out = decode(z, **kwargs)
            smiles = [None if i % 2 else s for i, s in enumerate(out)]
            reasons = [("valence" if i % 2 else r) for i, r in enumerate(out.reasons)]
            return Decoded(smiles, reasons)

        model.decode = patched
        return model

    monkeypatch.setattr(interpolate, "load_model", load)
    monkeypatch.setattr(neighbours, "load_model", load)
    # When interpolating: an empty line for each failure, counted with its reason
    assert main(["interpolate", "CCO", "OC1CC1C#N", "--steps", "3"]) == 0
    out, err = capsys.readouterr()
    lines = out.split("\n")[:-1]
    assert len(lines) == 5 and lines[1] == lines[3] == "" and lines[0] and lines[4]
    assert "2 failed to decode (valence 2)" in err
    # When taking neighbours, drawing them: failures last, "<TAB>nan"
    grid = tmp_path / "near.png"
    assert main(["neighbours", "CCO", "-n", "4", "--grid", str(grid)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[2:] == ["\tnan", "\tnan"] and "2 valid" in err
    assert grid.exists()


# -- optimize and sample --scaffold -----------------------------------------------------------


def test_optimize_writes_results_summary_and_progress(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # When two methods optimise QED into sibling directories
    runs = tmp_path / "runs"
    for method in ("random", "ga"):
        argv = ["optimize", "--objective", "qed", "--method", method, "--budget", "25",
                "--batch", "10", "--seed", "2", "--out", str(runs / method), "-q"]  # fmt: skip
        assert main(argv) == 0
    out, err = capsys.readouterr()
    # Then each directory holds the three files, the CSV one row per call
    for method in ("random", "ga"):
        folder = runs / method
        assert sorted(p.name for p in folder.iterdir()) == [
            "progress.png", "results.csv", "summary.json"]  # fmt: skip
        rows = list(csv.DictReader((folder / "results.csv").open()))
        assert [int(r["call"]) for r in rows] == list(range(1, 26))
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["oracle_calls"] == 25 and summary["method"] == method
        scores = [float(r["score"]) for r in rows if r["status"] == "ok"]
        assert summary["best_score"] == pytest.approx(max(scores), abs=1e-5)
        assert [s for s, _ in summary["top3"]][0] == summary["best_smiles"]
        assert 0 <= summary["valid_fraction"] <= 1 and summary["seconds"] > 0
        assert (folder / "progress.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # And the top 3 are printed, with one summary line per run on stderr
    assert len(out.splitlines()) == 6
    assert err.count("\n") == 2 and "oracle calls" in err
    # And the same seed writes the same results
    first = (runs / "ga" / "results.csv").read_text()
    argv = ["optimize", "--objective", "qed", "--method", "ga", "--budget", "25", "--batch", "10",
            "--seed", "2", "--out", str(runs / "again"), "-q"]  # fmt: skip
    assert main(argv) == 0
    assert (runs / "again" / "results.csv").read_text() == first


def test_optimize_with_start_similarity_and_scaffold(tmp_path: Path) -> None:
    start_file = tmp_path / "starts.smi"
    start_file.write_text(f"{A}\n{B}\n")
    out = tmp_path / "run"
    assert main(["optimize", "--objective", "logp", "--objective", "0.5*qed", "--method", "cmaes",
                 "--budget", "20", "--start", str(start_file), "--min-similarity", "0.3",
                 "--scaffold", "c1ccccc1", "--out", str(out), "-q"]) == 0  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    canonical = [Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in (A, B)]
    assert summary["start"] == canonical and summary["min_similarity"] == 0.3
    assert summary["objective"] == "logp + 0.5*qed"
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert all(keeps_scaffold([r["smiles"] for r in rows], Chem.MolFromSmiles("c1ccccc1")))
    for row in rows:
        similar = float(row["similarity"]) >= 0.3
        assert row["status"] == ("ok" if similar else "below_similarity")


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        (["--objective", "nope"], 1),
        (["--objective", "similarity:c1cc"], 1),
        (["--objective", "python:no_such_module_xyz:f"], 1),
        (["--objective", "python:{scores}:raises"], 1),
        (["--objective", "python:{scores}:short"], 1),
        (["--objective", "qed", "--budget", "0"], 2),
        (["--objective", "qed", "--budget", "-5"], 2),
        (["--objective", "qed", "--batch", "0"], 2),
        (["--objective", "qed", "--min-similarity", "0.4"], 1),
        (["--objective", "qed", "--start", A, "--min-similarity", "1.5"], 2),
        (["--objective", "qed", "--start", "C1CC"], 1),
        (["--objective", "qed", "--scaffold", "c1cc"], 1),
        (["--objective", "qed", "--scaffold", "C1CCCCCCCCCCC1"], 1),
        (["two-step", "--objective", "qed", "--scaffold", "c1ccccc1"], 1),
        (["--objective", "qed", "--method", "annealing"], 2),
        (["--budget", "3"], 2),
    ],
)
def test_optimize_bad_input_is_one_line_and_no_directory(
    argv: list[str], status: int, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scores = tmp_path / "scores.py"
    scores.write_text("def raises(smiles):\n    raise ValueError('no')\n"
                      "def short(smiles):\n    return [0.0]\n")  # fmt: skip
    argv = [a.replace("{scores}", str(scores)) for a in argv]
    out = tmp_path / "out"
    assert run_cli(["optimize", *argv, "--budget", "4", "--out", str(out), "-q"]
                   if "--budget" not in argv else ["optimize", *argv, "--out", str(out), "-q"]
                   ) == status  # fmt: skip
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "error" in captured.err
    assert not out.exists()


def test_sample_with_a_scaffold_reports_it_kept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["sample", "-n", "30", "--scaffold", "c1ccc2[nH]ccc2c1"]) == 0
    out, err = capsys.readouterr()
    smiles = out.splitlines()
    assert len(smiles) == 30 and all(smiles)
    assert "kept by 30 of 30 valid (100.0%)" in err and "unique" in err
    for bad in ("c1cc", "C1CCCCCCCCCCC1"):
        assert run_cli(["sample", "-n", "3", "--scaffold", bad, "-o", str(tmp_path / "s")]) == 1
        assert capsys.readouterr().err.count("\n") == 1
    assert run_cli(["sample", "two-step", "-n", "3", "--scaffold", "c1ccccc1"]) == 1
    assert "cannot decode from a scaffold" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
