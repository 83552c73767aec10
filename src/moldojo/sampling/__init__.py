"""Trained models as molecule generators: ``load``, then ``encode``, ``decode``, ``sample``.

:func:`load` opens a run directory, a checkpoint or a shipped model and returns the generator of
its kind (:class:`~moldojo.models.generator.Generator`). Sits above :mod:`moldojo.models`; the
CLI and notebooks use it to generate.
"""

from __future__ import annotations

from moldojo.models.generator import Decoded, Encoded, Generator
from moldojo.sampling.load import DEFAULT_MODEL, PRETRAINED, load, resolve_checkpoint

__all__ = [
    "DEFAULT_MODEL",
    "PRETRAINED",
    "Decoded",
    "Encoded",
    "Generator",
    "load",
    "resolve_checkpoint",
]
