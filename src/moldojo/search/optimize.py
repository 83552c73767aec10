"""Property optimisation in a trained model's latent space: propose latent points, decode them,
score the molecules, learn, repeat, until the oracle budget is spent.

:func:`optimize` drives any :class:`~moldojo.search.methods.Method` (``bo``, ``cmaes``, ``ga``,
``random``) with any :class:`~moldojo.search.objectives.Objective`, for every model kind (it
uses only the generator interface). Decoding is greedy, so a latent point always gives the same
molecule; every random draw comes from the method's seed, so the same seed gives the same run.

**The budget** counts oracle calls as the literature does: one per decoded latent point, a
molecule that failed to decode, broke the similarity or scaffold constraint, or repeated an
earlier one included. A failed proposal scores NaN (:attr:`Proposal.status` says why).

**Constraints**: ``min_similarity`` with ``start``: a proposal less similar than that to every
start molecule (Tanimoto, Morgan radius 2, 2,048 bits) fails, as in JT-VAE's constrained
optimisation. ``scaffold``: every proposal is decoded from the scaffold (a model kind that cannot
raises :class:`~moldojo.errors.ScaffoldError` before the search starts).

Sits in the search layer: imports torch, RDKit, :mod:`moldojo.chem`, the model interface and
the rest of :mod:`moldojo.search`; never ``cli``.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from rdkit import Chem
from torch import Tensor

from moldojo.chem.scaffold import keeps_scaffold, parse_scaffold
from moldojo.errors import InvalidSmilesError, MoldojoError, quote_input
from moldojo.models.generator import Generator
from moldojo.progress import progress_bar
from moldojo.search.latent import encode_one, similarities_to
from moldojo.search.methods import CMAES, Genetic, Method, RandomSearch
from moldojo.search.objectives import Objective, make_objective

__all__ = [
    "METHODS",
    "MethodName",
    "OptimizationResult",
    "Proposal",
    "method_class",
    "optimize",
    "optimize_each",
    "running_best",
    "scaffold_molecule",
    "top_molecules",
]

MethodName = Literal["bo", "cmaes", "ga", "random"]


def _bayesopt() -> type[Method]:
    from moldojo.search.bayesopt import BayesOpt  # BoTorch takes seconds to import

    return BayesOpt


#: Method name -> a function returning its class (BoTorch is imported only when used).
METHODS: dict[str, Callable[[], type[Method]]] = {
    "bo": _bayesopt,
    "cmaes": lambda: CMAES,
    "ga": lambda: Genetic,
    "random": lambda: RandomSearch,
}

# Default search scale: the prior's (1) from the prior, a neighbourhood (0.5, the radius of
# ``moldojo neighbours``) around start molecules.
_SIGMA_PRIOR = 1.0
_SIGMA_START = 0.5


@dataclass(frozen=True)
class Proposal:
    """One oracle call.

    Attributes:
        call: its number, from 1.
        iteration: the round that proposed it, from 1.
        smiles: the decoded molecule (None where decoding failed).
        score: the objective (NaN when the proposal failed).
        similarity: its highest Tanimoto similarity to a start molecule (NaN without starts or
            molecule).
        status: ``"ok"``, or why it failed: ``"decode:<reason>"``, ``"below_similarity"``,
            ``"no_scaffold"``, ``"no_score"`` (the objective gave NaN).
    """

    call: int
    iteration: int
    smiles: str | None
    score: float
    similarity: float
    status: str


def running_best(scores: Iterable[float]) -> list[float]:
    """Per score, the best up to it, NaN (a failed call) ignored; NaN until the first success."""
    out, best = [], -math.inf
    for score in scores:
        if not math.isnan(score):
            best = max(best, score)
        out.append(best if best > -math.inf else math.nan)
    return out


def top_molecules(proposals: Iterable[Proposal], k: int) -> list[tuple[str, float]]:
    """The ``k`` best distinct molecules of successful calls with their scores, best first
    (ties: first found)."""
    best: dict[str, float] = {}
    for p in proposals:
        if p.status == "ok" and p.smiles not in best:
            best[p.smiles] = p.score
    return sorted(best.items(), key=lambda item: -item[1])[:k]


@dataclass(frozen=True)
class OptimizationResult:
    """A finished search.

    Attributes:
        method: ``bo``, ``cmaes``, ``ga`` or ``random``.
        objective: the objective's name (its spec).
        seed: the random seed.
        budget: oracle calls allowed (all spent, ``len(proposals) == budget``, unless
            :attr:`cancelled`).
        batch: proposals per round.
        start: the start molecules, as given (empty when searching from the prior).
        min_similarity: the similarity constraint, or None.
        scaffold: the scaffold SMILES, or None.
        proposals: every oracle call, in order.
        seconds: wall time of the search.
        start_scores: the objective of each start molecule (not counted in the budget).
        cancelled: the callback stopped the search before the budget was spent.
    """

    method: str
    objective: str
    seed: int
    budget: int
    batch: int
    start: tuple[str, ...]
    min_similarity: float | None
    scaffold: str | None
    proposals: tuple[Proposal, ...]
    seconds: float
    start_scores: tuple[float, ...] = field(default=())
    cancelled: bool = False

    @property
    def oracle_calls(self) -> int:
        return len(self.proposals)

    @property
    def valid_fraction(self) -> float:
        """Fraction of calls that decoded to a molecule."""
        valid = sum(p.smiles is not None for p in self.proposals)
        return valid / len(self.proposals) if self.proposals else math.nan

    @property
    def success_fraction(self) -> float:
        """Fraction of calls that were scored (decoded and met every constraint)."""
        ok = sum(p.status == "ok" for p in self.proposals)
        return ok / len(self.proposals) if self.proposals else math.nan

    def top(self, k: int) -> list[tuple[str, float]]:
        """The ``k`` best distinct molecules with their scores, best first (ties: first found)."""
        return top_molecules(self.proposals, k)

    @property
    def best_smiles(self) -> str | None:
        top = self.top(1)
        return top[0][0] if top else None

    @property
    def best_score(self) -> float:
        top = self.top(1)
        return top[0][1] if top else math.nan

    def best_so_far(self) -> list[float]:
        """Per call, the best score up to it (NaN until the first success)."""
        return running_best(p.score if p.status == "ok" else math.nan for p in self.proposals)

    def summary(self) -> dict[str, Any]:
        """What ``summary.json`` holds."""
        start_best = max((s for s in self.start_scores if not math.isnan(s)), default=math.nan)
        return {
            "method": self.method,
            "objective": self.objective,
            "best_score": self.best_score,
            "best_smiles": self.best_smiles,
            "top3": [[s, v] for s, v in self.top(3)],
            "oracle_calls": self.oracle_calls,
            "valid_fraction": self.valid_fraction,
            "success_fraction": self.success_fraction,
            "seconds": round(self.seconds, 3),
            "seed": self.seed,
            "budget": self.budget,
            "batch": self.batch,
            "start": list(self.start),
            "start_best_score": start_best,
            "improvement": self.best_score - start_best if self.start else None,
            "min_similarity": self.min_similarity,
            "scaffold": self.scaffold,
            "failures": self.failures(),
            "cancelled": self.cancelled,
        }

    def failures(self) -> dict[str, int]:
        """Failed calls by status."""
        out: dict[str, int] = {}
        for p in self.proposals:
            if p.status != "ok":
                out[p.status] = out.get(p.status, 0) + 1
        return out

    def to_csv(self) -> str:
        """``results.csv``: one row per call (``call, iteration, smiles, score, similarity,
        status``); a failed row has an empty score, and similarity is empty without starts."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["call", "iteration", "smiles", "score", "similarity", "status"])
        for p in self.proposals:
            writer.writerow([p.call, p.iteration, p.smiles or "", _number(p.score),
                             _number(p.similarity), p.status])  # fmt: skip
        return buffer.getvalue()


def _number(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6g}"


def method_class(name: str) -> type[Method]:
    """The class of the method called ``name``.

    Raises:
        MoldojoError: no method has that name.
    """
    if name not in METHODS:
        raise MoldojoError(f"unknown method {quote_input(str(name))}; use one of "
                           f"{', '.join(METHODS)}")  # fmt: skip
    return METHODS[name]()


def scaffold_molecule(model: Generator, smiles: str) -> Chem.Mol:
    """The scaffold as a molecule, checked before any work: a SMILES the model's graph settings
    accept, and one the model can decode from (one line if not).

    Raises:
        InvalidSmilesError: the scaffold is not a SMILES the model accepts.
        ScaffoldError: the model kind cannot decode from a scaffold, or not from this one.
    """
    try:
        mol = parse_scaffold(smiles, model.graph_config)
    except InvalidSmilesError as error:
        raise InvalidSmilesError(f"the scaffold {error}", reason=error.reason) from error
    model.decode(torch.zeros(0, model.latent_dim), scaffold=smiles)  # builds the plan, or refuses
    return mol


def optimize(
    model: Generator,
    objective: str | Sequence[str] | Objective | Callable[[list[str]], Sequence[float]],
    *,
    method: MethodName = "bo",
    budget: int = 100,
    batch: int = 10,
    start: str | Sequence[str] | None = None,
    min_similarity: float | None = None,
    scaffold: str | None = None,
    seed: int = 0,
    sigma: float | None = None,
    progress: bool | None = False,
    callback: Callable[[Sequence[Proposal]], bool | None] | None = None,
) -> OptimizationResult:
    """Search the latent space of ``model`` for molecules that maximise ``objective``.

    Args:
        model: any trained generator.
        objective: a spec (``"qed"``, ``"similarity:SMILES"``, ``"python:mod:fn"``, ...), several
            (summed), an :class:`~moldojo.search.objectives.Objective`, or a callable
            ``list[str] -> list[float]`` (see :mod:`moldojo.search.objectives`).
        method: ``"bo"`` (BoTorch, trust region), ``"cmaes"``, ``"ga"`` or ``"random"``.
        budget: oracle calls, at least 1 (module docstring).
        batch: proposals per round, at least 1 (the last round may be smaller).
        start: start molecule(s): the search begins at their latent points.
        min_similarity: with ``start``, the least Tanimoto similarity to a start molecule a
            proposal needs to count (0 to 1).
        scaffold: a SMILES every proposal must contain (decoded from it).
        seed: the random seed; the same seed gives the same result.
        sigma: the search scale (default 1, the prior's; 0.5 around start molecules).
        progress: a progress bar on stderr (None: when stderr is a terminal).
        callback: called after each round with every call so far; a true return value stops
            the search there (the result is then :attr:`~OptimizationResult.cancelled`).

    Returns:
        Every call and the best molecules (:class:`OptimizationResult`).

    Raises:
        ValueError: ``budget`` or ``batch`` below 1, ``min_similarity`` outside 0..1 or given
            without ``start``, ``sigma`` not positive.
        ObjectiveError: an unknown objective, or a user's objective that raised or returned
            the wrong number of values.
        InvalidSmilesError: a start molecule cannot be encoded, or the scaffold is not a SMILES.
        ScaffoldError: the model cannot decode from the scaffold.
        MoldojoError: an unknown method.
    """
    starts = [start] if isinstance(start, str) else list(start or [])
    return _run(model, objective, [starts], method=method, budget=budget, batch=batch,
                min_similarity=min_similarity, scaffold=scaffold, seed=seed, sigma=sigma,
                progress=progress, callback=callback)[0]  # fmt: skip


def optimize_each(
    model: Generator,
    objective: str | Sequence[str] | Objective | Callable[[list[str]], Sequence[float]],
    starts: Sequence[str],
    *,
    method: MethodName = "cmaes",
    budget: int = 50,
    batch: int = 10,
    min_similarity: float | None = None,
    scaffold: str | None = None,
    seed: int = 0,
    sigma: float | None = None,
    progress: bool | None = False,
) -> list[OptimizationResult]:
    """One independent search from each start molecule (the protocol of similarity-constrained
    optimisation: improve each molecule of a set), run side by side so that every round decodes
    the proposals of all searches in one batch.

    Each search is what :func:`optimize` with ``start=starts[k]`` and ``seed=seed + k`` returns
    (its :attr:`~OptimizationResult.seconds` is the shared wall time divided evenly). Arguments
    and errors as :func:`optimize`; ``budget`` is per search.
    """
    if isinstance(starts, str) or not starts:
        raise ValueError("starts must be a non-empty list of SMILES")
    return _run(model, objective, [[s] for s in starts], method=method, budget=budget,
                batch=batch, min_similarity=min_similarity, scaffold=scaffold, seed=seed,
                sigma=sigma, progress=progress)  # fmt: skip


def _run(model: Generator, objective: Any, start_sets: list[list[str]], *, method: str,
         budget: int, batch: int, min_similarity: float | None, scaffold: str | None, seed: int,
         sigma: float | None, progress: bool | None,
         callback: Callable[[Sequence[Proposal]], bool | None] | None = None
         ) -> list[OptimizationResult]:  # fmt: skip
    """Searches ``k = 0 ..`` from ``start_sets[k]`` with seed ``seed + k``, in lockstep; the
    ``callback`` sees the first search's calls after each round and stops all when true."""
    for name, value in (("budget", budget), ("batch", batch), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (name != "seed"):
            least = "0" if name == "seed" else "1"
            raise ValueError(f"{name} must be an integer of at least {least}, got {value!r}")
    has_starts = all(start_sets)
    if min_similarity is not None:
        if not has_starts:
            raise ValueError("min_similarity needs start molecules to be similar to")
        if not 0.0 <= min_similarity <= 1.0:
            raise ValueError(f"min_similarity must be within 0 and 1, got {min_similarity!r}")
    if sigma is None:
        sigma = _SIGMA_START if has_starts else _SIGMA_PRIOR
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    if not isinstance(objective, Objective):
        objective = make_objective(objective)
    search_class = method_class(method)  # an unknown method fails before any work
    scaffold_mol = None if scaffold is None else scaffold_molecule(model, scaffold)

    began = time.perf_counter()
    flat_starts = [s for starts in start_sets for s in starts]
    z_starts = iter(_encode_starts(model, flat_starts))
    searches = []
    for k, starts in enumerate(start_sets):
        z = torch.stack([next(z_starts) for _ in starts]) if starts else None
        searches.append(search_class(model.latent_dim, batch, seed + k, z, sigma))
    flat_scores = iter(objective(flat_starts) if flat_starts else [])
    start_scores = [tuple(next(flat_scores) for _ in starts) for starts in start_sets]

    proposals: list[list[Proposal]] = [[] for _ in start_sets]
    iteration = 0
    cancelled = False
    total = budget * len(start_sets)
    with progress_bar(total, f"optimize ({method})", progress, unit="call") as bar:
        while len(proposals[0]) < budget:
            iteration += 1
            n = min(batch, budget - len(proposals[0]))
            z = torch.cat([search.ask(n) for search in searches])
            decoded = model.decode(z.float(), scaffold=scaffold)
            owner = [k for k in range(len(searches)) for _ in range(n)]
            rows = _score(decoded, owner, objective, start_sets, min_similarity, scaffold_mol)
            for k, search in enumerate(searches):
                part = slice(k * n, (k + 1) * n)
                search.tell(z[part], torch.tensor([score for _, score, _ in rows[part]],
                                                  dtype=torch.float64))  # fmt: skip
                for smiles, (status, score, similarity) in zip(decoded[part], rows[part],
                                                               strict=True):  # fmt: skip
                    proposals[k].append(Proposal(len(proposals[k]) + 1, iteration, smiles,
                                                 score, similarity, status))  # fmt: skip
            bar.update(n * len(searches))
            if len(searches) == 1:
                best = max((p.score for p in proposals[0] if p.status == "ok"), default=math.nan)
                bar.set_postfix_str(f"best {best:.3f}")
            if callback is not None and callback(tuple(proposals[0])):
                cancelled = len(proposals[0]) < budget
                break
    seconds = (time.perf_counter() - began) / len(start_sets)
    return [
        OptimizationResult(
            method=method,
            objective=objective.name,
            seed=seed + k,
            budget=budget,
            batch=batch,
            start=tuple(starts),
            min_similarity=min_similarity,
            scaffold=scaffold,
            proposals=tuple(proposals[k]),
            seconds=seconds,
            start_scores=start_scores[k],
            cancelled=cancelled,
        )
        for k, starts in enumerate(start_sets)
    ]


def _encode_starts(model: Generator, smiles: list[str]) -> Tensor:
    """``[K, latent_dim]`` posterior means of the start molecules, in one pass.

    Raises:
        InvalidSmilesError: the first that cannot be encoded (one line, with the reason).
    """
    if not smiles:
        return torch.zeros(0, model.latent_dim)
    encoded = model.encode_with_reasons(smiles)
    for s, reason in zip(smiles, encoded.reasons, strict=True):
        if reason is not None:
            encode_one(model, s, "start molecule")  # raises with the model's one-line reason
    return encoded.z


def _similarities(decoded: Sequence[str | None], owner: list[int],
                  start_sets: list[list[str]]) -> list[float]:  # fmt: skip
    """Per decoded row, its highest similarity to a start molecule of the search that proposed
    it (NaN without starts or molecule); each start's fingerprint made once per round."""
    rows: dict[int, list[int]] = {}
    for i, k in enumerate(owner):
        rows.setdefault(k, []).append(i)
    out = [math.nan] * len(decoded)
    for k, members in rows.items():
        if not start_sets[k]:
            continue
        smiles = [decoded[i] for i in members]
        per_start = [similarities_to(t, smiles) for t in start_sets[k]]
        for j, i in enumerate(members):
            if smiles[j] is not None:
                out[i] = max(values[j] for values in per_start)
    return out


def _score(decoded: Any, owner: list[int], objective: Objective, start_sets: list[list[str]],
           min_similarity: float | None, scaffold: Any
           ) -> list[tuple[str, float, float]]:  # fmt: skip
    """``(status, score, similarity)`` of each decoded row (row ``i`` proposed by search
    ``owner[i]``); the objective is called once, on the molecules that met every constraint."""
    similarity = _similarities(decoded, owner, start_sets)
    kept = keeps_scaffold(decoded, scaffold) if scaffold is not None else [True] * len(decoded)
    status = []
    for s, reason, sim, keep in zip(decoded, decoded.reasons, similarity, kept, strict=True):
        if s is None:
            status.append(f"decode:{reason}")
        elif not keep:
            status.append("no_scaffold")
        elif min_similarity is not None and not sim >= min_similarity:
            status.append("below_similarity")
        else:
            status.append("ok")
    rows = [i for i, st in enumerate(status) if st == "ok"]
    values = objective([decoded[i] for i in rows]) if rows else []
    scores = [math.nan] * len(decoded)
    for i, v in zip(rows, values, strict=True):
        if math.isnan(v):
            status[i] = "no_score"
        scores[i] = v
    return [(st, sc, si) for st, sc, si in zip(status, scores, similarity, strict=True)]
