"""Many molecular graphs in a few flat arrays (CSR layout), for caching and fast batching.

Imports NumPy and :mod:`moldojo.chem.graph` (for the :class:`MolGraph` type); no RDKit calls, no
torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from moldojo.chem.graph import MolGraph

__all__ = ["PackedGraphs"]

ATOM_FIELDS = (
    "atomic_num",
    "formal_charge",
    "num_hs",
    "chirality",
    "isotope",
    "radical_electrons",
    "aromatic",
)
BOND_FIELDS = ("bond_type", "bond_stereo")
# Small dtypes: MOSES train is ~35M atoms, so int64 everywhere would need gigabytes.
_DTYPES = {
    "atomic_num": np.uint8,
    "formal_charge": np.int8,
    "num_hs": np.uint8,
    "chirality": np.uint8,
    "isotope": np.uint16,
    "radical_electrons": np.uint8,
    "aromatic": np.bool_,
    "bond_type": np.uint8,
    "bond_stereo": np.uint8,
}


@dataclass(frozen=True, eq=False)
class PackedGraphs:
    """``M`` molecular graphs concatenated; graph ``i`` owns atoms ``atom_ptr[i]:atom_ptr[i+1]``
    and bonds ``bond_ptr[i]:bond_ptr[i+1]``.

    Attributes:
        atom_ptr: ``[M + 1]`` int64, offsets into the atom arrays.
        bond_ptr: ``[M + 1]`` int64, offsets into the bond arrays.
        atoms: the :class:`MolGraph` atom fields, each ``[A]`` (``A = atom_ptr[-1]``).
        edge_index: ``[2, B]`` int32, bond ends numbered *within* each graph.
        bonds: the :class:`MolGraph` bond fields, each ``[B]``.
    """

    atom_ptr: np.ndarray
    bond_ptr: np.ndarray
    atoms: dict[str, np.ndarray]
    edge_index: np.ndarray
    bonds: dict[str, np.ndarray]

    @classmethod
    def from_graphs(cls, graphs: Sequence[MolGraph]) -> PackedGraphs:
        """Pack graphs in order."""
        atom_counts = np.fromiter((g.num_atoms for g in graphs), np.int64, len(graphs))
        bond_counts = np.fromiter((g.num_bonds for g in graphs), np.int64, len(graphs))

        def cat(name: str) -> np.ndarray:
            parts = [getattr(g, name) for g in graphs]
            return (
                np.concatenate(parts).astype(_DTYPES[name]) if parts else np.empty(0, _DTYPES[name])
            )

        edges = [g.edge_index for g in graphs]
        return cls(
            atom_ptr=np.concatenate([[0], np.cumsum(atom_counts)]).astype(np.int64),
            bond_ptr=np.concatenate([[0], np.cumsum(bond_counts)]).astype(np.int64),
            atoms={name: cat(name) for name in ATOM_FIELDS},
            edge_index=(np.concatenate(edges, axis=1) if edges else np.empty((2, 0))).astype(
                np.int32
            ),
            bonds={name: cat(name) for name in BOND_FIELDS},
        )

    @classmethod
    def concat(cls, packs: Sequence[PackedGraphs]) -> PackedGraphs:
        """Join packs end to end."""
        if not packs:
            return cls.from_graphs([])

        def offsets(name: str) -> np.ndarray:
            ptrs = [getattr(p, name) for p in packs]
            shifts = np.cumsum([0] + [int(p[-1]) for p in ptrs[:-1]])
            return np.concatenate(
                [ptrs[0][:1]] + [p[1:] + s for p, s in zip(ptrs, shifts, strict=True)]
            )

        return cls(
            atom_ptr=offsets("atom_ptr"),
            bond_ptr=offsets("bond_ptr"),
            atoms={n: np.concatenate([p.atoms[n] for p in packs]) for n in ATOM_FIELDS},
            edge_index=np.concatenate([p.edge_index for p in packs], axis=1),
            bonds={n: np.concatenate([p.bonds[n] for p in packs]) for n in BOND_FIELDS},
        )

    def __len__(self) -> int:
        return int(self.atom_ptr.shape[0] - 1)

    def __getitem__(self, i: int) -> MolGraph:
        if not -len(self) <= i < len(self):
            raise IndexError(f"graph index {i} out of range for {len(self)} graphs")
        i %= len(self)
        a0, a1 = self.atom_ptr[i], self.atom_ptr[i + 1]
        b0, b1 = self.bond_ptr[i], self.bond_ptr[i + 1]
        return MolGraph(
            **{name: self.atoms[name][a0:a1].astype(np.int64) for name in ATOM_FIELDS[:-1]},
            aromatic=self.atoms["aromatic"][a0:a1],
            edge_index=self.edge_index[:, b0:b1].astype(np.int64),
            **{name: self.bonds[name][b0:b1].astype(np.int64) for name in BOND_FIELDS},
        )

    def select(self, indices: np.ndarray) -> PackedGraphs:
        """A new pack holding graphs ``indices`` in that order."""
        return PackedGraphs.from_graphs([self[int(i)] for i in indices])

    @property
    def num_atoms(self) -> np.ndarray:
        """``[M]`` atoms per graph."""
        return np.diff(self.atom_ptr)

    @property
    def num_heavy_atoms(self) -> np.ndarray:
        """``[M]`` non-hydrogen atoms per graph."""
        graph_of_atom = np.repeat(np.arange(len(self)), self.num_atoms)
        heavy = self.atoms["atomic_num"] > 1
        return np.bincount(graph_of_atom, weights=heavy, minlength=len(self)).astype(np.int64)

    def to_arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Flat name -> array mapping, for :func:`numpy.savez`."""
        arrays = {
            "atom_ptr": self.atom_ptr,
            "bond_ptr": self.bond_ptr,
            "edge_index": self.edge_index,
        }
        arrays.update(self.atoms)
        arrays.update(self.bonds)
        return {prefix + k: v for k, v in arrays.items()}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str = "") -> PackedGraphs:
        """Inverse of :meth:`to_arrays`."""
        return cls(
            atom_ptr=arrays[prefix + "atom_ptr"],
            bond_ptr=arrays[prefix + "bond_ptr"],
            atoms={n: arrays[prefix + n] for n in ATOM_FIELDS},
            edge_index=arrays[prefix + "edge_index"],
            bonds={n: arrays[prefix + n] for n in BOND_FIELDS},
        )
