"""Properties every layer of the dojo must have, checked for each one in the registry.

Node-permutation equivariance (several permutations, float64), edge-order invariance, no
cross-talk between graphs of a batch, a finite non-zero gradient for every parameter, and shapes
on degenerate graphs (one node, no edges, isolated nodes).
"""

from __future__ import annotations

import importlib.util

import pytest
import torch
from graphs import permute_nodes, random_graph

from moldojo.nn.batch import GraphBatch
from moldojo.nn.registry import LAYERS, build_layer

IN_DIM, OUT_DIM, EDGE_DIM = 6, 8, 3
AVAILABLE = [name for name, spec in LAYERS.items() if importlib.util.find_spec(spec.module)]


def make(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    layer = build_layer(name, IN_DIM, OUT_DIM, EDGE_DIM if LAYERS[name].uses_edges else None)
    return layer.double().eval()


def run(name: str, layer: torch.nn.Module, graph: GraphBatch) -> tuple[torch.Tensor, ...]:
    """Node output, plus edge output for layers that update edges."""
    edge_attr = graph.edge_attr if LAYERS[name].uses_edges else None
    out = layer(graph.x, graph.edge_index, edge_attr)
    return out if isinstance(out, tuple) else (out,)


def graph_for(name: str, seed: int = 0, **kwargs) -> GraphBatch:
    defaults = {"num_nodes": 12, "num_edges": 30, "in_dim": IN_DIM}
    defaults.update(kwargs)
    edge_dim = EDGE_DIM if LAYERS[name].uses_edges else None
    return random_graph(**defaults, edge_dim=edge_dim, seed=seed)


def test_every_registered_layer_is_implemented() -> None:
    missing = sorted(set(LAYERS) - set(AVAILABLE))
    assert not missing, f"registered but not written yet: {missing}"


@pytest.mark.parametrize("name", AVAILABLE)
def test_node_permutation_equivariance(name: str) -> None:
    layer = make(name)
    graph = graph_for(name)
    out = run(name, layer, graph)
    for seed in range(3):
        perm = torch.randperm(graph.num_nodes, generator=torch.Generator().manual_seed(seed))
        permuted_out = run(name, layer, permute_nodes(graph, perm))
        torch.testing.assert_close(permuted_out[0], out[0][perm], atol=1e-10, rtol=1e-10)
        if len(out) > 1:  # edges keep their order under a node permutation
            torch.testing.assert_close(permuted_out[1], out[1], atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("name", AVAILABLE)
def test_edge_order_invariance(name: str) -> None:
    layer = make(name)
    graph = graph_for(name)
    out = run(name, layer, graph)
    order = torch.randperm(graph.num_edges, generator=torch.Generator().manual_seed(1))
    shuffled = graph.replace(
        edge_index=graph.edge_index[:, order],
        edge_attr=None if graph.edge_attr is None else graph.edge_attr[order],
    )
    shuffled_out = run(name, layer, shuffled)
    torch.testing.assert_close(shuffled_out[0], out[0], atol=1e-10, rtol=1e-10)
    if len(out) > 1:
        torch.testing.assert_close(shuffled_out[1], out[1][order], atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("name", AVAILABLE)
def test_no_cross_talk_between_graphs(name: str) -> None:
    layer = make(name)
    graphs = [graph_for(name, seed=s, num_nodes=5 + 3 * s, num_edges=4 + 6 * s) for s in range(3)]
    batched = run(name, layer, GraphBatch.collate(graphs))[0]
    alone = torch.cat([run(name, layer, g)[0] for g in graphs])
    torch.testing.assert_close(batched, alone, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("name", AVAILABLE)
def test_every_parameter_gets_a_finite_nonzero_gradient(name: str) -> None:
    layer = make(name).train()
    graph = graph_for(name, num_nodes=20, num_edges=60)
    outputs = run(name, layer, graph)
    loss = sum((o * torch.randn_like(o)).sum() for o in outputs)
    loss.backward()
    for param_name, param in layer.named_parameters():
        assert param.grad is not None, f"{name}: {param_name} has no gradient"
        assert torch.isfinite(param.grad).all(), f"{name}: {param_name} gradient not finite"
        assert param.grad.abs().sum() > 0, f"{name}: {param_name} gradient is zero"


@pytest.mark.parametrize("name", AVAILABLE)
@pytest.mark.parametrize(
    ("num_nodes", "num_edges"), [(1, 0), (4, 0), (6, 5)], ids=["one-node", "no-edges", "isolated"]
)
def test_degenerate_graphs_give_finite_outputs_of_the_right_shape(
    name: str, num_nodes: int, num_edges: int
) -> None:
    layer = make(name)
    graph = graph_for(name, num_nodes=num_nodes, num_edges=num_edges, isolated=2)
    outputs = run(name, layer, graph)
    assert outputs[0].shape == (num_nodes, OUT_DIM)
    if len(outputs) > 1:
        assert outputs[1].shape == (num_edges, OUT_DIM)
    assert all(torch.isfinite(o).all() for o in outputs)
