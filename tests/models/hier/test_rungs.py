"""The rungs of the hierarchical VAE: ``HierConfig.atom_level`` and ``attachment_configs`` take
the encoder's atom level and the attachment configurations away, and what is left still trains
and decodes valid molecules."""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pytest
import torch
from rdkit import Chem

from hier_helpers import MOLECULES, SMALL, make_tables, make_task, train_steps
from moldojo.chem import GraphConfig
from moldojo.data import load_dataset
from moldojo.errors import ScaffoldError
from moldojo.models.hier import HierConfig
from moldojo.models.hier.decoding import motif_parts
from moldojo.models.hier.generator import build_hier, make_records
from moldojo.models.hier.tables import MotifTables
from moldojo.models.hier.task import HierTask

RUNGS = list(itertools.product([True, False], [True, False]))  # (atom_level, attachment_configs)
IDS = [f"atoms={a}-configs={c}" for a, c in RUNGS]


def rung(atom_level: bool, attachment_configs: bool) -> HierConfig:
    return SMALL.model_copy(update={"atom_level": atom_level,
                                    "attachment_configs": attachment_configs})  # fmt: skip


@cache
def task(atom_level: bool, attachment_configs: bool) -> HierTask:
    return make_task(MOLECULES, rung(atom_level, attachment_configs))


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_each_flag_removes_exactly_its_modules() -> None:
    # Given the full model and the models without one level or the other
    tables = make_tables(MOLECULES)
    models = {(a, c): build_hier(rung(a, c), tables) for a, c in RUNGS}
    full = models[True, True]
    atom_part = count(full.atom_mpn)
    config_part = (count(full.config_embedding) + full.config_bias.numel()
                   + count(full.attachment_mpn) + count(full.config_head))  # fmt: skip
    # Then each flag drops its modules, and their parameters, and nothing else
    for (a, c), model in models.items():
        assert hasattr(model, "atom_mpn") == a
        for name in ("config_embedding", "config_bias", "attachment_mpn", "config_head"):
            assert hasattr(model, name) == c, name
        expected = count(full) - (0 if a else atom_part) - (0 if c else config_part)
        assert count(model) == expected
    assert count(full.decoder_atom_mpn) > 0 and hasattr(models[False, False], "decoder_atom_mpn")


@pytest.mark.parametrize(("atom_level", "attachment_configs"), RUNGS, ids=IDS)
def test_loss_has_its_parts_and_falls(atom_level: bool, attachment_configs: bool) -> None:
    # Given a small batch and a model of this rung
    hier = task(atom_level, attachment_configs)
    batch = hier.batch(np.arange(len(MOLECULES)))
    # When the loss is computed
    out = hier.loss(batch, 0.1, torch.Generator().manual_seed(0))
    # Then it has a configuration part only with configurations, every part finite
    parts = {"stop", "motif", "pair", "kl"} | ({"config"} if attachment_configs else set())
    assert {k for k in out if k != "loss" and not k.endswith("_acc")} == parts
    assert ("config_acc" in out) == attachment_configs
    assert all(torch.isfinite(v) for v in out.values())
    total = sum(out[k] for k in parts - {"kl"}) + 0.1 * out["kl"]
    assert torch.allclose(out["loss"], total, rtol=1e-5)
    # and a few optimisation steps lower it
    assert train_steps(hier, 12) < out["loss"].item()


@cache
def moses_records() -> tuple[list[str], MotifTables, list, list]:
    smiles = list(load_dataset("moses-mini:valid", progress=False).smiles[:200])
    tables = make_tables(smiles)
    with_configs = make_records(smiles, tables, GraphConfig(), HierConfig())
    bare = make_records(smiles, tables, GraphConfig(), HierConfig(attachment_configs=False))
    return smiles, tables, with_configs, bare


def test_bare_motifs_are_their_configurations_renumbered() -> None:
    # Given the configurations of 200 molecules' motifs and their bare motifs
    _, tables, _, _ = moses_records()
    g = tables.motif_graphs
    # When each configuration atom is taken to its motif position
    motif = np.repeat(tables.config_motif, np.diff(tables.atom_ptr))
    bank = g.atom_ptr[motif] + g.config_position
    # Then it is the same atom, and every motif position is hit once per configuration
    assert (g.atom_type[bank] == tables.atom_type).all()
    assert (g.atom_valence[bank] == tables.atom_valence).all()
    assert (g.atom_degree[bank] == tables.atom_degree).all()
    for c in range(tables.num_configs):
        rows = bank[tables.atom_ptr[c] : tables.atom_ptr[c + 1]]
        m = tables.config_motif[c]
        assert sorted(rows.tolist()) == list(range(g.atom_ptr[m], g.atom_ptr[m + 1]))


def test_records_without_configurations_offer_the_true_pair() -> None:
    # Given 200 moses-mini molecules' records without configurations
    smiles, tables, with_configs, bare = moses_records()
    assert not [r for r in bare if isinstance(r, str)]
    parts = motif_parts(tables)
    events = 0
    assert not [r for r in with_configs if isinstance(r, str)]
    for s, record in zip(smiles, bare, strict=True):
        mol = Chem.MolFromSmiles(s)
        # Then the molecule's atoms, bonds and hydrogens are placed, no attachment marks
        assert len(record["atom_type"]) == mol.GetNumAtoms()
        assert len(record["bond_src"]) == mol.GetNumBonds()
        assert record["atom_hs"].sum() == sum(a.GetTotalNumHs() for a in mol.GetAtoms())
        assert not record["atom_attach"].any()
        member = np.searchsorted(record["member_node"], np.arange(len(record["motif_id"]) + 1))
        atoms = [record["member_atom"][member[k] : member[k + 1]].tolist()
                 for k in range(len(record["motif_id"]))]  # fmt: skip
        first = np.searchsorted(record["pair_event"], np.arange(len(record["ce_child"]) + 1))
        for e, c in enumerate(record["ce_child"].tolist()):
            rows = slice(first[e], first[e + 1])
            label = record["pair_label"][rows]
            # and at every child event exactly one candidate is right: the shared atom, on
            # the parent's side, and on the child's side up to the motif's symmetry
            assert label.sum() == 1
            (shared,) = set(atoms[record["parent"][c]]) & set(atoms[c])
            right = np.flatnonzero(label)[0]
            assert record["pm_atom"][record["pair_parent"][rows][right]] == shared
            child = parts[int(record["motif_id"][c])]
            q = int(record["pair_child"][rows][right]) - child.start
            assert q == child.representative[atoms[c].index(shared)]
            events += 1
    assert events > 500


def test_untrained_model_without_either_level_decodes_valid_molecules() -> None:
    # Given an untrained model with neither atom level nor configurations
    generator = task(False, False).generator
    # When 50 latent points are decoded at temperature 1
    z = torch.randn(50, generator.latent_dim, generator=torch.Generator().manual_seed(4))
    out = generator.decode(z, temperature=1.0, generator=torch.Generator().manual_seed(5))
    # Then every one is a molecule RDKit parses
    assert not out.failures, out.failures
    assert all(s is not None and Chem.MolFromSmiles(s) is not None for s in out)
    assert len(set(out)) > 10
    # and a scaffold, whose plan is made of configurations, is refused
    with pytest.raises(ScaffoldError, match="attachment configurations"):
        generator.decode(z[:2], scaffold="c1ccccc1")
