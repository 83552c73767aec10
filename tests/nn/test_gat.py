"""``GATConv`` and ``GATv2Conv``: equal to PyTorch Geometric's layers of the same names
(outputs, gradients, attention), attention that sums to one, degenerate graphs, options and
errors. The two share their options and conventions, so every test runs on both.

Permutation equivariance, cross-talk and per-parameter gradients are checked for every layer
in ``test_layer_properties.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from graphs import random_graph

from moldojo.nn.batch import GraphBatch
from moldojo.nn.conv.gat import GATConv
from moldojo.nn.conv.gatv2 import GATv2Conv
from moldojo.nn.scatter import scatter_sum

IN_DIM, OUT_DIM, EDGE_DIM, HEADS = 6, 8, 3, 4
TOL = {"atol": 1e-10, "rtol": 1e-10}


def make_graph(kind: str, edge_dim: int | None) -> GraphBatch:
    """30 nodes and 80 edges (self-loops, multi-edges, an isolated node), or a batch of four
    such graphs of different sizes."""
    if kind == "one":
        return random_graph(30, 80, IN_DIM, edge_dim, seed=1)
    sizes = [(30, 80), (7, 12), (1, 0), (12, 40)]
    return GraphBatch.collate(
        [random_graph(n, e, IN_DIM, edge_dim, seed=s) for s, (n, e) in enumerate(sizes)]
    )


@dataclass(frozen=True)
class Variant:
    """What differs between GAT and GATv2 for these tests."""

    cls: type[torch.nn.Module]
    pyg: str
    #: (ours, PyG's) parameter pairs, edge parameters included when the layer has them.
    pairs: Callable[[torch.nn.Module, torch.nn.Module], list[tuple[torch.Tensor, torch.Tensor]]]
    #: the projection whose value an isolated node receives from its own self-loop.
    source_projection: Callable[[torch.nn.Module], torch.nn.Module]
    weights: tuple[str, ...]  # parameters that reset_parameters draws at random


def _gat_pairs(layer, twin):
    pairs = [
        (layer.lin.weight, twin.lin.weight),
        (layer.att_src, twin.att_src),
        (layer.att_dst, twin.att_dst),
        (layer.bias, twin.bias),
    ]
    if layer.edge_dim is not None:
        pairs += [(layer.lin_edge.weight, twin.lin_edge.weight), (layer.att_edge, twin.att_edge)]
    return pairs


def _gatv2_pairs(layer, twin):
    pairs = [
        (layer.lin_src.weight, twin.lin_l.weight),  # PyG's lin_l maps the source x_j
        (layer.lin_src.bias, twin.lin_l.bias),
        (layer.lin_dst.weight, twin.lin_r.weight),
        (layer.lin_dst.bias, twin.lin_r.bias),
        (layer.att, twin.att),
        (layer.bias, twin.bias),
    ]
    if layer.edge_dim is not None:
        pairs.append((layer.lin_edge.weight, twin.lin_edge.weight))
    return pairs


VARIANTS = {
    "gat": Variant(
        GATConv, "GATConv", _gat_pairs, lambda layer: layer.lin,
        ("lin.weight", "att_src", "att_dst", "lin_edge.weight", "att_edge"),
    ),
    "gatv2": Variant(
        GATv2Conv, "GATv2Conv", _gatv2_pairs, lambda layer: layer.lin_src,
        ("lin_src.weight", "lin_src.bias", "lin_dst.weight", "att", "lin_edge.weight"),
    ),
}  # fmt: skip


@pytest.fixture(params=list(VARIANTS))
def variant(request: pytest.FixtureRequest) -> Variant:
    return VARIANTS[request.param]


def pyg_twin(
    variant: Variant, layer: torch.nn.Module
) -> tuple[torch.nn.Module, list[tuple[torch.Tensor, torch.Tensor]]]:
    """PyG's layer with ``layer``'s weights, and the (ours, theirs) parameter pairs."""
    pyg_nn = pytest.importorskip("torch_geometric.nn")
    H, C = layer.num_heads, layer.head_dim
    twin = getattr(pyg_nn, variant.pyg)(
        layer.in_dim,
        C,
        heads=H,
        concat=layer.concat,
        edge_dim=layer.edge_dim,
        add_self_loops=layer.add_self_loops,
    ).double()
    pairs = variant.pairs(layer, twin)
    with torch.no_grad():
        layer.bias.normal_()  # a non-zero bias, so that it is checked too
        for ours, theirs in pairs:
            theirs.copy_(ours.view_as(theirs))
    return twin, pairs


@pytest.mark.parametrize("kind", ["one", "batch"])
@pytest.mark.parametrize("edge_dim", [None, EDGE_DIM], ids=["no-edge-attr", "edge-attr"])
@pytest.mark.parametrize("concat", [True, False], ids=["concat", "mean"])
@pytest.mark.parametrize("self_loops", [True, False], ids=["loops", "no-loops"])
def test_equals_pyg_outputs_gradients_and_attention(
    variant: Variant, kind: str, edge_dim: int | None, concat: bool, self_loops: bool
) -> None:
    # Given a graph with self-loops, multi-edges and isolated nodes, and our layer and PyG's
    # with the same weights
    graph = make_graph(kind, edge_dim)
    src, dst = graph.edge_index
    assert (src == dst).any() and graph.edge_index.unique(dim=1).shape[1] < graph.num_edges
    torch.manual_seed(0)
    layer = variant.cls(
        IN_DIM,
        OUT_DIM,
        edge_dim=edge_dim,
        num_heads=HEADS,
        concat=concat,
        add_self_loops=self_loops,
    ).double()
    twin, pairs = pyg_twin(variant, layer)
    inputs = [graph.x.clone().requires_grad_() for _ in range(2)]
    edge_attrs = [None, None]
    if edge_dim is not None:
        edge_attrs = [graph.edge_attr.clone().requires_grad_() for _ in range(2)]

    # When both run forward and backward
    out, (att_index, att) = layer(inputs[0], graph.edge_index, edge_attrs[0], return_attention=True)
    expected, (pyg_index, pyg_att) = twin(
        inputs[1], graph.edge_index, edge_attrs[1], return_attention_weights=True
    )
    weight = torch.randn_like(out)
    (out * weight).sum().backward()
    (expected * weight).sum().backward()

    # Then outputs, input and parameter gradients agree
    assert out.shape == (graph.num_nodes, OUT_DIM)
    torch.testing.assert_close(out, expected, **TOL)
    torch.testing.assert_close(inputs[0].grad, inputs[1].grad, **TOL)
    if edge_dim is not None:
        torch.testing.assert_close(edge_attrs[0].grad, edge_attrs[1].grad, **TOL)
    for ours, theirs in pairs:
        torch.testing.assert_close(ours.grad, theirs.grad.view_as(ours), **TOL)

    # And so do the attention coefficients, once the input self-loops PyG drops (and we
    # weight zero) are left out
    keep = torch.ones(att_index.shape[1], dtype=torch.bool)
    if self_loops:
        keep[: graph.num_edges] = src != dst
        assert (att[~keep] == 0).all()
    torch.testing.assert_close(att_index[:, keep], pyg_index)
    torch.testing.assert_close(att[keep], pyg_att, **TOL)


@pytest.mark.parametrize("self_loops", [True, False], ids=["loops", "no-loops"])
def test_attention_sums_to_one_over_incoming_edges(variant: Variant, self_loops: bool) -> None:
    # Given a graph with an isolated node
    graph = random_graph(30, 80, IN_DIM, EDGE_DIM, seed=2)
    layer = variant.cls(IN_DIM, OUT_DIM, edge_dim=EDGE_DIM, add_self_loops=self_loops).double()

    # When the attention coefficients are returned
    _, (edge_index, alpha) = layer(
        graph.x, graph.edge_index, graph.edge_attr, return_attention=True
    )

    # Then every node's incoming coefficients sum to one per head (zero without any)
    assert alpha.shape == (edge_index.shape[1], HEADS) and (alpha >= 0).all()
    total = scatter_sum(alpha, edge_index[1], graph.num_nodes)  # (N, H)
    has_incoming = scatter_sum(torch.ones(edge_index.shape[1]), edge_index[1], graph.num_nodes)
    expected = (has_incoming > 0).double().unsqueeze(-1).expand_as(total)
    torch.testing.assert_close(total, expected, **TOL)
    assert self_loops == bool(expected.all())


@pytest.mark.parametrize(
    ("num_nodes", "num_edges"), [(1, 0), (5, 0), (9, 12)], ids=["one-node", "no-edges", "isolated"]
)
@pytest.mark.parametrize("concat", [True, False], ids=["concat", "mean"])
def test_degenerate_graphs(variant: Variant, num_nodes: int, num_edges: int, concat: bool) -> None:
    # Given a graph with few or no edges (the last three nodes isolated)
    graph = random_graph(num_nodes, num_edges, IN_DIM, EDGE_DIM, isolated=3)
    layer = variant.cls(IN_DIM, OUT_DIM, edge_dim=EDGE_DIM, concat=concat).double()
    with torch.no_grad():
        layer.bias.normal_()

    # When it runs
    out = layer(graph.x, graph.edge_index, graph.edge_attr)

    # Then the shape is right, and an isolated node attends only to itself
    assert out.shape == (num_nodes, OUT_DIM)
    assert torch.isfinite(out).all()
    h = variant.source_projection(layer)(graph.x[-1:]).view(1, layer.num_heads, layer.head_dim)
    alone = h.reshape(1, -1) if concat else h.mean(dim=1)
    torch.testing.assert_close(out[-1:], alone + layer.bias, **TOL)


def test_without_self_loops_an_isolated_node_gets_only_the_bias(variant: Variant) -> None:
    graph = random_graph(6, 0, IN_DIM, EDGE_DIM)
    layer = variant.cls(IN_DIM, OUT_DIM, edge_dim=EDGE_DIM, add_self_loops=False).double()
    with torch.no_grad():
        layer.bias.normal_()
    out = layer(graph.x, graph.edge_index, graph.edge_attr)
    torch.testing.assert_close(out, layer.bias.expand(6, OUT_DIM), **TOL)


def test_attention_dropout_acts_in_training_only(variant: Variant) -> None:
    # Given a layer whose dropout removes every attention coefficient
    graph = random_graph(12, 30, IN_DIM, EDGE_DIM)
    layer = variant.cls(IN_DIM, OUT_DIM, edge_dim=EDGE_DIM, dropout=1.0).double()
    with torch.no_grad():
        layer.bias.normal_()

    # Then in training only the bias is left, and in evaluation nothing is dropped
    out = layer.train()(graph.x, graph.edge_index, graph.edge_attr)
    torch.testing.assert_close(out, layer.bias.expand_as(out), **TOL)
    layer.eval()
    reference = variant.cls(IN_DIM, OUT_DIM, edge_dim=EDGE_DIM).double()
    reference.load_state_dict(layer.state_dict())
    torch.testing.assert_close(
        layer(graph.x, graph.edge_index, graph.edge_attr),
        reference(graph.x, graph.edge_index, graph.edge_attr),
        **TOL,
    )


def test_out_dim_not_divisible_by_heads_is_an_error(variant: Variant) -> None:
    with pytest.raises(ValueError, match="out_dim=10 is not divisible by num_heads=4"):
        variant.cls(IN_DIM, 10, num_heads=4)
    assert variant.cls(IN_DIM, 10, num_heads=4, concat=False).head_dim == 10


def test_missing_edge_attr_is_an_error(variant: Variant) -> None:
    graph = random_graph(5, 8, IN_DIM)
    layer = variant.cls(IN_DIM, OUT_DIM, edge_dim=EDGE_DIM)
    with pytest.raises(ValueError, match="needs edge_attr"):
        layer(graph.x.float(), graph.edge_index)


def test_reset_parameters_reinitialises(variant: Variant) -> None:
    layer = variant.cls(IN_DIM, OUT_DIM, edge_dim=EDGE_DIM)
    with torch.no_grad():
        for param in layer.parameters():
            param.fill_(3.0)
    torch.manual_seed(1)
    layer.reset_parameters()
    first = {k: v.clone() for k, v in layer.state_dict().items()}
    assert (first["bias"] == 0).all()
    for name in variant.weights:
        assert (first[name] != 3.0).all() and first[name].std() > 0, name
    torch.manual_seed(1)
    layer.reset_parameters()
    for name, value in layer.state_dict().items():
        torch.testing.assert_close(value, first[name])


def test_extra_repr_shows_dims_and_heads(variant: Variant) -> None:
    text = repr(variant.cls(IN_DIM, OUT_DIM, edge_dim=EDGE_DIM, num_heads=2))
    for part in ("in_dim=6", "out_dim=8", "edge_dim=3", "num_heads=2", "head_dim=4"):
        assert part in text
