"""Numeric features of molecular graphs, for neural networks: vectorised, no per-atom loops.

Turns a :class:`~moldojo.data.PackedGraphs` selection into the arrays of a batch (node features,
both directions of every bond, bond features, graph offsets), which
:meth:`moldojo.nn.GraphBatch.from_arrays` makes tensors of. NumPy only: no RDKit, no torch.

Node features (one-hot unless said): element (one slot per element of the
:class:`~moldojo.chem.GraphConfig`), formal charge -2..+2 (clipped), hydrogen count 0..4
(clipped), aromatic (0/1), stereo centre (0/1: whether the atom has a chirality code; the
code's sign is relative to atom numbering, so it is not given), radical (0/1).
Edge features: bond type single/double/triple/aromatic (one-hot), stereo double bond (0/1).
"""

from __future__ import annotations

import numpy as np

from moldojo.chem import GraphConfig
from moldojo.chem.config import atomic_number
from moldojo.data.packed import PackedGraphs

__all__ = ["EDGE_DIM", "FeatureSpec", "featurize_batch", "ranges"]

_CHARGES = np.arange(-2, 3)
_MAX_HS = 4
EDGE_DIM = 5


class FeatureSpec:
    """The feature layout for one element list: :attr:`node_dim` and :attr:`edge_dim`."""

    def __init__(self, config: GraphConfig | None = None) -> None:
        config = config or GraphConfig()
        self.elements = config.elements
        # atomic number -> one-hot slot; unknown elements (impossible after filtering) -> -1.
        self._slot = np.full(256, -1, dtype=np.int64)
        for k, symbol in enumerate(config.elements):
            self._slot[atomic_number(symbol)] = k
        self.node_dim = len(config.elements) + len(_CHARGES) + (_MAX_HS + 1) + 3
        self.edge_dim = EDGE_DIM

    def node_features(self, atoms: dict[str, np.ndarray]) -> np.ndarray:
        """``[A, node_dim]`` float32 from the atom arrays of a :class:`PackedGraphs`."""
        n = atoms["atomic_num"].shape[0]
        n_el = len(self.elements)
        x = np.zeros((n, self.node_dim), dtype=np.float32)
        rows = np.arange(n)
        x[rows, self._slot[atoms["atomic_num"].astype(np.int64)]] = 1.0
        charge = np.clip(atoms["formal_charge"].astype(np.int64), -2, 2) + 2
        x[rows, n_el + charge] = 1.0
        hs = np.clip(atoms["num_hs"].astype(np.int64), 0, _MAX_HS)
        x[rows, n_el + len(_CHARGES) + hs] = 1.0
        tail = n_el + len(_CHARGES) + _MAX_HS + 1
        x[:, tail] = atoms["aromatic"]
        x[:, tail + 1] = atoms["chirality"] > 0
        x[:, tail + 2] = atoms["radical_electrons"] > 0
        return x


def featurize_batch(
    graphs: PackedGraphs,
    indices: np.ndarray,
    spec: FeatureSpec,
) -> dict[str, np.ndarray]:
    """The arrays of a batch of graphs ``indices`` (in that order).

    Returns:
        ``x [N, node_dim]`` float32, ``edge_index [2, E]`` int64 (each bond in both
        directions, global node numbers), ``edge_attr [E, edge_dim]`` float32, ``ptr [B + 1]``.
    """
    indices = np.asarray(indices, dtype=np.int64)
    starts, stops = graphs.atom_ptr[indices], graphs.atom_ptr[indices + 1]
    sizes = stops - starts
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    atom_rows = ranges(starts, sizes)
    x = spec.node_features({k: v[atom_rows] for k, v in graphs.atoms.items()})

    bond_starts, bond_stops = graphs.bond_ptr[indices], graphs.bond_ptr[indices + 1]
    bond_sizes = bond_stops - bond_starts
    bond_rows = ranges(bond_starts, bond_sizes)
    offsets = np.repeat(ptr[:-1], bond_sizes)  # local -> batch node numbers
    ends = graphs.edge_index[:, bond_rows].astype(np.int64) + offsets
    edge_index = np.concatenate([ends, ends[::-1]], axis=1)
    bond_type = graphs.bonds["bond_type"][bond_rows].astype(np.int64)
    attr = np.zeros((bond_rows.shape[0], EDGE_DIM), dtype=np.float32)
    attr[np.arange(bond_rows.shape[0]), bond_type - 1] = 1.0
    attr[:, 4] = graphs.bonds["bond_stereo"][bond_rows] > 0
    return {
        "x": x,
        "edge_index": edge_index,
        "edge_attr": np.concatenate([attr, attr]),
        "ptr": ptr,
    }


def ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(start, start + size)`` for each pair, without a loop."""
    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    group_starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    return np.repeat(starts, sizes) + np.arange(total) - group_starts
