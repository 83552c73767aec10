"""moldojo.search.bayesopt: trust-region Bayesian optimisation (BayesOpt) on toy objectives."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import pytest
import torch
from linear_operator.utils.errors import NotPSDError
from torch import Tensor

import moldojo.search.bayesopt as bayesopt
from moldojo.search.bayesopt import BayesOpt


def sphere(z: Tensor) -> Tensor:
    """``-||z - c||^2`` with ``c = 0.7 * ones``: maximum 0 at ``c``."""
    return -((z - 0.7) ** 2).sum(-1)


def run(method: BayesOpt, objective: Callable[[Tensor], Tensor], budget: int) -> Tensor:
    """The ``[budget]`` scores of an ask/tell loop of ``budget`` evaluations."""
    scores = []
    while sum(len(s) for s in scores) < budget:
        z = method.ask(method.batch)
        s = objective(z)
        method.tell(z, s)
        scores.append(s)
    return torch.cat(scores)


def prior_points(n: int, dim: int, seed: int) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, dim, generator=g, dtype=torch.float64)


# ------------------------------------------------------------------------------ optimisation


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow),
                                  pytest.param(2, marks=pytest.mark.slow)])  # fmt: skip
def test_beats_the_prior_on_a_sphere(seed: int) -> None:
    # Given 60 evaluations in D = 8, batch 5, from the prior
    bo = BayesOpt(dim=8, batch=5, seed=seed)
    # When BO maximises -||z - c||^2
    best = float(run(bo, sphere, 60).max())
    # Then its best beats the best of 60 prior draws of the same seed, by far
    baseline = float(sphere(prior_points(60, 8, seed).clamp(-3, 3)).max())
    assert best > baseline + 0.5, (best, baseline)
    assert best > -0.5
    assert bo.n_told == 60


# ------------------------------------------------------------------------------ determinism


def told(dim: int, n: int) -> tuple[Tensor, Tensor]:
    z = prior_points(n, dim, seed=123)
    return z, sphere(z)


def test_same_seed_same_asks_and_the_global_rng_untouched() -> None:
    # Given two instances of one seed and one of another, told the same 20 points
    z, s = told(4, 20)
    a, b, c = BayesOpt(4, 5, seed=7), BayesOpt(4, 5, seed=7), BayesOpt(4, 5, seed=8)
    first = [m.ask(5) for m in (a, b, c)]
    for m in (a, b, c):
        m.tell(z, s)
    # When each asks from its model, the global RNG state recorded before
    torch.manual_seed(2024)
    state = torch.get_rng_state()
    second = [m.ask(5) for m in (a, b)]
    a.tell(second[0], sphere(second[0]))
    # Then the same seed gives the same points, initial and from the model
    assert torch.equal(first[0], first[1])
    assert torch.equal(second[0], second[1])
    assert second[0].dtype == torch.float64 and second[0].shape == (5, 4)
    # And another seed other initial points
    assert not torch.allclose(first[0], first[2])
    # And ask and tell leave the caller's global random state as it was
    assert torch.equal(torch.get_rng_state(), state)


# --------------------------------------------------------------------------- failures, box


def test_nan_scores_are_taken_and_asks_stay_in_the_box() -> None:
    # Given an objective that fails (NaN) on half the points and on a whole first batch
    def flaky(z: Tensor) -> Tensor:
        s = sphere(z)
        s[z[:, 0] < 0] = math.nan
        return s

    bo = BayesOpt(dim=3, batch=10, seed=0)
    z = bo.ask(10)
    bo.tell(z, torch.full((10,), math.nan))
    # When the search goes on into a round from the model (20 points told: n_init)
    asks = [z]
    for _ in range(2):
        z = bo.ask(10)
        bo.tell(z, flaky(z))
        asks.append(z)
    # Then nothing breaks, every point lies in [-3, 3]^D and the best is finite
    allz = torch.cat(asks)
    assert bo.n_init == 20
    assert allz.shape == (30, 3) and torch.isfinite(allz).all()
    assert (allz.abs() <= 3.0).all()
    assert math.isfinite(bo.best_score)


def test_only_failures_keep_asking_initial_points() -> None:
    # Given more than n_init failed points
    bo = BayesOpt(dim=3, batch=10, seed=0)
    for _ in range(3):
        bo.tell(bo.ask(10), torch.full((10,), math.nan))
    # Then asks are still prior draws (no model without one finite score), in the box
    z = bo.ask(10)
    assert z.shape == (10, 3) and (z.abs() <= 3.0).all()
    assert bo.best_point is None


def test_a_failed_fit_falls_back_to_the_trust_region(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a GP fit that breaks numerically (so no lengthscales: a cube of side L)
    def broken(*args: object, **kwargs: object) -> None:
        raise NotPSDError("not positive definite")

    monkeypatch.setattr(bayesopt, "fit_gpytorch_mll", broken)
    bo = BayesOpt(dim=4, batch=5, seed=0)
    z, s = told(4, 20)
    bo.tell(z, s)
    # When asking from the model
    with caplog.at_level(logging.DEBUG, logger="moldojo"):
        points = bo.ask(5)
    # Then the points are uniform in the trust region around the best point, in the box
    half = bo.length / 2 * 6.0  # L / 2 in the normalised space, times the box side
    assert points.shape == (5, 4) and (points.abs() <= 3.0).all()
    assert ((points - bo.best_point).abs() <= half + 1e-12).all()
    assert "NotPSDError" in caplog.text
    # And the same seed falls back to the same points
    again = BayesOpt(dim=4, batch=5, seed=0)
    again.tell(z, s)
    assert torch.equal(again.ask(5), points)


def test_a_failed_acquisition_falls_back_too(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("cholesky failed")

    monkeypatch.setattr(bayesopt, "optimize_acqf", broken)
    bo = BayesOpt(dim=4, batch=5, seed=0)
    bo.tell(*told(4, 20))
    points = bo.ask(5)
    assert points.shape == (5, 4) and (points.abs() <= 3.0).all()


# ------------------------------------------------------------------------------ start points


def test_the_first_asks_are_the_starts_clipped_then_points_around_them() -> None:
    # Given three starts, one outside the box
    starts = torch.tensor([[0.5, -0.5], [4.0, -5.0], [1.0, 2.0]])
    bo = BayesOpt(dim=2, batch=2, seed=0, starts=starts, sigma=0.1)
    # When asking twice for two points
    first, second = bo.ask(2), bo.ask(2)
    # Then the starts come first, clipped to the box, in order
    clipped = starts.double().clamp(-3, 3)
    assert torch.equal(first, clipped[:2])
    assert torch.equal(second[0], clipped[2])
    # And then points near one of the starts
    distance = (second[1][None, :] - clipped).norm(dim=1).min()
    assert 0 < distance < 1.0


# ------------------------------------------------------------------------------ trust region


def test_trust_region_halves_on_failures_doubles_on_successes_and_restarts() -> None:
    # Given 20 initial points told (D = 8, batch 5: failure tolerance 4)
    bo = BayesOpt(dim=8, batch=5, seed=0)
    z, s = told(8, 20)
    bo.tell(z, s)
    assert bo.failure_tolerance == 4 and bo.length == 0.8
    best = bo.best_score
    # When four batches in a row do not improve: the side halves
    for _ in range(4):
        bo.tell(z[:5], torch.full((5,), best - 1.0))
    assert bo.length == 0.4
    # When three in a row improve by more than 1e-3 |best|: it doubles
    for _ in range(3):
        best = bo.best_score + 1.0
        bo.tell(z[:5], torch.tensor([best, *[best - 2] * 4]))
    assert bo.length == 0.8
    # When it halves below 0.5 ** 7: it restarts at 0.8, with the data kept
    n = bo.n_told
    for _ in range(4 * 7):
        bo.tell(z[:5], torch.full((5,), math.nan))
    assert bo.length == 0.8 and bo.restarts == 1
    assert bo.n_told == n + 4 * 7 * 5
