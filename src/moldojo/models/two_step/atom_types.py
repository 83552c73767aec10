"""Atom types and canonical atom order: what the one-shot decoders predict and in which order.

An *atom type* is an element with its formal charge and hydrogen count, ``(atomic_num,
formal_charge, num_hs)``: the "bag of atoms" of the two-step decoder (Bresson & Laurent 2019)
is a count per type. Because the type fixes the hydrogens, it also fixes how many bond orders
the atom must carry (its *valence*: 4 for a carbon with no hydrogen, 3 for CH, ...); the types
remember the valences seen in training, which the constrained decoder uses as capacities.

Atoms of one type are interchangeable, so a molecule is written in a canonical order to break
the symmetry: atoms sorted by type, and within a type by their position in RDKit's canonical
SMILES (a depth-first walk, so consecutive atoms of one type tend to be near each other).

Imports RDKit through :mod:`moldojo.chem`; no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rdkit import Chem

from moldojo.chem.graph import MolGraph, graph_to_mol
from moldojo.data.packed import PackedGraphs
from moldojo.errors import ConfigError, VocabularyError
from moldojo.parallel import pmap

__all__ = [
    "AtomTypes",
    "OrderedGraphs",
    "canonical_order",
    "decoded_graph",
    "order_graphs",
    "ordered_graph",
    "type_ranks",
]

#: Bond classes of the one-shot decoders: 0 no bond, then the Kekulé bond orders.
NUM_BOND_CLASSES = 4


@dataclass(frozen=True)
class AtomTypes:
    """The atom types of a training set, with the statistics the decoders need.

    Attributes:
        types: ``T`` types ``(atomic_num, formal_charge, num_hs)``, sorted.
        valences: per type, the bond-order sums seen in training, ascending.
        max_count: largest number of atoms of one type in one molecule.
        max_atoms: largest molecule seen, in atoms.
        bond_counts: atom pairs of training molecules per bond class (none, single, double,
            triple), for class weights.
    """

    types: tuple[tuple[int, int, int], ...]
    valences: tuple[tuple[int, ...], ...]
    max_count: int
    max_atoms: int
    bond_counts: tuple[int, int, int, int]

    @classmethod
    def build(cls, graphs: PackedGraphs) -> AtomTypes:
        """Collect the types of a (Kekulé) training set.

        Raises:
            ConfigError: the graphs hold aromatic bonds (``aromaticity="aromatic"``).
        """
        if len(graphs) == 0:
            raise VocabularyError("cannot build atom types from an empty dataset")
        bond_type = graphs.bonds["bond_type"].astype(np.int64)
        if (bond_type == 4).any():
            raise ConfigError("the one-shot decoders need Kekulé bonds; use aromaticity='kekulize'")
        keys = _type_keys(graphs.atoms)
        unique, type_ids = np.unique(keys, return_inverse=True)
        valence = _bond_order_sums(graphs)
        valences = tuple(
            tuple(int(v) for v in np.unique(valence[type_ids == t])) for t in range(len(unique))
        )
        mol = np.repeat(np.arange(len(graphs)), graphs.num_atoms)
        per_mol = np.bincount(mol * len(unique) + type_ids, minlength=len(graphs) * len(unique))
        sizes = graphs.num_atoms
        pairs = int((sizes * (sizes - 1) // 2).sum())
        by_order = np.bincount(bond_type, minlength=4)
        return cls(
            types=tuple(_type_of_key(int(k)) for k in unique),
            valences=valences,
            max_count=int(per_mol.max()),
            max_atoms=int(sizes.max()),
            bond_counts=(pairs - int(by_order[1:].sum()), *(int(c) for c in by_order[1:4])),
        )

    def __len__(self) -> int:
        return len(self.types)

    def type_ids(self, atoms: dict[str, np.ndarray]) -> np.ndarray:
        """``[A]`` int64 type of each atom of packed atom arrays; -1 for a type not in the set."""
        keys = _type_keys(atoms)
        known = np.array([_key_of_type(t) for t in self.types], dtype=np.int64)
        position = np.searchsorted(known, keys).clip(max=len(known) - 1)
        return np.where(known[position] == keys, position, -1)

    def class_weights(self, kind: str = "balanced") -> np.ndarray:
        """``[4]`` weights of the bond classes: ``"balanced"`` (``n / (4 n_c)``) or ``"none"``."""
        counts = np.maximum(np.asarray(self.bond_counts, dtype=np.float64), 1.0)
        if kind == "none":
            return np.ones(NUM_BOND_CLASSES)
        if kind == "balanced":
            return counts.sum() / (NUM_BOND_CLASSES * counts)
        raise ConfigError(f"edge_weights={kind!r} is not 'balanced' or 'none'")

    def to_data(self) -> dict[str, Any]:
        """Plain data, for checkpoints."""
        return {
            "types": [list(t) for t in self.types],
            "valences": [list(v) for v in self.valences],
            "max_count": self.max_count,
            "max_atoms": self.max_atoms,
            "bond_counts": list(self.bond_counts),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> AtomTypes:
        try:
            return cls(
                types=tuple(tuple(int(x) for x in t) for t in data["types"]),  # type: ignore[misc]
                valences=tuple(tuple(int(x) for x in v) for v in data["valences"]),
                max_count=int(data["max_count"]),
                max_atoms=int(data["max_atoms"]),
                bond_counts=tuple(int(x) for x in data["bond_counts"]),  # type: ignore[arg-type]
            )
        except (KeyError, TypeError, ValueError) as error:
            raise VocabularyError(f"atom types are damaged: {error!r}") from error

    def describe(self, t: int) -> str:
        """A type as text, e.g. ``'[NH+]'`` style: ``N+ H1``."""
        atomic_num, charge, hs = self.types[t]
        symbol = Chem.GetPeriodicTable().GetElementSymbol(atomic_num)
        sign = "" if charge == 0 else f"{charge:+d}"
        return f"{symbol}{sign} H{hs}"


@dataclass(frozen=True, eq=False)
class OrderedGraphs:
    """Graphs in canonical atom order with each atom's type.

    Attributes:
        graphs: the ``M`` molecules kept, atoms sorted by type then canonical SMILES position.
        type_ids: ``[A]`` int64, each atom's type, non-decreasing within every molecule.
        kept: ``[M0]`` bool over the input molecules: False where an atom's type is unknown.
    """

    graphs: PackedGraphs
    type_ids: np.ndarray
    kept: np.ndarray

    def __len__(self) -> int:
        return len(self.graphs)


def canonical_order(graph: MolGraph, type_ids: np.ndarray | None = None) -> np.ndarray:
    """The permutation that sorts atoms by type, ties by canonical SMILES position.

    Args:
        graph: one molecule.
        type_ids: ``[N]`` its atoms' types; None sorts by ``(element, charge, hydrogens)``
            directly, which gives the same order for known types and also orders unknown ones.

    Returns:
        ``[N]`` int64 ``perm`` for :meth:`MolGraph.permute` (old atom ``perm[k]`` goes to ``k``).
    """
    if type_ids is None:
        type_ids = _type_keys({"atomic_num": graph.atomic_num, "formal_charge": graph.formal_charge,
                               "num_hs": graph.num_hs})  # fmt: skip
    mol = graph_to_mol(graph)
    Chem.MolToSmiles(mol)
    written = np.array(list(mol.GetPropsAsDict(True, True)["_smilesAtomOutputOrder"]))
    position = np.empty(graph.num_atoms, dtype=np.int64)
    position[written] = np.arange(graph.num_atoms)
    return np.lexsort((position, type_ids)).astype(np.int64)


def order_graphs(
    graphs: PackedGraphs,
    atom_types: AtomTypes,
    *,
    jobs: int = 1,
    progress: bool | None = None,
) -> OrderedGraphs:
    """Put every molecule in canonical order; molecules with an unknown atom type are left out.

    Args:
        graphs: the molecules, in any atom order.
        atom_types: the type set (from the training data).
        jobs: worker processes (RDKit writes the canonical SMILES).
        progress: progress bar; None shows one when stderr is a terminal.
    """
    type_ids = atom_types.type_ids(graphs.atoms)
    mol = np.repeat(np.arange(len(graphs)), graphs.num_atoms)
    unknown = np.bincount(mol, weights=type_ids < 0, minlength=len(graphs)) > 0
    kept = ~unknown
    items = [(graphs[int(i)], type_ids[graphs.atom_ptr[i] : graphs.atom_ptr[i + 1]])
             for i in np.flatnonzero(kept)]  # fmt: skip
    ordered: Sequence[MolGraph] = pmap(
        _ordered, items, jobs=jobs, chunk_size=512, description="ordering atoms",
        progress=progress,
    )  # fmt: skip
    packed = PackedGraphs.from_graphs(list(ordered))
    return OrderedGraphs(graphs=packed, type_ids=atom_types.type_ids(packed.atoms), kept=kept)


def type_ranks(graphs: PackedGraphs) -> np.ndarray:
    """``[A]`` each atom's rank among the atoms of its type in its molecule, for graphs in
    canonical order (atoms of one type consecutive)."""
    keys = _type_keys(graphs.atoms)
    mol = np.repeat(np.arange(len(graphs)), graphs.num_atoms)
    n = keys.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = (keys[1:] != keys[:-1]) | (mol[1:] != mol[:-1])
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(n), 0))
    return np.arange(n) - run_start


def ordered_graph(graph: MolGraph) -> MolGraph:
    """``graph`` in canonical order (types by element, charge and hydrogens)."""
    return graph.permute(canonical_order(graph))


def _ordered(item: tuple[MolGraph, np.ndarray]) -> MolGraph:
    graph, types = item
    return graph.permute(canonical_order(graph, types))


def _type_keys(atoms: dict[str, np.ndarray]) -> np.ndarray:
    return (
        atoms["atomic_num"].astype(np.int64) * 10_000
        + (atoms["formal_charge"].astype(np.int64) + 50) * 100
        + atoms["num_hs"].astype(np.int64)
    )


def _key_of_type(t: tuple[int, int, int]) -> int:
    return t[0] * 10_000 + (t[1] + 50) * 100 + t[2]


def _type_of_key(key: int) -> tuple[int, int, int]:
    return key // 10_000, (key // 100) % 100 - 50, key % 100


def _bond_order_sums(graphs: PackedGraphs) -> np.ndarray:
    """``[A]`` each atom's sum of bond orders (Kekulé bonds)."""
    bond_mol = np.repeat(np.arange(len(graphs)), np.diff(graphs.bond_ptr))
    offset = graphs.atom_ptr[bond_mol]
    ends = graphs.edge_index.astype(np.int64) + offset
    order = graphs.bonds["bond_type"].astype(np.float64)
    total = graphs.atom_ptr[-1]
    sums = np.bincount(ends[0], weights=order, minlength=total)
    sums += np.bincount(ends[1], weights=order, minlength=total)
    return sums.astype(np.int64)


def decoded_graph(
    atom_types: AtomTypes,
    node_type: np.ndarray,
    edge_index: np.ndarray,
    bond_order: np.ndarray,
    extra_hs: np.ndarray | None = None,
) -> MolGraph:
    """The :class:`MolGraph` of a decoded molecule: typed atoms and Kekulé bonds, no stereo.

    Args:
        atom_types: the type set the decoder predicts in.
        node_type: ``[n]`` atom types.
        edge_index: ``[2, m]`` bonds with ``edge_index[0] < edge_index[1]``.
        bond_order: ``[m]`` 1, 2 or 3.
        extra_hs: ``[n]`` hydrogens added to each type's own, or None.
    """
    table = np.asarray(atom_types.types, dtype=np.int64).reshape(-1, 3)[node_type]
    n = node_type.shape[0]
    edges = np.asarray(edge_index, dtype=np.int64).reshape(2, -1)
    order = np.lexsort((edges[1], edges[0]))
    zeros = np.zeros(n, dtype=np.int64)
    hs = table[:, 2] if extra_hs is None else table[:, 2] + extra_hs
    return MolGraph(
        atomic_num=table[:, 0].copy(),
        formal_charge=table[:, 1].copy(),
        num_hs=hs,
        chirality=zeros,
        isotope=zeros.copy(),
        radical_electrons=zeros.copy(),
        aromatic=np.zeros(n, dtype=bool),
        edge_index=edges[:, order],
        bond_type=np.asarray(bond_order, dtype=np.int64)[order],
        bond_stereo=np.zeros(edges.shape[1], dtype=np.int64),
    )
