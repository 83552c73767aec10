"""The exceptions moldojo raises on purpose.

Every error a user can cause (a bad file, a bad option, a foreign checkpoint) is a
:class:`MoldojoError`, whose message says what went wrong, where, and how to fix it. The CLI
prints it as one line; anything else reaching the top is a bug. Input text quoted in a message
goes through :func:`quote_input` (escaped, cut). Imports nothing from moldojo.
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DatasetError",
    "InvalidMoleculeError",
    "InvalidSmilesError",
    "MoldojoError",
    "ScaffoldError",
    "VocabularyError",
    "clip_input",
    "printable",
    "quote_input",
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


class ScaffoldError(MoldojoError, ValueError):
    """A scaffold cannot constrain decoding: the model kind cannot start from one, or the
    scaffold has a motif the model's vocabulary lacks."""


# -- input text in messages ------------------------------------------------------------------------

#: Characters of an input text shown in a message; the rest is cut, its length said.
SHOWN_CHARS = 80


def quote_input(text: str, limit: int = SHOWN_CHARS) -> str:
    """How a piece of input (a SMILES, a line of a file) appears in a message: quoted as by
    ``repr``, so that control characters are escaped (``'\\x1b]0;x\\x07'``, ``'\\x00'``) and
    cannot retitle a terminal or break a line, and cut after ``limit`` characters:
    ``'CCCCCCCC'...``."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}..."


def printable(text: str) -> str:
    """``text`` with every non-printable character (controls, NUL, bidi overrides) escaped as
    ``repr`` writes it; printable text, letters of any script included, is unchanged. The last
    guard on a message that may hold input text."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def clip_input(text: str, limit: int = 1000) -> str:
    """Input text as a report keeps it: whole up to ``limit`` characters, else its start and
    ``...`` (a 10 MB line must not be copied into every report and JSON file)."""
    return text if len(text) <= limit else text[:limit] + "..."
