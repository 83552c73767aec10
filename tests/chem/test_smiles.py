"""Tests of :mod:`moldojo.chem.smiles` and :mod:`moldojo.chem.config`: which SMILES are
accepted, the reason given for each rejection, canonical forms, GraphConfig validation and
silencing RDKit's own messages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rdkit import Chem, rdBase

from moldojo.chem import (
    SKIP_REASONS,
    GraphConfig,
    canonical_smiles,
    parse_smiles,
    quiet_rdkit,
)
from moldojo.chem.config import DEFAULT_ELEMENTS
from moldojo.errors import ConfigError, InvalidSmilesError, MoldojoError

BAD_VALENCE = "C(C)(C)(C)(C)C"  # a carbon with five bonds


def _reason(smiles: str, config: GraphConfig | None = None) -> InvalidSmilesError:
    with pytest.raises(InvalidSmilesError) as info:
        parse_smiles(smiles, config)
    return info.value


@pytest.fixture
def rdkit_errors_logged() -> Iterator[None]:
    """RDKit's error log on for the test (another test may have turned it off), as before after."""
    was_enabled = "rdApp.error:enabled" in rdBase.LogStatus()
    rdBase.EnableLog("rdApp.error")
    yield
    if not was_enabled:
        rdBase.DisableLog("rdApp.error")


# --------------------------------------------------------------------------------------------
# Rejection reasons


def test_skip_reasons_are_the_documented_seven() -> None:
    # Given the table of reasons
    # Then it holds exactly the reasons parse_smiles may give, each with a sentence
    assert set(SKIP_REASONS) == {
        "empty", "too_long", "unparsable", "multiple_fragments", "unsupported_element",
        "too_large", "unsupported_feature",
    }  # fmt: skip
    assert all(isinstance(text, str) and text for text in SKIP_REASONS.values())


@pytest.mark.parametrize("smiles", ["", "   ", "\n", " \t\r\n"], ids=repr)
def test_empty_or_blank_smiles_is_rejected_as_empty(smiles: str) -> None:
    # Given an empty or whitespace-only line
    # When it is parsed, Then it is rejected with reason "empty"
    assert _reason(smiles).reason == "empty"


@pytest.mark.parametrize(
    "smiles",
    ["not a smiles", "C1CC", "C(", "CC)", "[Xy]", "C%", "c1cc"],
    ids=["words", "open-ring", "open-branch", "close-branch", "unknown-atom", "bad-ring-number",
         "open-aromatic-ring"],
)  # fmt: skip
def test_garbage_text_is_unparsable(smiles: str) -> None:
    # Given text that is not SMILES
    # When it is parsed, Then it is rejected as unparsable
    assert _reason(smiles).reason == "unparsable"


@pytest.mark.parametrize(
    "smiles",
    [BAD_VALENCE, "CN(C)(C)(C)C", "O(C)(C)C", "FC(F)(F)(F)F"],
    ids=["pentavalent-C", "pentavalent-N", "trivalent-O", "CF5"],
)
def test_valence_error_is_unparsable(smiles: str) -> None:
    # Given SMILES that RDKit reads but cannot sanitise: an atom over its valence
    # When it is parsed, Then it is rejected as unparsable
    assert _reason(smiles).reason == "unparsable"


@pytest.mark.parametrize("smiles", ["c1cccc1", "c1ccccc1c", "n1cccc1"], ids=str)
def test_aromatic_ring_without_kekule_structure_is_unparsable(smiles: str) -> None:
    # Given aromatic SMILES with no Kekule structure (an odd ring with no heteroatom H)
    # When it is parsed, Then it is rejected as unparsable
    assert _reason(smiles).reason == "unparsable"


def test_record_over_the_length_limit_is_too_long_and_never_quoted_whole() -> None:
    # Given a record of 20,000 characters, twice the default limit (RDKit would take seconds)
    text = "C" * 20_000
    # When it is parsed
    error = _reason(text)
    # Then it is rejected as too_long, saying both lengths, and the message quotes its start only
    assert error.reason == "too_long"
    assert error.detail == "20,000 > 10,000 characters"
    assert len(str(error)) < 300 and "'..." in str(error)
    # And the limit comes from the config
    assert parse_smiles("CCO", GraphConfig(max_smiles_length=3)).GetNumAtoms() == 3
    assert _reason("CCCO", GraphConfig(max_smiles_length=3)).reason == "too_long"


def test_control_characters_in_a_rejected_record_are_escaped() -> None:
    # Given a line holding a terminal escape sequence (it would retitle the terminal) and NULs
    # When it is parsed
    error = _reason("\x1b]0;TITLE\x07\x00")
    # Then the message shows them escaped
    assert "\x1b" not in str(error) and "\x00" not in str(error)
    assert r"'\x1b]0;TITLE\x07\x00'" in str(error)


@pytest.mark.parametrize(
    "smiles",
    ["Cc1ccc(N)c(Nc2ccc(Cc3cc#ncc3)cc2)n1", "c1cc#ncc1", "c1ccc2cc#ncc2c1"],
    ids=["drug-like", "pyridine-triple", "isoquinoline-triple"],
)
def test_triple_bond_in_an_aromatic_ring_rdkit_cannot_kekulise_is_unparsable(smiles: str) -> None:
    # Given a triple bond written inside an aromatic ring at a nitrogen: RDKit reads it, but its
    # own Kekule form (neutral N with a triple and a single bond, valence 4) does not parse
    assert Chem.MolFromSmiles(smiles) is not None
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles)
        Chem.Kekulize(mol, clearAromaticFlags=True)
        assert Chem.MolFromSmiles(Chem.MolToSmiles(mol)) is None
    # When it is parsed, in either aromaticity mode
    for mode in ("kekulize", "aromatic"):
        error = _reason(smiles, GraphConfig(aromaticity=mode))
        # Then it is unparsable, and the detail names the valence error of its Kekule form
        assert error.reason == "unparsable"
        assert "Kekule form" in error.detail and "valence" in error.detail


@pytest.mark.parametrize("smiles", ["c1ccc#cc1", "c1cc#[n+]cc1"], ids=["benzyne", "pyridinium"])
def test_triple_bond_in_an_aromatic_ring_with_a_valid_kekule_form_is_accepted(
    smiles: str,
) -> None:
    # Given a triple bond in an aromatic ring whose Kekule form RDKit accepts
    # When it is parsed, Then it is a molecule
    assert parse_smiles(smiles).GetNumAtoms() == 6


@pytest.mark.parametrize(
    "smiles",
    ["CC(=O)[O-].[Na+]", "CCO.O", "[NH4+].[Cl-]", "c1ccccc1.[Fe]"],
    ids=["sodium-acetate", "ethanol-water", "ammonium-chloride", "benzene-iron"],
)
def test_salts_and_mixtures_are_multiple_fragments(smiles: str) -> None:
    # Given several disconnected fragments, some with elements outside the default list
    # When it is parsed
    error = _reason(smiles)
    # Then fragments are checked first: the reason is multiple_fragments, even for Na and Fe
    assert error.reason == "multiple_fragments"


@pytest.mark.parametrize(
    ("smiles", "symbol"),
    [("[Fe]", "Fe"), ("C[Hg]C", "Hg"), ("[He]", "He"), ("CC[Pt]", "Pt"), ("[NH3]->[Pt]", "Pt"),
     ("C[Li]", "Li")],
    ids=["iron", "dimethylmercury", "helium", "ethylplatinum", "platinum-dative", "methyllithium"],
)  # fmt: skip
def test_element_outside_the_list_is_unsupported_element(smiles: str, symbol: str) -> None:
    # Given a single molecule with an element outside the default list
    # When it is parsed
    error = _reason(smiles)
    # Then it is rejected as unsupported_element, and the message names the element
    assert error.reason == "unsupported_element"
    assert f"({symbol})" in str(error)


def test_element_list_comes_from_the_config() -> None:
    # Given a config that allows only carbon and oxygen
    config = GraphConfig(elements=("C", "O"))
    # When SMILES with and without nitrogen are parsed
    # Then ethanol is accepted and methylamine rejected, naming N
    assert canonical_smiles(parse_smiles("CCO", config)) == "CCO"
    error = _reason("CN", config)
    assert error.reason == "unsupported_element"
    assert "(N)" in str(error)
    # And the default list covers every element of the hard set, hydrogen included
    assert {"H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Se", "Br", "I"} <= set(
        DEFAULT_ELEMENTS
    )


def test_molecule_over_the_size_limit_is_too_large() -> None:
    # Given a limit of three heavy atoms
    config = GraphConfig(max_heavy_atoms=3)
    # When molecules of three and four heavy atoms are parsed
    # Then propane is accepted, butane rejected with the count in the message
    assert parse_smiles("CCC", config).GetNumAtoms() == 3
    error = _reason("CCCC", config)
    assert error.reason == "too_large"
    assert "4 > 3" in str(error)


def test_hydrogen_atoms_do_not_count_as_heavy() -> None:
    # Given a limit of one heavy atom
    config = GraphConfig(max_heavy_atoms=1)
    # When CD4 (five atoms, deuterium kept as atoms) and dihydrogen are parsed
    # Then both are accepted: only non-hydrogen atoms count
    assert parse_smiles("[2H]C([2H])([2H])[2H]", config).GetNumAtoms() == 5
    assert parse_smiles("[H][H]", config).GetNumAtoms() == 2
    assert _reason("CO", config).reason == "too_large"


@pytest.mark.parametrize(
    ("smiles", "detail"),
    [
        ("C->N", "DATIVE"),
        ("N->B", "DATIVE"),
        ("F[P@TB1](Cl)(Br)(I)C", "CHI_TRIGONALBIPYRAMIDAL"),
        ("C[S@SP1](F)(Cl)Br", "CHI_SQUAREPLANAR"),
        ("F[S@OH1](Cl)(Br)(I)(C)N", "CHI_OCTAHEDRAL"),
        ("CC=CC |w:1.0|", "STEREOANY"),
    ],
    ids=["dative-C-N", "dative-N-B", "trigonal-bipyramidal", "square-planar", "octahedral",
         "wavy-double-bond"],
)  # fmt: skip
def test_feature_the_graph_cannot_hold_is_unsupported_feature(smiles: str, detail: str) -> None:
    # Given SMILES with allowed elements but a dative bond, non-tetrahedral stereo or a
    # double bond flagged "either" (a CXSMILES wavy bond)
    # When it is parsed
    error = _reason(smiles)
    # Then it is rejected as unsupported_feature, naming the feature
    assert error.reason == "unsupported_feature"
    assert detail in str(error)


def test_rejection_is_a_moldojo_value_error_naming_the_input() -> None:
    # Given an invalid SMILES
    # When it is parsed
    error = _reason(f"  {BAD_VALENCE}  ")
    # Then the error is a MoldojoError and a ValueError, with a known reason, and its message
    # quotes the input (stripped) and explains the reason
    assert isinstance(error, MoldojoError)
    assert isinstance(error, ValueError)
    assert error.reason in SKIP_REASONS
    assert repr(BAD_VALENCE) in str(error)
    assert SKIP_REASONS["unparsable"] in str(error)


# --------------------------------------------------------------------------------------------
# Accepted SMILES


def test_atom_map_numbers_are_cleared() -> None:
    # Given SMILES with atom-map numbers (as in reaction data)
    # When it is parsed
    mol = parse_smiles("[CH3:1][CH2:2][OH:3]")
    # Then no atom keeps a map number, and the canonical SMILES is the plain molecule's
    assert [atom.GetAtomMapNum() for atom in mol.GetAtoms()] == [0, 0, 0]
    assert canonical_smiles(mol) == "CCO"
    assert canonical_smiles(parse_smiles("[CH3:1]C")) == "CC"


def test_surrounding_whitespace_is_ignored() -> None:
    # Given SMILES with spaces and a newline around it
    # When it is parsed, Then it is the same molecule as without them
    assert canonical_smiles(parse_smiles("  OCC \n")) == "CCO"


def test_parsed_molecule_is_sanitised_with_implicit_hydrogens() -> None:
    # Given SMILES written in Kekule form with explicit hydrogens
    # When it is parsed
    mol = parse_smiles("[H]OC1=CC=CC=C1")
    # Then hydrogens are implicit and aromaticity is perceived
    assert mol.GetNumAtoms() == 7
    assert sum(atom.GetIsAromatic() for atom in mol.GetAtoms()) == 6
    assert canonical_smiles(mol) == "Oc1ccccc1"


def test_canonical_smiles_with_and_without_stereo_and_isotopes() -> None:
    # Given a chiral, isotope-labelled molecule
    mol = parse_smiles("[13CH3][C@H](N)C(=O)O")
    # When its canonical SMILES is written either way
    # Then the isomeric form keeps the label and the centre, the other drops both
    assert canonical_smiles(mol) == "[13CH3][C@H](N)C(=O)O"
    assert canonical_smiles(mol, isomeric=False) == "CC(N)C(=O)O"
    # And writing differently the same molecule gives the same canonical SMILES
    assert canonical_smiles(parse_smiles("OC(=O)[C@@H](N)[13CH3]")) == canonical_smiles(mol)


# --------------------------------------------------------------------------------------------
# GraphConfig validation


def test_default_config_is_valid() -> None:
    # Given no arguments
    config = GraphConfig()
    # Then the defaults are kekulize mode, the default elements and a generous size limit
    assert config.aromaticity == "kekulize"
    assert config.elements == DEFAULT_ELEMENTS
    assert config.max_heavy_atoms >= 100
    assert config.max_smiles_length == 10_000
    assert 6 in config.atomic_numbers and 26 not in config.atomic_numbers
    assert len(config.atomic_numbers) == len(DEFAULT_ELEMENTS)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"aromaticity": "kekule"},
         r"aromaticity = 'kekule' \(str\) is not allowed; expected one of 'kekulize', 'aromatic'"),
        ({"aromaticity": "Aromatic"}, r"aromaticity = 'Aromatic'"),
        ({"elements": ()}, r"elements = \(\) \(tuple\) is not allowed; expected 1 or more items"),
        ({"elements": ("C", "Xx")}, r"'Xx', which is not an element symbol"),
        ({"elements": ("C", "cl")}, r"'cl', which is not an element symbol .*'Cl'"),
        ({"elements": ("C", "*")}, r"'\*', which is not an element symbol"),
        ({"elements": ("C", 6)}, r"elements\[1\] = 6 \(int\) is not allowed; expected a string"),
        ({"elements": ("C", "N", "C")}, r"lists a symbol twice: \['C', 'N', 'C'\]"),
        ({"max_heavy_atoms": 0}, r"max_heavy_atoms = 0 \(int\) .* greater than 0"),
        ({"max_heavy_atoms": -5}, r"max_heavy_atoms = -5 \(int\) is not allowed"),
        ({"max_heavy_atoms": 2.5}, r"max_heavy_atoms = 2.5 \(float\) is not allowed"),
        ({"max_heavy_atoms": "50"}, r"max_heavy_atoms = '50' \(str\) is not allowed"),
        ({"max_smiles_length": 0}, r"max_smiles_length = 0 \(int\) .* greater than 0"),
    ],
    ids=["aromaticity-typo", "aromaticity-case", "no-elements", "unknown-symbol",
         "lower-case-symbol", "wildcard", "atomic-number", "duplicate", "zero-atoms",
         "negative-atoms", "fractional-atoms", "string-atoms", "zero-length"],
)  # fmt: skip
def test_invalid_config_raises_config_error_saying_what_is_wrong(
    kwargs: dict[str, object], message: str
) -> None:
    # Given a bad value for one field
    # When a GraphConfig is made, Then a ConfigError says what was given and what is allowed
    with pytest.raises(ConfigError, match=message):
        GraphConfig(**kwargs)  # type: ignore[arg-type]


def test_unknown_element_symbol_gives_only_the_config_error(
    capfd: pytest.CaptureFixture[str], rdkit_errors_logged: None
) -> None:
    # Given RDKit's error log on
    # When a config names an element that does not exist
    with pytest.raises(ConfigError):
        GraphConfig(elements=("C", "Xx"))
    # Then nothing else is printed (RDKit's own symbol lookup prints a C++ stack trace)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_config_error_is_a_value_error() -> None:
    # Given a bad config, Then its error can be caught as ConfigError, MoldojoError or ValueError
    with pytest.raises(ValueError):
        GraphConfig(max_heavy_atoms=0)
    assert issubclass(ConfigError, MoldojoError)


def test_config_is_frozen_and_compared_by_value() -> None:
    # Given two configs made alike
    first = GraphConfig(aromaticity="aromatic", elements=("C", "N"), max_heavy_atoms=10)
    second = GraphConfig(aromaticity="aromatic", elements=("C", "N"), max_heavy_atoms=10)
    # Then they are equal and hash alike, and cannot be changed after validation
    assert first == second and hash(first) == hash(second)
    assert first != GraphConfig(aromaticity="kekulize", elements=("C", "N"), max_heavy_atoms=10)
    with pytest.raises(AttributeError):
        first.max_heavy_atoms = 0  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# Quiet RDKit


def test_parse_smiles_keeps_rdkit_quiet(
    capfd: pytest.CaptureFixture[str], rdkit_errors_logged: None
) -> None:
    # Given RDKit's error log on, and that it does print for a bad SMILES outside the block
    capfd.readouterr()
    assert Chem.MolFromSmiles(BAD_VALENCE) is None
    assert "valence" in capfd.readouterr().err.lower()
    # When parse_smiles rejects the same SMILES, and garbage text
    for smiles in (BAD_VALENCE, "c1cccc1", "not a smiles"):
        with pytest.raises(InvalidSmilesError):
            parse_smiles(smiles)
    # Then nothing reaches stderr
    assert capfd.readouterr().err == ""


def test_quiet_rdkit_silences_only_inside_the_block(
    capfd: pytest.CaptureFixture[str], rdkit_errors_logged: None
) -> None:
    # Given RDKit's error log on
    capfd.readouterr()
    # When bad SMILES are read inside nested quiet_rdkit blocks
    with quiet_rdkit():
        with quiet_rdkit():
            assert Chem.MolFromSmiles(BAD_VALENCE) is None
        assert Chem.MolFromSmiles(BAD_VALENCE) is None
    # Then nothing is printed
    assert capfd.readouterr().err == ""
    # And after the block RDKit speaks again, even when the block ended with an exception
    with pytest.raises(RuntimeError), quiet_rdkit():
        raise RuntimeError("boom")
    assert Chem.MolFromSmiles(BAD_VALENCE) is None
    assert "valence" in capfd.readouterr().err.lower()


def test_elements_given_as_a_string_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"elements = 'Cl' \(str\) .*; expected an array"):
        GraphConfig(elements="Cl")  # type: ignore[arg-type]


def test_elements_given_as_a_list_becomes_a_hashable_tuple() -> None:
    config = GraphConfig(elements=["C", "N"])  # type: ignore[arg-type]
    assert config.elements == ("C", "N") and hash(config)


def test_bool_is_not_a_size() -> None:
    with pytest.raises(ConfigError, match="max_heavy_atoms"):
        GraphConfig(max_heavy_atoms=True)
