"""``moldojo hamd generate`` and ``moldojo hamd solve`` end to end, in process: files, the
same bytes for the same seed, one-line errors, notes on legal but degenerate graphs, and
resuming a stopped run."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import moldojo.cli.hamd as hamd_cli
from cli_helpers import run
from moldojo.hamd import (
    Graph,
    Label,
    cycle_problem,
    format_graph6,
    generate,
    read_graph6,
    solve,
    solve_each,
)


def assert_one_line_error(code: int, err: str, *parts: str) -> None:
    assert code == 1 and err.count("\n") == 1 and err.startswith("moldojo: error: "), err
    for part in parts:
        assert part in err, err


@pytest.fixture
def graphs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """12 critical graphs of 25 and 30 nodes (some Hamiltonian, some not)."""
    path = tmp_path / "g.g6"
    code, _, _ = run(capsys, "hamd", "generate", "--n", "25", "30", "--count", "6", "--seed",
                     "3", "-o", str(path))  # fmt: skip
    assert code == 0
    return path


def labels_of(path: Path) -> list[dict]:
    data = json.loads(path.read_text())
    assert isinstance(data, list)
    return data


def without_seconds(labels: list[dict]) -> list[dict]:
    return [{k: v for k, v in label.items() if k != "seconds"} for label in labels]


# -- generate ------------------------------------------------------------------------------------


@pytest.mark.parametrize("regime", ["critical", "hard", "planted"])
def test_generate_same_seed_same_bytes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, regime: str
) -> None:
    # Given two runs with one seed and one with another
    files = [tmp_path / f"{name}.g6" for name in ("a", "b", "c")]
    for path, seed in zip(files, ("7", "7", "8"), strict=True):
        argv = ["--n", "12", "16", "--count", "4", "--regime", regime, "--seed", seed]
        code, out, _ = run(capsys, "hamd", "generate", *argv, "-o", str(path), "-j", "1")
        assert code == 0 and f"wrote {path}: 8 {regime} graphs" in out
    # Then the same seed gives the same bytes, another seed other graphs
    assert files[0].read_bytes() == files[1].read_bytes()
    assert files[0].read_bytes() != files[2].read_bytes()
    assert [g.n for g in read_graph6(files[0])] == [12] * 4 + [16] * 4


def test_generate_each_size_is_its_own_stream(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    both, alone = tmp_path / "both.g6", tmp_path / "alone.g6"
    run(capsys, "hamd", "generate", "--n", "20", "40", "--count", "3", "-o", str(both))
    run(capsys, "hamd", "generate", "--n", "40", "--count", "3", "-o", str(alone))
    assert both.read_text().splitlines()[3:] == alone.read_text().splitlines()


def test_generate_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "hamd", "generate", "--n", "10", "--count", "2", "-o", "-")
    assert code == 0 and len(out.splitlines()) == 2 and "wrote -" in err


def test_planted_graphs_are_all_hamiltonian(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path, out_json = tmp_path / "p.g6", tmp_path / "p.json"
    run(capsys, "hamd", "generate", "--n", "15", "60", "--count", "3", "--regime", "planted",
        "-o", str(path))  # fmt: skip
    code, _, _ = run(capsys, "hamd", "solve", str(path), "--json", str(out_json), "-j", "1")
    assert code == 0 and all(label["hamiltonian"] for label in labels_of(out_json))


@pytest.mark.parametrize(
    ("argv", "shown"),
    [(["--n", "2"], "must be from 5"), (["--n", "many"], "invalid int"),
     (["--count", "0"], "at least 1"), (["--regime", "easy"], "invalid choice")],
    ids=["tiny-n", "bad-n", "no-count", "bad-regime"],
)  # fmt: skip
def test_generate_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], shown: str
) -> None:
    base = {"--n": "10", "--count": "1", "--regime": "critical"}
    base.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    flags = [item for pair in base.items() for item in pair]
    code, _, err = run(capsys, "hamd", "generate", *flags, "-o", str(tmp_path / "x.g6"))
    assert code == 2 and err.count("\n") == 1 and shown in err, err


def test_generate_repeated_size_is_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    output = tmp_path / "x.g6"
    code, _, err = run(capsys, "hamd", "generate", "--n", "10", "12", "10", "--count", "1",
                       "-o", str(output))  # fmt: skip
    assert_one_line_error(code, err, "--n 10 is given twice")
    assert not output.exists()


# -- solve ---------------------------------------------------------------------------------------


def test_solve_writes_one_checked_label_per_graph_in_order(
    capsys: pytest.CaptureFixture[str], graphs: Path, tmp_path: Path
) -> None:
    out_json = tmp_path / "labels.json"
    code, out, _ = run(capsys, "hamd", "solve", str(graphs), "--json", str(out_json), "-j", "2")
    assert code == 0 and f"wrote {out_json}" in out and "12 graphs" in out
    labels = labels_of(out_json)
    expected = [solve(g) for g in read_graph6(graphs)]
    assert [label["n"] for label in labels] == [25] * 6 + [30] * 6
    assert [(lab["hamiltonian"], lab["method"]) for lab in labels] == [
        (e.hamiltonian, e.method) for e in expected
    ]
    assert {True, False} <= {label["hamiltonian"] for label in labels}
    for graph, label in zip(read_graph6(graphs), labels, strict=True):
        assert set(label) == {"n", "hamiltonian", "cycle", "method", "seconds"}
        if label["hamiltonian"]:
            assert cycle_problem(graph, label["cycle"]) is None
        else:
            assert label["cycle"] is None
    assert not (tmp_path / "labels.json.partial").exists()


def test_tiny_and_disconnected_graphs_are_labelled_with_a_note(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given legal graph6 lines for a 1-node, a 2-node, and a disconnected graph, and a triangle
    two_triangles = Graph.from_edges(6, [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3)])
    path, out_json = tmp_path / "odd.g6", tmp_path / "odd.json"
    path.write_text(f"@\nA_\n{two_triangles.to_graph6()}\nBw\n")
    # When solved, Then each gets a label saying why, and stderr names their lines
    code, _, err = run(capsys, "hamd", "solve", str(path), "--json", str(out_json))
    assert code == 0
    labels = labels_of(out_json)
    assert [(lab["hamiltonian"], lab["method"]) for lab in labels] == [
        (False, "too_small"), (False, "too_small"), (False, "disconnected"), (True, "dp")
    ]  # fmt: skip
    assert f"{path}: 2 graph(s) with fewer than 3 nodes" in err and "line 1, 2" in err
    assert f"{path}: 1 graph(s) disconnected" in err and "line 3" in err


@pytest.mark.parametrize(
    ("content", "shown"),
    [("A_\nBw\nnot graph6\n", ":3: 'not graph6' is not graph6"),
     ("", "no graphs in it (the file is empty)"),
     (">>graph6<<\n", "no graphs in it"),
     ("A_\n:Fa@x^\n", ":2: ':Fa@x^' is not graph6: it is sparse6")],
    ids=["bad-line", "empty", "header-only", "sparse6"],
)  # fmt: skip
def test_solve_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, shown: str
) -> None:
    path, out_json = tmp_path / "bad.g6", tmp_path / "bad.json"
    path.write_text(content)
    code, out, err = run(capsys, "hamd", "solve", str(path), "--json", str(out_json))
    assert_one_line_error(code, err, shown)
    assert out == "" and not out_json.exists()


def test_solve_missing_file_and_stdout_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], graphs: Path, tmp_path: Path
) -> None:
    code, _, err = run(capsys, "hamd", "solve", str(tmp_path / "nope.g6"), "--json",
                       str(tmp_path / "x.json"))  # fmt: skip
    assert_one_line_error(code, err, "nope.g6: no such file")
    code, _, err = run(capsys, "hamd", "solve", str(graphs), "--json", "-")
    assert_one_line_error(code, err, "cannot go to stdout")
    code, _, err = run(capsys, "hamd", "solve", str(graphs), "--json", str(tmp_path))
    assert_one_line_error(code, err, "is a directory")


def test_solve_time_limit_must_be_positive(
    capsys: pytest.CaptureFixture[str], graphs: Path, tmp_path: Path
) -> None:
    code, _, err = run(capsys, "hamd", "solve", str(graphs), "--json", str(tmp_path / "x.json"),
                       "--time-limit", "0")  # fmt: skip
    assert code == 2 and "must be above 0" in err and err.count("\n") == 1


# -- resume --------------------------------------------------------------------------------------


def counting_solve_each(counted: list[int]):  # noqa: ANN201 (a stand-in for solve_each)
    def wrapped(graphs: list[Graph], **kwargs: object) -> Iterator[Label]:
        counted.append(len(graphs))
        return solve_each(graphs, **kwargs)  # type: ignore[arg-type]

    return wrapped


def test_a_killed_run_resumes_where_it_stopped(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    graphs: Path,
    tmp_path: Path,
) -> None:
    fresh, resumed = tmp_path / "fresh.json", tmp_path / "resumed.json"
    partial = tmp_path / "resumed.json.partial"
    assert run(capsys, "hamd", "solve", str(graphs), "--json", str(fresh), "-j", "1")[0] == 0

    # Given a run killed after 5 of its 12 graphs, in the middle of writing the sixth line
    def killed_after_5(graphs: list[Graph], **kwargs: object) -> Iterator[Label]:
        for index, label in enumerate(solve_each(graphs, **kwargs)):  # type: ignore[arg-type]
            if index == 5:
                raise KeyboardInterrupt
            yield label

    monkeypatch.setattr(hamd_cli, "solve_each", killed_after_5)
    code, _, err = run(capsys, "hamd", "solve", str(graphs), "--json", str(resumed), "-j", "1")
    assert code == 130 and "5 of 12 graphs labelled; run the same command again" in err
    assert not resumed.exists() and len(partial.read_text().splitlines()) == 1 + 5
    with partial.open("a") as log:
        log.write('{"index": 5, "n": 25, "hamilt')  # cut by the kill

    # When the same command runs again
    counted: list[int] = []
    monkeypatch.setattr(hamd_cli, "solve_each", counting_solve_each(counted))
    code, _, err = run(capsys, "hamd", "solve", str(graphs), "--json", str(resumed), "-j", "1")

    # Then only the 7 graphs left are solved, and the labels are a fresh run's
    assert code == 0 and counted == [7]
    assert "resuming, 5 of 12 graphs already labelled" in err
    assert without_seconds(labels_of(resumed)) == without_seconds(labels_of(fresh))
    assert not partial.exists()


def write_partial(partial: Path, graphs: Path, entries: list[dict], **header: object) -> None:
    head = {
        "format": "moldojo-hamd-solve-partial",
        "version": 1,
        "input_sha256": hamd_cli._sha256(str(graphs)),
        "graphs": 12,
        "time_limit": None,
        **header,
    }
    partial.write_text("\n".join(json.dumps(x) for x in [head, *entries]) + "\n")


def test_resume_checks_what_it_keeps(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    graphs: Path,
    tmp_path: Path,
) -> None:
    out_json, partial = tmp_path / "l.json", tmp_path / "l.json.partial"
    first = [solve(g) for g in read_graph6(graphs)[:3]]
    positive = next(i for i, label in enumerate(first) if label.hamiltonian)
    entries = [{"index": i, **label.to_json()} for i, label in enumerate(first)]
    # Given a log whose positive label carries a broken cycle, and a label given up at 1 s
    broken = dict(entries[positive], cycle=list(range(25)))
    undecided = {"index": 3, "n": 25, "hamiltonian": None, "cycle": None,
                 "method": "time_limit", "seconds": 1.0}  # fmt: skip
    others = [e for i, e in enumerate(entries) if i != positive]
    write_partial(partial, graphs, [broken, undecided, *others], time_limit=1.0)
    # When resumed without a time limit
    counted: list[int] = []
    monkeypatch.setattr(hamd_cli, "solve_each", counting_solve_each(counted))
    code, _, _ = run(capsys, "hamd", "solve", str(graphs), "--json", str(out_json), "-j", "1")
    # Then the broken label and the undecided one are solved again, with the 8 never labelled
    assert code == 0 and counted == [10]
    labels = labels_of(out_json)
    assert labels[positive]["hamiltonian"] is True and labels[3]["hamiltonian"] is not None
    assert cycle_problem(read_graph6(graphs)[positive], labels[positive]["cycle"]) is None


def test_resume_refuses_a_log_of_another_input(
    capsys: pytest.CaptureFixture[str], graphs: Path, tmp_path: Path
) -> None:
    out_json, partial = tmp_path / "l.json", tmp_path / "l.json.partial"
    write_partial(partial, graphs, [], input_sha256="0" * 64)
    code, _, err = run(capsys, "hamd", "solve", str(graphs), "--json", str(out_json))
    assert_one_line_error(code, err, "l.json.partial: left by a run on a different input",
                          "delete it")  # fmt: skip
    partial.write_text("some other file\n")
    code, _, err = run(capsys, "hamd", "solve", str(graphs), "--json", str(out_json))
    assert_one_line_error(code, err, "not a resume log")
    assert not out_json.exists()


@pytest.mark.slow
def test_a_run_killed_with_sigkill_resumes_to_a_fresh_runs_labels(tmp_path: Path) -> None:
    # Given a real run over 300 graphs of 200 nodes, killed (SIGKILL) after some 20 labels
    graphs = tmp_path / "g.g6"
    graphs.write_text(format_graph6(generate("critical", 200, 300, seed=11)))
    fresh, resumed = tmp_path / "fresh.json", tmp_path / "resumed.json"
    partial = tmp_path / "resumed.json.partial"
    command = [sys.executable, "-m", "moldojo", "-q", "hamd", "solve", str(graphs), "--json"]
    process = subprocess.Popen([*command, str(resumed), "-j", "2"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if partial.exists() and len(partial.read_text().splitlines()) > 20:
            break
        time.sleep(0.05)
    process.kill()
    process.wait()
    kept = len(partial.read_text().splitlines()) - 1
    assert 20 <= kept < 300 and not resumed.exists()
    # When the same command runs again, and a fresh run elsewhere
    subprocess.run([*command, str(resumed), "-j", "2"], check=True, capture_output=True)
    subprocess.run([*command, str(fresh), "-j", "2"], check=True, capture_output=True)
    # Then the labels are the same, and the log is gone
    assert without_seconds(labels_of(resumed)) == without_seconds(labels_of(fresh))
    assert not partial.exists()
