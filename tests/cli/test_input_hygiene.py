"""Input hygiene, end to end in process: what a hostile or broken input file does to the CLI.

An overlong line is skipped, not parsed for a minute and echoed whole; control characters and
NUL bytes reach the terminal escaped; a byte-order mark is dropped; a bad number is a usage
error at parse time; a directory is called a directory; ``data check`` and ``motifs check``
put the round-trip failures, which set their exit status, before the skipped lines.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from rdkit import Chem

from cli_helpers import run
from moldojo.chem import vocab as vocab_module
from moldojo.cli.evaluate import read_generated
from moldojo.data import dataset as dataset_module
from moldojo.data.sources import resolve_one
from moldojo.evaluation import training as training_module
from moldojo.evaluation.reference import source_smiles
from moldojo.evaluation.training import training_set

ESCAPE = "\x1b]0;TITLE\x07"  # an xterm "set window title" sequence
RAW_CONTROLS = ("\x1b", "\x07", "\x00")


def no_raw_controls(*texts: str) -> bool:
    return not any(c in text for text in texts for c in RAW_CONTROLS)


# -- 1. overlong lines ---------------------------------------------------------------------------


def test_overlong_line_is_skipped_as_too_long_and_never_echoed_whole(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a file with a line of two million characters between two molecules
    path = tmp_path / "long.smi"
    path.write_text("CCO\n" + "C" * 2_000_000 + "\nc1ccccc1\n")
    # When it is checked with a JSON report on stdout
    code, out, err = run(capsys, "-q", "data", "check", str(path), "-j", "1", "--json", "-")
    # Then it exits 0, the line counted as too_long with its length, and nothing is long
    assert code == 0 and err == ""
    text, _, _ = out.partition("{")
    assert "skipped too_long 1 (line 2)" in text and "2,000,000 > 10,000 characters" in text
    assert max(len(line) for line in out.splitlines()) < 1_100
    report = json.loads(out[out.index("{") :])
    assert report["skipped"] == {"too_long": 1} and report["roundtrip_ok"] == 2
    (failure,) = report["failures"]
    assert failure["line"] == 2 and len(failure["smiles"]) <= 1_003


def test_overlong_line_in_strict_mode_is_a_short_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "long.smi"
    path.write_text("CCO\n" + "C" * 100_000 + "\n")
    code, out, err = run(capsys, "data", "info", str(path), "--strict", "-j", "1")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and len(err) < 500
    assert f"{path}:2: 'CCCC" in err and "'...: longer than" in err


def test_overlong_generated_line_is_a_failed_sample(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given generated SMILES with one overlong line
    path = tmp_path / "gen.smi"
    path.write_text("CCO\n" + "C" * 20_000 + "\n\nc1ccccc1\n")
    # When they are read for evaluate (or encode)
    with caplog.at_level(logging.WARNING):
        smiles = read_generated(str(path))
    # Then that line is an empty, failed sample, and a warning says which line and why
    assert smiles == ["CCO", "", "", "c1ccccc1"]
    assert "1 lines longer than 10,000 characters read as failed samples (line 2)" in caplog.text


def test_overlong_training_and_reference_records_are_invalid_and_never_parsed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a training or reference file with one overlong line between two molecules
    path = tmp_path / "ref.smi"
    path.write_text("CCO\n" + "C" * 20_000 + "\nc1ccccc1\n")
    parsed: list[str] = []
    real = training_module.canonical_or_none
    monkeypatch.setattr(
        training_module, "canonical_or_none", lambda s, isomeric=True: parsed.append(s) or real(s)
    )
    # When evaluate reads it as --train (and as --ref: the same reader)
    with caplog.at_level(logging.WARNING):
        smiles = source_smiles(resolve_one(str(path)))
        novelty_set = training_set(str(path), isomeric=False)
    # Then the line is an invalid record, never given to RDKit, and a warning names it
    assert smiles == ["CCO", "", "c1ccccc1"]
    assert novelty_set == {"CCO", "c1ccccc1"} and all(len(s) < 100 for s in parsed)
    assert "1 record longer than 10,000 characters left out as invalid (line 2)" in caplog.text


# -- 2. control characters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [f"CCO\n{ESCAPE}\nc1ccccc1\n".encode(), b"CCO\n\x00\x01\x02\xff\n"],
    ids=["terminal-escape", "binary"],
)
def test_control_characters_reach_the_terminal_escaped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes
) -> None:
    # Given a file whose second line holds a terminal escape sequence, or binary bytes
    path = tmp_path / "odd.smi"
    path.write_bytes(content)
    # When it is checked, summarised, or read strictly
    code, out, err = run(capsys, "data", "check", str(path), "-j", "1", "--json", "-")
    assert code == 0 and "skipped unparsable 1 (line 2)" in out
    assert no_raw_controls(out, err)
    assert r"\x1b]0;TITLE\x07" in out or r"\x00\x01\x02" in out
    code, out, err = run(capsys, "data", "info", str(path), "-j", "1")
    assert code == 0 and no_raw_controls(out, err)
    for verb in ("info", "check"):
        code, out, err = run(capsys, "data", verb, str(path), "-j", "1", "--strict")
        # Then every message shows the text escaped, on one line
        assert code == 1 and err.count("\n") == 1 and f"{path}:2: '" in err
        assert no_raw_controls(out, err)


def test_one_line_error_printer_escapes_whatever_reaches_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a file name holding control characters (echoed by the "no such file" error)
    missing = str(tmp_path / f"x{ESCAPE}.smi")
    code, out, err = run(capsys, "data", "info", missing)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert no_raw_controls(err) and r"x\x1b]0;TITLE\x07.smi: no such file" in err


def test_usage_error_escapes_an_unrecognised_argument(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "data", "info", "moses-mini:test", ESCAPE)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert no_raw_controls(err) and r"\x1b]0;TITLE\x07" in err


# -- 3. byte-order marks -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mols.csv", "mols.tsv"])
def test_byte_order_mark_of_a_table_is_dropped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    # Given a CSV or TSV saved with a byte-order mark before its 'smiles' header
    sep = "\t" if name.endswith(".tsv") else ","
    path = tmp_path / name
    path.write_text(f"smiles{sep}id\nCCO{sep}1\nc1ccccc1{sep}2\n", encoding="utf-8-sig")
    # When it is read, Then the 'smiles' column is found
    code, out, err = run(capsys, "data", "info", str(path), "-j", "1")
    assert code == 0 and f"{path}: 2 molecules (2 records, 0 skipped)" in out and err == ""


# -- 4. numeric flags ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["data", "check", "moses-mini:test", "--jobs", "0"], "--jobs/-j: must be at least 1"),
        (["data", "info", "moses-mini:test", "-j", "-3"], "-j: must be at least 1, got -3"),
        (["--seed", "99999999999999999999999", "data", "info", "moses-mini:test"],
         "--seed: must be from 0 to 2**63-1"),
        (["data", "info", "moses-mini:test", "--seed", "-1"], "--seed: must be from 0"),
        (["sample", "--temperature", "nan"], "--temperature: must be a finite number"),
        (["sample", "--temperature", "inf"], "--temperature: must be a finite number"),
        (["sample", "--temperature", "-0.5"], "--temperature: must be 0 or more"),
        (["sample", "-n", "0"], "-n: must be at least 1, got 0"),
        (["train", "--out", "run", "--max-minutes", "nan"], "--max-minutes: must be a finite"),
        (["train", "--out", "run", "--max-minutes", "0"], "--max-minutes: must be above 0"),
        (["train", "--out", "run", "--max-minutes", "-2"], "--max-minutes: must be above 0"),
        (["evaluate", "gen.smi", "--jobs", "0"], "--jobs: must be at least 1"),
        (["vocab", "moses-mini:test", "-o", "v", "--jobs", "0"], "must be at least 1"),
        (["motifs", "check", "moses-mini:test", "-j", "0"], "must be at least 1"),
        (["reconstruct", "mols.smi", "-n", "0"], "-n: must be at least 1"),
    ],
    ids=["jobs-0", "jobs-negative", "seed-huge", "seed-negative", "temperature-nan",
         "temperature-inf", "temperature-negative", "n-0", "max-minutes-nan", "max-minutes-0",
         "max-minutes-negative", "evaluate-jobs", "vocab-jobs", "motifs-jobs", "reconstruct-n"],
)  # fmt: skip
def test_bad_numbers_are_usage_errors_at_parse_time(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert message in err, err


def test_largest_seed_is_accepted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "mols.smi"
    path.write_text("CCO\n")
    code, out, _ = run(capsys, "data", "info", str(path), "--seed", str(2**63 - 1), "-j", "1")
    assert code == 0 and "1 molecules" in out


# -- 5. directories ------------------------------------------------------------------------------


def test_directory_as_input_is_called_a_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    directory = tmp_path / "mols.smi"
    directory.mkdir()
    for argv in (["data", "info", str(directory)], ["evaluate", str(directory)]):
        code, out, err = run(capsys, *argv)
        assert code == 1 and out == "" and err.count("\n") == 1
        assert f"{directory} is a directory" in err and "no such file" not in err


# -- 6. data check, motifs check: round-trip failures first and in full ----------------------------


def test_data_check_reports_every_roundtrip_failure_before_the_skipped_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 30 unparsable lines, then 25 molecules whose round trip fails (a broken converter)
    path = tmp_path / "mols.smi"
    path.write_text("not_a_smiles\n" * 30 + "CCO\n" * 25 + "CCN\n")
    monkeypatch.setattr(
        dataset_module, "graph_to_smiles", lambda g: "CCN" if 7 in g.atomic_num else "C"
    )
    # When it is checked
    code, out, _ = run(capsys, "-q", "data", "check", str(path), "-j", "1", "--json", "-")
    # Then it exits 1, and stdout and JSON list all 25 round-trip failures, first
    assert code == 1
    text, _, _ = out.partition("{")
    lines = text.splitlines()
    assert [line.split(":")[0] for line in lines[1:26]] == [f"  line {n}" for n in range(31, 56)]
    assert all("roundtrip: 'CCO': expected CCO, got C" in line for line in lines[1:26])
    # And the skipped lines are counted by reason, with their first line numbers
    assert lines[26].startswith("  skipped unparsable 30 (line 1, 2, 3, 4, 5, ...), e.g. line 1")
    report = json.loads(out[out.index("{") :])
    reasons = [f["reason"] for f in report["failures"]]
    assert reasons == ["roundtrip"] * 25 + ["unparsable"] * 20
    assert report["skipped"] == {"unparsable": 30}


def test_motifs_check_reports_every_roundtrip_failure_before_the_skipped_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 30 unparsable lines, then 25 molecules whose motif round trip fails (a broken
    # assembler that loses every molecule without nitrogen)
    path = tmp_path / "mols.smi"
    path.write_text("not_a_smiles\n" * 30 + "CCO\n" * 25 + "CCN\n")
    real = vocab_module.assemble

    def broken(tree: object, **options: object) -> Chem.Mol:
        mol = real(tree, **options)
        return mol if any(a.GetSymbol() == "N" for a in mol.GetAtoms()) else Chem.MolFromSmiles("C")

    monkeypatch.setattr(vocab_module, "assemble", broken)
    # When it is checked
    code, out, _ = run(capsys, "-q", "motifs", "check", str(path), "-j", "1", "--json", "-")
    # Then it exits 1, and stdout and JSON list all 25 round-trip failures, first
    assert code == 1
    text, _, _ = out.partition("{")
    lines = text.splitlines()
    assert [line.split(":")[0] for line in lines[1:26]] == [f"  line {n}" for n in range(31, 56)]
    assert all("roundtrip: 'CCO': expected CCO, got C" in line for line in lines[1:26])
    # And the skipped lines are counted by reason, with their first line numbers
    assert lines[26].startswith("  skipped unparsable 30 (line 1, 2, 3, 4, 5, ...), e.g. line 1")
    report = json.loads(out[out.index("{") :])
    reasons = [f["reason"] for f in report["failures"]]
    assert reasons == ["roundtrip"] * 25 + ["unparsable"] * 20
    assert report["skipped"] == {"unparsable": 30}


def test_data_check_refuses_an_aromatic_ring_rdkit_cannot_write_back(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given the molecule whose round trip used to fail: a triple bond inside a pyridine ring,
    # which RDKit reads but whose Kekule form it refuses (a neutral N of valence 4)
    path = tmp_path / "mols.smi"
    path.write_text("CCO\nCc1ccc(N)c(Nc2ccc(Cc3cc#ncc3)cc2)n1\n")
    # When it is checked, Then it is skipped as unparsable at parse time, saying why
    code, out, _ = run(capsys, "data", "check", str(path), "-j", "1")
    assert code == 0
    assert "skipped unparsable 1 (line 2)" in out and "Kekule form: Explicit valence" in out
