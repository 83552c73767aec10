"""A training run from its configuration: data, model, loop, run directory.

``moldojo train`` is a thin wrapper around :func:`train`, which checks what it can before
reading any data or writing anything: a run directory already holding a run is never replaced
without ``overwrite``; ``resume`` needs a checkpoint that loads, of the same model kind, and
changes nothing but the settings in :data:`RESUMABLE`; a vocabulary file must read.
"""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import Field, create_model, field_validator

from moldojo import distributed
from moldojo.checkpoint import Checkpoint, load_checkpoint, upgrade_run_config
from moldojo.chem import GraphConfig, canonical_smiles, parse_smiles
from moldojo.chem.vocab import MotifVocabulary
from moldojo.config import (
    Config,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    dump_config,
    load_config,
    replace_config,
)
from moldojo.data import DATASETS, SmilesList, load_dataset, read_smiles
from moldojo.data.sources import resolve_one
from moldojo.errors import CheckpointError, ConfigError, DatasetError, InvalidSmilesError
from moldojo.models.registry import ModelKind, kinds, model_kind
from moldojo.models.task import TrainingInputs, VocabularyConfig
from moldojo.training.loop import (
    RUN_FILES,
    STREAM_ABOVE,
    TrainConfig,
    TrainSummary,
    fit,
    old_run_files,
    temporary_path,
)

__all__ = ["RESUMABLE", "RUN_FILES", "RunConfig", "RunSettings", "check_resume",
           "load_run_config", "train"]  # fmt: skip

log = logging.getLogger(__name__)

_HELD_OUT = 1000  # validation molecules split off a training file that has no valid split

#: The settings a resumed run may change: how long and how fast it trains, what it measures, how
#: often it saves. The others made the weights and the position in the epoch that the checkpoint
#: holds: the model kind and its section, ``vocabulary``, ``data``, ``valid`` and ``seed`` (which
#: molecules are trained on, in which order), ``train.batch_size`` (the position in the epoch),
#: ``train.stream`` (which molecules a batch holds).
RESUMABLE: tuple[str, ...] = (
    "train.epochs", "train.lr", "train.lr_decay", "train.clip_norm", "train.kl",
    "train.valid_molecules", "train.valid_samples", "train.jobs", "train.checkpoint_minutes",
    "train.checkpoint_steps", "train.precision",
)  # fmt: skip


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
        seed: seeds initialisation, shuffling, noise and the held-out draw; 0 to 2**63-1 (what
            torch and NumPy take, as the CLI's ``--seed``).
        train: the loop's settings.
        vocabulary: the model's vocabulary: a file, or the minimum count to build it with.
    """

    model: str = kinds()[0]
    data: str = "moses-mini"
    valid: str = ""
    seed: int = Field(0, ge=0, le=2**63 - 1)
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
    overwrite: bool = False,
    max_minutes: float | None = None,
    device: str = "cpu",
    progress: bool | None = None,
) -> TrainSummary:
    """Train a model as ``config`` says, into ``run_dir``.

    Everything that can be checked is checked before any data is read or anything written (see
    the module docstring); ``config.toml`` is written, and with ``overwrite`` the old run's files
    removed, only once the data is read and the model built.

    Args:
        config: the run configuration.
        run_dir: the run directory: missing, empty, or (with ``resume`` or ``overwrite``)
            holding a run.
        resume: continue the run in ``run_dir`` from ``checkpoints/last.pt``, with the model's
            vocabulary (atom types, motifs) from the checkpoint.
        overwrite: replace the run in ``run_dir``.
        max_minutes: wall-clock budget; None for no limit.
        device: where the model trains.
        progress: progress bars; None shows them when stderr is a terminal.

    Raises:
        ConfigError: ``run_dir`` holds a run and neither ``resume`` nor ``overwrite`` is given
            (or both are); ``resume`` with a different model kind or a changed setting outside
            :data:`RESUMABLE`.
        CheckpointError: ``resume`` without a checkpoint that loads.
        VocabularyError: ``vocabulary.path`` is not a vocabulary file.
    """
    run_dir = Path(run_dir)
    kind = model_kind(config.model)
    here, device = distributed.setup(device)
    if resume and overwrite:
        raise ConfigError("--resume continues the run, --overwrite replaces it: give one of them")
    if resume:
        checkpoint = check_resume(config, run_dir)
    else:
        old_files = old_run_files(run_dir, overwrite)
        if config.vocabulary.path:
            MotifVocabulary.read(config.vocabulary.path)  # one line now, not after the data
    torch.manual_seed(config.seed)
    graph_config = GraphConfig()
    train_spec, valid_spec = _splits(config.data)
    if config.valid:
        resolve_one(config.valid)
        valid_spec = config.valid
    stream = _streamed(config, kind, train_spec)
    with distributed.rank_zero_first():  # process 0 featurises and caches, the others read
        if stream is not None:
            train_set = stream
            valid_set = None if valid_spec is None else read_smiles(valid_spec)
        else:
            train_set = load_dataset(train_spec, config=graph_config, jobs=config.train.jobs,
                                     progress=progress)  # fmt: skip
            valid_set = None if valid_spec is None else load_dataset(
                valid_spec, config=graph_config, jobs=config.train.jobs, progress=progress)
    if valid_set is not None:
        valid_smiles = valid_set.smiles
        train_rows = np.arange(len(train_set))
    else:
        held = min(_HELD_OUT, len(train_set) // 10)
        order = np.random.default_rng(config.seed).permutation(len(train_set))
        valid_smiles = [train_set.smiles[i] for i in order[:held]]
        train_rows = np.sort(order[held:])
    if len(train_rows) == 0:
        raise DatasetError(f"{config.data}: no training molecules left")
    valid_rows = np.random.default_rng(config.seed).permutation(len(valid_smiles))
    if stream is not None:  # read, not featurised: the first valid_molecules that parse
        valid_smiles = _first_parsed([valid_smiles[i] for i in valid_rows], graph_config,
                                     config.train.valid_molecules)  # fmt: skip
    else:
        valid_smiles = [valid_smiles[i]
                        for i in np.sort(valid_rows[: config.train.valid_molecules])]  # fmt: skip
    saved = checkpoint.vocabulary if resume else None
    task = kind.training_task(TrainingInputs(
        config=getattr(config, kind.section), vocabulary=config.vocabulary, dataset=train_set,
        rows=train_rows, valid_smiles=valid_smiles, saved_vocabulary=saved,
        graph_config=graph_config, source=config.data, seed=config.seed, jobs=config.train.jobs,
        valid_samples=config.train.valid_samples, device=device, progress=progress,
        stream=stream is not None,
    ))  # fmt: skip
    distributed.barrier()  # every process has checked the run directory before it changes
    if here.main:
        if not resume and old_files:
            log.info("%s: replacing the run there (--overwrite)", run_dir)
            for name in reversed(old_files):  # last.pt first: never a checkpoint without config
                (run_dir / name).unlink(missing_ok=True)
        run_dir.mkdir(parents=True, exist_ok=True)
        tmp = dump_config(config, temporary_path(run_dir / "config.toml"))
        os.replace(tmp, run_dir / "config.toml")  # never torn, even by a kill mid-write
    distributed.barrier()
    return fit(
        task, config.train, run_dir, run_config=config_to_dict(config), seed=config.seed,
        device=device, max_minutes=max_minutes, resume=resume, progress=progress,
    )  # fmt: skip


def check_resume(config: RunSettings, run_dir: str | Path) -> Checkpoint:
    """The checkpoint a resumed run continues from, once it is known that ``config`` may continue
    it: same model kind, and no setting but those in :data:`RESUMABLE` changed.

    Raises:
        CheckpointError: ``run_dir/checkpoints/last.pt`` is missing or does not load.
        ConfigError: ``config`` names another model kind or changes another setting.
    """
    last = Path(run_dir) / "checkpoints" / "last.pt"
    if not last.exists():
        raise CheckpointError(
            f"cannot resume: {last} does not exist (the run stopped before its first checkpoint, "
            "or RUN_DIR is not a run); start it again with --overwrite instead of --resume"
        )
    checkpoint = load_checkpoint(last)
    if checkpoint.model_kind != config.model:
        raise ConfigError(
            f"cannot resume {run_dir} as a {config.model} model: it holds a "
            f"{checkpoint.model_kind} model; leave out --model, or train a new run elsewhere "
            "(another --out)"
        )
    try:
        trained = config_from_dict(RunConfig, checkpoint.config, source=str(last))
    except ConfigError as error:
        raise CheckpointError(f"cannot resume: the run configuration saved in {last} does not "
                              f"read in this moldojo: {error}") from error  # fmt: skip
    before, after = _flat(config_to_dict(trained)), _flat(config_to_dict(config))
    others = [model_kind(k).section for k in kinds() if k != config.model]
    for key in sorted(before.keys() | after.keys()):
        if key.split(".", 1)[0] in others or any(
            key == k or key.startswith(k + ".") for k in RESUMABLE
        ):
            continue  # another model kind's section, or a setting a resumed run may change
        old, new = before.get(key, "<unset>"), after.get(key, "<unset>")
        if old != new:
            allowed = ", ".join(k.removeprefix("train.") for k in RESUMABLE)
            section = model_kind(config.model).section
            raise ConfigError(
                f"cannot resume {run_dir} with {key} = {new!r}: the run was trained with "
                f"{key} = {old!r}. A resumed run may change only --epochs, --max-minutes and "
                f"train.{{{allowed}}}; the [{section}] and [vocabulary] sections, data, valid, "
                "seed, train.batch_size and train.stream are the run's. Leave out that --set, "
                "--data or --seed (or restore config.toml), or train a new run elsewhere "
                "(another --out)"
            )
    return checkpoint


def with_epochs(config: RunSettings, epochs: int | None) -> RunSettings:
    """``config`` with ``train.epochs`` replaced (when given)."""
    if epochs is None:
        return config
    return replace_config(config, train=replace_config(config.train, epochs=epochs))


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _streamed(config: RunSettings, kind: ModelKind, train_spec: str) -> SmilesList | None:
    """The training molecules as read, when the run streams them (``train.stream``; None: more
    than :data:`~moldojo.training.loop.STREAM_ABOVE` of them), else None.

    Raises:
        ConfigError: ``train.stream = true`` for a model kind that cannot stream.
    """
    wanted = config.train.stream
    if not kind.streams:
        if wanted:
            streaming = [k for k in kinds() if model_kind(k).streams]
            raise ConfigError(f"train.stream: --model {kind.name} prepares its training data up "
                              f"front; models that stream: {', '.join(streaming)}")  # fmt: skip
        return None
    if wanted is False:
        return None
    smiles = read_smiles(train_spec)
    if wanted or len(smiles) > STREAM_ABOVE:
        log.info("%s: %d records, streamed (read now, parsed batch by batch)", smiles.name,
                 len(smiles))  # fmt: skip
        return smiles
    return None


def _first_parsed(smiles: list[str], graph_config: GraphConfig, count: int) -> list[str]:
    """Canonical SMILES of the first ``count`` of ``smiles`` that parse."""
    found = []
    for text in smiles:
        if len(found) == count:
            break
        try:
            found.append(canonical_smiles(parse_smiles(text, graph_config)))
        except InvalidSmilesError:
            continue
    return found


def _splits(data: str) -> tuple[str, str | None]:
    """Training and validation specs of ``RunConfig.data``."""
    name = data.split(":", 1)[0]
    if ":" not in data and name in DATASETS:
        splits = DATASETS[name].splits
        return f"{name}:train", (f"{name}:valid" if "valid" in splits else None)
    resolve_one(data)  # a clear DatasetError now rather than after building the model
    return data, None
