"""Atom types and canonical order: every molecule is exactly expressible as a bag of typed atoms
plus Kekulé bonds, which is what the one-shot decoders predict."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

from moldojo.chem import graph_to_smiles, mol_to_graph, parse_smiles
from moldojo.data import PackedGraphs, load_dataset
from moldojo.errors import VocabularyError
from moldojo.models.two_step.atom_types import AtomTypes, decoded_graph, order_graphs

SMILES = ["CC(=O)Nc1ccc(O)cc1", "C[NH+](C)CC(=O)[O-]", "C#N", "O=S(=O)(c1ccccc1)N"]


def _pack(smiles: list[str]) -> PackedGraphs:
    return PackedGraphs.from_graphs([mol_to_graph(parse_smiles(s)) for s in smiles])


def test_types_hold_element_charge_hydrogens_and_valences() -> None:
    types = AtomTypes.build(_pack(SMILES))
    assert (7, 1, 1) in types.types  # [NH+]
    assert (8, -1, 0) in types.types  # [O-]
    sulfur = types.types.index((16, 0, 0))
    assert types.valences[sulfur] == (6,)  # sulfonyl, Kekulé: 2 + 2 + 1 + 1
    carbon_h0 = types.types.index((6, 0, 0))
    assert types.valences[carbon_h0] == (4,)
    assert types.max_atoms == 11
    assert sum(types.bond_counts) == sum(n * (n - 1) // 2 for n in _pack(SMILES).num_atoms)


def test_unknown_types_are_minus_one_and_data_round_trips() -> None:
    types = AtomTypes.build(_pack(["CCO"]))
    ids = types.type_ids(_pack(["CCN"]).atoms)
    assert ids[-1] == -1 and (ids[:-1] >= 0).all()
    assert AtomTypes.from_data(types.to_data()) == types
    with pytest.raises(VocabularyError):
        AtomTypes.from_data({"types": []})


def test_canonical_order_sorts_types_and_keeps_the_molecule() -> None:
    # Given molecules written in random atom orders
    random_smiles = [Chem.MolToSmiles(Chem.MolFromSmiles(s), doRandom=True) for s in SMILES]
    types = AtomTypes.build(_pack(SMILES))
    # When they are put in canonical order
    ordered = order_graphs(_pack(random_smiles), types, progress=False)
    # Then types are sorted within each molecule, and the order does not depend on the input order
    reference = order_graphs(_pack(SMILES), types, progress=False)
    for k in range(len(SMILES)):
        a0, a1 = ordered.graphs.atom_ptr[k], ordered.graphs.atom_ptr[k + 1]
        assert (np.diff(ordered.type_ids[a0:a1]) >= 0).all()
        assert graph_to_smiles(ordered.graphs[k]) == graph_to_smiles(reference.graphs[k])
        assert np.array_equal(ordered.graphs[k].edge_index, reference.graphs[k].edge_index)


def test_every_molecule_is_a_bag_of_typed_atoms_plus_bonds() -> None:
    # Given 300 moses-mini molecules
    dataset = load_dataset("moses-mini:valid", progress=False)
    packed = dataset.graphs.select(np.arange(300))
    types = AtomTypes.build(packed)
    ordered = order_graphs(packed, types, progress=False)
    for k in range(len(ordered)):
        graph = ordered.graphs[k]
        a0, a1 = ordered.graphs.atom_ptr[k], ordered.graphs.atom_ptr[k + 1]
        # When only its types and bonds are kept
        rebuilt = decoded_graph(types, ordered.type_ids[a0:a1], graph.edge_index, graph.bond_type)
        # Then it is the same molecule, stereo aside
        expected = Chem.MolToSmiles(Chem.MolFromSmiles(dataset.smiles[k]), isomericSmiles=False)
        assert graph_to_smiles(rebuilt) == expected
