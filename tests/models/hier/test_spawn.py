"""Training the hierarchical model on worker processes started by spawn (the default on macOS and
Windows), where workers inherit nothing from the parent and must get their state from the pool's
initializer."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

import moldojo.chem.vocab
import moldojo.data.dataset
import moldojo.models.hier.generator
from moldojo.cli import main
from moldojo.data import resolve_one
from moldojo.parallel import START_METHOD_ENV


def test_train_with_spawned_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 60 molecules, spawned workers, and chunks small enough that every parallel step
    # (featurising, the vocabulary, the motif-tree records) runs in the workers
    records = itertools.islice(resolve_one("moses-mini:valid").records(), 60)
    data = tmp_path / "train.smi"
    data.write_text("".join(f"{text}\n" for _, text in records))
    monkeypatch.setenv(START_METHOD_ENV, "spawn")
    for module in (moldojo.data.dataset, moldojo.chem.vocab, moldojo.models.hier.generator):
        monkeypatch.setattr(module, "_CHUNK", 16)
    # When the hierarchical model trains for one epoch on two processes
    out = tmp_path / "run"
    code = main(["-q", "train", "--model", "hier", "--data", str(data), "--out", str(out),
                 "--epochs", "1", "--set", "train.jobs=2", "--set", "train.batch_size=16",
                 "--set", "train.valid_molecules=5", "--set", "train.valid_samples=5",
                 "--set", "hier.hidden_dim=16", "--set", "hier.latent_dim=8",
                 "--set", "hier.atom_layers=1", "--set", "hier.attachment_layers=1",
                 "--set", "hier.motif_layers=1"])  # fmt: skip
    # Then it finishes and writes the model
    assert code == 0
    assert (out / "model.pt").is_file()
