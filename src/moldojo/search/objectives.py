"""What a search maximises: objectives on molecules, from a spec string or any Python callable.

An objective maps a list of SMILES to a list of scores, higher is better, NaN where a molecule
cannot be scored. Specs (``moldojo optimize --objective SPEC``, one or several):

* ``qed``: quantitative estimate of drug-likeness (Bickerton et al. 2012), 0 to 0.948 in practice;
* ``logp``: Crippen logP;
* ``sa``: *minus* the synthetic accessibility score (Ertl & Schuffenhauer 2009), so that higher
  is easier to make, like every other objective here (-1 best, -10 worst);
* ``plogp``: penalised logP with JT-VAE's normalisation (each of logP, -SA and the long-ring
  penalty standardised with ZINC-250k statistics, then summed:
  :func:`~moldojo.chem.properties.penalized_logp_normalized`), the scale of its published
  optimisation results;
* ``similarity:SMILES``: Tanimoto similarity to SMILES on Morgan fingerprints of radius 2, 2,048
  bits (rediscovery);
* ``python:MODULE:FUNCTION``: any callable ``list[str] -> list[float]`` in an importable module
  (or a ``.py`` file given by its path, or a module in the current directory);
* ``WEIGHT*SPEC``: a weighted term (``0.5*qed``, ``-1*logp``); several specs are summed.

Imports RDKit, :mod:`moldojo.chem` and :mod:`moldojo.search.latent`.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from numbers import Real
from pathlib import Path

from rdkit import Chem
from rdkit.Chem import QED, Crippen

from moldojo.chem.properties import penalized_logp_normalized, sa_score
from moldojo.chem.smiles import quiet_rdkit
from moldojo.errors import MoldojoError, quote_input
from moldojo.search.latent import similarities_to

__all__ = ["BUILTIN_OBJECTIVES", "Objective", "ObjectiveError", "make_objective"]

_WEIGHTED = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*\*\s*(.+)$")


class ObjectiveError(MoldojoError, ValueError):
    """An objective spec is unknown or malformed, or a user's objective misbehaved."""


def _per_molecule(score: Callable[[Chem.Mol], float], smiles: Sequence[str]) -> list[float]:
    out = []
    with quiet_rdkit():
        for s in smiles:
            mol = Chem.MolFromSmiles(s) if s else None
            out.append(math.nan if mol is None else float(score(mol)))
    return out


def _neg_sa(mol: Chem.Mol) -> float:
    return -sa_score(mol)


#: The objectives named by a word, each per molecule.
BUILTIN_OBJECTIVES: dict[str, Callable[[Chem.Mol], float]] = {
    "qed": QED.qed,
    "logp": Crippen.MolLogP,
    "sa": _neg_sa,
    "plogp": penalized_logp_normalized,
}


@dataclass(frozen=True)
class Objective:
    """A score to maximise over molecules.

    Attributes:
        name: the spec it came from (``"qed"``, ``"0.5*qed + 1*sa"``), for reports.
        terms: ``(weight, name, function)`` of each summed term; each function maps a list of
            SMILES to as many scores.
    """

    name: str
    terms: tuple[tuple[float, str, Callable[[list[str]], Sequence[float]]], ...]

    def __call__(self, smiles: Sequence[str]) -> list[float]:
        """Scores of ``smiles`` (all valid SMILES), NaN where a term cannot score a molecule.

        Raises:
            ObjectiveError: a term raised, or returned the wrong number of values or a value
                that is not a real number (one line: which term and what).
        """
        smiles = list(smiles)
        total = [0.0] * len(smiles)
        for weight, name, function in self.terms:
            try:
                values = function(list(smiles))
            except MoldojoError:
                raise
            except Exception as error:  # a user's function: any failure is theirs to read
                raise ObjectiveError(f"the objective {name} raised {type(error).__name__}: "
                                     f"{error}") from error  # fmt: skip
            values = _checked(values, len(smiles), name)
            total = [t + weight * v for t, v in zip(total, values, strict=True)]
        return total


def _checked(values: object, n: int, name: str) -> list[float]:
    try:
        values = list(values)  # type: ignore[call-overload]
    except TypeError:
        raise ObjectiveError(f"the objective {name} returned {type(values).__name__}, not a "
                             "list of numbers") from None  # fmt: skip
    if len(values) != n:
        raise ObjectiveError(f"the objective {name} returned {len(values)} values for {n} "
                             "molecules")  # fmt: skip
    out = []
    for v in values:
        if v is None:
            out.append(math.nan)
        elif isinstance(v, Real) and not isinstance(v, bool):
            out.append(float(v))
        else:
            raise ObjectiveError(f"the objective {name} returned {quote_input(repr(v))}, not "
                                 "a number")  # fmt: skip
    return out


def make_objective(specs: str | Sequence[str] | Callable[[list[str]], Sequence[float]]
                   ) -> Objective:  # fmt: skip
    """The objective of one spec, several (summed), or a Python callable.

    Raises:
        ObjectiveError: an unknown or malformed spec, an unparsable similarity target, or a
            ``python:`` target that cannot be imported or is not callable.
    """
    if callable(specs):
        name = getattr(specs, "__name__", type(specs).__name__)
        return Objective(name, ((1.0, name, specs),))
    if isinstance(specs, str):
        specs = [specs]
    if not specs:
        raise ObjectiveError("give at least one objective")
    terms = tuple(_term(spec) for spec in specs)
    name = " + ".join(spec.strip() for spec in specs)
    return Objective(name, terms)


def _term(spec: str) -> tuple[float, str, Callable[[list[str]], Sequence[float]]]:
    weight = 1.0
    text = spec.strip()
    match = _WEIGHTED.match(text)
    if match:
        weight = float(match.group(1))
        text = match.group(2).strip()
        if not math.isfinite(weight):
            raise ObjectiveError(f"the weight of {quote_input(spec)} is not a finite number")
    key = text.lower()
    if key in BUILTIN_OBJECTIVES:
        return weight, key, partial(_per_molecule, BUILTIN_OBJECTIVES[key])
    if key.startswith("similarity:"):
        target = text.split(":", 1)[1].strip()
        with quiet_rdkit():
            mol = Chem.MolFromSmiles(target) if target else None
        if mol is None:
            raise ObjectiveError(f"the similarity target {quote_input(target)} is not a SMILES "
                                 "RDKit can parse")  # fmt: skip
        return weight, f"similarity:{target}", partial(similarities_to, target)
    if key.startswith("python:"):
        return weight, text, _python_target(text)
    known = ", ".join([*BUILTIN_OBJECTIVES, "similarity:SMILES", "python:MODULE:FUNCTION"])
    raise ObjectiveError(f"unknown objective {quote_input(spec)}; use one of {known}, each "
                         "optionally as WEIGHT*SPEC")  # fmt: skip


def _python_target(spec: str) -> Callable[[list[str]], Sequence[float]]:
    _, _, rest = spec.partition(":")
    module_name, sep, function_name = rest.rpartition(":")
    if not sep or not module_name or not function_name:
        raise ObjectiveError(f"{quote_input(spec)}: write python:MODULE:FUNCTION")
    try:
        module = _import(module_name)
    except MoldojoError:
        raise
    except Exception as error:  # importing a user's module runs their code
        raise ObjectiveError(f"{quote_input(spec)}: cannot import {quote_input(module_name)} "
                             f"({type(error).__name__}: {error})") from error  # fmt: skip
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ObjectiveError(f"{quote_input(spec)}: {quote_input(module_name)} has no callable "
                             f"{quote_input(function_name)}")  # fmt: skip
    return function


def _import(name: str) -> object:
    """A module by dotted name (the current directory searched too), or a ``.py`` file."""
    if name.endswith(".py"):
        path = Path(name)
        if not path.is_file():
            raise ObjectiveError(f"no Python file {quote_input(name)}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    added = "" not in sys.path and str(Path.cwd()) not in sys.path
    if added:
        sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(name)
    finally:
        if added:
            sys.path.remove(str(Path.cwd()))
