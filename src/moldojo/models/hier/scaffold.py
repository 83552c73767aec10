"""Decoding from a scaffold: the hierarchical VAE's decoder starts from the scaffold's motif tree.

A scaffold alone decomposes into motifs whose attachment configurations hold only the
attachments *inside* the scaffold (benzene alone has none). A decorated molecule uses the same
motifs in configurations with more attachment atoms: the substituents' places. So the plan
(:func:`scaffold_plan`) keeps, per scaffold motif, every configuration of that motif in the
vocabulary whose attachment atoms include the scaffold's (under an automorphism of the motif,
found by substructure matching), with the position map from the scaffold's configuration to it.

Decoding then forces the scaffold's events and leaves the rest to the networks
(:class:`ScaffoldCursor`): the root is the scaffold's root motif; whenever a scaffold motif is on
top of the stack, its scaffold children come first, each merged at the mapped positions; the
*configuration* of every scaffold motif is the network's choice among the compatible ones, so
the model decides where substituents go, and every attachment atom it opens beyond the
scaffold's is filled by ordinary decoding. Every molecule therefore contains the scaffold by
construction. Imports numpy, RDKit and :mod:`moldojo.chem` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rdkit import Chem

from moldojo.chem.motifs import MotifTree, decompose, motif_template
from moldojo.chem.smiles import quiet_rdkit
from moldojo.errors import ScaffoldError, quote_input
from moldojo.models.hier.tables import MotifTables

__all__ = ["ScaffoldCursor", "ScaffoldNode", "ScaffoldPlan", "scaffold_plan"]

_MAX_MATCHES = 10_000  # automorphisms tried per (scaffold motif, configuration)


@dataclass(frozen=True)
class ScaffoldNode:
    """One motif of the scaffold, nodes in depth-first preorder.

    Attributes:
        motif: its motif (tables index).
        parent: index of its parent node, -1 for the root.
        parent_atom: position, in the parent's scaffold configuration, of the merged atom.
        attach_atom: position, in its own scaffold configuration, of that atom.
        children: its child nodes, in decoding order.
        options: configuration id -> the position of each scaffold-configuration atom in that
            configuration; only configurations whose attachment atoms include the scaffold's.
    """

    motif: int
    parent: int
    parent_atom: int
    attach_atom: int
    children: tuple[int, ...]
    options: dict[int, tuple[int, ...]]


@dataclass(frozen=True)
class ScaffoldPlan:
    """A scaffold as the forced part of decoding.

    Attributes:
        smiles: the scaffold, canonical SMILES.
        nodes: its motifs in depth-first preorder.
        masks: ``[K, C]`` bool: the configurations each node may take.
    """

    smiles: str
    nodes: tuple[ScaffoldNode, ...]
    masks: np.ndarray


def scaffold_plan(scaffold: Chem.Mol, tables: MotifTables) -> ScaffoldPlan:
    """The plan to decode from ``scaffold`` (a sanitised molecule, canonical atom order).

    The scaffold is decomposed as it stands; if a chain of it is not a motif of the vocabulary,
    chains are split into bonds as :func:`~moldojo.chem.motifs.decompose` does for a molecule.

    Raises:
        ScaffoldError: a motif of the scaffold is not in the vocabulary, or no configuration of
            one leaves room for the scaffold's attachments (one line: which).
    """
    smiles = Chem.MolToSmiles(scaffold)
    error = None
    for vocab in (None, _MotifsOf(tables)):
        tree = decompose(scaffold, vocab)
        try:
            nodes = _plan_nodes(tree, tables, smiles)
        except ScaffoldError as failed:
            error = error or failed
            continue
        masks = np.zeros((len(nodes), tables.num_configs), bool)
        for k, node in enumerate(nodes):
            masks[k, list(node.options)] = True
        return ScaffoldPlan(smiles, nodes, masks)
    assert error is not None
    raise error


class _MotifsOf:
    """``(motif, config) in`` the vocabulary's motifs, any configuration: what decompose asks
    to decide whether a chain stays whole."""

    def __init__(self, tables: MotifTables) -> None:
        self.motifs = tables.motif_index

    def __contains__(self, item: tuple[str, str]) -> bool:
        return item[0] in self.motifs


def _plan_nodes(tree: MotifTree, tables: MotifTables, smiles: str) -> tuple[ScaffoldNode, ...]:
    order = _preorder(tree)
    new_index = {old: new for new, old in enumerate(order)}
    nodes = []
    for old in order:
        node = tree.nodes[old]
        motif = tables.motif_index.get(node.smiles)
        if motif is None:
            raise ScaffoldError(f"the scaffold {quote_input(smiles)} has the motif "
                                f"{quote_input(node.smiles)}, which the model's vocabulary "
                                "lacks")  # fmt: skip
        options = _options(node.config, node.attachment, motif, tables)
        if not options:
            raise ScaffoldError(f"no configuration of the motif {quote_input(node.smiles)} in "
                                f"the model's vocabulary has the attachments the scaffold "
                                f"{quote_input(smiles)} needs")  # fmt: skip
        nodes.append(ScaffoldNode(
            motif=motif,
            parent=-1 if node.parent < 0 else new_index[node.parent],
            parent_atom=node.parent_atom,
            attach_atom=node.attach_atom,
            children=tuple(new_index[c] for c in node.children),
            options=options,
        ))  # fmt: skip
    return tuple(nodes)


def _preorder(tree: MotifTree) -> list[int]:
    out, stack = [], [0]
    while stack:
        k = stack.pop()
        out.append(k)
        stack.extend(reversed(tree.nodes[k].children))
    return out


def _options(config: str, attachment: tuple[int, ...], motif: int,
             tables: MotifTables) -> dict[int, tuple[int, ...]]:  # fmt: skip
    """Configuration id -> position map, for each configuration of ``motif`` that has an
    attachment atom at (an automorphic image of) every one of ``attachment``."""
    query = _unmarked(config)
    options = {}
    for c in range(int(tables.motif_ptr[motif]), int(tables.motif_ptr[motif + 1])):
        target_config = tables.flat_configs[c]
        open_ = set(motif_template(target_config).attachment)
        with quiet_rdkit():
            matches = _unmarked(target_config).GetSubstructMatches(
                query, uniquify=False, useChirality=False, maxMatches=_MAX_MATCHES
            )
        for match in matches:
            if all(match[a] in open_ for a in attachment):
                options[c] = tuple(match)
                break
    return options


def _unmarked(config: str) -> Chem.Mol:
    """A configuration SMILES as a molecule, atoms in its SMILES order, marks cleared."""
    params = Chem.SmilesParserParams()
    params.removeHs = False
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(config, params)
    for atom in mol.GetAtoms():
        atom.SetAtomMapNum(0)
    return mol


class ScaffoldCursor:
    """Where one molecule's decoding stands in its scaffold plan.

    Attributes:
        plan: the plan.
        mapping: decoded node -> position map of its scaffold node (scaffold nodes only).
        pending: decoded node -> its scaffold children not placed yet, next first.
    """

    def __init__(self, plan: ScaffoldPlan) -> None:
        self.plan = plan
        self.mapping: dict[int, tuple[int, ...]] = {}
        self.pending: dict[int, list[int]] = {}

    def placed(self, node: int, scaffold_node: int, config: int) -> None:
        """Decoded ``node`` is ``scaffold_node`` of the plan, in configuration ``config``."""
        spec = self.plan.nodes[scaffold_node]
        self.mapping[node] = spec.options[config]
        self.pending[node] = list(spec.children)

    def next_child(self, top: int) -> int | None:
        """The scaffold node to place next as a child of decoded node ``top``, if any."""
        pending = self.pending.get(top)
        return pending[0] if pending else None

    def merge(self, top: int, scaffold_node: int, config: int) -> tuple[int, int]:
        """``(parent position, child position)`` that merge ``scaffold_node`` in
        configuration ``config`` with decoded node ``top``; marks it placed below ``top``."""
        spec = self.plan.nodes[scaffold_node]
        self.pending[top].pop(0)
        return self.mapping[top][spec.parent_atom], spec.options[config][spec.attach_atom]
