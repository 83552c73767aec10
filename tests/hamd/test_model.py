"""The HAMD network (:mod:`moldojo.hamd.model`): features and targets line up with the graph's
edges, the decision is invariant and the edge scores equivariant under vertex relabelling, no
cross-talk in a batch, every parameter learns, and a handful of graphs is overfit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from moldojo.hamd import Graph, generate, solve
from moldojo.hamd.model import EDGE_FEATURES, NODE_FEATURES, HamdConfig, HamdNet, featurize


def small_net(layer: str = "gated-gcn", **changes: object) -> HamdNet:
    torch.manual_seed(0)
    return HamdNet(HamdConfig(layer=layer, hidden_dim=16, num_layers=3, **changes))


def test_features_and_targets_follow_graph_edges() -> None:
    # Given a 5-cycle with a chord 0-2: degrees 3, 2, 3, 2, 2
    graph = Graph.from_edges(5, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)])
    cycle = [0, 1, 2, 3, 4]
    # When featurised with its label and cycle
    batch = featurize([graph], [True], [cycle])
    # Then nodes carry the degree one-hot and the degree over the mean
    x = batch.graph.x
    assert x.shape == (5, NODE_FEATURES)
    assert x[:, :-1].argmax(1).tolist() == [3, 2, 3, 2, 2]
    assert torch.allclose(x[:, -1], torch.tensor([3, 2, 3, 2, 2]) / 2.4)
    # and directed edges come in pairs, in Graph.edges order, both directions
    edges = graph.edges()
    index = batch.graph.edge_index
    assert index.shape == (2, 2 * len(edges))
    assert list(zip(index[0, 0::2].tolist(), index[1, 0::2].tolist(), strict=True)) == edges
    assert torch.equal(index[:, 1::2], index[:, 0::2].flip(0))
    # the chord 0-2 (both ends of degree 3) is the only edge not forced
    attr = batch.graph.edge_attr
    assert attr.shape == (2 * len(edges), EDGE_FEATURES)
    forced = dict(zip(edges, attr[0::2, 1].tolist(), strict=True))
    assert forced[(0, 2)] == 0.0 and sum(forced.values()) == len(edges) - 1
    # and the cycle's edges are the targets
    on = dict(zip(edges, batch.on_cycle.tolist(), strict=True))
    assert on[(0, 2)] == 0.0 and sum(on.values()) == 5
    assert batch.label.tolist() == [1.0]


def test_a_graph_without_edges_and_an_empty_batch() -> None:
    net = small_net().eval()
    out = net(featurize([Graph(3, (0, 0, 0)), Graph.from_edges(3, [(0, 1), (1, 2), (0, 2)])]))
    assert out.logits.shape == (2,) and out.edge_logits.shape == (3,)
    assert torch.isfinite(out.logits).all()


@pytest.mark.parametrize("layer", ["gated-gcn", "gine", "gcn"])
def test_decision_invariant_and_edge_scores_equivariant_under_relabelling(layer: str) -> None:
    net = small_net(layer).double().eval()
    graph = generate("critical", 25, 1, seed=4)[0]
    rng = np.random.default_rng(0)

    @torch.no_grad()
    def run(g: Graph) -> tuple[float, dict[tuple[int, int], float]]:
        batch = featurize([g])
        batch = type(batch)(batch.graph.to("cpu", torch.float64), batch.edge_graph)
        out = net(batch)
        return float(out.logits), dict(zip(g.edges(), out.edge_logits.tolist(), strict=True))

    logit, scores = run(graph)
    for _ in range(3):
        order = rng.permutation(graph.n).tolist()  # vertex order[i] becomes i
        new = {old: i for i, old in enumerate(order)}
        logit2, scores2 = run(graph.relabel(order))
        assert logit2 == pytest.approx(logit, abs=1e-10)
        for (u, v), s in scores.items():
            key = (min(new[u], new[v]), max(new[u], new[v]))
            assert scores2[key] == pytest.approx(s, abs=1e-10)


def test_no_cross_talk_between_graphs_of_a_batch() -> None:
    net = small_net().double().eval()
    graphs = generate("critical", 25, 3, seed=5) + generate("critical", 40, 2, seed=5)

    def double(batch):  # noqa: ANN001, ANN202
        return type(batch)(batch.graph.to("cpu", torch.float64), batch.edge_graph)

    together = net(double(featurize(graphs)))
    alone = [net(double(featurize([g]))) for g in graphs]
    assert torch.allclose(together.logits, torch.cat([a.logits for a in alone]), atol=1e-10)
    assert torch.allclose(together.edge_logits, torch.cat([a.edge_logits for a in alone]),
                          atol=1e-10)  # fmt: skip


def test_every_parameter_gets_a_finite_nonzero_gradient() -> None:
    net = small_net()
    graphs = generate("critical", 20, 8, seed=6)
    labels = [solve(g) for g in graphs]
    assert {label.hamiltonian for label in labels} == {True, False}
    batch = featurize(graphs, [bool(x.hamiltonian) for x in labels], [x.cycle for x in labels])
    out = net(batch)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(out.logits, batch.label)
    loss = loss + torch.nn.functional.binary_cross_entropy_with_logits(
        out.edge_logits, batch.on_cycle
    )
    loss.backward()
    for name, parameter in net.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


def test_config_refuses_an_unknown_layer() -> None:
    from moldojo.errors import ConfigError

    with pytest.raises(ConfigError, match="hamd-conv"):
        HamdConfig(layer="hamd-conv")
