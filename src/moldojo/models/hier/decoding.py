"""The hierarchical VAE's decode state machine: one molecule built motif by motif.

:class:`DecodeState` is the partial molecule and partial tree of a depth-first decoder with a
stack of motifs, and every rule of what may come next: which of the top motif's attachment atoms
a child may merge with, which configurations can attach at all, the candidate (parent atom, child
atom) pairs and which one is right, and the partial-molecule *ball* the decoder's AtomMPN reads.
Both sides of the model drive this one class, with the same events in the same depth-first order:
teacher forcing (:func:`~moldojo.models.hier.records.tree_record`) replays a molecule's own
choices through it to write the arrays a training step reads, and inference
(:class:`~moldojo.models.hier.generator.HierGenerator`) makes each choice with the networks.

Positions are indices into a configuration's atoms (its atom order in
:class:`~moldojo.models.hier.tables.MotifTables`); atoms are indices into the partial molecule,
numbered as placed.

A model without attachment configurations (``HierConfig.attachment_configs = False``) decodes
with ``DecodeState(tables, configs=False)``: every ``config`` argument and value is then a *motif*
id, placed as the bare motif (positions in the motif SMILES' order,
:class:`~moldojo.models.hier.tables.MotifGraphs`, no attachment atoms), and the rules read atoms
instead of attachment atoms: a child may merge with any atom of the top motif that has hydrogens
left, by any atom of its own motif (one per symmetry class) of the same type whose in-motif bond
orders fit them; no child is ever required. Imports numpy and :mod:`moldojo.chem` only (no
torch); the tables are read through their attributes.
"""

from __future__ import annotations

from typing import NamedTuple
from weakref import WeakKeyDictionary

import numpy as np

from moldojo.chem.motifs import MotifNode, MotifTree
from moldojo.models.hier.tables import MotifTables

__all__ = ["Ball", "ConfigParts", "DecodeState", "config_parts", "motif_parts"]


class ConfigParts(NamedTuple):
    """One configuration (or bare motif, :func:`motif_parts`) as the plain Python values the
    decoder's loops read.

    Attributes:
        motif: its motif.
        start: bank index of its first atom in the tables' atom arrays.
        type: per position, the atom type.
        hs: per position, hydrogens in the motif alone (valence minus in-motif bond orders).
        degree: per position, the in-motif bond orders.
        attach: the attachment positions, ascending.
        bonds: ``(position, position, order)`` of each bond, in the tables' order.
        children: the attachment positions a child can attach by, one per symmetry class
            (:meth:`~moldojo.models.hier.tables.MotifTables.child_candidates`), ascending.
        representative: per position, the first position of its symmetry class.
    """

    motif: int
    start: int
    type: tuple[int, ...]
    hs: tuple[int, ...]
    degree: tuple[int, ...]
    attach: tuple[int, ...]
    bonds: tuple[tuple[int, int, int], ...]
    children: tuple[int, ...]
    representative: tuple[int, ...]


_PARTS: WeakKeyDictionary[MotifTables, dict[int, ConfigParts]] = WeakKeyDictionary()
_MOTIF_PARTS: WeakKeyDictionary[MotifTables, dict[int, ConfigParts]] = WeakKeyDictionary()


def config_parts(tables: MotifTables) -> dict[int, ConfigParts]:
    """The (lazily filled) :class:`ConfigParts` of ``tables``' configurations, by id; one cache
    per tables object, so that every molecule decoded with them shares it."""
    cache = _PARTS.get(tables)
    if cache is None:
        cache = _PARTS[tables] = _PartsCache(tables)
    return cache


def motif_parts(tables: MotifTables) -> dict[int, ConfigParts]:
    """The (lazily filled) :class:`ConfigParts` of ``tables``' bare motifs, by motif id: no
    attachment atoms, and every atom a child may attach by (one per symmetry class)."""
    cache = _MOTIF_PARTS.get(tables)
    if cache is None:
        cache = _MOTIF_PARTS[tables] = _MotifPartsCache(tables)
    return cache


class _MotifPartsCache(dict):
    """``motif -> ConfigParts`` of the bare motif, each built on first use."""

    def __init__(self, tables: MotifTables) -> None:
        super().__init__()
        self.tables = tables

    def __missing__(self, motif: int) -> ConfigParts:
        g = self.tables.motif_graphs
        start, stop = int(g.atom_ptr[motif]), int(g.atom_ptr[motif + 1])
        bank = slice(start, stop)
        representative = (g.atom_representative[bank] - start).tolist()
        parts = ConfigParts(
            motif=motif,
            start=start,
            type=tuple(g.atom_type[bank].tolist()),
            hs=tuple((g.atom_valence[bank] - g.atom_degree[bank]).tolist()),
            degree=tuple(g.atom_degree[bank].tolist()),
            attach=(),
            bonds=tuple((int(a), int(b), int(o))
                        for a, b, o in g.bonds[g.bond_ptr[motif] : g.bond_ptr[motif + 1]]),
            children=tuple(p for p, r in enumerate(representative) if p == r),
            representative=tuple(representative),
        )  # fmt: skip
        self[motif] = parts
        return parts


class _PartsCache(dict):
    """``config -> ConfigParts``, each built on first use."""

    def __init__(self, tables: MotifTables) -> None:
        super().__init__()
        self.tables = tables

    def __missing__(self, config: int) -> ConfigParts:
        t = self.tables
        start, stop = int(t.atom_ptr[config]), int(t.atom_ptr[config + 1])
        bank = slice(start, stop)
        bonds = t.bonds[t.bond_ptr[config] : t.bond_ptr[config + 1]]
        parts = ConfigParts(
            motif=int(t.config_motif[config]),
            start=start,
            type=tuple(t.atom_type[bank].tolist()),
            hs=tuple((t.atom_valence[bank] - t.atom_degree[bank]).tolist()),
            degree=tuple(t.atom_degree[bank].tolist()),
            attach=tuple(np.flatnonzero(t.atom_attach[bank]).tolist()),
            bonds=tuple((int(a), int(b), int(o)) for a, b, o in bonds),
            children=tuple((t.child_candidates(config) - start).tolist()),
            representative=tuple((t.atom_representative[bank] - start).tolist()),
        )
        self[config] = parts
        return parts


class Ball(NamedTuple):
    """A partial molecule cut to the atoms near some seed atoms: what the decoder's AtomMPN reads.

    Attributes:
        atoms: ``[N]`` the atoms kept, ascending (row ``i`` of the ball is atom ``atoms[i]``).
        local: atom -> its row.
        bonds: ``(row, row, order)`` of each bond between kept atoms, once, lower row first,
            ordered by that row, then by when the bond was placed.
    """

    atoms: list[int]
    local: dict[int, int]
    bonds: list[tuple[int, int, int]]


class DecodeState:
    """One molecule being decoded depth first: its partial tree, partial molecule and stack.

    Events: :meth:`add_root` once, then any sequence of :meth:`add_child` (a child of the top
    motif, pushed) and :meth:`pop`, until the stack is empty. Every merge takes hydrogens from the
    merged atom, so a sequence of events that only takes offered pairs keeps valences.

    Args:
        tables: the motif vocabulary as arrays.
        configs: False places bare motifs: every ``config`` is a motif id (module docstring).

    Attributes:
        tables: the motif vocabulary as arrays.
        configs: whether nodes are configurations (else bare motifs).
        motif, config: per node, its motif and configuration (its motif, with ``configs``
            False).
        parent: per node, its parent node (-1 for the root).
        parent_pos: per node, the position in its parent's configuration of the merged atom.
        attach_pos: per node, the position in its own configuration of that atom.
        node_atoms: per node, the atom of each position.
        open: per node, its attachment positions not merged with a neighbour yet.
        stack: nodes still open to children, the top last.
        atom_type: per atom, its type (the tables' ``atom_codes`` index).
        atom_hs: per atom, hydrogens left (valence minus the bond orders placed so far).
        atom_attach: per atom, whether it is an attachment atom of a placed motif.
        bonds: ``(atom, atom, order)`` of each bond, in the order placed.
        neighbours: per atom, the atom at the other end of each of its bonds, in the order
            placed; neighbour_orders: the orders of those bonds (plain integers, no tuples:
            fewer objects for the garbage collector to walk).
    """

    def __init__(self, tables: MotifTables, configs: bool = True) -> None:
        self.tables = tables
        self.configs = configs
        self._parts = config_parts(tables) if configs else motif_parts(tables)
        self.motif: list[int] = []
        self.config: list[int] = []
        self.parent: list[int] = []
        self.parent_pos: list[int] = []
        self.attach_pos: list[int] = []
        self.node_atoms: list[list[int]] = []
        self.open: list[set[int]] = []
        self.stack: list[int] = []
        self.atom_type: list[int] = []
        self.atom_hs: list[int] = []
        self.atom_attach: list[bool] = []
        self.bonds: list[tuple[int, int, int]] = []
        self.neighbours: list[list[int]] = []
        self.neighbour_orders: list[list[int]] = []

    # -- events --------------------------------------------------------------------------------

    def add_root(self, config: int) -> int:
        """Place the first motif, in configuration ``config``; its node (0)."""
        if self.motif:
            raise ValueError("the root is already placed")
        return self._add(config, -1, -1, -1)

    def add_child(self, config: int, parent_pos: int, attach_pos: int) -> int:
        """Place a child of the top motif in configuration ``config``, merging the top motif's
        atom at ``parent_pos`` with the child's atom at ``attach_pos``; its node, now on top."""
        return self._add(config, self.stack[-1], parent_pos, attach_pos)

    def pop(self) -> int:
        """Close the top motif to further children; the node popped."""
        return self.stack.pop()

    def _add(self, config: int, parent: int, parent_pos: int, attach_pos: int) -> int:
        parts = self._parts[config]
        atom_type, atom_hs, atom_attach = self.atom_type, self.atom_hs, self.atom_attach
        neighbours, orders = self.neighbours, self.neighbour_orders
        attach = parts.attach
        index = []
        for p, (t, hs) in enumerate(zip(parts.type, parts.hs, strict=True)):
            if p == attach_pos and parent >= 0:
                a = self.node_atoms[parent][parent_pos]
                atom_hs[a] -= parts.degree[p]
            else:
                a = len(atom_type)
                atom_type.append(t)
                atom_hs.append(hs)
                atom_attach.append(False)
                neighbours.append([])
                orders.append([])
            index.append(a)
        for p in attach:
            atom_attach[index[p]] = True
        for x, y, o in parts.bonds:
            a, b = index[x], index[y]
            self.bonds.append((a, b, o))
            neighbours[a].append(b)
            neighbours[b].append(a)
            orders[a].append(o)
            orders[b].append(o)
        opened = set(attach)
        if parent >= 0:
            self.open[parent].discard(parent_pos)
            opened.discard(attach_pos)
        node = len(self.motif)
        self.motif.append(parts.motif)
        self.config.append(config)
        self.parent.append(parent)
        self.parent_pos.append(parent_pos)
        self.attach_pos.append(attach_pos)
        self.node_atoms.append(index)
        self.open.append(opened)
        self.stack.append(node)
        return node

    # -- what may come next --------------------------------------------------------------------

    @property
    def top(self) -> int:
        """The node on top of the stack: the parent of the next child."""
        return self.stack[-1]

    def parent_candidates(self) -> list[int]:
        """Positions of the top motif's attachment atoms a child may merge with: the open ones
        with hydrogens left if any, else every attachment atom with hydrogens left. Without
        configurations: every atom of the top motif with hydrogens left."""
        u = self.stack[-1]
        atoms, hs, open_ = self.node_atoms[u], self.atom_hs, self.open[u]
        if not self.configs:
            return [p for p, a in enumerate(atoms) if hs[a]]
        free = [p for p in self._parts[self.config[u]].attach if hs[atoms[p]]]
        opened = [p for p in free if p in open_]
        return opened or free

    def needs_child(self) -> bool:
        """Whether the top motif has an open attachment atom with hydrogens left: one that
        still needs its child (never, without configurations: no atom is open)."""
        u = self.stack[-1]
        atoms, hs = self.node_atoms[u], self.atom_hs
        return any(hs[atoms[p]] for p in self.open[u])

    def feasible(self, positions: list[int] | tuple[int, ...]) -> np.ndarray:
        """``[C]`` bool: the configurations with an attachment atom that can merge with the top
        motif's atom at one of ``positions`` (same type, in-motif bond orders within the
        hydrogens left). Without configurations, ``[M]``: the motifs with any such atom."""
        tables = self.tables
        atoms = self.node_atoms[self.stack[-1]]
        min_degree = tables.min_degree if self.configs else tables.motif_graphs.min_degree
        ok = np.zeros(min_degree.shape[0], bool)
        for p in positions:
            a = atoms[p]
            ok |= min_degree[:, self.atom_type[a]] <= self.atom_hs[a]
        return ok

    def pair_options(self, config: int, positions: list[int] | tuple[int, ...]
                     ) -> list[tuple[int, int]]:  # fmt: skip
        """The candidate merges of a child in configuration ``config`` with the top motif:
        ``(parent position, child position)`` for each of the top motif's ``positions`` (in
        that order) and each child attachment position (any position, without configurations),
        one per symmetry class (ascending), of the same atom type whose in-motif bond orders fit
        the parent atom's hydrogens left."""
        child = self._parts[config]
        atoms, atom_type, atom_hs = self.node_atoms[self.stack[-1]], self.atom_type, self.atom_hs
        ctype, cdegree = child.type, child.degree
        out = []
        for p in positions:
            a = atoms[p]
            t, hs = atom_type[a], atom_hs[a]
            out.extend((p, q) for q in child.children if ctype[q] == t and cdegree[q] <= hs)
        return out

    def pair_labels(self, config: int, options: list[tuple[int, int]], parent_pos: int,
                    attach_pos: int) -> list[bool]:  # fmt: skip
        """Which of ``options`` (:meth:`pair_options`) is the merge of the top motif's
        ``parent_pos`` with the child's ``attach_pos`` (up to the child's symmetry)."""
        q_true = self._parts[config].representative[attach_pos]
        return [p == parent_pos and q == q_true for p, q in options]

    def ball(self, positions: list[int] | tuple[int, ...], radius: int | None) -> Ball:
        """The partial molecule cut to the atoms within ``radius`` bonds of the top motif's atoms
        at ``positions`` (all of it when ``radius`` is None): a network of ``radius`` layers gives
        those atoms the same states on the ball as on the whole."""
        neighbours = self.neighbours
        if radius is None:
            atoms = list(range(len(self.atom_type)))
        else:
            top = self.node_atoms[self.stack[-1]]
            seen = {top[p] for p in positions}
            frontier = list(seen)
            for _ in range(radius):
                nxt = []
                for a in frontier:
                    for b in neighbours[a]:
                        if b not in seen:
                            seen.add(b)
                            nxt.append(b)
                frontier = nxt
            atoms = sorted(seen)
        local = {a: i for i, a in enumerate(atoms)}
        orders = self.neighbour_orders
        bonds = [(i, local[b], o) for i, a in enumerate(atoms)
                 for b, o in zip(neighbours[a], orders[a], strict=True)
                 if a < b and b in local]  # fmt: skip
        return Ball(atoms, local, bonds)

    # -- the result ----------------------------------------------------------------------------

    def tree(self) -> MotifTree:
        """The motif tree decoded so far, for :func:`~moldojo.chem.motifs.tree_graph`."""
        tables = self.tables
        strings = tables.flat_configs if self.configs else tables.motifs
        children: list[list[int]] = [[] for _ in self.motif]
        for k, p in enumerate(self.parent):
            if p >= 0:
                children[p].append(k)
        nodes = tuple(
            MotifNode(
                smiles=tables.motifs[self.motif[k]],
                config=strings[self.config[k]],
                kind="",
                atoms=(),
                attachment=(),
                parent=self.parent[k],
                parent_atom=self.parent_pos[k],
                attach_atom=self.attach_pos[k],
                children=tuple(children[k]),
            )
            for k in range(len(self.motif))
        )
        return MotifTree(nodes=nodes, num_atoms=len(self.atom_type), atom_order=())
