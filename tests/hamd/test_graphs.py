"""Graphs and graph6 (:mod:`moldojo.hamd.graphs`) and their generation
(:mod:`moldojo.hamd.generate`): round trips, per-line errors, determinism, the regimes."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from moldojo.errors import ConfigError, MoldojoError
from moldojo.hamd import (
    MIN_NODES,
    Graph,
    Graph6Error,
    certificate,
    critical_p,
    format_graph6,
    generate,
    iter_graph6,
    parse_graph6,
    read_graph6,
    read_graph6_lines,
    solve,
)
from moldojo.hamd.graphs import _graph6_count, _graph6_size


def random_graph(n: int, p: float, seed: int) -> Graph:
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((n, n)) < p, 1)
    return Graph.from_matrix(upper | upper.T)


# -- the Graph ----------------------------------------------------------------------------------


def test_graph_views_agree_with_networkx() -> None:
    graph = random_graph(30, 0.2, seed=1)
    reference = graph.to_networkx()
    assert graph.edges() == sorted(tuple(sorted(e)) for e in reference.edges)
    assert graph.degrees() == [reference.degree(v) for v in range(30)]
    assert graph.num_edges == reference.number_of_edges()
    assert graph.neighbours(3) == sorted(reference[3])
    assert Graph.from_matrix(graph.matrix()) == graph
    assert Graph.from_networkx(reference) == graph


def test_graph_rejects_what_is_not_a_simple_undirected_graph() -> None:
    with pytest.raises(ValueError, match="not in 1's"):
        Graph(2, (0b10, 0b00))  # 0 -> 1 without 1 -> 0
    with pytest.raises(ValueError, match="self-loop"):
        Graph(2, (0b01, 0b00))
    with pytest.raises(ValueError, match="outside"):
        Graph(2, (0b100, 0))
    with pytest.raises(ValueError, match="simple graph"):
        Graph.from_edges(3, [(0, 0)])
    with pytest.raises(ValueError, match="symmetric"):
        Graph.from_matrix(np.array([[0, 1], [0, 0]]))


def test_relabel_is_an_isomorphism() -> None:
    graph = random_graph(12, 0.4, seed=2)
    order = list(np.random.default_rng(0).permutation(12))
    moved = graph.relabel(order)
    assert moved.degrees() == [graph.degrees()[old] for old in order]
    assert nx.is_isomorphic(moved.to_networkx(), graph.to_networkx())


# -- graph6 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 62, 63, 64, 100, 201])
def test_graph6_round_trip(n: int) -> None:
    # Given random graphs, including sizes whose vertex count takes 1 and 4 characters
    for seed in range(3):
        graph = random_graph(n, 0.3, seed)
        # When written and read back, Then the graph is the same, and the text networkx's
        text = graph.to_graph6()
        assert parse_graph6(text) == graph
        assert text.encode() == nx.to_graph6_bytes(graph.to_networkx(), header=False).strip()
        assert Graph.from_networkx(nx.from_graph6_bytes(text.encode())) == graph


@pytest.mark.parametrize("n", [0, 62, 63, 64, 258047, 258048, 2**36 - 1])
def test_graph6_vertex_counts_of_every_width(n: int) -> None:
    # The 1-, 4- and 8-character counts, held to networkx's (too large to write whole graphs)
    from networkx.readwrite.graph6 import n_to_data

    written = _graph6_count(n)
    assert written == bytes(value + 63 for value in n_to_data(n))
    assert _graph6_size(np.frombuffer(written, dtype=np.uint8) - 63) == (n, len(written))


def test_graph6_known_strings() -> None:
    assert parse_graph6("A_") == Graph.from_edges(2, [(0, 1)])
    assert parse_graph6("Bw") == Graph.from_edges(3, [(0, 1), (0, 2), (1, 2)])
    petersen = parse_graph6("IheA@GUAo")  # nauty's Petersen graph
    assert nx.is_isomorphic(petersen.to_networkx(), nx.petersen_graph())
    assert parse_graph6(">>graph6<<A_\n") == parse_graph6("A_")


def test_graph6_file_with_header_blank_lines_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "g.g6"
    path.write_bytes(b">>graph6<<A_\r\n\r\nBw\r\n>>graph6<<\n@\n")
    assert [(line, g.n) for line, g in iter_graph6(path)] == [(1, 2), (3, 3), (5, 1)]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("Bw?", "3 nodes take 2 characters in graph6, this line has 3"),
        ("B", "3 nodes take 2 characters in graph6, this line has 1"),
        ("~", "it ends inside its vertex count"),
        ("~~??", "it ends inside its vertex count"),
        ("A _", "character ' ' at column 2 is outside graph6's '?' to '~'"),
        ("Bwé", "at column 3 is outside graph6's"),
        (":Fa@x^", "it is sparse6, not graph6"),
        ("&B?o", "digraph6"),
        ("CCO", "4 nodes take 2 characters"),
    ],
    ids=["too-long", "too-short", "cut-count", "cut-long-count", "space", "non-ascii", "sparse6",
         "digraph6", "smiles"],
)  # fmt: skip
def test_a_bad_line_is_named_with_its_number(tmp_path: Path, line: str, why: str) -> None:
    # Given a file whose second line is not graph6
    path = tmp_path / "bad.g6"
    path.write_text(f"A_\n{line}\nBw\n", encoding="utf-8")
    # When it is read, Then the error names the file, the line, the text and why
    with pytest.raises(Graph6Error) as caught:
        read_graph6(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:2: ") and "is not graph6" in message
    assert why in message and "\n" not in message


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.g6"
    empty.write_text("")
    with pytest.raises(Graph6Error, match="no graphs in it"):
        read_graph6(empty)
    header_only = tmp_path / "header.g6"
    header_only.write_text(">>graph6<<\n\n")
    with pytest.raises(Graph6Error, match="no graphs in it"):
        read_graph6_lines(header_only)
    with pytest.raises(MoldojoError, match="no such file"):
        read_graph6(tmp_path / "missing.g6")
    with pytest.raises(MoldojoError, match="is a directory"):
        read_graph6(tmp_path)


def test_format_graph6_reads_back(tmp_path: Path) -> None:
    graphs = [random_graph(n, 0.5, n) for n in (3, 10, 70)]
    path = tmp_path / "g.g6"
    path.write_text(format_graph6(graphs))
    assert read_graph6(path) == graphs
    assert nx.read_graph6(path)[2].number_of_edges() == graphs[2].num_edges  # networkx agrees


# -- generation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("regime", ["critical", "planted", "hard"])
def test_same_seed_same_graphs_other_seed_other_graphs(regime: str) -> None:
    one = format_graph6(generate(regime, 14, 6, seed=5))
    assert format_graph6(generate(regime, 14, 6, seed=5)) == one
    assert format_graph6(generate(regime, 14, 6, seed=6)) != one
    assert len(one.splitlines()) == 6 and all(line[0] == chr(63 + 14) for line in one.split())


def test_hard_graphs_do_not_depend_on_the_number_of_processes() -> None:
    # The labels are computed in batches whose size grows with jobs
    alone = generate("hard", 12, 7, seed=9, jobs=1)
    assert generate("hard", 12, 7, seed=9, jobs=2) == alone


def test_critical_density_is_the_formula() -> None:
    n, c = 100, 0.25
    expected = (np.log(n) + np.log(np.log(n)) + 2 * c) / (n - 1)
    assert critical_p(n, c) == pytest.approx(expected)
    graphs = generate("critical", 100, 40, seed=0)
    mean_degree = np.mean([np.mean(g.degrees()) for g in graphs])
    assert mean_degree == pytest.approx(critical_p(100) * 99, rel=0.05)


def test_about_half_of_critical_graphs_are_hamiltonian() -> None:
    # 300 graphs: the share's standard error is 0.03, and the seed is fixed
    labels = [solve(g).hamiltonian for g in generate("critical", 25, 300, seed=1)]
    assert 0.4 <= np.mean(labels) <= 0.6


def test_planted_graphs_contain_their_cycle_and_are_hamiltonian() -> None:
    for graph in generate("planted", 30, 10, seed=3):
        label = solve(graph)
        assert label.hamiltonian is True and label.method == "sat"


def test_hard_graphs_pass_every_certificate_and_are_balanced() -> None:
    graphs = generate("hard", 12, 9, seed=4)
    assert all(certificate(g) is None for g in graphs)
    labels = [solve(g).hamiltonian for g in graphs]
    assert labels.count(False) == 4 and labels.count(True) == 5
    assert labels != sorted(labels)  # the classes are shuffled together


def test_generate_rejects_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="unknown regime"):
        generate("easy", 20, 1)
    with pytest.raises(ConfigError, match="out of range"):
        generate("critical", MIN_NODES - 1, 1)
    with pytest.raises(ConfigError, match="at least 1"):
        generate("critical", 20, 0)
