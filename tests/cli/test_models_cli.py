"""train -> sample -> reconstruct -> encode -> decode, end to end and in process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from rdkit import Chem

import moldojo
from moldojo.cli import main
from moldojo.data import load_dataset
from moldojo.errors import CheckpointError
from moldojo.sampling import DEFAULT_MODEL, PRETRAINED

TINY = ["--set", "two_step.hidden_dim=16", "--set", "two_step.decoder_dim=16",
        "--set", "two_step.latent_dim=8", "--set", "two_step.encoder_layers=1",
        "--set", "two_step.decoder_layers=1", "--set", "train.batch_size=16",
        "--set", "train.valid_molecules=10", "--set", "train.valid_samples=10",
        "--set", "train.jobs=1"]  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("two_step")
    smiles = load_dataset("moses-mini:valid", progress=False).smiles[:80]
    (root / "train.smi").write_text("\n".join(smiles) + "\nnot-a-smiles\n")
    out = root / "run"
    assert main(["-q", "train", "--model", "two-step", "--data", str(root / "train.smi"),
                 "--out", str(out), "--epochs", "2", *TINY]) == 0  # fmt: skip
    return out


def test_train_writes_a_complete_run_directory(run_dir: Path) -> None:
    for name in ("config.toml", "metrics.jsonl", "model.pt", "checkpoints/last.pt", "curves.png"):
        assert (run_dir / name).exists(), name
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    train_rows = [r for r in rows if r["kind"] == "train"]
    valid_rows = [r for r in rows if r["kind"] == "valid"]
    # 80 lines, one bad, 8 held out (a tenth): 71 molecules, 5 steps of 16 per epoch
    assert [r["step"] for r in train_rows] == list(range(1, 11))
    assert [r["epoch"] for r in valid_rows] == [1, 2]
    assert {"reconstruction", "validity_raw", "validity_constrained"} <= set(valid_rows[-1])
    assert 0.0 <= valid_rows[-1]["validity_constrained"] <= 1.0  # 10 steps: bags still too big


def test_resume_continues_where_the_run_stopped(run_dir: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    assert main(["-q", "train", "--out", str(copy), "--resume", "--epochs", "3"]) == 0
    rows = [json.loads(line) for line in (copy / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if r["kind"] == "train"] == list(range(1, 16))


def test_sample_prints_one_line_per_sample(run_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["sample", str(run_dir), "-n", "12", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 12
    assert all(Chem.MolFromSmiles(s) is not None for s in lines if s)
    assert "sampled (constrained): " in captured.err
    assert "rdkit" not in captured.err  # constrained decoding fails only on empty/too-large bags
    assert main(["sample", str(run_dir), "-n", "12", "--seed", "3"]) == 0
    assert capsys.readouterr().out.splitlines() == lines  # seeded
    assert main(["sample", str(run_dir), "-n", "5", "--raw"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 5


def test_reconstruct_prints_the_accuracy_line(run_dir: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:  # fmt: skip
    out = tmp_path / "rec.json"
    assert main(["reconstruct", str(run_dir), "--data", "moses-mini", "-n", "20",
                 "--json", str(out)]) == 0  # fmt: skip
    line = capsys.readouterr().out.strip()
    assert line.startswith("reconstruction accuracy: ") and "(n=20," in line
    assert json.loads(out.read_text())["n"] == 20


def test_encode_then_decode(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    smiles = tmp_path / "in.smi"
    smiles.write_text("CCO\nnot-a-smiles\nc1ccccc1O\n")
    z_file = tmp_path / "z.npy"
    assert main(["encode", str(run_dir), str(smiles), "-o", str(z_file)]) == 0
    z = np.load(z_file)
    assert z.shape == (3, 8) and np.isnan(z[1]).all() and np.isfinite(z[[0, 2]]).all()
    assert "1 failed (invalid_input 1)" in capsys.readouterr().out
    assert main(["decode", str(run_dir), str(z_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[1] == ""


def test_python_api_save_load_gives_identical_samples(run_dir: Path) -> None:
    a = moldojo.load(run_dir)
    b = moldojo.load(run_dir / "checkpoints" / "last.pt")
    first = a.sample(20, generator=torch.Generator().manual_seed(5), temperature=1.0)
    second = b.sample(20, generator=torch.Generator().manual_seed(5), temperature=1.0)
    assert first == second
    z = a.encode(["CCO", "CCN"])
    assert z.shape == (2, a.latent_dim)
    assert len(a.decode(z)) == 2


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["sample", str(tmp_path), "-n", "3"]) == 1
    assert "neither model.pt nor checkpoints/last.pt" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "x"), "--resume"]) == 1
    assert "cannot resume" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "x"), "--set", "two_step.hidden=3"]) == 1
    assert "hidden" in capsys.readouterr().err


@pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no model shipped in this checkout")
def test_the_shipped_model_samples_without_a_run_dir(capsys: pytest.CaptureFixture) -> None:
    assert main(["sample", "-n", "50"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 50 and all(Chem.MolFromSmiles(s) is not None for s in lines if s)


@pytest.mark.parametrize("name", sorted(PRETRAINED))
def test_shipped_models_load_by_name(name: str, capsys: pytest.CaptureFixture) -> None:
    if not PRETRAINED[name].exists():
        pytest.skip(f"{PRETRAINED[name]} is not shipped in this checkout")
    assert moldojo.load(name).kind == name
    assert main(["sample", name, "-n", "3", "--seed", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(Chem.MolFromSmiles(s) is not None for s in lines if s)


def test_a_path_wins_over_a_shipped_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hier").mkdir()
    with pytest.raises(CheckpointError, match="neither model.pt"):
        moldojo.load("hier")
