"""A training run from its configuration: data, model, loop, run directory.

``moldojo train`` is a thin wrapper around :func:`train`.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from moldojo.chem import GraphConfig
from moldojo.chem.vocab import MotifVocabulary, build_vocabulary
from moldojo.config import config_to_dict, dump_config, load_config
from moldojo.data import DATASETS, load_dataset
from moldojo.data.atom_types import AtomTypes, order_graphs
from moldojo.data.motif_trees import MotifTables, RecordPack
from moldojo.data.packed import PackedGraphs
from moldojo.data.sources import resolve_one
from moldojo.errors import ConfigError, DatasetError
from moldojo.models.hier import HierConfig
from moldojo.models.two_step import TwoStepConfig
from moldojo.sampling.hier import HierGenerator, build_hier, make_records
from moldojo.sampling.two_step import TwoStepGenerator, build_two_step
from moldojo.training.checkpoint import load_checkpoint
from moldojo.training.hier import HierTask
from moldojo.training.loop import TrainConfig, TrainSummary, fit
from moldojo.training.two_step import TwoStepTask

__all__ = ["MODELS", "RunConfig", "load_run_config", "train"]

log = logging.getLogger(__name__)

MODELS = ("two-step", "hier")
_HELD_OUT = 1000  # validation molecules split off a training file that has no valid split


@dataclass(frozen=True)
class RunConfig:
    """Everything a training run needs; written to ``RUN_DIR/config.toml``.

    Args:
        model: which model to train: ``"two-step"`` or ``"hier"``.
        data: ``NAME`` (its train and valid splits), ``NAME:SPLIT`` or a SMILES file (1,000
            molecules, at most a tenth, held out for validation by a fixed-seed draw).
        valid: where the validation molecules come from: a dataset spec or SMILES file (then
            the whole of ``data`` is trained on); empty for ``data``'s own, its valid split or
            the held-out draw.
        seed: seeds initialisation, shuffling, noise and the held-out draw.
        train: the loop's settings.
        two_step: the two-step VAE's hyperparameters.
        hier: the hierarchical motif VAE's hyperparameters.
    """

    model: Literal["two-step", "hier"] = "two-step"
    data: str = "moses-mini"
    valid: str = ""
    seed: int = 0
    train: TrainConfig = field(default_factory=TrainConfig)
    two_step: TwoStepConfig = field(default_factory=TwoStepConfig)
    hier: HierConfig = field(default_factory=HierConfig)

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

    With ``resume`` the model's vocabulary (atom types, motifs) comes from the checkpoint, so
    that its output layers keep their meaning even if the data changed.
    """
    run_dir = Path(run_dir)
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
    if config.model == "hier":
        smiles = [train_set.smiles[i] for i in train_rows]
        task = _hier_task(config, smiles, valid_smiles, saved, graph_config, device, progress)
    else:
        graphs = train_set.graphs.select(train_rows) if valid_spec is None else train_set.graphs
        task = _two_step_task(config, graphs, valid_smiles, saved, graph_config, device,
                              progress)  # fmt: skip
    run_dir.mkdir(parents=True, exist_ok=True)
    dump_config(config, run_dir / "config.toml")
    return fit(
        task, config.train, run_dir, run_config=config_to_dict(config), seed=config.seed,
        device=device, max_minutes=max_minutes, resume=resume, progress=progress,
    )  # fmt: skip


def _two_step_task(config: RunConfig, graphs: PackedGraphs, valid_smiles: list[str],
                   saved: dict | None, graph_config: GraphConfig, device: str,
                   progress: bool | None) -> TwoStepTask:  # fmt: skip
    """With a checkpoint to resume, the atom types come from it, so that the model's output
    layer keeps its meaning even if the data changed."""
    atom_types = AtomTypes.from_data(saved["atom_types"]) if saved else AtomTypes.build(graphs)
    ordered = order_graphs(graphs, atom_types, jobs=config.train.jobs, progress=progress)
    dropped = int((~ordered.kept).sum())
    if dropped:
        log.warning("%d training molecules have atom types outside the model's and are left out",
                    dropped)  # fmt: skip
    log.info("%d training molecules, %d atom types, %d validation molecules",
             len(ordered), len(atom_types), len(valid_smiles))  # fmt: skip
    model = build_two_step(config.two_step, atom_types, graph_config)
    generator = TwoStepGenerator(model.to(device), atom_types, graph_config)
    return TwoStepTask(generator, ordered, valid_smiles, valid_samples=config.train.valid_samples,
                       seed=config.seed)  # fmt: skip


def _hier_task(config: RunConfig, smiles: list[str], valid_smiles: list[str],
               saved: dict | None, graph_config: GraphConfig, device: str,
               progress: bool | None) -> HierTask:  # fmt: skip
    """The motif vocabulary is built from the training molecules (or read from the checkpoint
    to resume, or from ``hier.vocabulary``); molecules with a motif outside it are left out and
    counted."""
    jobs = config.train.jobs
    if saved:
        tables = MotifTables.from_data(saved["motifs"])
    elif config.hier.vocabulary:
        vocab = MotifVocabulary.read(config.hier.vocabulary).filter(config.hier.min_count)
        tables = MotifTables.from_vocabulary(vocab)
    else:
        vocab, _ = build_vocabulary(enumerate(smiles), min_count=config.hier.min_count,
                                    jobs=jobs, source=config.data, config=graph_config)  # fmt: skip
        tables = MotifTables.from_vocabulary(vocab)
    records = make_records(smiles, tables, graph_config, config.hier, jobs=jobs,
                           progress=progress)  # fmt: skip
    kept = [r for r in records if not isinstance(r, str)]
    dropped = Counter(r for r in records if isinstance(r, str))
    if dropped:
        log.warning("%d training molecules left out: %s", dropped.total(),
                    ", ".join(f"{k} {v}" for k, v in dropped.most_common()))  # fmt: skip
    if not kept:
        raise DatasetError(f"{config.data}: no training molecule has a motif tree")
    if not saved:
        tables = MotifTables(tables.motifs, tables.configs,
                             max(len(r["motif_id"]) for r in kept))  # fmt: skip
    log.info("%d training molecules, %d motifs, %d configurations, %d validation molecules",
             len(kept), tables.num_motifs, tables.num_configs, len(valid_smiles))  # fmt: skip
    generator = HierGenerator(build_hier(config.hier, tables).to(device), tables, graph_config)
    return HierTask(generator, RecordPack(kept), valid_smiles,
                    valid_samples=config.train.valid_samples, seed=config.seed)  # fmt: skip


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
