"""GCNConv: equal to PyTorch Geometric's GCNConv and to the dense formula of the paper.

Permutation equivariance, cross-talk and per-parameter gradients are checked for every layer in
``test_layer_properties.py``.
"""

from __future__ import annotations

import pytest
import torch
from graphs import random_graph

from moldojo.nn.batch import GraphBatch
from moldojo.nn.conv.gcn import GCNConv

IN_DIM, OUT_DIM = 6, 8
TOL = {"atol": 1e-10, "rtol": 1e-8}  # float64 throughout; the layers agree to ~1e-15


def make_layer(**kwargs) -> GCNConv:
    torch.manual_seed(0)
    layer = GCNConv(IN_DIM, OUT_DIM, **kwargs).double()
    if layer.bias is not None:  # a zero bias would hide a bias added in the wrong place
        torch.nn.init.normal_(layer.bias)
    return layer


def with_self_loops(graph: GraphBatch) -> GraphBatch:
    """The graph with self-loops on nodes 0 (twice) and 3 added."""
    loops = torch.tensor([[0, 0, 3], [0, 0, 3]])
    return graph.replace(edge_index=torch.cat([graph.edge_index, loops], dim=1))


GRAPHS = {
    # 30 nodes, 80 edges, an isolated node and multi-edges
    "random": lambda: random_graph(30, 80, IN_DIM, seed=0),
    "batch": lambda: GraphBatch.collate(
        [random_graph(5 + 7 * s, 4 + 20 * s, IN_DIM, seed=s, isolated=s % 3) for s in range(4)]
    ),
    "self-loops": lambda: with_self_loops(random_graph(30, 80, IN_DIM, seed=1)),
}


def pyg_twin(layer: GCNConv):
    """PyG's GCNConv holding the same weights."""
    pyg_nn = pytest.importorskip("torch_geometric.nn")
    ref = pyg_nn.GCNConv(IN_DIM, OUT_DIM, bias=layer.bias is not None).double()
    with torch.no_grad():
        ref.lin.weight.copy_(layer.lin.weight)
        if layer.bias is not None:
            ref.bias.copy_(layer.bias)
    return ref


def dense_gcn(layer: GCNConv, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """D^-1/2 (A + I) D^-1/2 X W + b with A[i, j] the number of edges j -> i, self-loops
    replaced by one unit loop per node."""
    n = x.shape[0]
    adj = torch.zeros(n, n, dtype=x.dtype)
    ones = torch.ones(edge_index.shape[1], dtype=x.dtype)
    adj.index_put_((edge_index[1], edge_index[0]), ones, accumulate=True)
    adj.fill_diagonal_(0.0)
    adj_hat = adj + torch.eye(n, dtype=x.dtype)
    d_inv_sqrt = adj_hat.sum(dim=1).rsqrt()
    out = d_inv_sqrt[:, None] * adj_hat * d_inv_sqrt[None, :] @ layer.lin(x)
    return out if layer.bias is None else out + layer.bias


@pytest.mark.parametrize("graph_name", list(GRAPHS))
@pytest.mark.parametrize("bias", [True, False])
def test_forward_equals_pyg(graph_name: str, bias: bool) -> None:
    # Given our layer and PyG's with the same weights
    layer = make_layer(bias=bias)
    ref = pyg_twin(layer)
    graph = GRAPHS[graph_name]()
    # When both run on a graph with isolated nodes and multi-edges
    out = layer(graph.x, graph.edge_index)
    # Then they agree
    torch.testing.assert_close(out, ref(graph.x, graph.edge_index), **TOL)


@pytest.mark.parametrize("graph_name", list(GRAPHS))
def test_forward_equals_the_dense_formula(graph_name: str) -> None:
    layer = make_layer()
    graph = GRAPHS[graph_name]()
    out = layer(graph.x, graph.edge_index)
    torch.testing.assert_close(out, dense_gcn(layer, graph.x, graph.edge_index), **TOL)


@pytest.mark.parametrize("graph_name", list(GRAPHS))
def test_backward_equals_pyg(graph_name: str) -> None:
    # Given the same weights, inputs and upstream gradient
    layer = make_layer()
    ref = pyg_twin(layer)
    graph = GRAPHS[graph_name]()
    x_ours = graph.x.clone().requires_grad_()
    x_ref = graph.x.clone().requires_grad_()
    upstream = torch.randn(graph.num_nodes, OUT_DIM, dtype=torch.float64)
    # When both backpropagate
    (layer(x_ours, graph.edge_index) * upstream).sum().backward()
    (ref(x_ref, graph.edge_index) * upstream).sum().backward()
    # Then the gradients w.r.t. the input and the weights agree
    torch.testing.assert_close(x_ours.grad, x_ref.grad, **TOL)
    torch.testing.assert_close(layer.lin.weight.grad, ref.lin.weight.grad, **TOL)
    torch.testing.assert_close(layer.bias.grad, ref.bias.grad, **TOL)


def test_edge_attr_is_ignored() -> None:
    layer = make_layer()
    graph = random_graph(12, 30, IN_DIM, edge_dim=3)
    out = layer(graph.x, graph.edge_index, graph.edge_attr)
    torch.testing.assert_close(out, layer(graph.x, graph.edge_index, None), **TOL)


@pytest.mark.parametrize("num_nodes", [1, 4])
def test_without_edges_each_node_only_sees_itself(num_nodes: int) -> None:
    # Given a graph with no edges at all: every degree is 1 (the self-loop)
    layer = make_layer()
    x = torch.randn(num_nodes, IN_DIM, dtype=torch.float64)
    edge_index = torch.empty(2, 0, dtype=torch.long)
    # When convolved, then the output is the node's own linear map
    out = layer(x, edge_index)
    assert out.shape == (num_nodes, OUT_DIM)
    torch.testing.assert_close(out, layer.lin(x) + layer.bias, **TOL)


def test_isolated_nodes_only_see_themselves() -> None:
    layer = make_layer()
    graph = random_graph(10, 20, IN_DIM, isolated=3)
    out = layer(graph.x, graph.edge_index)
    assert out.shape == (10, OUT_DIM)
    expected = layer.lin(graph.x[-3:]) + layer.bias
    torch.testing.assert_close(out[-3:], expected, **TOL)


def test_reset_parameters_reinitialises() -> None:
    layer = make_layer()
    with torch.no_grad():
        for param in layer.parameters():
            param.fill_(3.0)
    layer.reset_parameters()
    bound = (6.0 / (IN_DIM + OUT_DIM)) ** 0.5  # Glorot uniform
    weight = layer.lin.weight
    assert weight.abs().max() <= bound and weight.std() > 0
    assert torch.equal(layer.bias, torch.zeros(OUT_DIM, dtype=torch.float64))


def test_extra_repr_shows_dims() -> None:
    assert "in_dim=6, out_dim=8, bias=True" in repr(GCNConv(6, 8))
    assert "bias=False" in repr(GCNConv(6, 8, bias=False))
