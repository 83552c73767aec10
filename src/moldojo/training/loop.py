"""The training loop every model shares: Adam, clipping, KL annealing, budgets, checkpoints.

A model plugs in through a :class:`Task` (its batches, its loss, its validation); the loop
owns the rest: epochs of shuffled batches, a KL weight from the schedule, gradient clipping,
a line of ``metrics.jsonl`` per step, validation and a checkpoint at the end of each epoch,
checkpoints every few minutes or steps within an epoch, a wall-clock budget, ``resume``,
training curves as a PNG, and a progress bar on stderr.

A run directory holds::

    config.toml            the resolved run configuration (written by the caller)
    metrics.jsonl          one JSON object per step ("kind": "train") and per validation
    checkpoints/last.pt    model, optimiser, step and position in the epoch: what resume reads;
                           written atomically (a temporary file renamed over it) after every
                           epoch, every ``checkpoint_minutes`` / ``checkpoint_steps`` within one,
                           and when the loop stops
    model.pt               the model alone, written whenever the loop stops: what load reads
    curves.png             losses, KL weight and validation metrics

Shuffling is a function of ``(seed, epoch)`` and the noise of step ``s`` of ``(seed, s)``, so a
resumed run takes exactly the batches and draws the uninterrupted run would have, whether
it resumes at an epoch's end or in its middle. Rows of ``metrics.jsonl`` are flushed before each
checkpoint; on resume, rows after the checkpoint's step, and a line torn by a kill, are dropped.

Under ``torchrun`` (:mod:`moldojo.distributed`) each process trains on its slice of every
global batch, with the noise rows one process would have drawn for those molecules
(:func:`~moldojo.models.vae.noise_rows`), and PyTorch's ``DistributedDataParallel`` averages
the gradients: the loss curve is the one-process curve up to rounding, whatever the number of
processes, and a run may resume with another. Process 0 alone writes the run directory, shows
progress and validates.
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import torch
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt
from torch import Tensor, nn

from moldojo import distributed
from moldojo.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from moldojo.config import Config, Size
from moldojo.errors import CheckpointError, ConfigError
from moldojo.models.vae import KLSchedule, noise_rows
from moldojo.progress import progress_bar

__all__ = ["RUN_FILES", "STREAM_ABOVE", "Task", "TrainConfig", "TrainSummary", "fit",
           "old_run_files", "plot_curves"]  # fmt: skip

log = logging.getLogger(__name__)

#: What a run directory holds (see the module docstring); any of them means a run is there.
RUN_FILES: tuple[str, ...] = (
    "config.toml", "metrics.jsonl", "model.pt", "curves.png", "checkpoints/last.pt",
)  # fmt: skip


#: Training sets larger than this are streamed when ``TrainConfig.stream`` is None (moses-mini's
#: 50,000 molecules are not, MOSES train's 1.58 million are).
STREAM_ABOVE = 200_000


class TrainConfig(Config):
    """How to train, whatever the model.

    Args:
        epochs: passes over the training set.
        batch_size: molecules per step.
        lr: Adam's learning rate in the first epoch.
        lr_decay: factor applied to the learning rate after every epoch.
        clip_norm: gradients are clipped to this global norm.
        kl: the KL weight schedule (:class:`~moldojo.models.vae.KLSchedule`).
        valid_molecules: validation molecules reconstructed after every epoch.
        valid_samples: molecules sampled from the prior after every epoch, for validity.
        jobs: worker processes for data preparation (and, streamed, for building batches).
        stream: build the training records batch by batch, in ``jobs`` DataLoader worker
            processes, from the SMILES as read, instead of all of them up front: memory then
            does not grow with the data set (models that can: ``--model hier``). None: when the
            training data holds more than :data:`STREAM_ABOVE` molecules.
        precision: ``"float32"``, or ``"bfloat16"``: the loss's forward pass under
            ``torch.autocast`` (matrix products in bfloat16, weights and optimiser in float32):
            faster where the hardware multiplies bfloat16 natively (recent x86 CPUs, GPUs), with
            losses that differ from float32's in the third or fourth digit.
        checkpoint_minutes: within an epoch, write ``checkpoints/last.pt`` when this many
            minutes have passed since the last one (0: off), so that a crash loses little.
        checkpoint_steps: within an epoch, write it every this many steps as well (0: off).
    """

    epochs: PositiveInt = 20
    batch_size: Size = 128
    lr: PositiveFloat = 1e-3
    lr_decay: float = Field(0.95, gt=0, le=1)
    clip_norm: PositiveFloat = 5.0
    kl: KLSchedule = KLSchedule()
    valid_molecules: NonNegativeInt = 500
    valid_samples: NonNegativeInt = 500
    jobs: PositiveInt = 2
    stream: bool | None = None
    precision: Literal["float32", "bfloat16"] = "float32"
    checkpoint_minutes: NonNegativeFloat = 5.0
    checkpoint_steps: NonNegativeInt = 0


class Task(Protocol):
    """What the loop needs from a model. A task may also set ``batch_workers``: DataLoader
    worker processes that call :meth:`batch` a few batches ahead (when building a batch is
    real work, as with streamed records); 0 or absent builds them in the loop's process."""

    model: nn.Module
    model_kind: str
    num_train: int

    def batch(self, indices: np.ndarray) -> Any:
        """The training batch of molecules ``indices``: a ``.to(device)`` method, and its
        molecule count as ``num_molecules`` (or ``graph.num_graphs``), which may be fewer than
        ``indices`` when some have no record."""

    def loss(self, batch: Any, beta: float, generator: torch.Generator) -> dict[str, Tensor]:
        """``{"loss": mean over the batch's molecules, ...parts and accuracies}``."""


    def validate(self) -> dict[str, float]:
        """Validation metrics, e.g. reconstruction and validity (model in eval mode)."""

    def vocabulary(self) -> object:
        """Plain data saved with the weights, so that the model can be rebuilt."""


@dataclass(frozen=True)
class TrainSummary:
    """What one call of :func:`fit` did.

    Attributes:
        steps: optimisation steps in total (across resumes).
        epochs: complete epochs in total.
        seconds: training seconds of this call (validation included).
        molecules_per_second: training throughput of this call (steps only).
        stopped: ``"done"`` (all epochs) or ``"budget"`` (``max_minutes`` reached).
        valid: the last validation metrics.
    """

    steps: int
    epochs: int
    seconds: float
    molecules_per_second: float
    stopped: str
    valid: dict[str, float]


def fit(
    task: Task,
    config: TrainConfig,
    run_dir: str | Path,
    *,
    run_config: dict[str, Any],
    seed: int = 0,
    device: str | torch.device = "cpu",
    max_minutes: float | None = None,
    resume: bool = False,
    progress: bool | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainSummary:
    """Train ``task.model`` for ``config.epochs`` epochs or ``max_minutes``, whichever is first.

    Args:
        task: the model, its batches, loss and validation.
        config: the training settings.
        run_dir: where metrics, checkpoints and curves go.
        run_config: the resolved run configuration as plain data, saved in checkpoints.
        seed: seeds shuffling and the reparameterisation noise.
        device: where the model trains.
        max_minutes: wall-clock budget of this call; None for no limit.
        resume: continue from ``run_dir/checkpoints/last.pt`` (at an epoch's end or in its
            middle, exactly as the uninterrupted run would have gone on).
        progress: progress bar; None shows one when stderr is a terminal.
        on_epoch: called with ``(epoch, valid_metrics)`` after each validation.

    Raises:
        CheckpointError: ``resume`` and there is nothing to resume from.
    """
    run_dir = Path(run_dir)
    here = distributed.world()
    run_dir.mkdir(parents=True, exist_ok=True)
    last = run_dir / "checkpoints" / "last.pt"
    metrics_path = run_dir / "metrics.jsonl"
    if here.main:
        _remove_stale_temporaries(run_dir)
    model = task.model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    # Several processes: PyTorch's DistributedDataParallel averages the gradients. Some
    # parameters get none (the last gated GCN layer's edge stream feeds nothing): it finds them.
    trainer = _LossModule(task)
    if here.distributed:
        trainer = nn.parallel.DistributedDataParallel(trainer, find_unused_parameters=True)
    step, epoch, batch_in_epoch, valid = 0, 0, 0, {}
    if resume:
        if not last.exists():
            raise CheckpointError(f"cannot resume: {last} does not exist")
        saved = load_checkpoint(last, map_location=device)
        model.load_state_dict(saved.state_dict)
        if saved.optimizer_state is not None:
            optimizer.load_state_dict(saved.optimizer_state)
        step = saved.step
        epoch = int(saved.extra.get("epoch", 0))
        batch_in_epoch = int(saved.extra.get("batch_in_epoch", 0))
        valid = dict(saved.extra.get("valid", {}))
        if here.main:
            _truncate_metrics(metrics_path, step)
        log.info("resuming at epoch %d, step %d", epoch + 1, step)
    elif metrics_path.exists() and here.main:
        metrics_path.unlink()
    distributed.barrier()  # every process has read the checkpoint before process 0 writes one

    generator = torch.Generator(device=device)
    autocast = torch.autocast(torch.device(device).type, dtype=torch.bfloat16,
                              enabled=config.precision == "bfloat16")  # fmt: skip
    num_batches = math.ceil(task.num_train / config.batch_size)
    started = time.monotonic()
    train_seconds, molecules, skipped = 0.0, 0, 0
    stopped = "done"

    saved_at = time.monotonic()  # when checkpoints/last.pt was last written

    def save(final: bool) -> None:
        nonlocal saved_at
        saved_at = time.monotonic()
        if not here.main:
            return
        metrics.flush()  # every row up to this step is on disk before the checkpoint says so
        extra = {"epoch": epoch, "batch_in_epoch": batch_in_epoch, "valid": valid}
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        save_checkpoint(last, Checkpoint(
            model_kind=task.model_kind, config=run_config, state_dict=state,
            vocabulary=task.vocabulary(), optimizer_state=optimizer.state_dict(), step=step,
            extra=extra,
        ))  # fmt: skip
        if final:
            save_checkpoint(run_dir / "model.pt", Checkpoint(
                model_kind=task.model_kind, config=run_config, state_dict=state,
                vocabulary=task.vocabulary(), step=step, extra=extra,
            ))  # fmt: skip

    def checkpoint_due() -> bool:
        """A checkpoint within the epoch (its end writes one anyway)."""
        if batch_in_epoch >= num_batches:
            return False
        every = config.checkpoint_steps
        if every and step % every == 0:
            return True
        minutes = config.checkpoint_minutes
        return bool(minutes) and time.monotonic() - saved_at >= 60 * minutes

    with metrics_path.open("a") if here.main else open(os.devnull, "w") as metrics:
        while epoch < config.epochs and stopped == "done":
            lr = config.lr * config.lr_decay**epoch
            for group in optimizer.param_groups:
                group["lr"] = lr
            order = np.random.default_rng([seed, epoch]).permutation(task.num_train)
            bar = progress_bar(num_batches, f"epoch {epoch + 1}/{config.epochs}",
                               progress if here.main else False)  # fmt: skip
            bar.update(batch_in_epoch)
            model.train()
            batches = _batches(task, order, config.batch_size, batch_in_epoch, here)
            tick = time.perf_counter()
            for rows, first, batch in batches:
                over = max_minutes is not None and time.monotonic() - started > 60 * max_minutes
                if distributed.broadcast_flag(over):  # process 0 decides for all
                    stopped = "budget"
                    break
                batch = batch.to(device)
                beta = config.kl(step)
                # mod 2**64: torch takes 64-bit seeds, --seed goes up to 2**63-1
                generator.manual_seed((seed * 1_000_003 + step) % 2**64)
                with noise_rows(first, len(rows)), autocast:
                    parts = trainer(batch, beta, generator)
                local = _batch_size(batch)
                total = distributed.all_reduce_sum(local)
                optimizer.zero_grad(set_to_none=True)
                # The loss is a mean over this process's molecules; scaled so that the average
                # over processes is the mean over the global batch, as with one process.
                (parts["loss"] * (here.size * local / max(total, 1))).backward()
                grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
                optimizer.step()
                seconds = time.perf_counter() - tick
                train_seconds += seconds
                molecules += total
                skipped += len(rows) - total
                step += 1
                batch_in_epoch += 1
                values = distributed.all_reduce_mean(
                    {k: v.detach().item() for k, v in parts.items()}, local
                )
                row = {"kind": "train", "step": step, "epoch": epoch + 1, "beta": beta, "lr": lr,
                       "grad_norm": float(grad_norm), "seconds": seconds, **values}  # fmt: skip
                metrics.write(json.dumps(row) + "\n")
                shown = {k: f"{row[k]:.3g}" for k in ("loss", "kl", "accuracy") if k in row}
                bar.set_postfix(shown, refresh=False)
                bar.update(1)
                if checkpoint_due():
                    save(final=False)
                tick = time.perf_counter()
            batches.close()
            bar.close()
            if batch_in_epoch == num_batches:
                epoch, batch_in_epoch = epoch + 1, 0
            if skipped:
                log.warning("%d training molecules so far left out of their batches (no motif "
                            "tree in the vocabulary, or not parsed)", skipped)  # fmt: skip
            if here.main:
                model.eval()
                valid = task.validate()
                model.train()
                row = {"kind": "valid", "step": step, "epoch": epoch, **valid,
                       "peak_rss_mb": _peak_rss_mb()}  # fmt: skip
                metrics.write(json.dumps(row) + "\n")
                metrics.flush()
                log.info("epoch %d: %s", epoch,
                         ", ".join(f"{k} {v:.4g}" for k, v in valid.items()))  # fmt: skip
                if on_epoch is not None:
                    on_epoch(epoch, valid)
                save(final=False)
                plot_curves(metrics_path, run_dir / "curves.png")
            distributed.barrier()  # the others wait for process 0's validation
        save(final=True)
    distributed.barrier()
    model.eval()
    return TrainSummary(
        steps=step,
        epochs=epoch,
        seconds=time.monotonic() - started,
        molecules_per_second=molecules / train_seconds if train_seconds else 0.0,
        stopped=stopped,
        valid=valid,
    )


class _LossModule(nn.Module):
    """The task's loss as a module's ``forward``, the call DistributedDataParallel wraps (its
    gradient averaging is prepared in ``forward``)."""

    def __init__(self, task: Task) -> None:
        super().__init__()
        self.task = task
        self.model = task.model  # registers the parameters

    def forward(self, batch: Any, beta: float, generator: torch.Generator) -> dict[str, Tensor]:
        return self.task.loss(batch, beta, generator)


def _batch_size(batch: Any) -> int:
    """Molecules in a batch: its ``num_molecules``, else its ``graph``'s ``num_graphs``."""
    size = getattr(batch, "num_molecules", None)
    return int(size) if size is not None else int(batch.graph.num_graphs)


class _EpochBatches(torch.utils.data.Dataset):
    """Batch ``b`` of an epoch: ``(global rows, first row of this process, batch)``; what the
    DataLoader's workers build when the task streams its records."""

    def __init__(self, task: Task, order: np.ndarray, batch_size: int,
                 here: distributed.World) -> None:  # fmt: skip
        self.task, self.order, self.batch_size, self.here = task, order, batch_size, here

    def __len__(self) -> int:
        return math.ceil(len(self.order) / self.batch_size)

    def __getitem__(self, b: int) -> tuple[np.ndarray, int, Any]:
        rows = self.order[b * self.batch_size : (b + 1) * self.batch_size]
        mine = distributed.shard(rows, self.here)
        first = int(sum(len(r) for r in np.array_split(rows, self.here.size)[: self.here.rank]))
        return rows, first, self.task.batch(mine)


def _identity(item: Any) -> Any:
    return item


def _batches(
    task: Task, order: np.ndarray, batch_size: int, start: int, here: distributed.World
) -> Generator[tuple[np.ndarray, int, Any], None, None]:
    """The epoch's batches from ``start`` on: built here, or by ``task.batch_workers``
    DataLoader worker processes, a few batches ahead, when the task streams its records."""
    epoch = _EpochBatches(task, order, batch_size, here)
    which = range(start, len(epoch))
    workers = int(getattr(task, "batch_workers", 0))
    if workers <= 0:
        for b in which:
            yield epoch[b]
        return
    context = "fork" if "fork" in mp.get_all_start_methods() else None
    loader = torch.utils.data.DataLoader(
        epoch, batch_size=None, sampler=list(which), num_workers=workers,
        collate_fn=_identity, multiprocessing_context=context, prefetch_factor=4,
    )  # fmt: skip
    yield from loader


def old_run_files(run_dir: Path, overwrite: bool) -> list[str]:
    """The files of a run already in ``run_dir`` (what ``overwrite`` removes)."""
    found = [name for name in RUN_FILES if (run_dir / name).exists()]
    if found and not overwrite:
        raise ConfigError(
            f"{run_dir} already holds a run ({', '.join(found)}); continue it with --resume, "
            "replace it with --overwrite, or train into another --out"
        )
    return found


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB, macOS bytes)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop rows written after the checkpoint a resumed run starts from, and lines that are not
    JSON rows (the last one torn by a kill mid-write), with a warning."""
    if not path.exists():
        return
    kept = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        if not isinstance(row, dict):
            log.warning("%s, line %d: not a complete row (the run was killed while writing it?); "
                        "dropped", path, number)  # fmt: skip
            continue
        if row.get("step", 0) <= step:
            kept.append(line)
    tmp = temporary_path(path)
    tmp.write_text("".join(line + "\n" for line in kept))
    os.replace(tmp, path)


def temporary_path(path: Path) -> Path:
    """Where to write a run directory's file before renaming it over ``path``, so that a kill
    mid-write never leaves it torn: ``.NAME.PID.tmp``, the form of
    :func:`~moldojo.checkpoint.save_checkpoint`'s temporaries."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _remove_stale_temporaries(run_dir: Path) -> None:
    """Remove the temporary files of writes that a kill interrupted (``.NAME.*.tmp``, see
    :func:`temporary_path`)."""
    names = ("checkpoints/last.pt", "model.pt", "metrics.jsonl", "curves.png", "config.toml")
    for name in names:
        parent, _, base = name.rpartition("/")
        for stale in (run_dir / parent).glob(f".{base}.*.tmp"):
            log.info("removing %s, left by a write that was interrupted", stale)
            stale.unlink(missing_ok=True)


def plot_curves(metrics_path: str | Path, out: str | Path) -> None:
    """Training curves of a ``metrics.jsonl`` as a PNG: losses, KL and beta, validation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in Path(metrics_path).read_text().splitlines() if line]
    train = [r for r in rows if r.get("kind") == "train"]
    valid = [r for r in rows if r.get("kind") == "valid"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    if train:
        steps = np.array([r["step"] for r in train])
        width = max(1, len(train) // 100)
        for key in [k for k in train[0] if k.endswith("_loss") or k == "loss"]:
            axes[0].plot(steps, _smooth([r[key] for r in train], width), label=key)
        axes[0].set_yscale("log")
        if "kl" in train[0]:
            axes[1].plot(steps, _smooth([r["kl"] for r in train], width), label="KL")
            twin = axes[1].twinx()
            twin.plot(steps, [r["beta"] for r in train], color="grey", linestyle="--",
                      label="beta")  # fmt: skip
            twin.set_ylabel("beta")
        else:  # a model without a latent variable: its training accuracies instead
            for key in [k for k in train[0] if k.endswith("accuracy")]:
                axes[1].plot(steps, _smooth([r[key] for r in train], width), label=key)
    for key in sorted({k for r in valid for k in r} - {"kind", "step", "epoch", "peak_rss_mb"}):
        axes[2].plot([r["epoch"] for r in valid], [r.get(key) for r in valid], marker="o",
                     label=key)  # fmt: skip
    middle = "KL (per molecule)" if train and "kl" in train[0] else "training accuracy"
    for ax, title in zip(axes, ("losses (per molecule)", middle, "validation"),
                         strict=True):  # fmt: skip
        ax.set_title(title)
        ax.set_xlabel("epoch" if ax is axes[2] else "step")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = temporary_path(Path(out))
    fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)
    os.replace(tmp, out)


def _smooth(values: list[float], width: int) -> np.ndarray:
    values_arr = np.asarray(values, dtype=np.float64)
    if width <= 1 or values_arr.size < width:
        return values_arr
    kernel = np.ones(width) / width
    padded = np.concatenate([np.full(width - 1, values_arr[0]), values_arr])
    return np.convolve(padded, kernel, mode="valid")
