"""What every molecule VAE shares: the Gaussian posterior, its KL, the KL-annealing schedules,
and the tempered softmax that sampling decoders draw from.

Kingma & Welling 2014 for the reparameterisation and the analytic KL; Bowman et al. 2016
("Generating Sentences from a Continuous Space") for KL annealing against posterior collapse,
with its linear and sigmoid warm-ups; Fu et al. 2019 ("Cyclical Annealing Schedule") for the
cyclical one.

Imports torch, and :mod:`moldojo.config` for the schedule's config base.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

import torch
from pydantic import NonNegativeFloat, PositiveInt
from torch import Tensor

from moldojo.config import Config

__all__ = ["KLSchedule", "gaussian_kl", "noise_rows", "reparameterize", "tempered_softmax"]


#: ``(first, total)`` while a :func:`noise_rows` block runs, else None.
_NOISE_ROWS: ContextVar[tuple[int, int] | None] = ContextVar("noise_rows", default=None)


@contextmanager
def noise_rows(first: int, total: int) -> Iterator[None]:
    """Within the block, :func:`reparameterize` draws the noise of a batch of ``total`` rows
    and keeps rows ``first : first + B``: a process that trains on one slice of a global batch
    (:mod:`moldojo.distributed`) then draws, for each molecule, what one process would have."""
    token = _NOISE_ROWS.set((first, total))
    try:
        yield
    finally:
        _NOISE_ROWS.reset(token)


def reparameterize(mu: Tensor, logvar: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """``z = mu + exp(logvar / 2) * eps`` with ``eps ~ N(0, I)`` drawn from ``generator``
    (rows of a larger draw inside :func:`noise_rows`).

    Shapes: mu, logvar: ``[B, D]``; returns ``[B, D]``.
    """
    rows = _NOISE_ROWS.get()
    if rows is None:
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    else:
        first, total = rows
        eps = torch.randn((total, *mu.shape[1:]), generator=generator, device=mu.device,
                          dtype=mu.dtype)[first : first + mu.shape[0]]  # fmt: skip
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """``KL(N(mu, diag(exp(logvar))) || N(0, I))`` per row, summed over the latent dimensions.

    Shapes: mu, logvar: ``[B, D]``; returns ``[B]``.
    """
    return -0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp()).sum(dim=-1)


def tempered_softmax(logits: Tensor, temperature: float, dim: int = -1) -> Tensor:
    """``softmax(logits / temperature)`` for every finite ``temperature > 0``, tiny or huge.

    Written plainly it breaks at the ends: ``logits / 1e-300`` overflows to ``inf`` (and the
    softmax to NaN), and ``1e308`` is already ``inf`` in float32. Here the maximum is subtracted
    first and the division is done in float64, so that a tiny temperature gives the argmax's
    one-hot and a huge one the uniform distribution (over the entries that are not ``-inf``).

    Shapes: logits: any, the categories along ``dim``; returns the same shape and dtype.
    """
    wide = logits.double()
    shifted = wide - wide.amax(dim=dim, keepdim=True)  # <= 0, its maximum exactly 0
    return torch.softmax(shifted / temperature, dim=dim).to(logits.dtype)


class KLSchedule(Config):
    """The weight ``beta`` of the KL term as a function of the training step.

    ::

        constant:  beta = beta_max
        linear:    beta = beta_max * min(1, step / warmup_steps)
        sigmoid:   beta = beta_max * sigmoid(10 * (step / warmup_steps - 0.5))
        cyclical:  beta = beta_max * min(1, 2 * (step mod cycle_steps) / cycle_steps)

    The cyclical schedule (Fu et al. 2019) rises linearly during the first half of each cycle
    and stays at ``beta_max`` for the second half.

    Args:
        kind: ``"constant"``, ``"linear"``, ``"cyclical"`` or ``"sigmoid"``.
        beta_max: the final (or plateau) weight.
        warmup_steps: steps to reach ``beta_max`` (linear, sigmoid).
        cycle_steps: length of one cycle (cyclical).
    """

    kind: Literal["constant", "linear", "cyclical", "sigmoid"] = "linear"
    beta_max: NonNegativeFloat = 0.1
    warmup_steps: PositiveInt = 5000
    cycle_steps: PositiveInt = 5000

    def __call__(self, step: int) -> float:
        if self.kind == "constant":
            return self.beta_max
        if self.kind == "linear":
            return self.beta_max * min(1.0, step / self.warmup_steps)
        if self.kind == "sigmoid":
            x = 10.0 * (step / self.warmup_steps - 0.5)
            return (
                self.beta_max / (1.0 + math.exp(-x))
                if step < self.warmup_steps
                else (self.beta_max)
            )
        phase = (step % self.cycle_steps) / self.cycle_steps
        return self.beta_max * min(1.0, 2.0 * phase)
