"""Cycle search (:mod:`moldojo.hamd.find`) and the cheap rules (:mod:`moldojo.hamd.rules`):
a search never returns a wrong cycle nor calls a Hamiltonian graph cycle-free (against brute
force), scores steer it, limits stop it; each rule's statistic on hand-built graphs, the forced-edge
rule sound as a certificate, and the fitted rule the best one."""

from __future__ import annotations

import numpy as np
import pytest

from hamd_helpers import brute_force, random_graph
from moldojo.hamd import Graph, cycle_problem, generate, solve
from moldojo.hamd.find import ORDERS, find_cycle, find_each
from moldojo.hamd.rules import STATISTICS, CheapRule, fit_cheap_rule, graph_statistics


@pytest.mark.parametrize("order", ORDERS)
def test_search_agrees_with_brute_force_on_small_graphs(order: str) -> None:
    rng = np.random.default_rng(7)
    for trial in range(150):
        n = int(rng.integers(3, 10))
        graph = random_graph(n, float(rng.uniform(0.3, 0.8)), rng)
        scores = rng.random(graph.num_edges) if order.startswith("gnn") else None
        found = find_cycle(graph, order, scores=scores, time_limit=None, seed=trial)
        truth = brute_force(graph)
        # Then an exhaustive search is exact: a cycle when there is one, "none" when not
        assert found.outcome == ("found" if truth else "none"), (trial, graph.edges())
        if truth:
            assert cycle_problem(graph, found.cycle) is None


def test_search_finds_cycles_in_planted_graphs() -> None:
    for graph in generate("planted", 60, 5, seed=1):
        found = find_cycle(graph, "warnsdorff", time_limit=None)
        assert found.outcome == "found" and cycle_problem(graph, found.cycle) is None


def test_scores_steer_the_search() -> None:
    # Given a planted cycle and scores that mark exactly its edges
    graph = generate("planted", 80, 1, seed=2)[0]
    cycle = solve(graph).cycle
    on = {tuple(sorted(e)) for e in zip(cycle, cycle[1:] + cycle[:1], strict=True)}
    scores = np.array([1.0 if e in on else 0.0 for e in graph.edges()])
    # When searched by those scores
    found = find_cycle(graph, "gnn", scores=scores, time_limit=None)
    # Then the cycle is found without a single step back
    assert found.outcome == "found" and found.steps == graph.n - 1


def test_limits_stop_a_search_that_cannot_finish() -> None:
    # Three blocks between the same two vertices: no certificate applies, no cycle exists, and a
    # depth-first search without reasoning takes exponentially long to see it
    rng = np.random.default_rng(0)
    edges = []
    for b in range(3):
        block = [2 + b * 12 + i for i in range(12)]
        edges += [(block[i], block[i + 1]) for i in range(11)]
        edges += [(block[i], block[j]) for i in range(12) for j in range(i + 2, 12)
                  if rng.random() < 0.4]  # fmt: skip
        edges += [(0, block[0]), (1, block[-1]), (0, block[3]), (1, block[-4])]
    graph = Graph.from_edges(38, edges)
    assert solve(graph).hamiltonian is False
    found = find_cycle(graph, "random", max_steps=2_000, time_limit=None)
    assert found.outcome == "step_limit" and found.steps == 2_000
    found = find_cycle(graph, "random", time_limit=0.05)
    assert found.outcome == "time_limit" and found.seconds < 1.0


def test_certified_graphs_and_bad_scores() -> None:
    path = Graph.from_edges(4, [(0, 1), (1, 2), (2, 3)])
    assert find_cycle(path).outcome == "none"
    square = Graph.from_edges(4, [(0, 1), (1, 2), (2, 3), (3, 0)])
    with pytest.raises(ValueError, match="one score per edge"):
        find_cycle(square, "gnn", scores=np.ones(3))
    with pytest.raises(ValueError, match="not one of"):
        find_cycle(square, "dfs")


def test_find_each_keeps_the_order_in_processes() -> None:
    # Planted graphs (a cycle is found at once) and critical ones (most decided by a certificate)
    graphs = generate("planted", 30, 4, seed=9) + generate("critical", 30, 4, seed=9)
    graphs = [g for g in graphs if solve(g).method != "sat" or solve(g).hamiltonian]
    alone = [find_cycle(g, "warnsdorff", time_limit=None) for g in graphs]
    pooled = list(find_each(graphs, "warnsdorff", time_limit=None, jobs=2))
    assert [f.cycle for f in pooled] == [f.cycle for f in alone]


def test_statistics_on_hand_built_graphs() -> None:
    # A 4-cycle 0-1-2-3 with a pendant triangle: vertex 0 also joins 4 and 5, 4-5 adjacent.
    graph = Graph.from_edges(6, [(0, 1), (1, 2), (2, 3), (3, 0), (0, 4), (4, 5), (5, 0)])
    stats = graph_statistics(graph)
    assert stats["certified"] == 1.0  # 0 is a cut vertex
    assert stats["mean_degree"] == pytest.approx(14 / 6)
    assert stats["degree2_share"] == pytest.approx(5 / 6)
    assert stats["forced_edges"] == 4.0  # all four edges at vertex 0 have an end of degree 2


def test_three_forced_edges_at_a_vertex_is_a_sound_certificate() -> None:
    rng = np.random.default_rng(3)
    rule = CheapRule("forced_edges", 2.0)
    fired = 0
    for _ in range(300):
        graph = random_graph(int(rng.integers(5, 10)), float(rng.uniform(0.3, 0.6)), rng)
        if not rule.predict([graph])[0] and graph_statistics(graph)["certified"] == 0.0:
            fired += 1
            assert not brute_force(graph), graph.edges()
    assert fired > 5  # the rule was put to the test


def test_fit_picks_the_best_rule_and_round_trips() -> None:
    graphs = generate("hard", 20, 30, seed=4, jobs=1)
    labels = [bool(solve(g).hamiltonian) for g in graphs]
    best = fit_cheap_rule(graphs, labels)
    accuracy = float((best.predict(graphs) == np.array(labels)).mean())
    assert accuracy == pytest.approx(best.train_accuracy)
    for name in STATISTICS:  # no single threshold on any statistic does better
        for threshold in {graph_statistics(g)[name] for g in graphs}:
            other = (CheapRule(name, threshold).predict(graphs) == np.array(labels)).mean()
            assert other <= accuracy + 1e-12
    assert CheapRule.from_json(best.to_json()) == best
    with pytest.raises(ValueError, match="not one of"):
        CheapRule("girth", 3.0)
