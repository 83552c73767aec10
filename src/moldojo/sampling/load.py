"""Open a run directory, a checkpoint file or the model shipped in the package, as the
generator of its model kind (looked up in :mod:`moldojo.models.registry`)."""

from __future__ import annotations

from pathlib import Path

import torch

from moldojo.checkpoint import load_checkpoint, run_checkpoint
from moldojo.errors import CheckpointError
from moldojo.models.generator import Generator
from moldojo.models.registry import FAMILIES, model_kind

__all__ = ["DEFAULT_MODEL", "PRETRAINED", "load", "resolve_checkpoint"]

_SHIPPED = Path(__file__).resolve().parents[1] / "pretrained"
#: The models shipped inside the package, by name: ``moldojo.load("two-step")``, or the name
#: in place of a run directory on the command line (a path of that name wins).
PRETRAINED = {"hier": _SHIPPED / "hier.pt", "two-step": _SHIPPED / "two_step.pt"}
#: The shipped model used when no run directory is given.
DEFAULT_MODEL = PRETRAINED["hier"]


def resolve_checkpoint(path: str | Path | None) -> Path:
    """The checkpoint file of ``path``: a ``.pt`` file as given; in a run directory its final
    ``model.pt``, else the latest ``checkpoints/last.pt``; a shipped model by its name in
    :data:`PRETRAINED` (when no such path exists); the default shipped model when None."""
    shipped = DEFAULT_MODEL if path is None else PRETRAINED.get(str(path))
    if shipped is not None and (path is None or not Path(path).exists()):
        if not shipped.exists():
            raise CheckpointError(
                f"no such model is shipped in this installation ({shipped} is missing); "
                "give a run directory trained with 'moldojo train'"
            )
        return shipped
    return run_checkpoint(path)


def load(path: str | Path | None = None, *, device: str | torch.device = "cpu") -> Generator:
    """A trained model as a generator with ``encode``, ``decode``, ``sample``, ``reconstruct``.

    Args:
        path: a run directory of ``moldojo train``, a checkpoint file, or None for the model
            shipped in the package.
        device: where the model runs.

    Raises:
        CheckpointError: nothing loadable at ``path``, or a model kind this version lacks.
    """
    file = resolve_checkpoint(path)
    checkpoint = load_checkpoint(file)
    if checkpoint.model_kind not in FAMILIES:
        raise CheckpointError(
            f"{file} holds a {checkpoint.model_kind!r} model; this moldojo loads "
            f"{sorted(FAMILIES)}"
        )
    kind = model_kind(checkpoint.model_kind)
    return kind.generator.from_checkpoint(checkpoint, device=device)
