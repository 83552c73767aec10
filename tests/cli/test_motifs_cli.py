"""``moldojo vocab`` and ``moldojo motifs`` end to end, in process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from cli_helpers import run
from moldojo.chem.vocab import MotifVocabulary

MOLECULES = [
    "CC(=O)Nc1ccc(O)cc1",
    "Cc1ccccc1",
    "C[C@H](N)C(=O)O",
    "O=C(O)c1ccccc1-c1ccccc1",
    "not_a_smiles",
    "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
]


@pytest.fixture
def mols(tmp_path: Path) -> Path:
    path = tmp_path / "mols.smi"
    path.write_text("\n".join(MOLECULES) + "\n")
    return path


def test_vocab_writes_the_file_and_statistics(
    capsys: pytest.CaptureFixture[str], mols: Path, tmp_path: Path
) -> None:
    # Given a small SMILES file with one bad line
    vocab_path, stats_path = tmp_path / "mols.vocab", tmp_path / "stats.json"
    # When its vocabulary is built
    code, out, _ = run(capsys, "vocab", str(mols), "-o", str(vocab_path), "--json",
                       str(stats_path), "--jobs", "1")  # fmt: skip
    # Then the file, the statistics and a summary are written
    assert code == 0
    vocab = MotifVocabulary.read(vocab_path)
    assert "c1ccccc1" in vocab and vocab.molecules == 5
    stats = json.loads(stats_path.read_text())
    assert stats["molecules"] == 5 and stats["skipped"] == {"unparsable": 1}
    for key in ("motifs", "configurations", "coverage", "motifs_per_molecule",
                "atoms_per_motif", "atoms_per_molecule", "by_min_count"):  # fmt: skip
        assert key in stats
    assert stats["motifs"] == len(vocab)
    assert "5 molecules" in out and f"wrote {vocab_path}" in out


def test_vocab_min_count_and_usage_errors(
    capsys: pytest.CaptureFixture[str], mols: Path, tmp_path: Path
) -> None:
    # Given the same file, When the vocabulary keeps configurations seen twice or more
    path = tmp_path / "frequent.vocab"
    code, _, _ = run(capsys, "-q", "vocab", str(mols), "-o", str(path), "--min-count", "2")
    # Then only those remain
    assert code == 0
    vocab = MotifVocabulary.read(path)
    assert vocab.min_count == 2
    assert all(c.total >= 2 for m in vocab.motifs for c in m.configs)
    # and a count below 1 is a one-line usage error
    code, out, err = run(capsys, "vocab", str(mols), "-o", str(path), "--min-count", "0")
    assert code == 2 and out == "" and err.count("\n") == 1 and "at least 1" in err


def test_motifs_check_reports_exact_roundtrips(
    capsys: pytest.CaptureFixture[str], mols: Path, tmp_path: Path
) -> None:
    # Given a vocabulary built from two of the molecules
    small = tmp_path / "small.smi"
    small.write_text("Cc1ccccc1\nCC(=O)Nc1ccc(O)cc1\n")
    vocab_path, report_path = tmp_path / "small.vocab", tmp_path / "report.json"
    assert run(capsys, "vocab", str(small), "-o", str(vocab_path), "-j", "1")[0] == 0
    # When the motif round trip of all of them is checked with it
    code, out, _ = run(capsys, "motifs", "check", str(mols), "--vocab", str(vocab_path),
                       "--json", str(report_path), "-j", "2")  # fmt: skip
    # Then every parsed molecule round-trips, the fallback is counted, the bad line is skipped
    assert code == 0
    report = json.loads(report_path.read_text())
    assert report["molecules"] == 6 and report["parsed"] == 5
    assert report["roundtrip_ok"] == report["roundtrip_ok_stereo_blind"] == 5
    assert report["fallback_used"] >= 3
    assert report["skipped"] == {"unparsable": 1}
    assert report["failures"][0]["line"] == 5
    assert "5 of 5 parsed round-trip exactly" in out


def test_motifs_show_draws_the_tree(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # Given a molecule with three ring systems
    png = tmp_path / "tree.png"
    # When its tree is shown
    code, out, _ = run(capsys, "motifs", "show", "CC(=O)Nc1ccc(-c2ccncc2)cc1C1CC1", "-o", str(png))
    # Then the tree is printed, root first, and a picture wider than it is tall is written
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("#0 chain CC(=O)N[CH3:1]")
    assert sum(line.lstrip().startswith("#") for line in lines) == 6
    with Image.open(png) as image:
        assert image.format == "PNG" and image.width > image.height > 100


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["motifs", "show", "C1CC", "-o", "x.png"], "cannot parse"),
        (["motifs", "show", "CCO", "-o", "x.png", "--vocab", "missing.vocab"], "cannot read"),
        (["motifs", "check", "nowhere.smi"], "no such file"),
        (["motifs", "show", "CCO", "-o", "/dev/null/x.png"], "cannot write"),
    ],
    ids=["bad-smiles", "missing-vocab", "missing-source", "unwritable-png"],
)
def test_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    argv: list[str], message: str,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("moldojo: error:") and message in err
