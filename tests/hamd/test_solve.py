"""Exact labels (:mod:`moldojo.hamd.solve`): every solver against brute force on every graph of
up to 7 nodes and on random graphs of up to 10, the dynamic programme against the SAT solver up
to 20, each certificate on a graph built for it, cycle checks and the time limit."""

from __future__ import annotations

import itertools
import time

import networkx as nx
import numpy as np
import pytest

from hamd_helpers import brute_force, random_graph
from moldojo.hamd import (
    CERTIFICATES,
    DP_MAX_NODES,
    Graph,
    Label,
    certificate,
    check_cycle,
    critical_p,
    cycle_problem,
    generate,
    gnp,
    hamiltonian_cycle_dp,
    hamiltonian_cycle_sat,
    solve,
    solve_each,
)


def shuffled(graph: Graph, rng: np.random.Generator) -> Graph:
    return graph.relabel(rng.permutation(graph.n).tolist())


def assert_label_is_right(graph: Graph, label: Label, truth: bool) -> None:
    assert label.hamiltonian is truth, (graph.to_graph6(), label)
    assert label.n == graph.n
    if truth:
        assert label.cycle is not None and cycle_problem(graph, label.cycle) is None
    else:
        assert label.cycle is None


def atlas() -> list[Graph]:
    """Every graph of 0 to 7 nodes, up to isomorphism (networkx's atlas, 1,253 graphs)."""
    return [Graph.from_networkx(nx.convert_node_labels_to_integers(g)) for g in nx.graph_atlas_g()]


# -- against brute force -------------------------------------------------------------------------


def test_every_graph_up_to_7_nodes_against_brute_force() -> None:
    # Given every graph of up to 7 nodes, each also in a random vertex order
    rng = np.random.default_rng(0)
    graphs = atlas()
    assert len(graphs) == 1253
    hamiltonian = 0
    for graph in graphs:
        truth = brute_force(graph)
        hamiltonian += truth
        # Then the full labeller agrees, whatever the vertex order
        for version in (graph, shuffled(graph, rng)):
            assert_label_is_right(version, solve(version), truth)
        # And so does each exact solver alone, on the graphs the certificates decide too
        found = hamiltonian_cycle_dp(graph)
        decided, cycle = hamiltonian_cycle_sat(graph)
        assert decided and (found is not None) == (cycle is not None) == truth
        if truth:
            check_cycle(graph, found or [])
            check_cycle(graph, cycle or [])
    assert hamiltonian == 1 + 3 + 8 + 48 + 383  # OEIS A003216: Hamiltonian graphs on 3..7 nodes


def test_every_labelled_graph_up_to_5_nodes_against_brute_force() -> None:
    # Every one of the 2^(n(n-1)/2) labelled graphs, not only one per isomorphism class
    for n in range(6):
        pairs = [(u, v) for v in range(n) for u in range(v)]
        for bits in range(1 << len(pairs)):
            graph = Graph.from_edges(n, [e for i, e in enumerate(pairs) if bits >> i & 1])
            assert_label_is_right(graph, solve(graph), brute_force(graph))


@pytest.mark.parametrize("n", [8, 9, 10])
def test_random_graphs_of_8_to_10_nodes_against_brute_force(n: int) -> None:
    # Given 100 random graphs of each size over a range of densities, and the graphs of the
    # same densities that no certificate decides (so that the DP decides them)
    rng = np.random.default_rng(n)
    graphs = [random_graph(n, p, rng) for p in np.linspace(0.2, 0.8, 100)]
    undecided = []
    while len(undecided) < 30:
        graph = random_graph(n, rng.uniform(0.2, 0.5), rng)
        if certificate(graph) is None:
            undecided.append(graph)
    for graph in graphs + undecided:
        truth = brute_force(graph)
        assert_label_is_right(graph, solve(graph), truth)
        decided, cycle = hamiltonian_cycle_sat(graph)
        assert decided and (cycle is not None) == truth


def test_dynamic_programme_against_sat_from_11_to_20_nodes() -> None:
    # Given, for each n, graphs that no certificate decides, drawn below the critical density
    # where about a third are not Hamiltonian, and critical graphs as they come
    answers = []
    for n in range(11, 21):
        rng = np.random.default_rng(n)
        graphs = generate("critical", n, 2, seed=n)
        while len(graphs) < 7:
            graph = gnp(n, critical_p(n, -0.5), rng)
            if certificate(graph) is None:
                graphs.append(graph)
        # Then the dynamic programme and the SAT solver agree, and their cycles are cycles
        for graph in graphs:
            dp = hamiltonian_cycle_dp(graph)
            decided, sat = hamiltonian_cycle_sat(graph)
            assert decided and (dp is None) == (sat is None), graph.to_graph6()
            for cycle in (dp, sat):
                if cycle is not None:
                    check_cycle(graph, cycle)
            answers.append(dp is not None)
        # whatever the vertex order
        last = graphs[-1]
        assert (hamiltonian_cycle_dp(shuffled(last, rng)) is None) == (not answers[-1])
    assert answers.count(False) >= 10 and answers.count(True) >= 10


# -- certificates --------------------------------------------------------------------------------


def bowtie() -> Graph:
    return Graph.from_edges(5, [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 2)])


BUILT = {
    "too_small": Graph.from_edges(2, [(0, 1)]),
    "disconnected": Graph.from_edges(6, [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3)]),
    "min_degree": Graph.from_edges(6, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (4, 5)]),
    "cut_vertex": bowtie(),
    "bipartite_imbalance": Graph.from_networkx(nx.complete_bipartite_graph(2, 3)),
}


@pytest.mark.parametrize("name", CERTIFICATES)
def test_each_certificate_fires_on_a_graph_built_for_it(name: str) -> None:
    # Given a graph that only the certificate `name` (and those after it) can rule out
    graph = BUILT[name]
    assert not brute_force(graph)
    # Then it is the one that decides the graph, and the label says so
    assert certificate(graph) == name
    label = solve(graph)
    assert (label.hamiltonian, label.cycle, label.method) == (False, None, name)
    # whatever the vertex order (the search starts at vertex 0: each vertex must take its turn)
    for order in itertools.permutations(range(graph.n)):
        assert certificate(graph.relabel(order)) == name


def test_tiny_graphs_are_too_small() -> None:
    for n in range(3):
        assert solve(Graph.from_edges(n, [(0, 1)] if n == 2 else [])).method == "too_small"


def test_no_certificate_on_a_graph_that_needs_a_solver() -> None:
    # The Petersen graph: 3-regular, 3-connected, not bipartite, and not Hamiltonian
    petersen = Graph.from_networkx(nx.petersen_graph())
    assert certificate(petersen) is None
    label = solve(petersen)
    assert (label.hamiltonian, label.cycle, label.method) == (False, None, "dp")
    # A balanced bipartite graph is left to the solver too
    assert certificate(Graph.from_networkx(nx.complete_bipartite_graph(3, 3))) is None


def test_cut_vertices_and_bipartite_sides_agree_with_networkx() -> None:
    rng = np.random.default_rng(7)
    seen = set()
    for trial in range(400):
        n = int(rng.integers(3, 16))
        graph = random_graph(n, rng.uniform(0.1, 0.6), rng)
        if trial % 2:  # a random bipartite graph: its sides are rarely equal
            side = rng.random(n) < 0.5
            matrix = graph.matrix() & (side[:, None] != side[None, :])
            graph = Graph.from_matrix(matrix)
        reference = graph.to_networkx()
        if not nx.is_connected(reference) or min(graph.degrees()) < 2:
            continue
        name = certificate(graph)
        has_cut = any(True for _ in nx.articulation_points(reference))
        assert (name == "cut_vertex") == has_cut
        if not has_cut:
            sides = nx.bipartite.sets(reference) if nx.is_bipartite(reference) else None
            imbalanced = sides is not None and len(sides[0]) != len(sides[1])
            assert (name == "bipartite_imbalance") == imbalanced
        seen.add(name)
    assert seen == {None, "cut_vertex", "bipartite_imbalance"}


# -- the cycle check -----------------------------------------------------------------------------


def test_check_cycle_rejects_every_kind_of_non_cycle() -> None:
    square = Graph.from_edges(4, [(0, 1), (1, 2), (2, 3), (3, 0)])
    check_cycle(square, [0, 1, 2, 3])
    check_cycle(square, [2, 1, 0, 3])
    path = Graph.from_edges(4, [(0, 1), (1, 2), (2, 3)])
    cases = {
        "exactly once": (square, [0, 1, 2]),  # a vertex missing
        "exactly once ": (square, [0, 1, 2, 1]),  # a vertex twice
        "not adjacent": (square, [0, 2, 1, 3]),  # 0 and 2 are not neighbours
        "are not adjacent": (path, [0, 1, 2, 3]),  # a Hamiltonian path, no closing edge
    }
    for why, (graph, cycle) in cases.items():
        assert why.strip() in (cycle_problem(graph, cycle) or "")
        with pytest.raises(RuntimeError, match="but"):
            check_cycle(graph, cycle, solver="test")


# -- the SAT solver and the time limit -----------------------------------------------------------


def generalised_petersen(n: int, k: int) -> Graph:
    """GP(n, k); GP(n, 2) is not Hamiltonian exactly when n = 5 (mod 6)."""
    outer = [(i, (i + 1) % n) for i in range(n)]
    spokes = [(i, n + i) for i in range(n)]
    inner = [(n + i, n + (i + k) % n) for i in range(n)]
    return Graph.from_edges(2 * n, outer + spokes + inner)


def test_sat_decides_large_structured_graphs() -> None:
    # GP(n, 2) passes every certificate; only n = 11 (mod 6 = 5) is non-Hamiltonian
    for n, truth in ((11, False), (12, True), (13, True), (17, False)):
        label = solve(generalised_petersen(n, 2))
        assert label.method == "sat"
        assert_label_is_right(generalised_petersen(n, 2), label, truth)


def test_large_critical_and_planted_graphs_get_checked_labels() -> None:
    graphs = generate("planted", 200, 3, seed=0) + generate("critical", 150, 6, seed=0)
    for graph in graphs:
        label = solve(graph)
        assert label.hamiltonian is not None
        if label.hamiltonian:
            check_cycle(graph, label.cycle or [])


def theta(block: int, blocks: int = 3, seed: int = 0) -> Graph:
    """``blocks`` random blocks, each a path with extra edges, all between vertices 0 and 1:
    2-connected, not Hamiltonian (a cycle through 0 and 1 crosses only two blocks), and beyond
    both the certificates and any solver within seconds."""
    rng = np.random.default_rng(seed)
    edges, first = [], 2
    for _ in range(blocks):
        vertices = list(range(first, first + block))
        first += block
        edges += [(a, b) for i, a in enumerate(vertices) for b in vertices[i + 1 :]
                  if b == a + 1 or rng.random() < 0.3]  # fmt: skip
        edges += [(0, vertices[0]), (0, vertices[1]), (1, vertices[-1]), (1, vertices[-2])]
    return Graph.from_edges(first, edges)


def test_time_limit_gives_none_and_is_kept() -> None:
    graph = theta(20)
    assert certificate(graph) is None
    start = time.perf_counter()
    label = solve(graph, time_limit=0.3)
    elapsed = time.perf_counter() - start
    assert (label.hamiltonian, label.cycle, label.method) == (None, None, "time_limit")
    assert elapsed < 3  # the limit, plus building the formula
    # A small graph is decided by the dynamic programme whatever the limit: never withheld
    small = theta(2)
    assert small.n <= DP_MAX_NODES and certificate(small) is None
    assert solve(small, time_limit=1e-9).method == "dp"


def test_solve_each_keeps_the_order_in_processes() -> None:
    graphs = generate("critical", 25, 6, seed=2) + [theta(3)]
    alone = [solve(g) for g in graphs]
    together = list(solve_each(graphs, jobs=2))
    assert [(a.hamiltonian, a.method) for a in alone] == [
        (b.hamiltonian, b.method) for b in together
    ]


def test_label_json_round_trip() -> None:
    label = solve(Graph.from_edges(3, [(0, 1), (1, 2), (2, 0)]))
    assert label.hamiltonian and label.method == "dp" and label.cycle in ([0, 1, 2], [0, 2, 1])
    again = Label.from_json(label.to_json())
    assert again == Label(3, True, label.cycle, "dp", round(label.seconds, 6))


# -- longer checks -------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_labelled_graph_on_6_nodes_against_brute_force() -> None:
    pairs = [(u, v) for v in range(6) for u in range(v)]
    for bits in range(1 << len(pairs)):  # 32,768 graphs
        graph = Graph.from_edges(6, [e for i, e in enumerate(pairs) if bits >> i & 1])
        assert_label_is_right(graph, solve(graph), brute_force(graph))


@pytest.mark.slow
def test_many_random_graphs_against_brute_force_and_the_dynamic_programme() -> None:
    rng = np.random.default_rng(2024)
    for n in (8, 9, 10):
        for p in np.linspace(0.15, 0.85, 1000):
            graph = random_graph(n, p, rng)
            truth = brute_force(graph)
            assert_label_is_right(graph, solve(graph), truth)
            assert (hamiltonian_cycle_sat(graph)[1] is not None) == truth
    for n in range(11, 23):
        for _ in range(60):
            graph = gnp(n, critical_p(n, rng.uniform(-0.75, 0.5)), rng)
            if certificate(graph) is None:
                dp = hamiltonian_cycle_dp(graph)
                decided, sat = hamiltonian_cycle_sat(graph)
                assert decided and (dp is None) == (sat is None), graph.to_graph6()
