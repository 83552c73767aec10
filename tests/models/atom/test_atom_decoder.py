"""The atom-by-atom VAE: its order, teacher forcing, valence masks and the decoding loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from moldojo.chem import GraphConfig
from moldojo.data import load_dataset
from moldojo.data.features import FeatureSpec
from moldojo.models.atom import AtomAlphabet, AtomConfig, AtomGenerator, build_atom, collate
from moldojo.models.atom.generator import molecule_smiles
from moldojo.models.atom.task import OrderedMolecules, order_molecules
from moldojo.models.task import stereo_blind

TINY = AtomConfig(hidden_dim=16, latent_dim=8, encoder_layers=1, decoder_layers=1)


@pytest.fixture(scope="module")
def valid() -> tuple[list[str], AtomAlphabet, OrderedMolecules]:
    dataset = load_dataset("moses-mini:valid", progress=False)
    alphabet = AtomAlphabet.build(dataset.graphs)
    ordered, dropped = order_molecules(dataset.graphs, alphabet)
    assert not any(dropped.values()) and len(ordered) == len(dataset.smiles)
    return dataset.smiles, alphabet, ordered


def _molecules(ordered: OrderedMolecules, rows: range) -> list[tuple[list[int], list[tuple]]]:
    """``(types, bonds (s, d, order) with s < d)`` of molecules in the decoder's order."""
    graphs, out = ordered.graphs, []
    for i in rows:
        a0, a1 = graphs.atom_ptr[i], graphs.atom_ptr[i + 1]
        b0, b1 = graphs.bond_ptr[i], graphs.bond_ptr[i + 1]
        ends = np.sort(graphs.edge_index[:, b0:b1], axis=0)
        orders = graphs.bonds["bond_type"][b0:b1]
        out.append((ordered.type_ids[a0:a1].tolist(),
                    [(int(s), int(d), int(o)) for s, d, o in zip(*ends, orders, strict=True)]))
    return out


def test_teacher_forced_targets_rebuild_every_validation_molecule(valid) -> None:
    # Given all 5,000 moses-mini validation molecules in the decoder's order
    smiles, alphabet, ordered = valid
    spec = FeatureSpec(GraphConfig())
    for start in range(0, len(ordered), 1000):
        rows = np.arange(start, min(start + 1000, len(ordered)))
        batch = collate(ordered.graphs, ordered.type_ids, rows, alphabet, spec)
        # Then every target is an option the valence masks allow
        assert batch.atom_ok[torch.arange(len(batch.atom_target)), batch.atom_target].all()
        allowed = torch.zeros(len(batch.nb_target), batch.max_atoms + 1, dtype=torch.bool)
        allowed[batch.cand_dec[batch.cand_ok], batch.cand_col[batch.cand_ok]] = True
        allowed[:, 0] = batch.nb_stop_ok
        assert allowed[torch.arange(len(batch.nb_target)), batch.nb_target].all()
        assert batch.bond_ok[torch.arange(len(batch.bond_order)), batch.bond_order - 1].all()
        # And the targets, read as choices, write the molecule back
        types = batch.atom_target[batch.atom_target < alphabet.stop]
        atom_ptr = np.concatenate([[0], np.cumsum(ordered.graphs.num_atoms[rows])])
        chosen = batch.nb_target > 0
        earlier = (batch.nb_target[chosen] - 1).tolist()
        molecule = batch.nb_mol[chosen].tolist()
        new_atom = (batch.nb_prefix[chosen] + 1).tolist()  # prefix of atom a is a - 1
        bonds: list[list[tuple[int, int, int]]] = [[] for _ in rows]
        for m, s, a, order in zip(molecule, earlier, new_atom, batch.bond_order.tolist(),
                                  strict=True):  # fmt: skip
            bonds[m].append((s, a - int(atom_ptr[m]), order))
        for k, i in enumerate(rows):
            written, reason = molecule_smiles(
                alphabet, types[atom_ptr[k] : atom_ptr[k + 1]].tolist(), bonds[k])
            assert reason is None and written == stereo_blind(smiles[i]), smiles[i]


class Teacher:
    """Makes the decoding loop's choices from known molecules, checking that each is allowed."""

    def __init__(self, molecules: list[tuple[list[int], list[tuple]]], stop: int) -> None:
        self.molecules, self.stop = molecules, stop
        self.taken: dict[tuple[int, int], int] = {}

    def __call__(self, kind, molecules, t, logits, j=None):
        out = []
        for row, b in enumerate(molecules.tolist()):
            types, bonds = self.molecules[b]
            earlier = [(s, o) for s, d, o in bonds if d == t]
            if kind == "atom":
                choice = types[t] if t < len(types) else self.stop
            elif kind == "neighbour":
                k = self.taken.get((b, t), 0)
                choice = earlier[k][0] + 1 if k < len(earlier) else 0
                self.taken[(b, t)] = k + (choice > 0)
            else:
                choice = dict(earlier)[int(j[row])] - 1
            assert torch.isfinite(logits[row, choice]), (kind, b, t)
            out.append(choice)
        return torch.tensor(out, dtype=torch.long)


def test_the_decoding_loop_replays_molecules_through_its_masks(valid) -> None:
    # Given an untrained model and 300 validation molecules' choices made by a teacher
    smiles, alphabet, ordered = valid
    generator = AtomGenerator(build_atom(TINY, alphabet, GraphConfig()), alphabet, GraphConfig())
    rows = range(300)
    teacher = Teacher(_molecules(ordered, rows), alphabet.stop)
    # When the decoding loop runs with valence masks on
    decoded = generator.model.decode(torch.zeros(len(rows), TINY.latent_dim), chooser=teacher)
    # Then every choice was allowed and it builds each molecule back
    written = [s for s, _ in generator.to_smiles(decoded)]
    assert written == [stereo_blind(smiles[i]) for i in rows]


def test_valence_masks_never_overfill_an_atom(valid) -> None:
    # Given an untrained model sampling at a high temperature (choices close to uniform)
    _, alphabet, _ = valid
    torch.manual_seed(0)
    model = build_atom(TINY, alphabet, GraphConfig()).eval()
    z = torch.randn(300, TINY.latent_dim)
    decoded = model.decode(z, temperature=5.0, generator=torch.Generator().manual_seed(1))
    # Then no atom carries more bond orders than its type's capacity, and RDKit accepts all
    for types, bonds in zip(decoded.types, decoded.bonds, strict=True):
        load = np.zeros(len(types), dtype=int)
        for s, d, order in bonds:
            load[s] += order
            load[d] += order
        assert (load <= np.asarray(alphabet.capacity)[types]).all()
        assert molecule_smiles(alphabet, types, bonds)[1] is None
    assert sum(len(t) > 1 for t in decoded.types) > 200
    # While without them the same sampler overfills atoms
    raw = model.decode(z, temperature=5.0, generator=torch.Generator().manual_seed(1),
                       constrained=False)  # fmt: skip
    failures = [molecule_smiles(alphabet, t, b)[1] for t, b in zip(raw.types, raw.bonds,
                                                                   strict=True)]  # fmt: skip
    assert failures.count("valence") > 30


def test_training_lowers_every_part_of_the_loss(valid) -> None:
    # Given 16 molecules and a small model
    _, alphabet, ordered = valid
    torch.manual_seed(0)
    model = build_atom(TINY.model_copy(update={"hidden_dim": 32, "decoder_layers": 2}), alphabet,
                       GraphConfig())
    batch = collate(ordered.graphs, ordered.type_ids, np.arange(16), alphabet,
                    FeatureSpec(GraphConfig()))  # fmt: skip
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = {k: float(v.detach()) for k, v in model.loss(batch, 0.0).items()}
    for _ in range(100):
        optimizer.zero_grad()
        model.loss(batch, 0.0)["loss"].backward()
        optimizer.step()
    last = {k: float(v.detach()) for k, v in model.loss(batch, 0.0).items()}
    # Then the loss is the sum of its parts, and each part fell
    assert last["loss"] == pytest.approx(last["atom_loss"] + last["neighbour_loss"]
                                         + last["bond_loss"], rel=1e-5)  # fmt: skip
    for part in ("atom_loss", "neighbour_loss", "bond_loss"):
        assert last[part] < 0.7 * first[part], part
