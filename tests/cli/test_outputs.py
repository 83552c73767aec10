"""Every file a verb writes: checked before the work, written atomically under exactly the name
given, and every failure one line on stderr with exit status 1 (usage errors 2)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli_helpers import run
from moldojo.cli.common import write_json
from moldojo.cli.output import output_dir, output_file
from moldojo.errors import MoldojoError
from moldojo.models.generator import Decoded
from moldojo.sampling import DEFAULT_MODEL

needs_model = pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no model shipped")
UNWRITABLE = "/dev/null/x"  # a file as the parent: no directory can ever be made there


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("moldojo: error: "), err
    for fragment in fragments:
        assert fragment in err


def leftovers(directory: Path) -> list[str]:
    """Temporary or probe files a write may have left behind."""
    return sorted(p.name for p in directory.rglob(".*") if p.suffix in (".tmp", ".probe"))


@pytest.fixture
def forbid(monkeypatch: pytest.MonkeyPatch):
    """``forbid("moldojo.cli.sample.load_model")``: the test fails if the work starts."""

    def install(target: str) -> None:
        def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError(f"{target} ran although the output could not be written")

        monkeypatch.setattr(target, refuse)

    return install


@pytest.fixture
def smiles_file(tmp_path: Path) -> Path:
    path = tmp_path / "in.smi"
    path.write_text("CCO\nc1ccccc1O\n")
    return path


# -- the helper ------------------------------------------------------------------------------


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an existing output and a disk that fills up during the write
    target = tmp_path / "out.smi"
    target.write_text("old\n")
    output = output_file(str(target), "-o")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    # When it is written, Then one error names the file and the reason
    with pytest.raises(MoldojoError, match="cannot write .*out.smi .*No space left"):
        output.write_text("new\n")
    # And the old content is untouched, with no temporary file beside it
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.smi"]


def test_an_interrupted_write_leaves_no_temporary(tmp_path: Path) -> None:
    output = output_file(str(tmp_path / "z.npy"), "-o")
    with pytest.raises(KeyboardInterrupt), output.open() as handle:
        handle.write(b"partial")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_writes_create_parents_follow_links_and_keep_the_mode(tmp_path: Path) -> None:
    nested = output_file(str(tmp_path / "a" / "b" / "out.txt"), "-o")
    assert not (tmp_path / "a").exists()  # the check creates nothing
    nested.write_text("x\n")
    assert (tmp_path / "a" / "b" / "out.txt").read_text() == "x\n"
    real = tmp_path / "real.json"
    real.write_text("{}\n")
    real.chmod(0o640)
    (tmp_path / "link.json").symlink_to(real)
    write_json({"a": 1}, output_file(str(tmp_path / "link.json"), "--json"))
    assert (tmp_path / "link.json").is_symlink() and json.loads(real.read_text()) == {"a": 1}
    assert real.stat().st_mode & 0o777 == 0o640
    assert leftovers(tmp_path) == []


def test_json_is_strict(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    write_json({"a": float("nan"), "b": [float("inf"), 1.5], "c": (float("-inf"),)}, path)

    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    assert json.loads(path.read_text(), parse_constant=refuse) == {
        "a": None, "b": [None, 1.5], "c": [None],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("DIR", {}, "it is a directory"),
        ("DIR/", {}, "it is a directory"),
        (UNWRITABLE, {}, "/dev/null is not a directory"),
        ("/dev/null/deeper/x", {}, "/dev/null is not a directory"),
        ("-", {}, "cannot go to stdout"),
        ("g.out", {"image": True}, "picture format"),
        ("noext", {"image": True}, "no extension"),
    ],
    ids=["dir", "dir-slash", "parent-file", "ancestor-file", "stdout", "unknown-ext", "no-ext"],
)
def test_output_file_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, kwargs: dict, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "DIR").mkdir()
    with pytest.raises(MoldojoError, match=message):
        output_file(name, "-o", **kwargs)
    assert leftovers(tmp_path) == []


def test_output_dir_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(MoldojoError, match="it is a file, not a directory"):
        output_dir(str(tmp_path / "f"), "--plots")
    assert output_dir(str(tmp_path / "new" / "plots"), "--plots") is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]  # nothing created


# -- sample ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-o", "/proc/x.smi"], "cannot write /proc/x.smi"),
        (["-o", UNWRITABLE], "not a directory"),
        (["-o", "DIR"], "it is a directory"),
        (["--grid", "g.out"], "--grid g.out"),
        (["--grid", "DIR.png"], "it is a directory"),
    ],
    ids=["proc", "parent-file", "dir", "grid-extension", "grid-dir"],
)
def test_sample_checks_its_outputs_before_sampling(
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forbid, argv: list[str],
    message: str,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "DIR").mkdir()
    (tmp_path / "DIR.png").mkdir()
    forbid("moldojo.cli.sample.load_model")
    code, out, err = run(capsys, "-q", "sample", "-n", "3", *argv)
    assert_one_line_error(code, err, message)
    assert out == "" and not (tmp_path / "g.out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["DIR", "DIR.png"]


@needs_model
def test_sample_writes_into_new_directories(capsys, tmp_path: Path) -> None:
    smi, grid = tmp_path / "a" / "s.smi", tmp_path / "b" / "c" / "grid.jpg"
    code, out, _ = run(capsys, "-q", "sample", "-n", "3", "-o", str(smi), "--grid", str(grid))
    assert code == 0 and f"-> {smi}" in out
    assert len(smi.read_text().splitlines()) == 3
    with Image.open(grid) as image:
        assert image.format == "JPEG"
    assert leftovers(tmp_path) == []


def test_sample_grid_of_no_molecule_is_an_error(
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a model whose every sample fails
    class Failing:
        kind, decoding, decode_modes = "failing", "never", ()

        def sample(self, n: int, **kwargs: object) -> Decoded:
            return Decoded([None] * n, ["valence"] * n)

    monkeypatch.setattr("moldojo.cli.sample.load_model", lambda *args: Failing())
    # When a grid is asked for, Then the SMILES are written but no empty picture, and exit 1
    grid = tmp_path / "grid.png"
    code, out, err = run(capsys, "sample", "-n", "2", "--grid", str(grid))
    assert out == "\n\n" and "0 of 2 ok" in err
    assert_one_line_error(code, err.splitlines(keepends=True)[-1], "none of the 2 samples")
    assert list(tmp_path.iterdir()) == []


@needs_model
def test_sample_to_a_full_disk_fails(capsys) -> None:
    code, out, err = run(capsys, "-q", "sample", "-n", "3", "-o", "/dev/full")
    assert_one_line_error(code, err, "/dev/full", "No space left")
    assert out == ""


# -- encode / decode -------------------------------------------------------------------------


@needs_model
def test_encode_writes_exactly_the_name_given(capsys, tmp_path: Path, smiles_file: Path) -> None:
    z_file = tmp_path / "z.latent"
    code, out, _ = run(capsys, "encode", str(smiles_file), "-o", str(z_file))
    assert code == 0 and f"-> {z_file} [2, " in out
    assert np.load(z_file).shape[0] == 2
    assert not Path(f"{z_file}.npy").exists() and leftovers(tmp_path) == []


@needs_model
@pytest.mark.parametrize("target", ["DIR", "/dev/full", UNWRITABLE])
def test_encode_refuses_what_it_cannot_write(
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smiles_file: Path, target: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "DIR").mkdir()
    code, out, err = run(capsys, "-q", "encode", str(smiles_file), "-o", target)
    assert_one_line_error(code, err, target)
    assert not Path(f"{target}.npy").exists() and list((tmp_path / "DIR").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["DIR", "in.smi"]


def _strings(path: Path) -> None:
    np.save(path, np.array([["C", "O"]]))


def _npz(path: Path) -> None:
    with path.open("wb") as handle:
        np.savez(handle, z=np.zeros((2, 4)))


def _truncated_zip(path: Path) -> None:
    _npz(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@needs_model
@pytest.mark.parametrize(
    ("write", "message"),
    [
        (_strings, "floating-point"),
        (_npz, ".npz archive"),
        (_truncated_zip, "not a NumPy .npy array"),
        (lambda path: np.save(path, np.zeros((2, 4), dtype=np.int64)), "got dtype int64"),
        (lambda path: np.save(path, np.zeros(4)), "2-D array"),
        (lambda path: path.write_bytes(b""), "not a NumPy .npy array"),
        (lambda path: None, "no such file"),
    ],
    ids=["strings", "npz-renamed", "truncated-zip", "integers", "1-d", "empty-file", "missing"],
)
def test_decode_refuses_bad_latent_files(capsys, tmp_path: Path, write, message: str) -> None:
    path = tmp_path / "z.npy"
    write(path)
    code, out, err = run(capsys, "-q", "decode", str(path))
    assert_one_line_error(code, err, str(path), message)
    assert out == ""


@needs_model
def test_decode_checks_its_output_first(capsys, tmp_path: Path, forbid) -> None:
    forbid("moldojo.cli.decode.read_latent_points")
    code, _, err = run(capsys, "-q", "decode", str(tmp_path / "z.npy"), "-o", str(tmp_path))
    assert_one_line_error(code, err, "it is a directory")


# -- reconstruct -----------------------------------------------------------------------------


@needs_model
def test_reconstruct_of_no_molecules_is_an_error(capsys, tmp_path: Path) -> None:
    empty = tmp_path / "empty.smi"
    empty.write_text("")
    code, out, err = run(capsys, "-q", "reconstruct", "--data", str(empty),
                         "--json", str(tmp_path / "r.json"))  # fmt: skip
    assert_one_line_error(code, err, "no molecules to reconstruct")
    assert out == "" and not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("n", ["-1", "0", "many"])
def test_reconstruct_n_must_be_positive(capsys, n: str) -> None:
    code, out, err = run(capsys, "reconstruct", "--data", "x.smi", "-n", n)
    assert code == 2 and out == "" and err.count("\n") == 1 and "-n" in err


@needs_model
def test_reconstruct_json_is_checked_first_and_strict(
    capsys, tmp_path: Path, smiles_file: Path, forbid
) -> None:
    code, out, _ = run(capsys, "-q", "reconstruct", "--data", str(smiles_file), "--json", "-")
    assert code == 0
    text = out.split("\n", 1)[1]  # the accuracy line, then the JSON

    def refuse(constant: str) -> None:
        raise AssertionError(constant)

    assert json.loads(text, parse_constant=refuse)["n"] == 2
    forbid("moldojo.cli.reconstruct.load_model")
    code, _, err = run(capsys, "reconstruct", "--data", str(smiles_file), "--json", "/proc/r.json")
    assert_one_line_error(code, err, "/proc/r.json")


# -- evaluate --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "target", "message"),
    [("--plots", "FILE", "it is a file"), ("--plots", UNWRITABLE, "not a directory"),
     ("--json", "DIR", "it is a directory"), ("--json", "/proc/e.json", "/proc/e.json")],
    ids=["plots-file", "plots-unwritable", "json-dir", "json-proc"],
)  # fmt: skip
def test_evaluate_checks_its_outputs_before_evaluating(
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forbid, flag: str, target: str,
    message: str,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "DIR").mkdir()
    (tmp_path / "FILE").write_text("keep\n")
    (tmp_path / "gen.smi").write_text("CCO\n")
    forbid("moldojo.cli.evaluate.read_generated")
    forbid("moldojo.evaluation.moses.describe_all")
    code, out, err = run(capsys, "evaluate", "gen.smi", flag, target, "--jobs", "1")
    assert_one_line_error(code, err, message)
    assert out == "" and (tmp_path / "FILE").read_text() == "keep\n"


# -- data, vocab, motifs, dojo, train ---------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["data", "info", "in.smi", "--json", "DIR"],
        ["data", "check", "in.smi", "--json", "/proc/c.json"],
        ["vocab", "in.smi", "-o", "DIR"],
        ["vocab", "in.smi", "-o", "v.vocab", "--json", UNWRITABLE],
        ["motifs", "check", "in.smi", "--json", "DIR"],
        ["motifs", "show", "CCO", "-o", "tree.out"],
        ["motifs", "show", "CCO", "-o", "DIR.png"],
        ["dojo", "bench", "--minutes", "0.01", "--json", "DIR"],
        ["train", "--out", "/proc/run"],
        ["train", "--out", "in.smi"],
    ],
    ids=["data-info", "data-check", "vocab-o", "vocab-json", "motifs-check", "motifs-show-ext",
         "motifs-show-dir", "dojo-bench", "train-proc", "train-file"],
)  # fmt: skip
def test_every_verb_checks_its_outputs_before_working(
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forbid, smiles_file: Path,
    argv: list[str],
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "DIR").mkdir()
    (tmp_path / "DIR.png").mkdir()
    work = ("data.resolve", "vocab.resolve", "motifs.resolve", "motifs.parse_smiles")
    for target in (*(f"moldojo.cli.{name}" for name in work), "moldojo.training.dojo.run_dojo",
                   "moldojo.training.run.load_run_config"):  # fmt: skip
        forbid(target)
    code, out, err = run(capsys, "-q", *argv)
    assert_one_line_error(code, err, "cannot" if "--out" not in argv else "--out")
    assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["DIR", "DIR.png", "in.smi"]
    assert list((tmp_path / "DIR").iterdir()) == []


def test_vocab_and_motifs_write_their_files(capsys, tmp_path: Path, smiles_file: Path) -> None:
    vocab, stats = tmp_path / "new" / "m.vocab", tmp_path / "new" / "stats.json"
    code, _, _ = run(capsys, "-q", "vocab", str(smiles_file), "-o", str(vocab),
                     "--json", str(stats), "-j", "1")  # fmt: skip
    assert code == 0 and vocab.read_text().startswith("#") and json.loads(stats.read_text())
    tree = tmp_path / "tree.pdf"
    assert run(capsys, "motifs", "show", "c1ccccc1O", "-o", str(tree))[0] == 0
    assert tree.read_bytes().startswith(b"%PDF")
    assert leftovers(tmp_path) == []
