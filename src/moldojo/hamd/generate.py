"""Random graphs for HAMD in three regimes: ``critical``, ``hard`` and ``planted``.

- ``critical``: Erdős–Rényi G(n, p) at the Hamiltonicity threshold,
  ``p = (ln n + ln ln n + 2c) / (n - 1)``. As n grows the probability of a Hamiltonian cycle
  tends to ``exp(-exp(-2c))`` (Komlós–Szemerédi), one half at ``c = -ln(ln 2) / 2 ≈ 0.18``; at
  the sizes used here it is lower, so ``c`` was measured per n (:data:`CRITICAL_C`) to make
  about half of the graphs Hamiltonian, and interpolated in ``ln n`` between (clamped at the
  ends).
- ``hard``: the same kind of graph conditioned, by rejection, so that no cheap certificate of
  :mod:`moldojo.hamd.solve` decides it (minimum degree 2, 2-connected, no bipartite imbalance),
  with the classes balanced by exact labels: ``count // 2`` non-Hamiltonian graphs and the rest
  Hamiltonian, shuffled together. Near the threshold Hamiltonicity is almost the same event as
  minimum degree 2, so once that is conditioned on, non-Hamiltonian graphs are rare; they are
  drawn at the lower density of :data:`HARD_C`, where they are less rare, and the Hamiltonian
  ones from the same candidates.
- ``planted``: a Hamiltonian cycle on a random order of the vertices, plus the edges of a
  G(n, p) at the critical density: positives known without a solver.

Every stream of graphs is a function of ``(seed, regime, n)`` alone: the same seed gives the same
graphs of n vertices, in the same order, whatever other sizes are asked for, and byte-identical
graph6 files. The ``hard`` regime labels its candidates without a time limit, since a candidate
left undecided by a clock would make the output depend on the machine's speed.

Imports numpy, :mod:`moldojo.hamd.graphs`, :mod:`moldojo.hamd.solve` and the foundations; never
``cli``.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Callable

import numpy as np

from moldojo.errors import ConfigError, MoldojoError
from moldojo.hamd.graphs import Graph
from moldojo.hamd.solve import certificate, solve
from moldojo.parallel import imap_chunks
from moldojo.progress import progress_bar

__all__ = [
    "CRITICAL_C",
    "HARD_C",
    "MAX_NODES",
    "MIN_NODES",
    "REGIMES",
    "critical_c",
    "critical_p",
    "generate",
    "gnp",
    "hard_c",
    "planted",
]

#: Smallest and largest n the generator takes. Below 5 vertices every graph that passes the
#: certificates is Hamiltonian (no ``hard`` negatives exist); above 2,000 the dense sampling of
#: the n(n-1)/2 vertex pairs takes gigabytes, and no exact label is in reach anyway.
MIN_NODES, MAX_NODES = 5, 2_000

#: ``c`` of the critical density: where a logistic fit of the Hamiltonian share against ``c``
#: crosses one half, from 4,800 exactly labelled graphs per n (1,000 at each of c = 0.2, 0.3,
#: 0.4, 0.5 and 200 at each of 0.2, 0.4, 0.6, 0.8), give or take 0.02. The share rises by about
#: 0.06 per 0.1 of c here; the asymptotic 0.18 gives about 0.4 at these sizes.
CRITICAL_C: dict[int, float] = {25: 0.31, 50: 0.33, 100: 0.38, 200: 0.37}

#: ``c`` of the ``hard`` regime's candidates: the one of -1, -0.75, -0.5, -0.25 that gave the
#: most non-Hamiltonian candidates per second (the scarce class) in 12 s of sampling and
#: labelling each. Below it too few graphs reach minimum degree 2; above it too few of those
#: that do are non-Hamiltonian. The non-Hamiltonian share of the candidates there: 30% at
#: n = 25, 13% at 50, 11% at 100, 6% at 200 (against 2%, 0.4%, under 0.3% at the critical c).
HARD_C: dict[int, float] = {25: -0.5, 50: -0.5, 100: -0.75, 200: -0.75}

# Candidates drawn per graph asked for before the hard regime gives up.
_HARD_MAX_DRAWS_PER_GRAPH = 5_000
# Candidates labelled at once: enough to keep every worker busy, few enough to stop soon after
# the quotas are full.
_HARD_BATCH = 64


def _interpolate(table: dict[int, float], n: int) -> float:
    """``table`` at ``n``, linear in ``ln n`` between its sizes, constant beyond them."""
    sizes = sorted(table)
    if n <= sizes[0]:
        return table[sizes[0]]
    if n >= sizes[-1]:
        return table[sizes[-1]]
    right = bisect.bisect_left(sizes, n)
    a, b = sizes[right - 1], sizes[right]
    t = (math.log(n) - math.log(a)) / (math.log(b) - math.log(a))
    return (1 - t) * table[a] + t * table[b]


def critical_c(n: int) -> float:
    """The ``c`` that makes about half of G(n, p) Hamiltonian (:data:`CRITICAL_C`)."""
    return _interpolate(CRITICAL_C, n)


def hard_c(n: int) -> float:
    """The ``c`` of the ``hard`` regime's candidates (:data:`HARD_C`)."""
    return _interpolate(HARD_C, n)


def critical_p(n: int, c: float | None = None) -> float:
    """The edge probability ``(ln n + ln ln n + 2c) / (n - 1)``, clipped to [0, 1].

    Args:
        n: the number of vertices (at least 3, so that ``ln ln n`` is defined).
        c: the offset; ``None`` takes :func:`critical_c`.
    """
    if n < 3:
        raise ValueError(f"the critical density needs n >= 3, got {n}")
    c = critical_c(n) if c is None else c
    return min(1.0, max(0.0, (math.log(n) + math.log(math.log(n)) + 2 * c) / (n - 1)))


def gnp(n: int, p: float, rng: np.random.Generator) -> Graph:
    """An Erdős–Rényi graph G(n, p): each of the n(n-1)/2 pairs an edge with probability p.

    One uniform draw per pair, in the order of ``np.triu_indices(n, 1)``, so the graph is a
    function of the generator's state.
    """
    return Graph.from_matrix(_gnp_matrix(n, p, rng))


def _gnp_matrix(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """The adjacency matrix ``[n, n]`` (bool) of :func:`gnp`'s graph, same draws."""
    rows, cols = _pairs(n)
    chosen = rng.random(rows.size) < p  # (n(n-1)/2,)
    matrix = np.zeros((n, n), dtype=bool)
    matrix[rows[chosen], cols[chosen]] = True
    return matrix | matrix.T


@functools.lru_cache(maxsize=16)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.triu_indices(n, 1)``, kept: the hard regime draws thousands of graphs of one n."""
    rows, cols = np.triu_indices(n, 1)
    rows.flags.writeable = cols.flags.writeable = False
    return rows, cols


def planted(n: int, rng: np.random.Generator, p: float | None = None) -> Graph:
    """A Hamiltonian cycle through a random order of the vertices, plus G(n, p) edges.

    Args:
        n: vertices (at least 3).
        rng: the generator.
        p: the density of the added edges; ``None``: :func:`critical_p`.
    """
    p = critical_p(n) if p is None else p
    order = rng.permutation(n)  # (n,) the planted cycle
    matrix = gnp(n, p, rng).matrix()
    matrix[order, np.roll(order, -1)] = True
    matrix[np.roll(order, -1), order] = True
    return Graph.from_matrix(matrix)


# -- the regimes --------------------------------------------------------------------------------


def _critical(n: int, count: int, rng: np.random.Generator, **_: object) -> list[Graph]:
    p = critical_p(n)
    return [gnp(n, p, rng) for _ in range(count)]


def _planted(n: int, count: int, rng: np.random.Generator, **_: object) -> list[Graph]:
    p = critical_p(n)
    return [planted(n, rng, p) for _ in range(count)]


def _hard(
    n: int,
    count: int,
    rng: np.random.Generator,
    *,
    jobs: int = 1,
    progress: bool | None = False,
) -> list[Graph]:
    """Rejection sampling: G(n, p) at :func:`hard_c` until no certificate decides a candidate,
    labelled exactly (over ``jobs`` processes, in batches), until ``count // 2`` are not
    Hamiltonian and ``count - count // 2`` are; then the two shuffled together."""
    p = critical_p(n, hard_c(n))
    # The shuffle's own stream, drawn first: the candidates drawn in all depend on the batch
    # size, hence on ``jobs``, and the output must not.
    shuffle = np.random.default_rng(rng.integers(2**63))
    wanted = {False: count // 2, True: count - count // 2}
    kept: dict[bool, list[Graph]] = {False: [], True: []}
    draws = 0
    with progress_bar(count, f"hard graphs of {n} nodes", progress, unit="graph") as bar:
        while any(len(kept[k]) < wanted[k] for k in kept):
            if draws >= _HARD_MAX_DRAWS_PER_GRAPH * count:
                raise MoldojoError(
                    f"hard regime: after {draws:,} candidates of {n} nodes only "
                    f"{len(kept[False])} of {wanted[False]} non-Hamiltonian and "
                    f"{len(kept[True])} of {wanted[True]} Hamiltonian graphs; "
                    "try another n (non-Hamiltonian hard graphs are rare at small n)"
                )
            batch = []
            while len(batch) < _HARD_BATCH * max(jobs, 1):
                matrix = _gnp_matrix(n, p, rng)
                draws += 1
                # Most candidates fail on degree: tell it from the matrix, before the Graph.
                if matrix.sum(axis=1).min() < 2:
                    continue
                graph = Graph.from_matrix(matrix)
                if certificate(graph) is None:
                    batch.append(graph)
            labels = imap_chunks(_label_chunk, batch, jobs=jobs, chunk_size=_HARD_BATCH)
            hamiltonian = [flag for part in labels for flag in part]
            for graph, flag in zip(batch, hamiltonian, strict=True):
                if len(kept[flag]) < wanted[flag]:
                    kept[flag].append(graph)
                    bar.update(1)
    graphs = kept[True] + kept[False]
    return [graphs[i] for i in shuffle.permutation(len(graphs))]


def _label_chunk(graphs: list[Graph]) -> list[bool]:
    """Exact labels of a chunk of candidates (module level, so that it pickles)."""
    out = []
    for graph in graphs:
        label = solve(graph)
        if label.hamiltonian is None:  # without a time limit every graph is decided
            raise RuntimeError(f"solve gave no answer without a time limit: {label}")
        out.append(label.hamiltonian)
    return out


_Sampler = Callable[..., list[Graph]]

#: The regimes, by name: ``sampler(n, count, rng, jobs=..., progress=...) -> graphs``.
REGIMES: dict[str, _Sampler] = {"critical": _critical, "hard": _hard, "planted": _planted}
_REGIME_KEYS = {"critical": 0, "hard": 1, "planted": 2}  # part of the seed: fixed forever


def generate(
    regime: str,
    n: int,
    count: int,
    *,
    seed: int = 0,
    jobs: int = 1,
    progress: bool | None = False,
) -> list[Graph]:
    """``count`` random graphs of ``n`` vertices in ``regime``.

    Args:
        regime: a name of :data:`REGIMES`.
        n: vertices, :data:`MIN_NODES` to :data:`MAX_NODES`.
        count: how many graphs (at least 1).
        seed: the seed; the graphs are a function of ``(seed, regime, n)`` alone.
        jobs: worker processes for the ``hard`` regime's labels (the others are sampled here).
        progress: a progress bar on stderr for the ``hard`` regime (``None``: when a TTY).

    Returns:
        The graphs, ``count`` of them.

    Raises:
        ConfigError: an unknown regime, or ``n`` or ``count`` out of range.
        MoldojoError: the ``hard`` regime found too few graphs of one class.
    """
    if regime not in REGIMES:
        raise ConfigError(f"unknown regime {regime!r}; regimes: {', '.join(REGIMES)}")
    if not MIN_NODES <= n <= MAX_NODES:
        raise ConfigError(f"n={n} is out of range: graphs of {MIN_NODES} to {MAX_NODES} nodes")
    if count < 1:
        raise ConfigError(f"count={count} must be at least 1")
    # One independent stream per (seed, regime, n): NumPy's SeedSequence mixes the three.
    rng = np.random.default_rng([seed, _REGIME_KEYS[regime], n])
    return REGIMES[regime](n, count, rng, jobs=jobs, progress=progress)
