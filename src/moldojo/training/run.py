"""A training run from its configuration: data, model, loop, run directory.

``moldojo train`` is a thin wrapper around :func:`train`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from moldojo.chem import GraphConfig
from moldojo.config import config_to_dict, dump_config, load_config
from moldojo.data import DATASETS, load_dataset
from moldojo.data.atom_types import AtomTypes, order_graphs
from moldojo.data.sources import resolve_one
from moldojo.errors import ConfigError, DatasetError
from moldojo.models.two_step import TwoStepConfig
from moldojo.sampling.two_step import TwoStepGenerator, build_two_step
from moldojo.training.checkpoint import load_checkpoint
from moldojo.training.loop import TrainConfig, TrainSummary, fit
from moldojo.training.two_step import TwoStepTask

__all__ = ["MODELS", "RunConfig", "load_run_config", "train"]

log = logging.getLogger(__name__)

MODELS = ("two-step",)
_HELD_OUT = 1000  # validation molecules split off a training file that has no valid split


@dataclass(frozen=True)
class RunConfig:
    """Everything a training run needs; written to ``RUN_DIR/config.toml``.

    Args:
        model: which model to train (``"two-step"``).
        data: ``NAME`` (its train and valid splits), ``NAME:SPLIT`` or a SMILES file (1,000
            molecules, at most a tenth, held out for validation by a fixed-seed draw).
        seed: seeds initialisation, shuffling, noise and the held-out draw.
        train: the loop's settings.
        two_step: the two-step VAE's hyperparameters.
    """

    model: Literal["two-step"] = "two-step"
    data: str = "moses-mini"
    seed: int = 0
    train: TrainConfig = field(default_factory=TrainConfig)
    two_step: TwoStepConfig = field(default_factory=TwoStepConfig)

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ConfigError(f"model={self.model!r} is not one of {MODELS}")


def load_run_config(
    path: str | Path | None = None, overrides: tuple[str, ...] | list[str] = ()
) -> RunConfig:
    """A :class:`RunConfig` from a TOML file (or the defaults) and ``--set`` overrides."""
    return load_config(RunConfig, path, list(overrides))


def train(
    config: RunConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    max_minutes: float | None = None,
    device: str = "cpu",
    progress: bool | None = None,
) -> TrainSummary:
    """Train a model as ``config`` says, into ``run_dir``.

    With ``resume`` the atom types come from the checkpoint, so that the model's output layer
    keeps its meaning even if the data changed.
    """
    run_dir = Path(run_dir)
    torch.manual_seed(config.seed)
    graph_config = GraphConfig()
    train_spec, valid_spec = _splits(config.data)
    train_set = load_dataset(train_spec, config=graph_config, jobs=config.train.jobs,
                             progress=progress)  # fmt: skip
    if valid_spec is not None:
        valid_smiles = load_dataset(valid_spec, config=graph_config, jobs=config.train.jobs,
                                    progress=progress).smiles  # fmt: skip
        train_rows = np.arange(len(train_set))
    else:
        held = min(_HELD_OUT, len(train_set) // 10)
        order = np.random.default_rng(config.seed).permutation(len(train_set))
        valid_smiles = [train_set.smiles[i] for i in order[:held]]
        train_rows = np.sort(order[held:])
    if len(train_rows) == 0:
        raise DatasetError(f"{config.data}: no training molecules left")
    graphs = train_set.graphs.select(train_rows) if valid_spec is None else train_set.graphs

    last = run_dir / "checkpoints" / "last.pt"
    if resume and last.exists():
        atom_types = AtomTypes.from_data(load_checkpoint(last).vocabulary["atom_types"])
    else:
        atom_types = AtomTypes.build(graphs)
    ordered = order_graphs(graphs, atom_types, jobs=config.train.jobs, progress=progress)
    dropped = int((~ordered.kept).sum())
    if dropped:
        log.warning("%d training molecules have atom types outside the model's and are left out",
                    dropped)  # fmt: skip
    log.info("%d training molecules, %d atom types, %d validation molecules",
             len(ordered), len(atom_types), len(valid_smiles))  # fmt: skip

    model = build_two_step(config.two_step, atom_types, graph_config)
    generator = TwoStepGenerator(model.to(device), atom_types, graph_config)
    valid_rows = np.random.default_rng(config.seed).permutation(len(valid_smiles))
    task = TwoStepTask(
        generator,
        ordered,
        [valid_smiles[i] for i in np.sort(valid_rows[: config.train.valid_molecules])],
        valid_samples=config.train.valid_samples,
        seed=config.seed,
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    dump_config(config, run_dir / "config.toml")
    return fit(
        task, config.train, run_dir, run_config=config_to_dict(config), seed=config.seed,
        device=device, max_minutes=max_minutes, resume=resume, progress=progress,
    )  # fmt: skip


def with_epochs(config: RunConfig, epochs: int | None) -> RunConfig:
    """``config`` with ``train.epochs`` replaced (when given)."""
    if epochs is None:
        return config
    return replace(config, train=replace(config.train, epochs=epochs))


def _splits(data: str) -> tuple[str, str | None]:
    """Training and validation specs of ``RunConfig.data``."""
    name = data.split(":", 1)[0]
    if ":" not in data and name in DATASETS:
        splits = DATASETS[name].splits
        return f"{name}:train", (f"{name}:valid" if "valid" in splits else None)
    resolve_one(data)  # a clear DatasetError now rather than after building the model
    return data, None
