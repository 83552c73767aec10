"""The hierarchical model's training task: the vocabulary of the training molecules is built once
and read back from the cache, equal to a fresh one, and a damaged cache file costs only time;
streamed records build the same batches as prepared ones."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
import torch

import moldojo.models.hier.task as task_module
from hier_helpers import MOLECULES, SMALL, make_task
from moldojo.chem.graph import GraphConfig
from moldojo.chem.vocab import build_vocabulary
from moldojo.data.dataset import cache_dir
from moldojo.models.hier.task import StreamedRecords, cached_vocabulary


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a vocabulary is built (each call appends the number of molecules)."""
    calls: list[int] = []

    def counting(records, **kwargs):  # noqa: ANN001, ANN003, ANN202
        records = list(records)
        calls.append(len(records))
        return build_vocabulary(records, **kwargs)

    monkeypatch.setattr(task_module, "build_vocabulary", counting)
    return calls


def test_the_vocabulary_is_built_once_and_read_back_equal(
    builds: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOLDOJO_CACHE_DIR", str(tmp_path))
    config = GraphConfig()
    first = cached_vocabulary(MOLECULES, 1, config, source="mols")
    again = cached_vocabulary(MOLECULES, 1, config, source="mols")
    assert builds == [len(MOLECULES)]
    assert again == first and again == build_vocabulary(enumerate(MOLECULES), source="mols")[0]
    # Other molecules, another min_count or another source are other vocabularies
    cached_vocabulary(MOLECULES[:-1], 1, config, source="mols")
    cached_vocabulary(MOLECULES, 2, config, source="mols")
    cached_vocabulary(MOLECULES, 1, config, source="other")
    assert len(builds) == 4
    assert len(list((cache_dir() / "vocabularies").glob("*.vocab"))) == 4


def test_a_damaged_cache_file_is_built_again(
    builds: list[int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("MOLDOJO_CACHE_DIR", str(tmp_path))
    first = cached_vocabulary(MOLECULES, 1, GraphConfig())
    (path,) = (cache_dir() / "vocabularies").glob("*.vocab")
    path.write_text("not a vocabulary\n")
    again = cached_vocabulary(MOLECULES, 1, GraphConfig())
    assert again == first and len(builds) == 2
    assert "ignoring the unreadable cached vocabulary" in caplog.text


def test_streamed_records_build_the_batches_the_prepared_records_do() -> None:
    task = make_task(MOLECULES)
    streamed = StreamedRecords(MOLECULES, task.generator.tables, GraphConfig(), SMALL)
    rows = np.array([5, 0, 3])
    prepared, built = task.batch(rows), streamed.batch(rows)
    for field in fields(prepared):
        a, b = getattr(prepared, field.name), getattr(built, field.name)
        assert torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b, field.name

    # A molecule without a tree is left out of its batch; a batch left empty takes the next
    # molecules that have one.
    odd = StreamedRecords([*MOLECULES, "not a smiles", "C1CC"], task.generator.tables,
                          GraphConfig(), SMALL)  # fmt: skip
    assert odd.batch(np.array([0, 8, 9])).num_molecules == 1
    assert odd.batch(np.array([8, 9])).num_molecules == 1  # wrapped round to molecule 0
