"""``GCNConv``: the graph convolution of Kipf & Welling, with self-loops and symmetric
normalisation.

Pure torch; imports nothing from moldojo but :mod:`moldojo.nn.scatter`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from moldojo.nn.scatter import scatter_sum

__all__ = ["GCNConv"]


class GCNConv(nn.Module):
    r"""Graph convolution from `"Semi-Supervised Classification with Graph Convolutional
    Networks" <https://arxiv.org/abs/1609.02907>`_ (Kipf & Welling, ICLR 2017).

    .. math::
        X' = \hat D^{-1/2} \hat A \hat D^{-1/2} X W + b, \qquad \hat A = A + I,

    node by node

    .. math::
        x'_i = \sum_{j \in \mathcal{N}(i) \cup \{i\}}
               \frac{1}{\sqrt{\hat d_i \hat d_j}} W^\top x_j + b,
        \qquad \hat d_i = 1 + |\{(j, i) \in \mathcal{E} : j \ne i\}|,

    where the degree counts incoming edges (the target side), each parallel edge once.

    It computes what PyTorch Geometric's ``GCNConv`` does with its defaults
    (``add_self_loops=True, normalize=True, improved=False, cached=False``), including its
    handling of self-loops already in the graph: they are dropped and every node gets exactly
    one self-loop of weight 1 (PyG's ``add_remaining_self_loops``). The layer has no edge
    features and no edge weights.

    Args:
        in_dim: size of the input node features.
        out_dim: size of the output node features.
        bias: whether to learn the additive bias ``b``.

    Shapes:
        - input: ``x [N, in_dim]``, ``edge_index [2, E]`` (row 0 source, row 1 target),
          ``edge_attr`` ignored (``None`` or ``[E, *]``).
        - output: ``[N, out_dim]``.
    """

    def __init__(self, in_dim: int, out_dim: int, *, bias: bool = True) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.lin = nn.Linear(in_dim, out_dim, bias=False)
        self.bias = nn.Parameter(torch.empty(out_dim)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform weight and zero bias, as in the paper and PyG."""
        nn.init.xavier_uniform_(self.lin.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        """Convolve.

        Args:
            x: ``[N, in_dim]`` node features.
            edge_index: ``[2, E]`` long, row 0 the source, row 1 the target of each edge.
            edge_attr: ignored; accepted so that every layer of the dojo is called alike.

        Returns:
            ``[N, out_dim]``.
        """
        num_nodes = x.shape[0]
        src, dst = edge_index[0], edge_index[1]
        # Self-loops in the input are replaced by one unit self-loop per node (as PyG does).
        # Rather than masking them out (a data-dependent shape), count them per node and
        # correct the sums: the degree loses them, and the self term 1 - loops_i cancels them.
        loops = scatter_sum((src == dst).to(x.dtype), dst, num_nodes)  # [N]
        deg = scatter_sum(torch.ones_like(dst, dtype=x.dtype), dst, num_nodes) - loops + 1.0
        deg_inv_sqrt = deg.rsqrt().unsqueeze(-1)  # [N, 1], deg >= 1 so always finite

        # Normalise the source side on nodes (N rows), not on edges (E rows).
        h = self.lin(x) * deg_inv_sqrt  # [N, out_dim]
        agg = scatter_sum(h.index_select(0, src), dst, num_nodes)  # [N, out_dim]
        out = deg_inv_sqrt * (agg + (1.0 - loops).unsqueeze(-1) * h)
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        return f"in_dim={self.in_dim}, out_dim={self.out_dim}, bias={self.bias is not None}"
