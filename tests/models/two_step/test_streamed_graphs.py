"""The two-step training task: streamed graphs build the batches the prepared graphs do, and
leave out molecules the model's atom types cannot hold."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import torch

from moldojo.models.two_step.task import StreamedGraphs
from two_step_helpers import make_task

MOLECULES = ["CCO", "CC(=O)Oc1ccccc1C(=O)O", "c1ccncc1", "CCN(CC)CC", "OCC(O)CO"]


def _equal(a: object, b: object) -> bool:
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if hasattr(a, "__dataclass_fields__"):
        return all(_equal(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    return a == b


def test_streamed_graphs_build_the_batches_the_prepared_graphs_do() -> None:
    task = make_task(MOLECULES)
    streamed = StreamedGraphs(MOLECULES, task.generator)
    rows = np.array([3, 0, 1])
    prepared, built = task.batch(rows), streamed.batch(rows)
    for field in fields(prepared):
        assert _equal(getattr(prepared, field.name), getattr(built, field.name)), field.name


def test_a_molecule_outside_the_atom_types_is_left_out_of_its_batch() -> None:
    task = make_task(MOLECULES)
    # fluorine is no type of the model; twenty CH2 are more of one type than it has seen
    odd = StreamedGraphs([*MOLECULES, "CCF", "not a smiles", "C" * 22], task.generator)
    assert odd.batch(np.array([0, 5, 6, 7])).graph.num_graphs == 1
    assert [odd.graph(i) is None for i in (0, 5, 6, 7)] == [False, True, True, True]
