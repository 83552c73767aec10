"""Training and loading the HAMD network (:mod:`moldojo.hamd.train`): labelled files read with
checks, a small set overfit, seeded runs identical, save and load giving the same predictions,
the cheap rule kept with the weights, and the ROC AUC on hand-computed cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from moldojo.config import replace_config
from moldojo.errors import CheckpointError, ConfigError, MoldojoError
from moldojo.hamd import Graph, format_graph6, generate, solve
from moldojo.hamd.model import HamdConfig
from moldojo.hamd.train import (
    HamdRunConfig,
    LabelledGraphs,
    load_model,
    resolve_model,
    roc_auc,
    train,
)
from moldojo.training.loop import TrainConfig


def labelled(tmp_path: Path, graphs: list[Graph], name: str = "g") -> tuple[Path, Path]:
    g6, labels = tmp_path / f"{name}.g6", tmp_path / f"{name}.json"
    g6.write_text(format_graph6(graphs))
    labels.write_text(json.dumps([solve(g).to_json() for g in graphs]))
    return g6, labels


def tiny_config(epochs: int = 2, **train: object) -> HamdRunConfig:
    return HamdRunConfig(
        hamd=HamdConfig(hidden_dim=16, num_layers=2),
        train=TrainConfig(epochs=epochs, batch_size=8, checkpoint_minutes=0, **train),
        valid_fraction=0.25,
    )


@pytest.fixture(scope="module")
def graphs() -> list[Graph]:
    """24 hard graphs of 20 nodes: half Hamiltonian, no certificate decides them."""
    return generate("hard", 20, 24, seed=3, jobs=1)


def test_read_keeps_order_checks_cycles_and_skips_undecided(
    tmp_path: Path, graphs: list[Graph]
) -> None:
    g6, labels = labelled(tmp_path, graphs[:8])
    raw = json.loads(labels.read_text())
    raw[1] = {**raw[1], "hamiltonian": None, "cycle": None, "method": "time_limit"}
    labels.write_text(json.dumps(raw))
    data, undecided = LabelledGraphs.read(g6, labels)
    assert undecided == 1 and len(data) == 7
    assert data.graphs == [graphs[0], *graphs[2:8]]
    # A label whose cycle is not a Hamiltonian cycle of its graph is refused, naming where
    positive = next(i for i, r in enumerate(raw) if r["hamiltonian"])
    raw[positive]["cycle"] = raw[positive]["cycle"][::-1][:-1]
    labels.write_text(json.dumps(raw))
    with pytest.raises(MoldojoError, match=f"label {positive + 1} .*labelled Hamiltonian, but"):
        LabelledGraphs.read(g6, labels)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such labels file; write it with 'moldojo hamd solve"),
        ("[1, 2", "not a labels file"),
        ("[]", "holds 0 labels for the 4 graphs"),
        ('[{"n": 7}, {}, {}, {}]', "label 1 .* not the label of a graph of 20 nodes"),
    ],
)
def test_read_refuses_labels_that_do_not_belong(
    tmp_path: Path, graphs: list[Graph], content: str | None, message: str
) -> None:
    g6, labels = labelled(tmp_path, graphs[:4])
    if content is None:
        labels.unlink()
    else:
        labels.write_text(content)
    with pytest.raises(MoldojoError, match=message):
        LabelledGraphs.read(g6, labels)


def test_training_overfits_a_small_set_and_reloads_identically(tmp_path: Path) -> None:
    # Given 24 critical graphs of 20 nodes, one of them held out
    graphs = generate("critical", 20, 24, seed=3)
    data, _ = LabelledGraphs.read(*labelled(tmp_path, graphs))
    assert 0 < sum(data.labels) < len(data)
    config = replace_config(tiny_config(epochs=8, lr=1e-2, lr_decay=1.0), valid_fraction=0.01)
    config = replace_config(config, train=replace_config(config.train, batch_size=4))
    # When trained for 8 epochs of 6 steps
    summary = train(data, tmp_path / "run", config, progress=False)
    assert summary.epochs == 8
    model = load_model(tmp_path / "run")
    # Then the network alone fits the training graphs (the held-out one may be wrong)
    p, scores = model.predict(data.graphs, edges=True, certificates=False)
    assert ((p >= 0.5) == np.array(data.labels)).sum() >= len(data) - 1
    assert [len(s) for s in scores] == [g.num_edges for g in data.graphs]
    # and the run directory holds what every run holds, the cheap rule with the weights
    for name in ("config.toml", "metrics.jsonl", "model.pt", "curves.png", "checkpoints/last.pt"):
        assert (tmp_path / "run" / name).exists(), name
    assert model.cheap_rule is not None and 0.5 <= model.cheap_rule.train_accuracy <= 1
    again = load_model(tmp_path / "run" / "model.pt")
    assert np.array_equal(again.predict(data.graphs, certificates=False)[0], p)


def test_seeded_runs_are_identical(tmp_path: Path, graphs: list[Graph]) -> None:
    torch.set_num_threads(1)
    data, _ = LabelledGraphs.read(*labelled(tmp_path, graphs))
    for name in ("a", "b"):
        train(data, tmp_path / name, tiny_config(), progress=False)
    a, b = load_model(tmp_path / "a"), load_model(tmp_path / "b")
    for (key, x), y in zip(a.net.state_dict().items(), b.net.state_dict().values(), strict=True):
        assert torch.equal(x, y), key


def test_a_run_is_never_replaced_without_overwrite_and_resumes(
    tmp_path: Path, graphs: list[Graph]
) -> None:
    data, _ = LabelledGraphs.read(*labelled(tmp_path, graphs))
    train(data, tmp_path / "run", tiny_config(epochs=1), progress=False)
    with pytest.raises(ConfigError, match="already holds a run"):
        train(data, tmp_path / "run", tiny_config(epochs=1), progress=False)
    summary = train(data, tmp_path / "run", tiny_config(epochs=2), resume=True, progress=False)
    assert summary.epochs == 2
    other = replace_config(tiny_config(epochs=2), hamd=HamdConfig(hidden_dim=8, num_layers=2))
    with pytest.raises(ConfigError, match="only --epochs"):
        train(data, tmp_path / "run", other, resume=True, progress=False)
    summary = train(data, tmp_path / "run", tiny_config(epochs=1), overwrite=True,
                    progress=False)  # fmt: skip
    assert summary.epochs == 1


def test_training_needs_both_classes(tmp_path: Path, graphs: list[Graph]) -> None:
    data, _ = LabelledGraphs.read(*labelled(tmp_path, graphs))
    positives = data.subset([i for i, y in enumerate(data.labels) if y])
    with pytest.raises(MoldojoError, match="every training graph is Hamiltonian"):
        train(positives, tmp_path / "run", tiny_config(), progress=False)


def test_certificates_override_the_network(tmp_path: Path, graphs: list[Graph]) -> None:
    data, _ = LabelledGraphs.read(*labelled(tmp_path, graphs))
    train(data, tmp_path / "run", tiny_config(epochs=1), progress=False)
    model = load_model(tmp_path / "run")
    path = Graph.from_edges(6, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)])  # min degree 1
    p, _ = model.predict([path])
    alone, _ = model.predict([path], certificates=False)
    assert p[0] == 0.0 and 0.0 < alone[0] < 1.0


def test_resolve_model_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no such run directory or checkpoint"):
        resolve_model(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="'moldojo hamd train'"):
        resolve_model(tmp_path / "empty")


def test_roc_auc_on_hand_computed_cases() -> None:
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert roc_auc([0, 1], [0.5, 0.5]) == 0.5  # a tie counts one half
    # positives 0.35, 0.8; negatives 0.1, 0.4: pairs won 0.35>0.1, 0.8>0.1, 0.8>0.4 -> 3/4
    assert roc_auc([0, 1, 0, 1], [0.1, 0.35, 0.4, 0.8]) == 0.75
    assert np.isnan(roc_auc([1, 1], [0.2, 0.3]))
