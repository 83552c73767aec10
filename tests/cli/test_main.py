"""The moldojo command end to end, in process: exit codes, one-line errors, shared flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moldojo import __version__
from moldojo.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse's --help, --version and usage errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def mols(tmp_path: Path) -> Path:
    path = tmp_path / "mols.smi"
    path.write_text("CCO\nnot_a_smiles\nc1ccccc1\n")
    return path


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"moldojo {__version__}"


@pytest.mark.parametrize(
    "argv",
    [[], ["data"], ["data", "info"], ["frobnicate"], ["data", "info", "x", "--jobs", "many"],
     ["data", "check", "x", "--device", "tpu"]],
    ids=["nothing", "no-action", "no-source", "unknown-verb", "bad-int", "bad-choice"],
)  # fmt: skip
def test_usage_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], argv) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("moldojo") and "error:" in err


def test_moldojo_error_is_one_line_and_traceback_only_with_v(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "data", "info", "zinc250k")
    assert code == 1
    assert (
        err == "moldojo: error: 'zinc250k' is neither a file nor a dataset; datasets: "
        "moses-mini, moses, qm9\n"
    )
    code, _, err = run(capsys, "data", "info", "zinc250k", "-v")
    assert code == 1 and "Traceback" in err and err.rstrip().splitlines()[-1].startswith("moldojo:")


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't "
                      "allocate memory: you tried to allocate 14399999999856 bytes. Error code 12"),
         "out of memory (asked for 14399999999856 bytes)"),
        (MemoryError(), "out of memory;"),
    ],
    ids=["torch-cpu", "python"],
)  # fmt: skip
def test_running_out_of_memory_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, error, shown
) -> None:
    # Given a verb that asks for more memory than the machine has (a model far too wide)
    def exhaust(args: object) -> int:
        raise error

    monkeypatch.setattr("moldojo.cli.sample.run", exhaust)
    # When it runs, Then the error is one line saying so, exit 1; -v adds the traceback
    code, _, err = run(capsys, "sample")
    assert code == 1 and err.count("\n") == 1 and err.startswith("moldojo: error: " + shown)
    code, _, err = run(capsys, "sample", "-v")
    assert code == 1 and "Traceback" in err


def test_other_runtime_errors_are_bugs_and_keep_their_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(args: object) -> int:
        raise RuntimeError("shape mismatch")

    monkeypatch.setattr("moldojo.cli.sample.run", broken)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        main(["sample"])


def test_data_info_prints_summary_and_json(
    capsys: pytest.CaptureFixture[str], mols: Path, tmp_path: Path
) -> None:
    out_json = tmp_path / "info.json"
    code, out, err = run(capsys, "data", "info", str(mols), "--json", str(out_json))
    assert code == 0
    assert f"{mols}: 2 molecules (3 records, 1 skipped)" in out
    assert "heavy atoms: min 3" in out
    assert "unparsable 1 (line 2)" in err  # diagnostics on stderr, data on stdout
    summary = json.loads(out_json.read_text())
    assert summary["molecules"] == 2 and summary["elements"]["C"]["molecules"] == 2


def test_data_info_strict_fails_on_the_bad_line(
    capsys: pytest.CaptureFixture[str], mols: Path
) -> None:
    code, _, err = run(capsys, "data", "info", str(mols), "--strict")
    assert code == 1 and f"{mols}:2:" in err and err.count("\n") == 1


def test_data_check_json_has_the_report_keys(
    capsys: pytest.CaptureFixture[str], mols: Path
) -> None:
    code, out, _ = run(capsys, "-q", "data", "check", str(mols), "--json", "-")
    assert code == 0
    report = json.loads(out[out.index("{") :])
    assert report["molecules"] == 3 and report["parsed"] == 2 and report["roundtrip_ok"] == 2
    assert report["skipped"] == {"unparsable": 1}
    assert report["failures"] == [
        {"line": 2, "smiles": "not_a_smiles", "reason": "unparsable", "detail": ""}
    ]


def test_data_check_several_splits_adds_totals(capsys: pytest.CaptureFixture[str]) -> None:
    # moses-mini's valid split alone is 5,000 molecules; checking two copies of a tiny file
    # would not exercise the multi-split path, so use the smallest dataset with splits.
    code, out, _ = run(capsys, "data", "check", "moses-mini:valid", "--json", "-", "-j", "2")
    assert code == 0
    report = json.loads(out[out.index("{") :])
    assert report["molecules"] == report["roundtrip_ok"] == 5_000


def test_shared_flags_before_or_after_the_verb(
    capsys: pytest.CaptureFixture[str], mols: Path
) -> None:
    for argv in (
        ["-q", "--seed", "3", "--device", "cpu", "data", "info", str(mols)],
        ["data", "info", str(mols), "-q", "--seed", "3", "--device", "cpu"],
    ):
        code, out, err = run(capsys, *argv)
        assert code == 0 and "2 molecules" in out and err == ""  # -q: no skip warning


def test_dojo_list_names_every_layer(capsys: pytest.CaptureFixture[str]) -> None:
    from moldojo.nn.registry import LAYERS

    code, out, _ = run(capsys, "dojo", "list")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == list(LAYERS)


def test_dojo_bench_unknown_layer_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "dojo", "bench", "--layers", "resnet")
    assert code == 1 and out == "" and err.count("\n") == 1 and "unknown layers" in err
