"""Cheap rules for the HAMD decision: what the network's accuracy is measured against.

A cheap rule answers from degrees alone, in linear time. Every rule first applies the solver's
certificates (:func:`moldojo.hamd.solve.certificate`: a graph they decide is not Hamiltonian),
then thresholds one statistic of the graphs that pass them:

- ``"certificates"``: nothing more; every graph that passes is called Hamiltonian;
- ``"mean_degree"``: Hamiltonian when the mean degree is at least the threshold;
- ``"degree2_share"``: when the share of vertices of degree 2 is at most the threshold;
- ``"forced_edges"``: when no vertex meets more than the threshold *forced* edges, edges with an
  end of degree 2, which every Hamiltonian cycle uses. With threshold 2 this is one more
  certificate (three forced edges at one vertex cannot all be in a cycle), one that the solver's
  list and the ``hard`` regime leave out.

:func:`fit_cheap_rule` picks, on training graphs, the statistic and threshold of best accuracy:
the *best cheap rule* that ``moldojo hamd eval`` and ``benchmarks/hamd.py`` report beside the
network, so that its accuracy means something (near the threshold, a graph is Hamiltonian almost
exactly when its minimum degree is at least 2, so the certificates alone score well on
``critical`` graphs).

Imports numpy and :mod:`moldojo.hamd`; never torch or ``cli``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from moldojo.hamd.graphs import Graph
from moldojo.hamd.solve import certificate

__all__ = ["STATISTICS", "CheapRule", "fit_cheap_rule", "graph_statistics"]

#: The statistics a rule may threshold, and whether a larger value means "Hamiltonian".
STATISTICS = {"certificates": True, "mean_degree": True, "degree2_share": False,
              "forced_edges": False}  # fmt: skip


def graph_statistics(graph: Graph) -> dict[str, float]:
    """The statistics of :data:`STATISTICS` for one graph, plus ``"certified"`` (1.0 when a
    certificate proves it not Hamiltonian)."""
    matrix = graph.matrix()
    degree = matrix.sum(1)  # (n,)
    forced = matrix & ((degree == 2)[:, None] | (degree == 2)[None, :])  # (n, n)
    return {
        "certified": float(certificate(graph) is not None),
        "certificates": 0.0,
        "mean_degree": float(degree.mean()) if graph.n else 0.0,
        "degree2_share": float((degree == 2).mean()) if graph.n else 0.0,
        "forced_edges": float(forced.sum(1).max()) if graph.n else 0.0,
    }


@dataclass(frozen=True)
class CheapRule:
    """Certificates, then ``statistic`` against ``threshold`` (see the module docstring).

    Attributes:
        statistic: a key of :data:`STATISTICS`.
        threshold: Hamiltonian when the statistic is ``>=`` it (statistics where larger means
            Hamiltonian) or ``<=`` it (the others).
        train_accuracy: its accuracy on the graphs it was fitted on.
    """

    statistic: str
    threshold: float
    train_accuracy: float = float("nan")

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS:
            raise ValueError(f"statistic {self.statistic!r} is not one of {list(STATISTICS)}")

    def predict(self, graphs: Sequence[Graph]) -> np.ndarray:
        """Whether each graph is called Hamiltonian, ``[B]`` bool."""
        return self.predict_statistics([graph_statistics(g) for g in graphs])

    def predict_statistics(self, stats: Sequence[dict[str, float]]) -> np.ndarray:
        certified = np.array([s["certified"] for s in stats], dtype=bool)
        value = np.array([s[self.statistic] for s in stats])
        passes = value >= self.threshold if STATISTICS[self.statistic] else value <= self.threshold
        return ~certified & passes

    def describe(self) -> str:
        if self.statistic == "certificates":
            return "certificates (Hamiltonian unless one applies)"
        sign = ">=" if STATISTICS[self.statistic] else "<="
        return f"certificates, then {self.statistic} {sign} {self.threshold:g}"

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> CheapRule:
        return cls(str(data["statistic"]), float(data["threshold"]),  # type: ignore[arg-type]
                   float(data.get("train_accuracy", float("nan"))))  # type: ignore[arg-type]  # fmt: skip


def fit_cheap_rule(graphs: Sequence[Graph], labels: Sequence[bool]) -> CheapRule:
    """The rule of best accuracy on ``graphs`` (ties: the simpler statistic, listed first in
    :data:`STATISTICS`, then the lower threshold)."""
    if not graphs:
        raise ValueError("fitting a cheap rule needs graphs")
    stats = [graph_statistics(g) for g in graphs]
    y = np.asarray(labels, dtype=bool)
    certified = np.array([s["certified"] for s in stats], dtype=bool)
    base = int((certified & ~y).sum())  # certified graphs, called non-Hamiltonian: right when so
    best: CheapRule | None = None
    for name, larger in STATISTICS.items():
        value = np.array([s[name] for s in stats])[~certified]
        sign = 1.0 if larger else -1.0  # "-v >= -t" is "v <= t": one search for both
        pos, neg = np.sort(sign * value[y[~certified]]), np.sort(sign * value[~y[~certified]])
        thresholds = np.unique(sign * value) if value.size else np.zeros(1)
        # Right: positives at or above the threshold, negatives below it.
        right = (pos.size - np.searchsorted(pos, thresholds, "left")) + np.searchsorted(
            neg, thresholds, "left"
        )
        i = int(np.argmax(right))  # the first of the best: the lowest threshold
        accuracy = (base + int(right[i])) / len(y)
        if best is None or accuracy > best.train_accuracy:
            best = CheapRule(name, float(sign * thresholds[i]), accuracy)
    assert best is not None
    return best
