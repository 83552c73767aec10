"""``moldojo hamd train | predict | eval | find`` end to end, in process: a tiny run trained on
files labelled on the spot, one prediction line per graph in input order, the table by n, checked
cycles, and one-line errors on bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cli_helpers import run
from moldojo.hamd import Graph, cycle_problem, format_graph6, read_graph6
from moldojo.hamd.train import SHIPPED

TINY = ["--set", "hamd.hidden_dim=8", "--set", "hamd.num_layers=2", "--set",
        "train.batch_size=8", "--set", "train.checkpoint_minutes=0"]  # fmt: skip


def assert_one_line_error(code: int, err: str, *parts: str) -> None:
    assert code == 1 and err.count("\n") == 1 and err.startswith("moldojo: error: "), err
    for part in parts:
        assert part in err, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Where the tiny run (trained by the first test that needs it: a fixture of module scope
    cannot capture output) and a labelled graph6 file of 8 critical graphs of 25 and 30 nodes
    go."""
    tmp = tmp_path_factory.mktemp("hamd-gnn")
    return tmp / "run", tmp / "test.g6"


@pytest.fixture
def run_dir(trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> Path:
    """A tiny run trained on 24 hard graphs of 20 nodes whose labels were written on the spot."""
    run_path, test = trained
    if not (run_path / "model.pt").exists():
        data = run_path.parent / "train.g6"
        code, _, err = run(capsys, "hamd", "generate", "--n", "20", "--count", "24", "--regime",
                           "hard", "--seed", "1", "-o", str(data), "-j", "1")  # fmt: skip
        assert code == 0, err
        # When trained on a file without labels beside it
        code, out, err = run(capsys, "hamd", "train", "--data", str(data), "--out",
                             str(run_path), "--epochs", "2", "-q", *TINY)  # fmt: skip
        assert code == 0, err
        # Then it was labelled first, with a note, and the labels kept beside it
        assert "labels beside it (" in err and ": none; labelling" in err
        assert data.with_suffix(".json").exists()
        assert "done: 24 graphs" in out and "model: " in out
        code, _, err = run(capsys, "hamd", "generate", "--n", "25", "30", "--count", "4",
                           "--seed", "2", "-o", str(test))  # fmt: skip
        assert code == 0, err
        code, _, err = run(capsys, "hamd", "solve", str(test), "--json",
                           str(test.with_suffix(".json")), "-q")  # fmt: skip
        assert code == 0, err
    return run_path


def test_predict_prints_one_probability_and_decision_per_graph(
    capsys: pytest.CaptureFixture[str], run_dir: Path, trained: tuple[Path, Path]
) -> None:
    test = trained[1]
    code, out, err = run(capsys, "hamd", "predict", str(run_dir), str(test))
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == len(read_graph6(test))
    for line in lines:
        probability, decision = line.split("\t")
        assert 0.0 <= float(probability) <= 1.0
        assert decision == ("hamiltonian" if float(probability) >= 0.5 else "not")


def test_eval_prints_a_table_by_n_and_writes_json(
    capsys: pytest.CaptureFixture[str], run_dir: Path, trained: tuple[Path, Path], tmp_path: Path
) -> None:
    test = trained[1]
    figures = tmp_path / "eval.json"
    code, out, err = run(capsys, "hamd", "eval", str(run_dir), str(test), "--labels",
                         str(test.with_suffix(".json")), "--json", str(figures))  # fmt: skip
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()[1:]]
    assert [r[0] for r in rows] == ["all", "25", "30"]
    assert [r[1] for r in rows] == ["8", "4", "4"]
    assert "cheap rule: certificates" in err
    saved = json.loads(figures.read_text())
    assert [r["n"] for r in saved["rows"]] == ["all", "25", "30"]
    assert 0.0 <= saved["rows"][0]["cheap_rule_accuracy"] <= 1.0


@pytest.mark.parametrize("order", ["gnn", "gnn+warnsdorff", "warnsdorff"])
def test_find_prints_checked_cycles(
    capsys: pytest.CaptureFixture[str], run_dir: Path, trained: tuple[Path, Path], order: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    test = trained[1]
    model = [str(run_dir)] if order.startswith("gnn") else []
    results = tmp_path / "found.json"
    code, out, err = run(capsys, "hamd", "find", *model, str(test), "--order", order,
                         "--time-limit", "5", "--json", str(results), "-q")  # fmt: skip
    assert code == 0, err
    graphs = read_graph6(test)
    labels = json.loads(test.with_suffix(".json").read_text())
    lines = out.splitlines()
    assert len(lines) == len(graphs)
    for graph, line, label in zip(graphs, lines, labels, strict=True):
        outcome, *rest = line.split("\t")
        if outcome == "found":
            assert cycle_problem(graph, [int(v) for v in rest[1].split()]) is None
        if outcome == "none":
            assert label["hamiltonian"] is False
    assert "cycles found" in err
    assert len(json.loads(results.read_text())) == len(graphs)


def test_find_without_a_network_takes_no_run(
    capsys: pytest.CaptureFixture[str], run_dir: Path, trained: tuple[Path, Path]
) -> None:
    code, _, err = run(capsys, "hamd", "find", str(run_dir), str(trained[1]), "--order",
                       "random")  # fmt: skip
    assert_one_line_error(code, err, "searches without a network; leave out RUN")


def test_degenerate_graphs_get_probability_zero(
    capsys: pytest.CaptureFixture[str], run_dir: Path, tmp_path: Path
) -> None:
    # One node, two nodes, and two disjoint triangles: legal graph6, certainly not Hamiltonian
    graphs = [Graph(1, (0,)), Graph.from_edges(2, [(0, 1)]),
              Graph.from_edges(6, [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)])]  # fmt: skip
    path = tmp_path / "odd.g6"
    path.write_text(format_graph6(graphs))
    code, out, err = run(capsys, "hamd", "predict", str(run_dir), str(path))
    assert code == 0, err
    assert out.splitlines() == ["0.0000\tnot"] * 3
    code, out, _ = run(capsys, "hamd", "find", str(run_dir), str(path), "-q")
    assert [line.split("\t")[0] for line in out.splitlines()] == ["none"] * 3


@pytest.mark.parametrize(
    ("content", "shown"),
    [("D~{\nxyz!\n", "bad.g6:2: 'xyz!' is not graph6"), ("", "no graphs in it")],
)
@pytest.mark.parametrize("action", ["predict", "eval", "find"])
def test_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], run_dir: Path, tmp_path: Path, content: str, shown: str,
    action: str,
) -> None:  # fmt: skip
    path = tmp_path / "bad.g6"
    path.write_text(content)
    extra = ["--labels", str(tmp_path / "none.json")] if action == "eval" else []
    code, out, err = run(capsys, "hamd", action, str(run_dir), str(path), *extra)
    assert_one_line_error(code, err, shown)
    assert out == ""


def test_labels_older_than_their_graphs_are_made_again(
    capsys: pytest.CaptureFixture[str], run_dir: Path, tmp_path: Path
) -> None:
    # Given labels beside a graph file that was written again since (other graphs, same sizes)
    data = tmp_path / "g.g6"
    for seed in ("1", "2"):
        code, _, err = run(capsys, "hamd", "generate", "--n", "20", "--count", "8", "--regime",
                           "hard", "--seed", seed, "-o", str(data), "-j", "1")  # fmt: skip
        assert code == 0, err
        if seed == "1":
            code, _, err = run(capsys, "hamd", "solve", str(data), "--json",
                               str(data.with_suffix(".json")), "-q")  # fmt: skip
            assert code == 0, err
    old = data.with_suffix(".json").stat().st_mtime
    os.utime(data, (old + 10, old + 10))  # written after its labels, whatever the clock's grain
    # When trained on it
    code, _, err = run(capsys, "hamd", "train", "--data", str(data), "--out",
                       str(tmp_path / "r"), "--epochs", "1", "-q", *TINY)  # fmt: skip
    # Then the labels are made again, and they are the new graphs'
    assert code == 0, err
    assert "older than the file; labelling" in err
    labels = json.loads(data.with_suffix(".json").read_text())
    for graph, label in zip(read_graph6(data), labels, strict=True):
        if label["hamiltonian"]:
            assert cycle_problem(graph, label["cycle"]) is None


def test_missing_run_and_labels_are_one_line(
    capsys: pytest.CaptureFixture[str], trained: tuple[Path, Path], run_dir: Path, tmp_path: Path
) -> None:
    test = trained[1]
    code, _, err = run(capsys, "hamd", "predict", str(tmp_path / "nope"), str(test))
    assert_one_line_error(code, err, "no such run directory or checkpoint")
    code, _, err = run(capsys, "hamd", "eval", str(run_dir), str(test), "--labels",
                       str(tmp_path / "none.json"))  # fmt: skip
    assert_one_line_error(code, err, "no such labels file")
    code, _, err = run(capsys, "hamd", "train", "--data", str(test), "--labels", "a.json",
                       "b.json", "--out", str(tmp_path / "r"))  # fmt: skip
    assert_one_line_error(code, err, "one labels file per data file")
    code, _, err = run(capsys, "hamd", "train", "--data", str(test), "--out", str(run_dir))
    assert_one_line_error(code, err, "already holds a run")


def test_the_shipped_model_is_the_default(
    capsys: pytest.CaptureFixture[str], trained: tuple[Path, Path], run_dir: Path
) -> None:
    assert SHIPPED.exists()
    code, out, err = run(capsys, "hamd", "predict", str(trained[1]))
    assert code == 0, err
    assert len(out.splitlines()) == len(read_graph6(trained[1]))
    # and it decides these critical graphs as the exact labels do
    labels = json.loads(trained[1].with_suffix(".json").read_text())
    decisions = [line.split("\t")[1] == "hamiltonian" for line in out.splitlines()]
    assert decisions == [label["hamiltonian"] for label in labels]
