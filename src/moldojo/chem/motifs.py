"""Motif trees: a molecule cut at its bridge bonds into motifs, and put back together exactly.

A *bridge bond* is one whose removal disconnects the molecule; in a connected molecule those are
exactly the bonds in no ring. The hierarchical model generates molecules motif by motif, so this
decomposition must be exact (:func:`assemble` inverts :func:`decompose`), total (every molecule
has one) and canonical (a motif's string does not depend on atom order).

Decisions:

* **Motifs.** Every bond belongs to exactly one motif. A *ring system* (kind ``"ring"``) is a
  connected component of the ring bonds: fused, bridged and spiro rings stay together, with the
  ring atoms only. An *acyclic piece* (kind ``"chain"``) is a connected component of the bridge
  bonds, with their atoms, ring atoms included: a side chain together with the ring atom it
  hangs on, a linker together with the ring atoms at both ends, a bare bond between two rings.
  A molecule without bonds is one motif of kind ``"atom"``. The rule needs no parameter and
  gives 5.4 motifs for MOSES's 21.7 heavy atoms per molecule.
* **Shared atoms.** Motifs meet only at ring atoms carrying a bridge bond: such an atom belongs
  to its ring system and to the acyclic piece of its bridge bonds, and to nothing else. Two motifs
  share at most one atom (a second shared atom would close a ring through bridge bonds), so the
  graph of motifs joined by shared atoms is a tree. A motif's *attachment atoms* are its shared
  atoms; attaching a child to its parent merges one atom of each, of the same element.
* **Motif strings.** A motif is written as a stand-alone molecule: its atoms and bonds, each
  broken bond replaced by hydrogens of the same total order (so a phenyl ring is ``c1ccccc1`` and
  the ring carbon inside a methyl piece is a ``CH3``), charges, isotopes and radicals kept,
  stereo dropped. The Kekule structure is the molecule's own (as in moldojo's default kekulised
  graphs), aromaticity is then perceived on the motif alone, and the string is RDKit's canonical
  SMILES, so it is the same for every atom order. The *attachment configuration* is the same
  molecule with its attachment atoms marked by atom-map number 1, canonicalised with the marks
  among the atom invariants; its atom order is the motif's atom order in the tree.
* **Tree.** The root is the motif holding atom 0 (its ring system if atom 0 is shared); the
  nodes are in breadth-first order, each motif's children in the order of their attachment atom
  in the parent's configuration. The tree follows the input's atom order: decompose a molecule
  parsed from a canonical SMILES for a canonical tree.
* **Stereo.** Motif strings carry no stereo (a centre's parity depends on neighbours in other
  motifs). The tree stores the molecule's tetrahedral and double-bond stereo as codes relative
  to the assembled atom numbering (the codes of :class:`~moldojo.chem.MolGraph`), and
  :func:`assemble` puts them back; ``assemble(tree, stereo=False)`` uses motif strings and
  attachment choices only, what a generative model knows, and is exact up to stereo.
* **Vocabulary fallback.** Given a vocabulary (:class:`~moldojo.chem.vocab.MotifVocabulary`),
  an acyclic piece whose motif or configuration is missing is split into its single bonds (which
  then meet at shared chain atoms too); a motif still missing after that (a ring system never
  seen, a bond between unusual atoms) stays whole and is marked unknown. Either way the tree is
  complete and assembles exactly; the counts are in :attr:`MotifTree.fallback` and
  :attr:`MotifTree.unknown`.

Imports RDKit only; no torch, nothing from the rest of moldojo but :mod:`moldojo.errors` and
:mod:`moldojo.chem`'s graph and SMILES helpers.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from rdkit import Chem

from moldojo.chem.graph import MolGraph, graph_to_mol, mol_to_graph
from moldojo.chem.smiles import quiet_rdkit
from moldojo.errors import InvalidMoleculeError

__all__ = [
    "MOTIF_KINDS",
    "MotifNode",
    "MotifTemplate",
    "MotifTree",
    "assemble",
    "decompose",
    "motif_configurations",
    "motif_smiles",
    "motif_template",
    "split_configuration",
    "tree_graph",
]

#: Kinds of motif: a ring system, an acyclic piece, the one atom of a molecule without bonds.
MOTIF_KINDS: tuple[str, ...] = ("ring", "chain", "atom")

_BOND_CODE = {
    Chem.BondType.SINGLE: 1,
    Chem.BondType.DOUBLE: 2,
    Chem.BondType.TRIPLE: 3,
    Chem.BondType.AROMATIC: 4,
}
_KEKULE_BOND = {1: Chem.BondType.SINGLE, 2: Chem.BondType.DOUBLE, 3: Chem.BondType.TRIPLE}
_CW, _CCW = Chem.ChiralType.CHI_TETRAHEDRAL_CW, Chem.ChiralType.CHI_TETRAHEDRAL_CCW
_PARSER = Chem.SmilesParserParams()
_PARSER.removeHs = False  # a hydrogen written as an atom in a motif ([2H], [H]/N=C) stays one
_CACHE_LIMIT = 1_000_000  # canonical forms remembered per process before starting afresh


@dataclass(frozen=True)
class MotifNode:
    """One motif of a :class:`MotifTree`.

    Attributes:
        smiles: the motif: canonical SMILES of the motif as a stand-alone molecule, no stereo.
        config: its attachment configuration: the same with attachment atoms mapped ``:1``.
        kind: one of :data:`MOTIF_KINDS`.
        atoms: ``[A]`` the molecule's atom index of each motif atom, in ``config`` atom order.
        attachment: positions (into ``atoms``) of the attachment atoms, ascending.
        parent: index of the parent node, -1 for the root.
        parent_atom: position in the parent's ``atoms`` of the atom merged with this motif,
            -1 for the root.
        attach_atom: position in this motif's ``atoms`` of that same atom, -1 for the root.
        children: indices of the child nodes, in tree order.
        known: False when a vocabulary was given and lacks this motif or configuration.
    """

    smiles: str
    config: str
    kind: str
    atoms: tuple[int, ...]
    attachment: tuple[int, ...]
    parent: int
    parent_atom: int
    attach_atom: int
    children: tuple[int, ...]
    known: bool = True


@dataclass(frozen=True)
class MotifTree:
    """A molecule as a tree of motifs (module docstring).

    Attributes:
        nodes: the motifs, root first, in breadth-first order; every node's parent comes before
            it.
        num_atoms: ``N``, atoms of the molecule.
        atom_order: ``[N]`` the molecule's atom index of each atom of the assembled molecule
            (:func:`assemble` numbers atoms node by node, each node's new atoms in its order).
        chirality: ``(atom, code)`` pairs, in assembled numbering, code 1 clockwise and 2
            anticlockwise as in :class:`~moldojo.chem.MolGraph`.
        bond_stereo: ``(begin, end, code)``, ``begin < end`` in assembled numbering, code 1 cis
            and 2 trans as in :class:`~moldojo.chem.MolGraph`.
        fallback: acyclic pieces split into bonds because the vocabulary lacked them.
    """

    nodes: tuple[MotifNode, ...]
    num_atoms: int
    atom_order: tuple[int, ...]
    chirality: tuple[tuple[int, int], ...] = ()
    bond_stereo: tuple[tuple[int, int, int], ...] = ()
    fallback: int = 0

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def unknown(self) -> int:
        """Nodes whose motif or configuration the vocabulary lacked even after the fallback."""
        return sum(not node.known for node in self.nodes)

    @property
    def edges(self) -> list[tuple[int, int]]:
        """``(parent, child)`` node pairs, in tree order."""
        return [(node.parent, i) for i, node in enumerate(self.nodes) if node.parent >= 0]


# -- decomposition -------------------------------------------------------------------------------


def decompose(mol: Chem.Mol, vocab: Container | None = None) -> MotifTree:
    """Cut a molecule into its tree of motifs.

    Args:
        mol: a sanitised, connected molecule (as :func:`~moldojo.chem.parse_smiles` returns).
        vocab: optional; anything supporting ``(smiles, config) in vocab``, such as a
            :class:`~moldojo.chem.vocab.MotifVocabulary`. Acyclic pieces it lacks are split
            into bonds, and what it still lacks is marked ``known=False`` (module docstring).

    Raises:
        InvalidMoleculeError: the molecule is empty, has several fragments, or has a bond type
            other than single, double, triple or aromatic.
    """
    info = _MolInfo(mol)
    groups = _motif_groups(info)
    motifs = [_describe(info, kind, bonds, groups.shared) for kind, bonds in groups.motifs]
    fallback = 0
    if vocab is not None:
        split = {
            k
            for k, motif in enumerate(motifs)
            if motif.kind == "chain"
            and len(groups.motifs[k][1]) > 1
            and (motif.smiles, motif.config) not in vocab
        }
        if split:
            fallback = len(split)
            groups = groups.split_chains(split, info)
            motifs = [_describe(info, kind, bonds, groups.shared) for kind, bonds in groups.motifs]
    return _build_tree(info, motifs, vocab, fallback)


def motif_configurations(mol: Chem.Mol) -> list[tuple[str, str]]:
    """``(kind, config)`` of every motif of a molecule, in the order their bonds first appear.

    The fast path for vocabularies: the motif strings of :func:`decompose` without the tree.
    """
    return [(motif.kind, motif.config) for motif in _motifs(mol)]


def _motifs(mol: Chem.Mol) -> list[_Motif]:
    info = _MolInfo(mol)
    groups = _motif_groups(info)
    return [_describe(info, kind, bonds, groups.shared) for kind, bonds in groups.motifs]


@lru_cache(maxsize=1 << 20)
def motif_smiles(config: str) -> str:
    """The motif of an attachment configuration: the same SMILES without the marks.

    Raises:
        InvalidMoleculeError: ``config`` is not a valid SMILES.
    """
    mol = Chem.Mol(_parse_motif(config))
    for atom in mol.GetAtoms():
        atom.SetAtomMapNum(0)
    return Chem.MolToSmiles(mol)


@lru_cache(maxsize=1 << 16)
def split_configuration(config: str) -> tuple[str, ...]:
    """The configurations of the bonds of an acyclic piece, as the vocabulary fallback splits it.

    Each bond becomes a two-atom motif whose attachment atoms are the piece's attachment atoms
    and the atoms it shares with the piece's other bonds. A ring system, an atom or a single
    bond is returned unchanged.

    Raises:
        InvalidMoleculeError: ``config`` is not a valid SMILES.
    """
    mol = _parse_motif(config)
    if mol.GetNumBonds() <= 1 or mol.GetRingInfo().NumRings():
        return (config,)
    info = _MolInfo(mol, marks_are_shared=True)
    groups = _Groups([("chain", [k]) for k in range(mol.GetNumBonds())], info)
    return tuple(
        _describe(info, "chain", bonds, groups.shared).config for _, bonds in groups.motifs
    )


class _MolInfo:
    """What the decomposition reads from a molecule, read once: RDKit calls are the cost."""

    def __init__(self, mol: Chem.Mol, *, marks_are_shared: bool = False) -> None:
        n = mol.GetNumAtoms()
        if n == 0:
            raise InvalidMoleculeError("cannot decompose an empty molecule")
        self.mol = mol
        self.num_atoms = n
        self.code: list[tuple[int, int, int, int]] = []
        self.hs: list[int] = []
        self.marked: list[bool] | None = [] if marks_are_shared else None
        get_atom = mol.GetAtomWithIdx
        for i in range(n):  # indexing is ~2x faster than RDKit's atom sequence
            atom = get_atom(i)
            # Read even when the SMILES has no brackets: sanitising may add charges (a nitro
            # group written N(=O)=O becomes [N+](=O)[O-]).
            self.code.append(
                (atom.GetAtomicNum(), atom.GetFormalCharge(), atom.GetIsotope(),
                 atom.GetNumRadicalElectrons())
            )  # fmt: skip
            self.hs.append(atom.GetTotalNumHs())
            if self.marked is not None:
                self.marked.append(atom.GetAtomMapNum() > 0)
        self.ends: list[tuple[int, int]] = []
        self.type: list[int] = []
        self.in_ring: list[bool] = []
        self.bridge_order = [0] * n  # per atom: total order of its bonds in no ring
        get_bond = mol.GetBondWithIdx
        for k in range(mol.GetNumBonds()):
            bond = get_bond(k)
            a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            code = _BOND_CODE.get(bond.GetBondType(), 0)
            if not code:
                raise InvalidMoleculeError(
                    f"bond {a}-{b} is {bond.GetBondType()}: only single, double, triple and "
                    "aromatic bonds are supported"
                )
            ring = bond.IsInRing()
            self.ends.append((a, b))
            self.type.append(code)
            self.in_ring.append(ring)
            if not ring:
                self.bridge_order[a] += code
                self.bridge_order[b] += code
        self._kekule: list[int] | None = None

    def valence(self, atom: int) -> int:
        """Hydrogens plus Kekule bond orders (RDKit's total valence, aromatic atoms included)."""
        return self.mol.GetAtomWithIdx(atom).GetTotalValence()

    @property
    def kekule(self) -> list[int]:
        """Bond orders (1-3) of the molecule's Kekule structure, computed on first use."""
        if self._kekule is None:
            if 4 not in self.type:
                self._kekule = list(self.type)
            else:
                kek = Chem.RWMol(self.mol)
                with quiet_rdkit():
                    try:
                        Chem.Kekulize(kek, clearAromaticFlags=True)
                    except Chem.KekulizeException as error:
                        raise InvalidMoleculeError(f"cannot kekulise: {error}") from error
                self._kekule = [
                    _BOND_CODE[kek.GetBondWithIdx(k).GetBondType()] for k in range(len(self.type))
                ]
        return self._kekule


class _Groups:
    """Bonds grouped into motifs, and which atoms are shared by two motifs or more."""

    def __init__(self, motifs: list[tuple[str, list[int]]], info: _MolInfo) -> None:
        self.motifs = motifs
        count = [0] * info.num_atoms
        for _, bonds in motifs:
            if not bonds:
                count[0] += 1
                continue
            seen = set()
            for k in bonds:
                seen.update(info.ends[k])
            for a in seen:
                count[a] += 1
        # Motifs and shared atoms form a tree when the molecule is connected: one contact less
        # than motifs. Fewer contacts mean fragments.
        # An atom in no motif is an isolated fragment.
        contacts = sum(c - 1 for c in count if c > 1)
        if info.marked is None and (contacts < len(motifs) - 1 or 0 in count):
            raise InvalidMoleculeError("cannot decompose several fragments; give one molecule")
        self.shared = [c > 1 for c in count]
        if info.marked is not None:
            self.shared = [s or m for s, m in zip(self.shared, info.marked, strict=True)]

    def split_chains(self, which: set[int], info: _MolInfo) -> _Groups:
        """The same motifs with the acyclic pieces ``which`` split into single bonds."""
        motifs: list[tuple[str, list[int]]] = []
        for k, (kind, bonds) in enumerate(self.motifs):
            if k in which:
                motifs.extend(("chain", [b]) for b in bonds)
            else:
                motifs.append((kind, bonds))
        return _Groups(motifs, info)


def _motif_groups(info: _MolInfo) -> _Groups:
    """Ring systems and acyclic pieces, each as its bonds, ordered by their first bond."""
    n = info.num_atoms
    if not info.ends:
        if n > 1:
            raise InvalidMoleculeError("cannot decompose several fragments; give one molecule")
        return _Groups([("atom", [])], info)
    # One union-find over 2n nodes: atom a joins through ring bonds as node a and through
    # bridges as node n + a, so ring systems and acyclic pieces come out in one pass.
    parent = list(range(2 * n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for (a, b), ring in zip(info.ends, info.in_ring, strict=True):
        offset = 0 if ring else n
        ra, rb = find(a + offset), find(b + offset)
        if ra != rb:
            parent[ra] = rb
    groups: dict[int, list[int]] = {}
    for k, ((a, _), ring) in enumerate(zip(info.ends, info.in_ring, strict=True)):
        groups.setdefault(find(a if ring else a + n), []).append(k)
    return _Groups([("ring" if r < n else "chain", bonds) for r, bonds in groups.items()], info)


class _Motif(NamedTuple):
    kind: str
    config: str
    atoms: tuple[int, ...]  # molecule atom indices in config order
    attachment: tuple[int, ...]  # positions in atoms

    @property
    def smiles(self) -> str:
        return motif_smiles(self.config)


# (atom codes, hydrogens, bonds, marks) in the molecule's local order -> (config, order): the
# same motif written in the same order, as it is in most molecules of a dataset, costs a lookup.
_FORMS: dict[tuple, tuple[str, tuple[int, ...]]] = {}


def _describe(info: _MolInfo, kind: str, bonds: list[int], shared: list[bool]) -> _Motif:
    """The canonical strings of one motif and its atoms in canonical order."""
    ends = info.ends
    atoms = [0] if kind == "atom" else sorted({a for k in bonds for a in ends[k]})
    local = {a: i for i, a in enumerate(atoms)}
    bond_key = tuple((local[ends[k][0]], local[ends[k][1]], info.type[k]) for k in bonds)
    # Hydrogens of the motif alone: the atom's own plus one per order of each bond left out.
    # Bonds left out of a ring system are bridges, never aromatic: their orders are summed per
    # atom up front. A piece's shared atoms count down from the valence instead (the bonds
    # left out may be aromatic); its other atoms keep all their bonds.
    if kind == "ring":
        hs = [info.hs[a] + info.bridge_order[a] for a in atoms]
    elif kind == "chain":
        hs = [info.hs[a] for a in atoms]
        inner = None
        for i, a in enumerate(atoms):
            if shared[a]:
                if inner is None:
                    inner = [0] * len(atoms)
                    for x, y, order in bond_key:
                        inner[x] += order
                        inner[y] += order
                hs[i] = info.valence(a) - inner[i]
    else:
        hs = [info.hs[0]]
    marks = tuple([shared[a] for a in atoms])
    key = (tuple([info.code[a] for a in atoms]), tuple(hs), bond_key, marks)
    form = _FORMS.get(key)
    if form is None:
        form = _canonical_form(info, atoms, hs, bonds, marks)
        if len(_FORMS) >= _CACHE_LIMIT:
            _FORMS.clear()
        _FORMS[key] = form
    config, order = form
    ordered = tuple([atoms[i] for i in order])
    return _Motif(kind, config, ordered, tuple([p for p, a in enumerate(ordered) if shared[a]]))


def _canonical_form(
    info: _MolInfo, atoms: list[int], hs: list[int], bonds: list[int], marks: tuple[bool, ...]
) -> tuple[str, tuple[int, ...]]:
    """Build the motif as a molecule (the molecule's Kekule bonds, capping hydrogens), perceive
    its aromaticity, and write its canonical SMILES with the attachment atoms mapped."""
    rw = Chem.RWMol()
    for i, a in enumerate(atoms):
        atomic_num, charge, isotope, radicals = info.code[a]
        atom = Chem.Atom(atomic_num)
        atom.SetFormalCharge(charge)
        atom.SetIsotope(isotope)
        atom.SetNumRadicalElectrons(radicals)
        atom.SetNumExplicitHs(hs[i])
        atom.SetNoImplicit(True)
        if marks[i]:
            atom.SetAtomMapNum(1)
        rw.AddAtom(atom)
    local = {a: i for i, a in enumerate(atoms)}
    orders = info.kekule if any(info.type[k] == 4 for k in bonds) else info.type
    for k in bonds:
        a, b = info.ends[k]
        rw.AddBond(local[a], local[b], _KEKULE_BOND[orders[k]])
    mol = rw.GetMol()
    with quiet_rdkit():
        try:
            Chem.SanitizeMol(mol)
        except (Chem.AtomValenceException, Chem.KekulizeException, ValueError) as error:
            raise InvalidMoleculeError(f"a motif is not a valid molecule: {error}") from error
    smiles = Chem.MolToSmiles(mol)
    order = tuple(int(i) for i in mol.GetProp("_smilesAtomOutputOrder").strip("[],").split(","))
    return smiles, order


# -- the tree ------------------------------------------------------------------------------------


def _build_tree(
    info: _MolInfo, motifs: list[_Motif], vocab: Container | None, fallback: int
) -> MotifTree:
    holders: dict[int, list[int]] = {}  # shared atom -> motifs holding it, in motif order
    for m, motif in enumerate(motifs):
        for p in motif.attachment:
            holders.setdefault(motif.atoms[p], []).append(m)
    if 0 in holders:
        at_zero = holders[0]
        root = next((m for m in at_zero if motifs[m].kind == "ring"), at_zero[0])
    else:
        root = next(m for m, motif in enumerate(motifs) if 0 in motif.atoms)

    # Breadth-first: each motif's children in the order of their shared atom in its config.
    order = [root]
    link: dict[int, tuple[int, int, int]] = {root: (-1, -1, -1)}  # motif -> parent, positions
    children: dict[int, list[int]] = {}
    head = 0
    while head < len(order):
        m = order[head]
        head += 1
        motif = motifs[m]
        kids = children.setdefault(m, [])
        for p in motif.attachment:
            atom = motif.atoms[p]
            for other in holders[atom]:
                if other in link:
                    continue
                link[other] = (m, p, motifs[other].atoms.index(atom))
                kids.append(other)
                order.append(other)
    position = {m: i for i, m in enumerate(order)}

    nodes = []
    atom_order: list[int] = []
    for m in order:
        motif = motifs[m]
        parent, parent_atom, attach_atom = link[m]
        known = vocab is None or (motif.smiles, motif.config) in vocab
        nodes.append(
            MotifNode(
                smiles=motif.smiles,
                config=motif.config,
                kind=motif.kind,
                atoms=motif.atoms,
                attachment=motif.attachment,
                parent=position[parent] if parent >= 0 else -1,
                parent_atom=parent_atom,
                attach_atom=attach_atom,
                children=tuple(position[c] for c in children[m]),
                known=known,
            )
        )
        atom_order.extend(a for p, a in enumerate(motif.atoms) if p != attach_atom)
    chirality, bond_stereo = _stereo(info.mol, atom_order)
    return MotifTree(
        nodes=tuple(nodes),
        num_atoms=info.num_atoms,
        atom_order=tuple(atom_order),
        chirality=chirality,
        bond_stereo=bond_stereo,
        fallback=fallback,
    )


def _stereo(
    mol: Chem.Mol, atom_order: list[int]
) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int, int], ...]]:
    """The molecule's stereo codes in assembled numbering (empty without stereo)."""
    has_stereo = any(
        mol.GetAtomWithIdx(i).GetChiralTag() in (_CW, _CCW) for i in range(mol.GetNumAtoms())
    ) or any(
        mol.GetBondWithIdx(k).GetStereo() != Chem.BondStereo.STEREONONE
        for k in range(mol.GetNumBonds())
    )
    if not has_stereo:
        return (), ()
    graph = mol_to_graph(mol).permute(np.asarray(atom_order))
    chirality = tuple((int(i), int(graph.chirality[i])) for i in np.flatnonzero(graph.chirality))
    bond_stereo = tuple(
        (int(graph.edge_index[0, k]), int(graph.edge_index[1, k]), int(graph.bond_stereo[k]))
        for k in np.flatnonzero(graph.bond_stereo)
    )
    return chirality, bond_stereo


# -- assembly ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MotifTemplate:
    """An attachment configuration parsed once, atoms in its SMILES order (the order of
    :attr:`MotifNode.atoms` and of ``parent_atom`` / ``attach_atom`` positions).

    Attributes:
        code: ``(atomic number, charge, isotope, radical electrons)`` of each atom.
        valence: hydrogens plus Kekule bond orders of each atom in the motif alone.
        bonds: ``(a, b, order)`` Kekule bonds, order 1-3.
        attachment: positions of the attachment atoms (marked ``:1``), ascending.
        symmetry: symmetry class of each atom (RDKit's canonical rank without tie-breaking,
            marks included): atoms of equal class are interchangeable in the configuration.
    """

    code: tuple[tuple[int, int, int, int], ...]
    valence: tuple[int, ...]
    bonds: tuple[tuple[int, int, int], ...]
    attachment: tuple[int, ...] = ()
    symmetry: tuple[int, ...] = ()


@lru_cache(maxsize=1 << 16)
def _parse_motif(config: str) -> Chem.Mol:
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(config, _PARSER)
    if mol is None:
        raise InvalidMoleculeError(f"{config!r} is not a valid motif SMILES")
    return mol


@lru_cache(maxsize=1 << 16)
def motif_template(config: str) -> MotifTemplate:
    """The atoms, bonds and attachment atoms of an attachment configuration (cached).

    Raises:
        InvalidMoleculeError: ``config`` is not a valid, kekulisable motif SMILES.
    """
    kek = Chem.RWMol(_parse_motif(config))
    with quiet_rdkit():
        try:
            Chem.Kekulize(kek, clearAromaticFlags=True)
        except Chem.KekulizeException as error:
            raise InvalidMoleculeError(f"cannot kekulise the motif {config!r}: {error}") from error
    code, valence = [], []
    for i in range(kek.GetNumAtoms()):
        atom = kek.GetAtomWithIdx(i)
        code.append(
            (atom.GetAtomicNum(), atom.GetFormalCharge(), atom.GetIsotope(),
             atom.GetNumRadicalElectrons())
        )  # fmt: skip
        valence.append(atom.GetTotalNumHs())
    bonds = []
    for k in range(kek.GetNumBonds()):
        bond = kek.GetBondWithIdx(k)
        a, b, order = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), _BOND_CODE[bond.GetBondType()]
        bonds.append((a, b, order))
        valence[a] += order
        valence[b] += order
    marked = tuple(i for i in range(kek.GetNumAtoms()) if kek.GetAtomWithIdx(i).GetAtomMapNum())
    symmetry = tuple(int(r) for r in Chem.CanonicalRankAtoms(_parse_motif(config), breakTies=False))
    return MotifTemplate(tuple(code), tuple(valence), tuple(bonds), marked, symmetry)


def tree_graph(tree: MotifTree, *, stereo: bool = True) -> MolGraph:
    """The molecular graph a motif tree describes, atoms in assembled order.

    Only the nodes' configurations and attachment positions are read (and the stereo codes
    when ``stereo``), never their molecule atom indices: a tree written by a model assembles
    the same way.

    Raises:
        InvalidMoleculeError: an attachment position is out of range, merges atoms of different
            elements, or the merged atoms exceed their valence.
    """
    atom_code: list[tuple[int, int, int, int]] = []
    valence: list[int] = []
    bonds: dict[tuple[int, int], int] = {}
    placed: list[list[int]] = []  # per node: assembled index of each of its atoms
    for i, node in enumerate(tree.nodes):
        template = motif_template(node.config)
        index = []
        for p, code in enumerate(template.code):
            if node.parent >= 0 and p == node.attach_atom:
                if not 0 <= node.parent < i:
                    raise InvalidMoleculeError(f"node {i}: parent {node.parent} is not before it")
                parent_atoms = placed[node.parent]
                if not 0 <= node.parent_atom < len(parent_atoms):
                    raise InvalidMoleculeError(
                        f"node {i}: parent atom {node.parent_atom} is not in {node.parent}'s motif"
                    )
                target = parent_atoms[node.parent_atom]
                if atom_code[target][0] != code[0]:
                    raise InvalidMoleculeError(
                        f"node {i} merges atoms of elements {code[0]} and {atom_code[target][0]}"
                    )
                index.append(target)
            else:
                index.append(len(atom_code))
                atom_code.append(code)
                valence.append(template.valence[p])
        if node.parent >= 0 and not 0 <= node.attach_atom < len(template.code):
            raise InvalidMoleculeError(f"node {i}: attachment atom {node.attach_atom} out of range")
        placed.append(index)
        for a, b, order in template.bonds:
            pair = (min(index[a], index[b]), max(index[a], index[b]))
            if pair in bonds:
                raise InvalidMoleculeError(f"node {i} adds a second bond between atoms {pair}")
            bonds[pair] = order
    n = len(atom_code)
    used = [0] * n
    for (a, b), order in bonds.items():
        used[a] += order
        used[b] += order
    hs = [v - u for v, u in zip(valence, used, strict=True)]
    if min(hs) < 0:
        atom = hs.index(min(hs))
        raise InvalidMoleculeError(f"atom {atom} has more bonds than its motif's valence")
    pairs = sorted(bonds)
    codes = np.asarray(atom_code, dtype=np.int64).reshape(n, 4)
    chirality = np.zeros(n, np.int64)
    bond_stereo = np.zeros(len(pairs), np.int64)
    if stereo:
        for atom, code in tree.chirality:
            if not 0 <= atom < n or code not in (1, 2):
                raise InvalidMoleculeError(f"chirality ({atom}, {code}) does not fit the tree")
            chirality[atom] = code
        edge = {pair: k for k, pair in enumerate(pairs)}
        for a, b, code in tree.bond_stereo:
            if (a, b) not in edge or code not in (1, 2):
                raise InvalidMoleculeError(f"bond stereo ({a}, {b}, {code}) does not fit the tree")
            bond_stereo[edge[(a, b)]] = code
    return MolGraph(
        atomic_num=codes[:, 0].copy(),
        formal_charge=codes[:, 1].copy(),
        num_hs=np.asarray(hs, dtype=np.int64),
        chirality=chirality,
        isotope=codes[:, 2].copy(),
        radical_electrons=codes[:, 3].copy(),
        aromatic=np.zeros(n, bool),
        edge_index=np.asarray(pairs, dtype=np.int64).reshape(-1, 2).T.copy(),
        bond_type=np.asarray([bonds[p] for p in pairs], dtype=np.int64),
        bond_stereo=bond_stereo,
    )


def assemble(tree: MotifTree, *, stereo: bool = True) -> Chem.Mol:
    """Put a motif tree back together: the inverse of :func:`decompose`.

    Args:
        tree: a tree from :func:`decompose`, or one with the same fields written by a model.
        stereo: set the tree's stored stereo codes; False builds the molecule from motif
            strings and attachment positions only.

    Returns:
        The sanitised molecule, atoms in assembled order (:attr:`MotifTree.atom_order`).

    Raises:
        InvalidMoleculeError: the tree does not describe a valid molecule.
    """
    return graph_to_mol(tree_graph(tree, stereo=stereo))
