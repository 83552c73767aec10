"""Scatter reductions and the segment softmax: the arithmetic of message passing.

Messages live on edges; these functions reduce them onto nodes (or nodes onto graphs) given an
``index`` saying where each row goes. Built on ``Tensor.index_add_`` and
``Tensor.scatter_reduce_`` only, so they run anywhere PyTorch runs, with autograd.

Pure torch; imports nothing from moldojo.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["scatter_max", "scatter_mean", "scatter_softmax", "scatter_sum"]


def scatter_sum(src: Tensor, index: Tensor, dim_size: int) -> Tensor:
    """Sum the rows of ``src`` that share an index: ``out[i] = sum_{k: index[k] = i} src[k]``.

    Args:
        src: ``[M, *]`` values.
        index: ``[M]`` long, target row of each value, in ``[0, dim_size)``.
        dim_size: number of output rows ``N`` (rows nobody points at are zero).

    Returns:
        ``[N, *]``.
    """
    out = src.new_zeros((dim_size, *src.shape[1:]))
    return out.index_add_(0, index, src)


def scatter_mean(src: Tensor, index: Tensor, dim_size: int) -> Tensor:
    """Mean of the rows of ``src`` that share an index; zero for empty rows.

    Shapes as :func:`scatter_sum`.
    """
    total = scatter_sum(src, index, dim_size)
    count = torch.zeros(dim_size, dtype=src.dtype, device=src.device)
    count.index_add_(0, index, torch.ones_like(index, dtype=src.dtype))
    return total / count.clamp(min=1).view(-1, *([1] * (src.dim() - 1)))


def scatter_max(src: Tensor, index: Tensor, dim_size: int) -> Tensor:
    """Elementwise maximum of the rows of ``src`` that share an index; zero for empty rows.

    Shapes as :func:`scatter_sum`. The gradient flows to the maximal entries (split evenly
    between ties, as ``scatter_reduce`` does).
    """
    out = src.new_zeros((dim_size, *src.shape[1:]))
    expanded = index.view(-1, *([1] * (src.dim() - 1))).expand_as(src)
    return out.scatter_reduce_(0, expanded, src, reduce="amax", include_self=False)


def scatter_softmax(src: Tensor, index: Tensor, dim_size: int) -> Tensor:
    """Softmax over the rows of ``src`` that share an index (e.g. attention over a node's
    incoming edges): ``out[k] = exp(src[k]) / sum_{j: index[j] = index[k]} exp(src[j])``.

    Numerically stable: each group's maximum is subtracted first.

    Args:
        src: ``[M, *]`` scores (e.g. ``[E, H]``, one per edge and head).
        index: ``[M]`` long, the group of each row (e.g. the target node of each edge).
        dim_size: number of groups ``N``.

    Returns:
        ``[M, *]``, summing to one within every non-empty group.
    """
    expanded = index.view(-1, *([1] * (src.dim() - 1))).expand_as(src)
    group_max = src.new_full((dim_size, *src.shape[1:]), float("-inf"))
    group_max = group_max.scatter_reduce(
        0, expanded, src.detach(), reduce="amax", include_self=True
    )
    exp = (src - group_max.index_select(0, index)).exp()
    denominator = scatter_sum(exp, index, dim_size).index_select(0, index)
    return exp / denominator
