"""The exceptions moldojo raises on purpose.

Every error a user can cause (a bad file, a bad option, a foreign checkpoint) is a
:class:`MoldojoError`, whose message says what went wrong, where, and how to fix it. The CLI
prints it as one line; anything else reaching the top is a bug. Imports nothing from moldojo.
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DatasetError",
    "InvalidMoleculeError",
    "InvalidSmilesError",
    "MoldojoError",
    "VocabularyError",
]


class MoldojoError(Exception):
    """Base class of the errors moldojo raises for bad input or bad use."""


class InvalidSmilesError(MoldojoError, ValueError):
    """A SMILES string could not be turned into a supported molecule.

    Attributes:
        reason: a short key saying why (``"unparsable"``, ``"too_large"``, ...), used to
            count rejections by cause.
        detail: the specific cause, when there is one (the element symbol, the size).
    """

    def __init__(self, message: str, reason: str = "unparsable", detail: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.detail = detail


class VocabularyError(MoldojoError):
    """A token, atom type or motif is missing from a vocabulary."""


class ConfigError(MoldojoError, ValueError):
    """A configuration file, override or value is invalid."""


class CheckpointError(MoldojoError):
    """A checkpoint file is missing, corrupt, foreign, or from an incompatible version."""


class DatasetError(MoldojoError):
    """A dataset name, split or file cannot be read."""


class InvalidMoleculeError(MoldojoError, ValueError):
    """A molecular graph does not describe a chemically valid molecule (RDKit rejects it)."""
