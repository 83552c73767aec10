"""Motif trees as arrays: tables, one molecule's record, packing."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

from hier_helpers import MOLECULES, make_tables
from moldojo.chem import GraphConfig, MolGraph, graph_to_smiles, parse_smiles
from moldojo.chem.motifs import decompose
from moldojo.models.hier import HierConfig
from moldojo.models.hier.generator import make_records
from moldojo.models.hier.records import FIELDS, RecordPack, ancestry_edges, tree_record
from moldojo.models.hier.tables import MotifTables


@pytest.fixture(scope="module")
def tables() -> MotifTables:
    return make_tables(MOLECULES)


def record_of(smiles: str, tables: MotifTables, edges: str = "ancestry") -> dict:
    mol = Chem.MolFromSmiles(Chem.MolToSmiles(parse_smiles(smiles)))
    record = tree_record(decompose(mol, tables), tables, edges)
    assert record is not None
    return record


def molecule_of(record: dict, tables: MotifTables) -> str | None:
    """The molecule a record's atom arrays describe, as canonical SMILES."""
    codes = np.asarray([tables.atom_codes[t] for t in record["atom_type"]]).reshape(-1, 4)
    n, m = len(codes), len(record["bond_src"])
    return graph_to_smiles(MolGraph(
        atomic_num=codes[:, 0].copy(), formal_charge=codes[:, 1].copy(),
        num_hs=record["atom_hs"], chirality=np.zeros(n, np.int64), isotope=codes[:, 2].copy(),
        radical_electrons=codes[:, 3].copy(), aromatic=np.zeros(n, bool),
        edge_index=np.stack([record["bond_src"], record["bond_dst"]]),
        bond_type=record["bond_order"], bond_stereo=np.zeros(m, np.int64),
    ))  # fmt: skip


def test_configurations_are_grouped_by_motif(tables: MotifTables) -> None:
    assert tables.motif_ptr[-1] == tables.num_configs
    for m in range(tables.num_motifs):
        ids = range(tables.motif_ptr[m], tables.motif_ptr[m + 1])
        assert [tables.flat_configs[c] for c in ids] == list(tables.configs[m])
        assert (tables.config_motif[list(ids)] == m).all()


def test_tables_survive_their_plain_data(tables: MotifTables) -> None:
    again = MotifTables.from_data(tables.to_data())
    assert again.motifs == tables.motifs and again.configs == tables.configs
    assert np.array_equal(again.min_degree, tables.min_degree)
    m, c = tables.motifs[0], tables.configs[0][0]
    assert (m, c) in tables and (m, "C") not in tables and "C" not in tables


def test_min_degree_is_the_smallest_attachment_degree(tables: MotifTables) -> None:
    for c in range(tables.num_configs):
        bank = np.arange(tables.atom_ptr[c], tables.atom_ptr[c + 1])
        for t in range(tables.num_atom_types):
            atoms = bank[tables.atom_attach[bank] & (tables.atom_type[bank] == t)]
            expected = tables.atom_degree[atoms].min() if len(atoms) else 99
            assert tables.min_degree[c, t] == expected


def test_symmetric_attachment_atoms_are_one_candidate() -> None:
    tables = MotifTables(["c1ccccc1"], [["c1cc[cH:1]cc1", "c1c[cH:1]cc[cH:1]1"]])
    assert len(tables.child_candidates(0)) == 1
    assert len(tables.child_candidates(1)) == 1  # para: the two marks are symmetric


@pytest.mark.parametrize("smiles", MOLECULES)
def test_record_atoms_are_the_molecule(smiles: str, tables: MotifTables) -> None:
    record = record_of(smiles, tables)
    expected = Chem.MolToSmiles(parse_smiles(smiles), isomericSmiles=False)
    assert molecule_of(record, tables) == expected


@pytest.mark.parametrize("smiles", MOLECULES)
def test_record_events_follow_depth_first_decoding(smiles: str, tables: MotifTables) -> None:
    r = record_of(smiles, tables)
    k = len(r["motif_id"])
    assert set(FIELDS) <= set(r)
    assert len(r["ev_pop"]) == 2 * k - 1 and r["ev_pop"].sum() == k
    assert len(r["pt_node"]) == k * (k + 1) // 2
    assert r["ev_pop"][-1]  # the root is popped last
    # a child event's top is its parent, in the partial tree of the nodes before it
    starts = np.arange(k) * (np.arange(k) + 1) // 2
    for e, child in enumerate(r["ce_child"]):
        assert r["ce_top"][e] == starts[child - 1] + r["parent"][child]
        assert r["pt_node"][r["ce_top"][e]] == r["parent"][child]
    # partial trees only link nodes of their own copy
    assert (r["pt_src"] < len(r["pt_node"])).all()
    copy = np.repeat(np.arange(k), np.arange(1, k + 1))
    assert (copy[r["pt_src"]] == copy[r["pt_dst"]]).all()


@pytest.mark.parametrize("smiles", MOLECULES)
def test_record_has_one_right_pair_per_child(smiles: str, tables: MotifTables) -> None:
    r = record_of(smiles, tables)
    k = len(r["motif_id"])
    counts = np.bincount(r["pair_event"][r["pair_label"]], minlength=k - 1)
    assert (counts == 1).all()
    # candidates merge atoms of equal type
    pm_type = r["atom_type"][r["pm_atom"]]
    assert (pm_type[r["pair_parent"]] == tables.atom_type[r["pair_child"]]).all()
    # partial molecules hold the atoms placed before each child, hydrogens never negative
    assert (r["pm_hs"] >= 0).all()


def test_tree_edges_keep_distance_one() -> None:
    parent = [-1, 0, 1, 2, 0]
    anc, desc, dist = ancestry_edges(parent)
    assert sorted(zip(anc.tolist(), desc.tolist(), dist.tolist(), strict=True)) == [
        (0, 1, 1), (0, 2, 2), (0, 3, 3), (0, 4, 1), (1, 2, 1), (1, 3, 2), (2, 3, 1)]  # fmt: skip
    anc, desc, dist = ancestry_edges(parent, "tree")
    assert (dist == 1).all() and len(anc) == 4


def test_unknown_motifs_give_no_record(tables: MotifTables) -> None:
    records = make_records(["c1ccc2ccccc2c1", "not a smiles", MOLECULES[0]], tables,
                           GraphConfig(), HierConfig())  # fmt: skip
    assert records[0] == "unknown_motif" and records[1] == "invalid_input"
    assert isinstance(records[2], dict)


def test_collate_offsets_every_index(tables: MotifTables) -> None:
    records = [record_of(s, tables) for s in MOLECULES]
    pack = RecordPack(records)
    batch = pack.collate(np.asarray([3, 0, 5]))
    chosen = [records[i] for i in (3, 0, 5)]
    for name, space in FIELDS.items():
        expected = [r[name] for r in chosen]
        if space is not None:
            sizes = [len(r[space]) for r in chosen]
            expected = [v + o for v, o in zip(expected, np.cumsum(sizes) - sizes, strict=True)]
        assert np.array_equal(batch[name], np.concatenate(expected)), name
    assert np.array_equal(np.bincount(batch["motif_id_mol"]),
                          [len(r["motif_id"]) for r in chosen])  # fmt: skip
