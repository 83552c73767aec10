"""The dojo benchmark: every layer trained the same way on the same task, for a fixed budget.

For each layer: a :class:`~moldojo.models.regressor.GraphRegressor` (embedding, ``num_layers``
residual blocks of that layer, sum readout, MLP head) learns penalised logP on ``moses-mini``
(50k train / 5k test) with Adam and an L1 loss for ``minutes`` of wall time; reported are test
MAE, parameter count and training molecules/s, like the ZINC table of Dwivedi et al. (2020).
Separately, the forward + backward time of one layer on a batch of 128 MOSES molecules at hidden
``timing_dim`` is measured next to its PyTorch Geometric counterpart (when PyG is installed).

Imports torch, moldojo.data and moldojo.nn/models; the PyG comparison imports PyG lazily.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from pydantic import PositiveFloat, field_validator
from torch import Tensor, nn

from moldojo.config import Config, Size
from moldojo.data import MolDataset, load_dataset
from moldojo.data.features import FeatureSpec, featurize_batch
from moldojo.data.targets import property_targets
from moldojo.models.regressor import GraphRegressor
from moldojo.nn.batch import GraphBatch
from moldojo.nn.registry import LAYERS, build_layer

__all__ = ["DojoConfig", "DojoResult", "run_dojo", "time_layer"]

log = logging.getLogger(__name__)


class DojoConfig(Config):
    """Settings of the dojo benchmark.

    Args:
        layers: names from :data:`moldojo.nn.LAYERS`; empty means all.
        minutes: training wall time per layer.
        hidden_dim: width of every layer.
        num_layers: residual blocks.
        batch_size: molecules per step.
        lr: Adam learning rate.
        train: dataset spec of the training molecules.
        test: dataset spec of the held-out molecules.
        seed: seeds initialisation and batch order.
        timing_dim: width at which one layer is timed against PyG.
        timing_repeats: forward + backward passes timed (the median is reported).
    """

    layers: tuple[str, ...] = ()
    minutes: PositiveFloat = 3.0
    hidden_dim: Size = 128
    num_layers: Size = 4
    batch_size: Size = 128
    lr: PositiveFloat = 1e-3
    train: str = "moses-mini:train"
    test: str = "moses-mini:test"
    seed: int = 0
    timing_dim: Size = 128
    timing_repeats: Size = 20

    @field_validator("layers")
    @classmethod
    def _known_layers(cls, layers: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in layers if name not in LAYERS]
        if unknown:
            raise ValueError(f"unknown layers {unknown}; layers: {', '.join(LAYERS)}")
        return layers


@dataclass
class DojoResult:
    """One row of the dojo table."""

    layer: str
    parameters: int
    test_mae: float
    train_mol_per_s: float
    epochs: float
    steps: int
    forward_backward_ms: float
    pyg_forward_backward_ms: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def speed_ratio(self) -> float | None:
        """PyG time / moldojo time: above 1 means moldojo is faster."""
        if self.pyg_forward_backward_ms is None:
            return None
        return self.pyg_forward_backward_ms / self.forward_backward_ms


def run_dojo(
    config: DojoConfig,
    *,
    device: str = "cpu",
    progress: Callable[[str], None] | None = None,
) -> list[DojoResult]:
    """Train and time every layer of ``config``; returns one result per layer."""
    say = progress or log.info
    train_set = load_dataset(config.train)
    test_set = load_dataset(config.test)
    spec = FeatureSpec(train_set.config)
    y_train = property_targets(train_set, jobs=2)
    y_test = property_targets(test_set, jobs=2)
    results = []
    for name in config.layers or tuple(LAYERS):
        say(f"{name}: training for {config.minutes:g} min")
        result = _train_one(name, config, spec, train_set, y_train, test_set, y_test, device)
        batch = _collate(train_set, np.arange(min(128, len(train_set))), spec, device)
        result.forward_backward_ms, result.pyg_forward_backward_ms = time_layer(
            name, batch, config.timing_dim, config.timing_repeats
        )
        say(
            f"{name}: test MAE {result.test_mae:.3f}, {result.train_mol_per_s:.0f} mol/s, "
            f"fwd+bwd {result.forward_backward_ms:.1f} ms"
            + ("" if result.speed_ratio is None else f" (PyG/moldojo {result.speed_ratio:.2f})")
        )
        results.append(result)
    return results


def _train_one(
    name: str,
    config: DojoConfig,
    spec: FeatureSpec,
    train_set: MolDataset,
    y_train: np.ndarray,
    test_set: MolDataset,
    y_test: np.ndarray,
    device: str,
) -> DojoResult:
    torch.manual_seed(config.seed)
    model = GraphRegressor(
        name,
        spec.node_dim,
        spec.edge_dim,
        hidden_dim=config.hidden_dim,
        num_layers=config.num_layers,
    ).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    rng = np.random.default_rng(config.seed)
    budget = config.minutes * 60
    steps = seen = 0
    start = time.perf_counter()
    model.train()
    while time.perf_counter() - start < budget:
        for indices in _batches(len(train_set), config.batch_size, rng):
            batch = _collate(train_set, indices, spec, device, y_train)
            loss = nn.functional.l1_loss(model(batch), batch.y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            steps += 1
            seen += len(indices)
            if time.perf_counter() - start >= budget:
                break
    elapsed = time.perf_counter() - start
    return DojoResult(
        layer=name,
        parameters=sum(p.numel() for p in model.parameters()),
        test_mae=evaluate_mae(model, test_set, y_test, spec, device),
        train_mol_per_s=seen / elapsed,
        epochs=seen / len(train_set),
        steps=steps,
        forward_backward_ms=float("nan"),
    )


@torch.no_grad()
def evaluate_mae(
    model: nn.Module,
    dataset: MolDataset,
    targets: np.ndarray,
    spec: FeatureSpec,
    device: str,
    batch_size: int = 512,
) -> float:
    """Mean absolute error of ``model`` on ``dataset`` (eval mode)."""
    model.eval()
    errors = []
    for i in range(0, len(dataset), batch_size):
        indices = np.arange(i, min(i + batch_size, len(dataset)))
        batch = _collate(dataset, indices, spec, device, targets)
        errors.append((model(batch) - batch.y).abs())
    model.train()
    return float(torch.cat(errors).mean()) if errors else float("nan")


def time_layer(name: str, batch: GraphBatch, dim: int, repeats: int) -> tuple[float, float | None]:
    """Median forward + backward milliseconds of one layer at width ``dim`` on ``batch``'s
    graph, and of its PyG counterpart (None when PyG is not installed)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch.num_nodes, dim, generator=gen)
    edge_attr = torch.randn(batch.num_edges, dim, generator=gen)
    spec = LAYERS[name]
    ours = build_layer(name, dim, dim, dim if spec.uses_edges else None)
    ours_ms = _median_ms(
        lambda: _run(ours, x, batch.edge_index, edge_attr if spec.uses_edges else None), repeats
    )
    try:
        theirs = _pyg_layer(name, dim)
    except ImportError:
        return ours_ms, None
    theirs_ms = _median_ms(
        lambda: _run(theirs, x, batch.edge_index, edge_attr if spec.uses_edges else None), repeats
    )
    return ours_ms, theirs_ms


def _run(layer: nn.Module, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None) -> None:
    x = x.detach().requires_grad_()
    out = layer(x, edge_index, edge_attr) if edge_attr is not None else layer(x, edge_index)
    outputs = out if isinstance(out, tuple) else (out,)
    sum(o.sum() for o in outputs).backward()


def _median_ms(fn: Callable[[], None], repeats: int) -> float:
    for _ in range(3):  # warm-up
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


class _NNConvGRU(nn.Module):
    """PyG's NNConv followed by a GRU cell: the counterpart of MPNNConv."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        from torch_geometric.nn import NNConv

        edge_net = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim * dim))
        self.conv = NNConv(dim, dim, nn=edge_net, aggr="mean")
        self.gru = nn.GRUCell(dim, dim)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        return self.gru(self.conv(x, edge_index, edge_attr), x)


def _pyg_layer(name: str, dim: int) -> nn.Module:
    """The PyG layer each moldojo layer is compared with, configured alike (raises ImportError
    without PyG)."""
    import torch_geometric.nn as pyg

    heads = 4
    mlp = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))
    factories: dict[str, Callable[[], nn.Module]] = {
        "gcn": lambda: pyg.GCNConv(dim, dim),
        "gine": lambda: pyg.GINEConv(mlp, edge_dim=dim),
        "mpnn": lambda: _NNConvGRU(dim),
        "gat": lambda: pyg.GATConv(dim, dim // heads, heads=heads, edge_dim=dim),
        "gatv2": lambda: pyg.GATv2Conv(dim, dim // heads, heads=heads, edge_dim=dim),
        "gated-gcn": lambda: pyg.ResGatedGraphConv(dim, dim, edge_dim=dim),
        "transformer": lambda: pyg.TransformerConv(dim, dim // heads, heads=heads, edge_dim=dim),
    }
    return factories[name]()


def _batches(n: int, size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    order = rng.permutation(n)
    for i in range(0, n, size):
        yield order[i : i + size]


def _collate(
    dataset: MolDataset,
    indices: np.ndarray,
    spec: FeatureSpec,
    device: str,
    targets: np.ndarray | None = None,
) -> GraphBatch:
    arrays = featurize_batch(dataset.graphs, indices, spec)
    if targets is not None:
        arrays["y"] = targets[indices].astype(np.float32)
    return GraphBatch.from_arrays(arrays, device=device)


def format_table(results: Sequence[DojoResult], config: DojoConfig) -> str:
    """The Markdown table of BENCHMARKS.md."""
    lines = [
        f"| layer | parameters | test MAE | train mol/s | epochs | fwd+bwd ms (hidden "
        f"{config.timing_dim}, 128 mols) | PyG ms | PyG / moldojo |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        pyg = "n/a" if r.pyg_forward_backward_ms is None else f"{r.pyg_forward_backward_ms:.1f}"
        ratio = "n/a" if r.speed_ratio is None else f"{r.speed_ratio:.2f}"
        lines.append(
            f"| {r.layer} | {r.parameters:,} | {r.test_mae:.3f} | {r.train_mol_per_s:,.0f} | "
            f"{r.epochs:.1f} | {r.forward_backward_ms:.1f} | {pyg} | {ratio} |"
        )
    return "\n".join(lines)
