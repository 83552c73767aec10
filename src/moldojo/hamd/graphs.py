"""Undirected simple graphs for the Hamiltonian cycle problem, and their graph6 text.

A :class:`Graph` holds vertices ``0 .. n-1`` and one neighbour bitmask per vertex (a Python
``int`` whose bit ``u`` is set when ``u`` is a neighbour): the exact solvers intersect and test
neighbourhoods far more often than they walk them, and on bitmasks both are single integer
operations, whatever ``n`` is. Graphs are read and written in graph6, the one-graph-a-line format
of nauty and networkx. The bits are packed and unpacked with numpy, and the tests hold the text
byte for byte to networkx's ``to_graph6_bytes`` and ``from_graph6_bytes``: networkx's own
functions walk the n(n-1)/2 vertex pairs in Python, 32 ms to write and 5 ms to read one graph of
200 vertices, which made writing 1,000 such graphs take longer than labelling them. Before
decoding, :func:`parse_graph6` checks a line, so that a bad one is reported by line and column.

Imports numpy, networkx (conversions only) and the foundations (:mod:`moldojo.errors`); never
torch, never ``cli``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np

from moldojo.errors import MoldojoError, quote_input

__all__ = [
    "GRAPH6_HEADER",
    "Graph",
    "Graph6Error",
    "format_graph6",
    "iter_graph6",
    "parse_graph6",
    "read_graph6",
    "read_graph6_lines",
    "set_bits",
]

#: Optional prefix of a graph6 file (nauty writes it straight before the first graph).
GRAPH6_HEADER = b">>graph6<<"

# graph6 writes every 6 bits as one printable character, 63 ('?') to 126 ('~').
_FIRST, _LAST = 63, 126
_SIX_BITS = np.array([32, 16, 8, 4, 2, 1])  # a character's bits, most significant first


class Graph6Error(MoldojoError, ValueError):
    """A line of a graph6 file, or a graph6 string, that is not graph6."""


@dataclass(frozen=True)
class Graph:
    """An undirected simple graph on the vertices ``0 .. n-1``.

    Attributes:
        n: the number of vertices.
        adjacency: ``n`` neighbour bitmasks: bit ``u`` of ``adjacency[v]`` is set when ``u`` and
            ``v`` are adjacent. Symmetric, no self-loops, no bit at or above ``n`` (checked).
    """

    n: int
    adjacency: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.n < 0 or len(self.adjacency) != self.n:
            raise ValueError(f"a graph of n={self.n} needs n bitmasks, got {len(self.adjacency)}")
        outside = ~((1 << self.n) - 1)
        for v, mask in enumerate(self.adjacency):
            if mask < 0 or mask & outside or mask >> v & 1:
                raise ValueError(f"vertex {v}: neighbour bitmask {mask:#x} has a self-loop or a "
                                 f"vertex outside 0..{self.n - 1}")  # fmt: skip
        # Symmetry on the matrix, in numpy: a loop over the edges would cost more than the rest
        # of drawing a random graph.
        matrix = self.matrix()
        asymmetric = np.argwhere(matrix & ~matrix.T)
        if asymmetric.size:
            u, v = asymmetric[0].tolist()
            raise ValueError(f"edge {u}-{v} is in {u}'s bitmask but not in {v}'s")

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def from_edges(cls, n: int, edges: Iterable[tuple[int, int]]) -> Graph:
        """The graph on ``n`` vertices with these edges (either orientation; repeats merge).

        Raises:
            ValueError: an edge is a self-loop or names a vertex outside ``0 .. n-1``.
        """
        adjacency = [0] * n
        for u, v in edges:
            if not (0 <= u < n and 0 <= v < n) or u == v:
                raise ValueError(f"edge ({u}, {v}) is not an edge of a simple graph on {n} nodes")
            adjacency[u] |= 1 << v
            adjacency[v] |= 1 << u
        return cls(n, tuple(adjacency))

    @classmethod
    def from_matrix(cls, matrix: np.ndarray) -> Graph:
        """The graph of a symmetric 0/1 adjacency matrix ``[n, n]`` with an empty diagonal."""
        matrix = np.asarray(matrix, dtype=bool)
        n = matrix.shape[0]
        if matrix.shape != (n, n) or (matrix != matrix.T).any() or matrix.diagonal().any():
            raise ValueError("an adjacency matrix must be square, symmetric, with no diagonal")
        # One byte string per row, least significant bit first: row v becomes v's bitmask.
        rows = np.packbits(matrix, axis=1, bitorder="little")  # (n, ceil(n / 8))
        return cls(n, tuple(int.from_bytes(row.tobytes(), "little") for row in rows))

    @classmethod
    def from_networkx(cls, graph: nx.Graph) -> Graph:
        """A networkx graph whose nodes are ``0 .. n-1`` (as graph6 decodes them)."""
        n = graph.number_of_nodes()
        if set(graph.nodes) != set(range(n)):
            raise ValueError("the networkx graph's nodes must be 0 .. n-1")
        return cls.from_edges(n, ((u, v) for u, v in graph.edges if u != v))

    # -- views ----------------------------------------------------------------------------------

    def neighbours(self, v: int) -> list[int]:
        """The neighbours of ``v``, in increasing order."""
        return set_bits(self.adjacency[v])

    def degrees(self) -> list[int]:
        """The degree of each vertex, ``[n]``."""
        return [mask.bit_count() for mask in self.adjacency]

    def has_edge(self, u: int, v: int) -> bool:
        return bool(self.adjacency[u] >> v & 1)

    def edges(self) -> list[tuple[int, int]]:
        """Every edge once, as ``(u, v)`` with ``u < v``, sorted."""
        return [(u, v) for u, mask in enumerate(self.adjacency) for v in set_bits(mask >> u << u)]

    @property
    def num_edges(self) -> int:
        return sum(self.degrees()) // 2

    def matrix(self) -> np.ndarray:
        """The 0/1 adjacency matrix ``[n, n]`` (bool)."""
        width = (self.n + 7) // 8
        rows = b"".join(mask.to_bytes(width, "little") for mask in self.adjacency)
        packed = np.frombuffer(rows, dtype=np.uint8).reshape(self.n, width)
        return np.unpackbits(packed, axis=1, count=self.n, bitorder="little").astype(bool)

    def to_networkx(self) -> nx.Graph:
        graph = nx.Graph()
        graph.add_nodes_from(range(self.n))
        graph.add_edges_from(self.edges())
        return graph

    def relabel(self, order: Iterable[int]) -> Graph:
        """The same graph with vertex ``order[i]`` renamed ``i`` (``order`` a permutation)."""
        order = list(order)
        if sorted(order) != list(range(self.n)):
            raise ValueError(f"{order} is not a permutation of 0..{self.n - 1}")
        new = {old: i for i, old in enumerate(order)}
        return Graph.from_edges(self.n, ((new[u], new[v]) for u, v in self.edges()))

    def to_graph6(self) -> str:
        """The graph6 string of this graph, without header or newline: the vertex count, then
        the upper triangle of the adjacency matrix column by column, six bits a character."""
        rows, cols = np.tril_indices(self.n, -1)  # (j, i) with i < j, sorted by j then i
        bits = self.matrix()[rows, cols]  # (n(n-1)/2,) edge i-j, in graph6's order
        bits = np.concatenate([bits, np.zeros(-bits.size % 6, dtype=bool)])
        values = bits.reshape(-1, 6) @ _SIX_BITS  # (ceil(n(n-1)/2 / 6),)
        return (_graph6_count(self.n) + (values + _FIRST).astype(np.uint8).tobytes()).decode()


def set_bits(mask: int) -> list[int]:
    """The positions of the set bits of ``mask``, in increasing order."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


# -- graph6 ------------------------------------------------------------------------------------


def _graph6_problem(data: bytes) -> str | None:
    """Why ``data`` (one line, header and newline removed) is not graph6, or ``None`` when it
    is: its characters, its vertex count, and its length for that count."""
    if not data:
        return "it is empty"
    if data[:1] == b":":
        return "it is sparse6, not graph6 (convert it with nauty's copyg -g or networkx)"
    if data[:1] == b"&":
        return "it is digraph6 (a directed graph), not graph6"
    codes = np.frombuffer(data, dtype=np.uint8)
    outside = np.flatnonzero((codes < _FIRST) | (codes > _LAST))
    if outside.size:
        column = int(outside[0])
        shown = quote_input(chr(data[column]))
        return f"character {shown} at column {column + 1} is outside graph6's '?' to '~'"
    n, head = _graph6_size(codes - _FIRST)
    if n < 0:
        return "it ends inside its vertex count"
    expected = head + (n * (n - 1) // 2 + 5) // 6
    if len(data) != expected:
        return f"{n} nodes take {expected} characters in graph6, this line has {len(data)}"
    return None


def _graph6_size(values: np.ndarray) -> tuple[int, int]:
    """The vertex count of graph6 ``values`` (characters minus 63), and how many values it
    takes: one below 63, else 63 and three (18 bits), else 63, 63 and six (36 bits). The count
    is -1 when the values end inside it."""
    if values[0] < 63:
        return int(values[0]), 1
    head = 4 if values.size < 2 or values[1] < 63 else 8
    if values.size < head:
        return -1, head
    n = 0
    for value in values[head - (3 if head == 4 else 6) : head].tolist():
        n = n << 6 | value
    return n, head


def _graph6_count(n: int) -> bytes:
    """The vertex count as graph6 writes it (see :func:`_graph6_size`)."""
    if n < 63:
        return bytes([n + _FIRST])
    # 18 bits would hold more, but a first character of 63 would read as the 36-bit form
    width, prefix = (3, b"~") if n < 63 << 12 else (6, b"~~")
    return prefix + bytes((n >> 6 * k & 63) + _FIRST for k in reversed(range(width)))


def _decode(data: bytes) -> Graph:
    """The graph of a checked graph6 string (header and newline removed)."""
    values = np.frombuffer(data, dtype=np.uint8) - _FIRST
    n, head = _graph6_size(values)
    bits = (values[head:, None] >> np.arange(5, -1, -1)) & 1  # (chars, 6), high bit first
    rows, cols = np.tril_indices(n, -1)  # graph6's order: (j, i), i < j, by j then i
    matrix = np.zeros((n, n), dtype=bool)
    matrix[rows, cols] = bits.ravel()[: rows.size]
    return Graph.from_matrix(matrix | matrix.T)


def parse_graph6(text: str | bytes, *, where: str = "graph6") -> Graph:
    """Decode one graph6 string (an optional ``>>graph6<<`` header and end of line allowed).

    Args:
        text: the graph6 text.
        where: the place named in an error message (``"FILE:LINE"``).

    Raises:
        Graph6Error: ``text`` is not graph6; the message says where and why.
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    data = data.strip()
    if data.startswith(GRAPH6_HEADER):
        data = data[len(GRAPH6_HEADER) :]
    problem = _graph6_problem(data)
    if problem is not None:
        shown = quote_input(data.decode("utf-8", "backslashreplace"))
        raise Graph6Error(f"{where}: {shown} is not graph6: {problem}")
    return _decode(data)


def iter_graph6(path: str | Path) -> Iterator[tuple[int, Graph]]:
    """The graphs of a graph6 file with their line numbers (counted from 1), in file order.

    Blank lines are skipped (as networkx's reader does) and a ``>>graph6<<`` header, alone on
    its line or in front of the first graph, is accepted.

    Raises:
        MoldojoError: the file cannot be read.
        Graph6Error: a line is not graph6: ``FILE:LINE: 'text' is not graph6: why``, for the
            first such line.
    """
    try:
        with open(path, "rb") as file:
            for number, line in enumerate(file, start=1):
                line = line.strip()
                if line.startswith(GRAPH6_HEADER):
                    line = line[len(GRAPH6_HEADER) :]
                if line:
                    yield number, parse_graph6(line, where=f"{path}:{number}")
    except FileNotFoundError:
        raise MoldojoError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise MoldojoError(f"{path}: is a directory, not a graph6 file") from None
    except OSError as error:
        raise MoldojoError(f"{path}: cannot read it ({error.strerror or error})") from None


def read_graph6_lines(path: str | Path) -> list[tuple[int, Graph]]:
    """Every graph of a graph6 file with its line number, in file order (see
    :func:`iter_graph6`).

    Raises:
        MoldojoError: the file cannot be read.
        Graph6Error: a line is not graph6, or the file holds no graph at all.
    """
    records = list(iter_graph6(path))
    if not records:
        raise Graph6Error(f"{path}: no graphs in it (the file is empty); one graph6 line a graph")
    return records


def read_graph6(path: str | Path) -> list[Graph]:
    """Every graph of a graph6 file, in file order (see :func:`read_graph6_lines`)."""
    return [graph for _, graph in read_graph6_lines(path)]


def format_graph6(graphs: Iterable[Graph]) -> str:
    """The text of a graph6 file: one graph a line, no header, a newline after each."""
    return "".join(graph.to_graph6() + "\n" for graph in graphs)
