"""ResidualBlock and GNNEncoder, with GatedGCNConv (updates edges) and a tiny local conv."""

from __future__ import annotations

import pytest
import torch
from graphs import random_graph
from torch import nn

from moldojo.nn.batch import GraphBatch
from moldojo.nn.blocks import EncoderOutput, GNNEncoder, ResidualBlock
from moldojo.nn.conv.gated_gcn import GatedGCNConv
from moldojo.nn.registry import LAYERS, LayerSpec
from moldojo.nn.scatter import scatter_sum

DIM, EDGE_DIM = 8, 4


class TinyConv(nn.Module):
    """``h_i' = W h_i + Σ_{j -> i} (M h_j + L e_ij)``: reads edges, does not update them."""

    def __init__(self, in_dim: int, out_dim: int, edge_dim: int | None = None) -> None:
        super().__init__()
        self.self_lin = nn.Linear(in_dim, out_dim)
        self.msg_lin = nn.Linear(in_dim, out_dim)
        self.edge_lin = nn.Linear(edge_dim, out_dim, bias=False) if edge_dim else None

    def reset_parameters(self) -> None:
        for lin in (self.self_lin, self.msg_lin, self.edge_lin):
            if lin is not None:
                lin.reset_parameters()

    def forward(self, x, edge_index, edge_attr=None):
        message = self.msg_lin(x)[edge_index[0]]
        if self.edge_lin is not None:
            message = message + self.edge_lin(edge_attr)
        return self.self_lin(x) + scatter_sum(message, edge_index[1], x.shape[0])


def zero_(module: nn.Module) -> nn.Module:
    with torch.no_grad():
        for param in module.parameters():
            param.zero_()
    return module


def graph(num_nodes: int = 10, num_edges: int = 24, in_dim: int = DIM, seed: int = 0):
    return random_graph(num_nodes, num_edges, in_dim, EDGE_DIM, seed=seed)


@pytest.mark.parametrize("norm_order", ["post", "pre"])
@pytest.mark.parametrize("activation", ["relu", "gelu", "tanh"])
def test_block_with_zeroed_branch_is_the_identity(norm_order: str, activation: str) -> None:
    # Given a conv whose weights and biases are all zero, no norm, and dropout active,
    # then the block returns its inputs: nodes for both convs, edges for the one updating them.
    g = graph()
    edge_attr = torch.randn(g.num_edges, DIM, dtype=torch.float64)
    for conv in (GatedGCNConv(DIM, DIM, edge_dim=DIM), TinyConv(DIM, DIM, EDGE_DIM)):
        block = ResidualBlock(
            zero_(conv),
            dim=DIM,
            norm=None,
            dropout=0.5,
            norm_order=norm_order,
            activation=activation,
        ).double()
        block.train()
        e_in = edge_attr if block.updates_edges else g.edge_attr
        h, e = block(g.x, g.edge_index, e_in)
        torch.testing.assert_close(h, g.x, atol=0, rtol=0)
        assert e is e_in or torch.equal(e, e_in)


def test_projection_on_the_skip_path_when_dims_differ() -> None:
    in_dim, edge_in = 5, 3
    g = random_graph(7, 15, in_dim, edge_in, seed=1)
    conv = zero_(GatedGCNConv(in_dim, DIM, edge_dim=edge_in))
    block = ResidualBlock(conv, dim=DIM, norm=None, in_dim=in_dim, edge_dim=edge_in).double()
    assert isinstance(block.skip, nn.Linear) and block.skip.bias is None
    assert block.skip.weight.shape == (DIM, in_dim)
    assert block.edge_skip.weight.shape == (DIM, edge_in)
    h, e = block(g.x, g.edge_index, g.edge_attr)
    torch.testing.assert_close(h, g.x @ block.skip.weight.T)
    torch.testing.assert_close(e, g.edge_attr @ block.edge_skip.weight.T)
    same = ResidualBlock(GatedGCNConv(DIM, DIM, edge_dim=DIM), dim=DIM)
    assert isinstance(same.skip, nn.Identity) and isinstance(same.edge_skip, nn.Identity)


@pytest.mark.parametrize("norm", ["layer", "batch"])
def test_post_norm_order(norm: str) -> None:
    # h' = h + Act(Norm(conv(h))), e' = e + Act(Norm_e(ê)) (dropout 0, training mode)
    torch.manual_seed(0)
    g = graph()
    edge_attr = torch.randn(g.num_edges, DIM, dtype=torch.float64)
    block = ResidualBlock(GatedGCNConv(DIM, DIM, edge_dim=DIM), dim=DIM, norm=norm).double()
    h, e = block(g.x, g.edge_index, edge_attr)
    h_conv, e_conv = block.conv(g.x, g.edge_index, edge_attr)
    torch.testing.assert_close(h, g.x + torch.relu(block.norm(h_conv)))
    torch.testing.assert_close(e, edge_attr + torch.relu(block.edge_norm(e_conv)))


@pytest.mark.parametrize("norm", ["layer", "batch"])
def test_pre_norm_order(norm: str) -> None:
    # h' = P h + conv(Act(Norm(h))), with Norm over in_dim features
    torch.manual_seed(0)
    in_dim = 5
    g = random_graph(10, 24, in_dim, EDGE_DIM, seed=2)
    conv = TinyConv(in_dim, DIM, EDGE_DIM)
    block = ResidualBlock(conv, dim=DIM, norm=norm, norm_order="pre", in_dim=in_dim).double()
    features = block.norm.normalized_shape[0] if norm == "layer" else block.norm.num_features
    assert features == in_dim
    h, e = block(g.x, g.edge_index, g.edge_attr)
    expected = block.skip(g.x) + conv(torch.relu(block.norm(g.x)), g.edge_index, g.edge_attr)
    torch.testing.assert_close(h, expected)
    assert e is g.edge_attr


def test_pre_norm_edge_stream() -> None:
    torch.manual_seed(0)
    g = graph()
    edge_attr = torch.randn(g.num_edges, DIM, dtype=torch.float64)
    conv = GatedGCNConv(DIM, DIM, edge_dim=DIM)
    block = ResidualBlock(conv, dim=DIM, norm="layer", norm_order="pre").double()
    h, e = block(g.x, g.edge_index, edge_attr)
    h_conv, e_conv = conv(
        torch.relu(block.norm(g.x)), g.edge_index, torch.relu(block.edge_norm(edge_attr))
    )
    torch.testing.assert_close(h, g.x + h_conv)
    torch.testing.assert_close(e, edge_attr + e_conv)


@pytest.mark.parametrize("norm_order", ["post", "pre"])
def test_batch_norm_with_single_node_graphs(norm_order: str) -> None:
    torch.manual_seed(0)
    block = ResidualBlock(
        GatedGCNConv(DIM, DIM, edge_dim=DIM), dim=DIM, norm_order=norm_order
    ).double()
    big = graph(num_nodes=30, num_edges=80)
    big_edges = torch.randn(80, DIM, dtype=torch.float64)
    for _ in range(3):  # gather running statistics
        block(big.x, big.edge_index, big_edges)

    single = torch.randn(1, DIM, dtype=torch.float64)
    no_edges = torch.zeros(2, 0, dtype=torch.long)
    empty_edges = torch.zeros(0, DIM, dtype=torch.float64)

    # Training mode: one node and no edges neither raise nor spoil the running statistics.
    stats = [b.clone() for b in block.buffers()]
    h, e = block(single, no_edges, empty_edges)
    assert h.shape == (1, DIM) and e.shape == (0, DIM) and torch.isfinite(h).all()
    for before, after in zip(stats, block.buffers(), strict=True):
        torch.testing.assert_close(after, before, atol=0, rtol=0)

    # Eval mode: a node reads the same alone as inside a batch.
    block.eval()
    h, _ = block(single, no_edges, empty_edges)
    assert torch.isfinite(h).all()
    pair = GraphBatch.collate(
        [
            GraphBatch.from_graph(single, no_edges, empty_edges),
            GraphBatch.from_graph(big.x[:4], no_edges, empty_edges),
        ]
    )
    h_pair, _ = block(pair.x, pair.edge_index, pair.edge_attr)
    torch.testing.assert_close(h_pair[:1], h)


def test_bad_choices_are_refused() -> None:
    conv = TinyConv(DIM, DIM)
    with pytest.raises(ValueError, match="norm='group'"):
        ResidualBlock(conv, dim=DIM, norm="group")
    with pytest.raises(ValueError, match="activation='swish'"):
        ResidualBlock(conv, dim=DIM, activation="swish")


def test_block_repr_shows_dims() -> None:
    block = ResidualBlock(GatedGCNConv(5, DIM, edge_dim=3), dim=DIM, in_dim=5, edge_dim=3)
    assert block.extra_repr().startswith(f"5, {DIM}, edge_dim=3, norm='batch'")


@pytest.fixture
def tiny_layer(monkeypatch: pytest.MonkeyPatch) -> str:
    """Register TinyConv in the dojo for the duration of a test."""
    spec = LayerSpec(
        __name__, "TinyConv", "test conv", uses_edges=True, updates_edges=False, pyg="-"
    )
    monkeypatch.setitem(LAYERS, "tiny", spec)
    return "tiny"


def molecules(in_dim: int = 6, edge_dim: int = 3) -> GraphBatch:
    graphs = [
        random_graph(n, 2 * n, in_dim, edge_dim, seed=n, dtype=torch.float32) for n in (1, 5, 9)
    ]
    return GraphBatch.collate(graphs)


@pytest.mark.parametrize("norm_order", ["post", "pre"])
@pytest.mark.parametrize("norm", ["batch", "layer", None])
def test_encoder_with_gated_gcn(norm_order: str, norm: str | None) -> None:
    torch.manual_seed(0)
    batch = molecules()
    encoder = GNNEncoder(
        "gated-gcn", 6, 16, 3, edge_dim=3, norm=norm, norm_order=norm_order, dropout=0.1
    )
    out = encoder(batch)
    assert isinstance(out, EncoderOutput)
    assert out.x.shape == (batch.num_nodes, 16)
    assert out.edge_attr.shape == (batch.num_edges, 16)
    assert len(encoder.blocks) == 3 and all(b.updates_edges for b in encoder.blocks)
    (out.x.sum() + out.edge_attr.sum()).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in encoder.parameters())


def test_encoder_is_generic_over_layers(tiny_layer: str) -> None:
    torch.manual_seed(0)
    batch = molecules()
    encoder = GNNEncoder(tiny_layer, 6, 16, 2, edge_dim=3)
    assert all(isinstance(b.conv, TinyConv) and not b.updates_edges for b in encoder.blocks)
    out = encoder(batch)
    assert out.x.shape == (batch.num_nodes, 16)
    assert out.edge_attr is None


def test_encoder_in_eval_mode_on_a_single_atom() -> None:
    torch.manual_seed(0)
    encoder = GNNEncoder("gated-gcn", 6, 16, 2, edge_dim=3)
    encoder(molecules())  # one training step's worth of running statistics
    encoder.eval()
    atom = GraphBatch.from_graph(
        torch.randn(1, 6), torch.zeros(2, 0, dtype=torch.long), torch.zeros(0, 3)
    )
    out = encoder(atom)
    assert out.x.shape == (1, 16) and out.edge_attr.shape == (0, 16)
    assert torch.isfinite(out.x).all()


def test_encoder_refuses_missing_edge_features() -> None:
    with pytest.raises(ValueError, match="edge_dim"):
        GNNEncoder("gated-gcn", 6, 16, 2)
    with pytest.raises(KeyError, match="unknown layer"):
        GNNEncoder("no-such-layer", 6, 16, 2)
    encoder = GNNEncoder("gated-gcn", 6, 16, 2, edge_dim=3)
    with pytest.raises(ValueError, match="edge_attr is None"):
        encoder(molecules().replace(edge_attr=None))


@pytest.mark.parametrize("norm_order", ["post", "pre"])
def test_a_trimmed_block_computes_the_first_rows_and_edges_of_the_full_one(
    norm_order: str,
) -> None:
    torch.manual_seed(0)
    block = ResidualBlock(GatedGCNConv(DIM, DIM, edge_dim=DIM), dim=DIM, norm="layer",
                          norm_order=norm_order)  # fmt: skip
    x, e = torch.randn(10, DIM), torch.randn(30, DIM)
    # edges into nodes 0..3 first: the targets a trimmed layer updates
    edge_index = torch.stack([torch.randint(0, 10, (30,)), torch.randint(0, 4, (30,))])
    full_h, full_e = block(x, edge_index, e)
    h, e_out = block(x, edge_index, e, num_targets=4, num_edges=12)
    torch.testing.assert_close(h, full_h[:4])
    torch.testing.assert_close(e_out, full_e[:12])
    assert block(x, edge_index, e, num_targets=4, num_edges=0)[1].shape == (0, DIM)
