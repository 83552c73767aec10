"""Run directories that cannot be lost: ``moldojo train`` never replaces a run unasked, checks a
resume before it reads data or writes anything, and a run killed at any moment resumes exactly.

The commands are the tests: ``main([...])`` in process, asserting the exit status, a single line
on stderr and that the old run's files are untouched; subprocesses where a kill is the point.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

import pytest
import torch

import moldojo
from moldojo.checkpoint import load_checkpoint
from moldojo.cli import main
from moldojo.data.sources import resolve_one

TINY = ["--set", "two_step.hidden_dim=16", "--set", "two_step.decoder_dim=16",
        "--set", "two_step.latent_dim=8", "--set", "two_step.encoder_layers=1",
        "--set", "two_step.decoder_layers=1", "--set", "train.batch_size=8",
        "--set", "train.valid_molecules=5", "--set", "train.valid_samples=5",
        "--set", "train.jobs=1"]  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 molecules of moses-mini (10 held out for validation: 90 trained on, 12 steps of 8)."""
    path = tmp_path_factory.mktemp("data") / "train.smi"
    records = islice(resolve_one("moses-mini:valid").records(), 100)
    path.write_text("".join(smiles + "\n" for _, smiles in records))
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, data: Path) -> Path:
    out = tmp_path_factory.mktemp("finished") / "run"
    assert main(["-q", "train", "--data", str(data), "--out", str(out), "--epochs", "1",
                 *TINY]) == 0  # fmt: skip
    return out


@pytest.fixture
def run(finished: Path, tmp_path: Path) -> Path:
    """A copy of a finished run of one epoch."""
    return Path(shutil.copytree(finished, tmp_path / "run"))


@pytest.fixture
def no_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading data fails the test: what is checked must be checked before."""

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("training data was read")

    monkeypatch.setattr("moldojo.training.run.load_dataset", fail)


def _files(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}


def _one_error_line(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("moldojo"), err
    assert all(word in err for word in words), err
    return err


def _train_steps(run_dir: Path) -> list[int]:
    import json

    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r["step"] for r in rows if r["kind"] == "train"]


# -- a finished run is never replaced unasked ------------------------------------------------------


def test_training_into_a_run_is_refused_and_touches_nothing(
    run: Path, data: Path, capsys: pytest.CaptureFixture[str], no_data: None
) -> None:
    before = _files(run)
    assert main(["train", "--data", str(data), "--out", str(run), *TINY]) == 1
    _one_error_line(capsys, "already holds a run", "--resume", "--overwrite")
    assert _files(run) == before


def test_an_empty_directory_or_one_without_a_run_is_fine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an empty directory and one holding other files, and data that does not exist
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "README.txt").write_text("my notes\n")
    for out in ("empty", "notes"):
        # Then training gets as far as the data
        args = ["train", "--data", str(tmp_path / "none.smi"), "--out", str(tmp_path / out)]
        assert main(args) == 1
        err = _one_error_line(capsys, "none.smi")
        assert "holds a run" not in err
    assert (tmp_path / "notes" / "README.txt").read_text() == "my notes\n"


def test_overwrite_replaces_the_run(run: Path, data: Path) -> None:
    assert main(["-q", "train", "--data", str(data), "--out", str(run), "--epochs", "1",
                 "--overwrite", *TINY, "--set", "two_step.hidden_dim=24"]) == 0  # fmt: skip
    assert "hidden_dim = 24" in (run / "config.toml").read_text()
    for name in ("model.pt", "checkpoints/last.pt"):
        assert load_checkpoint(run / name).config["two_step"]["hidden_dim"] == 24
    assert _train_steps(run) == list(range(1, 13))
    assert moldojo.load(run).latent_dim == 8


def test_resume_and_overwrite_exclude_each_other(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--out", str(run), "--resume", "--overwrite"])
    assert exit_.value.code == 2
    _one_error_line(capsys, "--overwrite", "--resume")


# -- a resume is checked before data is read or anything written ---------------------------------


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (["--model", "hier"], ["holds a two-step model", "leave out --model"]),
        (["--set", "two_step.hidden_dim=64"], ["two_step.hidden_dim = 64", "trained with",
                                               "two_step.hidden_dim = 16", "may change only"]),
        (["--set", "train.batch_size=4"], ["train.batch_size = 4"]),
        (["--set", "vocabulary.min_count=2"], ["vocabulary.min_count = 2"]),
        (["--data", "moses-mini"], ["data = 'moses-mini'"]),
        (["--seed", "3"], ["seed = 3"]),
    ],
    ids=["model", "architecture", "batch_size", "vocabulary", "data", "seed"],
)  # fmt: skip
def test_resume_refuses_what_would_change_the_run(
    run: Path, change: list[str], words: list[str], capsys: pytest.CaptureFixture[str],
    no_data: None,
) -> None:  # fmt: skip
    before = _files(run)
    assert main(["train", "--out", str(run), "--resume", "--epochs", "2", *change]) == 1
    _one_error_line(capsys, "cannot resume", *words)
    assert _files(run) == before  # config.toml too: a plain --resume still works


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_resume_needs_a_checkpoint_that_loads(
    run: Path, damage: str, capsys: pytest.CaptureFixture[str], no_data: None
) -> None:
    last = run / "checkpoints" / "last.pt"
    if damage == "missing":
        last.unlink()
    else:
        last.write_bytes(last.read_bytes()[:1000])
    before = _files(run)
    assert main(["train", "--out", str(run), "--resume"]) == 1
    _one_error_line(capsys, "last.pt", "does not exist" if damage == "missing" else "corrupt")
    assert _files(run) == before


def test_resume_may_change_the_length_and_pace_and_survives_a_torn_row(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a run whose last metrics row was torn by a kill, with a checkpoint write's litter
    with (run / "metrics.jsonl").open("a") as metrics:
        metrics.write('{"kind": "train", "step": 13, "ep')
    (run / "checkpoints" / ".last.pt.4242.0f0f.tmp").write_bytes(b"half a checkpoint")
    # When it is resumed with more epochs, another learning rate and budget, fewer samples
    assert main(["train", "--out", str(run), "--resume", "--epochs", "2", "--max-minutes", "10",
                 "--set", "train.lr=0.002", "--set", "train.valid_samples=3",
                 "--set", "train.checkpoint_steps=5"]) == 0  # fmt: skip
    # Then the torn row is dropped with one warning, and the run goes on
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "metrics.jsonl, line" in err and "dropped" in err, err
    assert _train_steps(run) == list(range(1, 25))
    assert not list(run.rglob("*.tmp"))
    assert "lr = 0.002" in (run / "config.toml").read_text()


# -- a vocabulary file that is not one ------------------------------------------------------------


def test_a_binary_vocabulary_is_one_line(tmp_path: Path, data: Path,
                                         capsys: pytest.CaptureFixture[str],
                                         no_data: None) -> None:  # fmt: skip
    binary = tmp_path / "vocab.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    out = tmp_path / "run"
    assert main(["train", "--model", "hier", "--data", str(data), "--out", str(out),
                 "--set", f"vocabulary.path={binary}"]) == 1  # fmt: skip
    _one_error_line(capsys, "vocab.bin", "not a text file")
    assert not out.exists()
    assert main(["motifs", "show", "CCO", "--vocab", str(binary), "-o",
                 str(tmp_path / "m.png")]) == 1  # fmt: skip
    _one_error_line(capsys, "vocab.bin", "not a text file")
    assert main(["motifs", "check", str(data), "--vocab", str(binary)]) == 1
    _one_error_line(capsys, "vocab.bin", "not a text file")


# -- kill -9 ---------------------------------------------------------------------------------------

_POOL_SCRIPT = """
import sys, time
from moldojo.parallel import imap_chunks


def slow(chunk):
    time.sleep(0.2)
    return len(chunk)


if __name__ == "__main__":
    for n in imap_chunks(slow, range(1000), jobs=2, chunk_size=10):
        print(n, flush=True)
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pool_workers_exit_quietly_when_the_parent_is_killed(tmp_path: Path, method: str) -> None:
    # Given a process whose pool workers are busy
    script = tmp_path / "pool.py"
    script.write_text(_POOL_SCRIPT)
    env = {**os.environ, "MOLDOJO_START_METHOD": method}
    with subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, text=True) as proc:  # fmt: skip
        assert proc.stdout is not None and proc.stdout.readline().strip() == "10"
        # When it is killed
        proc.kill()
        # Then its workers go (the pipes close) without a traceback
        _, err = proc.communicate(timeout=60)
    if method == "fork":
        assert err == ""
    else:  # Python's resource tracker says which semaphores of the dead parent it removed
        assert "Traceback" not in err and "Error" not in err, err


def _kill_and_resume(tmp_path: Path, data: Path, kills: int, seed: int) -> None:
    """Train in a subprocess, SIGKILL it at random moments ``kills`` times, resuming (or starting
    again, when it died before its first checkpoint) each time; then let it finish and compare
    with the same run done in one go."""
    rng = random.Random(seed)
    run_dir = tmp_path / "run"
    last = run_dir / "checkpoints" / "last.pt"
    fresh = ["--data", str(data), "--epochs", "2", *TINY, "--set", "train.checkpoint_steps=1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    attempts = []
    for attempt in range(kills + 1):  # the last one is not killed
        args = ["--resume"] if last.exists() else [*fresh, "--overwrite"]
        log = tmp_path / f"stderr{attempt}.txt"
        with log.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "moldojo", "train", "--out", str(run_dir), *args],
                stdout=subprocess.DEVNULL, stderr=err, env=env,
            )  # fmt: skip
        if attempt < kills:
            # The first kill at any moment (often before the first checkpoint); the others at a
            # random moment after a new checkpoint, so that every attempt makes progress.
            if attempt == 0:
                time.sleep(rng.uniform(0.5, 6.0))
            else:
                _wait_for_new_checkpoint(last, proc)
                time.sleep(rng.uniform(0.0, 0.4))
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=300)
        attempts.append((args[0], proc.returncode))
        assert "Traceback" not in log.read_text(), log.read_text()
        if proc.returncode == 0:
            break
    assert proc.returncode == 0, (attempts, log.read_text())
    # Then the run is complete: every step once, validations of each epoch, no litter
    assert _train_steps(run_dir) == list(range(1, 25)), attempts
    assert not list(run_dir.rglob("*.tmp"))
    assert len(moldojo.load(run_dir).sample(3, generator=torch.Generator().manual_seed(0))) == 3
    # And it is the run done in one go, bit for bit
    straight = tmp_path / "straight"
    assert main(["-q", "train", "--out", str(straight), *fresh]) == 0
    a, b = load_checkpoint(straight / "model.pt"), load_checkpoint(run_dir / "model.pt")
    assert all(torch.equal(a.state_dict[k], b.state_dict[k]) for k in a.state_dict), attempts
    assert _losses(straight) == _losses(run_dir)


def _wait_for_new_checkpoint(last: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    seen = last.stat().st_mtime_ns if last.exists() else None
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if last.exists() and last.stat().st_mtime_ns != seen:
            return
        time.sleep(0.02)


def _losses(run_dir: Path) -> list[float]:
    import json

    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r["loss"] for r in rows if r["kind"] == "train"]


def test_a_run_killed_twice_resumes_to_the_uninterrupted_result(tmp_path: Path, data: Path) -> None:
    _kill_and_resume(tmp_path, data, kills=2, seed=0)


@pytest.mark.slow
def test_a_run_killed_many_times_resumes_to_the_uninterrupted_result(
    tmp_path: Path, data: Path
) -> None:
    _kill_and_resume(tmp_path, data, kills=8, seed=1)
