"""Finding Hamiltonian cycles by search: depth-first path extension, ordered by edge scores.

:func:`find_cycle` grows a path from the vertex of least degree, one vertex at a time, trying the
unvisited neighbours of the path's end in an order, and backtracks from dead ends. The order is
what differs between the searches compared in ``benchmarks/hamd.py``:

- ``"gnn"``: the HAMD network's edge scores, highest first (:meth:`HamdModel.predict`);
- ``"warnsdorff"``: fewest unvisited neighbours first (Warnsdorff's rule for knight's tours), the
  classic cheap heuristic;
- ``"gnn+warnsdorff"``: Warnsdorff's rule, its ties broken by the network's scores (where
  ``"warnsdorff"`` breaks them at random);
- ``"random"``: a random order, the same search with no scores at all.

Every search prunes the same way: a path is abandoned as soon as an unvisited vertex is left with
fewer than two neighbours it could still use (unvisited ones, the path's end or its start), or the
start with none. A search stops at the first cycle (checked before it is returned), when every
path was tried (then the graph has no Hamiltonian cycle), or at its time or step limit.

Imports numpy and :mod:`moldojo.hamd` (graphs, the certificates and the cycle check); the
network's scores come in as arrays, so this module needs no torch.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from moldojo.hamd.graphs import Graph, set_bits
from moldojo.hamd.solve import certificate, check_cycle
from moldojo.parallel import imap_chunks

__all__ = ["ORDERS", "Found", "find_cycle", "find_each"]

#: The candidate orders :func:`find_cycle` knows.
ORDERS = ("gnn", "gnn+warnsdorff", "warnsdorff", "random")
# Steps between two looks at the clock.
_CLOCK_EVERY = 512


@dataclass(frozen=True)
class Found:
    """What one search found.

    Attributes:
        n: the graph's number of vertices.
        cycle: a Hamiltonian cycle (checked), or None.
        outcome: ``"found"``; ``"none"`` when every path was tried, or a certificate proved
            there is no cycle (the graph is not Hamiltonian); ``"time_limit"`` or
            ``"step_limit"`` when the search stopped first.
        steps: path extensions tried.
        seconds: wall-clock time of the search.
    """

    n: int
    cycle: list[int] | None
    outcome: str
    steps: int
    seconds: float

    def to_json(self) -> dict[str, object]:
        return {"n": self.n, "found": self.cycle is not None, "cycle": self.cycle,
                "outcome": self.outcome, "steps": self.steps,
                "seconds": round(self.seconds, 6)}  # fmt: skip


def find_cycle(
    graph: Graph,
    order: str = "warnsdorff",
    *,
    scores: np.ndarray | None = None,
    time_limit: float | None = 1.0,
    max_steps: int | None = None,
    seed: int = 0,
) -> Found:
    """Search ``graph`` for a Hamiltonian cycle.

    Args:
        graph: the graph.
        order: how candidates are ordered, one of :data:`ORDERS`.
        scores: for the orders that start with ``"gnn"``, one score per edge ``[M]`` in
            :meth:`Graph.edges` order (higher first).
        time_limit: seconds (None: no limit).
        max_steps: path extensions (None: no limit).
        seed: breaks ties (and orders everything for ``"random"``).

    Raises:
        ValueError: an unknown order, or a ``"gnn"`` order without one score per edge.
    """
    if order not in ORDERS:
        raise ValueError(f"order {order!r} is not one of {ORDERS}")
    start_time = time.perf_counter()
    if certificate(graph) is not None:
        return Found(graph.n, None, "none", 0, time.perf_counter() - start_time)
    n, adjacency = graph.n, graph.adjacency
    rng = random.Random(seed)
    tie = list(range(n))
    rng.shuffle(tie)  # tie[v]: v's place in a random order
    weight = _edge_weights(graph, order, scores, tie)

    first = min(range(n), key=lambda v: (adjacency[v].bit_count(), tie[v]))
    path = [first]
    free = ((1 << n) - 1) & ~(1 << first)  # unvisited vertices
    # candidates[d]: what is left to try after path[d], best last (popped from the end).
    candidates = [_ordered(first, free, adjacency, order, weight, tie)]
    steps = 0
    while candidates:
        if not candidates[-1]:  # dead end: step back
            candidates.pop()
            last = path.pop()
            if path:
                free |= 1 << last
            continue
        u = candidates[-1].pop()
        steps += 1
        if max_steps is not None and steps > max_steps:
            return Found(n, None, "step_limit", steps - 1, time.perf_counter() - start_time)
        if (
            time_limit is not None
            and steps % _CLOCK_EVERY == 0
            and time.perf_counter() - start_time > time_limit
        ):
            return Found(n, None, "time_limit", steps, time.perf_counter() - start_time)
        end = path[-1]
        rest = free & ~(1 << u)
        if not rest:  # every vertex on the path: a cycle if u closes it
            if adjacency[u] >> first & 1:
                cycle = path + [u]
                check_cycle(graph, cycle, solver=f"{order} search")
                return Found(n, cycle, "found", steps, time.perf_counter() - start_time)
            continue
        if not _viable(end, u, first, rest, adjacency):
            continue
        path.append(u)
        free = rest
        candidates.append(_ordered(u, free, adjacency, order, weight, tie))
    return Found(n, None, "none", steps, time.perf_counter() - start_time)


def _edge_weights(
    graph: Graph, order: str, scores: np.ndarray | None, tie: list[int]
) -> list[dict[int, float]] | None:
    """For the ``"gnn"`` orders: ``weight[v][u]``, the score of edge ``v-u``."""
    if not order.startswith("gnn"):
        return None
    edges = graph.edges()
    if scores is None or len(scores) != len(edges):
        given = "none" if scores is None else len(scores)
        raise ValueError(f"order {order!r} needs one score per edge ({len(edges)}), got {given}")
    weight: list[dict[int, float]] = [{} for _ in range(graph.n)]
    for (u, v), s in zip(edges, np.asarray(scores, dtype=np.float64).tolist(), strict=True):
        weight[u][v] = weight[v][u] = s
    return weight


def _ordered(
    v: int,
    free: int,
    adjacency: tuple[int, ...],
    order: str,
    weight: list[dict[int, float]] | None,
    tie: list[int],
) -> list[int]:
    """The unvisited neighbours of ``v``, the one to try first last."""
    options = set_bits(adjacency[v] & free)
    if order == "gnn":
        assert weight is not None
        options.sort(key=lambda u: (weight[v][u], -tie[u]))  # best score last
    elif order == "gnn+warnsdorff":
        assert weight is not None
        options.sort(key=lambda u: (-(adjacency[u] & free).bit_count(), weight[v][u], -tie[u]))
    elif order == "warnsdorff":
        options.sort(key=lambda u: (-(adjacency[u] & free).bit_count(), -tie[u]))
    else:
        options.sort(key=lambda u: -tie[u])
    return options


def _viable(end: int, u: int, first: int, rest: int, adjacency: tuple[int, ...]) -> bool:
    """Whether the path may go on from ``end`` to ``u``, leaving ``rest`` unvisited.

    ``end`` becomes interior, so only its unvisited neighbours (and the start) lose an option:
    each must keep two among the unvisited, the new end ``u`` and the start, and the start one
    among the unvisited and ``u``.
    """
    usable = rest | 1 << u | 1 << first
    touched = adjacency[end] & rest
    while touched:
        low = touched & -touched
        w = low.bit_length() - 1
        if (adjacency[w] & usable).bit_count() < 2:
            return False
        touched ^= low
    return bool(adjacency[first] & (rest | 1 << u))


def find_each(
    graphs: Sequence[Graph],
    order: str = "warnsdorff",
    *,
    scores: Sequence[np.ndarray] | None = None,
    time_limit: float | None = 1.0,
    max_steps: int | None = None,
    seed: int = 0,
    jobs: int = 1,
) -> Iterator[Found]:
    """:func:`find_cycle` on each graph, in order, over ``jobs`` processes.

    Args:
        graphs: the graphs.
        order: see :func:`find_cycle`.
        scores: for the ``"gnn"`` orders, each graph's edge scores.
        time_limit, max_steps, seed: per graph, see :func:`find_cycle`.
        jobs: worker processes; ``<= 1`` searches in this process.
    """
    if order.startswith("gnn") and (scores is None or len(scores) != len(graphs)):
        raise ValueError(f"order {order!r} needs edge scores for every graph")
    work = partial(_find_chunk, order=order, time_limit=time_limit, max_steps=max_steps, seed=seed)
    items = [(g, None if scores is None else scores[i]) for i, g in enumerate(graphs)]
    for found in imap_chunks(work, items, jobs=jobs, chunk_size=1):
        yield from found


def _find_chunk(
    items: list[tuple[Graph, np.ndarray | None]],
    *,
    order: str,
    time_limit: float | None,
    max_steps: int | None,
    seed: int,
) -> list[Found]:
    return [
        find_cycle(g, order, scores=s, time_limit=time_limit, max_steps=max_steps, seed=seed)
        for g, s in items
    ]
