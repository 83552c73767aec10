"""GINEConv: equal to PyTorch Geometric's GINEConv with the same MLP and edge projection.

Permutation equivariance, cross-talk and per-parameter gradients are checked for every layer in
``test_layer_properties.py``.
"""

from __future__ import annotations

import copy

import pytest
import torch
from graphs import random_graph

from moldojo.nn.batch import GraphBatch
from moldojo.nn.conv.gine import GINEConv

IN_DIM, OUT_DIM, EDGE_DIM, HIDDEN_DIM = 6, 8, 3, 5
TOL = {"atol": 1e-10, "rtol": 1e-8}  # float64 throughout; the layers agree to ~1e-15

GRAPHS = {
    # 30 nodes, 80 edges, an isolated node and multi-edges
    "random": lambda: random_graph(30, 80, IN_DIM, EDGE_DIM, seed=0),
    "batch": lambda: GraphBatch.collate(
        [
            random_graph(5 + 7 * s, 4 + 20 * s, IN_DIM, EDGE_DIM, seed=s, isolated=s % 3)
            for s in range(4)
        ]
    ),
}


def make_layer(**kwargs) -> GINEConv:
    torch.manual_seed(0)
    return GINEConv(IN_DIM, OUT_DIM, edge_dim=EDGE_DIM, hidden_dim=HIDDEN_DIM, **kwargs).double()


def pyg_twin(layer: GINEConv):
    """PyG's GINEConv(nn=Sequential(Linear, ReLU, Linear), edge_dim=...) holding copies of the
    same weights (copies, so that gradients do not mix)."""
    pyg_nn = pytest.importorskip("torch_geometric.nn")
    ref = pyg_nn.GINEConv(
        copy.deepcopy(layer.mlp),
        eps=layer.initial_eps,
        train_eps=isinstance(layer.eps, torch.nn.Parameter),
        edge_dim=EDGE_DIM,
    ).double()
    # PyG re-initialises nn and lin on construction: copy the weights afterwards.
    ref.nn.load_state_dict(layer.mlp.state_dict())
    ref.lin.load_state_dict(layer.edge_lin.state_dict())
    return ref


@pytest.mark.parametrize("graph_name", list(GRAPHS))
@pytest.mark.parametrize(("eps", "train_eps"), [(0.0, False), (0.3, False), (-0.2, True)])
def test_forward_equals_pyg(graph_name: str, eps: float, train_eps: bool) -> None:
    # Given our layer and PyG's with the same weights
    layer = make_layer(eps=eps, train_eps=train_eps)
    ref = pyg_twin(layer)
    graph = GRAPHS[graph_name]()
    # When both run on a graph with isolated nodes and multi-edges, then they agree
    out = layer(graph.x, graph.edge_index, graph.edge_attr)
    torch.testing.assert_close(out, ref(graph.x, graph.edge_index, graph.edge_attr), **TOL)


@pytest.mark.parametrize("graph_name", list(GRAPHS))
def test_backward_equals_pyg(graph_name: str) -> None:
    # Given the same weights, inputs and upstream gradient
    layer = make_layer(eps=0.1, train_eps=True)
    ref = pyg_twin(layer)
    graph = GRAPHS[graph_name]()
    x_ours, x_ref = graph.x.clone().requires_grad_(), graph.x.clone().requires_grad_()
    e_ours, e_ref = (
        graph.edge_attr.clone().requires_grad_(),
        graph.edge_attr.clone().requires_grad_(),
    )
    upstream = torch.randn(graph.num_nodes, OUT_DIM, dtype=torch.float64)
    # When both backpropagate
    (layer(x_ours, graph.edge_index, e_ours) * upstream).sum().backward()
    (ref(x_ref, graph.edge_index, e_ref) * upstream).sum().backward()
    # Then the gradients w.r.t. the inputs and every weight agree
    torch.testing.assert_close(x_ours.grad, x_ref.grad, **TOL)
    torch.testing.assert_close(e_ours.grad, e_ref.grad, **TOL)
    torch.testing.assert_close(layer.eps.grad, ref.eps.grad, **TOL)
    torch.testing.assert_close(layer.edge_lin.weight.grad, ref.lin.weight.grad, **TOL)
    for ours, theirs in zip(layer.mlp.parameters(), ref.nn.parameters(), strict=True):
        torch.testing.assert_close(ours.grad, theirs.grad, **TOL)


@pytest.mark.parametrize("num_nodes", [1, 4])
def test_without_edges_the_mlp_sees_only_the_node(num_nodes: int) -> None:
    # Given a graph with no edges at all (edge_index [2, 0], edge_attr [0, edge_dim])
    layer = make_layer(eps=0.5)
    x = torch.randn(num_nodes, IN_DIM, dtype=torch.float64)
    edge_index = torch.empty(2, 0, dtype=torch.long)
    edge_attr = torch.empty(0, EDGE_DIM, dtype=torch.float64)
    # When convolved, then every node gets MLP((1 + eps) x)
    out = layer(x, edge_index, edge_attr)
    assert out.shape == (num_nodes, OUT_DIM)
    torch.testing.assert_close(out, layer.mlp(1.5 * x), **TOL)


def test_isolated_nodes_see_only_themselves() -> None:
    layer = make_layer()
    graph = random_graph(10, 20, IN_DIM, EDGE_DIM, isolated=3)
    out = layer(graph.x, graph.edge_index, graph.edge_attr)
    assert out.shape == (10, OUT_DIM)
    torch.testing.assert_close(out[-3:], layer.mlp(graph.x[-3:]), **TOL)


def test_eps_is_a_parameter_only_when_trained() -> None:
    assert "eps" not in dict(make_layer().named_parameters())
    assert "eps" in dict(make_layer().named_buffers())
    assert "eps" in dict(make_layer(train_eps=True).named_parameters())


def test_hidden_dim_defaults_to_out_dim() -> None:
    layer = GINEConv(IN_DIM, OUT_DIM, edge_dim=EDGE_DIM)
    assert layer.mlp[0].out_features == OUT_DIM and layer.mlp[2].in_features == OUT_DIM


def test_missing_edge_attr_is_an_error() -> None:
    graph = random_graph(5, 6, IN_DIM)
    with pytest.raises(ValueError, match="edge_attr"):
        make_layer()(graph.x, graph.edge_index, None)


def test_reset_parameters_reinitialises() -> None:
    layer = make_layer(eps=0.25, train_eps=True)
    with torch.no_grad():
        for param in layer.parameters():
            param.fill_(3.0)
    layer.reset_parameters()
    assert layer.eps.item() == 0.25
    for name, param in layer.named_parameters():
        if name != "eps":
            assert param.abs().max() < 3.0 and param.std() > 0, name


def test_extra_repr_shows_dims() -> None:
    text = repr(GINEConv(6, 8, edge_dim=3, hidden_dim=16))
    assert "in_dim=6, out_dim=8, edge_dim=3, hidden_dim=16" in text
