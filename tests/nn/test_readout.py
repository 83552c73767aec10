"""Readouts against per-graph computations and PyG's AttentionalAggregation."""

from __future__ import annotations

import pytest
import torch

from moldojo.nn.readout import Readout

F = 6
SIZES = (3, 0, 5, 1)  # the second graph has no nodes


def batch_of(sizes=SIZES, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(sum(sizes), F, generator=g, dtype=torch.float64)
    batch = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    ptr = torch.cat([torch.zeros(1, dtype=torch.long), torch.tensor(sizes).cumsum(0)])
    return x, batch, ptr


def make(kind: str) -> Readout:
    torch.manual_seed(0)
    return Readout(kind, dim=F).double()


def manual(readout: Readout, nodes: torch.Tensor) -> torch.Tensor:
    """The readout of one graph's nodes ``[n, F]``."""
    if nodes.shape[0] == 0:
        return nodes.new_zeros(F)
    if readout.kind == "sum":
        return nodes.sum(0)
    if readout.kind == "mean":
        return nodes.mean(0)
    if readout.kind == "max":
        return nodes.max(0).values
    weights = torch.softmax(readout.gate(nodes), dim=0)
    return (weights * readout.value(nodes)).sum(0)


@pytest.mark.parametrize("kind", ["sum", "mean", "max", "attention"])
def test_each_kind_matches_a_per_graph_computation(kind: str) -> None:
    readout = make(kind)
    x, batch, ptr = batch_of()
    out = readout(x, batch, num_graphs=len(SIZES))
    expected = torch.stack([manual(readout, x[ptr[b] : ptr[b + 1]]) for b in range(len(SIZES))])
    assert out.shape == (len(SIZES), F)
    torch.testing.assert_close(out, expected, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(out[1], torch.zeros(F, dtype=torch.float64), atol=0, rtol=0)


def test_attention_equals_pyg_attentional_aggregation() -> None:
    aggr = pytest.importorskip("torch_geometric.nn.aggr")
    readout = make("attention")
    x, batch, _ = batch_of()
    pyg = aggr.AttentionalAggregation(gate_nn=readout.gate, nn=readout.value)
    torch.testing.assert_close(
        readout(x, batch, len(SIZES)), pyg(x, batch, dim_size=len(SIZES)), atol=1e-12, rtol=1e-12
    )


@pytest.mark.parametrize("kind", ["sum", "mean", "max", "attention"])
def test_invariant_to_node_order_within_graphs(kind: str) -> None:
    readout = make(kind)
    x, batch, ptr = batch_of()
    out = readout(x, batch, len(SIZES))
    g = torch.Generator().manual_seed(1)
    for _ in range(3):
        perm = torch.cat(
            [ptr[b] + torch.randperm(n, generator=g) for b, n in enumerate(SIZES)]
        )  # shuffles nodes inside each graph, keeps graphs contiguous
        torch.testing.assert_close(readout(x[perm], batch[perm], len(SIZES)), out)
        # and graphs need not be contiguous at all
        shuffle = torch.randperm(x.shape[0], generator=g)
        torch.testing.assert_close(readout(x[shuffle], batch[shuffle], len(SIZES)), out)


@pytest.mark.parametrize("kind", ["sum", "mean", "max", "attention"])
def test_empty_graphs_read_out_as_zeros(kind: str) -> None:
    readout = make(kind)
    x, batch, _ = batch_of(sizes=(2, 0))  # a trailing empty graph needs num_graphs
    assert readout(x, batch).shape == (1, F)
    out = readout(x, batch, num_graphs=2)
    assert torch.equal(out[1], torch.zeros(F, dtype=torch.float64))
    nothing = readout(x[:0], batch[:0], num_graphs=3)
    assert torch.equal(nothing, torch.zeros(3, F, dtype=torch.float64))
    assert readout(x[:0], batch[:0]).shape == (0, F)


def test_attention_gradients_are_finite_with_empty_graphs() -> None:
    readout = make("attention")
    x, batch, _ = batch_of()
    x.requires_grad_(True)
    readout(x, batch, len(SIZES)).sum().backward()
    assert torch.isfinite(x.grad).all()
    assert all(
        torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0 for p in readout.parameters()
    )


def test_attention_is_stable_for_large_scores() -> None:
    readout = make("attention")
    x, batch, _ = batch_of()
    out = readout(1e4 * x, batch, len(SIZES))
    assert torch.isfinite(out).all()


def test_choices_and_repr() -> None:
    with pytest.raises(ValueError, match="kind='root'"):
        Readout("root")
    with pytest.raises(ValueError, match="give dim"):
        Readout("attention")
    assert list(Readout("sum").parameters()) == []
    assert Readout("mean").extra_repr() == "'mean'"
    assert Readout("attention", dim=F).extra_repr() == f"'attention', dim={F}"
