"""Exact Hamiltonian cycle labels: cheap certificates first, then an exact solver.

:func:`solve` decides one graph. Cheap certificates that prove a graph *not* Hamiltonian come
first, each with the name that :attr:`Label.method` reports:

- ``too_small``: fewer than 3 vertices (a cycle needs 3);
- ``disconnected``: a cycle through every vertex connects them all;
- ``min_degree``: a vertex of degree below 2 cannot be entered and left;
- ``cut_vertex``: removing one vertex from a Hamiltonian cycle leaves a path through all the
  others, so a Hamiltonian graph is 2-connected;
- ``bipartite_imbalance``: a cycle alternates sides, so the two sides of a bipartite graph
  must be equal.

What they leave goes to an exact solver: ``dp``, a bitmask dynamic programme over vertex subsets
(Held-Karp), up to :data:`DP_MAX_NODES` vertices, and ``sat`` above: a SAT solver (Glucose 4,
through python-sat) on "each vertex has two cycle edges", with subtour cuts added lazily. That
was chosen over OR-Tools CP-SAT's circuit constraint, which needs no subtour cuts, by
measurement: it was 2 to 4 times faster on random graphs and 3 times on the hardest graph
tried (the ``moldojo.hamd`` package docstring has the figures). ``time_limit`` is what a graph
gets when the solver ran out of time (``hamiltonian`` is then ``None``). Every cycle is checked
by :func:`check_cycle` before a label carrying it is returned: a label is never wrong, only
possibly missing.

Imports numpy, scipy, python-sat (when a graph needs it), :mod:`moldojo.hamd.graphs` and the
process pool of :mod:`moldojo.parallel`; never ``cli``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from moldojo._json import strict_json
from moldojo.hamd.graphs import Graph
from moldojo.parallel import imap_chunks

__all__ = [
    "CERTIFICATES",
    "DP_MAX_NODES",
    "Label",
    "certificate",
    "certified",
    "check_cycle",
    "cycle_problem",
    "hamiltonian_cycle_dp",
    "hamiltonian_cycle_sat",
    "labels_json",
    "solve",
    "solve_each",
]

#: Largest graph the dynamic programme decides; the SAT solver takes the larger ones. Measured on
#: graphs that no certificate decides, per graph: 0.16 ms (DP) against 0.27 ms (SAT) at 6 nodes,
#: 0.35 against 0.46 at 8, 0.85 against 0.58 at 10, 13 against 1.2 at 20 (300 against 3 on
#: G(20, 1/2)): the DP's table of 2^(n-1) subsets soon costs more than the solver's search.
#: The DP still serves up to 20 nodes and more as the tests' independent check of the solver.
DP_MAX_NODES = 10

#: The cheap certificates of non-Hamiltonicity, in the order they are tried.
CERTIFICATES = ("too_small", "disconnected", "min_degree", "cut_vertex", "bipartite_imbalance")


@dataclass(frozen=True)
class Label:
    """The exact answer for one graph.

    Attributes:
        n: the graph's number of vertices.
        hamiltonian: ``True`` or ``False``; ``None`` when the time limit ran out first.
        cycle: when ``hamiltonian`` is true, a Hamiltonian cycle ``[n]``: every vertex once,
            starting at vertex 0, consecutive vertices adjacent and the last adjacent to the
            first (checked); else ``None``.
        method: what decided it: a name of :data:`CERTIFICATES`, ``"dp"``, ``"sat"``, or
            ``"time_limit"`` when nothing did.
        seconds: the wall-clock time the decision took.
    """

    n: int
    hamiltonian: bool | None
    cycle: list[int] | None
    method: str
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """The label as ``moldojo hamd solve`` writes it."""
        return {
            "n": self.n,
            "hamiltonian": self.hamiltonian,
            "cycle": self.cycle,
            "method": self.method,
            "seconds": round(self.seconds, 6),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Label:
        """The inverse of :meth:`to_json` (no checks: see :func:`check_cycle`)."""
        cycle = data["cycle"]
        return cls(
            n=int(data["n"]),
            hamiltonian=data["hamiltonian"],
            cycle=None if cycle is None else [int(v) for v in cycle],
            method=str(data["method"]),
            seconds=float(data["seconds"]),
        )


def labels_json(labels: Sequence[Label]) -> str:
    """The text of ``moldojo hamd solve``'s JSON: a list with one object a line, so that a file
    of a thousand 200-vertex cycles stays readable and ``grep``-able."""
    rows = [strict_json(label.to_json(), indent=None) for label in labels]
    return "[\n" + ",\n".join(rows) + "\n]\n"


def solve(graph: Graph, *, time_limit: float | None = None) -> Label:
    """Decide whether ``graph`` has a Hamiltonian cycle, exactly.

    Args:
        graph: the graph.
        time_limit: seconds the whole decision may take (``None``: no limit). Only the
            SAT solver can run out of it; the certificates and the dynamic programme (about a
            millisecond at :data:`DP_MAX_NODES`) always finish, and a label once known is never
            withheld.

    Returns:
        The label; a positive one carries a checked cycle.

    Raises:
        RuntimeError: a solver returned a cycle that is not one (a bug, never a label).
    """
    start = time.perf_counter()
    reason = certificate(graph)
    if reason is not None:
        return Label(graph.n, False, None, reason, time.perf_counter() - start)
    if graph.n <= DP_MAX_NODES:
        method, cycle = "dp", hamiltonian_cycle_dp(graph)
        decided = True
    else:
        remaining = None if time_limit is None else time_limit - (time.perf_counter() - start)
        decided, cycle = hamiltonian_cycle_sat(graph, remaining)
        method = "sat" if decided else "time_limit"
    if cycle is not None:
        check_cycle(graph, cycle, solver=method)
    hamiltonian = (cycle is not None) if decided else None
    return Label(graph.n, hamiltonian, cycle, method, time.perf_counter() - start)


def solve_each(
    graphs: Sequence[Graph], *, time_limit: float | None = None, jobs: int = 1
) -> Iterator[Label]:
    """The labels of ``graphs``, in their order, as they are decided, over ``jobs`` processes.

    One graph per task: solving times range over orders of magnitude, and a lazy iterator lets
    the caller keep each label (a resumable log) the moment it is known.

    Args:
        graphs: the graphs.
        time_limit: seconds per graph (see :func:`solve`).
        jobs: worker processes; ``<= 1`` solves in this process.
    """
    work = partial(_solve_chunk, time_limit=time_limit)
    for labels in imap_chunks(work, graphs, jobs=jobs, chunk_size=1):
        yield from labels


def _solve_chunk(graphs: list[Graph], *, time_limit: float | None) -> list[Label]:
    return [solve(graph, time_limit=time_limit) for graph in graphs]


# -- certificates ---------------------------------------------------------------------------------


def certificate(graph: Graph) -> str | None:
    """The name of the first cheap certificate that proves ``graph`` not Hamiltonian (in the
    order of :data:`CERTIFICATES`), or ``None`` when none applies (the graph may still not be)."""
    if graph.n < 3:
        return "too_small"
    layers = _bfs_layers(graph.adjacency)
    if sum(layer.bit_count() for layer in layers) < graph.n:
        return "disconnected"
    if min(graph.degrees()) < 2:
        return "min_degree"
    if _has_cut_vertex(graph):
        return "cut_vertex"
    if _bipartite_imbalance(graph.adjacency, layers):
        return "bipartite_imbalance"
    return None


def certified(graphs: Sequence[Graph]) -> np.ndarray:
    """Whether a cheap certificate proves each graph not Hamiltonian, ``[B]`` bool."""
    return np.array([certificate(graph) is not None for graph in graphs], dtype=bool)


def _bfs_layers(adjacency: tuple[int, ...]) -> list[int]:
    """The breadth-first layers from vertex 0, as bitmasks (layer ``k``: distance ``k``).

    Each step ORs the neighbourhoods of a whole layer, so the search costs one integer
    operation per vertex, whatever the degree.
    """
    seen = frontier = 1
    layers = []
    while frontier:
        layers.append(frontier)
        reach = 0
        mask = frontier
        while mask:
            low = mask & -mask
            reach |= adjacency[low.bit_length() - 1]
            mask ^= low
        frontier = reach & ~seen
        seen |= frontier
    return layers


def _bipartite_imbalance(adjacency: tuple[int, ...], layers: list[int]) -> bool:
    """A connected graph is bipartite exactly when no edge joins two vertices of the same
    parity of BFS layer; then the parities are its two sides, and they must be equal."""
    even = sum(layers[0::2])  # layers are disjoint bitmasks: their sum is their union
    odd = sum(layers[1::2])
    for v, mask in enumerate(adjacency):
        if mask & (even if even >> v & 1 else odd):
            return False  # an odd cycle: not bipartite, so no imbalance to certify
    return even.bit_count() != odd.bit_count()


def _has_cut_vertex(graph: Graph) -> bool:
    """Whether a connected graph has an articulation point: Tarjan's low-link depth-first
    search, iterative (no recursion limit at large ``n``), O(n + m)."""
    neighbours = [graph.neighbours(v) for v in range(graph.n)]
    discovered = [-1] * graph.n
    low = [0] * graph.n
    discovered[0] = 0
    clock = 1
    root_children = 0
    stack = [(0, -1, iter(neighbours[0]))]
    while stack:
        v, parent, pending = stack[-1]
        for w in pending:
            if discovered[w] < 0:
                discovered[w] = low[w] = clock
                clock += 1
                stack.append((w, v, iter(neighbours[w])))
                break
            if w != parent:
                low[v] = min(low[v], discovered[w])
        else:
            stack.pop()
            if parent == 0:
                root_children += 1
            elif parent > 0:
                low[parent] = min(low[parent], low[v])
                if low[v] >= discovered[parent]:
                    return True  # v's subtree reaches above parent only through parent
    return root_children > 1  # the root is a cut vertex when the search left it twice


# -- checking a cycle ---------------------------------------------------------------------------


def cycle_problem(graph: Graph, cycle: list[int]) -> str | None:
    """Why ``cycle`` is not a Hamiltonian cycle of ``graph``, or ``None`` when it is one."""
    if len(cycle) != graph.n or sorted(cycle) != list(range(graph.n)):
        return f"it does not visit each of the {graph.n} vertices exactly once"
    if graph.n < 3:
        return "a cycle needs at least 3 vertices"
    for u, v in zip(cycle, cycle[1:] + cycle[:1], strict=True):
        if not graph.has_edge(u, v):
            return f"{u} and {v} follow each other but are not adjacent"
    return None


def check_cycle(graph: Graph, cycle: list[int], *, solver: str = "solver") -> None:
    """Raise unless ``cycle`` is a Hamiltonian cycle of ``graph`` (every vertex once, each
    consecutive pair adjacent, the last adjacent to the first).

    Raises:
        RuntimeError: it is not; a solver that returns such a cycle has a bug.
    """
    problem = cycle_problem(graph, cycle)
    if problem is not None:
        raise RuntimeError(f"{solver} returned {cycle} as a Hamiltonian cycle, but {problem}")


# -- the dynamic programme ------------------------------------------------------------------------


def hamiltonian_cycle_dp(graph: Graph) -> list[int] | None:
    """A Hamiltonian cycle by dynamic programming over vertex subsets, or ``None``.

    The cycle is rooted at vertex 0. For every subset ``S`` of the other ``m = n - 1``
    vertices, ``table[S]`` is the bitmask of the vertices ``v`` in ``S`` such that some path
    starts at 0, visits exactly ``S`` and ends at ``v``; a path ending at ``v`` extends to ``u``
    outside ``S`` when ``u`` is adjacent to ``v``. The graph is Hamiltonian when ``table[all]``
    holds a neighbour of 0, and the cycle is read backwards through the table. The subsets of
    one size are processed together with numpy, one vectorised step per vertex ``u``, and only
    the subsets that some path reaches are kept: O(n 2^n) time in the worst case, 2^(n-1)
    entries of memory.

    Raises:
        ValueError: ``n`` is above 32 (the table would not fit in memory anyway).
    """
    n = graph.n
    if n < 3:
        return None
    m = n - 1
    if m > 31:
        raise ValueError(f"the dynamic programme handles at most 32 vertices, got {n}")
    # Vertex u >= 1 is bit u - 1 of a subset; near[u] holds u's neighbours other than 0.
    near = np.array([mask >> 1 for mask in graph.adjacency], dtype=np.uint32)  # (n,)
    start = graph.adjacency[0] >> 1
    table = np.zeros(1 << m, dtype=np.uint32)  # (2^m,) end-vertex bitmask of each subset
    firsts = np.array([1 << b for b in range(m) if start >> b & 1], dtype=np.uint32)
    table[firsts] = firsts
    layer = firsts  # the reached subsets of one size
    for _ in range(m - 1):
        ends = table[layer]
        grown = []
        for u in range(m):
            bit = np.uint32(1 << u)
            # u joins the subsets that lack it and have a path ending next to it; for one u
            # the targets are distinct, so the fancy-indexed OR loses nothing.
            joins = layer[((layer & bit) == 0) & ((ends & near[u + 1]) != 0)] | bit
            table[joins] |= bit
            grown.append(joins)
        layer = np.unique(np.concatenate(grown))
        if layer.size == 0:
            return None
    full = (1 << m) - 1
    last = int(table[full]) & start
    if not last:
        return None
    # Walk back: the path to the end v over S came from some u in S - {v} adjacent to v.
    v = (last & -last).bit_length() - 1
    subset = full
    path = [v]
    while subset != 1 << v:
        subset ^= 1 << v
        before = int(table[subset]) & int(near[v + 1])
        v = (before & -before).bit_length() - 1
        path.append(v)
    return [0, *(u + 1 for u in reversed(path))]


# -- the SAT solver ------------------------------------------------------------------------------


def hamiltonian_cycle_sat(
    graph: Graph, time_limit: float | None = None
) -> tuple[bool, list[int] | None]:
    """Decide Hamiltonicity with a SAT solver (Glucose 4 through python-sat), adding subtour
    cuts lazily.

    One variable per edge, "in the cycle". Each vertex has exactly two cycle edges (a
    cardinality constraint, sequential-counter encoding), so a model is a 2-factor: disjoint
    cycles covering every vertex. When it is one cycle, that is the answer. Otherwise, for each
    of its cycles ``S``, a clause says that some edge between ``S`` and the rest is in the cycle
    (true of every Hamiltonian cycle, so no answer is lost), and the incremental solver, which
    keeps what it learnt, is asked again. Unsatisfiable means no Hamiltonian cycle. Random
    graphs need a handful of rounds; the generalised Petersen graph GP(101, 2), 202 vertices
    and not Hamiltonian, some 6,000 (about 10 s).

    Args:
        graph: the graph.
        time_limit: seconds for the search (``None``: no limit; at most 0: no search at all).

    Returns:
        ``(decided, cycle)``: ``(True, cycle)`` when Hamiltonian (the cycle starting at 0, not
        yet checked), ``(True, None)`` when proven not, ``(False, None)`` when the time ran out.
    """
    # Imported here: only graphs past the dynamic programme need them.
    from pysat.card import CardEnc, EncType
    from pysat.formula import IDPool
    from pysat.solvers import Solver
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if graph.n < 3 or min(graph.degrees()) < 2:
        return True, None
    if time_limit is not None and time_limit <= 0:
        return False, None
    edges = np.array(graph.edges(), dtype=np.int64)  # (E, 2), variable of edge i: i + 1
    literals = np.arange(1, len(edges) + 1)
    pool = IDPool(start_from=len(edges) + 1)
    with Solver(name="glucose4") as sat:
        for v in range(graph.n):
            incident = literals[(edges == v).any(axis=1)].tolist()
            cardinality = CardEnc.equals(incident, bound=2, vpool=pool, encoding=EncType.seqcounter)
            sat.append_formula(cardinality.clauses)
        # One timer for the whole search: once it fires, every later call returns None at once.
        timer = None if time_limit is None else threading.Timer(time_limit, sat.interrupt)
        if timer is not None:
            timer.start()
        try:
            while True:
                found = sat.solve() if timer is None else sat.solve_limited(expect_interrupt=True)
                if found is None:
                    return False, None
                if not found:
                    return True, None
                chosen = edges[np.asarray(sat.get_model()[: len(edges)]) > 0]  # (n, 2)
                ones = np.ones(len(chosen), dtype=np.int8)
                factor = coo_matrix((ones, (chosen[:, 0], chosen[:, 1])), (graph.n, graph.n))
                parts, component = connected_components(factor, directed=False)
                if parts == 1:
                    return True, _walk(graph.n, chosen)
                # The cut of the last cycle is the union of the others'; with two, they are one.
                for part in range(parts - 1 if parts == 2 else parts):
                    inside = component == part
                    crossing = inside[edges[:, 0]] != inside[edges[:, 1]]
                    sat.add_clause(literals[crossing].tolist())
        finally:
            if timer is not None:
                timer.cancel()
                timer.join()  # the solver must outlive a firing interrupt


def _walk(n: int, chosen: np.ndarray) -> list[int]:
    """The vertex order of a single cycle given by its ``n`` edges ``[n, 2]``, from 0."""
    ends: list[list[int]] = [[] for _ in range(n)]
    for u, v in chosen.tolist():
        ends[u].append(v)
        ends[v].append(u)
    cycle = [0, ends[0][0]]
    while len(cycle) < n:
        a, b = ends[cycle[-1]]
        cycle.append(b if a == cycle[-2] else a)
    return cycle
