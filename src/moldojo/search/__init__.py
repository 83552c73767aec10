"""Searching a trained model's latent space: interpolation between molecules and the
neighbourhood of one (:mod:`moldojo.search.latent`).

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

__all__ = [
    "FINGERPRINT_BITS",
    "FINGERPRINT_RADIUS",
    "Interpolation",
    "Neighbourhood",
    "PathKind",
    "encode_one",
    "interpolate",
    "lerp",
    "neighbours",
    "slerp",
    "tanimoto",
]
