"""GatedGCNConv against a loop-by-loop reference of its equations and against PyG's
ResGatedGraphConv. (Equivariance, cross-talk and gradients are in test_layer_properties.py.)"""

from __future__ import annotations

import pytest
import torch
from graphs import random_graph

from moldojo.nn.conv.gated_gcn import GatedGCNConv
from moldojo.nn.registry import LAYERS, build_layer

IN_DIM, OUT_DIM, EDGE_DIM = 5, 7, 3


def make(gate: str = "normalized", seed: int = 0, **kwargs) -> GatedGCNConv:
    torch.manual_seed(seed)
    conv = GatedGCNConv(IN_DIM, OUT_DIM, edge_dim=EDGE_DIM, gate=gate, **kwargs).double()
    with torch.no_grad():  # non-zero biases everywhere, so that they are checked too
        for param in conv.parameters():
            if param.dim() == 1:
                param.normal_()
    return conv


def reference(conv: GatedGCNConv, x, edge_index, edge_attr) -> tuple[torch.Tensor, torch.Tensor]:
    """The equations of the docstring, one edge and one node at a time."""

    def lin(layer, v):
        return layer.weight @ v + (layer.bias if layer.bias is not None else 0)

    num_nodes, num_edges = x.shape[0], edge_index.shape[1]
    e_hat = x.new_zeros(num_edges, conv.out_dim)
    for k in range(num_edges):
        j, i = edge_index[:, k]  # source, target
        e_hat[k] = lin(conv.C, edge_attr[k]) + lin(conv.A, x[i]) + lin(conv.B, x[j])
    h = []
    for i in range(num_nodes):
        incoming = [k for k in range(num_edges) if edge_index[1, k] == i]
        sigmas = {k: torch.sigmoid(e_hat[k]) for k in incoming}
        total = sum(sigmas.values(), x.new_zeros(conv.out_dim))
        h_i = lin(conv.U, x[i])
        for k in incoming:
            eta = sigmas[k] / (total + conv.eps) if conv.gate == "normalized" else sigmas[k]
            h_i = h_i + eta * lin(conv.V, x[edge_index[0, k]])
        h.append(h_i)
    return torch.stack(h), e_hat


@pytest.mark.parametrize("gate", ["normalized", "sigmoid"])
@pytest.mark.parametrize(("num_nodes", "num_edges", "seed"), [(6, 14, 0), (9, 25, 1), (3, 0, 2)])
def test_matches_the_equations(gate: str, num_nodes: int, num_edges: int, seed: int) -> None:
    conv = make(gate, seed=seed)
    g = random_graph(num_nodes, num_edges, IN_DIM, EDGE_DIM, seed=seed, isolated=2)
    h, e = conv(g.x, g.edge_index, g.edge_attr)
    h_ref, e_ref = reference(conv, g.x, g.edge_index, g.edge_attr)
    torch.testing.assert_close(h, h_ref, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(e, e_ref, atol=1e-12, rtol=1e-12)


def test_without_bias_matches_the_equations() -> None:
    conv = make(bias=False)
    assert all(lin.bias is None for lin in (conv.A, conv.B, conv.C, conv.U, conv.V))
    g = random_graph(7, 16, IN_DIM, EDGE_DIM, seed=3)
    h, e = conv(g.x, g.edge_index, g.edge_attr)
    h_ref, e_ref = reference(conv, g.x, g.edge_index, g.edge_attr)
    torch.testing.assert_close(h, h_ref, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(e, e_ref, atol=1e-12, rtol=1e-12)


def test_normalized_gates_average_the_messages() -> None:
    # Given every node with the same state and at least one incoming edge, with ε = 0,
    # then Σ_j η_ij V h_j = V h, since the η_ij of each node sum to one.
    conv = make(eps=0.0)
    g = random_graph(5, 12, IN_DIM, EDGE_DIM, seed=4, isolated=0)
    ring = torch.stack([torch.arange(5), torch.arange(5).roll(1)])
    edge_index = torch.cat([g.edge_index, ring], dim=1)
    edge_attr = torch.cat([g.edge_attr, torch.randn(5, EDGE_DIM, dtype=torch.float64)])
    x = g.x[:1].expand(5, -1).contiguous()
    h, _ = conv(x, edge_index, edge_attr)
    torch.testing.assert_close(h, conv.U(x) + conv.V(x), atol=1e-12, rtol=1e-12)


def test_isolated_nodes_keep_only_their_own_term() -> None:
    conv = make()
    g = random_graph(8, 20, IN_DIM, EDGE_DIM, seed=5, isolated=3)
    h, _ = conv(g.x, g.edge_index, g.edge_attr)
    torch.testing.assert_close(h[-3:], conv.U(g.x[-3:]), atol=1e-12, rtol=1e-12)


def copy_into_pyg(conv: GatedGCNConv, pyg: torch.nn.Module) -> None:
    """PyG's key, query and value read ``[x, e]``: key [A | C], query [B | 0], value [V | 0]."""
    d_in = conv.in_dim
    with torch.no_grad():
        for lin in (pyg.lin_key, pyg.lin_query, pyg.lin_value):
            lin.weight.zero_()
            lin.bias.zero_()
        pyg.lin_key.weight[:, :d_in] = conv.A.weight
        pyg.lin_key.weight[:, d_in:] = conv.C.weight
        pyg.lin_key.bias.copy_(conv.C.bias)
        pyg.lin_query.weight[:, :d_in] = conv.B.weight
        pyg.lin_value.weight[:, :d_in] = conv.V.weight
        pyg.lin_value.bias.copy_(conv.V.bias)
        pyg.lin_skip.weight.copy_(conv.U.weight)
        pyg.bias.copy_(conv.U.bias)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_sigmoid_gate_equals_pyg_res_gated_graph_conv(dtype: torch.dtype) -> None:
    nn_conv = pytest.importorskip("torch_geometric.nn.conv")
    conv = make("sigmoid").to(dtype)
    pyg = nn_conv.ResGatedGraphConv(IN_DIM, OUT_DIM, edge_dim=EDGE_DIM).to(dtype)
    copy_into_pyg(conv, pyg)
    for seed in range(3):
        g = random_graph(20, 60, IN_DIM, EDGE_DIM, seed=seed, dtype=dtype, isolated=3)
        h, _ = conv(g.x, g.edge_index, g.edge_attr)
        expected = pyg(g.x, g.edge_index, g.edge_attr)
        tol = 1e-12 if dtype == torch.float64 else 1e-5
        torch.testing.assert_close(h, expected, atol=tol, rtol=tol)


def test_registry_builds_it_with_the_declared_interface() -> None:
    conv = build_layer("gated-gcn", IN_DIM, OUT_DIM, EDGE_DIM)
    assert isinstance(conv, GatedGCNConv)
    assert conv.updates_edges is LAYERS["gated-gcn"].updates_edges is True
    g = random_graph(4, 6, IN_DIM, EDGE_DIM, dtype=torch.float32)
    h, e = conv(g.x, g.edge_index, g.edge_attr)
    assert h.shape == (4, OUT_DIM) and e.shape == (6, OUT_DIM)
    assert h.dtype == e.dtype == torch.float32


def test_reset_parameters_and_repr() -> None:
    conv = make()
    before = [p.clone() for p in conv.parameters()]
    conv.reset_parameters()
    assert any(not torch.equal(a, b) for a, b in zip(before, conv.parameters(), strict=True))
    assert (
        conv.extra_repr()
        == f"{IN_DIM}, {OUT_DIM}, edge_dim={EDGE_DIM}, gate='normalized', eps=1e-06"
    )


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="gate='softmax'"):
        GatedGCNConv(IN_DIM, OUT_DIM, edge_dim=EDGE_DIM, gate="softmax")
    conv = make()
    g = random_graph(4, 6, IN_DIM, EDGE_DIM)
    with pytest.raises(ValueError, match="edge_attr"):
        conv(g.x, g.edge_index, None)
