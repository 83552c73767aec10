"""Residual blocks around any convolution of the dojo, and the encoder that stacks them.

A convolution (see :mod:`moldojo.nn.registry`) only mixes neighbours; normalisation, activation,
dropout and the skip connection live here, once for every layer. Pure torch; imports only from
:mod:`moldojo.nn`.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch.nn.functional as F
from torch import Tensor, nn

from moldojo.nn.batch import GraphBatch
from moldojo.nn.registry import LAYERS, build_layer

__all__ = ["EncoderOutput", "GNNEncoder", "ResidualBlock", "make_activation", "make_norm"]

NORMS = ("batch", "layer", None)
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "identity": nn.Identity,
}


class _RowBatchNorm(nn.BatchNorm1d):
    """``BatchNorm1d`` over the rows of ``[M, F]`` (nodes or edges of a whole batch).

    In training, a batch with fewer than two rows has no variance to estimate (a single atom,
    or molecules without bonds): it is normalised with the running statistics, which are left
    unchanged, instead of raising or filling them with NaN.
    """

    def forward(self, x: Tensor) -> Tensor:
        if self.training and x.shape[0] < 2:
            return F.batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps
            )
        return super().forward(x)


def make_norm(norm: str | None, dim: int) -> nn.Module:
    """``"batch"`` (over the rows of the batch), ``"layer"`` (per row) or ``None`` (identity)."""
    if norm == "batch":
        return _RowBatchNorm(dim)
    if norm == "layer":
        return nn.LayerNorm(dim)
    if norm is None:
        return nn.Identity()
    raise ValueError(f"norm={norm!r} is not one of {NORMS}")


def make_activation(activation: str) -> nn.Module:
    """An activation by name: one of ``ACTIVATIONS``."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r} is not one of {tuple(ACTIVATIONS)}")
    return ACTIVATIONS[activation]()


class ResidualBlock(nn.Module):
    r"""A convolution with normalisation, activation, dropout and a skip connection.

    Post-norm (``norm_order="post"``, Dwivedi et al. 2020, "Benchmarking Graph Neural Networks")::

        h' = P h + Dropout(Act(Norm(conv(h))))

    Pre-norm (``norm_order="pre"``, the pre-activation order of He et al. 2016, "Identity Mappings
    in Deep Residual Networks")::

        h' = P h + Dropout(conv(Act(Norm(h))))

    ``P`` is a bias-free ``Linear(in_dim, dim)`` when ``in_dim != dim`` and the identity
    otherwise. ``Norm`` acts on ``dim`` features in post-norm and on ``in_dim`` in pre-norm.

    For a convolution with ``updates_edges = True`` (it returns ``(h, e)``), the edge stream gets
    the same treatment with its own norm and projection, ``e' = P_e e + Dropout(Act(Norm_e(ê)))``
    in post-norm and ``e' = P_e e + Dropout(ê)`` with ``ê`` computed from ``Act(Norm_e(e))`` in
    pre-norm. Otherwise ``edge_attr`` is passed to the convolution and returned unchanged.

    Args:
        conv: a layer of the registry interface, mapping ``in_dim`` to ``dim`` features.
        dim: output size ``F`` of the convolution and of the block.
        norm: ``"batch"``, ``"layer"`` or ``None``.
        dropout: dropout probability on the branch.
        norm_order: ``"post"`` or ``"pre"`` (see above).
        activation: one of ``"relu"``, ``"gelu"``, ``"silu"``, ``"elu"``, ``"tanh"``,
            ``"identity"``.
        edge_dim: input edge size ``F_e`` for an edge-updating convolution (default ``dim``).
        in_dim: input node size ``F_in`` (default ``dim``).

    Shapes:
        - x: ``[N, F_in]``; edge_index: ``[2, E]``; edge_attr: ``[E, F_e]`` or None.
        - returns: ``(x', edge_attr')``, ``[N, F]`` and ``[E, F]`` for an edge-updating
          convolution, else ``edge_attr`` as given.
    """

    def __init__(
        self,
        conv: nn.Module,
        *,
        dim: int,
        norm: str | None = "batch",
        dropout: float = 0.0,
        norm_order: Literal["post", "pre"] = "post",
        activation: str = "relu",
        edge_dim: int | None = None,
        in_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.conv = conv
        self.dim = dim
        self.in_dim = dim if in_dim is None else in_dim
        if norm_order not in ("post", "pre"):
            raise ValueError(f"norm_order={norm_order!r} is not 'post' or 'pre'")
        self.norm_order = norm_order
        prenorm = norm_order == "pre"
        self.updates_edges = bool(getattr(conv, "updates_edges", False))
        self.norm_name = norm
        self.activation_name = activation

        self.norm = make_norm(norm, self.in_dim if prenorm else dim)
        self.act = make_activation(activation)
        self.dropout = nn.Dropout(dropout)
        self.skip = nn.Linear(self.in_dim, dim, bias=False) if self.in_dim != dim else nn.Identity()

        self.edge_dim = (dim if edge_dim is None else edge_dim) if self.updates_edges else edge_dim
        if self.updates_edges:
            self.edge_norm = make_norm(norm, self.edge_dim if prenorm else dim)
            self.edge_skip = (
                nn.Linear(self.edge_dim, dim, bias=False) if self.edge_dim != dim else nn.Identity()
            )

    def reset_parameters(self) -> None:
        """Re-initialise the convolution, norms (with their running statistics) and projections."""
        for module in self.children():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
        *,
        num_targets: int | None = None,
        num_edges: int | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """One residual update; see the class docstring for the equations and shapes.

        ``num_targets`` and ``num_edges`` trim the update, for a convolution that takes
        ``num_targets`` (:class:`~moldojo.nn.conv.GatedGCNConv`): only the first ``num_targets``
        nodes (holding every edge's target) and the first ``num_edges`` edge states are
        computed and returned (``num_edges=0`` after a network's last layer).
        """
        trim = {} if num_targets is None else {"num_targets": num_targets}
        skip_x = x if num_targets is None else x[:num_targets]
        prenorm = self.norm_order == "pre"
        if prenorm:
            h = self.act(self.norm(x))
            e = self.act(self.edge_norm(edge_attr)) if self.updates_edges else edge_attr
            out = self.conv(h, edge_index, e, **trim)
        else:
            out = self.conv(x, edge_index, edge_attr, **trim)
        if not self.updates_edges:
            branch = out if prenorm else self.act(self.norm(out))
            return self.skip(skip_x) + self.dropout(branch), edge_attr
        h, e_hat = out
        h = self.skip(skip_x) + self.dropout(h if prenorm else self.act(self.norm(h)))
        if num_edges is not None:
            edge_attr, e_hat = edge_attr[:num_edges], e_hat[:num_edges]
        e_branch = e_hat if prenorm else self.act(self.edge_norm(e_hat))
        return h, self.edge_skip(edge_attr) + self.dropout(e_branch)

    def extra_repr(self) -> str:
        edges = f", edge_dim={self.edge_dim}" if self.updates_edges else ""
        return (
            f"{self.in_dim}, {self.dim}{edges}, norm={self.norm_name!r}, "
            f"norm_order={self.norm_order!r}, activation={self.activation_name!r}"
        )


class EncoderOutput(NamedTuple):
    """What :class:`GNNEncoder` returns.

    Attributes:
        x: ``[N, hidden_dim]`` node states.
        edge_attr: ``[E, hidden_dim]`` edge states for a layer that updates edges, else None.
    """

    x: Tensor
    edge_attr: Tensor | None


class GNNEncoder(nn.Module):
    r"""Input embeddings followed by ``num_layers`` residual blocks of one dojo layer.

    ::

        h⁰ = W_x x            e⁰ = W_e e           (W_e only for layers that read edges)
        (hˡ, eˡ) = ResidualBlock_l(hˡ⁻¹, eˡ⁻¹)       l = 1 .. num_layers
        output   = (Norm(hᴸ), Norm_e(eᴸ)) in pre-norm, (hᴸ, eᴸ) in post-norm

    In pre-norm the residual stream is never normalised inside the blocks, so a final norm
    (no activation) closes the stack, as in pre-norm transformers. For layers that read but do
    not update edges, every block sees the embedded ``e⁰``.

    Args:
        layer: a name of :data:`moldojo.nn.registry.LAYERS`, e.g. ``"gated-gcn"``.
        in_dim: node feature size ``F_in``.
        hidden_dim: size ``D`` of node (and edge) states.
        num_layers: number of residual blocks.
        edge_dim: edge feature size ``F_e``; required by layers that read edges, ignored
            otherwise.
        norm: ``"batch"``, ``"layer"`` or ``None``.
        dropout: dropout probability in each block.
        norm_order: ``"post"`` or ``"pre"`` blocks (see :class:`ResidualBlock`).
        activation: activation in each block (see :class:`ResidualBlock`).

    Shapes:
        - input: a :class:`~moldojo.nn.batch.GraphBatch` with ``x [N, F_in]``,
          ``edge_index [2, E]`` and ``edge_attr [E, F_e]`` (or None for edge-free layers).
        - returns: :class:`EncoderOutput`, ``x [N, D]`` and ``edge_attr [E, D]`` or None.
    """

    def __init__(
        self,
        layer: str,
        in_dim: int,
        hidden_dim: int,
        num_layers: int,
        *,
        edge_dim: int | None = None,
        norm: str | None = "batch",
        dropout: float = 0.0,
        norm_order: Literal["post", "pre"] = "post",
        activation: str = "relu",
    ) -> None:
        super().__init__()
        if layer not in LAYERS:
            raise KeyError(f"unknown layer {layer!r}; layers: {', '.join(LAYERS)}")
        spec = LAYERS[layer]
        if spec.uses_edges and edge_dim is None:
            raise ValueError(f"layer {layer!r} reads edge features: give edge_dim")
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        self.layer = layer
        self.in_dim = in_dim
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.uses_edges = spec.uses_edges
        self.updates_edges = spec.updates_edges
        self.edge_dim = edge_dim if spec.uses_edges else None
        if norm_order not in ("post", "pre"):
            raise ValueError(f"norm_order={norm_order!r} is not 'post' or 'pre'")
        self.norm_order = norm_order
        prenorm = norm_order == "pre"

        self.node_embedding = nn.Linear(in_dim, hidden_dim)
        self.edge_embedding = nn.Linear(edge_dim, hidden_dim) if spec.uses_edges else None
        self.blocks = nn.ModuleList(
            ResidualBlock(
                build_layer(layer, hidden_dim, hidden_dim, edge_dim=hidden_dim),
                dim=hidden_dim,
                norm=norm,
                dropout=dropout,
                norm_order=norm_order,
                activation=activation,
            )
            for _ in range(num_layers)
        )
        self.final_norm = make_norm(norm if prenorm else None, hidden_dim)
        self.final_edge_norm = make_norm(
            norm if prenorm and spec.updates_edges else None, hidden_dim
        )

    def reset_parameters(self) -> None:
        for module in [self.node_embedding, self.edge_embedding, *self.blocks]:
            if module is not None:
                module.reset_parameters()
        for norm in (self.final_norm, self.final_edge_norm):
            if hasattr(norm, "reset_parameters"):
                norm.reset_parameters()

    def forward(self, batch: GraphBatch) -> EncoderOutput:
        """Encode every node (and edge) of ``batch``; shapes in the class docstring."""
        h = self.node_embedding(batch.x)
        e = None
        if self.edge_embedding is not None:
            if batch.edge_attr is None:
                raise ValueError(
                    f"layer {self.layer!r} reads edge features; batch.edge_attr is None"
                )
            e = self.edge_embedding(batch.edge_attr)
        for block in self.blocks:
            h, e = block(h, batch.edge_index, e)
        h = self.final_norm(h)
        if not self.updates_edges:
            return EncoderOutput(h, None)
        return EncoderOutput(h, self.final_edge_norm(e))

    def extra_repr(self) -> str:
        return (
            f"{self.layer!r}, {self.in_dim}, {self.hidden_dim}, num_layers={self.num_layers}, "
            f"edge_dim={self.edge_dim}, norm_order={self.norm_order!r}"
        )
