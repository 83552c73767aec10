"""Layer-wise trimming of the networks the training loss reads at a few rows only: the same
losses and gradients as running every layer on every row."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
import torch

from hier_helpers import MOLECULES, make_task
from moldojo.models.hier import HierConfig, network
from moldojo.models.hier.network import _graph, _trimmed_states, layer_plan
from moldojo.models.hier.task import HierTask
from moldojo.nn.blocks import GNNEncoder

# Deeper than the helpers' SMALL, as deep as the default: 4 atom layers, 3 motif layers.
DEEP = HierConfig(hidden_dim=32, latent_dim=16, attachment_layers=1)


@cache
def task(config: HierConfig) -> HierTask:
    return make_task(MOLECULES, config)


def loss_and_grads(hier: HierTask, trim: bool) -> tuple[dict, dict, dict]:
    """Loss parts, parameter gradients (None where no gradient) and buffers after one step."""
    model = hier.model.train()
    model.trim = trim
    model.zero_grad()
    batch = hier.batch(np.arange(hier.num_train))
    out = model.loss(batch, 0.3, torch.Generator().manual_seed(0))
    out["loss"].backward()
    grads = {n: None if p.grad is None else p.grad.clone() for n, p in model.named_parameters()}
    buffers = {n: b.clone() for n, b in model.named_buffers()}
    model.trim = True
    return out, grads, buffers


@pytest.mark.parametrize(
    ("config", "trimmed"),
    [
        (DEEP, 3),  # the encoder's MotifMPN (root readout) and both decoder networks
        (DEEP.model_copy(update={"readout": "mean"}), 2),
        (DEEP.model_copy(update={"norm": "none"}), 3),
    ],
    ids=["root", "mean", "no-norm"],
)
def test_trimmed_loss_and_gradients_equal_the_untrimmed_ones(
    config: HierConfig, trimmed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a model whose decoder networks are read at a few rows only
    calls = []
    trim = network._trimmed_states
    monkeypatch.setattr(network, "_trimmed_states", lambda *a: calls.append(a) or trim(*a))
    # When one training step runs trimmed and untrimmed
    full, full_grads, _ = loss_and_grads(task(config), trim=False)
    assert not calls
    cut, cut_grads, _ = loss_and_grads(task(config), trim=True)
    assert len(calls) == trimmed
    for net, batch, targets in calls:  # and it did leave rows out
        plan = layer_plan(batch.edge_index, batch.num_nodes, targets, net.num_layers)
        assert plan.nodes[0] < plan.nodes[-2], plan.nodes
    # Then every loss part and every gradient is the same (the same ones are None)
    for key, value in full.items():
        assert torch.allclose(cut[key], value, rtol=1e-5, atol=1e-6), key
    for name, grad in full_grads.items():
        assert (cut_grads[name] is None) == (grad is None), name
        if grad is not None:
            assert torch.allclose(cut_grads[name], grad, rtol=1e-5, atol=1e-6), name


def test_batch_norm_is_not_trimmed() -> None:
    # Given two copies of a model with batch normalisation, whose statistics are over every row
    config = DEEP.model_copy(update={"norm": "batch"})
    # When one takes a training step with trimming on, the other with trimming off
    full, _, full_buffers = loss_and_grads(make_task(MOLECULES, config), trim=False)
    cut, _, cut_buffers = loss_and_grads(make_task(MOLECULES, config), trim=True)
    # Then the losses and the running statistics are the same
    assert torch.equal(cut["loss"], full["loss"])
    for name, buffer in full_buffers.items():
        assert torch.equal(cut_buffers[name], buffer), name


def test_layer_plan_puts_the_rows_each_layer_needs_first() -> None:
    # Given the path 0 - 1 - 2 - 3 - 4 - 5 and the target 1, read after two layers
    src = torch.tensor([0, 1, 2, 3, 4])
    index = torch.stack([torch.cat([src, src + 1]), torch.cat([src + 1, src])])
    plan = layer_plan(index, 6, torch.tensor([1, 1]), 2)
    # Then rows within k hops come first (0 and 2 are one hop away, 3 two, 4 and 5 dropped)
    assert plan.nodes == (1, 3, 4)
    assert plan.node.tolist() == [1, 0, 2, 3]
    assert plan.position[1] == 0 and set(plan.position[[0, 2]].tolist()) == {1, 2}
    # and the edges into them: 0 -> 1, 2 -> 1 into the target; 1 -> 0, 1 -> 2, 3 -> 2 next
    assert plan.edges == (2, 5)
    kept = {tuple(e) for e in index[:, plan.edge].T.tolist()}
    assert kept == {(0, 1), (2, 1), (1, 0), (1, 2), (3, 2)}
    assert {tuple(e) for e in index[:, plan.edge[:2]].T.tolist()} == {(0, 1), (2, 1)}
    new = plan.node[plan.edge_index]  # back to the input rows
    assert torch.equal(new, index[:, plan.edge])


@pytest.mark.parametrize("num_layers", [1, 3])
def test_trimmed_states_equal_the_full_network_at_the_targets(num_layers: int) -> None:
    # Given random molecule-like graphs (a few isolated rows) and random targets, some repeated
    g = torch.Generator().manual_seed(num_layers)
    n = 40
    src = torch.randint(0, n - 3, (50,), generator=g)
    dst = torch.randint(0, n - 3, (50,), generator=g)
    x, attr = torch.randn(n, 5, generator=g), torch.randn(50, 3, generator=g)
    batch = _graph(x, src, dst, attr)
    targets = torch.tensor([3, 0, 39, 3, 17])
    torch.manual_seed(0)
    net = GNNEncoder("gated-gcn", 5, 16, num_layers, edge_dim=3, norm="layer")
    # When the network is run trimmed and whole
    cut = _trimmed_states(net, batch, targets)
    full = net(batch).x[targets]
    # Then the targets' states agree
    assert torch.allclose(cut, full, rtol=1e-5, atol=1e-6)


def test_a_batch_of_one_motif_molecules_has_no_tree_edges_to_trim() -> None:
    # Given molecules of a single motif each: partial trees without a single edge
    single = make_task(["CCO", "c1ccccc1", "CC(=O)O"], DEEP)
    # When one training step runs trimmed and untrimmed, then the losses are the same
    full, _, _ = loss_and_grads(single, trim=False)
    cut, _, _ = loss_and_grads(single, trim=True)
    for key, value in full.items():
        assert torch.allclose(cut[key], value, rtol=1e-5, atol=1e-6), key


def test_decoding_reads_the_tree_network_trimmed_and_decodes_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a model with the default depths and 30 prior points
    hier = task(DEEP)
    hier.model.eval()
    z = torch.randn(30, DEEP.latent_dim, generator=torch.Generator().manual_seed(3))
    calls = []
    trim = network._trimmed_states
    monkeypatch.setattr(network, "_trimmed_states", lambda *a: calls.append(a) or trim(*a))
    # When they are decoded with trimming on, then off
    hier.model.trim = True
    cut = hier.generator.decode(z, temperature=1.0, generator=torch.Generator().manual_seed(4))
    trimmed = len(calls)
    hier.model.trim = False
    try:
        full = hier.generator.decode(z, temperature=1.0,
                                     generator=torch.Generator().manual_seed(4))  # fmt: skip
    finally:
        hier.model.trim = True
    # Then every step read the decoder's MotifMPN at the top motifs only, and the molecules are
    # the same
    assert trimmed > 0 and len(calls) == trimmed
    assert list(cut) == list(full)
