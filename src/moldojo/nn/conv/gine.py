"""``GINEConv``: the graph isomorphism network convolution with edge features.

Pure torch; imports nothing from moldojo but :mod:`moldojo.nn.scatter`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from moldojo.nn.scatter import scatter_sum

__all__ = ["GINEConv"]


class GINEConv(nn.Module):
    r"""GIN convolution with edge features, from `"Strategies for Pre-training Graph Neural
    Networks" <https://arxiv.org/abs/1905.12265>`_ (Hu et al., ICLR 2020), extending GIN of
    `"How Powerful are Graph Neural Networks?" <https://arxiv.org/abs/1810.00826>`_
    (Xu et al., ICLR 2019).

    .. math::
        x'_i = \mathrm{MLP}\Big((1 + \epsilon)\, x_i
               + \sum_{j \in \mathcal{N}(i)} \mathrm{ReLU}(x_j + W_e e_{ji} + b_e)\Big),

    with :math:`\mathrm{MLP} = \mathrm{Linear}(\text{in\_dim}, \text{hidden\_dim}) \to
    \mathrm{ReLU} \to \mathrm{Linear}(\text{hidden\_dim}, \text{out\_dim})` and the edge
    projection :math:`W_e e + b_e` a ``Linear(edge_dim, in_dim)``. The sum runs over incoming
    edges, one term per parallel edge. Equal to PyTorch Geometric's
    ``GINEConv(nn=Sequential(Linear, ReLU, Linear), edge_dim=edge_dim)``.

    Args:
        in_dim: size of the input node features.
        out_dim: size of the output node features.
        edge_dim: size of the edge features.
        hidden_dim: width of the MLP's hidden layer (default ``out_dim``).
        eps: initial value of :math:`\epsilon`.
        train_eps: whether :math:`\epsilon` is learnt (a parameter) or fixed (a buffer).

    Shapes:
        - input: ``x [N, in_dim]``, ``edge_index [2, E]`` (row 0 source, row 1 target),
          ``edge_attr [E, edge_dim]``.
        - output: ``[N, out_dim]``.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        *,
        edge_dim: int,
        hidden_dim: int | None = None,
        eps: float = 0.0,
        train_eps: bool = False,
    ) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.edge_dim = edge_dim
        self.hidden_dim = out_dim if hidden_dim is None else hidden_dim
        self.initial_eps = eps
        self.edge_lin = nn.Linear(edge_dim, in_dim)
        self.mlp = nn.Sequential(
            nn.Linear(in_dim, self.hidden_dim),
            nn.ReLU(),
            nn.Linear(self.hidden_dim, out_dim),
        )
        if train_eps:
            self.eps = nn.Parameter(torch.empty(1))
        else:
            self.register_buffer("eps", torch.empty(1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default ``Linear`` initialisation; ``eps`` back to its initial value."""
        self.edge_lin.reset_parameters()
        for layer in self.mlp:
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()
        with torch.no_grad():
            self.eps.fill_(self.initial_eps)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        """Convolve.

        Args:
            x: ``[N, in_dim]`` node features.
            edge_index: ``[2, E]`` long, row 0 the source, row 1 the target of each edge.
            edge_attr: ``[E, edge_dim]`` edge features.

        Returns:
            ``[N, out_dim]``.
        """
        if edge_attr is None:
            raise ValueError(f"GINEConv needs edge_attr of shape [E, {self.edge_dim}], got None")
        src, dst = edge_index[0], edge_index[1]
        messages = torch.relu(x.index_select(0, src) + self.edge_lin(edge_attr))  # [E, in_dim]
        out = scatter_sum(messages, dst, x.shape[0])  # [N, in_dim]
        out = out + (1.0 + self.eps) * x
        return self.mlp(out)

    def extra_repr(self) -> str:
        return (
            f"in_dim={self.in_dim}, out_dim={self.out_dim}, edge_dim={self.edge_dim}, "
            f"hidden_dim={self.hidden_dim}, train_eps={isinstance(self.eps, nn.Parameter)}"
        )
