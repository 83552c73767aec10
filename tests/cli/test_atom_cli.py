"""The atom-by-atom model through the CLI: train, resume, sample, reconstruct, encode, decode."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from rdkit import Chem

import moldojo
from moldojo.cli import main
from moldojo.data import load_dataset

TINY = ["--set", "atom.hidden_dim=16", "--set", "atom.latent_dim=8",
        "--set", "atom.encoder_layers=1", "--set", "atom.decoder_layers=1",
        "--set", "train.batch_size=16", "--set", "train.valid_molecules=8",
        "--set", "train.valid_samples=8", "--set", "train.jobs=1"]  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("atom")
    smiles = load_dataset("moses-mini:valid", progress=False).smiles[:60]
    (root / "train.smi").write_text("\n".join(smiles) + "\nnot-a-smiles\n")
    out = root / "run"
    assert main(["-q", "train", "--model", "atom", "--data", str(root / "train.smi"),
                 "--out", str(out), "--epochs", "2", *TINY]) == 0  # fmt: skip
    return out


def test_train_then_resume(run_dir: Path, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    # 60 lines, one bad, 6 held out: 54 molecules, 4 steps of 16 per epoch
    assert [r["step"] for r in rows if r["kind"] == "train"] == list(range(1, 9))
    assert {"atom_loss", "neighbour_loss", "bond_loss", "kl"} <= set(rows[0])
    assert {"validity_raw", "validity_constrained"} <= set(rows[-1])
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    assert main(["-q", "train", "--out", str(copy), "--resume", "--epochs", "3"]) == 0
    rows = [json.loads(line) for line in (copy / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if r["kind"] == "train"] == list(range(1, 13))


def test_sample_reconstruct_encode_decode(run_dir: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture) -> None:  # fmt: skip
    assert main(["sample", str(run_dir), "-n", "6", "--seed", "2", "--temperature", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6 and all(Chem.MolFromSmiles(s) is not None for s in lines if s)
    assert main(["sample", str(run_dir), "-n", "4", "--raw"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4
    assert main(["reconstruct", str(run_dir), "--data", "moses-mini", "-n", "5"]) == 0
    assert capsys.readouterr().out.startswith("reconstruction accuracy: ")
    smiles = tmp_path / "in.smi"
    smiles.write_text("CCO\nnot-a-smiles\nc1ccc2ccccc2c1\n")
    z_file = tmp_path / "z.npy"
    assert main(["encode", str(run_dir), str(smiles), "-o", str(z_file)]) == 0
    assert "2 of 3 ok, 1 failed (invalid_input 1)" in capsys.readouterr().out
    z = np.load(z_file)
    assert z.shape == (3, 8) and np.isnan(z[1]).all() and np.isfinite(z[[0, 2]]).all()
    assert main(["decode", str(run_dir), str(z_file)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_load_gives_the_same_samples_from_model_and_checkpoint(run_dir: Path) -> None:
    a, b = moldojo.load(run_dir), moldojo.load(run_dir / "checkpoints" / "last.pt")
    assert a.kind == "atom" and a.decode_modes == ("constrained", "raw")
    first = a.sample(10, generator=torch.Generator().manual_seed(5), temperature=1.0)
    second = b.sample(10, generator=torch.Generator().manual_seed(5), temperature=1.0)
    assert first == second
