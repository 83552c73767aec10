"""Tests of :mod:`moldojo.chem.motifs`: molecule -> motif tree -> molecule, exactly.

Round trips run on the hard molecules of ``hard_smiles.txt`` (charges, stereo, isotopes,
radicals, cages) and on a sample of moses-mini; motif strings must not depend on atom order
(randomised SMILES); a vocabulary that lacks a motif triggers the documented fallback, never a
``KeyError``. Whole datasets are checked by ``moldojo motifs check`` (see BENCHMARKS.md).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem

from moldojo.chem import canonical_smiles, mol_to_graph, parse_smiles
from moldojo.chem.motifs import (
    MotifTree,
    assemble,
    decompose,
    motif_configurations,
    motif_smiles,
    split_configuration,
    tree_graph,
)
from moldojo.data import resolve_one
from moldojo.errors import InvalidMoleculeError

HARD_SMILES = [
    line.partition("  # ")[0].strip()
    for line in (Path(__file__).with_name("hard_smiles.txt")).read_text().splitlines()
    if line.strip() and not line.startswith("#")
]
SEED = 7


def _moses_sample(n: int) -> list[str]:
    records = resolve_one("moses-mini:test").records()
    return [text for _, text in itertools.islice(records, 0, 20 * n, 20)]


def _roundtrip(smiles: str, **kwargs) -> tuple[str, str, MotifTree]:
    mol = parse_smiles(smiles)
    tree = decompose(mol, **kwargs)
    return canonical_smiles(mol), canonical_smiles(assemble(tree)), tree


def _check_tree_shape(tree: MotifTree, mol: Chem.Mol) -> None:
    """Every motif but the root has one parent placed before it; edges merge equal elements;
    assembled atoms are a permutation of the molecule's."""
    assert tree.nodes[0].parent == -1
    assert 0 in tree.nodes[0].atoms
    assert len(tree.edges) == len(tree) - 1
    for i, node in enumerate(tree.nodes):
        assert all(c > i for c in node.children)
        for child in node.children:
            assert tree.nodes[child].parent == i
        if node.parent >= 0:
            parent = tree.nodes[node.parent]
            assert parent.atoms[node.parent_atom] == node.atoms[node.attach_atom]
            assert node.attach_atom in node.attachment
            assert node.parent_atom in parent.attachment
    assert sorted(tree.atom_order) == list(range(mol.GetNumAtoms()))
    covered = {b for node in tree.nodes for b in _bonds_within(mol, node.atoms)}
    assert covered == set(range(mol.GetNumBonds()))


def _bonds_within(mol: Chem.Mol, atoms: tuple[int, ...]) -> set[int]:
    inside = set(atoms)
    return {
        b.GetIdx()
        for b in mol.GetBonds()
        if b.GetBeginAtomIdx() in inside and b.GetEndAtomIdx() in inside
    }


# -- what the motifs are ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("smiles", "expected"),
    [
        # an amide side chain on a phenol: the chain keeps the ring atom it hangs on, as CH3
        ("CC(=O)Nc1ccc(O)cc1", [("chain", "CC(=O)N[CH3:1]"),
                                ("ring", "c1c[cH:1]cc[cH:1]1"), ("chain", "O[CH3:1]")]),
        # fused and spiro rings stay one ring system
        ("c1ccc2ccccc2c1", [("ring", "c1ccc2ccccc2c1")]),
        ("C1CCC2(CC1)CCCC2", [("ring", "C1CCC2(CC1)CCCC2")]),
        # a bare bond between two rings is a two-atom piece shared by both
        ("c1ccccc1-c1ccccc1", [("ring", "c1cc[cH:1]cc1"), ("chain", "[CH3:1][CH3:1]"),
                               ("ring", "c1cc[cH:1]cc1")]),
        # no ring: one piece; no bond: one atom
        ("CCOC(C)=O", [("chain", "CCOC(C)=O")]),
        ("[NH4+]", [("atom", "[NH4+]")]),
        # an exocyclic double bond belongs to the piece; the ring alone has CH2 there
        ("O=C1CCCCC1", [("chain", "O=[CH2:1]"), ("ring", "C1CC[CH2:1]CC1")]),
        # charges, isotopes and explicit hydrogens are kept in the motif strings
        ("C[n+]1ccccc1", [("chain", "C[NH3+:1]"),
                          ("ring", "c1cc[nH+:1]cc1")]),
        ("[2H]C([2H])([2H])c1ccccc1", [("chain", "[2H]C([2H])([2H])[CH3:1]"),
                                       ("ring", "c1cc[cH:1]cc1")]),
    ],
    ids=["acetaminophen", "naphthalene", "spiro", "biphenyl", "ester", "ammonium",
         "cyclohexanone", "methylpyridinium", "deuterated-toluene"],
)  # fmt: skip
def test_motifs_of_known_molecules(smiles: str, expected: list[tuple[str, str]]) -> None:
    # Given a molecule
    mol = parse_smiles(smiles)
    # When it is decomposed
    tree = decompose(mol)
    # Then its motifs (kind, configuration) are the documented ones, root first
    assert [(node.kind, node.config) for node in tree.nodes] == expected
    assert Counter(motif_configurations(mol)) == Counter(expected)
    _check_tree_shape(tree, mol)


def test_motif_smiles_drop_the_marks() -> None:
    # Given configurations of one motif with different attachment atoms
    # When their motif is read, Then it is the same unmarked canonical SMILES
    assert motif_smiles("c1c[cH:1]cc[cH:1]1") == motif_smiles("c1cc[cH:1]cc1") == "c1ccccc1"
    assert motif_smiles("CC(=O)N[CH3:1]") == "CNC(C)=O"


def test_shared_atoms_are_ring_atoms_with_a_bridge() -> None:
    # Given a molecule with ring systems joined by a linker and carrying side chains
    mol = parse_smiles("Cc1ccc(CCN2CCOCC2)cc1C(F)(F)F")
    # When it is decomposed
    tree = decompose(mol)
    # Then every shared atom is a ring atom with a bond in no ring, held by exactly two motifs
    held = Counter(a for node in tree.nodes for a in node.atoms)
    for atom, times in held.items():
        rdkit_atom = mol.GetAtomWithIdx(atom)
        bridged = any(not b.IsInRing() for b in rdkit_atom.GetBonds())
        assert (times == 2) == (rdkit_atom.IsInRing() and bridged)
        assert times <= 2
    kinds = Counter(node.kind for node in tree.nodes)
    assert kinds == {"ring": 2, "chain": 3}


# -- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("smiles", HARD_SMILES)
def test_hard_molecules_roundtrip_exactly(smiles: str) -> None:
    # Given a hard molecule (charges, stereo, isotopes, radicals, cages, macrocycles)
    # When it is decomposed into its motif tree and assembled again
    expected, got, tree = _roundtrip(smiles)
    # Then the canonical SMILES, stereo included, is unchanged and the tree is well formed
    assert got == expected
    _check_tree_shape(tree, parse_smiles(smiles))


@pytest.mark.parametrize("smiles", HARD_SMILES[::2])
def test_tree_graph_is_the_molecule_graph_in_assembled_order(smiles: str) -> None:
    # Given a hard molecule and its tree
    mol = parse_smiles(smiles)
    tree = decompose(mol)
    # When the tree's graph is built from motif strings, attachments and stereo codes
    graph = tree_graph(tree)
    # Then it is the molecule's graph renumbered in assembled order (the Kekule structure of
    # aromatic rings may differ: each motif brings its own)
    expected = mol_to_graph(mol).permute(np.asarray(tree.atom_order))
    for name in ("atomic_num", "formal_charge", "num_hs", "chirality", "isotope",
                 "radical_electrons", "edge_index", "bond_stereo"):  # fmt: skip
        assert np.array_equal(getattr(graph, name), getattr(expected, name)), name


def test_moses_sample_roundtrips_exactly() -> None:
    # Given 250 molecules of moses-mini's test split
    for smiles in _moses_sample(250):
        # When each goes molecule -> tree -> molecule, Then it comes back unchanged
        expected, got, _ = _roundtrip(smiles)
        assert got == expected, smiles


def test_assembled_atoms_follow_atom_order() -> None:
    # Given a tree
    mol = parse_smiles("OC(=O)[C@@H](N)Cc1c[nH]c2ccccc12")
    tree = decompose(mol)
    # When it is assembled
    assembled = assemble(tree)
    # Then assembled atom k is the molecule's atom atom_order[k]
    for k, original in enumerate(tree.atom_order):
        assert (
            assembled.GetAtomWithIdx(k).GetAtomicNum()
            == mol.GetAtomWithIdx(original).GetAtomicNum()
        )


@pytest.mark.parametrize(
    "smiles",
    ["C[C@H](N)C(=O)O", "C/C=C/c1ccccc1", "C[C@@H]1CC[C@H](C)CC1", "F/C=C\\[C@@H](Cl)c1ccccc1"],
)
def test_stereo_blind_assembly_uses_motif_strings_only(smiles: str) -> None:
    # Given a molecule with stereo and its tree
    mol = parse_smiles(smiles)
    tree = decompose(mol)
    assert tree.chirality or tree.bond_stereo
    # When the tree is assembled without its stored stereo codes
    blind = assemble(tree, stereo=False)
    # Then the molecule is the input up to stereo, and the stored codes restore the stereo
    assert canonical_smiles(blind, isomeric=False) == canonical_smiles(mol, isomeric=False)
    assert canonical_smiles(assemble(tree)) == canonical_smiles(mol)


# -- canonical forms -------------------------------------------------------------------------


@pytest.mark.parametrize("smiles", HARD_SMILES[::3] + _moses_sample(60))
def test_motif_strings_do_not_depend_on_atom_order(smiles: str) -> None:
    # Given a molecule's motif configurations
    mol = parse_smiles(smiles)
    expected = Counter(motif_configurations(mol))
    # When the molecule is read from seeded random SMILES (other atom orders, other Kekule
    # structures)
    for randomised in Chem.MolToRandomSmilesVect(mol, 4, randomSeed=SEED):
        # Then the motifs and configurations are the same strings
        assert Counter(motif_configurations(parse_smiles(randomised))) == expected, randomised


# -- errors ----------------------------------------------------------------------------------


def test_fragments_and_empty_molecules_are_refused() -> None:
    # Given a salt (two fragments) and an empty molecule
    # When they are decomposed, Then the error says why
    with pytest.raises(InvalidMoleculeError, match="fragments"):
        decompose(Chem.MolFromSmiles("CC(=O)[O-].[Na+]"))
    with pytest.raises(InvalidMoleculeError, match="fragments"):
        decompose(Chem.MolFromSmiles("C.C"))
    with pytest.raises(InvalidMoleculeError, match="empty"):
        decompose(Chem.Mol())


def test_a_corrupted_tree_fails_with_an_invalid_molecule_error() -> None:
    # Given the tree of N-phenylacetamide: the piece CC(=O)N[CH3:1], then the ring on its CH3
    tree = decompose(parse_smiles("CC(=O)Nc1ccccc1"))
    root, ring = tree.nodes
    assert root.config == "CC(=O)N[CH3:1]" and ring.parent_atom == 4
    # When the ring is attached to an atom out of range, to the nitrogen (another element), or
    # to the carbonyl carbon (which has no hydrogen left to give)
    for parent_atom, message in [(9, "not in"), (3, "elements"), (1, "valence")]:
        broken = replace(tree, nodes=(root, replace(ring, parent_atom=parent_atom)))
        # Then assembly raises InvalidMoleculeError saying why, never another exception
        with pytest.raises(InvalidMoleculeError, match=message):
            assemble(broken)
    # and stereo codes on an atom or a bond the tree does not have are refused the same way
    for broken in (replace(tree, chirality=((42, 1),)), replace(tree, bond_stereo=((0, 9, 1),))):
        with pytest.raises(InvalidMoleculeError, match="does not fit"):
            assemble(broken)


# -- vocabulary fallback ---------------------------------------------------------------------


def test_split_configuration_gives_the_bonds_of_a_piece() -> None:
    # Given the configuration of an acetamide piece attached through its CH3
    # When the fallback splits it, Then each bond becomes a two-atom motif, marked where it
    # touches another bond or the piece's attachment atom
    assert sorted(split_configuration("CC(=O)N[CH3:1]")) == sorted(
        ["C[CH3:1]", "O=[CH2:1]", "[CH3:1][NH2:1]", "[CH3:1][NH2:1]"]
    )
    assert split_configuration("c1cc[cH:1]cc1") == ("c1cc[cH:1]cc1",)
    assert split_configuration("C[CH3:1]") == ("C[CH3:1]",)


def test_missing_piece_is_split_into_known_bonds() -> None:
    # Given a vocabulary that knows the ring and the bonds but not the acetamide piece
    smiles = "CC(=O)Nc1ccccc1"
    ring = ("c1ccccc1", "c1cc[cH:1]cc1")
    bonds = {(motif_smiles(c), c) for c in split_configuration("CC(=O)N[CH3:1]")}
    vocab = {ring, *bonds}
    # When the molecule is decomposed with it
    expected, got, tree = _roundtrip(smiles, vocab=vocab)
    # Then the piece is split (counted), every node is known, and the round trip is exact
    assert tree.fallback == 1 and tree.unknown == 0
    assert len(tree) == 5 and all(node.known for node in tree.nodes)
    assert got == expected
    _check_tree_shape(tree, parse_smiles(smiles))


def test_missing_ring_system_stays_whole_and_is_counted_unknown() -> None:
    # Given an empty vocabulary
    smiles = "CC(=O)Nc1ccc2ccccc2c1"
    # When a molecule is decomposed with it
    expected, got, tree = _roundtrip(smiles, vocab=set())
    # Then pieces are split, the ring system and the unseen bonds are marked unknown, and the
    # tree still assembles exactly
    assert tree.fallback == 1
    assert tree.unknown == len(tree)
    assert got == expected
