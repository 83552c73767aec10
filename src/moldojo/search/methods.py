"""Search methods in latent space, each an ask/tell loop over latent points.

A method proposes latent points (:meth:`Method.ask`), the driver
(:func:`~moldojo.search.optimize.optimize`) decodes and scores them, and the method learns the
scores (:meth:`Method.tell`). Scores are maximised; a failed proposal (the molecule did not
decode, broke the similarity or scaffold constraint, or the objective returned NaN) is told as
NaN, and each method says what it makes of one.

Every method draws its randomness from its own seeded generators, never from global state, so
that the same seed gives the same proposals.

Imports torch, numpy and the packages each method is built on (``cmaes``, BoTorch); nothing
from moldojo.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import torch
from torch import Tensor

__all__ = ["BOUND", "CMAES", "Genetic", "Method", "RandomSearch"]

#: Every method searches the box ``[-BOUND, BOUND]^D`` of the latent space (the prior is
#: ``N(0, I)``; beyond three standard deviations the decoder has seen no training molecule).
BOUND = 3.0


class Method(ABC):
    """One search method over ``R^dim``.

    Args:
        dim: latent dimension ``D``.
        batch: points proposed per round (the methods' population or acquisition batch).
        seed: the method's random seed.
        starts: ``[K, D]`` latent points of start molecules, or None (search from the prior
            ``N(0, I)``).
        sigma: the scale of the search around ``starts`` (the prior's scale is 1).
    """

    name: str

    def __init__(self, dim: int, batch: int, seed: int, starts: Tensor | None = None,
                 sigma: float = 1.0) -> None:  # fmt: skip
        self.dim = dim
        self.batch = batch
        self.seed = seed
        self.starts = None if starts is None else starts.double()
        self.sigma = sigma

    @abstractmethod
    def ask(self, n: int) -> Tensor:
        """``[n, D]`` float64: the next ``n`` points to evaluate (``n <= batch``)."""

    @abstractmethod
    def tell(self, z: Tensor, scores: Tensor) -> None:
        """Learn the scores ``[n]`` (NaN: failed) of the points ``z [n, D]`` last asked for."""


def _fill_failed(scores: np.ndarray) -> np.ndarray:
    """Scores with each failure (NaN) replaced by a value below every finite score (rank-based
    methods only need the order)."""
    scores = np.asarray(scores, np.float64).copy()
    finite = np.isfinite(scores)
    worst = scores[finite].min() - 1.0 if finite.any() else 0.0
    scores[~finite] = worst
    return scores


class RandomSearch(Method):
    """The baseline: independent draws from the prior ``N(0, I)``, or, with start molecules,
    from ``N(z_start, sigma^2 I)`` around each start in turn; the scores are ignored."""

    name = "random"

    def __init__(self, dim: int, batch: int, seed: int, starts: Tensor | None = None,
                 sigma: float = 1.0) -> None:  # fmt: skip
        super().__init__(dim, batch, seed, starts, sigma)
        self._rng = torch.Generator().manual_seed(seed)
        self._drawn = 0

    def ask(self, n: int) -> Tensor:
        noise = torch.randn(n, self.dim, generator=self._rng, dtype=torch.float64)
        if self.starts is None:
            z = noise
        else:
            rows = torch.arange(self._drawn, self._drawn + n) % len(self.starts)
            z = self.starts[rows] + self.sigma * noise
        self._drawn += n
        return z

    def tell(self, z: Tensor, scores: Tensor) -> None:
        pass


class CMAES(Method):
    """Covariance matrix adaptation evolution strategy (Hansen 2016), the ``cmaes`` package's
    :class:`cmaes.CMA` in the box ``[-BOUND, BOUND]^D``, with population ``max(batch, 4)``.

    The search starts at the origin with step ``sigma`` (the prior), or at the mean of the
    start molecules' latent points. Proposals are handed out in the order CMA-ES draws them and
    each generation is told once all its members are scored, so any batch size works. CMA-ES
    ranks a generation, so a failure is told as worse than every success of its generation.
    """

    name = "cmaes"

    def __init__(self, dim: int, batch: int, seed: int, starts: Tensor | None = None,
                 sigma: float = 1.0) -> None:  # fmt: skip
        super().__init__(dim, batch, seed, starts, sigma)
        from cmaes import CMA

        mean = np.zeros(dim) if self.starts is None else self.starts.mean(0).numpy()
        bounds = np.tile([-BOUND, BOUND], (dim, 1))
        self._cma = CMA(mean=np.clip(mean, -BOUND, BOUND), sigma=sigma, bounds=bounds,
                        seed=seed, population_size=max(batch, 4))  # fmt: skip
        self._queue: list[np.ndarray] = []  # drawn, not handed out yet
        self._scored: list[tuple[np.ndarray, float]] = []  # this generation's scored members

    def ask(self, n: int) -> Tensor:
        out = []
        for _ in range(n):
            if not self._queue:
                self._queue = [self._cma.ask() for _ in range(self._cma.population_size)]
            out.append(self._queue.pop(0))
        return torch.as_tensor(np.stack(out)) if out else torch.zeros(0, self.dim)

    def tell(self, z: Tensor, scores: Tensor) -> None:
        self._scored.extend(zip(z.numpy(), scores.numpy().tolist(), strict=True))
        size = self._cma.population_size
        while len(self._scored) >= size:
            generation, self._scored = self._scored[:size], self._scored[size:]
            values = -_fill_failed(np.asarray([v for _, v in generation]))  # cmaes minimises
            self._cma.tell([(x, float(v)) for (x, _), v in zip(generation, values,
                                                                strict=True)])  # fmt: skip


class Genetic(Method):
    """A genetic algorithm on latent vectors: (mu + lambda) selection of the best ``population``
    points seen, tournament selection of parents, uniform crossover, Gaussian mutation.

    The first ``population`` points are the start molecules' latent points (repeated with
    noise ``sigma`` when there are fewer) or prior draws. Each later round breeds ``batch``
    children: two parents, each the best of ``tournament`` members drawn at random, a child
    taking each coordinate from either parent, then each coordinate moved by
    ``N(0, (mutation * sigma)^2)`` with probability ``mutation_rate``. Failures rank last.
    """

    name = "ga"

    def __init__(self, dim: int, batch: int, seed: int, starts: Tensor | None = None,
                 sigma: float = 1.0, *, population: int | None = None, tournament: int = 3,
                 mutation: float = 0.5, mutation_rate: float = 0.25) -> None:  # fmt: skip
        super().__init__(dim, batch, seed, starts, sigma)
        self.population = population or max(2 * batch, 20)
        self.tournament = tournament
        self.mutation = mutation
        self.mutation_rate = mutation_rate
        self._rng = np.random.default_rng(seed)
        self._z = np.zeros((0, dim))
        self._scores = np.zeros(0)
        self._initial = self._initial_points()

    def _initial_points(self) -> np.ndarray:
        p = self.population
        if self.starts is None:
            return self._rng.standard_normal((p, self.dim))
        starts = self.starts.numpy()[:p]
        extra = p - len(starts)
        rows = np.arange(extra) % len(starts)
        noisy = starts[rows] + self.sigma * self._rng.standard_normal((extra, self.dim))
        return np.concatenate([starts, noisy])

    def ask(self, n: int) -> Tensor:
        if len(self._initial):
            z, self._initial = self._initial[:n], self._initial[n:]
            if len(z) < n:  # the rest of the round are children
                z = np.concatenate([z, self._children(n - len(z))])
        else:
            z = self._children(n)
        return torch.as_tensor(np.clip(z, -BOUND, BOUND))

    def _children(self, n: int) -> np.ndarray:
        if len(self._z) == 0:  # nothing told yet
            return self._rng.standard_normal((n, self.dim))
        fitness = _fill_failed(self._scores)
        k = min(self.tournament, len(fitness))

        def parent() -> np.ndarray:
            members = self._rng.choice(len(fitness), size=k, replace=False)
            return self._z[members[np.argmax(fitness[members])]]

        out = np.empty((n, self.dim))
        for i in range(n):
            a, b = parent(), parent()
            child = np.where(self._rng.random(self.dim) < 0.5, a, b)
            mutate = self._rng.random(self.dim) < self.mutation_rate
            child = child + mutate * self._rng.normal(0.0, self.mutation * self.sigma, self.dim)
            out[i] = child
        return out

    def tell(self, z: Tensor, scores: Tensor) -> None:
        self._z = np.concatenate([self._z, z.numpy()])
        self._scores = np.concatenate([self._scores, scores.numpy()])
        if len(self._z) > self.population:  # keep the best (failures last; stable for ties)
            order = np.argsort(-_fill_failed(self._scores), kind="stable")[: self.population]
            self._z, self._scores = self._z[order], self._scores[order]
