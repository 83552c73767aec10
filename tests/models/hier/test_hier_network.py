"""The hierarchical motif VAE: loss, encoder invariance, valid-by-construction decoding,
overfit-and-reconstruct."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem

from hier_helpers import MOLECULES, SMALL, make_task, train_steps
from moldojo.chem.motifs import decompose
from moldojo.errors import ConfigError
from moldojo.models.hier import HierConfig
from moldojo.models.hier.generator import to_batch
from moldojo.models.hier.network import scatter_log_softmax
from moldojo.models.hier.records import RecordPack, tree_record
from moldojo.models.task import stereo_blind


@pytest.fixture(scope="module")
def trained():  # noqa: ANN201
    task = make_task(MOLECULES)
    loss = train_steps(task, 150)
    return task, loss


def test_scatter_log_softmax_is_a_log_softmax_per_group() -> None:
    scores = torch.randn(7, dtype=torch.float64)
    group = torch.tensor([0, 0, 1, 1, 1, 2, 0])
    out = scatter_log_softmax(scores, group, 3)
    for g in range(3):
        rows = group == g
        assert torch.allclose(out[rows], torch.log_softmax(scores[rows], dim=0))


def test_loss_parts_are_finite_and_reach_every_parameter() -> None:
    task = make_task(MOLECULES)
    out = task.loss(task.batch(np.arange(len(MOLECULES))), 0.5, torch.Generator().manual_seed(0))
    for name in ("loss", "stop", "motif", "config", "pair", "kl"):
        assert torch.isfinite(out[name]), name
    out["loss"].backward()
    missing = [n for n, p in task.model.named_parameters() if p.grad is None]
    # only the edge outputs of each network's last block are never read
    assert all(".edge_norm." in n or ".edge_skip." in n for n in missing), missing


def test_loss_is_a_sum_of_its_parts() -> None:
    task = make_task(MOLECULES)
    out = task.loss(task.batch(np.arange(4)), 0.25, torch.Generator().manual_seed(1))
    parts = out["stop"] + out["motif"] + out["config"] + out["pair"] + 0.25 * out["kl"]
    assert torch.allclose(out["loss"], parts, rtol=1e-5)


def test_cutting_partial_molecules_to_the_receptive_field_changes_nothing() -> None:
    task = make_task(MOLECULES)  # the decoder's AtomMPN has 2 layers: balls of radius 2
    tables = task.generator.tables
    whole = []
    for smiles in MOLECULES:
        mol = Chem.MolFromSmiles(Chem.MolToSmiles(Chem.MolFromSmiles(smiles)))
        whole.append(tree_record(decompose(mol, tables), tables, "ancestry", None))
    indices = np.arange(len(MOLECULES))
    cut = to_batch(task.train, indices, tables)
    full = to_batch(RecordPack(whole), indices, tables)
    assert cut.dec_x.shape[0] < full.dec_x.shape[0]  # the same child configurations, less pm
    a = task.loss(cut, 0.1, torch.Generator().manual_seed(0))
    b = task.loss(full, 0.1, torch.Generator().manual_seed(0))
    for key in ("pair", "stop", "motif", "config"):
        assert torch.allclose(a[key], b[key], atol=1e-4), key


def test_mu_does_not_depend_on_the_input_atom_order() -> None:
    task = make_task(MOLECULES)
    mol = Chem.MolFromSmiles(MOLECULES[2])
    variants = {Chem.MolToSmiles(mol, doRandom=True, canonical=False) for _ in range(10)}
    z = task.generator.encode(sorted(variants))
    assert torch.allclose(z, z[:1].expand_as(z), atol=1e-5)


def test_untrained_decoding_is_valid_by_construction() -> None:
    task = make_task(MOLECULES)
    generator = task.generator
    for temperature in (0.0, 1.0):
        out = generator.sample(40, generator=torch.Generator().manual_seed(2),
                               temperature=temperature)  # fmt: skip
        assert all(s is not None for s in out), out.failures
        assert all(Chem.MolFromSmiles(s) is not None for s in out)
        assert not out.failures


def test_encode_and_decode_report_bad_rows() -> None:
    generator = make_task(MOLECULES).generator
    encoded = generator.encode_with_reasons(["not a smiles", MOLECULES[0], "c1ccc2ccccc2c1"])
    z = encoded.z
    assert torch.isnan(z[0]).all() and torch.isfinite(z[1]).all() and torch.isnan(z[2]).all()
    assert encoded.reasons == ("invalid_input", None, "unknown_motif")
    out = generator.decode(z)
    assert out[0] is None and out[1] is not None and out[2] is None
    assert out.reasons == ["invalid_input", None, "invalid_input"]
    assert generator.reconstruct(["not a smiles", MOLECULES[0], "c1ccc2ccccc2c1"]).reasons[::2] \
        == ["invalid_input", "unknown_motif"]
    with pytest.raises(ValueError, match="z must be"):
        generator.decode(torch.zeros(2, 3))


def test_overfits_and_reconstructs_its_training_molecules(trained) -> None:  # noqa: ANN001
    task, loss = trained
    assert loss < 1.0
    decoded = task.generator.reconstruct(MOLECULES)
    assert decoded == [stereo_blind(s) for s in MOLECULES]


def test_validation_metrics(trained) -> None:  # noqa: ANN001
    task, _ = trained
    metrics = task.validate()
    assert metrics["reconstruction"] == 1.0
    assert metrics["validity"] == 1.0
    assert 0.0 < metrics["uniqueness"] <= 1.0


@pytest.mark.parametrize("layer", ["gated-gcn", "gine"])
def test_tree_edges_and_mean_readout_train_too(layer: str) -> None:
    config = HierConfig(**{**SMALL.__dict__, "motif_edges": "tree", "readout": "mean",
                           "motif_layer": layer, "decoder_atom_layers": 1})  # fmt: skip
    task = make_task(MOLECULES, config)
    first = task.loss(task.batch(np.arange(8)), 0.0, torch.Generator())["loss"].item()
    assert train_steps(task, 30) < first


@pytest.mark.parametrize(
    "bad",
    [{"hidden_dim": 0}, {"motif_edges": "star"}, {"readout": "max"}, {"norm": "group"},
     {"decoder_atom_layers": 0}, {"motif_layer": "gcn"}],  # fmt: skip
)
def test_config_rejects_bad_values(bad: dict) -> None:
    with pytest.raises(ConfigError):
        HierConfig(**bad)
