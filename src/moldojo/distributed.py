"""One training run over several processes: ``torchrun`` and PyTorch's process groups.

``torchrun --nproc-per-node K -m moldojo train ...`` starts K copies of ``moldojo train`` with
``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT`` in their
environment. :func:`setup` reads them and joins the process group: ``gloo`` on CPU, ``nccl``
on CUDA (each process on GPU ``LOCAL_RANK``). Without them it does nothing and every helper here
acts as for one process, so the training code has one path.

What the processes share (:mod:`moldojo.training.loop` uses it so):

* every process builds the same model from the same seed and the same data, and draws the same
  epoch order and the same noise; each takes its own slice of every global batch
  (:func:`shard`);
* PyTorch's ``DistributedDataParallel`` averages the gradients, so every process takes the
  same optimiser step;
* process 0 alone writes files, logs, shows progress and validates; the others wait for it at
  the points where its files must exist (:func:`rank_zero_first`, :func:`barrier`).

Imports torch only.
"""

from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

__all__ = [
    "World",
    "all_reduce_mean",
    "all_reduce_sum",
    "barrier",
    "broadcast_flag",
    "rank_zero_first",
    "setup",
    "shard",
    "world",
]

log = logging.getLogger(__name__)

#: How long a process waits for the others at a barrier or a collective (validation on process
#: 0 can take minutes: the others wait for it).
TIMEOUT = datetime.timedelta(hours=2)


@dataclass(frozen=True)
class World:
    """This process's place in the run.

    Attributes:
        rank: 0 to ``size - 1``; process 0 writes the files.
        size: processes in the run (1 without ``torchrun``).
        local_rank: the process's index on its machine (its GPU there).
    """

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def main(self) -> bool:
        """True on the process that writes files and logs."""
        return self.rank == 0


def _from_environment() -> World:
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    return World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))


def world() -> World:
    """This process's :class:`World`: the process group's when one is set up, else the
    environment's (``torchrun``'s variables), else a single process."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(),
                     int(os.environ.get("LOCAL_RANK", "0")))  # fmt: skip
    return _from_environment()


def setup(device: str) -> tuple[World, str]:
    """Join the process group ``torchrun`` describes (once), and the device of this process.

    Args:
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` as the user gave it.

    Returns:
        ``(world, device)``: with several processes on CUDA, each gets ``cuda:LOCAL_RANK``.
    """
    here = _from_environment()
    if not here.distributed:
        return here, device
    cuda = device.startswith("cuda")
    if cuda:
        device = f"cuda:{here.local_rank}"
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo", timeout=TIMEOUT)
    if not here.main:
        logging.getLogger("moldojo").setLevel(logging.ERROR)  # one process speaks
    log.info("process group: %d processes (%s)", here.size, "nccl" if cuda else "gloo")
    return world(), device


def barrier() -> None:
    """Wait until every process gets here (nothing with one process)."""
    if world().distributed:
        dist.barrier()


@contextmanager
def rank_zero_first() -> Iterator[None]:
    """Process 0 runs the block first, then the others: for work whose result process 0
    caches on disk (featurised datasets, vocabularies), so that it is done once."""
    here = world()
    if here.distributed and not here.main:
        dist.barrier()
    try:
        yield
    finally:  # a failure on process 0 lets the others go on, to fail the same way
        if here.distributed and here.main:
            dist.barrier()


def shard(rows: np.ndarray, here: World | None = None) -> np.ndarray:
    """This process's contiguous slice of a global batch ``rows`` (sizes differ by at most
    one; with one process, all of them)."""
    here = here or world()
    if not here.distributed:
        return rows
    return np.array_split(rows, here.size)[here.rank]


def _collective_device() -> torch.device:
    """Where collectives' tensors live: the process's GPU under NCCL, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce_mean(values: dict[str, float], weight: float) -> dict[str, float]:
    """The ``weight``-weighted mean of each value over the processes (one collective)."""
    if not world().distributed or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([values[k] * weight for k in keys] + [weight], dtype=torch.float64,
                     device=_collective_device())  # fmt: skip
    dist.all_reduce(t)
    return {k: float(t[i] / t[-1]) for i, k in enumerate(keys)}


def all_reduce_sum(value: int) -> int:
    """The sum of ``value`` over the processes."""
    if not world().distributed:
        return value
    t = torch.tensor([value], dtype=torch.int64, device=_collective_device())
    dist.all_reduce(t)
    return int(t.item())


def broadcast_flag(flag: bool) -> bool:
    """Process 0's ``flag`` on every process (decisions such as "the budget is spent" that
    must be the same everywhere)."""
    if not world().distributed:
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int64, device=_collective_device())
    dist.broadcast(t, src=0)
    return bool(t.item())
