"""Graphs and a brute-force labeller shared by the HAMD tests (:mod:`tests.hamd`)."""

from __future__ import annotations

import numpy as np

from moldojo.hamd import Graph


def brute_force(graph: Graph) -> bool:
    """Whether some ordering of the vertices is a cycle: every simple path from vertex 0 is
    extended in turn, with no reasoning beyond adjacency, until one closes over all vertices."""
    n = graph.n
    if n < 3:
        return False
    neighbours = [set(graph.neighbours(v)) for v in range(n)]
    path, on_path = [0], [True] + [False] * (n - 1)

    def extend() -> bool:
        if len(path) == n:
            return 0 in neighbours[path[-1]]
        for w in neighbours[path[-1]]:
            if not on_path[w]:
                path.append(w)
                on_path[w] = True
                if extend():
                    return True
                path.pop()
                on_path[w] = False
        return False

    return extend()


def random_graph(n: int, p: float, rng: np.random.Generator) -> Graph:
    upper = np.triu(rng.random((n, n)) < p, 1)
    return Graph.from_matrix(upper | upper.T)
