"""Bayesian optimisation in a VAE's latent space: a Gaussian process and batch log expected
improvement (BoTorch), inside a trust region (TuRBO-1, Eriksson et al. 2019, "Scalable Global
Optimization via Local Bayesian Optimization").

Why a trust region: a latent space has 32 to 64 dimensions and a search has a few hundred
evaluations, so a global GP over the whole box ``[-3, 3]^D`` is fitted to points far apart in
every direction and knows little anywhere; its expected improvement is then largest at the box's
faces and corners, where its uncertainty is, and a global search spends its budget there. TuRBO
showed that a local model does better in such spaces: the GP is trusted only in a hyper-rectangle
around the best point seen, which grows while batches improve on the best score and shrinks
while they do not, and is reset to its initial size when it has shrunk to nothing.

Latent points are searched within the box ``[-3, 3]^D`` (the prior is ``N(0, I)``, whose
coordinates lie within 3 standard deviations 99.7% of the time); the GP sees them normalised to
``[0, 1]^D``. Failed proposals (NaN scores) are given to the GP with the worst finite score seen,
so that it learns to avoid their region.

Sits in the search layer: imports torch, BoTorch and GPyTorch, and from moldojo only
:mod:`moldojo.search.methods`.
"""

from __future__ import annotations

import logging
import math
import warnings

import torch
from botorch.acquisition.logei import qLogExpectedImprovement
from botorch.exceptions.errors import BotorchError, ModelFittingError
from botorch.exceptions.warnings import BotorchWarning
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms.outcome import Standardize
from botorch.optim import optimize_acqf
from gpytorch.mlls import ExactMarginalLogLikelihood
from gpytorch.utils.warnings import GPInputWarning, NumericalWarning
from torch import Tensor

from moldojo.search.methods import BOUND, Method

__all__ = ["BayesOpt"]

log = logging.getLogger("moldojo")

# What a failed fit or acquisition optimisation raises: BoTorch's own errors, and the numerical
# ones of GPyTorch and linear_operator (NotPSDError, NanError) and torch.linalg, which are all
# RuntimeErrors; ValueError for NaN or infinite values met by scipy's optimiser.
_NUMERICAL_ERRORS = (BotorchError, ModelFittingError, RuntimeError, ValueError)

# Warnings BoTorch and GPyTorch give on routine events of a search (inputs not standardised,
# an optimiser stopped at its iteration limit, jitter added to a covariance matrix).
_QUIET = (BotorchWarning, NumericalWarning, GPInputWarning)


class BayesOpt(Method):
    """Batch Bayesian optimisation in a trust region (TuRBO-1) over the box ``[-3, 3]^D``.

    Initial design: until ``n_init = max(2 * batch, 20)`` points have been told, and until one
    score is finite, :meth:`ask` returns initial points: with ``starts``, first the start points
    themselves (clipped to the box), then points ``start + sigma * N(0, I)`` around starts drawn
    at random; without, draws from the prior ``N(0, I)`` clipped to the box.

    Then each round fits a :class:`~botorch.models.SingleTaskGP` (RBF kernel with one
    lengthscale per dimension, BoTorch's default priors) by maximum marginal likelihood to the
    told points, normalised to ``[0, 1]^D``, and their standardised scores (NaN told as the worst
    finite score), and proposes the ``n`` points that maximise ``qLogExpectedImprovement`` over
    the trust region: a hyper-rectangle centred at the best point seen, of side ``L`` in the
    normalised space, stretched per dimension by the GP's lengthscales (divided by their
    geometric mean, so that the volume before clipping is ``L^D``) and clipped to ``[0, 1]^D``.
    Beyond 1,000 told points the GP is fitted to the 1,000 best (an exact GP costs ``O(N^3)``;
    the trust region lies around the best points anyway). Each fit starts from the last round's
    hyperparameters and runs at most 25 L-BFGS-B iterations (100 for the first fit, from
    BoTorch's initial values), which keeps a round at a few seconds on two CPU cores with 500
    points in 32 dimensions.

    After each batch told past the initial design, the batch counts as a success when its best
    score beats the best before it by more than ``1e-3 * |best|``, else as a failure. Three
    successes in a row double ``L`` (up to 1.6); ``max(4, ceil(D / batch))`` failures in a row
    halve it; when ``L`` falls below ``0.5 ** 7`` the trust region restarts at ``L = 0.8``
    around the same best point, with all the data kept.

    Should fitting the GP or optimising the acquisition fail numerically, the round's points are
    drawn uniformly from the trust region instead (logged at debug level).

    All randomness comes from the seed: the initial and fallback points from the method's own
    ``torch.Generator``, BoTorch's raw samples and quasi-Monte-Carlo draws from the global
    generator seeded with ``seed + round`` inside :func:`torch.random.fork_rng`, which leaves the
    caller's global random state as it was. The same seed and the same told scores give the same
    proposals.

    Args:
        dim: latent dimension ``D``.
        batch: points proposed per round (the acquisition batch ``q``).
        seed: the random seed.
        starts: ``[K, D]`` latent points of start molecules, or None (search from the prior).
        sigma: the scale of the initial points around ``starts``.
    """

    name = "bo"

    #: Half the side of the search box ``[-bound, bound]^D``: every method's.
    bound = BOUND
    #: Trust region side in the normalised space: initial, smallest before a restart, largest.
    length_init = 0.8
    length_min = 0.5**7
    length_max = 1.6
    #: Successes in a row that double the trust region.
    success_tolerance = 3
    #: Most told points the GP is fitted to (the best ones).
    max_train = 1000
    #: Most L-BFGS-B iterations of a GP fit: from BoTorch's initial hyperparameters, and from
    #: those of the last round (one batch of data more moves them little).
    fit_maxiter = 100
    warm_fit_maxiter = 25
    #: ``optimize_acqf``'s settings.
    num_restarts = 4
    raw_samples = 256
    acqf_options = {"maxiter": 100, "batch_limit": 8}

    def __init__(self, dim: int, batch: int, seed: int, starts: Tensor | None = None,
                 sigma: float = 1.0) -> None:  # fmt: skip
        super().__init__(dim, batch, seed, starts, sigma)
        self.n_init = max(2 * batch, 20)
        self.failure_tolerance = max(4, math.ceil(dim / batch))
        self.length = self.length_init
        self.successes = 0
        self.failures = 0
        self.restarts = 0
        self._generator = torch.Generator().manual_seed(seed)
        self._starts_used = 0  # start points returned as they are so far
        self._rounds = 0  # calls of ask, part of the seed of BoTorch's draws
        self._z = torch.empty(0, dim, dtype=torch.float64)  # [N, D] told points, clipped to box
        self._y = torch.empty(0, dtype=torch.float64)  # [N] their scores, NaN where failed
        self._hyper: dict[str, Tensor] | None = None  # the GP's last fitted hyperparameters

    # ------------------------------------------------------------------------------- state

    @property
    def n_told(self) -> int:
        """Points told so far."""
        return len(self._y)

    @property
    def best_score(self) -> float:
        """The best finite score told so far (``-inf`` before the first)."""
        finite = self._y[torch.isfinite(self._y)]
        return float(finite.max()) if len(finite) else -math.inf

    @property
    def best_point(self) -> Tensor | None:
        """``[D]`` the (first) point of the best finite score told so far, or None."""
        if not math.isfinite(self.best_score):
            return None
        y = torch.where(torch.isfinite(self._y), self._y, -math.inf)
        return self._z[int(torch.argmax(y))].clone()

    # ----------------------------------------------------------------------------- ask/tell

    def ask(self, n: int) -> Tensor:
        """``[n, D]`` float64: the next ``n`` points, within ``[-bound, bound]^D``."""
        self._rounds += 1
        if n <= 0:
            return torch.empty(0, self.dim, dtype=torch.float64)
        if self.n_told < self.n_init or not math.isfinite(self.best_score):
            return self._initial(n)
        return self._from_model(n)

    def tell(self, z: Tensor, scores: Tensor) -> None:
        """Learn the scores ``[n]`` (NaN: failed) of the points ``z [n, D]``, and update the
        trust region when the batch was proposed from the model."""
        z = z.detach().to(torch.float64).reshape(-1, self.dim).clamp(-self.bound, self.bound)
        scores = scores.detach().to(torch.float64).reshape(-1)
        if len(z) != len(scores):
            raise ValueError(f"{len(z)} points but {len(scores)} scores")
        scores = torch.where(torch.isfinite(scores), scores, math.nan)  # +-inf counts as failed
        from_model = self.n_told >= self.n_init and math.isfinite(self.best_score)
        before = self.best_score
        self._z = torch.cat([self._z, z])
        self._y = torch.cat([self._y, scores])
        if from_model:
            self._update_trust_region(before, self.best_score)

    def _update_trust_region(self, before: float, after: float) -> None:
        if after > before + 1e-3 * abs(before):
            self.successes, self.failures = self.successes + 1, 0
        else:
            self.successes, self.failures = 0, self.failures + 1
        if self.successes >= self.success_tolerance:
            self.length = min(2.0 * self.length, self.length_max)
            self.successes = 0
        elif self.failures >= self.failure_tolerance:
            self.length /= 2.0
            self.failures = 0
        if self.length < self.length_min:
            log.debug("bo: trust region shrank below %.4g; restarting at %.2g",
                      self.length_min, self.length_init)  # fmt: skip
            self.length = self.length_init
            self.successes = self.failures = 0
            self.restarts += 1

    # ------------------------------------------------------------------------ initial design

    def _initial(self, n: int) -> Tensor:
        """``[n, D]``: start points, then noise around them; without starts, prior draws.

        Prior draws rather than a space-filling (Sobol) design of the box: a VAE decodes points
        of its prior to valid molecules, not points near the box's faces and corners.
        """
        g = self._generator
        if self.starts is None:
            z = torch.randn(n, self.dim, generator=g, dtype=torch.float64)
            return z.clamp(-self.bound, self.bound)
        starts = self.starts.reshape(-1, self.dim)
        own = starts[self._starts_used : self._starts_used + n]
        self._starts_used += len(own)
        k = n - len(own)
        picks = torch.randint(len(starts), (k,), generator=g)
        noise = torch.randn(k, self.dim, generator=g, dtype=torch.float64)
        around = starts[picks] + self.sigma * noise
        return torch.cat([own, around]).clamp(-self.bound, self.bound)

    # ------------------------------------------------------------------------------- model

    def _normalise(self, z: Tensor) -> Tensor:
        return (z + self.bound) / (2 * self.bound)

    def _unnormalise(self, x: Tensor) -> Tensor:
        return (x * (2 * self.bound) - self.bound).clamp(-self.bound, self.bound)

    def _training_data(self) -> tuple[Tensor, Tensor]:
        """``[N, D]`` normalised points and ``[N, 1]`` standardised scores for the GP: failed
        points at the worst finite score, at most ``max_train`` points (the best)."""
        finite = torch.isfinite(self._y)
        y = torch.where(finite, self._y, self._y[finite].min())
        x = self._normalise(self._z)
        if len(y) > self.max_train:
            keep = torch.argsort(y, descending=True, stable=True)[: self.max_train]
            x, y = x[keep], y[keep]
        std = y.std() if len(y) > 1 else y.new_tensor(0.0)
        y = (y - y.mean()) / (std if std > 0 else 1.0)
        return x, y[:, None]

    def _trust_region(self, lengthscales: Tensor | None) -> Tensor:
        """``[2, D]`` lower and upper bounds of the trust region in the normalised space."""
        centre = self._normalise(self.best_point)
        weights = torch.ones(self.dim, dtype=torch.float64)
        if lengthscales is not None:
            ls = lengthscales.detach().to(torch.float64).reshape(-1)
            if len(ls) == self.dim and torch.isfinite(ls).all() and (ls > 0).all():
                weights = ls / ls.log().mean().exp()  # geometric mean 1
        half = weights * self.length / 2
        return torch.stack([(centre - half).clamp(0, 1), (centre + half).clamp(0, 1)])

    def _from_model(self, n: int) -> Tensor:
        """``[n, D]``: the maximiser of qLogEI over the trust region, or uniform points in it
        when fitting or optimising fails."""
        x, y = self._training_data()
        lengthscales = None
        try:
            with warnings.catch_warnings(), torch.random.fork_rng(devices=[]):
                for category in _QUIET:
                    warnings.simplefilter("ignore", category)
                torch.manual_seed(self.seed + self._rounds)
                model = SingleTaskGP(x, y, outcome_transform=Standardize(m=1))
                maxiter = self.fit_maxiter
                if self._hyper is not None:  # warm start from the last round's fit
                    model.load_state_dict(self._hyper, strict=False)
                    maxiter = self.warm_fit_maxiter
                self._hyper = None  # until this fit succeeds
                mll = ExactMarginalLogLikelihood(model.likelihood, model)
                fit_gpytorch_mll(mll, optimizer_kwargs={"options": {"maxiter": maxiter}})
                self._hyper = {k: v.detach().clone() for k, v in model.state_dict().items()
                               if not k.startswith("outcome_transform")}  # fmt: skip
                kernel = getattr(model.covar_module, "base_kernel", model.covar_module)
                lengthscales = kernel.lengthscale
                bounds = self._trust_region(lengthscales)
                # The scores are standardised already (Standardize then changes nothing), so
                # the posterior is on the standardised scale and so is best_f.
                acqf = qLogExpectedImprovement(model, best_f=y.max())
                candidates, _ = optimize_acqf(acqf, bounds=bounds, q=n,
                                              num_restarts=self.num_restarts,
                                              raw_samples=self.raw_samples,
                                              options=dict(self.acqf_options))  # fmt: skip
            if not torch.isfinite(candidates).all():
                raise ValueError("non-finite candidates")
        except _NUMERICAL_ERRORS as error:
            log.debug("bo: round %d: %s: %s; drawing uniformly from the trust region",
                      self._rounds, type(error).__name__, error)  # fmt: skip
            bounds = self._trust_region(lengthscales)
            u = torch.rand(n, self.dim, generator=self._generator, dtype=torch.float64)
            candidates = bounds[0] + (bounds[1] - bounds[0]) * u
        return self._unnormalise(candidates.detach().reshape(n, self.dim))
