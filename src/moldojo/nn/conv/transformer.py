"""``GraphTransformerConv``: multi-head dot-product attention over incoming edges, with edge
features in the keys and values (the attention of Dwivedi & Bresson's graph transformer).

Pure torch; imports nothing from moldojo but :mod:`moldojo.nn.scatter`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from moldojo.nn.scatter import scatter_softmax, scatter_sum

__all__ = ["GraphTransformerConv"]


class GraphTransformerConv(nn.Module):
    r"""The attention of `"A Generalization of Transformer Networks to Graphs"
    <https://arxiv.org/abs/2012.09699>`_ (Dwivedi & Bresson, AAAI DLG workshop 2021), in the
    form of `"Masked Label Prediction: Unified Message Passing Model for Semi-Supervised
    Classification" <https://arxiv.org/abs/2009.03509>`_ (Shi et al., IJCAI 2021).

    With :math:`H` heads of :math:`C` channels, head :math:`h` computes

    .. math::
        x'^{(h)}_i = \sum_{j \in \mathcal{N}(i)} \alpha^{(h)}_{ij}
            \big(W_v^{(h)} x_j + W_e^{(h)} e_{ji}\big),
        \qquad
        \alpha^{(h)}_{ij} = \operatorname{softmax}_j\left(
            \frac{(W_q^{(h)} x_i)^\top (W_k^{(h)} x_j + W_e^{(h)} e_{ji})}{\sqrt{C}}\right),

    the softmax running over the incoming edges of :math:`i` (one term per parallel edge; no
    self-loops, a node without incoming edges aggregates zero), :math:`W_q, W_k, W_v` affine
    (with ``bias``) and the edge terms present only with ``edge_dim``. The heads are
    concatenated or averaged, then the root weight adds the node's own features:
    :math:`x'_i = \Vert_h x'^{(h)}_i + W_r x_i` (:math:`W_r` affine with ``bias``).

    Relation to Dwivedi & Bresson's layer: without edge features the attention is theirs.
    With edge features they *gate* the score channel by channel,
    :math:`\sum_c \big(q_{i,c} k_{j,c} / \sqrt{C}\big) (W_e e_{ji})_c`, leave the values
    alone and also output updated edge features; here, as in Shi et al. and PyTorch
    Geometric's ``TransformerConv``, the projected edge feature is *added* to the key and to
    the value, and only nodes are updated. Their full layer also has an output projection,
    residual connections, a feed-forward network and batch or layer norms; those belong to
    moldojo's residual block (:mod:`moldojo.nn.blocks`), not to the convolution. The root
    weight :math:`W_r x_i` is a learnt skip inside the convolution, as in PyG.

    It computes what PyG's ``TransformerConv(in_dim, C, heads=H, edge_dim=edge_dim)`` does
    (``beta=False``); unlike PyG, ``out_dim`` is the total output width (see ``concat``).
    For speed, the four node maps are one matrix product and the projected edge features are
    added in place into the gathered keys and values.

    Args:
        in_dim: size of the input node features.
        out_dim: size of the output node features: ``H * C`` with ``concat``, else ``C``.
        edge_dim: size of the edge features, or None for a layer that ignores them.
        num_heads: number of attention heads ``H``.
        concat: concatenate the heads (each then has ``out_dim // num_heads`` channels) or
            average them (each has ``out_dim`` channels).
        dropout: dropout probability on the attention coefficients (training only).
        bias: whether the query, key, value and root maps have biases.
        root_weight: whether to add the root term :math:`W_r x_i`.

    Shapes:
        - input: ``x [N, in_dim]``, ``edge_index [2, E]`` (row 0 source, row 1 target),
          ``edge_attr [E, edge_dim]`` (ignored when ``edge_dim`` is None).
        - output: ``[N, out_dim]``; with ``return_attention=True`` also
          ``(edge_index [2, E], alpha [E, H])``.

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
        bias: bool = True,
        root_weight: bool = True,
    ) -> None:
        super().__init__()
        if concat and out_dim % num_heads != 0:
            raise ValueError(
                f"GraphTransformerConv with concat=True splits out_dim over the heads, but "
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
        self.root_weight = root_weight

        HC = num_heads * self.head_dim
        self.lin_query = nn.Linear(in_dim, HC, bias=bias)
        self.lin_key = nn.Linear(in_dim, HC, bias=bias)
        self.lin_value = nn.Linear(in_dim, HC, bias=bias)
        self.lin_edge = nn.Linear(edge_dim, HC, bias=False) if edge_dim is not None else None
        self.lin_skip = nn.Linear(in_dim, out_dim, bias=bias) if root_weight else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default ``Linear`` initialisation for every map (as PyG)."""
        for lin in (self.lin_query, self.lin_key, self.lin_value, self.lin_edge, self.lin_skip):
            if lin is not None:
                lin.reset_parameters()

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
        *,
        return_attention: bool = False,
    ) -> Tensor | tuple[Tensor, tuple[Tensor, Tensor]]:
        """Attend over incoming edges.

        Args:
            x: ``[N, in_dim]`` node features.
            edge_index: ``[2, E]`` long, row 0 the source, row 1 the target of each edge.
            edge_attr: ``[E, edge_dim]`` edge features; needed iff ``edge_dim`` was given.
            return_attention: also return the attention coefficients.

        Returns:
            ``[N, out_dim]``; with ``return_attention``, ``(out, (edge_index [2, E],
            alpha [E, H]))``, ``alpha`` before dropout (summing to one over each node's
            incoming edges).
        """
        N, H, C = x.shape[0], self.num_heads, self.head_dim
        E = edge_index.shape[1]
        src, dst = edge_index[0], edge_index[1]
        if self.lin_edge is not None and edge_attr is None:
            raise ValueError(
                f"GraphTransformerConv was built with edge_dim={self.edge_dim} and needs "
                f"edge_attr of shape [E, {self.edge_dim}], got None"
            )

        # Query, key, value (and root) maps in one matmul.
        lins = [self.lin_query, self.lin_key, self.lin_value]
        if self.lin_skip is not None:
            lins.append(self.lin_skip)
        weight = torch.cat([lin.weight for lin in lins])
        bias = None if self.lin_query.bias is None else torch.cat([lin.bias for lin in lins])
        h = F.linear(x, weight, bias)  # (N, 3*H*C [+ out_dim])
        # split, not slicing: its backward is one concatenation, not a zero-filled copy each
        sizes = [H * C] * 3 + ([self.out_dim] if self.lin_skip is not None else [])
        query, key, value, *skip = h.split(sizes, dim=1)  # 3 x (N, H*C), [(N, out_dim)]

        q_i = query.index_select(0, dst)  # (E, H*C)
        k_j = key.index_select(0, src)  # (E, H*C)
        v_j = value.index_select(0, src)  # (E, H*C)
        if self.lin_edge is not None:
            # The same projected edge feature goes into the key and the value, added in place
            # into the freshly gathered rows (no extra [E, H*C] buffers; before any view, as
            # autograd handles in-place ops on views with costly copies).
            edge = self.lin_edge(edge_attr)  # (E, H*C)
            k_j.add_(edge)
            v_j.add_(edge)
        q_i, k_j, v_j = q_i.view(E, H, C), k_j.view(E, H, C), v_j.view(E, H, C)

        score = (q_i * k_j).sum(dim=-1) * (1.0 / math.sqrt(C))  # (E, H)
        attention = scatter_softmax(score, dst, N)  # (E, H)
        alpha = F.dropout(attention, p=self.dropout, training=self.training)
        out = scatter_sum(v_j * alpha.unsqueeze(-1), dst, N)  # (N, H, C)

        out = out.reshape(N, H * C) if self.concat else out.mean(dim=1)  # (N, out_dim)
        if skip:
            out = out + skip[0]
        if return_attention:
            return out, (edge_index, attention)
        return out

    def extra_repr(self) -> str:
        return (
            f"in_dim={self.in_dim}, out_dim={self.out_dim}, edge_dim={self.edge_dim}, "
            f"num_heads={self.num_heads}, head_dim={self.head_dim}, concat={self.concat}, "
            f"dropout={self.dropout}, root_weight={self.root_weight}"
        )
