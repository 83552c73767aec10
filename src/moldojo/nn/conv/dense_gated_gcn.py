"""``DenseGatedGCNConv``: the gated graph convolution on dense, fully connected graphs.

Pure torch; no moldojo imports.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["DenseGatedGCNConv"]


class DenseGatedGCNConv(nn.Module):
    r""":class:`~moldojo.nn.conv.gated_gcn.GatedGCNConv` (normalised gate) for batches of
    *fully connected* graphs stored densely, as in the bond decoder of Bresson & Laurent 2019,
    "A Two-Step Graph Convolutional Decoder for Molecule Generation" (arXiv:1906.03412).

    On a complete graph every pair is an edge, so the edge list is the ``n x n`` grid and the
    gathers and scatters of the sparse layer become broadcasts and sums over a padded tensor
    (about twice as fast on CPU for molecule-sized graphs). For graph ``b`` and ``j != i``::

        ê_bij = C e_bij + A h_bi + B h_bj
        h_bi' = U h_bi + Σ_{j ≠ i, j < n_b} σ(ê_bij) ⊙ V h_bj / (Σ_{j ≠ i, j < n_b} σ(ê_bij) + ε)

    which is the sparse layer's update with ``i`` the target and ``j`` the source of each edge;
    with the same weights both give the same numbers (tested). Padding nodes (``mask`` False)
    and the diagonal send nothing; their outputs are computed but meaningless.

    Args:
        in_dim: node feature size ``F_in``.
        out_dim: output size ``F_out`` of node and edge states.
        edge_dim: edge feature size ``F_e``.
        eps: ``ε`` of the normalised gate.

    Shapes:
        - x: ``[B, n, F_in]``; edge_attr: ``[B, n, n, F_e]`` (``[b, i, j]`` is the edge
          ``j -> i``); mask: ``[B, n]`` bool, True for real nodes.
        - returns: ``(x' [B, n, F_out], ê [B, n, n, F_out])``.
    """

    def __init__(self, in_dim: int, out_dim: int, *, edge_dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.edge_dim = edge_dim
        self.eps = eps
        self.A = nn.Linear(in_dim, out_dim, bias=False)
        self.B = nn.Linear(in_dim, out_dim, bias=False)
        self.C = nn.Linear(edge_dim, out_dim)
        self.U = nn.Linear(in_dim, out_dim)
        self.V = nn.Linear(in_dim, out_dim)

    def reset_parameters(self) -> None:
        for lin in (self.A, self.B, self.C, self.U, self.V):
            lin.reset_parameters()

    def forward(self, x: Tensor, edge_attr: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        n = x.shape[1]
        e_hat = self.C(edge_attr) + self.A(x).unsqueeze(2) + self.B(x).unsqueeze(1)  # (B,n,n,d)
        eye = torch.eye(n, dtype=torch.bool, device=x.device)
        sends = (mask.unsqueeze(1) & ~eye).unsqueeze(-1)  # (B, 1->n, n, 1): source j is real
        sigma = torch.sigmoid(e_hat) * sends
        numerator = (sigma * self.V(x).unsqueeze(1)).sum(dim=2)  # (B, n, d)
        return self.U(x) + numerator / (sigma.sum(dim=2) + self.eps), e_hat

    def extra_repr(self) -> str:
        return f"{self.in_dim}, {self.out_dim}, edge_dim={self.edge_dim}, eps={self.eps:g}"
