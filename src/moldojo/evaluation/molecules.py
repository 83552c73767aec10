"""Everything the metrics need from one generated molecule, computed in a single pass.

The MOSES reference parses the same molecule again for every metric. Here one function,
:func:`describe`, parses a SMILES string once and returns a small picklable
:class:`MolRecord` with all of it (canonical forms, fingerprint bits, BRICS fragments, scaffold,
filters, properties), so that a worker pool can do all the RDKit work in one trip. The
definitions are MOSES's (molsets 0.3.1, ``moses/metrics/utils.py``), each restated in its function.

Imports RDKit and NumPy; never torch.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import BRICS, Crippen, Descriptors, rdFingerprintGenerator
from rdkit.Chem.QED import qed
from rdkit.Chem.Scaffolds import MurckoScaffold

from moldojo.chem.properties import sa_score
from moldojo.errors import DatasetError

__all__ = [
    "FINGERPRINT_BITS",
    "MolRecord",
    "brics_fragments",
    "describe",
    "describe_reference",
    "get_mol",
    "morgan_bits",
    "passes_filters",
    "scaffold",
]

#: Morgan fingerprint of radius 2 folded to 1,024 bits, as MOSES's SNN and IntDiv use.
FINGERPRINT_BITS = 1024
_ALLOWED_ELEMENTS = frozenset({"C", "N", "S", "O", "F", "Cl", "Br", "H"})


@dataclass(frozen=True)
class MolRecord:
    """What the metrics use from one input string.

    Attributes:
        valid: the string parses and sanitises (MOSES's ``get_mol``).
        canonical: RDKit canonical SMILES of the parsed input (MOSES's ``remove_invalid``).
        recanonical: canonical SMILES of ``canonical`` parsed again. MOSES computes every later
            metric on this second parse, which differs from ``canonical`` for a few molecules.
        bits: ``[K]`` uint16 indices of the set bits of the 1,024-bit Morgan fingerprint.
        fragments: canonical SMILES of the BRICS fragments, with repeats.
        scaffold: Bemis-Murcko scaffold SMILES, or ``None`` when it has fewer than two rings.
        passes_filters: MOSES's medicinal-chemistry filters (MCF, PAINS, elements, charge).
        logp, sa, qed, weight: Crippen logP, SA score, QED, molecular weight.
    """

    valid: bool
    canonical: str | None = None
    recanonical: str | None = None
    bits: np.ndarray | None = None
    fragments: tuple[str, ...] = ()
    scaffold: str | None = None
    passes_filters: bool = False
    logp: float = float("nan")
    sa: float = float("nan")
    qed: float = float("nan")
    weight: float = float("nan")


def get_mol(smiles: str) -> Chem.Mol | None:
    """A sanitised molecule, or ``None`` for an empty or invalid string (MOSES's ``get_mol``)."""
    if not smiles:
        return None
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return None
    try:
        Chem.SanitizeMol(mol)
    except ValueError:
        return None
    return mol


@functools.cache
def _morgan_generator() -> rdFingerprintGenerator.FingerprintGenerator64:
    return rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=FINGERPRINT_BITS)


def morgan_bits(mol: Chem.Mol) -> np.ndarray:
    """``[K]`` uint16 set-bit indices of the radius-2, 1,024-bit Morgan fingerprint (the same bits
    as RDKit's ``GetMorganFingerprintAsBitVect(mol, 2, nBits=1024)``)."""
    return np.fromiter(_morgan_generator().GetFingerprint(mol).GetOnBits(), dtype=np.uint16)


def brics_fragments(mol: Chem.Mol) -> tuple[str, ...]:
    """Canonical SMILES of the pieces left after cutting every BRICS bond (dummy atoms kept)."""
    return tuple(Chem.MolToSmiles(BRICS.BreakBRICSBonds(mol)).split("."))


def scaffold(mol: Chem.Mol, min_rings: int = 2) -> str | None:
    """Bemis-Murcko scaffold SMILES; ``None`` when it fails or has fewer than ``min_rings`` rings
    (MOSES counts only scaffolds with at least two rings)."""
    try:
        core = MurckoScaffold.GetScaffoldForMol(mol)
    except (ValueError, RuntimeError):
        return None
    text = Chem.MolToSmiles(core)
    if not text or core.GetRingInfo().NumRings() < min_rings:
        return None
    return text


def moses_metrics_dir() -> Path:
    """``moses/metrics`` inside the installed molsets wheel (the filter tables live there)."""
    spec = importlib.util.find_spec("moses")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError(
            "the MOSES filter tables come from the molsets wheel, which is not installed; "
            "install it with: pip install --no-deps molsets==0.3.1 (make install does this)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "metrics"


#: Size of the pattern fingerprints that screen the filter patterns.
_SCREEN_BITS = 2048


@functools.cache
def _filter_patterns() -> tuple[tuple[Chem.Mol, DataStructs.ExplicitBitVect], ...]:
    """MOSES's MCF and PAINS substructure patterns, read from the molsets wheel, each with its
    RDKit pattern fingerprint for screening."""
    directory = moses_metrics_dir()
    smarts: list[str] = []
    with open(directory / "mcf.csv", newline="") as handle:
        smarts.extend(row["smarts"].strip() for row in csv.DictReader(handle))
    with open(directory / "wehi_pains.csv", newline="") as handle:
        smarts.extend(row[0].strip() for row in csv.reader(handle, skipinitialspace=True) if row)
    patterns = [Chem.MolFromSmarts(s) for s in smarts]
    if any(p is None for p in patterns):
        raise DatasetError(f"an unreadable SMARTS pattern in {directory}: reinstall molsets")
    return tuple((p, Chem.PatternFingerprint(p, fpSize=_SCREEN_BITS)) for p in patterns)


def has_filter_match(mol_with_hs: Chem.Mol) -> bool:
    """Whether any MCF or PAINS pattern matches. A pattern is matched only when its pattern
    fingerprint's bits are all set in the molecule's: RDKit's substructure screen, which never
    rejects a true match, so the answer is that of matching every pattern, 4x faster."""
    screen = Chem.PatternFingerprint(mol_with_hs, fpSize=_SCREEN_BITS)
    return any(
        DataStructs.AllProbeBitsMatch(bits, screen) and mol_with_hs.HasSubstructMatch(pattern)
        for pattern, bits in _filter_patterns()
    )


def passes_filters(mol: Chem.Mol) -> bool:
    """MOSES's filters: no ring of 8 or more atoms, no formal charge, only C N S O F Cl Br H, no
    MCF or PAINS substructure (matched with explicit hydrogens), and a SMILES that parses back."""
    if any(len(ring) >= 8 for ring in mol.GetRingInfo().AtomRings()):
        return False
    if any(atom.GetFormalCharge() != 0 for atom in mol.GetAtoms()):
        return False
    if any(atom.GetSymbol() not in _ALLOWED_ELEMENTS for atom in mol.GetAtoms()):
        return False
    if has_filter_match(Chem.AddHs(mol)):
        return False
    text = Chem.MolToSmiles(mol, isomericSmiles=False)
    return bool(text) and Chem.MolFromSmiles(text) is not None


def describe(smiles: str) -> MolRecord:
    """Parse once and compute every per-molecule quantity the MOSES suite needs from a
    *generated* molecule: like MOSES, everything after validity is computed on the molecule
    parsed back from its canonical SMILES."""
    mol = get_mol(smiles)
    if mol is None:
        return MolRecord(valid=False)
    canonical = Chem.MolToSmiles(mol)
    again = get_mol(canonical)
    if again is None:  # RDKit wrote a SMILES it cannot read back: count it as valid, use no more
        return MolRecord(valid=True, canonical=canonical)
    return _record(again, canonical)


def describe_reference(smiles: str) -> MolRecord:
    """As :func:`describe` for a *reference* molecule, which MOSES uses as written (not parsed
    again from its canonical SMILES); ``canonical`` is what ChemNet reads."""
    mol = get_mol(smiles)
    if mol is None:
        return MolRecord(valid=False)
    return _record(mol, Chem.MolToSmiles(mol))


def _record(mol: Chem.Mol, canonical: str) -> MolRecord:
    return MolRecord(
        valid=True,
        canonical=canonical,
        recanonical=Chem.MolToSmiles(mol),
        bits=morgan_bits(mol),
        fragments=brics_fragments(mol),
        scaffold=scaffold(mol),
        passes_filters=passes_filters(mol),
        logp=float(Crippen.MolLogP(mol)),
        sa=sa_score(mol),
        qed=float(qed(mol)),
        weight=float(Descriptors.MolWt(mol)),
    )
