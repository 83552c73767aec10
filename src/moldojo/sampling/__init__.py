"""Trained models as molecule generators: ``load``, then ``encode``, ``decode``, ``sample``.

The chemistry around a model: SMILES become graph batches on the way in, decoded graphs become
canonical SMILES (or counted ``None``) on the way out. Sits above :mod:`moldojo.models` and
:mod:`moldojo.data`; the training loop uses it to validate, the CLI and notebooks to generate.
"""

from __future__ import annotations

from moldojo.sampling.hier import HierGenerator, build_hier
from moldojo.sampling.load import DEFAULT_MODEL, PRETRAINED, load, resolve_checkpoint
from moldojo.sampling.two_step import DECODE_MODES, TwoStepGenerator, build_two_step

__all__ = [
    "DECODE_MODES",
    "DEFAULT_MODEL",
    "PRETRAINED",
    "HierGenerator",
    "TwoStepGenerator",
    "build_hier",
    "build_two_step",
    "load",
    "resolve_checkpoint",
]
