"""MPNNConv: its message equal to PyTorch Geometric's NNConv, the whole layer equal to NNConv
followed by ``torch.nn.GRUCell``.

Permutation equivariance, cross-talk and per-parameter gradients are checked for every layer in
``test_layer_properties.py``.
"""

from __future__ import annotations

import copy

import pytest
import torch
from graphs import random_graph

from moldojo.nn.batch import GraphBatch
from moldojo.nn.conv.mpnn import MPNNConv, _segment_outer_sum

IN_DIM, OUT_DIM, EDGE_DIM, HIDDEN_DIM = 6, 8, 3, 5
TOL = {"atol": 1e-10, "rtol": 1e-8}  # float64 throughout; the layers agree to ~1e-14


def hub_graph() -> GraphBatch:
    """40 edges into node 0 (more than one row of the padded layout) plus random edges."""
    graph = random_graph(30, 60, IN_DIM, EDGE_DIM, seed=3)
    g = torch.Generator().manual_seed(4)
    spokes = torch.stack([torch.randint(0, 30, (40,), generator=g), torch.zeros(40).long()])
    return graph.replace(
        edge_index=torch.cat([graph.edge_index, spokes], dim=1),
        edge_attr=torch.cat([graph.edge_attr, torch.randn(40, EDGE_DIM, generator=g).double()]),
    )


def ring_graph() -> GraphBatch:
    """Every node has an incoming edge (a directed ring plus chords): one row per node."""
    graph = random_graph(20, 25, IN_DIM, EDGE_DIM, seed=5, isolated=0)
    ring = torch.stack([torch.arange(20), torch.arange(1, 21) % 20])
    ring_attr = torch.randn(20, EDGE_DIM, generator=torch.Generator().manual_seed(6)).double()
    return graph.replace(
        edge_index=torch.cat([graph.edge_index, ring], dim=1),
        edge_attr=torch.cat([graph.edge_attr, ring_attr]),
    )


GRAPHS = {
    # 30 nodes, 80 edges, an isolated node and multi-edges
    "random": lambda: random_graph(30, 80, IN_DIM, EDGE_DIM, seed=0),
    "batch": lambda: GraphBatch.collate(
        [
            random_graph(5 + 7 * s, 4 + 20 * s, IN_DIM, EDGE_DIM, seed=s, isolated=s % 3)
            for s in range(4)
        ]
    ),
    "hub": hub_graph,
    "ring": ring_graph,
}


def make_layer(in_dim: int = IN_DIM, **kwargs) -> MPNNConv:
    torch.manual_seed(0)
    layer = MPNNConv(in_dim, OUT_DIM, edge_dim=EDGE_DIM, hidden_dim=HIDDEN_DIM, **kwargs).double()
    torch.nn.init.normal_(layer.bias)  # a zero bias would hide a bias added in the wrong place
    return layer


def nnconv_twin(layer: MPNNConv):
    """PyG's NNConv holding copies of the message weights (copies, so gradients do not mix)."""
    pyg_nn = pytest.importorskip("torch_geometric.nn")
    ref = pyg_nn.NNConv(
        layer.in_dim, OUT_DIM, nn=copy.deepcopy(layer.edge_network), aggr=layer.aggr
    ).double()
    # NNConv re-initialises nn, lin and bias on construction: copy the weights afterwards.
    ref.nn.load_state_dict(layer.edge_network.state_dict())
    with torch.no_grad():
        ref.lin.weight.copy_(layer.root.weight)
        ref.bias.copy_(layer.bias)
    return ref


def reference_mpnn(layer: MPNNConv):
    """NNConv, then torch.nn.GRUCell on the (projected) input, with copies of the weights."""
    nnconv = nnconv_twin(layer)
    gru = copy.deepcopy(layer.gru)
    project = copy.deepcopy(layer.project)

    def run(x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        state = x if project is None else x @ project.weight.T
        return gru(nnconv(x, edge_index, edge_attr), state)

    run.modules = (nnconv, gru, project)
    return run


@pytest.mark.parametrize("graph_name", list(GRAPHS))
@pytest.mark.parametrize("aggr", ["add", "mean"])
@pytest.mark.parametrize("in_dim", [IN_DIM, OUT_DIM])
def test_message_equals_pyg_nnconv(graph_name: str, aggr: str, in_dim: int) -> None:
    # Given our layer and NNConv with the same edge network, root weight and bias
    layer = make_layer(in_dim, aggr=aggr)
    ref = nnconv_twin(layer)
    graph = GRAPHS[graph_name]()
    x = graph.x[:, :1].repeat(1, in_dim) + torch.linspace(0, 1, in_dim, dtype=torch.float64)
    # When both compute the message on graphs with isolated nodes, multi-edges and a hub
    message = layer.message_passing(x, graph.edge_index, graph.edge_attr)
    # Then they agree
    torch.testing.assert_close(message, ref(x, graph.edge_index, graph.edge_attr), **TOL)


@pytest.mark.parametrize("graph_name", list(GRAPHS))
@pytest.mark.parametrize("in_dim", [IN_DIM, OUT_DIM])
def test_forward_equals_nnconv_then_gru(graph_name: str, in_dim: int) -> None:
    layer = make_layer(in_dim)
    ref = reference_mpnn(layer)
    graph = GRAPHS[graph_name]()
    x = torch.randn(graph.num_nodes, in_dim, dtype=torch.float64)
    out = layer(x, graph.edge_index, graph.edge_attr)
    torch.testing.assert_close(out, ref(x, graph.edge_index, graph.edge_attr), **TOL)


@pytest.mark.parametrize("graph_name", ["random", "batch", "hub"])
@pytest.mark.parametrize("aggr", ["add", "mean"])
def test_message_backward_equals_pyg_nnconv(graph_name: str, aggr: str) -> None:
    # Given the same weights, inputs and upstream gradient
    layer = make_layer(aggr=aggr)
    ref = nnconv_twin(layer)
    graph = GRAPHS[graph_name]()
    x_ours, x_ref = graph.x.clone().requires_grad_(), graph.x.clone().requires_grad_()
    e_ours, e_ref = (
        graph.edge_attr.clone().requires_grad_(),
        graph.edge_attr.clone().requires_grad_(),
    )
    upstream = torch.randn(graph.num_nodes, OUT_DIM, dtype=torch.float64)
    # When both backpropagate
    (layer.message_passing(x_ours, graph.edge_index, e_ours) * upstream).sum().backward()
    (ref(x_ref, graph.edge_index, e_ref) * upstream).sum().backward()
    # Then the gradients w.r.t. the inputs and every message weight agree
    torch.testing.assert_close(x_ours.grad, x_ref.grad, **TOL)
    torch.testing.assert_close(e_ours.grad, e_ref.grad, **TOL)
    for ours, theirs in zip(layer.edge_network.parameters(), ref.nn.parameters(), strict=True):
        torch.testing.assert_close(ours.grad, theirs.grad, **TOL)
    torch.testing.assert_close(layer.root.weight.grad, ref.lin.weight.grad, **TOL)
    torch.testing.assert_close(layer.bias.grad, ref.bias.grad, **TOL)


def test_backward_equals_nnconv_then_gru() -> None:
    layer = make_layer()
    ref = reference_mpnn(layer)
    nnconv, gru, project = ref.modules
    graph = GRAPHS["random"]()
    x_ours, x_ref = graph.x.clone().requires_grad_(), graph.x.clone().requires_grad_()
    e_ours, e_ref = (
        graph.edge_attr.clone().requires_grad_(),
        graph.edge_attr.clone().requires_grad_(),
    )
    upstream = torch.randn(graph.num_nodes, OUT_DIM, dtype=torch.float64)
    (layer(x_ours, graph.edge_index, e_ours) * upstream).sum().backward()
    (ref(x_ref, graph.edge_index, e_ref) * upstream).sum().backward()
    torch.testing.assert_close(x_ours.grad, x_ref.grad, **TOL)
    torch.testing.assert_close(e_ours.grad, e_ref.grad, **TOL)
    for ours, theirs in zip(layer.gru.parameters(), gru.parameters(), strict=True):
        torch.testing.assert_close(ours.grad, theirs.grad, **TOL)
    torch.testing.assert_close(layer.project.weight.grad, project.weight.grad, **TOL)
    torch.testing.assert_close(layer.root.weight.grad, nnconv.lin.weight.grad, **TOL)


@pytest.mark.parametrize("graph_name", list(GRAPHS))
def test_segment_outer_sum_equals_a_plain_scatter(graph_name: str) -> None:
    # Given node features, per-edge features and a graph (hub: several rows for node 0;
    # ring: one row per node; others: no row for isolated nodes)
    graph = GRAPHS[graph_name]()
    src, dst = graph.edge_index
    n = graph.num_nodes
    counts = torch.bincount(dst, minlength=n)
    # When the outer products are summed in the padded layout and the rows reduced
    rows, row_node = _segment_outer_sum(graph.x, src, graph.edge_attr, dst, counts)
    if row_node is None:
        out = rows
    else:
        out = torch.zeros(n, rows.shape[1], dtype=rows.dtype).index_add_(0, row_node, rows)
    # Then they equal the outer products summed edge by edge
    outer = torch.einsum("ea,eb->eab", graph.x[src], graph.edge_attr).reshape(len(src), -1)
    expected = torch.zeros(n, outer.shape[1], dtype=outer.dtype).index_add_(0, dst, outer)
    torch.testing.assert_close(out, expected, **TOL)
    assert (row_node is None) == (graph_name == "ring")
    if graph_name == "hub":
        assert (row_node == 0).sum() == 3  # 40+ edges, 16 per row


@pytest.mark.parametrize("num_nodes", [1, 4])
@pytest.mark.parametrize("in_dim", [IN_DIM, OUT_DIM])
def test_without_edges_the_message_is_the_root_term(num_nodes: int, in_dim: int) -> None:
    # Given a graph with no edges at all (edge_index [2, 0], edge_attr [0, edge_dim])
    layer = make_layer(in_dim)
    x = torch.randn(num_nodes, in_dim, dtype=torch.float64)
    edge_index = torch.empty(2, 0, dtype=torch.long)
    edge_attr = torch.empty(0, EDGE_DIM, dtype=torch.float64)
    # When convolved, then the message is the root term and the GRU updates the own state
    message = layer.message_passing(x, edge_index, edge_attr)
    torch.testing.assert_close(message, layer.root(x) + layer.bias, **TOL)
    out = layer(x, edge_index, edge_attr)
    assert out.shape == (num_nodes, OUT_DIM)
    state = x if layer.project is None else layer.project(x)
    torch.testing.assert_close(out, layer.gru(message, state), **TOL)


def test_isolated_nodes_get_the_root_term() -> None:
    layer = make_layer()
    graph = random_graph(10, 20, IN_DIM, EDGE_DIM, isolated=3)
    message = layer.message_passing(graph.x, graph.edge_index, graph.edge_attr)
    assert message.shape == (10, OUT_DIM)
    torch.testing.assert_close(message[-3:], layer.root(graph.x[-3:]) + layer.bias, **TOL)


def test_projection_only_when_dims_differ() -> None:
    assert MPNNConv(8, 8, edge_dim=3).project is None
    assert MPNNConv(6, 8, edge_dim=3).project.weight.shape == (8, 6)


def test_bad_aggr_and_missing_edge_attr_are_errors() -> None:
    with pytest.raises(ValueError, match="aggr"):
        MPNNConv(6, 8, edge_dim=3, aggr="max")
    graph = random_graph(5, 6, IN_DIM)
    with pytest.raises(ValueError, match="edge_attr"):
        make_layer()(graph.x, graph.edge_index, None)


def test_reset_parameters_reinitialises() -> None:
    layer = make_layer()
    with torch.no_grad():
        for param in layer.parameters():
            param.fill_(3.0)
    layer.reset_parameters()
    assert torch.equal(layer.bias, torch.zeros(OUT_DIM, dtype=torch.float64))
    assert layer.root.weight.abs().max() <= IN_DIM**-0.5  # NNConv's uniform root weight
    for name, param in layer.named_parameters():
        if name != "bias":
            assert param.abs().max() < 3.0 and param.std() > 0, name


def test_extra_repr_shows_dims() -> None:
    text = repr(MPNNConv(6, 8, edge_dim=3, hidden_dim=16, aggr="add"))
    assert "in_dim=6, out_dim=8, edge_dim=3, hidden_dim=16, aggr='add'" in text
