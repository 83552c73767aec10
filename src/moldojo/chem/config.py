"""Which molecules the graph representation accepts and how it writes bonds.

Imports RDKit only for the periodic table; no torch, nothing from the rest of moldojo but
:mod:`moldojo.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from rdkit import Chem

from moldojo.errors import ConfigError

__all__ = ["DEFAULT_ELEMENTS", "GraphConfig"]

#: Elements accepted by default: those of drug-like and materials chemistry data sets
#: (MOSES, ZINC, QM9, ChEMBL's organic subset, the HierVAE polymers).
DEFAULT_ELEMENTS: tuple[str, ...] = (
    "H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Ge", "As", "Se", "Br", "Sn", "Te", "I",
)  # fmt: skip

_PERIODIC_TABLE = Chem.GetPeriodicTable()
# Symbol -> atomic number, read once: RDKit's GetAtomicNumber prints a C++ stack trace to stderr
# before raising for an unknown symbol, which buried the ConfigError for a typo.
_ATOMIC_NUMBERS = {_PERIODIC_TABLE.GetElementSymbol(z): z for z in range(1, 119)}


@dataclass(frozen=True)
class GraphConfig:
    """How SMILES become graphs, and which molecules are accepted.

    Args:
        aromaticity: ``"kekulize"`` writes aromatic rings as alternating single and double
            bonds (bond types 1-3 only; aromaticity is re-perceived on the way back), so that
            every bond has an integer order and valences are sums. ``"aromatic"`` keeps RDKit's
            aromatic bond type (code 4) and aromatic atom flags.
        elements: element symbols accepted; a molecule with any other element is skipped with
            reason ``unsupported_element``.
        max_heavy_atoms: largest molecule accepted, in heavy (non-hydrogen) atoms; larger ones
            are skipped with reason ``too_large``.
    """

    aromaticity: Literal["kekulize", "aromatic"] = "kekulize"
    elements: tuple[str, ...] = DEFAULT_ELEMENTS
    max_heavy_atoms: int = 150

    def __post_init__(self) -> None:
        if self.aromaticity not in ("kekulize", "aromatic"):
            raise ConfigError(
                f"aromaticity={self.aromaticity!r} is not allowed; use 'kekulize' or 'aromatic'"
            )
        if isinstance(self.elements, str):
            raise ConfigError(
                f"elements={self.elements!r} is a string; give a list of symbols, e.g. ['C', 'N']"
            )
        # A list (as read from TOML) becomes a tuple, so that the config stays hashable.
        object.__setattr__(self, "elements", tuple(self.elements))
        if not self.elements:
            raise ConfigError("elements is empty; give at least one element symbol, e.g. ['C']")
        for symbol in self.elements:
            if not isinstance(symbol, str) or atomic_number(symbol) < 1:
                raise ConfigError(
                    f"elements contains {symbol!r}, which is not an element symbol "
                    "(write them as in the periodic table: 'C', 'Cl', 'Br')"
                )
        if len(set(self.elements)) != len(self.elements):
            raise ConfigError(f"elements lists a symbol twice: {list(self.elements)}")
        if (
            isinstance(self.max_heavy_atoms, bool)
            or not isinstance(self.max_heavy_atoms, int)
            or self.max_heavy_atoms < 1
        ):
            raise ConfigError(
                f"max_heavy_atoms={self.max_heavy_atoms!r} must be a positive integer"
            )

    @cached_property
    def atomic_numbers(self) -> frozenset[int]:
        """Atomic numbers of :attr:`elements`."""
        return frozenset(atomic_number(s) for s in self.elements)


def atomic_number(symbol: str) -> int:
    """Atomic number of an element symbol; -1 if there is no such element."""
    return _ATOMIC_NUMBERS.get(symbol, -1)
