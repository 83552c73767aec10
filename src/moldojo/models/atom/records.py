"""What the atom-by-atom decoder predicts, in which order, and its teacher-forced batches.

* **Atom types** (:class:`AtomAlphabet`) are ``(element, formal charge)``. Hydrogens are left to
  RDKit's implicit-hydrogen rules when a molecule is written, so a type only needs a
  *capacity*: the largest sum of bond orders (Kekulé) an atom of that type carried in
  training. The decoder's valence masks never let an atom's bonds exceed it, so decoding is
  valid by construction.
* **Order** (:func:`bfs_order`): atoms are added in a canonical breadth-first order, started at
  the atom RDKit ranks first and visiting neighbours by rank. So every new atom (but the first)
  bonds to an atom already placed, its *first* neighbour (the lowest-numbered) is the atom that
  discovered it, and the other neighbours close rings.
* **Decisions** for a molecule of ``n`` atoms, in this order:

  - before atom ``t`` (``t = 0 .. n``): its type, or stop (``n + 1`` decisions);
  - for atom ``t >= 1``: its earlier neighbours in ascending order, one decision each, then stop
    (``deg + 1`` decisions: stop is not allowed first, so the molecule stays connected, and each
    neighbour must come after the previous one, so a set of neighbours has one sequence). The
    order also bounds them from below: an atom's first neighbour is its breadth-first parent,
    parents never decrease, and an atom before the parent had all its neighbours placed when it
    was expanded; so atom ``t``'s neighbours are all at or after atom ``t - 1``'s parent (the
    *floor*), a structural mask like the ascending order;
  - for each of those bonds: its order, 1 to 3.

  :func:`collate` lays out every decision of every molecule of a batch at once (the partial
  molecules the decoder's AtomMPN reads, the candidates of each neighbour decision and their
  valence masks) with array arithmetic, no loop over atoms: teacher forcing is one forward pass.

Imports NumPy, torch and RDKit through :mod:`moldojo.chem`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch
from rdkit import Chem
from torch import Tensor

from moldojo.chem.graph import MolGraph, graph_to_mol
from moldojo.data.features import FeatureSpec, featurize_batch, ranges
from moldojo.data.packed import PackedGraphs
from moldojo.errors import ConfigError, VocabularyError
from moldojo.nn.batch import GraphBatch

__all__ = ["NUM_ORDERS", "AtomAlphabet", "AtomBatch", "bfs_order", "collate", "ordered"]

#: Bond orders the decoder chooses among: single, double, triple (Kekulé).
NUM_ORDERS = 3


@dataclass(frozen=True)
class AtomAlphabet:
    """The atom types of a training set and how many bond orders each may carry.

    Attributes:
        types: ``T`` types ``(atomic_num, formal_charge)``, sorted; class ``T`` is "stop".
        capacity: per type, the largest sum of bond orders seen in training.
        max_atoms: the largest training molecule, in heavy atoms.
    """

    types: tuple[tuple[int, int], ...]
    capacity: tuple[int, ...]
    max_atoms: int

    @classmethod
    def build(cls, graphs: PackedGraphs) -> AtomAlphabet:
        """The types of a Kekulé training set.

        Raises:
            VocabularyError: no molecules.
            ConfigError: the graphs hold aromatic bonds.
        """
        if len(graphs) == 0:
            raise VocabularyError("cannot build atom types from an empty dataset")
        if (graphs.bonds["bond_type"] == 4).any():
            raise ConfigError("the atom-by-atom decoder needs Kekulé bonds; use "
                              "aromaticity='kekulize'")  # fmt: skip
        keys = _keys(graphs.atoms)
        unique, ids = np.unique(keys, return_inverse=True)
        orders = bond_order_sums(graphs)
        capacity = np.zeros(len(unique), dtype=np.int64)
        np.maximum.at(capacity, ids, orders)
        return cls(
            types=tuple((int(k) // 100, int(k) % 100 - 50) for k in unique),
            capacity=tuple(int(c) for c in capacity),
            max_atoms=int(graphs.num_atoms.max()),
        )

    def __len__(self) -> int:
        return len(self.types)

    @property
    def stop(self) -> int:
        """The class of "no more atoms"."""
        return len(self.types)

    def type_ids(self, atoms: dict[str, np.ndarray]) -> np.ndarray:
        """``[A]`` the type of each atom of packed atom arrays, -1 for a type not in the set."""
        keys = _keys(atoms)
        known = np.array([a * 100 + c + 50 for a, c in self.types], dtype=np.int64)
        at = np.searchsorted(known, keys).clip(max=len(known) - 1)
        return np.where(known[at] == keys, at, -1)

    def to_data(self) -> dict[str, Any]:
        return {"types": [list(t) for t in self.types], "capacity": list(self.capacity),
                "max_atoms": self.max_atoms}  # fmt: skip

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> AtomAlphabet:
        return cls(types=tuple((int(a), int(c)) for a, c in data["types"]),
                   capacity=tuple(int(c) for c in data["capacity"]),
                   max_atoms=int(data["max_atoms"]))  # fmt: skip


def _keys(atoms: dict[str, np.ndarray]) -> np.ndarray:
    return atoms["atomic_num"].astype(np.int64) * 100 + atoms["formal_charge"].astype(np.int64) + 50


def bond_order_sums(graphs: PackedGraphs) -> np.ndarray:
    """``[A]`` the sum of the bond orders of each atom of packed graphs."""
    offsets = np.repeat(graphs.atom_ptr[:-1], np.diff(graphs.bond_ptr))
    ends = graphs.edge_index.astype(np.int64) + offsets
    order = graphs.bonds["bond_type"].astype(np.int64)
    total = len(graphs.atoms["atomic_num"])
    return np.bincount(ends[0], order, total) + np.bincount(ends[1], order, total)


def bfs_order(graph: MolGraph) -> np.ndarray | None:
    """The canonical breadth-first atom order (module docstring) as a permutation for
    :meth:`MolGraph.permute`, or None when the molecule has several fragments."""
    n = graph.num_atoms
    rank = list(Chem.CanonicalRankAtoms(graph_to_mol(graph), breakTies=True))
    neighbours = [sorted(row, key=rank.__getitem__) for row in graph.neighbours()]
    start = min(range(n), key=rank.__getitem__)
    seen = [False] * n
    seen[start] = True
    order, queue = [], deque([start])
    while queue:
        atom = queue.popleft()
        order.append(atom)
        for other in neighbours[atom]:
            if not seen[other]:
                seen[other] = True
                queue.append(other)
    return np.asarray(order, dtype=np.int64) if len(order) == n else None


def ordered(graph: MolGraph) -> MolGraph | None:
    """``graph`` in canonical breadth-first order, or None when it has several fragments."""
    perm = bfs_order(graph)
    return None if perm is None else graph.permute(perm)


@dataclass(frozen=True)
class AtomBatch:
    """Every teacher-forced decision of ``B`` molecules (:func:`collate`).

    The decoder reads *prefixes*: prefix ``q`` is the partial molecule before one atom is
    added, and its nodes are that molecule's first atoms. Prefix ``q`` of molecule ``b`` with
    ``t`` atoms (``t >= 1``) has index ``aptr[b] + t - 1``, so there is one prefix per atom.

    Attributes:
        graph: the encoder's input, the whole molecules.
        node_type, node_mol, node_prefix: ``[Np]`` prefix nodes: type, molecule, prefix.
        node_age: ``[Np]`` atoms added after the node (0: the newest atom of its prefix).
        prefix_ptr: ``[P + 1]`` node offsets of the prefixes.
        edge_index, edge_order: ``[2, Ep]``, ``[Ep]`` the prefixes' bonds, both directions.
        atom_mol, atom_prefix, atom_target: ``[Da]`` atom decisions: molecule, the prefix it
            reads (-1: the empty molecule), the type or ``T`` (stop).
        atom_size: ``[Da]`` atoms placed before the decision.
        atom_ok: ``[Da, T + 1]`` bool, the options valence masks allow.
        nb_mol, nb_prefix, nb_type: ``[Dn]`` neighbour decisions: molecule, prefix, the new
            atom's type.
        nb_lo, nb_hi: ``[Dn]`` the new atom's bonds already chosen are bonds
            ``nb_lo .. nb_hi - 1``.
        nb_target: ``[Dn]`` 0 for stop, ``j + 1`` for earlier atom ``j``.
        nb_stop_ok: ``[Dn]`` bool, stop is allowed (not as the first decision).
        cand_dec, cand_node, cand_col: ``[R]`` candidate rows: decision, prefix node, column.
        cand_ok: ``[R]`` bool, the candidate is allowed (ascending order, at or after the
            floor, valence masks).
        bond_dec, bond_node, bond_order: ``[K]`` bonds: the neighbour decision that chose it,
            the prefix node of the earlier atom, the order (1-3).
        bond_ok: ``[K, 3]`` bool, the orders valence masks allow.
        max_atoms: the largest molecule of the batch (columns of the neighbour decisions - 1).
    """

    graph: GraphBatch
    node_type: Tensor
    node_mol: Tensor
    node_prefix: Tensor
    node_age: Tensor
    prefix_ptr: Tensor
    edge_index: Tensor
    edge_order: Tensor
    atom_mol: Tensor
    atom_prefix: Tensor
    atom_target: Tensor
    atom_size: Tensor
    atom_ok: Tensor
    nb_mol: Tensor
    nb_prefix: Tensor
    nb_type: Tensor
    nb_lo: Tensor
    nb_hi: Tensor
    nb_target: Tensor
    nb_stop_ok: Tensor
    cand_dec: Tensor
    cand_node: Tensor
    cand_col: Tensor
    cand_ok: Tensor
    bond_dec: Tensor
    bond_node: Tensor
    bond_order: Tensor
    bond_ok: Tensor
    max_atoms: int

    @property
    def num_molecules(self) -> int:
        return self.graph.num_graphs

    def to(self, device: torch.device | str) -> AtomBatch:
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        return AtomBatch(**{k: v.to(device) if hasattr(v, "to") else v for k, v in moved.items()})


def _starts(sizes: np.ndarray) -> np.ndarray:
    """Exclusive cumulative sum: where each group of ``sizes`` starts."""
    return np.cumsum(sizes) - sizes


def collate(graphs: PackedGraphs, type_ids: np.ndarray, indices: np.ndarray,
            alphabet: AtomAlphabet, spec: FeatureSpec) -> AtomBatch:  # fmt: skip
    """The teacher-forced decisions of molecules ``indices`` of ``graphs`` (each in
    :func:`ordered` atom order, every atom of a known type; ``type_ids`` per packed atom)."""
    indices = np.asarray(indices, dtype=np.int64)
    n = graphs.num_atoms[indices].astype(np.int64)
    num = len(indices)
    aptr = np.concatenate([[0], np.cumsum(n)])
    total = int(aptr[-1])
    atom_mol = np.repeat(np.arange(num), n)
    local = np.arange(total) - aptr[atom_mol]  # t of each atom
    types = type_ids[ranges(graphs.atom_ptr[indices], n)].astype(np.int64)
    capacity = np.asarray(alphabet.capacity, dtype=np.int64)
    stop = alphabet.stop

    # Bonds, (s, d) with s < d in local numbering, sorted by molecule, then d, then s.
    bond_sizes = (graphs.bond_ptr[indices + 1] - graphs.bond_ptr[indices]).astype(np.int64)
    rows = ranges(graphs.bond_ptr[indices], bond_sizes)
    bmol = np.repeat(np.arange(num), bond_sizes)
    ends = graphs.edge_index[:, rows].astype(np.int64)
    s, d = ends.min(0), ends.max(0)
    order = graphs.bonds["bond_type"][rows].astype(np.int64)
    sort = np.lexsort((s, d, bmol))
    s, d, order, bmol = s[sort], d[sort], order[sort], bmol[sort]
    bond_atom = aptr[bmol] + d  # the later atom of each bond, batch numbering
    deg = np.bincount(bond_atom, minlength=total)  # earlier neighbours of each atom
    bond_first = _starts(deg)
    # Breadth-first: an atom's first neighbour is its parent, and parents never decrease, so
    # the atom after atom a bonds to atoms from parent[a] on only (its floor).
    parent = np.where(deg > 0, s[np.minimum(bond_first, max(len(s) - 1, 0))]
                      if len(s) else 0, 0)  # fmt: skip

    # Prefixes: prefix a (one per atom) holds the first local[a] + 1 atoms of its molecule.
    psize = local + 1
    prefix_ptr = np.concatenate([[0], np.cumsum(psize)])
    node_prefix = np.repeat(np.arange(total), psize)
    node_j = np.arange(int(prefix_ptr[-1])) - prefix_ptr[node_prefix]
    node_mol = atom_mol[node_prefix]
    node_type = types[aptr[node_mol] + node_j]
    # Bond (s, d) is in the prefixes of atoms d .. n - 1 of its molecule.
    reps = n[bmol] - d
    bond_of_edge = np.repeat(np.arange(len(s)), reps)
    prefix = aptr[bmol][bond_of_edge] + d[bond_of_edge] + (
        np.arange(int(reps.sum())) - _starts(reps)[bond_of_edge])
    src = prefix_ptr[prefix] + s[bond_of_edge]
    dst = prefix_ptr[prefix] + d[bond_of_edge]
    edge_order = np.concatenate([order[bond_of_edge]] * 2)
    edge_index = np.stack([np.concatenate([src, dst]), np.concatenate([dst, src])])
    used = np.bincount(edge_index[1], edge_order, int(prefix_ptr[-1])).astype(np.int64)
    room = capacity[node_type] - used  # bond orders each prefix node may still take
    above = node_j >= parent[node_prefix]  # at or after the floor of the prefix
    free = np.bincount(node_prefix, (room >= 1) & above, total) > 0  # can take a new atom

    # Atom decisions: t = 0 .. n per molecule; prefix a - 1 before atom a (none before atom 0).
    da_mol = np.repeat(np.arange(num), n + 1)
    da_t = np.arange(total + num) - _starts(n + 1)[da_mol]
    atom_prefix = np.where(da_t > 0, aptr[da_mol] + da_t - 1, -1)
    last = da_t == n[da_mol]
    atom_target = np.where(last, stop, types[np.minimum(aptr[da_mol] + da_t, total - 1)])
    atom_ok = np.zeros((len(da_mol), stop + 1), dtype=bool)
    first = da_t == 0
    may_grow = first | free[np.maximum(atom_prefix, 0)]
    atom_ok[:, :stop] = may_grow[:, None] & ((capacity >= 1)[None, :] | first[:, None])
    atom_ok[:, stop] = ~first

    # Neighbour decisions: for atom a with local[a] >= 1, its deg earlier neighbours, then stop.
    count = np.where(local > 0, deg + 1, 0)
    dn_atom = np.repeat(np.arange(total), count)
    dn_first = _starts(count)
    dn_i = np.arange(int(count.sum())) - dn_first[dn_atom]
    is_stop = dn_i == deg[dn_atom]
    k = np.minimum(bond_first[dn_atom] + dn_i, max(len(s) - 1, 0))
    nb_target = np.where(is_stop, 0, s[k] + 1 if len(s) else 0)
    prev = np.where(dn_i > 0, s[np.maximum(bond_first[dn_atom] + dn_i - 1, 0)]
                    if len(s) else -1, -1)  # fmt: skip
    cum = np.concatenate([[0], np.cumsum(order)])
    nb_lo = bond_first[dn_atom]
    nb_hi = nb_lo + dn_i
    room_new = capacity[types[dn_atom]] - (cum[nb_hi] - cum[nb_lo])
    nb_prefix = dn_atom - 1
    # Candidates: every node of the prefix, in ascending order after the last neighbour.
    width = local[dn_atom]
    cand_dec = np.repeat(np.arange(len(dn_atom)), width)
    cand_j = np.arange(int(width.sum())) - _starts(width)[cand_dec]
    cand_node = prefix_ptr[nb_prefix[cand_dec]] + cand_j
    cand_ok = ((cand_j > prev[cand_dec]) & above[cand_node] & (room[cand_node] >= 1)
               & (room_new[cand_dec] >= 1))  # fmt: skip

    # Bond orders: bond k was chosen by decision dn_first[a] + (k - bond_first[a]).
    bond_dec = dn_first[bond_atom] + np.arange(len(s)) - bond_first[bond_atom]
    bond_node = prefix_ptr[bond_atom - 1] + s if len(s) else np.zeros(0, dtype=np.int64)
    limit = np.minimum(room_new[bond_dec], room[bond_node]) if len(s) else np.zeros(0, np.int64)
    bond_ok = np.arange(1, NUM_ORDERS + 1)[None, :] <= limit[:, None]

    def t(x: np.ndarray) -> Tensor:
        return torch.from_numpy(np.ascontiguousarray(x))

    arrays = featurize_batch(graphs, indices, spec)
    return AtomBatch(
        graph=GraphBatch.from_arrays(arrays),
        node_type=t(node_type), node_mol=t(node_mol), node_prefix=t(node_prefix),
        node_age=t(local[node_prefix] - node_j),
        prefix_ptr=t(prefix_ptr), edge_index=t(edge_index), edge_order=t(edge_order),
        atom_mol=t(da_mol), atom_prefix=t(atom_prefix), atom_target=t(atom_target),
        atom_size=t(da_t), atom_ok=t(atom_ok),
        nb_mol=t(atom_mol[dn_atom]), nb_prefix=t(nb_prefix), nb_type=t(types[dn_atom]),
        nb_lo=t(nb_lo), nb_hi=t(nb_hi), nb_target=t(nb_target), nb_stop_ok=t(dn_i > 0),
        cand_dec=t(cand_dec), cand_node=t(cand_node), cand_col=t(cand_j + 1),
        cand_ok=t(cand_ok),
        bond_dec=t(bond_dec), bond_node=t(bond_node), bond_order=t(order), bond_ok=t(bond_ok),
        max_atoms=int(n.max()) if num else 0,
    )  # fmt: skip
