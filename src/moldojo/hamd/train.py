"""Training and using the HAMD network: labelled graphs in, a run directory out, predictions.

- :class:`LabelledGraphs` reads a graph6 file with the labels ``moldojo hamd solve`` wrote for it
  (undecided graphs are left out, and counted);
- :func:`train` fits :class:`~moldojo.hamd.model.HamdNet` with the loop every moldojo model
  shares (:func:`moldojo.training.loop.fit`: checkpoints, resume, ``metrics.jsonl``,
  ``curves.png``, a wall-clock budget), holding out a validation set;
- :class:`HamdModel` is a trained network ready to predict, opened from a run directory, a
  checkpoint file or the model shipped in the package (:func:`load_model`).

The loss is the binary cross-entropy of the decision plus ``edge_weight`` times that of every
edge of a Hamiltonian graph being on the label's cycle. Imports torch, numpy, the shared training
loop, :mod:`moldojo.checkpoint` and the rest of :mod:`moldojo.hamd`; never ``cli``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import NonNegativeInt
from torch import Tensor

from moldojo.checkpoint import load_checkpoint, run_checkpoint
from moldojo.config import Config, config_from_dict, config_to_dict, dump_config
from moldojo.errors import CheckpointError, ConfigError, MoldojoError
from moldojo.hamd.graphs import Graph, read_graph6_lines
from moldojo.hamd.model import (
    HamdBatch,
    HamdConfig,
    HamdNet,
    collate,
    featurize,
    graph_arrays,
)
from moldojo.hamd.rules import CheapRule, fit_cheap_rule
from moldojo.hamd.solve import certified, cycle_problem
from moldojo.training.loop import (
    TrainConfig,
    TrainSummary,
    fit,
    old_run_files,
    temporary_path,
)

__all__ = [
    "MODEL_KIND",
    "SHIPPED",
    "HamdModel",
    "HamdRunConfig",
    "LabelledGraphs",
    "load_model",
    "resolve_model",
    "roc_auc",
    "train",
]

log = logging.getLogger(__name__)

#: The checkpoint's ``model_kind``.
MODEL_KIND = "hamd"
#: The HAMD model shipped in the package, the default of ``predict``, ``eval`` and ``find``.
SHIPPED = Path(__file__).resolve().parents[1] / "pretrained" / "hamd.pt"
#: Graphs per forward pass when predicting.
_PREDICT_BATCH = 256


class HamdRunConfig(Config):
    """Everything a HAMD run was trained with; ``RUN/config.toml``.

    Args:
        hamd: the network.
        train: the loop's settings (the molecule-only ones, ``kl`` and ``valid_*``, unused).
        valid_fraction: share of the graphs held out for validation (at least one graph).
        seed: shuffling, initial weights and the validation split.
        data: the training files, for the record.
    """

    hamd: HamdConfig = HamdConfig()
    train: TrainConfig = TrainConfig(epochs=30, batch_size=64, lr=1e-3, lr_decay=0.95)
    valid_fraction: float = 0.1
    seed: NonNegativeInt = 0
    data: tuple[str, ...] = ()


@dataclass(frozen=True)
class LabelledGraphs:
    """Graphs with exact labels.

    Attributes:
        graphs: the graphs.
        labels: whether each is Hamiltonian.
        cycles: each Hamiltonian graph's cycle (vertex order), None for the others.
    """

    graphs: list[Graph]
    labels: list[bool]
    cycles: list[list[int] | None]

    def __len__(self) -> int:
        return len(self.graphs)

    def subset(self, rows: Sequence[int]) -> LabelledGraphs:
        return LabelledGraphs(
            [self.graphs[i] for i in rows], [self.labels[i] for i in rows],
            [self.cycles[i] for i in rows],
        )  # fmt: skip

    @classmethod
    def join(cls, parts: Sequence[LabelledGraphs]) -> LabelledGraphs:
        return cls(
            [g for p in parts for g in p.graphs], [y for p in parts for y in p.labels],
            [c for p in parts for c in p.cycles],
        )  # fmt: skip

    @classmethod
    def read(cls, graph6: str | Path, labels: str | Path) -> tuple[LabelledGraphs, int]:
        """The graphs of ``graph6`` with the labels of ``labels`` (a ``moldojo hamd solve``
        JSON for that file), and how many were left out because their label is null.

        Raises:
            MoldojoError: the files do not belong together (counts, sizes), a label is not one
                that ``solve`` writes, or a cycle is not a Hamiltonian cycle of its graph.
        """
        records = read_graph6_lines(graph6)
        try:
            raw = json.loads(Path(labels).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MoldojoError(
                f"{labels}: no such labels file; write it with 'moldojo hamd solve {graph6} "
                f"--json {labels}'"
            ) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MoldojoError(
                f"{labels}: not a labels file of 'moldojo hamd solve': {exc}"
            ) from exc
        if not isinstance(raw, list) or len(raw) != len(records):
            count = len(raw) if isinstance(raw, list) else "no"
            raise MoldojoError(
                f"{labels} holds {count} labels for the {len(records):,} graphs of {graph6}; "
                f"label that file with 'moldojo hamd solve {graph6} --json {labels}'"
            )
        graphs, ys, cycles, undecided = [], [], [], 0
        for index, ((line, graph), label) in enumerate(zip(records, raw, strict=True)):
            where = f"{labels}, label {index + 1} ({graph6}, line {line})"
            if not isinstance(label, dict) or label.get("n") != graph.n:
                raise MoldojoError(f"{where}: not the label of a graph of {graph.n} nodes")
            hamiltonian = label.get("hamiltonian")
            if hamiltonian is None:
                undecided += 1
                continue
            cycle = label.get("cycle")
            if hamiltonian is True:
                problem = "no cycle" if not isinstance(cycle, list) else cycle_problem(graph, cycle)
                if problem is not None:
                    raise MoldojoError(f"{where}: labelled Hamiltonian, but {problem}")
            elif hamiltonian is not False:
                raise MoldojoError(f"{where}: hamiltonian is {hamiltonian!r}, not true/false/null")
            graphs.append(graph)
            ys.append(bool(hamiltonian))
            cycles.append([int(v) for v in cycle] if hamiltonian else None)
        return cls(graphs, ys, cycles), undecided


class _Task:
    """The shared loop's view of HAMD (:class:`moldojo.training.loop.Task`)."""

    model_kind = MODEL_KIND

    def __init__(self, model: HamdNet, train: LabelledGraphs, valid: LabelledGraphs) -> None:
        self.model = model
        self.train = train
        self.valid = valid
        self.num_train = len(train)
        self.cheap_rule = fit_cheap_rule(train.graphs, train.labels)
        # Each graph's arrays made once: batches only join them, epoch after epoch.
        self._arrays = [graph_arrays(g, c, targets=True)
                        for g, c in zip(train.graphs, train.cycles, strict=True)]  # fmt: skip
        self._valid_batches = [
            featurize(chunk.graphs, chunk.labels, chunk.cycles)
            for chunk in _chunks(valid, _PREDICT_BATCH)
        ]

    def batch(self, indices: np.ndarray) -> HamdBatch:
        rows = indices.tolist()
        return collate([self._arrays[i] for i in rows], [self.train.labels[i] for i in rows])

    def loss(self, batch: HamdBatch, beta: float, generator: torch.Generator) -> dict[str, Tensor]:
        del beta, generator  # no latent variable
        return _losses(self.model, batch)

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        device = next(self.model.parameters()).device
        probabilities, losses = [], []
        for batch in self._valid_batches:
            batch = batch.to(device)
            out = self.model(batch)
            probabilities.append(torch.sigmoid(out.logits).cpu())
            losses.append(float(_losses(self.model, batch, out)["loss"]) * batch.num_graphs)
        p = torch.cat(probabilities).numpy()
        y = np.asarray(self.valid.labels)
        return {
            "valid_loss": sum(losses) / len(y),
            "valid_accuracy": float(((p >= 0.5) == y).mean()),
            "valid_auc": roc_auc(y, p),
        }

    def vocabulary(self) -> object:
        """What the checkpoint keeps beside the weights: the best cheap rule on the training
        graphs, which ``moldojo hamd eval`` reports beside the network."""
        return {"cheap_rule": self.cheap_rule.to_json()}


def _losses(model: HamdNet, batch: HamdBatch, out: Any = None) -> dict[str, Tensor]:
    out = model(batch) if out is None else out
    assert batch.label is not None and batch.on_cycle is not None
    decision = F.binary_cross_entropy_with_logits(out.logits, batch.label)
    positive = batch.label[batch.edge_graph] > 0.5  # (E/2,): edges of Hamiltonian graphs
    if positive.any():
        edge = F.binary_cross_entropy_with_logits(
            out.edge_logits[positive], batch.on_cycle[positive]
        )
    else:
        edge = out.edge_logits.sum() * 0.0
    accuracy = ((out.logits > 0) == (batch.label > 0.5)).float().mean()
    return {
        "loss": decision + model.config.edge_weight * edge,
        "decision_loss": decision.detach(),
        "edge_loss": edge.detach(),
        "accuracy": accuracy,
    }


def _chunks(data: LabelledGraphs, size: int) -> list[LabelledGraphs]:
    return [data.subset(range(i, min(i + size, len(data)))) for i in range(0, len(data), size)]


def train(
    data: LabelledGraphs,
    run_dir: str | Path,
    config: HamdRunConfig | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    max_minutes: float | None = None,
    device: str = "cpu",
    progress: bool | None = None,
) -> TrainSummary:
    """Train a HAMD network on ``data`` into ``run_dir``.

    Args:
        data: labelled graphs; ``config.valid_fraction`` of them (at least one) are held out.
        run_dir: where ``config.toml``, ``metrics.jsonl``, ``curves.png``, the checkpoints and
            ``model.pt`` go.
        config: the run configuration (None: the defaults).
        resume: continue the run in ``run_dir`` (same configuration but ``train.epochs``).
        overwrite: replace a run already in ``run_dir`` (without it or ``resume``, a run there
            is an error and is left alone).
        max_minutes: wall-clock budget; None for no limit.
        device: where to train.
        progress: progress bars; None shows them when stderr is a terminal.

    Raises:
        MoldojoError: fewer than 2 graphs, or only one class.
        ConfigError: ``run_dir`` holds a run and neither ``resume`` nor ``overwrite`` is
            given (or both are); resuming with another configuration.
    """
    if len(data) < 2:
        raise MoldojoError(f"training needs at least 2 labelled graphs, got {len(data)}")
    if len(set(data.labels)) < 2:
        kind = "Hamiltonian" if data.labels[0] else "non-Hamiltonian"
        raise MoldojoError(f"every training graph is {kind}; the network needs both classes "
                           "(the critical and hard regimes give both)")  # fmt: skip
    config = HamdRunConfig() if config is None else config
    run_dir = Path(run_dir)
    if resume and overwrite:
        raise ConfigError("--resume continues the run, --overwrite replaces it: give one of them")
    old_files = [] if resume else old_run_files(run_dir, overwrite)
    if resume:
        _check_resume(config, run_dir)
    order = np.random.default_rng(config.seed).permutation(len(data))
    held = min(len(data) - 1, max(1, round(config.valid_fraction * len(data))))
    valid, training = data.subset(np.sort(order[:held])), data.subset(np.sort(order[held:]))
    torch.manual_seed(config.seed)
    task = _Task(HamdNet(config.hamd), training, valid)
    for name in reversed(old_files):  # last.pt first: never a checkpoint without its config
        (run_dir / name).unlink(missing_ok=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = dump_config(config, temporary_path(run_dir / "config.toml"))
    os.replace(tmp, run_dir / "config.toml")
    return fit(
        task, config.train, run_dir, run_config=config_to_dict(config), seed=config.seed,
        device=device, max_minutes=max_minutes, resume=resume, progress=progress,
    )  # fmt: skip


def _check_resume(config: HamdRunConfig, run_dir: Path) -> None:
    last = run_dir / "checkpoints" / "last.pt"
    if not last.exists():
        raise CheckpointError(f"cannot resume: {last} does not exist; train afresh instead")
    saved = load_checkpoint(last)
    if saved.model_kind != MODEL_KIND:
        raise ConfigError(f"cannot resume {run_dir}: it holds a {saved.model_kind} model")
    before = config_from_dict(HamdRunConfig, saved.config, source=str(last))
    if before.model_copy(update={"train": None}) != config.model_copy(update={"train": None}) or (
        before.train.model_copy(update={"epochs": 0})
        != config.train.model_copy(update={"epochs": 0})
    ):
        raise ConfigError(
            f"cannot resume {run_dir} with another configuration: a resumed run may change only "
            "--epochs; leave out the other settings, or train into another --out"
        )


class HamdModel:
    """A trained HAMD network, ready to predict.

    Args:
        net: the network (put in eval mode).
        config: the run configuration it was trained with.
        source: where it was loaded from, for messages.
    """

    def __init__(
        self,
        net: HamdNet,
        config: HamdRunConfig,
        cheap_rule: CheapRule | None = None,
        source: str = "<memory>",
    ) -> None:
        self.net = net.eval()
        self.config = config
        self.cheap_rule = cheap_rule
        self.source = source

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "cpu") -> HamdModel:
        """Open a checkpoint file written by :func:`train`.

        Raises:
            CheckpointError: not a HAMD checkpoint, or its configuration does not read.
        """
        checkpoint = load_checkpoint(path, map_location=device)
        if checkpoint.model_kind != MODEL_KIND:
            raise CheckpointError(
                f"{path} holds a {checkpoint.model_kind!r} model, not a HAMD network; give a "
                "run directory of 'moldojo hamd train'"
            )
        try:
            config = config_from_dict(HamdRunConfig, checkpoint.config, source=str(path))
        except ConfigError as error:
            raise CheckpointError(
                f"{path}: its configuration does not read here: {error}"
            ) from error
        net = HamdNet(config.hamd).to(device)
        net.load_state_dict(checkpoint.state_dict)
        saved = checkpoint.vocabulary
        rule = None
        if isinstance(saved, dict) and isinstance(saved.get("cheap_rule"), dict):
            rule = CheapRule.from_json(saved["cheap_rule"])
        return cls(net, config, rule, str(path))

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    @torch.no_grad()
    def predict(
        self, graphs: Sequence[Graph], *, edges: bool = False, certificates: bool = True
    ) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """The probability that each graph is Hamiltonian and, with ``edges``, each graph's edge
        scores (probabilities, in :meth:`Graph.edges` order).

        Args:
            graphs: the graphs.
            edges: also score every edge.
            certificates: a graph that a cheap certificate proves not Hamiltonian gets
                probability 0, whatever the network says (the certificates are exact); False
                gives the network's own answer for every graph.

        Returns:
            ``(p [B], scores)``: ``scores`` is None without ``edges``, else ``B`` arrays
            ``[M_b]``.
        """
        probabilities: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        for start in range(0, len(graphs), _PREDICT_BATCH):
            chunk = graphs[start : start + _PREDICT_BATCH]
            batch = featurize(chunk).to(self.device)
            out = self.net(batch)
            probabilities.append(torch.sigmoid(out.logits).double().cpu().numpy())
            if edges:
                edge_p = torch.sigmoid(out.edge_logits).double().cpu().numpy()
                counts = [g.num_edges for g in chunk]
                scores += np.split(edge_p, np.cumsum(counts)[:-1])
        p = np.concatenate(probabilities) if probabilities else np.zeros(0)
        if certificates:
            p[certified(graphs)] = 0.0
        return p, (scores if edges else None)


def resolve_model(path: str | Path | None) -> Path:
    """The checkpoint file of ``path``: a ``.pt`` file, a run directory (``model.pt``, else
    ``checkpoints/last.pt``), or the shipped model when None.

    Raises:
        CheckpointError: nothing loadable there.
    """
    if path is None:
        if not SHIPPED.exists():
            raise CheckpointError(
                f"no HAMD model is shipped in this installation ({SHIPPED} is missing); give "
                "a run directory of 'moldojo hamd train'"
            )
        return SHIPPED
    return run_checkpoint(path, "moldojo hamd train")


def load_model(path: str | Path | None = None, *, device: str = "cpu") -> HamdModel:
    """A trained HAMD model: a run directory, a checkpoint file, or the shipped one (None)."""
    return HamdModel.from_checkpoint(resolve_model(path), device=device)


def roc_auc(labels: Sequence[bool] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """The area under the ROC curve: the probability that a random positive scores above a
    random negative, ties counting one half (the Mann-Whitney statistic); NaN with one class."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_scores = s[order]
    # Average ranks over ties: each run of equal scores gets the mean of its positions.
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    mean_rank = first + (counts + 1) / 2.0  # 1-based
    ranks[order] = np.repeat(mean_rank, counts)
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))
