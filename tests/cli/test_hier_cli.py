"""``--model hier``: train -> sample -> reconstruct -> encode -> decode, end to end, in process."""

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

TINY = ["--set", "hier.hidden_dim=16", "--set", "hier.latent_dim=8", "--set", "hier.atom_layers=1",
        "--set", "hier.attachment_layers=1", "--set", "hier.motif_layers=1",
        "--set", "train.batch_size=16", "--set", "train.valid_molecules=8",
        "--set", "train.valid_samples=8", "--set", "train.jobs=1"]  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hier")
    smiles = load_dataset("moses-mini:valid", progress=False).smiles[:60]
    (root / "train.smi").write_text("\n".join(smiles) + "\nnot-a-smiles\n")
    (root / "valid.smi").write_text("\n".join(smiles[:8]) + "\n")
    out = root / "run"
    assert main(["-q", "train", "--model", "hier", "--data", str(root / "train.smi"),
                 "--set", f"valid={root / 'valid.smi'}", "--out", str(out), "--epochs", "2",
                 *TINY]) == 0  # fmt: skip
    return out


def test_train_writes_a_complete_run_directory(run_dir: Path) -> None:
    for name in ("config.toml", "metrics.jsonl", "model.pt", "checkpoints/last.pt", "curves.png"):
        assert (run_dir / name).exists(), name
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    # 60 molecules (the bad line is skipped, none held out: valid= is given), 4 steps of 16
    assert [r["step"] for r in rows if r["kind"] == "train"] == list(range(1, 9))
    valid = [r for r in rows if r["kind"] == "valid"]
    assert [r["epoch"] for r in valid] == [1, 2]
    assert valid[-1]["validity"] == 1.0
    assert {"stop", "motif", "config", "pair", "kl", "pair_acc"} <= set(rows[0])


def test_resume_continues_where_the_run_stopped(run_dir: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    assert main(["-q", "train", "--out", str(copy), "--resume", "--epochs", "3"]) == 0
    rows = [json.loads(line) for line in (copy / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if r["kind"] == "train"] == list(range(1, 13))


def test_sample_is_valid_and_seeded(run_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["sample", str(run_dir), "-n", "12", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 12 and all(Chem.MolFromSmiles(s) is not None for s in lines)
    assert "sampled (motif by motif): 12 of 12 ok" in captured.err
    assert main(["sample", str(run_dir), "-n", "12", "--seed", "3"]) == 0
    assert capsys.readouterr().out.splitlines() == lines
    assert main(["sample", str(run_dir), "-n", "5", "--temperature", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 5


def test_two_step_flags_are_refused(run_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["sample", str(run_dir), "-n", "3", "--raw"]) == 1
    assert "motif by motif" in capsys.readouterr().err


def test_reconstruct_prints_the_accuracy_line(run_dir: Path, capsys: pytest.CaptureFixture
                                              ) -> None:  # fmt: skip
    assert main(["reconstruct", str(run_dir), "--data", "moses-mini", "-n", "10"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("reconstruction accuracy: ")
    assert "(n=10, motif by motif decoding, stereo-blind)" in line


def test_encode_then_decode(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    smiles = tmp_path / "in.smi"
    train = (run_dir.parent / "train.smi").read_text().splitlines()
    smiles.write_text(f"{train[0]}\nnot-a-smiles\n{train[1]}\n")
    z_file = tmp_path / "z.npy"
    assert main(["encode", str(run_dir), str(smiles), "-o", str(z_file)]) == 0
    z = np.load(z_file)
    assert z.shape == (3, 8) and np.isnan(z[1]).all() and np.isfinite(z[[0, 2]]).all()
    assert "1 failed (invalid_input 1)" in capsys.readouterr().out
    assert main(["decode", str(run_dir), str(z_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[1] == "" and Chem.MolFromSmiles(lines[0]) is not None


def test_python_api_save_load_gives_identical_samples(run_dir: Path) -> None:
    a = moldojo.load(run_dir)
    b = moldojo.load(run_dir / "checkpoints" / "last.pt")
    assert a.kind == "hier"
    first = a.sample(10, generator=torch.Generator().manual_seed(5), temperature=1.0)
    second = b.sample(10, generator=torch.Generator().manual_seed(5), temperature=1.0)
    assert first == second
