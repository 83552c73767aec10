"""Searching a trained model's latent space: interpolation between molecules and the
neighbourhood of one (:mod:`moldojo.search.latent`), and property optimisation with Bayesian
optimisation, CMA-ES, a genetic algorithm or random search (:mod:`moldojo.search.optimize`,
objectives in :mod:`moldojo.search.objectives`, methods in :mod:`moldojo.search.methods` and
:mod:`moldojo.search.bayesopt`).

Everything here uses only the generator interface, so it works for every model kind. Sits
beside :mod:`moldojo.evaluation`, above :mod:`moldojo.training`; never imports ``cli``.
"""

from __future__ import annotations

from moldojo.search.latent import (
    FINGERPRINT_BITS,
    FINGERPRINT_RADIUS,
    Interpolation,
    Neighbourhood,
    PathKind,
    encode_one,
    interpolate,
    lerp,
    neighbours,
    slerp,
    tanimoto,
)
from moldojo.search.objectives import Objective, ObjectiveError, make_objective
from moldojo.search.optimize import OptimizationResult, Proposal, optimize, optimize_each

__all__ = [
    "FINGERPRINT_BITS",
    "FINGERPRINT_RADIUS",
    "Interpolation",
    "Neighbourhood",
    "Objective",
    "ObjectiveError",
    "OptimizationResult",
    "PathKind",
    "Proposal",
    "encode_one",
    "interpolate",
    "lerp",
    "make_objective",
    "neighbours",
    "optimize",
    "optimize_each",
    "slerp",
    "tanimoto",
]
