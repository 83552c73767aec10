"""Graph readouts: node states of a batch reduced to one vector per graph.

Pure torch; imports only :mod:`moldojo.nn.scatter`.
"""

from __future__ import annotations

from torch import Tensor, nn

from moldojo.nn.scatter import scatter_max, scatter_mean, scatter_softmax, scatter_sum

__all__ = ["Readout"]

KINDS = ("sum", "mean", "max", "attention")


class Readout(nn.Module):
    r"""Pool node states ``h_i`` into one vector ``r_b`` per graph ``b``.

    ::

        "sum":        r_b = Σ_{i ∈ b} h_i
        "mean":       r_b = (1 / |b|) Σ_{i ∈ b} h_i
        "max":        r_b = max_{i ∈ b} h_i                              (per feature)
        "attention":  r_b = Σ_{i ∈ b} softmax_{i ∈ b}(W_g h_i + c_g) ⊙ (W_v h_i + c_v)

    ``"attention"`` is the global soft-attention pooling of Li et al. 2016, "Gated Graph
    Sequence Neural Networks" (arXiv:1511.05493), in the form of PyTorch Geometric's
    ``AttentionalAggregation(gate_nn=Linear(F, F), nn=Linear(F, F))``: the softmax runs over
    the nodes of each graph, separately for every feature. (The GG-NN paper itself gates with
    a sigmoid, ``Σ σ(i(h)) ⊙ j(h)``; the softmax keeps the scale of ``r_b`` independent of the
    graph size.)

    A graph without nodes reads out as zeros, whatever the kind.

    Args:
        kind: ``"sum"``, ``"mean"``, ``"max"`` or ``"attention"``.
        dim: node state size ``F``; required for ``"attention"`` (the only kind with
            parameters), ignored otherwise.

    Shapes:
        - x: ``[N, F]``; batch: ``[N]`` long, the graph of each node.
        - returns: ``[B, F]``.
    """

    def __init__(self, kind: str = "sum", dim: int | None = None) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind={kind!r} is not one of {KINDS}")
        if kind == "attention" and dim is None:
            raise ValueError('kind="attention" has parameters: give dim')
        self.kind = kind
        self.dim = dim
        if kind == "attention":
            self.gate = nn.Linear(dim, dim)
            self.value = nn.Linear(dim, dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.kind == "attention":
            self.gate.reset_parameters()
            self.value.reset_parameters()

    def forward(self, x: Tensor, batch: Tensor, num_graphs: int | None = None) -> Tensor:
        """Pool the nodes of each graph.

        Args:
            x: ``[N, F]`` node states.
            batch: ``[N]`` long, the graph of each node, in ``[0, B)``.
            num_graphs: ``B``; by default ``batch.max() + 1``, which misses trailing graphs
                without nodes (pass ``GraphBatch.num_graphs``).

        Returns:
            ``[B, F]`` one vector per graph.
        """
        if num_graphs is None:
            num_graphs = int(batch.max()) + 1 if batch.numel() else 0
        if self.kind == "sum":
            return scatter_sum(x, batch, num_graphs)
        if self.kind == "mean":
            return scatter_mean(x, batch, num_graphs)
        if self.kind == "max":
            return scatter_max(x, batch, num_graphs)
        weights = scatter_softmax(self.gate(x), batch, num_graphs)  # (N, F)
        return scatter_sum(weights * self.value(x), batch, num_graphs)

    def extra_repr(self) -> str:
        return f"{self.kind!r}" + (f", dim={self.dim}" if self.dim is not None else "")
