"""``GATConv``: multi-head graph attention of Velickovic et al., with optional edge features.

Pure torch; imports nothing from moldojo but :mod:`moldojo.nn.scatter`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from moldojo.nn.scatter import scatter_softmax, scatter_sum

__all__ = ["GATConv"]


class GATConv(nn.Module):
    r"""Graph attention from `"Graph Attention Networks" <https://arxiv.org/abs/1710.10903>`_
    (Velickovic et al., ICLR 2018).

    With :math:`H` heads of :math:`C` channels, head :math:`h` computes

    .. math::
        x'^{(h)}_i = \sum_{j \in \mathcal{N}(i) \cup \{i\}} \alpha^{(h)}_{ij} W^{(h)} x_j,
        \qquad
        \alpha^{(h)}_{ij} = \operatorname{softmax}_j\Big(\mathrm{LeakyReLU}\big(
            a_s^{(h)\top} W^{(h)} x_j + a_t^{(h)\top} W^{(h)} x_i
            + a_e^{(h)\top} W_e^{(h)} e_{ji}\big)\Big),

    the softmax running over the incoming edges of :math:`i` (one term per parallel edge) and
    the edge term present only with ``edge_dim``. The heads are concatenated,
    :math:`x'_i = \Vert_h x'^{(h)}_i + b`, or averaged, :math:`x'_i = \frac1H \sum_h
    x'^{(h)}_i + b`.

    It computes what PyTorch Geometric's ``GATConv(in_dim, C, heads=H, edge_dim=edge_dim)``
    does (``fill_value="mean"``, ``residual=False``), including its self-loops: self-loops
    already in the graph are dropped (here: given zero attention) and every node gets one
    self-loop whose edge feature is the mean of its incoming edges' features (zero without
    any). Unlike PyG, ``out_dim`` is the total output width (see ``concat``).

    Two rewrites make it cheaper than the equations read, with the same result: the attention
    vectors are folded into the projections (:math:`a^\top W x = (W^\top a)^\top x`, so the
    scores come out of the same matrix product as :math:`W x`, and the edge term is a
    ``[E, edge_dim] @ [edge_dim, H]`` product, never ``[E, H, C]``), and the self-loops are
    added on nodes (``[N, H, C]``) rather than as ``N`` extra gathered edges.

    Args:
        in_dim: size of the input node features.
        out_dim: size of the output node features: ``H * C`` with ``concat``, else ``C``.
        edge_dim: size of the edge features, or None for a layer that ignores them.
        num_heads: number of attention heads ``H``.
        concat: concatenate the heads (each then has ``out_dim // num_heads`` channels) or
            average them (each has ``out_dim`` channels).
        dropout: dropout probability on the attention coefficients (training only).
        negative_slope: slope of the LeakyReLU for negative scores.
        add_self_loops: whether every node attends to itself.
        bias: whether to learn the additive bias ``b``.

    Shapes:
        - input: ``x [N, in_dim]``, ``edge_index [2, E]`` (row 0 source, row 1 target),
          ``edge_attr [E, edge_dim]`` (ignored when ``edge_dim`` is None).
        - output: ``[N, out_dim]``; with ``return_attention=True`` also
          ``(edge_index [2, E'], alpha [E', H])``, where ``E' = E + N`` with self-loops
          (appended in node order), else ``E' = E``.

    Raises:
        ValueError: ``concat`` and ``out_dim`` not divisible by ``num_heads``.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        *,
        edge_dim: int | None = None,
        num_heads: int = 4,
        concat: bool = True,
        dropout: float = 0.0,
        negative_slope: float = 0.2,
        add_self_loops: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if concat and out_dim % num_heads != 0:
            raise ValueError(
                f"GATConv with concat=True splits out_dim over the heads, but out_dim={out_dim} "
                f"is not divisible by num_heads={num_heads}; choose out_dim a multiple of "
                f"num_heads or pass concat=False"
            )
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.edge_dim = edge_dim
        self.num_heads = num_heads
        self.head_dim = out_dim // num_heads if concat else out_dim
        self.concat = concat
        self.dropout = dropout
        self.negative_slope = negative_slope
        self.add_self_loops = add_self_loops

        H, C = num_heads, self.head_dim
        self.lin = nn.Linear(in_dim, H * C, bias=False)
        self.att_src = nn.Parameter(torch.empty(H, C))
        self.att_dst = nn.Parameter(torch.empty(H, C))
        if edge_dim is not None:
            self.lin_edge = nn.Linear(edge_dim, H * C, bias=False)
            self.att_edge = nn.Parameter(torch.empty(H, C))
        else:
            self.lin_edge = None
            self.register_parameter("att_edge", None)
        self.bias = nn.Parameter(torch.empty(out_dim)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform weights and attention vectors, zero bias (as the paper and PyG)."""
        nn.init.xavier_uniform_(self.lin.weight)
        nn.init.xavier_uniform_(self.att_src)
        nn.init.xavier_uniform_(self.att_dst)
        if self.lin_edge is not None:
            nn.init.xavier_uniform_(self.lin_edge.weight)
            nn.init.xavier_uniform_(self.att_edge)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
        *,
        return_attention: bool = False,
    ) -> Tensor | tuple[Tensor, tuple[Tensor, Tensor]]:
        """Attend over incoming edges (and self-loops).

        Args:
            x: ``[N, in_dim]`` node features.
            edge_index: ``[2, E]`` long, row 0 the source, row 1 the target of each edge.
            edge_attr: ``[E, edge_dim]`` edge features; needed iff ``edge_dim`` was given.
            return_attention: also return the edges attended over and their coefficients.

        Returns:
            ``[N, out_dim]``; with ``return_attention``, ``(out, (edge_index [2, E'],
            alpha [E', H]))``, ``alpha`` before dropout (summing to one over each node's
            incoming edges). Input self-loops, replaced by the added ones, keep their place
            with weight zero.
        """
        N, H, C = x.shape[0], self.num_heads, self.head_dim
        E = edge_index.shape[1]
        src, dst = edge_index[0], edge_index[1]
        if self.lin_edge is not None and edge_attr is None:
            raise ValueError(
                f"GATConv was built with edge_dim={self.edge_dim} and needs edge_attr of "
                f"shape [E, {self.edge_dim}], got None"
            )

        # a^T (W x) = (W^T a)^T x: append the 2H folded attention rows to W, one matmul.
        weight = self.lin.weight.view(H, C, self.in_dim)
        att_rows = torch.einsum("khc,hci->khi", torch.stack([self.att_src, self.att_dst]), weight)
        h = F.linear(x, torch.cat([self.lin.weight, att_rows.reshape(2 * H, self.in_dim)]))
        h, score_src, score_dst = h.split([H * C, H, H], dim=1)  # (N, H*C), (N, H), (N, H)
        h = h.view(N, H, C)  # (N, H, C)

        score = score_src.index_select(0, src) + score_dst.index_select(0, dst)  # (E, H)
        score_edge = None
        if self.lin_edge is not None:
            weight_edge = self.lin_edge.weight.view(H, C, self.edge_dim)
            att_edge = torch.einsum("hc,hcd->hd", self.att_edge, weight_edge)  # (H, edge_dim)
            score_edge = F.linear(edge_attr, att_edge)  # (E, H)
            score = score + score_edge

        index = dst
        if self.add_self_loops:
            # Existing self-loops get zero attention (masked, not removed: no data-dependent
            # shapes); each node gets one new loop whose edge feature is the mean of its
            # other incoming edges' features, so its edge score is the mean of their scores.
            is_loop = src == dst  # (E,)
            score = F.leaky_relu(score, self.negative_slope).masked_fill(
                is_loop.unsqueeze(-1), float("-inf")
            )
            loop_score = score_src + score_dst  # (N, H)
            if score_edge is not None:
                weight_in = (~is_loop).to(x.dtype)  # (E,)
                total = scatter_sum(score_edge * weight_in.unsqueeze(-1), dst, N)  # (N, H)
                count = scatter_sum(weight_in, dst, N).clamp(min=1).unsqueeze(-1)  # (N, 1)
                loop_score = loop_score + total / count
            loop_score = F.leaky_relu(loop_score, self.negative_slope)
            nodes = torch.arange(N, device=dst.device, dtype=dst.dtype)
            score = torch.cat([score, loop_score])  # (E + N, H)
            index = torch.cat([dst, nodes])  # (E + N,)
        else:
            score = F.leaky_relu(score, self.negative_slope)

        attention = scatter_softmax(score, index, N)  # (E [+ N], H)
        alpha = F.dropout(attention, p=self.dropout, training=self.training)

        messages = h.index_select(0, src) * alpha[:E].unsqueeze(-1)  # (E, H, C)
        if self.add_self_loops:
            out = (h * alpha[E:].unsqueeze(-1)).index_add_(0, dst, messages)  # (N, H, C)
        else:
            out = scatter_sum(messages, dst, N)  # (N, H, C)

        out = out.reshape(N, H * C) if self.concat else out.mean(dim=1)  # (N, out_dim)
        if self.bias is not None:
            out = out + self.bias
        if return_attention:
            if self.add_self_loops:
                edge_index = torch.cat([edge_index, torch.stack([nodes, nodes])], dim=1)
            return out, (edge_index, attention)
        return out

    def extra_repr(self) -> str:
        return (
            f"in_dim={self.in_dim}, out_dim={self.out_dim}, edge_dim={self.edge_dim}, "
            f"num_heads={self.num_heads}, head_dim={self.head_dim}, concat={self.concat}, "
            f"dropout={self.dropout}, add_self_loops={self.add_self_loops}"
        )
