"""Decoding from a scaffold: every molecule contains it, by construction, and the model still
chooses where the substituents go."""

from __future__ import annotations

import pytest
import torch
from rdkit import Chem

import moldojo
from moldojo.chem.motifs import motif_template
from moldojo.chem.scaffold import keeps_scaffold, parse_scaffold
from moldojo.errors import InvalidSmilesError, ScaffoldError
from moldojo.models.hier.generator import HierGenerator
from moldojo.models.hier.scaffold import scaffold_plan
from moldojo.sampling import DEFAULT_MODEL

pytestmark = pytest.mark.skipif(not DEFAULT_MODEL.exists(), reason="no model shipped")

SCAFFOLDS = ["c1ccccc1", "c1ccc2[nH]ccc2c1", "O=C(Nc1ccccc1)c1ccccc1", "C1CCNCC1", "c1ccncc1",
             "O=C1CCCN1", "CC(=O)Nc1ccc(O)cc1"]  # fmt: skip


@pytest.fixture(scope="module")
def hier() -> HierGenerator:
    return moldojo.load()


@pytest.mark.parametrize("scaffold", SCAFFOLDS)
def test_every_sample_keeps_the_scaffold(hier: HierGenerator, scaffold: str) -> None:
    # When sampling 60 molecules from the scaffold, greedily and at temperature 1
    for temperature in (0.0, 1.0):
        generator = torch.Generator().manual_seed(1)
        smiles = hier.sample(60, generator=generator, temperature=temperature, scaffold=scaffold)
        # Then every one decodes and contains the scaffold, and they are not all the same
        assert all(s is not None for s in smiles), smiles.failures
        assert all(keeps_scaffold(smiles, parse_scaffold(scaffold)))
        assert len(set(smiles)) > 30


def test_the_scaffold_root_motif_and_every_merge_are_forced(hier: HierGenerator) -> None:
    # Given the plan of an amide between two benzene rings
    plan = scaffold_plan(parse_scaffold("O=C(Nc1ccccc1)c1ccccc1"), hier.tables)
    # Then it has three motifs, root first, children after their parent (preorder)
    assert len(plan.nodes) == 3
    assert [n.parent for n in plan.nodes] == [-1, 0, 0]
    for k, node in enumerate(plan.nodes):
        # And each allowed configuration has the scaffold's attachments at the mapped places
        assert plan.masks[k].sum() == len(node.options) > 0
        for config, mapping in node.options.items():
            attach = set(motif_template(hier.tables.flat_configs[config]).attachment)
            needed = [node.attach_atom] if node.parent >= 0 else []
            needed += [plan.nodes[c].parent_atom for c in node.children]
            assert {mapping[p] for p in needed} <= attach


def test_decoding_without_a_scaffold_is_unchanged(hier: HierGenerator) -> None:
    z = torch.randn(20, hier.latent_dim, generator=torch.Generator().manual_seed(3))
    assert hier.decode(z) == hier.decode(z, scaffold=None)


def test_the_same_seed_gives_the_same_molecules(hier: HierGenerator) -> None:
    runs = [hier.sample(20, generator=torch.Generator().manual_seed(5), scaffold="c1ccncc1")
            for _ in range(2)]  # fmt: skip
    assert runs[0] == runs[1]


def test_a_scaffold_outside_the_vocabulary_is_refused_in_one_line(
    hier: HierGenerator,
) -> None:
    with pytest.raises(ScaffoldError, match="vocabulary lacks") as error:
        hier.sample(2, scaffold="C1CCCCCCCCCCC1")
    assert "\n" not in str(error.value)
    with pytest.raises(InvalidSmilesError):
        hier.sample(2, scaffold="c1ccc")


def test_the_two_step_model_says_it_cannot() -> None:
    two_step = moldojo.load("two-step")
    with pytest.raises(ScaffoldError, match="cannot decode from a scaffold"):
        two_step.sample(2, scaffold="c1ccccc1")


def test_keeps_scaffold_is_a_substructure_test() -> None:
    benzene = Chem.MolFromSmiles("c1ccccc1")
    assert keeps_scaffold(["Cc1ccccc1", "C1CCCCC1", None, "not smiles"], benzene) == [
        True, False, False, False]  # fmt: skip
