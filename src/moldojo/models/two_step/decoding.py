"""From the two-step decoder's bond probabilities to a molecular graph: the raw argmax graph
("validity without constraints") or a greedy valence-constrained one.

NumPy only; no torch, no RDKit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["DecodedGraph", "constrained_graph", "raw_graph"]


@dataclass(frozen=True)
class DecodedGraph:
    """A decoded molecule before chemistry: types, bonds and hydrogens added by the decoder.

    Attributes:
        node_type: ``[n]`` atom types.
        edge_index: ``[2, m]`` bonds, ``edge_index[0] < edge_index[1]``.
        bond_order: ``[m]`` 1, 2 or 3.
        extra_hs: ``[n]`` hydrogens added to the type's own (constrained decoding fills
            open valences with hydrogens).
    """

    node_type: np.ndarray
    edge_index: np.ndarray
    bond_order: np.ndarray
    extra_hs: np.ndarray


def raw_graph(
    node_type: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    probs: np.ndarray,
    valences: Sequence[Sequence[int]],
) -> tuple[DecodedGraph | None, str]:
    """The most likely class of every pair, taken as it is ("validity without constraints").

    As in the papers' "validity without constraints" (GraphVAE, CGVAE, Bresson & Laurent), the
    argmax graph must be one connected molecule in which no atom has more bonds than its type
    allows; open valences are filled with hydrogens (RDKit's implicit hydrogens in those papers).

    Returns ``(graph, "")``, or ``(None, reason)`` with reason ``"empty"``, ``"valence"`` (an
    atom's bond orders exceed its type's largest valence) or ``"disconnected"``.
    """
    n = node_type.shape[0]
    if n == 0:
        return None, "empty"
    label = probs.argmax(1)
    bonded = label > 0
    u, v, order = src[bonded], dst[bonded], label[bonded]
    total = (np.bincount(u, order, n) + np.bincount(v, order, n)).astype(np.int64)
    if any(total[a] > max(valences[t]) for a, t in enumerate(node_type.tolist())):
        return None, "valence"
    if _num_components(n, u, v) > 1:
        return None, "disconnected"
    graph = DecodedGraph(
        node_type=node_type.copy(),
        edge_index=np.stack([u, v]).astype(np.int64),
        bond_order=order.astype(np.int64),
        extra_hs=_fill_hydrogens(node_type, total, valences),
    )
    return graph, ""


def constrained_graph(
    node_type: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    probs: np.ndarray,
    valences: Sequence[Sequence[int]],
) -> tuple[DecodedGraph | None, str]:
    """Greedy valence-constrained decoding ("validity with constraints").

    1. Pairs more likely bonded than not are taken by decreasing bond probability; each gets
       its most likely order that fits the remaining valence of both atoms (the largest
       valence its type has), or is skipped.
    2. While the graph is in pieces, the remaining pairs are scanned the same way, keeping
       only bonds that join two pieces.
    3. The largest connected piece is kept, and open valences are filled with hydrogens up to
       the type's next valence.

    Returns ``(graph, "")`` or ``(None, "empty")``.
    """
    n = node_type.shape[0]
    if n == 0:
        return None, "empty"
    capacity = np.array([max(valences[t]) for t in node_type], dtype=np.int64)
    remaining = capacity.copy()
    pieces = _UnionFind(n)
    find = pieces.find

    p_bond = 1.0 - probs[:, 0]
    order_by_prob = np.argsort(-probs[:, 1:], axis=1) + 1  # (P, 3) orders, most likely first
    bonds: list[tuple[int, int, int]] = []
    taken = np.zeros(src.shape[0], dtype=bool)
    for join_only in (False, True):
        for k in np.argsort(-p_bond, kind="stable").tolist():
            if taken[k] or (not join_only and p_bond[k] <= 0.5):
                continue
            a, b = int(src[k]), int(dst[k])
            if join_only and find(a) == find(b):
                continue
            room = min(remaining[a], remaining[b])
            for order in order_by_prob[k].tolist():
                if order <= room:
                    bonds.append((a, b, order))
                    remaining[a] -= order
                    remaining[b] -= order
                    pieces.union(a, b)
                    taken[k] = True
                    break

    roots = np.array([find(a) for a in range(n)])
    biggest = np.bincount(roots, minlength=n).argmax()
    keep = roots == biggest
    new_index = np.cumsum(keep) - 1
    kept = [(a, b, o) for a, b, o in bonds if keep[a]]
    edges = np.array([[new_index[a], new_index[b]] for a, b, _ in kept], dtype=np.int64)
    types = node_type[keep]
    used = (capacity - remaining)[keep]
    extra = _fill_hydrogens(types, used, valences)
    graph = DecodedGraph(
        node_type=types.copy(),
        edge_index=edges.T.reshape(2, -1),
        bond_order=np.array([o for _, _, o in kept], dtype=np.int64),
        extra_hs=extra,
    )
    return graph, ""


def _fill_hydrogens(
    node_type: np.ndarray, used: np.ndarray, valences: Sequence[Sequence[int]]
) -> np.ndarray:
    """Hydrogens that bring each atom's bond orders ``used`` up to its type's next valence."""
    return np.array(
        [min(v for v in valences[t] if v >= u) - u for t, u in zip(node_type, used, strict=True)],
        dtype=np.int64,
    )


class _UnionFind:
    """Connected pieces of a growing graph (path halving)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        parent = self.parent
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _num_components(n: int, u: np.ndarray, v: np.ndarray) -> int:
    pieces = _UnionFind(n)
    for a, b in zip(u.tolist(), v.tolist(), strict=True):
        pieces.union(a, b)
    return len({pieces.find(a) for a in range(n)})
