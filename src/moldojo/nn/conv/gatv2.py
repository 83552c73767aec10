"""``GATv2Conv``: graph attention with dynamic scores (Brody et al.), with optional edge
features.

Pure torch; imports nothing from moldojo but :mod:`moldojo.nn.scatter`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from moldojo.nn.scatter import scatter_softmax, scatter_sum

__all__ = ["GATv2Conv"]


class GATv2Conv(nn.Module):
    r"""Graph attention from `"How Attentive are Graph Attention Networks?"
    <https://arxiv.org/abs/2105.14491>`_ (Brody, Alon & Yahav, ICLR 2022).

    With :math:`H` heads of :math:`C` channels, head :math:`h` computes

    .. math::
        x'^{(h)}_i = \sum_{j \in \mathcal{N}(i) \cup \{i\}} \alpha^{(h)}_{ij} W_s^{(h)} x_j,
        \qquad
        \alpha^{(h)}_{ij} = \operatorname{softmax}_j\Big(a^{(h)\top} \mathrm{LeakyReLU}\big(
            W_s^{(h)} x_j + W_t^{(h)} x_i + W_e^{(h)} e_{ji}\big)\Big),

    where :math:`W_s x + b_s` and :math:`W_t x + b_t` are separate affine maps of the source
    and the target (biases included), the softmax runs over the incoming edges of :math:`i`
    (one term per parallel edge) and the edge term is present only with ``edge_dim``. Unlike
    GAT, the attention vector acts after the nonlinearity, so the ranking of neighbours can
    depend on the target ("dynamic" attention). The heads are concatenated,
    :math:`x'_i = \Vert_h x'^{(h)}_i + b`, or averaged.

    It computes what PyTorch Geometric's ``GATv2Conv(in_dim, C, heads=H, edge_dim=edge_dim)``
    does (``share_weights=False``, ``fill_value="mean"``, ``residual=False``), including its
    self-loops: self-loops already in the graph are dropped (here: given zero attention) and
    every node gets one self-loop whose edge feature is the mean of its incoming edges'
    features (zero without any). Unlike PyG, ``out_dim`` is the total output width (see
    ``concat``).

    For speed, both node maps are one matrix product, each source row is gathered once for
    both score and message, and the self-loops are computed on nodes rather than as ``N``
    extra gathered edges.

    Args:
        in_dim: size of the input node features.
        out_dim: size of the output node features: ``H * C`` with ``concat``, else ``C``.
        edge_dim: size of the edge features, or None for a layer that ignores them.
        num_heads: number of attention heads ``H``.
        concat: concatenate the heads (each then has ``out_dim // num_heads`` channels) or
            average them (each has ``out_dim`` channels).
        dropout: dropout probability on the attention coefficients (training only).
        negative_slope: slope of the LeakyReLU.
        add_self_loops: whether every node attends to itself.
        bias: whether to learn the biases of the two node maps and the output bias ``b``.

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
                f"GATv2Conv with concat=True splits out_dim over the heads, but "
                f"out_dim={out_dim} is not divisible by num_heads={num_heads}; choose out_dim "
                f"a multiple of num_heads or pass concat=False"
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
        self.lin_src = nn.Linear(in_dim, H * C, bias=bias)
        self.lin_dst = nn.Linear(in_dim, H * C, bias=bias)
        self.att = nn.Parameter(torch.empty(H, C))
        self.lin_edge = nn.Linear(edge_dim, H * C, bias=False) if edge_dim is not None else None
        self.bias = nn.Parameter(torch.empty(out_dim)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""As PyG: Glorot-uniform weights and attention vector, node-map biases uniform in
        :math:`\pm 1/\sqrt{\text{in\_dim}}` (PyTorch's ``Linear`` default), zero output bias."""
        for lin in (self.lin_src, self.lin_dst, self.lin_edge):
            if lin is not None:
                lin.reset_parameters()  # the bias initialisation
                nn.init.xavier_uniform_(lin.weight)
        nn.init.xavier_uniform_(self.att)
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
                f"GATv2Conv was built with edge_dim={self.edge_dim} and needs edge_attr of "
                f"shape [E, {self.edge_dim}], got None"
            )

        # Both node maps in one matmul.
        weight = torch.cat([self.lin_src.weight, self.lin_dst.weight])
        bias = (
            None if self.lin_src.bias is None else torch.cat([self.lin_src.bias, self.lin_dst.bias])
        )
        h_src, h_dst = F.linear(x, weight, bias).view(N, 2, H, C).unbind(1)  # 2 x (N, H, C)

        h_j = h_src.index_select(0, src)  # (E, H, C), reused for the messages
        # Sums built in place in the fresh gathered rows: no extra [E, H, C] buffers.
        z = h_dst.index_select(0, dst).add_(h_j)  # (E, H, C)
        if self.lin_edge is not None:
            z.add_(self.lin_edge(edge_attr).view(E, H, C))
        score = (F.leaky_relu(z, self.negative_slope) * self.att).sum(dim=-1)  # (E, H)

        index = dst
        if self.add_self_loops:
            # Existing self-loops get zero attention (masked, not removed: no data-dependent
            # shapes); each node gets one new loop whose edge feature is the mean of its
            # other incoming edges' features.
            is_loop = src == dst  # (E,)
            score = score.masked_fill(is_loop.unsqueeze(-1), float("-inf"))
            z_loop = h_src + h_dst  # (N, H, C)
            if self.lin_edge is not None:
                weight_in = (~is_loop).to(x.dtype)  # (E,)
                total = scatter_sum(edge_attr * weight_in.unsqueeze(-1), dst, N)  # (N, edge_dim)
                count = scatter_sum(weight_in, dst, N).clamp(min=1).unsqueeze(-1)  # (N, 1)
                z_loop = z_loop + self.lin_edge(total / count).view(N, H, C)
            loop_score = (F.leaky_relu(z_loop, self.negative_slope) * self.att).sum(dim=-1)
            nodes = torch.arange(N, device=dst.device, dtype=dst.dtype)
            score = torch.cat([score, loop_score])  # (E + N, H)
            index = torch.cat([dst, nodes])  # (E + N,)

        attention = scatter_softmax(score, index, N)  # (E [+ N], H)
        alpha = F.dropout(attention, p=self.dropout, training=self.training)

        messages = h_j * alpha[:E].unsqueeze(-1)  # (E, H, C)
        if self.add_self_loops:
            out = (h_src * alpha[E:].unsqueeze(-1)).index_add_(0, dst, messages)  # (N, H, C)
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
