"""SMILES in and out: parsing with a reason for every rejection, canonical forms, quiet RDKit.

Imports RDKit only; no torch, nothing from the rest of moldojo but :mod:`moldojo.errors` and
:mod:`moldojo.chem.config`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rdkit import Chem, rdBase

from moldojo.chem.config import GraphConfig
from moldojo.errors import InvalidSmilesError, quote_input

__all__ = ["SKIP_REASONS", "canonical_smiles", "parse_smiles", "quiet_rdkit"]

#: Why a SMILES string is rejected, with a sentence for reports.
SKIP_REASONS: dict[str, str] = {
    "empty": "empty line",
    "too_long": "longer than the configured limit of characters (not given to RDKit)",
    "unparsable": "RDKit cannot parse or sanitise it (syntax, valence or kekulisation error)",
    "multiple_fragments": "several disconnected fragments (salts, mixtures)",
    "unsupported_element": "an element outside the configured element list",
    "too_large": "more heavy atoms than the configured limit",
    "unsupported_feature": "a feature the graph cannot hold (dative bond, non-tetrahedral "
    "or atropisomeric stereo, unspecified-but-flagged double-bond stereo)",
}

_SUPPORTED_CHIRAL_TAGS = {
    Chem.ChiralType.CHI_UNSPECIFIED,
    Chem.ChiralType.CHI_TETRAHEDRAL_CW,
    Chem.ChiralType.CHI_TETRAHEDRAL_CCW,
}
_SUPPORTED_BOND_TYPES = {
    Chem.BondType.SINGLE,
    Chem.BondType.DOUBLE,
    Chem.BondType.TRIPLE,
    Chem.BondType.AROMATIC,
}
_SUPPORTED_BOND_STEREO = {
    Chem.BondStereo.STEREONONE,
    Chem.BondStereo.STEREOE,
    Chem.BondStereo.STEREOZ,
    Chem.BondStereo.STEREOCIS,
    Chem.BondStereo.STEREOTRANS,
}
_DEFAULT_CONFIG = GraphConfig()


@contextlib.contextmanager
def quiet_rdkit() -> Iterator[None]:
    """Silence RDKit's own warnings and errors inside the block (and only there).

    Failures are still seen by the caller as ``None`` molecules or exceptions, to be counted.
    """
    blocker = rdBase.BlockLogs()
    try:
        yield
    finally:
        del blocker


def parse_smiles(smiles: str, config: GraphConfig | None = None) -> Chem.Mol:
    """Parse and sanitise one SMILES string into a molecule the graph representation accepts.

    Atom-map numbers are cleared: they annotate reactions and are not part of the molecule.

    Args:
        smiles: the SMILES string (surrounding whitespace is ignored).
        config: the accepted elements and size limit; the default :class:`GraphConfig` if None.

    Returns:
        The sanitised RDKit molecule, hydrogens implicit.

    Raises:
        InvalidSmilesError: with ``reason`` one of :data:`SKIP_REASONS`.
    """
    config = config or _DEFAULT_CONFIG
    if len(smiles) > config.max_smiles_length:  # before strip(), which would copy it
        raise _rejected(
            smiles, "too_long", f"{len(smiles):,} > {config.max_smiles_length:,} characters"
        )
    text = smiles.strip()
    if not text:
        raise _rejected(smiles, "empty")
    if not text.isascii():  # SMILES is ASCII; a lone surrogate (undecodable argv) crashes RDKit
        raise _rejected(smiles, "unparsable", "a character that is not ASCII")
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(text)
    if mol is None or mol.GetNumAtoms() == 0:
        raise _rejected(smiles, "unparsable")
    if len(Chem.GetMolFrags(mol)) > 1:
        raise _rejected(smiles, "multiple_fragments")
    allowed = config.atomic_numbers
    heavy = 0
    for i in range(mol.GetNumAtoms()):  # indexing is ~2x faster than RDKit's atom sequence
        atom = mol.GetAtomWithIdx(i)
        atomic_num = atom.GetAtomicNum()
        if atomic_num not in allowed:
            raise _rejected(smiles, "unsupported_element", atom.GetSymbol())
        if atom.GetChiralTag() not in _SUPPORTED_CHIRAL_TAGS:
            raise _rejected(smiles, "unsupported_feature", str(atom.GetChiralTag()))
        if atom.GetAtomMapNum():
            atom.SetAtomMapNum(0)
        heavy += atomic_num > 1
    if heavy > config.max_heavy_atoms:
        raise _rejected(smiles, "too_large", f"{heavy} > {config.max_heavy_atoms} heavy atoms")
    fixed_aromatic = False
    for k in range(mol.GetNumBonds()):
        bond = mol.GetBondWithIdx(k)
        bond_type = bond.GetBondType()
        if bond_type not in _SUPPORTED_BOND_TYPES:
            raise _rejected(smiles, "unsupported_feature", str(bond_type))
        if bond.GetStereo() not in _SUPPORTED_BOND_STEREO:
            raise _rejected(smiles, "unsupported_feature", str(bond.GetStereo()))
        fixed_aromatic |= bond_type == Chem.BondType.TRIPLE and bond.GetIsAromatic()
    if fixed_aromatic:
        _check_kekule_valences(mol, smiles)
    return mol


def _check_kekule_valences(mol: Chem.Mol, smiles: str) -> None:
    """Reject a molecule whose Kekule form RDKit itself refuses.

    A triple bond written inside an aromatic ring (``c1cc#ncc1``) stays a triple bond flagged
    aromatic, and RDKit's valence check of the aromatic form lets through a neutral nitrogen
    with a triple and a ring bond; kekulised (as the graph stores it, and as RDKit writes it
    in Kekule SMILES) that nitrogen has valence 4 and RDKit refuses the molecule: its own
    ``C1=CC#NC=C1`` does not parse. Such an input is not a molecule, so it is ``unparsable``
    here rather than a round trip that fails. Benzyne (``c1ccc#cc1``) passes: its Kekule form
    is valid. Only molecules with such a bond pay for this check.
    """
    kekule = Chem.RWMol(mol)
    with quiet_rdkit():
        try:
            Chem.Kekulize(kekule, clearAromaticFlags=True)
            kekule.UpdatePropertyCache(strict=True)
        except (Chem.AtomValenceException, Chem.KekulizeException) as error:
            raise _rejected(smiles, "unparsable", f"its Kekule form: {error}") from None


def canonical_smiles(mol: Chem.Mol, *, isomeric: bool = True) -> str:
    """RDKit's canonical SMILES; ``isomeric=False`` drops stereo and isotopes."""
    return Chem.MolToSmiles(mol, isomericSmiles=isomeric)


def _rejected(smiles: str, reason: str, detail: str = "") -> InvalidSmilesError:
    text = smiles if reason == "too_long" else smiles.strip()
    message = f"{quote_input(text)}: {SKIP_REASONS[reason]}"
    if detail:
        message += f" ({detail})"
    return InvalidSmilesError(message, reason, detail)
