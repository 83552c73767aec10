"""The dense gated GCN equals the sparse one on complete graphs."""

from __future__ import annotations

import torch

from moldojo.nn.conv.dense_gated_gcn import DenseGatedGCNConv
from moldojo.nn.conv.gated_gcn import GatedGCNConv


def test_dense_equals_sparse_on_complete_graphs_with_padding() -> None:
    torch.manual_seed(0)
    sizes = [3, 1, 5]
    n, d = max(sizes), 6
    dense = DenseGatedGCNConv(4, d, edge_dim=3).double()
    sparse = GatedGCNConv(4, d, edge_dim=3).double()
    sparse.load_state_dict(dense.state_dict())
    x = torch.randn(len(sizes), n, 4, dtype=torch.float64)
    e = torch.randn(len(sizes), n, n, 3, dtype=torch.float64)
    mask = torch.zeros(len(sizes), n, dtype=torch.bool)
    for b, size in enumerate(sizes):
        mask[b, :size] = True
    h_dense, e_dense = dense(x, e, mask)
    for b, size in enumerate(sizes):
        # the edge j -> i of the dense layout is e[b, i, j]: source j, target i
        pairs = [(j, i) for i in range(size) for j in range(size) if i != j]
        edge_index = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).T
        edge_attr = torch.stack([e[b, i, j] for j, i in pairs]) if pairs else e.new_zeros(0, 3)
        h_sparse, e_sparse = sparse(x[b, :size], edge_index, edge_attr)
        assert torch.allclose(h_dense[b, :size], h_sparse, atol=1e-10)
        for k, (j, i) in enumerate(pairs):
            assert torch.allclose(e_dense[b, i, j], e_sparse[k], atol=1e-10)


def test_padding_does_not_leak() -> None:
    torch.manual_seed(1)
    layer = DenseGatedGCNConv(4, 4, edge_dim=4).double()
    x = torch.randn(1, 5, 4, dtype=torch.float64)
    e = torch.randn(1, 5, 5, 4, dtype=torch.float64)
    mask = torch.tensor([[True, True, True, False, False]])
    h1, _ = layer(x, e, mask)
    x2, e2 = x.clone(), e.clone()
    x2[0, 3:] = 100.0
    e2[0, :, 3:] = -50.0
    h2, _ = layer(x2, e2, mask)
    assert torch.allclose(h1[0, :3], h2[0, :3])
