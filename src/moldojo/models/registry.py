"""The model kinds moldojo knows, by name: the one place that lists the model families.

Each family is a package under :mod:`moldojo.models` that defines ``KIND``, a :class:`ModelKind`
(its generator class, its hyperparameters and how to build its training task).
:func:`moldojo.load`, ``moldojo train`` and the CLI look a kind up here instead of branching on
its name. Adding a family is writing its package and adding one line to :data:`FAMILIES`.

Families are imported on first use, so that listing the kinds (``moldojo train --help``) does not
import every network.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moldojo.errors import ConfigError

if TYPE_CHECKING:
    from moldojo.models.generator import Generator
    from moldojo.models.task import TrainingInputs

__all__ = ["FAMILIES", "ModelKind", "kinds", "model_kind"]

#: Model kind -> the package that defines it (its ``KIND``). The first is the default of
#: ``moldojo train``.
FAMILIES: dict[str, str] = {
    "two-step": "moldojo.models.two_step",
    "hier": "moldojo.models.hier",
    "atom": "moldojo.models.atom",
}


@dataclass(frozen=True)
class ModelKind:
    """What moldojo needs to know about one model family.

    Attributes:
        name: the kind, as in checkpoints and ``moldojo train --model``.
        generator: its :class:`~moldojo.models.generator.Generator` subclass (which names its
            hyperparameter class and run-config section).
        training_task: builds the training task (:class:`~moldojo.training.loop.Task`) from
            the run's inputs.
        description: one line for ``--help``.
        streams: its training task can take unparsed SMILES and build its records batch by
            batch (``TrainingInputs.stream``), for data sets too large to prepare up front.
    """

    name: str
    generator: type[Generator]
    training_task: Callable[[TrainingInputs], Any]
    description: str
    streams: bool = False

    @property
    def section(self) -> str:
        """The run configuration's section holding the kind's hyperparameters."""
        return self.generator.section

    @property
    def config_class(self) -> type:
        return self.generator.config_class


def kinds() -> tuple[str, ...]:
    """The names of every model kind, the default first."""
    return tuple(FAMILIES)


def model_kind(name: str) -> ModelKind:
    """The :class:`ModelKind` called ``name``.

    Raises:
        ConfigError: no such kind.
    """
    if name not in FAMILIES:
        raise ConfigError(f"model={name!r} is not one of {list(FAMILIES)}")
    kind = importlib.import_module(FAMILIES[name]).KIND
    if kind.name != name:
        raise RuntimeError(f"{FAMILIES[name]}.KIND is named {kind.name!r}, registered as {name!r}")
    return kind
