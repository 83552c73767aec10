"""The motif vocabulary as the arrays the hierarchical VAE reads: its classes and its motifs' atoms.

:class:`MotifTables` turns a :class:`~moldojo.chem.vocab.MotifVocabulary` into the model's
classes (motif types, and attachment configurations grouped by motif) and into the arrays that
build motifs: each configuration's atoms (their *atom type*, the ``(element, charge, isotope,
radicals)`` code), Kekule bonds, valences and attachment atoms; and, for a model without
attachment configurations (``HierConfig.attachment_configs = False``), the same arrays of the bare
motifs (:class:`MotifGraphs`). NumPy, RDKit and :mod:`moldojo.chem` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from rdkit import Chem

from moldojo.chem.motifs import motif_template
from moldojo.chem.vocab import MotifVocabulary
from moldojo.data.features import ranges

__all__ = ["MotifGraphs", "MotifTables"]

_NO_DEGREE = 99  # "no attachment atom of this type" in MotifTables.min_degree

_PARSER = Chem.SmilesParserParams()
_PARSER.removeHs = False  # as moldojo.chem.motifs parses motifs: written hydrogens stay atoms


@dataclass(frozen=True)
class MotifGraphs:
    """The bare motifs (no attachment marks) as arrays, atoms in the motif SMILES' order: what a
    model without attachment configurations places and reads. ``Am`` motif atoms in all, ``Bm``
    bonds, ``M`` motifs, ``T`` atom types, ``A`` configuration atoms.

    Attributes:
        atom_ptr: ``[M + 1]`` into the motif atoms; bond_ptr: ``[M + 1]`` into the bonds.
        atom_type, atom_valence, atom_degree: ``[Am]`` as :class:`MotifTables`' arrays.
        atom_representative: ``[Am]`` bank index of the first atom of each atom's symmetry class
            in its motif (RDKit's canonical ranks without tie-breaking, no marks).
        bonds: ``[Bm, 3]`` ``(a, b, order)``, positions local to the motif.
        min_degree: ``[M, T]`` the smallest in-motif bond order of an atom of each type (any
            atom, not only attachment atoms); 99 where the motif has none.
        config_position: ``[A]`` the motif position of each configuration atom (configuration
            bank order): the same molecule, numbered as the motif SMILES writes it.
    """

    atom_ptr: np.ndarray
    bond_ptr: np.ndarray
    atom_type: np.ndarray
    atom_valence: np.ndarray
    atom_degree: np.ndarray
    atom_representative: np.ndarray
    bonds: np.ndarray
    min_degree: np.ndarray
    config_position: np.ndarray


class MotifTables:
    """The model's classes and the arrays that build motifs, derived from motif strings.

    Configurations are numbered globally, grouped by motif: those of motif ``m`` are
    ``motif_ptr[m] : motif_ptr[m + 1]``. Only ``motifs``, ``configs`` and ``max_motifs`` are
    stored (:meth:`to_data`); every array is recomputed from the strings.

    Attributes:
        motifs: ``M`` motif SMILES.
        configs: per motif, its configuration SMILES (attachment atoms ``:1``).
        max_motifs: the largest tree seen in training (the decoder stops at twice as many).
    """

    def __init__(
        self,
        motifs: Sequence[str],
        configs: Sequence[Sequence[str]],
        max_motifs: int = 1,
    ) -> None:
        self.motifs = tuple(motifs)
        self.configs = tuple(tuple(g) for g in configs)
        self.max_motifs = int(max_motifs)
        if len(self.motifs) != len(self.configs) or not self.motifs:
            raise ValueError("MotifTables needs one non-empty configuration list per motif")
        flat = [c for group in self.configs for c in group]
        sizes = np.asarray([len(g) for g in self.configs])
        if (sizes == 0).any():
            raise ValueError("every motif needs at least one configuration")
        templates = [motif_template(c) for c in flat]
        codes = sorted({code for t in templates for code in t.code})
        type_of = {code: i for i, code in enumerate(codes)}
        atom_sizes = np.asarray([len(t.code) for t in templates])
        bond_sizes = np.asarray([len(t.bonds) for t in templates])
        atom_type = np.asarray([type_of[c] for t in templates for c in t.code], np.int64)
        valence = np.asarray([v for t in templates for v in t.valence], np.int64)
        attach = np.zeros(len(atom_type), bool)
        atom_ptr = np.concatenate([[0], np.cumsum(atom_sizes)])
        degree = np.zeros(len(atom_type), np.int64)
        bonds = np.zeros((int(bond_sizes.sum()), 3), np.int64)
        row = 0
        for k, t in enumerate(templates):
            attach[atom_ptr[k] + np.asarray(t.attachment, np.int64)] = True
            for a, b, order in t.bonds:
                bonds[row] = (a, b, order)
                degree[atom_ptr[k] + a] += order
                degree[atom_ptr[k] + b] += order
                row += 1
        # min_degree[c, t]: the smallest in-motif bond order of an attachment atom of type t in
        # configuration c; a parent atom of type t with r hydrogens left can take c iff <= r.
        min_degree = np.full((len(flat), len(codes)), _NO_DEGREE, np.int64)
        config_of_atom = np.repeat(np.arange(len(flat)), atom_sizes)
        # representative[a]: the first atom of a's configuration in a's symmetry class.
        representative = np.arange(len(atom_type))
        for k, t in enumerate(templates):
            first: dict[int, int] = {}
            for p, rank in enumerate(t.symmetry):
                representative[atom_ptr[k] + p] = atom_ptr[k] + first.setdefault(rank, p)
        np.minimum.at(min_degree, (config_of_atom[attach], atom_type[attach]), degree[attach])
        arrays = {
            "config_index": {c: i for i, c in enumerate(flat)},
            "motif_index": {m: i for i, m in enumerate(self.motifs)},
            "atom_codes": tuple(codes),
            "motif_ptr": np.concatenate([[0], np.cumsum(sizes)]),
            "config_motif": np.repeat(np.arange(len(self.motifs)), sizes),
            "atom_ptr": atom_ptr,
            "bond_ptr": np.concatenate([[0], np.cumsum(bond_sizes)]),
            "atom_type": atom_type,
            "atom_valence": valence,
            "atom_degree": degree,
            "atom_attach": attach,
            "atom_representative": representative,
            "bonds": bonds,
            "min_degree": min_degree,
            "flat_configs": tuple(flat),
        }
        for name, value in arrays.items():
            setattr(self, name, value)

    # The attributes set above, for type checkers and readers.
    config_index: dict[str, int]
    motif_index: dict[str, int]
    atom_codes: tuple[tuple[int, int, int, int], ...]
    motif_ptr: np.ndarray  # [M + 1]
    config_motif: np.ndarray  # [C]
    atom_ptr: np.ndarray  # [C + 1] into the configuration atoms
    bond_ptr: np.ndarray  # [C + 1] into the configuration bonds
    atom_type: np.ndarray  # [A] atom type of each configuration atom
    atom_valence: np.ndarray  # [A] hydrogens + bond orders in the motif alone
    atom_degree: np.ndarray  # [A] bond orders in the motif
    atom_attach: np.ndarray  # [A] bool
    atom_representative: np.ndarray  # [A] bank index of the first symmetric atom
    bonds: np.ndarray  # [Bc, 3] (a, b, order), positions local to the configuration
    min_degree: np.ndarray  # [C, T]
    flat_configs: tuple[str, ...]

    @classmethod
    def from_vocabulary(cls, vocab: MotifVocabulary, max_motifs: int = 1) -> MotifTables:
        return cls(
            tuple(m.smiles for m in vocab.motifs),
            tuple(tuple(c.config for c in m.configs) for m in vocab.motifs),
            max_motifs,
        )

    def __contains__(self, item: object) -> bool:
        """``(motif, config) in tables``: what :func:`~moldojo.chem.motifs.decompose` asks."""
        if not isinstance(item, tuple) or len(item) != 2:
            return False
        c = self.config_index.get(item[1])
        return c is not None and self.config_motif[c] == self.motif_index.get(item[0], -1)

    @property
    def num_motifs(self) -> int:
        return len(self.motifs)

    @property
    def num_configs(self) -> int:
        return len(self.flat_configs)

    @property
    def num_atom_types(self) -> int:
        return len(self.atom_codes)

    def to_data(self) -> dict[str, Any]:
        return {
            "motifs": list(self.motifs),
            "configs": [list(g) for g in self.configs],
            "max_motifs": self.max_motifs,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> MotifTables:
        return cls(
            tuple(data["motifs"]),
            tuple(tuple(g) for g in data["configs"]),
            int(data["max_motifs"]),
        )

    def child_candidates(self, config: int) -> np.ndarray:
        """Bank indices of the attachment atoms of ``config`` a child can attach by: one per
        symmetry class (attaching by symmetric atoms gives the same molecule)."""
        bank = np.arange(self.atom_ptr[config], self.atom_ptr[config + 1])
        return bank[self.atom_attach[bank] & (self.atom_representative[bank] == bank)]

    @cached_property
    def motif_graphs(self) -> MotifGraphs:
        """The bare motifs as arrays (:class:`MotifGraphs`), built on first use."""
        templates = [motif_template(m) for m in self.motifs]
        type_of = {code: i for i, code in enumerate(self.atom_codes)}
        atom_sizes = np.asarray([len(t.code) for t in templates])
        atom_ptr = np.concatenate([[0], np.cumsum(atom_sizes)])
        atom_type = np.asarray([type_of[c] for t in templates for c in t.code], np.int64)
        valence = np.asarray([v for t in templates for v in t.valence], np.int64)
        bonds = np.asarray([b for t in templates for b in t.bonds], np.int64).reshape(-1, 3)
        bond_ptr = np.concatenate([[0], np.cumsum([len(t.bonds) for t in templates])])
        motif_of_bond = np.repeat(np.arange(len(templates)), np.diff(bond_ptr))
        degree = np.zeros(len(atom_type), np.int64)
        for end in (0, 1):
            np.add.at(degree, atom_ptr[motif_of_bond] + bonds[:, end], bonds[:, 2])
        representative = np.arange(len(atom_type))
        for k, t in enumerate(templates):
            first: dict[int, int] = {}
            for p, rank in enumerate(t.symmetry):
                representative[atom_ptr[k] + p] = atom_ptr[k] + first.setdefault(rank, p)
        min_degree = np.full((len(templates), len(type_of)), _NO_DEGREE, np.int64)
        np.minimum.at(min_degree, (np.repeat(np.arange(len(templates)), atom_sizes), atom_type),
                      degree)  # fmt: skip
        # A configuration is its motif with marks: writing it without them gives the motif
        # SMILES (moldojo.chem.motifs.motif_smiles), whose output order maps the positions.
        position = np.zeros(len(self.atom_type), np.int64)
        for c, config in enumerate(self.flat_configs):
            mol = Chem.MolFromSmiles(config, _PARSER)
            for atom in mol.GetAtoms():
                atom.SetAtomMapNum(0)
            smiles = Chem.MolToSmiles(mol)
            if smiles != self.motifs[self.config_motif[c]]:
                raise ValueError(f"configuration {config!r} is not of motif "
                                 f"{self.motifs[self.config_motif[c]]!r}")  # fmt: skip
            order = mol.GetProp("_smilesAtomOutputOrder").strip("[],").split(",")
            position[self.atom_ptr[c] + np.asarray(order, np.int64)] = np.arange(len(order))
        return MotifGraphs(atom_ptr=atom_ptr, bond_ptr=bond_ptr, atom_type=atom_type,
                           atom_valence=valence, atom_degree=degree,
                           atom_representative=representative, bonds=bonds,
                           min_degree=min_degree, config_position=position)  # fmt: skip

    def motif_graph(self, motifs: np.ndarray) -> dict[str, np.ndarray]:
        """The atom graphs of bare motifs, as one disjoint union: the arrays of
        :meth:`config_graph`, ``atom`` indexing the motif atoms (:class:`MotifGraphs`) and
        ``attach`` all False (no configuration, no marks)."""
        g = self.motif_graphs
        sizes = g.atom_ptr[motifs + 1] - g.atom_ptr[motifs]
        atom = ranges(g.atom_ptr[motifs], sizes)
        bond_sizes = g.bond_ptr[motifs + 1] - g.bond_ptr[motifs]
        bond = g.bonds[ranges(g.bond_ptr[motifs], bond_sizes)]
        offset = np.repeat(np.cumsum(sizes) - sizes, bond_sizes)
        return {
            "atom": atom,
            "type": g.atom_type[atom],
            "hs": g.atom_valence[atom] - g.atom_degree[atom],
            "attach": np.zeros(len(atom), bool),
            "src": bond[:, 0] + offset,
            "dst": bond[:, 1] + offset,
            "order": bond[:, 2],
        }

    def config_graph(self, configs: np.ndarray) -> dict[str, np.ndarray]:
        """The atom graphs of configurations, as one disjoint union.

        Returns arrays: ``atom`` (bank index of each atom row), ``type``, ``hs`` (hydrogens in
        the motif alone), ``attach``, and ``src``, ``dst``, ``order`` (each bond once, rows
        numbered in the union).
        """
        sizes = self.atom_ptr[configs + 1] - self.atom_ptr[configs]
        atom = ranges(self.atom_ptr[configs], sizes)
        bond_sizes = self.bond_ptr[configs + 1] - self.bond_ptr[configs]
        bond = self.bonds[ranges(self.bond_ptr[configs], bond_sizes)]
        offset = np.repeat(np.cumsum(sizes) - sizes, bond_sizes)
        return {
            "atom": atom,
            "type": self.atom_type[atom],
            "hs": self.atom_valence[atom] - self.atom_degree[atom],
            "attach": self.atom_attach[atom],
            "src": bond[:, 0] + offset,
            "dst": bond[:, 1] + offset,
            "order": bond[:, 2],
        }
