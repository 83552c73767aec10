"""The decode state machine: teacher forcing and inference agree.

Records are written by replaying each molecule's own choices through
:class:`~moldojo.models.hier.decoding.DecodeState`. Here a record's choices (motifs,
configurations, the labelled pair of each child event, the pops) are fed back to a fresh state
the way the generator drives it, and must rebuild the molecule; at each child event the choices
inference would offer are compared with those the record trains on.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pytest
from rdkit import Chem

from conftest import SHARED
from hier_helpers import make_tables
from moldojo.chem import GraphConfig, graph_to_smiles
from moldojo.chem.motifs import tree_graph
from moldojo.data import load_dataset
from moldojo.models.hier import HierConfig
from moldojo.models.hier.decoding import DecodeState
from moldojo.models.hier.generator import make_records
from moldojo.models.hier.tables import MotifTables
from moldojo.models.task import stereo_blind

POLYMERS = SHARED / "data" / "polymers" / "test.txt"


@cache
def molecules(source: str, n: int | None) -> tuple[str, ...]:
    """The first ``n`` molecules (all when None) of ``"moses-mini"`` (validation split) or
    ``"polymers"`` (the HierVAE paper's polymer test split)."""
    if source == "polymers":
        if not POLYMERS.is_file():
            pytest.skip(f"{POLYMERS} absent")
        lines = (line.split()[0] for line in POLYMERS.read_text().splitlines() if line.strip())
    else:
        lines = iter(load_dataset("moses-mini:valid", progress=False).smiles)
    return tuple(itertools.islice(lines, n))


@dataclass
class Replay:
    """What feeding records back to the state machine found."""

    molecules: int = 0
    child_events: int = 0
    rebuilt: int = 0
    wrong: list[str] = field(default_factory=list)  # inputs not rebuilt
    problems: Counter[str] = field(default_factory=Counter)  # choices inference would not make
    extra_pairs: int = 0  # child events where the record offers pairs inference does not
    missing_pairs: int = 0  # child events where inference offers pairs the record does not


def symmetry(tables: MotifTables, config: int, source: int, target: int) -> list[int] | None:
    """An automorphism of configuration ``config`` (atom types, hydrogens, attachment marks,
    aromatic bonds: a ring's Kekule structure may differ) that takes position ``source`` to
    ``target``, as the image of each position; None if there is none."""
    if source == target:
        return list(range(int(tables.atom_ptr[config + 1] - tables.atom_ptr[config])))
    bank = np.arange(tables.atom_ptr[config], tables.atom_ptr[config + 1])
    hs = tables.atom_valence[bank] - tables.atom_degree[bank]
    label = list(zip(tables.atom_type[bank].tolist(), hs.tolist(),
                     tables.atom_attach[bank].tolist(), strict=True))  # fmt: skip
    mol = Chem.MolFromSmiles(tables.flat_configs[config])  # atoms in the configuration's order
    for match in mol.GetSubstructMatches(mol, uniquify=False, maxMatches=100_000):
        if match[source] == target and all(label[i] == label[j] for i, j in enumerate(match)):
            return list(match)
    return None


def decode_record(record: dict[str, np.ndarray], tables: MotifTables, seen: Replay) -> str | None:
    """Drive a :class:`DecodeState` through ``record``'s events the way the generator does, the
    record making every choice (a child merged by the labelled pair: the parent's atom and the
    child's representative atom); the assembled molecule's SMILES.

    Merging by a symmetric child atom numbers the child's atoms differently from the record,
    so record atoms are followed to state atoms through the configuration's symmetry."""
    config, parent = record["config_id"].tolist(), record["parent"].tolist()
    member = np.searchsorted(record["member_node"], np.arange(len(config) + 1))
    record_atoms = [record["member_atom"][member[k] : member[k + 1]].tolist()
                    for k in range(len(config))]  # fmt: skip
    pm_atom, pair_child = record["pm_atom"], record["pair_child"]
    events = np.searchsorted(record["pair_event"], np.arange(len(record["ce_child"]) + 1))
    state = DecodeState(tables)
    state.add_root(config[0])
    to_state = dict(zip(record_atoms[0], state.node_atoms[0], strict=True))
    children = iter(record["ce_child"].tolist())
    for pop in record["ev_pop"].tolist():
        if pop:
            seen.problems["popped a motif that needs a child"] += state.needs_child()
            state.pop()
            continue
        c = next(children)
        e = c - 1
        if state.top != parent[c]:
            seen.problems["child of a motif off the top"] += 1
            return None
        seen.child_events += 1
        cand = state.parent_candidates()
        seen.problems["infeasible configuration"] += not state.feasible(cand)[config[c]]
        start = int(tables.atom_ptr[config[c]])
        atoms = state.node_atoms[state.top]
        offered = {(atoms[p], start + q) for p, q in state.pair_options(config[c], cand)}
        rows = slice(events[e], events[e + 1])
        parents_in_record = pm_atom[record["pair_parent"][rows]].tolist()
        parents = [to_state[a] for a in parents_in_record]
        trained = set(zip(parents, pair_child[rows].tolist(), strict=True))
        seen.extra_pairs += bool(trained - offered)
        seen.missing_pairs += bool(offered - trained)
        right = int(np.flatnonzero(record["pair_label"][rows])[0])
        atom, bank = parents[right], int(pair_child[rows][right])
        seen.problems["labelled pair not offered"] += (atom, bank) not in offered
        # the record's child holds the merged atom at its own position; the state's at the
        # labelled (representative) one
        merged = record_atoms[c].index(parents_in_record[right])
        sigma = symmetry(tables, config[c], merged, bank - start)
        if sigma is None:
            seen.problems["representative atom not symmetric"] += 1
            return None
        state.add_child(config[c], atoms.index(atom), bank - start)
        placed = state.node_atoms[c]
        to_state.update((a, placed[sigma[p]]) for p, a in enumerate(record_atoms[c]))
    if state.stack or state.config != config or state.parent != parent:
        seen.problems["different tree"] += 1
        return None
    return graph_to_smiles(tree_graph(state.tree(), stereo=False))


@cache
def replay(source: str, n: int | None) -> Replay:
    """Records of ``n`` molecules of ``source`` with a vocabulary built from them, each decoded
    back from its own choices."""
    smiles = molecules(source, n)
    tables = make_tables(list(smiles))
    records = make_records(smiles, tables, GraphConfig(), HierConfig())
    reasons = Counter(r for r in records if isinstance(r, str))
    assert not reasons, reasons  # every molecule parses, every motif is in the vocabulary
    seen = Replay()
    for s, record in zip(smiles, records, strict=True):
        seen.molecules += 1
        if decode_record(record, tables, seen) == stereo_blind(s):
            seen.rebuilt += 1
        else:
            seen.wrong.append(s)
    return seen


SUBSETS = [("moses-mini", 1000), ("polymers", 500)]
EVERYTHING = [pytest.param(source, None, marks=pytest.mark.slow) for source, _ in SUBSETS]


@pytest.mark.parametrize(("source", "n"), SUBSETS + EVERYTHING)
def test_teacher_forced_choices_rebuild_the_molecule(source: str, n: int | None) -> None:
    # Given the records of molecules whose motifs are all in the vocabulary
    # When each record's choices are made on the state machine the generator decodes with
    seen = replay(source, n)
    # Then every choice was one inference offers, and the molecule comes back (stereo aside)
    assert not +seen.problems, +seen.problems
    assert seen.missing_pairs == 0  # inference never offers a pair the record lacks
    assert seen.rebuilt == seen.molecules, seen.wrong[:5]


@pytest.mark.parametrize(("source", "n"), SUBSETS + EVERYTHING)
def test_records_offer_exactly_the_pairs_inference_offers(source: str, n: int | None) -> None:
    # Given the records of molecules and the same choices replayed as inference makes them
    seen = replay(source, n)
    # Then at every child event the record trains on the candidate pairs inference offers
    assert seen.extra_pairs == 0, f"{seen.extra_pairs} of {seen.child_events} child events"
