"""A training run from its configuration: data, model, loop, run directory.

``moldojo train`` is a thin wrapper around :func:`train`.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import numpy as np
import torch
from pydantic import Field, create_model, field_validator

from moldojo.checkpoint import load_checkpoint, upgrade_run_config
from moldojo.chem import GraphConfig
from moldojo.config import (
    Config,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    dump_config,
    load_config,
    replace_config,
)
from moldojo.data import DATASETS, load_dataset
from moldojo.data.sources import resolve_one
from moldojo.errors import DatasetError
from moldojo.models.registry import kinds, model_kind
from moldojo.models.task import TrainingInputs, VocabularyConfig
from moldojo.training.loop import TrainConfig, TrainSummary, fit

__all__ = ["RunConfig", "RunSettings", "load_run_config", "train"]

log = logging.getLogger(__name__)

_HELD_OUT = 1000  # validation molecules split off a training file that has no valid split


class RunSettings(Config):
    """Everything a training run needs but the models' hyperparameters; :class:`RunConfig` adds
    one section per model kind of the registry. Written to ``RUN_DIR/config.toml``.

    Args:
        model: which model to train, a kind of :mod:`moldojo.models.registry`.
        data: ``NAME`` (its train and valid splits), ``NAME:SPLIT`` or a SMILES file (1,000
            molecules, at most a tenth, held out for validation by a fixed-seed draw).
        valid: where the validation molecules come from: a dataset spec or SMILES file (then
            the whole of ``data`` is trained on); empty for ``data``'s own, its valid split or
            the held-out draw.
        seed: seeds initialisation, shuffling, noise and the held-out draw.
        train: the loop's settings.
        vocabulary: the model's vocabulary: a file, or the minimum count to build it with.
    """

    model: str = kinds()[0]
    data: str = "moses-mini"
    valid: str = ""
    seed: int = 0
    train: TrainConfig = Field(default_factory=TrainConfig)
    vocabulary: VocabularyConfig = Field(default_factory=VocabularyConfig)

    @field_validator("model")
    @classmethod
    def _registered(cls, value: str) -> str:
        if value not in kinds():
            raise ValueError(f"is not one of {list(kinds())}")
        return value


#: :class:`RunSettings` with each model kind's hyperparameters under its section
#: (``two_step``, ``hier``, ...), so that a new kind needs no change here.
RunConfig: type[RunSettings] = create_model(
    "RunConfig",
    __base__=RunSettings,
    __module__=__name__,
    __doc__=RunSettings.__doc__,
    **{kind.section: (kind.config_class, Field(default_factory=kind.config_class))
       for kind in map(model_kind, kinds())},
)


def load_run_config(
    path: str | Path | None = None, overrides: tuple[str, ...] | list[str] = ()
) -> RunSettings:
    """A :class:`RunConfig` from a TOML file (or the defaults) and ``--set`` overrides. A file
    written by an older moldojo (``hier.vocabulary``, ``hier.min_count``) is read in today's
    layout."""
    if path is not None and Path(path).is_file():
        try:
            data = tomllib.loads(Path(path).read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}  # load_config says what is wrong with the file
        upgraded = upgrade_run_config(data)
        if upgraded is not data:
            log.warning("%s: hier.vocabulary and hier.min_count are now vocabulary.path and "
                        "vocabulary.min_count; read as such", path)  # fmt: skip
            config = config_from_dict(RunConfig, upgraded, source=str(path))
            return apply_overrides(config, list(overrides))
    return load_config(RunConfig, path, list(overrides))


def train(
    config: RunSettings,
    run_dir: str | Path,
    *,
    resume: bool = False,
    max_minutes: float | None = None,
    device: str = "cpu",
    progress: bool | None = None,
) -> TrainSummary:
    """Train a model as ``config`` says, into ``run_dir``.

    With ``resume`` the model's vocabulary (atom types, motifs) comes from the checkpoint, so
    that its output layers keep their meaning even if the data changed.
    """
    run_dir = Path(run_dir)
    kind = model_kind(config.model)
    torch.manual_seed(config.seed)
    graph_config = GraphConfig()
    train_spec, valid_spec = _splits(config.data)
    if config.valid:
        resolve_one(config.valid)
        valid_spec = config.valid
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
    valid_rows = np.random.default_rng(config.seed).permutation(len(valid_smiles))
    valid_smiles = [valid_smiles[i] for i in np.sort(valid_rows[: config.train.valid_molecules])]
    last = run_dir / "checkpoints" / "last.pt"
    saved = load_checkpoint(last).vocabulary if resume and last.exists() else None
    task = kind.training_task(TrainingInputs(
        config=getattr(config, kind.section), vocabulary=config.vocabulary, dataset=train_set,
        rows=train_rows, valid_smiles=valid_smiles, saved_vocabulary=saved,
        graph_config=graph_config, source=config.data, seed=config.seed, jobs=config.train.jobs,
        valid_samples=config.train.valid_samples, device=device, progress=progress,
    ))  # fmt: skip
    run_dir.mkdir(parents=True, exist_ok=True)
    dump_config(config, run_dir / "config.toml")
    return fit(
        task, config.train, run_dir, run_config=config_to_dict(config), seed=config.seed,
        device=device, max_minutes=max_minutes, resume=resume, progress=progress,
    )  # fmt: skip


def with_epochs(config: RunSettings, epochs: int | None) -> RunSettings:
    """``config`` with ``train.epochs`` replaced (when given)."""
    if epochs is None:
        return config
    return replace_config(config, train=replace_config(config.train, epochs=epochs))


def _splits(data: str) -> tuple[str, str | None]:
    """Training and validation specs of ``RunConfig.data``."""
    name = data.split(":", 1)[0]
    if ":" not in data and name in DATASETS:
        splits = DATASETS[name].splits
        return f"{name}:train", (f"{name}:valid" if "valid" in splits else None)
    resolve_one(data)  # a clear DatasetError now rather than after building the model
    return data, None
