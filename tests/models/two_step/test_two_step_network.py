"""The two-step VAE: pairs, symmetry breaking, invariances, overfitting, valid by construction."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem

from moldojo.models.task import stereo_blind
from moldojo.models.two_step import complete_pairs, constrained_graph, raw_graph
from moldojo.models.two_step.network import type_ranks
from two_step_helpers import SMALL, make_task

MOLECULES = ["CC(=O)Nc1ccc(O)cc1", "CCOC(=O)C1CCN(C)CC1", "Cc1ccc(S(N)(=O)=O)cc1", "OCC#CC1CC1"]


def test_complete_pairs_lists_every_pair_once() -> None:
    ptr = torch.tensor([0, 3, 3, 4, 8])
    src, dst, first = complete_pairs(ptr)
    expected = [(u, v) for a, b in [(0, 3), (3, 4), (4, 8)] for u in range(a, b)
                for v in range(u + 1, b)]  # fmt: skip
    assert list(zip(src.tolist(), dst.tolist(), strict=True)) == expected
    for k, (u, v) in enumerate(expected):
        assert int(first[u]) + (v - u - 1) == k


def test_type_ranks_count_within_each_type_and_molecule() -> None:
    node_type = torch.tensor([0, 0, 2, 2, 2, 0, 1, 1])
    ptr = torch.tensor([0, 5, 8])
    assert type_ranks(node_type, ptr, 3).tolist() == [0, 1, 0, 1, 2, 0, 0, 1]


def test_mu_does_not_depend_on_atom_order() -> None:
    task = make_task(MOLECULES)
    generator = task.generator
    randomised = [Chem.MolToSmiles(Chem.MolFromSmiles(s), doRandom=True, canonical=False)
                  for s in MOLECULES]  # fmt: skip
    assert torch.allclose(generator.encode(MOLECULES), generator.encode(randomised), atol=1e-5)


def test_each_molecule_encodes_the_same_alone_and_batched() -> None:
    generator = make_task(MOLECULES).generator
    together = generator.encode(MOLECULES)
    alone = torch.cat([generator.encode([s]) for s in MOLECULES])
    assert torch.allclose(together, alone, atol=1e-5)


def test_every_parameter_gets_a_gradient() -> None:
    task = make_task(MOLECULES)
    task.model.train()
    out = task.loss(task.batch(np.arange(len(MOLECULES))), 1.0, torch.Generator().manual_seed(0))
    out["loss"].backward()
    # The encoder's last edge update is read by nothing: the readout pools node states only.
    last = f"encoder.blocks.{SMALL.encoder_layers - 1}.edge_norm."
    for name, parameter in task.model.named_parameters():
        if name.startswith(last):
            assert parameter.grad is None, name
            continue
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


def test_bond_probabilities_are_symmetric_by_construction() -> None:
    generator = make_task(MOLECULES).generator
    decoded = generator.model.decode(torch.randn(3, SMALL.latent_dim))
    assert np.allclose(decoded.probs.sum(1), 1.0, atol=1e-5)
    assert (decoded.src < decoded.dst).all()


def test_overfits_a_handful_of_molecules() -> None:
    # Given four molecules and a small model trained on them alone at beta = 0
    task = make_task(MOLECULES)
    model = task.model
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    batch = task.batch(np.arange(len(MOLECULES)))
    generator = torch.Generator().manual_seed(0)
    model.train()
    for step in range(400):
        generator.manual_seed(step)
        loss = task.loss(batch, 0.0, generator)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    # When they are encoded (posterior mean) and decoded greedily
    model.eval()
    decoded = task.generator.reconstruct(MOLECULES)
    # Then every one comes back exactly, with and without constraints
    assert decoded == [stereo_blind(s) for s in MOLECULES]
    assert task.generator.reconstruct(MOLECULES, mode="raw") == decoded
    assert task.validate()["reconstruction"] == 1.0


def test_untrained_model_decodes_only_valid_molecules() -> None:
    # Given an untrained model and random latent points
    generator = make_task(MOLECULES).generator
    z = torch.randn(200, SMALL.latent_dim, generator=torch.Generator().manual_seed(3)) * 3
    # When they are decoded with constraints
    smiles = generator.decode(z, mode="constrained", temperature=1.0,
                              generator=torch.Generator().manual_seed(4))  # fmt: skip
    # Then every result is a sanitisable molecule, or a counted empty or oversized bag
    assert set(smiles.failures) <= {"empty", "too_large"}
    assert sum(s is None for s in smiles) == sum(smiles.failures.values())
    for s in smiles:
        if s is not None:
            assert Chem.MolFromSmiles(s) is not None
            assert "." not in s  # one fragment


def test_sampling_is_seeded_and_nan_rows_fail_cleanly() -> None:
    generator = make_task(MOLECULES).generator
    a = generator.sample(30, generator=torch.Generator().manual_seed(7), temperature=1.0)
    b = generator.sample(30, generator=torch.Generator().manual_seed(7), temperature=1.0)
    assert a == b
    z = torch.zeros(2, SMALL.latent_dim)
    z[0, 0] = float("nan")
    out = generator.decode(z)
    assert out[0] is None and out.reasons[0] == "invalid_input"
    assert torch.isnan(generator.encode(["not a smiles", "CCO"])[0]).all()


VALENCES = ((4,), (1,), (2,))  # types: C (no H), CH3, O (no H)


def test_constrained_decoding_respects_valences_and_fills_hydrogens() -> None:
    # Given a bag C, C, O and probabilities that want a triple C#C and a double C=O
    node_type = np.array([0, 0, 2])
    src, dst = np.array([0, 0, 1]), np.array([1, 2, 2])
    probs = np.array([[0.0, 0.1, 0.2, 0.7], [0.1, 0.1, 0.8, 0.0], [0.1, 0.8, 0.1, 0.0]])
    graph, reason = constrained_graph(node_type, src, dst, probs, VALENCES)
    assert reason == ""
    used = np.zeros(3, dtype=int)
    for (u, v), order in zip(graph.edge_index.T, graph.bond_order, strict=True):
        used[u] += order
        used[v] += order
    # Then no atom exceeds its valence, and open valences become hydrogens
    assert all(used[a] + graph.extra_hs[a] in VALENCES[t] for a, t in enumerate(graph.node_type))


def test_constrained_decoding_keeps_the_largest_fragment() -> None:
    node_type = np.array([1, 1, 1, 1, 0])  # four CH3 and one C: only one bond each for CH3
    src = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 3])
    dst = np.array([1, 2, 3, 4, 2, 3, 4, 3, 4, 4])
    probs = np.tile([0.9, 0.1, 0.0, 0.0], (10, 1))
    probs[0] = [0.0, 1.0, 0.0, 0.0]  # CH3-CH3 bonded strongly
    probs[8] = probs[9] = [0.6, 0.4, 0.0, 0.0]  # the other CH3s lean to the C
    graph, _ = constrained_graph(node_type, src, dst, probs, VALENCES)
    # phase 2 joins pieces only while valence allows: ethane is one piece (both ends full),
    # CH3-C-CH3 the other and larger one, kept, its carbon filled up with two hydrogens
    assert graph.node_type.tolist() == [1, 1, 0]
    assert graph.extra_hs.tolist() == [0, 0, 2]


@pytest.mark.parametrize(
    ("probs", "reason"),
    [
        (np.array([[0.9, 0.1, 0.0, 0.0]]), "disconnected"),  # two CH3, unbonded
        (np.array([[0.1, 0.0, 0.9, 0.0]]), "valence"),  # CH3=CH3
    ],
)
def test_raw_decoding_reports_why_it_failed(probs: np.ndarray, reason: str) -> None:
    node_type = np.array([1, 1])
    graph, why = raw_graph(node_type, np.array([0]), np.array([1]), probs, VALENCES)
    assert graph is None
    assert why == reason


def test_raw_decoding_fills_open_valences_with_hydrogens() -> None:
    # C(H0)-CH3: the carbon has one bond of four, so it becomes CH3 too (ethane)
    graph, why = raw_graph(np.array([0, 1]), np.array([0]), np.array([1]),
                           np.array([[0.1, 0.9, 0.0, 0.0]]), VALENCES)  # fmt: skip
    assert why == "" and graph.extra_hs.tolist() == [3, 0]
