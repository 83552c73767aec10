"""Tests of :mod:`moldojo.chem.graph`: the exact SMILES -> MolGraph -> SMILES round trip.

The hard cases live in ``hard_smiles.txt`` beside this file (charges, charged aromatics,
heteroaromatics, stereo of every kind, cages, macrocycles, natural products, isotopes, radicals,
hypervalent atoms, boron, silicon and the heavier main-group elements). Every one must come back
with the same canonical SMILES, stereo included, in both aromaticity modes, from randomised
SMILES too, and whatever the atom order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem

from moldojo.chem import (
    BOND_TYPES,
    GraphConfig,
    MolGraph,
    canonical_smiles,
    graph_to_mol,
    graph_to_smiles,
    mol_to_graph,
    parse_smiles,
    roundtrip,
)
from moldojo.errors import InvalidMoleculeError

HARD_SMILES_FILE = Path(__file__).with_name("hard_smiles.txt")
MODES = ("kekulize", "aromatic")
ATOM_FIELDS = ("atomic_num", "formal_charge", "num_hs", "isotope", "radical_electrons", "aromatic")
INT_FIELDS = (
    "atomic_num", "formal_charge", "num_hs", "chirality", "isotope", "radical_electrons",
    "edge_index", "bond_type", "bond_stereo",
)  # fmt: skip
NUM_RANDOM_SMILES = 3
NUM_PERMUTATIONS = 4
SEED = 20240531


@dataclass(frozen=True)
class HardCase:
    """One line of ``hard_smiles.txt``."""

    smiles: str
    comment: str
    category: str
    line: int

    @property
    def name(self) -> str:
        """The molecule's name: the comment up to its first ', ' or ';'."""
        return self.comment.split(";")[0].split(", ")[0]


def load_hard_cases(path: Path = HARD_SMILES_FILE) -> list[HardCase]:
    """Read ``SMILES  # comment`` lines grouped under ``## category`` headers.

    Lines starting with a single ``#`` are notes about the file; blank lines are skipped.
    """
    cases: list[HardCase] = []
    category = ""
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if line.startswith("## "):
            category = line[3:].strip()
            continue
        if not line or line.startswith("#"):
            continue
        smiles, sep, comment = line.partition("  # ")
        if not sep or not comment.strip() or not category:
            raise ValueError(
                f"{path}:{number}: expected 'SMILES  # comment' under a '## category' line, "
                f"got {raw!r}"
            )
        cases.append(HardCase(smiles.strip(), comment.strip(), category, number))
    return cases


HARD_CASES = load_hard_cases()
HARD_IDS = [case.name for case in HARD_CASES]
hard_cases = pytest.mark.parametrize("case", HARD_CASES, ids=HARD_IDS)
modes = pytest.mark.parametrize("mode", MODES)


def _graph(smiles: str, mode: str = "kekulize") -> MolGraph:
    config = GraphConfig(aromaticity=mode)
    return mol_to_graph(parse_smiles(smiles, config), config)


def _rng(case: HardCase) -> np.random.Generator:
    """A generator seeded per case, so that each test sees the same permutations alone or not."""
    return np.random.default_rng([SEED, case.line])


# --------------------------------------------------------------------------------------------
# The hard set itself


def test_hard_set_is_well_formed() -> None:
    # Given the curated file
    # When it is read
    cases = load_hard_cases()
    # Then it holds about a hundred distinct molecules, each named once, in every category
    assert 100 <= len(cases) <= 150
    assert len(set(HARD_IDS)) == len(HARD_IDS), "two lines share a name: make the comments unique"
    canonical = [canonical_smiles(parse_smiles(case.smiles)) for case in cases]
    duplicates = {s for s in canonical if canonical.count(s) > 1}
    assert not duplicates, f"molecules listed twice: {sorted(duplicates)}"
    categories = {case.category for case in cases}
    assert len(categories) >= 12
    for category in categories:
        assert sum(case.category == category for case in cases) >= 4, category


def test_hard_set_loader_reports_file_and_line(tmp_path: Path) -> None:
    # Given a file with a line that has no comment
    path = tmp_path / "bad.txt"
    path.write_text("## ions\n[Cl-]  # chloride\nCCO\n")
    # When it is read, Then the error names the file and the line
    with pytest.raises(ValueError, match=r"bad\.txt:3"):
        load_hard_cases(path)


# --------------------------------------------------------------------------------------------
# Round trips


@modes
@hard_cases
def test_hard_smiles_roundtrip_exactly(case: HardCase, mode: str) -> None:
    # Given a hard molecule
    config = GraphConfig(aromaticity=mode)
    # When it goes SMILES -> graph -> SMILES
    expected, got = roundtrip(case.smiles, config)
    # Then the canonical SMILES, stereo, charges, isotopes and radicals included, is unchanged
    assert got == expected, f"line {case.line}: {case.smiles}"


@modes
@hard_cases
def test_graph_to_mol_to_graph_is_the_identity(case: HardCase, mode: str) -> None:
    # Given the graph of a hard molecule
    config = GraphConfig(aromaticity=mode)
    graph = mol_to_graph(parse_smiles(case.smiles, config), config)
    # When it is rebuilt as a molecule and described again
    again = mol_to_graph(graph_to_mol(graph), config)
    # Then every array is the same: atom order, Kekule structure and stereo codes are kept
    assert again == graph


@modes
@hard_cases
def test_randomised_smiles_roundtrip_to_the_same_canonical_smiles(
    case: HardCase, mode: str
) -> None:
    # Given seeded random SMILES of a hard molecule (other atom orders, other ring closures;
    # RDKit's randomSeed, not rdBase.SeedRandomNumberGenerator, seeds MolToSmiles' doRandom)
    config = GraphConfig(aromaticity=mode)
    mol = parse_smiles(case.smiles, config)
    expected = canonical_smiles(mol)
    randomised = Chem.MolToRandomSmilesVect(mol, NUM_RANDOM_SMILES, randomSeed=SEED)
    for smiles in randomised:
        # When each goes SMILES -> graph -> SMILES
        got_expected, got = roundtrip(smiles, config)
        # Then it gives the canonical SMILES of the original
        assert got_expected == expected, f"RDKit reads {smiles} as another molecule"
        assert got == expected, f"from {smiles}"


def test_randomised_smiles_are_seeded_and_differ() -> None:
    # Given a molecule with many atoms
    mol = parse_smiles("CC[C@@H](C)[C@H](N)C(=O)N[C@@H](Cc1ccccc1)C(=O)O")
    # When random SMILES are drawn twice with the same seed
    first = Chem.MolToRandomSmilesVect(mol, NUM_RANDOM_SMILES, randomSeed=SEED)
    second = Chem.MolToRandomSmilesVect(mol, NUM_RANDOM_SMILES, randomSeed=SEED)
    # Then the draws repeat, and they really are other writings of the molecule
    assert first == second
    assert len(set(first) | {canonical_smiles(mol)}) > 1


# --------------------------------------------------------------------------------------------
# Permuting atoms


@modes
@hard_cases
def test_permuted_graph_keeps_its_smiles(case: HardCase, mode: str) -> None:
    # Given the graph of a hard molecule
    graph = _graph(case.smiles, mode)
    expected = canonical_smiles(parse_smiles(case.smiles))
    rng = _rng(case)
    for _ in range(NUM_PERMUTATIONS):
        # When its atoms are renumbered at random
        perm = rng.permutation(graph.num_atoms)
        # Then it still describes the same molecule, stereo included
        assert graph_to_smiles(graph.permute(perm)) == expected, f"perm={perm.tolist()}"


@modes
@hard_cases
def test_permutation_then_its_inverse_gives_the_identical_graph(case: HardCase, mode: str) -> None:
    # Given the graph of a hard molecule and random permutations
    graph = _graph(case.smiles, mode)
    rng = _rng(case)
    for _ in range(NUM_PERMUTATIONS):
        perm = rng.permutation(graph.num_atoms)
        # When it is permuted by p, then by the inverse of p
        back = graph.permute(perm).permute(np.argsort(perm))
        # Then every array, stereo codes and edge order included, is as before
        assert back == graph, f"perm={perm.tolist()}"


@hard_cases
def test_permutation_moves_atom_arrays_and_bonds(case: HardCase) -> None:
    # Given the graph of a hard molecule (aromatic mode: bond types do not depend on order)
    graph = _graph(case.smiles, "aromatic")
    perm = _rng(case).permutation(graph.num_atoms)
    new_index = np.argsort(perm)
    # When it is permuted, with old atom perm[k] moving to position k
    permuted = graph.permute(perm)
    # Then atom arrays move with their atoms; stereo centres stay where their atoms go
    for name in ATOM_FIELDS:
        np.testing.assert_array_equal(getattr(permuted, name), getattr(graph, name)[perm], name)
    np.testing.assert_array_equal(permuted.chirality != 0, graph.chirality[perm] != 0)
    # And each bond keeps its type and whether it has stereo, between the renumbered atoms
    assert (permuted.edge_index[0] < permuted.edge_index[1]).all()

    def bonds(g: MolGraph, index: np.ndarray) -> set[tuple[int, int, int, bool]]:
        ends = np.sort(index[g.edge_index], axis=0)
        return {
            (int(a), int(b), int(t), bool(s))
            for (a, b), t, s in zip(ends.T, g.bond_type, g.bond_stereo, strict=True)
        }

    assert bonds(permuted, np.arange(graph.num_atoms)) == bonds(graph, new_index)


@modes
@hard_cases
def test_permuted_graph_equals_graph_of_renumbered_molecule(case: HardCase, mode: str) -> None:
    # Given a hard molecule and a random atom order
    mol = parse_smiles(case.smiles)
    config = GraphConfig(aromaticity=mode)
    perm = _rng(case).permutation(mol.GetNumAtoms())
    # When its graph is permuted, and when RDKit renumbers the molecule before describing it
    permuted = mol_to_graph(mol, config).permute(perm)
    renumbered = mol_to_graph(Chem.RenumberAtoms(mol, perm.tolist()), config)
    # Then both give the same arrays, so permute remaps stereo codes exactly as RDKit does
    # (in kekulize mode RDKit may pick another Kekule structure for the new order, so bond
    # types are left out there)
    names = [f.name for f in dataclasses.fields(MolGraph)]
    if mode == "kekulize":
        names.remove("bond_type")
    for name in names:
        np.testing.assert_array_equal(getattr(permuted, name), getattr(renumbered, name), name)


@pytest.mark.parametrize(
    "perm", [[0, 1], [0, 1, 2, 2], [1, 2, 3, 4]], ids=["too-short", "repeated", "out-of-range"]
)
def test_permute_rejects_a_non_permutation(perm: list[int]) -> None:
    # Given a 4-atom graph
    graph = _graph("CC(N)O")
    # When it is permuted by something that is not a permutation of range(4), Then it refuses
    with pytest.raises(ValueError, match="permutation"):
        graph.permute(np.array(perm))


# --------------------------------------------------------------------------------------------
# Shapes, dtypes and codes


@modes
@pytest.mark.parametrize(
    ("smiles", "num_atoms", "num_bonds"),
    [
        ("C", 1, 0),  # one atom, its hydrogens attributes: no edges at all
        ("[Cl-]", 1, 0),
        ("[H][H]", 2, 1),  # hydrogens RDKit keeps as atoms are nodes
        ("[2H]C([2H])([2H])[2H]", 5, 4),
        ("C1CCCCC1", 6, 6),
        ("c1ccccc1", 6, 6),
        ("C12C3C4C1C1C2C3C41", 8, 12),  # cubane
    ],
    ids=["methane", "chloride", "dihydrogen", "CD4", "cyclohexane", "benzene", "cubane"],
)
def test_fields_have_documented_shapes_and_dtypes(
    smiles: str, num_atoms: int, num_bonds: int, mode: str
) -> None:
    # Given a small molecule
    # When it becomes a graph
    graph = _graph(smiles, mode)
    # Then atom fields are [N], edge_index [2, E], bond fields [E]; integers are int64
    assert (graph.num_atoms, graph.num_bonds) == (num_atoms, num_bonds)
    for name in ATOM_FIELDS + ("chirality",):
        assert getattr(graph, name).shape == (num_atoms,), name
    assert graph.edge_index.shape == (2, num_bonds)
    assert graph.bond_type.shape == graph.bond_stereo.shape == (num_bonds,)
    for name in INT_FIELDS:
        assert getattr(graph, name).dtype == np.int64, name
    assert graph.aromatic.dtype == np.bool_


def test_single_atom_graph_holds_its_hydrogens_as_a_count() -> None:
    # Given methane
    # When it becomes a graph
    graph = _graph("C")
    # Then it is one carbon carrying four hydrogens, and nothing else
    assert graph.atomic_num.tolist() == [6]
    assert graph.num_hs.tolist() == [4]
    assert graph.formal_charge.tolist() == graph.chirality.tolist() == [0]
    assert graph.isotope.tolist() == graph.radical_electrons.tolist() == [0]
    assert graph_to_smiles(graph) == "C"


def test_charges_isotopes_and_radicals_are_recorded_on_atoms() -> None:
    # Given a zwitterion, an isotope-labelled molecule and a radical
    # When they become graphs
    zwitterion = _graph("[NH3+]CC(=O)[O-]")
    labelled = _graph("C[13C](=O)O")
    radical = _graph("CC1(C)CCCC(C)(C)N1[O]")
    # Then each atom carries its own charge, mass number and unpaired electrons
    assert zwitterion.formal_charge.tolist() == [1, 0, 0, 0, -1]
    assert zwitterion.num_hs.tolist() == [3, 2, 0, 0, 0]
    assert labelled.isotope.tolist() == [0, 13, 0, 0]
    assert radical.radical_electrons.sum() == 1
    assert radical.radical_electrons[radical.atomic_num == 8].tolist() == [1]


@modes
@hard_cases
def test_edge_index_lists_each_bond_once_lower_index_first(case: HardCase, mode: str) -> None:
    # Given a hard molecule
    mol = parse_smiles(case.smiles)
    # When it becomes a graph
    graph = _graph(case.smiles, mode)
    # Then edge_index has one column per bond, row 0 < row 1, and no pair twice
    assert graph.num_bonds == mol.GetNumBonds()
    assert (graph.edge_index[0] < graph.edge_index[1]).all()
    pairs = {tuple(pair) for pair in graph.edge_index.T.tolist()}
    assert len(pairs) == graph.num_bonds
    expected = {tuple(sorted((b.GetBeginAtomIdx(), b.GetEndAtomIdx()))) for b in mol.GetBonds()}
    assert pairs == expected


@hard_cases
def test_bond_codes_are_integer_orders_in_kekulize_mode(case: HardCase) -> None:
    # Given a hard molecule, aromatic or not
    # When it becomes a graph in each mode
    kekule = _graph(case.smiles, "kekulize")
    aromatic = _graph(case.smiles, "aromatic")
    # Then kekulize mode uses only single, double and triple; aromatic mode any known code;
    # and both modes flag the same atoms as aromatic
    assert set(kekule.bond_type.tolist()) <= {1, 2, 3}
    assert set(aromatic.bond_type.tolist()) <= set(BOND_TYPES)
    np.testing.assert_array_equal(kekule.aromatic, aromatic.aromatic)
    assert set(kekule.chirality.tolist()) <= {0, 1, 2}
    assert set(kekule.bond_stereo.tolist()) <= {0, 1, 2}


def test_benzene_bond_codes_in_each_mode() -> None:
    # Given benzene
    # When it becomes a graph in each mode
    kekule = _graph("c1ccccc1", "kekulize")
    aromatic = _graph("c1ccccc1", "aromatic")
    # Then kekulize mode writes three single and three double bonds, aromatic mode six code-4
    # bonds; the aromatic atom flags are filled in both
    assert sorted(kekule.bond_type.tolist()) == [1, 1, 1, 2, 2, 2]
    assert aromatic.bond_type.tolist() == [4] * 6
    assert BOND_TYPES[4] == "aromatic"
    assert kekule.aromatic.all() and aromatic.aromatic.all()
    assert graph_to_smiles(kekule) == graph_to_smiles(aromatic) == "c1ccccc1"


# --------------------------------------------------------------------------------------------
# Invalid graphs


def _star(centre: int, num_hs: list[int], bond_type: int = 1) -> MolGraph:
    """Atom 0 (element ``centre``) bonded to one carbon per entry of ``num_hs[1:]``."""
    n = len(num_hs)
    zeros = np.zeros(n, np.int64)
    return MolGraph(
        atomic_num=np.array([centre] + [6] * (n - 1), np.int64),
        formal_charge=zeros,
        num_hs=np.array(num_hs, np.int64),
        chirality=zeros,
        isotope=zeros,
        radical_electrons=zeros,
        aromatic=np.zeros(n, bool),
        edge_index=np.array([[0] * (n - 1), list(range(1, n))], np.int64).reshape(2, n - 1),
        bond_type=np.full(n - 1, bond_type, np.int64),
        bond_stereo=np.zeros(n - 1, np.int64),
    )


def _nitro_without_charges() -> MolGraph:
    """CN(=O)=O: nitromethane's graph with the charges dropped, so N has valence 5."""
    graph = _graph("C[N+](=O)[O-]")
    bond_type = np.where(graph.bond_type == 1, 2, graph.bond_type)
    bond_type[graph.edge_index[0] == 0] = 1  # keep the C-N bond single
    return dataclasses.replace(graph, formal_charge=np.zeros(4, np.int64), bond_type=bond_type)


def _aromatic_five_ring_without_charge() -> MolGraph:
    """Cyclopentadienide in aromatic mode with its charge removed: no Kekule structure."""
    graph = _graph("c1cc[cH-]c1", "aromatic")
    return dataclasses.replace(graph, formal_charge=np.zeros(5, np.int64))


def _stereo_on_a_bare_double_bond() -> MolGraph:
    """Ethene with a cis label: neither end has another neighbour to refer it to."""
    graph = _graph("C=C")
    return dataclasses.replace(graph, bond_stereo=np.array([1], np.int64))


@pytest.mark.parametrize(
    "make_graph",
    [
        lambda: _star(6, [0, 3, 3, 3, 3, 3]),  # carbon with five single bonds
        lambda: _star(7, [0, 3, 3, 3, 3]),  # neutral nitrogen with four single bonds
        lambda: _star(7, [0, 3, 3, 3, 3, 3]),  # nitrogen with five single bonds
        lambda: _star(8, [0, 1], bond_type=3),  # O#C: neutral oxygen with a triple bond
        _aromatic_five_ring_without_charge,
        _stereo_on_a_bare_double_bond,
    ],
    ids=[
        "pentavalent-C", "tetravalent-neutral-N", "pentavalent-N", "trivalent-O",
        "unkekulisable-aromatic-ring", "stereo-without-neighbours",
    ],
)  # fmt: skip
def test_invalid_graph_raises_and_decodes_to_none(make_graph: Callable[[], MolGraph]) -> None:
    # Given a graph that breaks valence, kekulisation or stereo rules (as a decoder may emit)
    graph = make_graph()
    # When it is turned back into a molecule
    # Then graph_to_mol raises InvalidMoleculeError and graph_to_smiles counts it as None
    with pytest.raises(InvalidMoleculeError):
        graph_to_mol(graph)
    assert graph_to_smiles(graph) is None


def test_uncharged_nitro_graph_is_repaired_by_rdkit_not_rejected() -> None:
    # Given nitromethane's graph with its charges dropped: neutral N with two double bonds
    graph = _nitro_without_charges()
    # When it is decoded
    mol = graph_to_mol(graph)
    # Then RDKit's sanitisation (its "cleanup" step) rewrites it as the charge-separated nitro
    # group, as Chem.MolFromSmiles("CN(=O)=O") does, so it counts as valid; the molecule is not
    # the graph's, atom for atom. This documents the present behaviour: rejecting such graphs
    # instead would take SanitizeMol(..., sanitizeOps=SANITIZE_ALL ^ SANITIZE_CLEANUP).
    assert canonical_smiles(mol) == "C[N+](=O)[O-]"
    assert mol_to_graph(mol) != graph


def test_valid_star_graph_decodes() -> None:
    # Given the same helper building a legal molecule, neopentane
    graph = _star(6, [0, 3, 3, 3, 3])
    # When it is decoded, Then it is neopentane: the invalid cases fail for their chemistry
    assert graph_to_smiles(graph) == "CC(C)(C)C"


# --------------------------------------------------------------------------------------------
# Stereo codes


def test_enantiomers_differ_only_in_their_chirality_code() -> None:
    # Given L- and D-alanine written atom for atom alike
    l_ala = _graph("N[C@@H](C)C(=O)O")
    d_ala = _graph("N[C@H](C)C(=O)O")
    # When their graphs are compared
    # Then only the alpha carbon's chirality code differs, 1 against 2
    for name in (f.name for f in dataclasses.fields(MolGraph)):
        if name != "chirality":
            np.testing.assert_array_equal(getattr(l_ala, name), getattr(d_ala, name), name)
    assert sorted([int(l_ala.chirality[1]), int(d_ala.chirality[1])]) == [1, 2]
    assert np.flatnonzero(l_ala.chirality).tolist() == np.flatnonzero(d_ala.chirality).tolist()
    # And they decode to different SMILES, each its own
    assert graph_to_smiles(l_ala) == canonical_smiles(parse_smiles("N[C@@H](C)C(=O)O"))
    assert graph_to_smiles(d_ala) == canonical_smiles(parse_smiles("N[C@H](C)C(=O)O"))
    assert graph_to_smiles(l_ala) != graph_to_smiles(d_ala)


@pytest.mark.parametrize(
    ("smiles", "code"), [("F[C@@](Cl)(Br)I", 1), ("F[C@](Cl)(Br)I", 2)], ids=["@@", "@"]
)
def test_chirality_code_is_relative_to_neighbour_indices(smiles: str, code: int) -> None:
    # Given a centre whose neighbours appear in the SMILES in ascending index order
    # When it becomes a graph
    graph = _graph(smiles)
    # Then '@@' (clockwise seen from the lowest-index neighbour) is 1 and '@' is 2
    assert graph.chirality.tolist() == [0, code, 0, 0, 0]


@pytest.mark.parametrize(
    ("smiles", "code"),
    [("C/C=C\\C", 1), ("C/C=C/C", 2), ("C/C=N\\O", 1), ("C/N=N/C", 2)],
    ids=["Z-butene-cis", "E-butene-trans", "Z-oxime-cis", "E-azo-trans"],
)
def test_bond_stereo_code_is_cis_or_trans_of_lowest_index_neighbours(
    smiles: str, code: int
) -> None:
    # Given a stereo double bond between atoms 1 and 2, with neighbours 0 and 3
    # When it becomes a graph
    graph = _graph(smiles)
    # Then the double bond alone carries a code: 1 when 0 and 3 are cis, 2 when trans
    assert graph.edge_index.T.tolist() == [[0, 1], [1, 2], [2, 3]]
    assert graph.bond_stereo.tolist() == [0, code, 0]


def test_e_and_z_isomers_differ_only_in_bond_stereo() -> None:
    # Given (E)- and (Z)-stilbene written alike
    e_isomer = _graph("c1ccccc1/C=C/c1ccccc1")
    z_isomer = _graph("c1ccccc1/C=C\\c1ccccc1")
    # When their graphs are compared
    # Then only the central double bond's code differs, and they decode to different SMILES
    changed = np.flatnonzero(e_isomer.bond_stereo != z_isomer.bond_stereo)
    assert changed.size == 1
    assert e_isomer.bond_type[changed].tolist() == [2]
    np.testing.assert_array_equal(e_isomer.chirality, z_isomer.chirality)
    assert graph_to_smiles(e_isomer) == canonical_smiles(parse_smiles("C(/c1ccccc1)=C\\c1ccccc1"))
    assert graph_to_smiles(z_isomer) == canonical_smiles(parse_smiles("C(\\c1ccccc1)=C\\c1ccccc1"))
    assert graph_to_smiles(e_isomer) != graph_to_smiles(z_isomer)


def test_unspecified_stereo_is_left_unspecified() -> None:
    # Given molecules that could have stereo but do not say
    # When they become graphs
    alanine = _graph("NC(C)C(=O)O")
    butene = _graph("CC=CC")
    # Then no code is invented, and the SMILES comes back without stereo
    assert not alanine.chirality.any()
    assert not butene.bond_stereo.any()
    assert graph_to_smiles(alanine) == "CC(N)C(=O)O"
    assert graph_to_smiles(butene) == "CC=CC"


# --------------------------------------------------------------------------------------------
# Equality


def test_graphs_of_the_same_smiles_are_equal() -> None:
    # Given the same molecule parsed twice
    first = _graph("C[C@H](N)C(=O)O")
    second = _graph("C[C@H](N)C(=O)O")
    # When they are compared, Then they are equal (array by array), though not the same object
    assert first == second
    assert first is not second
    assert (first != second) is False


def test_graphs_of_different_molecules_are_not_equal() -> None:
    # Given a molecule, its enantiomer, a bigger molecule and something that is not a graph
    graph = _graph("C[C@H](N)C(=O)O")
    # When they are compared, Then none is equal to it (different shapes do not raise)
    assert graph != _graph("C[C@@H](N)C(=O)O")
    assert graph != _graph("CC[C@H](N)C(=O)O")
    assert graph != _graph("C")
    assert graph != "C[C@H](N)C(=O)O"
    assert graph.__eq__(object()) is NotImplemented


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(MolGraph)])
def test_graph_differing_in_one_field_is_not_equal(name: str) -> None:
    # Given a graph with every field non-trivial, and a copy with one entry of one field changed
    graph = _graph("[2H]/C=C/[C@@H]([NH3+])c1ccccc1")
    array = getattr(graph, name).copy()
    flat = array.reshape(-1)
    flat[-1] = not flat[-1] if array.dtype == np.bool_ else flat[-1] + 1
    changed = dataclasses.replace(graph, **{name: array})
    # When they are compared, Then equality sees the change
    assert changed != graph
    assert dataclasses.replace(graph) == graph


def test_unknown_bond_code_is_an_invalid_molecule_not_a_key_error() -> None:
    # Given a graph whose bond code is outside the table, as a buggy decoder might emit
    graph = mol_to_graph(parse_smiles("CC"))
    broken = dataclasses.replace(graph, bond_type=np.array([7]))
    # When it is rebuilt, Then the error is the documented one
    with pytest.raises(InvalidMoleculeError, match="bond type codes"):
        graph_to_mol(broken)
    assert graph_to_smiles(broken) is None
