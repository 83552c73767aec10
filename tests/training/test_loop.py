"""The shared training loop: exact resume, budgets, metrics and checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from moldojo.checkpoint import load_checkpoint
from moldojo.config import config_to_dict
from moldojo.errors import CheckpointError, ConfigError
from moldojo.models.two_step import TwoStepConfig
from moldojo.models.two_step.task import TwoStepTask
from moldojo.models.vae import KLSchedule
from moldojo.training.loop import TrainConfig, fit
from two_step_helpers import make_task

SMILES = ["CCO", "CC(=O)O", "c1ccccc1", "CCN(C)C", "OCC#N", "CC1CC1", "NC(=O)c1ccco1", "CCCl"]
TINY = TwoStepConfig(hidden_dim=16, decoder_dim=16, latent_dim=8, encoder_layers=1,
                     decoder_layers=1)  # fmt: skip
CONFIG = TrainConfig(epochs=2, batch_size=3, valid_molecules=4, valid_samples=4, jobs=1,
                     kl=KLSchedule(warmup_steps=4))  # fmt: skip


def _task() -> TwoStepTask:
    return make_task(SMILES, TINY)


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run_dir / "model.pt").state_dict


def test_resumed_run_equals_the_uninterrupted_one(tmp_path: Path) -> None:
    # Given the same run done in one go, and stopped after one epoch then resumed
    straight = tmp_path / "straight"
    fit(_task(), CONFIG, straight, run_config={}, progress=False)
    split = tmp_path / "split"
    fit(_task(), TrainConfig(**{**CONFIG.__dict__, "epochs": 1}), split, run_config={},
        progress=False)  # fmt: skip
    summary = fit(_task(), CONFIG, split, run_config={}, resume=True, progress=False)
    # Then the weights and the logged losses are the same
    assert summary.epochs == 2 and summary.steps == 6
    a, b = _weights(straight), _weights(split)
    assert all(torch.equal(a[k], b[k]) for k in a)
    rows = [
        (tmp_path / d / "metrics.jsonl").read_text().splitlines() for d in ("straight", "split")
    ]
    losses = [[json.loads(r)["loss"] for r in part if '"train"' in r] for part in rows]
    assert losses[0] == losses[1]


def test_budget_stops_mid_epoch_and_resume_finishes(tmp_path: Path) -> None:
    summary = fit(_task(), CONFIG, tmp_path, run_config={}, max_minutes=0.0, progress=False)
    assert summary.stopped == "budget" and summary.steps == 0
    assert (tmp_path / "model.pt").exists() and (tmp_path / "checkpoints" / "last.pt").exists()
    summary = fit(_task(), CONFIG, tmp_path, run_config={}, resume=True, progress=False)
    assert summary.stopped == "done" and summary.steps == 6
    rows = [json.loads(r) for r in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if r["kind"] == "train"] == list(range(1, 7))
    assert (tmp_path / "curves.png").stat().st_size > 0


def test_checkpoints_hold_config_and_vocabulary(tmp_path: Path) -> None:
    run_config = {"two_step": config_to_dict(TINY)}
    fit(_task(), CONFIG, tmp_path, run_config=run_config, progress=False)
    saved = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert saved.model_kind == "two-step" and saved.config == run_config
    assert "atom_types" in saved.vocabulary and saved.optimizer_state is not None
    assert load_checkpoint(tmp_path / "model.pt").optimizer_state is None


def test_resume_without_a_checkpoint_and_bad_configs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="cannot resume"):
        fit(_task(), CONFIG, tmp_path, run_config={}, resume=True, progress=False)
    with pytest.raises(ConfigError, match="batch_size"):
        TrainConfig(batch_size=0)
    with pytest.raises(ConfigError, match="lr_decay"):
        TrainConfig(lr_decay=1.5)
