"""Which molecules the graph representation accepts and how it writes bonds.

Imports RDKit only for the periodic table; no torch, nothing from the rest of moldojo but
:mod:`moldojo.config`.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import Field, PositiveInt, field_validator
from rdkit import Chem

from moldojo.config import Config

__all__ = ["DEFAULT_ELEMENTS", "MAX_SMILES_LENGTH", "GraphConfig"]

#: Default longest record, in characters (:attr:`GraphConfig.max_smiles_length`).
MAX_SMILES_LENGTH = 10_000

#: Elements accepted by default: those of drug-like and materials chemistry data sets
#: (MOSES, ZINC, QM9, ChEMBL's organic subset, the HierVAE polymers).
DEFAULT_ELEMENTS: tuple[str, ...] = (
    "H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Ge", "As", "Se", "Br", "Sn", "Te", "I",
)  # fmt: skip

_PERIODIC_TABLE = Chem.GetPeriodicTable()
# Symbol -> atomic number, read once: RDKit's GetAtomicNumber prints a C++ stack trace to stderr
# before raising for an unknown symbol, which buried the ConfigError for a typo.
_ATOMIC_NUMBERS = {_PERIODIC_TABLE.GetElementSymbol(z): z for z in range(1, 119)}


class GraphConfig(Config):
    """How SMILES become graphs, and which molecules are accepted.

    Args:
        aromaticity: ``"kekulize"`` writes aromatic rings as alternating single and double
            bonds (bond types 1-3 only; aromaticity is re-perceived on the way back), so that
            every bond has an integer order and valences are sums. ``"aromatic"`` keeps RDKit's
            aromatic bond type (code 4) and aromatic atom flags.
        elements: element symbols accepted, at least one, each once; a molecule with any other
            element is skipped with reason ``unsupported_element``.
        max_heavy_atoms: largest molecule accepted, in heavy (non-hydrogen) atoms; larger ones
            are skipped with reason ``too_large``.
        max_smiles_length: longest record accepted, in characters; longer ones are skipped with
            reason ``too_long`` before RDKit sees them (a stray 10 MB line took a minute to
            parse); the default is far above the SMILES of any molecule of 150 heavy atoms.
    """

    aromaticity: Literal["kekulize", "aromatic"] = "kekulize"
    elements: tuple[str, ...] = Field(DEFAULT_ELEMENTS, min_length=1)
    max_heavy_atoms: PositiveInt = 150
    max_smiles_length: PositiveInt = MAX_SMILES_LENGTH

    @field_validator("elements")
    @classmethod
    def _element_symbols(cls, elements: tuple[str, ...]) -> tuple[str, ...]:
        for symbol in elements:
            if atomic_number(symbol) < 1:
                raise ValueError(
                    f"it contains {symbol!r}, which is not an element symbol "
                    "(write them as in the periodic table: 'C', 'Cl', 'Br')"
                )
        if len(set(elements)) != len(elements):
            raise ValueError(f"it lists a symbol twice: {list(elements)}")
        return elements

    @cached_property
    def atomic_numbers(self) -> frozenset[int]:
        """Atomic numbers of :attr:`elements`."""
        return frozenset(atomic_number(s) for s in self.elements)


def atomic_number(symbol: str) -> int:
    """Atomic number of an element symbol; -1 if there is no such element."""
    return _ATOMIC_NUMBERS.get(symbol, -1)
