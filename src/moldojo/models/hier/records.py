"""Motif trees as arrays: what the hierarchical VAE reads and predicts.

The motif vocabulary as arrays is :class:`~moldojo.models.hier.tables.MotifTables`.

:func:`tree_record` writes one molecule's tree as everything a training step needs, computed
once per molecule so that batching is array slicing, by replaying the molecule's own choices
through the decoder's state machine (:class:`~moldojo.models.hier.decoding.DecodeState`):

* the atom graph, atoms numbered as the decoder places them: motif by motif in **depth-first
  preorder**, each motif's new atoms in its configuration order (a child's attachment atom is
  its parent's atom, placed before);
* the motif tree: motif and configuration of each node, tree edges, and *ancestry edges*
  (every node to each of its ancestors, labelled with the distance) or plain tree edges;
* the decoder's teacher-forced steps. Depth-first decoding with a stack has two kinds of
  *events*: "add a child to the top motif" (one per non-root motif, in preorder) and "pop the
  top motif" (one per motif). Before the child event of node ``c`` the tree holds exactly nodes
  ``0 .. c - 1`` and the molecule exactly their atoms, so every partial tree and partial molecule
  is a prefix: they are stored as *copies* (partial tree of size ``s`` for ``s = 1 .. K``,
  partial molecule before child ``c``), each a small graph, so that one batched pass of the
  decoder's networks gives the states of every step of every molecule;
* per child event, the candidate attachment pairs (parent attachment atom, child attachment
  atom) of the same atom type whose merge keeps valences, and which one is right: exactly the
  pairs decoding offers (:meth:`~moldojo.models.hier.decoding.DecodeState.parent_candidates`),
  as ``tests/models/hier/test_decoding.py`` checks.

For a model without attachment configurations (``configs=False``) the replay places bare motifs
(``DecodeState(tables, configs=False)``): the molecule's atoms are numbered the same way but each
motif's in the motif SMILES' order, no atom is marked as an attachment atom (``atom_attach`` is
all False), the candidate pairs are every (parent atom with hydrogens left, child motif atom) of
the same type whose merge keeps valences, and ``pair_child`` indexes the bare motifs' atoms
(:class:`~moldojo.models.hier.tables.MotifGraphs`). ``config_id`` still holds the tree's
configurations; such a model never reads them.

:class:`RecordPack` packs records and collates any subset into one batch of arrays, offsetting
indices without a loop over molecules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from moldojo.chem.motifs import MotifTree
from moldojo.data.features import ranges
from moldojo.models.hier.decoding import DecodeState, config_parts, motif_parts
from moldojo.models.hier.tables import MotifTables

__all__ = [
    "ATOM_FEATURES_EXTRA",
    "FIELDS",
    "MAX_HS",
    "RecordPack",
    "ancestry_edges",
    "atom_features",
    "tree_record",
]

#: Hydrogen counts above this share the last one-hot slot of the atom features.
MAX_HS = 4
#: Atom features besides the atom type one-hot: hydrogens (one-hot ``0 .. MAX_HS``), attachment.
ATOM_FEATURES_EXTRA = MAX_HS + 2


def atom_features(
    atom_type: np.ndarray, hs: np.ndarray, attach: np.ndarray, num_types: int
) -> np.ndarray:
    """``[N, num_types + ATOM_FEATURES_EXTRA]`` float32: type one-hot, hydrogens, attachment."""
    n = len(atom_type)
    x = np.zeros((n, num_types + ATOM_FEATURES_EXTRA), np.float32)
    rows = np.arange(n)
    x[rows, atom_type] = 1.0
    x[rows, num_types + np.clip(hs, 0, MAX_HS)] = 1.0
    x[rows, num_types + MAX_HS + 1] = attach
    return x


def ancestry_edges(
    parent: Sequence[int], kind: Literal["ancestry", "tree"] = "ancestry"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ancestor, descendant, distance)`` of a tree given by parent pointers (parents first).

    ``kind="tree"`` keeps distance 1 only: the plain tree edges.
    """
    anc, desc, dist = [], [], []
    chains: list[list[int]] = []  # per node: its ancestors, nearest first
    for k, p in enumerate(parent):
        chain = [] if p < 0 else [p, *chains[p]]
        chains.append(chain)
        if kind == "tree":
            chain = chain[:1]
        for d, a in enumerate(chain, start=1):
            anc.append(a)
            desc.append(k)
            dist.append(d)
    as_array = lambda v: np.asarray(v, np.int64)  # noqa: E731
    return as_array(anc), as_array(desc), as_array(dist)


# Every field of a record, and the index space its values point into (None: plain values).
# A space is named after the field whose length is its size per molecule.
FIELDS: dict[str, str | None] = {
    # the molecule: atoms in decoding order, each bond once
    "atom_type": None, "atom_hs": None, "atom_attach": None,
    "bond_src": "atom_type", "bond_dst": "atom_type", "bond_order": None,
    # the tree, nodes in depth-first preorder; membership pairs (node, atom) for pooling
    "motif_id": None, "config_id": None, "parent": None,
    "edge_src": "motif_id", "edge_dst": "motif_id", "edge_dist": None,
    "member_node": "motif_id", "member_atom": "atom_type",
    # partial trees: rows (copy of size s, node i < s) and their edges
    "pt_node": "motif_id", "pt_src": "pt_node", "pt_dst": "pt_node", "pt_dist": None,
    # events: the row of the top motif in its partial tree, and whether the event is a pop
    "ev_top": "pt_node", "ev_pop": None,
    # child events (one per non-root node, in preorder): top row and the child
    "ce_top": "pt_node", "ce_child": "motif_id",
    # partial molecules (copy before each child event): rows, hydrogens left, bonds
    "pm_atom": "atom_type", "pm_hs": None, "pm_src": "pm_atom", "pm_dst": "pm_atom",
    "pm_order": None,
    # candidate attachment pairs: child event, parent atom (partial-molecule row), child atom
    # (configuration atom bank index; motif atom bank index without configurations), and
    # which pair is right
    "pair_event": "ce_top", "pair_parent": "pm_atom", "pair_child": None, "pair_label": None,
}  # fmt: skip


def tree_record(
    tree: MotifTree,
    tables: MotifTables,
    edges: Literal["ancestry", "tree"] = "ancestry",
    radius: int | None = None,
    configs: bool = True,
) -> dict[str, np.ndarray] | None:
    """Every array of :data:`FIELDS` for one molecule (module docstring); None when the tree
    has a motif or configuration outside ``tables``, or a merge that breaks valences.

    The molecule's own choices (depth-first preorder, children in tree order) are replayed
    through the :class:`~moldojo.models.hier.decoding.DecodeState` the generator decodes with:
    the same events in the same order, so that every array is what inference would see.

    ``radius``: partial molecules are cut to the atoms within this many bonds of the parent's
    attachment atoms (the receptive field of a network of that many layers, so that their
    states are unchanged); None keeps them whole. ``configs=False``: the replay of a model
    without attachment configurations (module docstring).
    """
    ids = []
    for node in tree.nodes:
        c = tables.config_index.get(node.config)
        if c is None or tables.config_motif[c] != tables.motif_index.get(node.smiles, -1):
            return None
        ids.append(c)

    # Depth-first preorder, children in tree order.
    order: list[int] = []
    stack = [0]
    while stack:
        k = stack.pop()
        order.append(k)
        stack.extend(reversed(tree.nodes[k].children))
    new = {old: i for i, old in enumerate(order)}
    nodes = [tree.nodes[k] for k in order]
    K = len(nodes)
    config = [ids[k] for k in order]
    parent = [new[n.parent] if n.parent >= 0 else -1 for n in nodes]

    # Replay: before child c, pop every motif whose subtree is done (the top is then c's
    # parent); at each child event, the partial molecule's ball and the candidate pairs.
    # Without configurations a node is its bare motif: positions move to the motif's order.
    motif = tables.config_motif[np.asarray(config, np.int64)].tolist()
    key, parts = (config, config_parts(tables)) if configs else (motif, motif_parts(tables))
    to_motif = None if configs else tables.motif_graphs.config_position

    def position(node: int, p: int) -> int:
        """Position ``p`` of ``node``'s configuration as the state numbers it."""
        return p if to_motif is None else int(to_motif[tables.atom_ptr[config[node]] + p])

    state = DecodeState(tables, configs)
    state.add_root(key[0])
    ev_size: list[int] = []  # nodes placed at each event
    ev_top: list[int] = []
    ev_pop: list[bool] = []
    pm_atom: list[int] = []
    pm_hs: list[int] = []
    pm_src: list[int] = []
    pm_dst: list[int] = []
    pm_order: list[int] = []
    pair_event: list[int] = []
    pair_parent: list[int] = []
    pair_child: list[int] = []
    pair_label: list[bool] = []
    for c in range(1, K):
        while state.stack[-1] != parent[c]:
            ev_size.append(c)
            ev_top.append(state.pop())
            ev_pop.append(True)
        ev_size.append(c)
        ev_top.append(parent[c])
        ev_pop.append(False)
        node, cc = nodes[c], key[c]
        parent_pos = position(parent[c], node.parent_atom)
        attach_pos = position(c, node.attach_atom)
        # The parent atoms inference would offer here (the open attachment atoms while any is
        # left): the targets train exactly the choices decoding makes.
        positions = state.parent_candidates()
        ball = state.ball(positions, radius)
        rows = len(pm_atom)
        hs = state.atom_hs
        pm_atom.extend(ball.atoms)
        pm_hs.extend([hs[a] for a in ball.atoms])
        for a, b, o in ball.bonds:
            pm_src.append(rows + a)
            pm_dst.append(rows + b)
            pm_order.append(o)
        options = state.pair_options(cc, positions)
        labels = state.pair_labels(cc, options, parent_pos, attach_pos)
        if sum(labels) != 1:
            return None
        atoms, local, start = state.node_atoms[parent[c]], ball.local, parts[cc].start
        e = c - 1
        for p, q in options:
            pair_event.append(e)
            pair_parent.append(rows + local[atoms[p]])
            pair_child.append(start + q)
        pair_label.extend(labels)
        state.add_child(cc, parent_pos, attach_pos)
    while state.stack:
        ev_size.append(K)
        ev_top.append(state.pop())
        ev_pop.append(True)

    hs_final = np.asarray(state.atom_hs, np.int64)
    if hs_final.min(initial=0) < 0:
        return None
    bond = np.asarray(state.bonds, np.int64).reshape(-1, 3)
    config_arr = np.asarray(config, np.int64)
    anc, desc, dist = ancestry_edges(parent, edges)

    # Partial trees of size s = 1..K: rows s(s-1)/2 + i for nodes i < s.
    sizes = np.arange(1, K + 1)
    pt_start = sizes * (sizes - 1) // 2
    pt_node = ranges(np.zeros(K, np.int64), sizes)
    copy_of_edge = [s for s in range(1, K + 1) for _ in range(int((desc < s).sum()))]
    edge_rows = np.concatenate([np.flatnonzero(desc < s) for s in range(1, K + 1)]).astype(np.int64)
    copy_start = pt_start[np.asarray(copy_of_edge, np.int64) - 1]
    children = np.arange(1, K)

    def as_int(values: list[int]) -> np.ndarray:
        return np.asarray(values, np.int64)

    return {
        "atom_type": as_int(state.atom_type),
        "atom_hs": hs_final,
        "atom_attach": np.asarray(state.atom_attach, bool),
        "bond_src": bond[:, 0].copy(),
        "bond_dst": bond[:, 1].copy(),
        "bond_order": bond[:, 2].copy(),
        "motif_id": tables.config_motif[config_arr],
        "config_id": config_arr,
        "parent": as_int(parent),
        "edge_src": anc,
        "edge_dst": desc,
        "edge_dist": dist,
        "member_node": np.repeat(np.arange(K), [len(a) for a in state.node_atoms]),
        "member_atom": as_int([a for atoms in state.node_atoms for a in atoms]),
        "pt_node": pt_node,
        "pt_src": copy_start + anc[edge_rows],
        "pt_dst": copy_start + desc[edge_rows],
        "pt_dist": dist[edge_rows],
        "ev_top": pt_start[as_int(ev_size) - 1] + as_int(ev_top),
        "ev_pop": np.asarray(ev_pop, bool),
        "ce_top": pt_start[children - 1] + as_int(parent[1:]),
        "ce_child": children,
        "pm_atom": as_int(pm_atom),
        "pm_hs": as_int(pm_hs),
        "pm_src": as_int(pm_src),
        "pm_dst": as_int(pm_dst),
        "pm_order": as_int(pm_order),
        "pair_event": as_int(pair_event),
        "pair_parent": as_int(pair_parent),
        "pair_child": as_int(pair_child),
        "pair_label": np.asarray(pair_label, bool),
    }


class RecordPack:
    """Records of many molecules, packed field by field; :meth:`collate` batches any subset."""

    def __init__(self, records: Sequence[dict[str, np.ndarray]]) -> None:
        self.size = len(records)
        self.values: dict[str, np.ndarray] = {}
        self.ptr: dict[str, np.ndarray] = {}
        for name in FIELDS:
            parts = [r[name] for r in records]
            lengths = np.asarray([len(p) for p in parts], np.int64)
            self.ptr[name] = np.concatenate([[0], np.cumsum(lengths)])
            self.values[name] = np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def __len__(self) -> int:
        return self.size

    def sizes(self, name: str, indices: np.ndarray) -> np.ndarray:
        return self.ptr[name][indices + 1] - self.ptr[name][indices]

    def collate(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        """The fields of molecules ``indices`` concatenated, indices shifted to batch rows, plus
        ``<space>_mol``: the molecule (batch position) of each row of every index space."""
        indices = np.asarray(indices, np.int64)
        out: dict[str, np.ndarray] = {}
        offsets: dict[str, np.ndarray] = {}
        for space in {s for s in FIELDS.values() if s is not None}:
            sizes = self.sizes(space, indices)
            offsets[space] = np.cumsum(sizes) - sizes
            out[f"{space}_mol"] = np.repeat(np.arange(len(indices)), sizes)
        for name, space in FIELDS.items():
            sizes = self.sizes(name, indices)
            values = self.values[name][ranges(self.ptr[name][indices], sizes)]
            if space is not None:
                values = values + np.repeat(offsets[space], sizes)
            out[name] = values
        return out
