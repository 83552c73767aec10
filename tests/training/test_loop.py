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


class _Killed(Exception):
    """Stands for a kill: the loop stops where it is, with no chance to save."""


class _DiesAtStep:
    """A task whose ``at``-th loss raises :class:`_Killed`."""

    def __init__(self, task: TwoStepTask, at: int) -> None:
        self.task, self.at, self.calls = task, at, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.task, name)

    def loss(self, batch: object, beta: float, generator: torch.Generator) -> dict:
        self.calls += 1
        if self.calls == self.at:
            raise _Killed
        return self.task.loss(batch, beta, generator)


def _train_losses(run_dir: Path) -> list[float]:
    rows = [json.loads(r) for r in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if r["kind"] == "train"] == list(range(1, 7))
    return [r["loss"] for r in rows if r["kind"] == "train"]


@pytest.mark.parametrize("every", [{"checkpoint_steps": 2}, {"checkpoint_minutes": 1e-9}],
                         ids=["steps", "minutes"])  # fmt: skip
def test_a_run_killed_mid_epoch_resumes_exactly(tmp_path: Path, every: dict) -> None:
    # Given the run done in one go, and the same run with checkpoints within epochs, killed in
    # the middle of its second epoch (3 batches an epoch; the 5th step never finishes)
    straight = tmp_path / "straight"
    fit(_task(), CONFIG, straight, run_config={}, progress=False)
    config = TrainConfig(**{**CONFIG.__dict__, **every})
    killed = tmp_path / "killed"
    with pytest.raises(_Killed):
        fit(_DiesAtStep(_task(), at=5), config, killed, run_config={}, progress=False)
    # Then the last checkpoint is the one of step 4, the epoch's first batch
    saved = load_checkpoint(killed / "checkpoints" / "last.pt")
    assert (saved.step, saved.extra["epoch"], saved.extra["batch_in_epoch"]) == (4, 1, 1)
    # When it is resumed
    summary = fit(_task(), config, killed, run_config={}, resume=True, progress=False)
    # Then it ends as the uninterrupted run: same weights, same losses, bit for bit
    assert summary.steps == 6 and summary.epochs == 2
    a, b = _weights(straight), _weights(killed)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert _train_losses(straight) == _train_losses(killed)


def test_resume_drops_a_torn_metrics_line_and_stale_temporaries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a run of one epoch killed while writing a row and while writing a checkpoint
    fit(_task(), TrainConfig(**{**CONFIG.__dict__, "epochs": 1}), tmp_path, run_config={},
        progress=False)  # fmt: skip
    with (tmp_path / "metrics.jsonl").open("a") as metrics:
        metrics.write('{"kind": "train", "step": 4, "epoch": 2, "be')
    stale = [tmp_path / "checkpoints" / ".last.pt.123.0a1b.tmp", tmp_path / ".model.pt.9.tmp",
             tmp_path / ".metrics.jsonl.9.tmp"]  # fmt: skip
    for path in stale:
        path.write_bytes(b"half a checkpoint")
    # When it is resumed
    with caplog.at_level("WARNING", logger="moldojo"):
        fit(_task(), CONFIG, tmp_path, run_config={}, resume=True, progress=False)
    # Then the torn line is dropped with one warning, the metrics are whole, the litter is gone
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "metrics.jsonl, line 5: not a complete row" in warnings[0]
    assert len(_train_losses(tmp_path)) == 6
    assert not any(path.exists() for path in stale)
    files = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["curves.png", "last.pt", "metrics.jsonl", "model.pt"]
