"""Featurised datasets: every record kept or reported, strict mode, the on-disk cache."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from moldojo.chem import GraphConfig, graph_to_smiles
from moldojo.data import PackedGraphs, check_source, load_dataset, resolve_one
from moldojo.data import dataset as dataset_module
from moldojo.errors import InvalidSmilesError

MIXED = [
    "CCO",  # 1 ok
    "",  # 2 empty
    "not_a_smiles",  # 3 unparsable
    "CC(=O)[O-].[Na+]",  # 4 multiple_fragments
    "C[Fe]C",  # 5 unsupported_element
    "C(C)(C)(C)(C)C",  # 6 unparsable (valence)
    "c1ccccc1",  # 7 ok
    "N[C@@H](C)C(=O)O",  # 8 ok
]


@pytest.fixture
def mixed_file(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.smi"
    path.write_text("\n".join(MIXED) + "\n")
    return path


def test_bad_lines_are_skipped_counted_and_located(
    mixed_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a file with good and bad lines, When it is loaded
    with caplog.at_level(logging.WARNING):
        dataset = load_dataset(str(mixed_file))
    # Then the good molecules are kept in order with their line numbers
    assert dataset.smiles == ["CCO", "c1ccccc1", "C[C@H](N)C(=O)O"]
    assert dataset.lines.tolist() == [1, 7, 8]
    # And every bad line is counted by reason and reported with its line number
    report = dataset.report
    assert report.records == 8 and report.kept == 3
    assert report.skipped == {
        "empty": 1, "unparsable": 2, "multiple_fragments": 1, "unsupported_element": 1,
    }  # fmt: skip
    assert [r.line for r in report.examples] == [2, 3, 4, 5, 6]
    assert "unparsable 2 (line 3, 6)" in caplog.text
    assert "skipped 5" in caplog.text


def test_strict_names_file_and_line(mixed_file: Path) -> None:
    with pytest.raises(InvalidSmilesError, match=rf"{mixed_file}:2: '': empty line"):
        load_dataset(str(mixed_file), strict=True)


def test_strict_also_fails_from_the_cache(mixed_file: Path) -> None:
    load_dataset(str(mixed_file))
    with pytest.raises(InvalidSmilesError, match=":2:"):
        load_dataset(str(mixed_file), strict=True)


def test_graphs_give_back_the_kept_smiles(mixed_file: Path) -> None:
    dataset = load_dataset(str(mixed_file))
    assert [graph_to_smiles(dataset[i]) for i in range(len(dataset))] == dataset.smiles


def test_second_load_does_no_featurisation(
    mixed_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_dataset(str(mixed_file))

    def fail(*args, **kwargs):
        raise AssertionError("featurised again despite the cache")

    monkeypatch.setattr(dataset_module, "featurize", fail)
    second = load_dataset(str(mixed_file))
    assert second.smiles == first.smiles
    assert second.report == first.report
    assert all(second[i] == first[i] for i in range(len(first)))


def test_cache_is_keyed_by_content_and_config(mixed_file: Path) -> None:
    load_dataset(str(mixed_file))
    mixed_file.write_text("CCCC\n")
    from moldojo.data import sources

    sources._file_digest.cache_clear()
    assert load_dataset(str(mixed_file)).smiles == ["CCCC"]
    aromatic = load_dataset(str(mixed_file), config=GraphConfig(aromaticity="aromatic"))
    assert aromatic.config.aromaticity == "aromatic"
    benzene = mixed_file.with_name("benzene.smi")
    benzene.write_text("c1ccccc1\n")
    assert 4 in load_dataset(str(benzene), config=GraphConfig(aromaticity="aromatic"))[0].bond_type
    assert 4 not in load_dataset(str(benzene))[0].bond_type


def test_corrupt_cache_is_ignored_with_a_warning(
    mixed_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = load_dataset(str(mixed_file))
    source = resolve_one(str(mixed_file))
    path = dataset_module._cache_path(source, GraphConfig())
    path.write_bytes(b"not a zip file")
    with caplog.at_level(logging.WARNING):
        again = load_dataset(str(mixed_file))
    assert again.smiles == first.smiles
    assert "unreadable cache" in caplog.text


def test_parallel_featurisation_matches_serial(
    mixed_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dataset_module, "_CHUNK", 2)
    source = resolve_one(str(mixed_file))
    serial = dataset_module.featurize(source, jobs=1)
    parallel = dataset_module.featurize(source, jobs=2)
    assert serial.smiles == parallel.smiles
    assert serial.report == parallel.report


def test_size_limit_and_element_list_are_skip_reasons(tmp_path: Path) -> None:
    path = tmp_path / "mols.smi"
    path.write_text("CCCCCCCCCC\nCCO\nCS\n")
    config = GraphConfig(elements=("C", "O"), max_heavy_atoms=5)
    dataset = load_dataset(str(path), config=config)
    assert dataset.smiles == ["CCO"]
    assert dataset.report.skipped == {"too_large": 1, "unsupported_element": 1}


def test_moses_mini_test_loads() -> None:
    dataset = load_dataset("moses-mini:test")
    assert len(dataset) == 5_000 and not dataset.report.skipped
    assert dataset.graphs.num_heavy_atoms.min() >= 8


def test_check_source_reports_the_issue_keys(mixed_file: Path) -> None:
    report = check_source(resolve_one(str(mixed_file))).to_json()
    assert {"molecules", "parsed", "roundtrip_ok", "skipped", "failures"} <= set(report)
    assert (report["molecules"], report["parsed"], report["roundtrip_ok"]) == (8, 5, 3)
    assert report["failures"][0] == {"line": 2, "smiles": "", "reason": "empty", "detail": ""}


def test_packed_graphs_round_trip_and_concat(mixed_file: Path) -> None:
    dataset = load_dataset(str(mixed_file))
    graphs = [dataset[i] for i in range(len(dataset))]
    packed = PackedGraphs.from_graphs(graphs)
    assert all(packed[i] == g for i, g in enumerate(graphs))
    assert packed[-1] == graphs[-1]
    joined = PackedGraphs.concat([packed, packed.select(np.array([2, 0]))])
    assert len(joined) == 5 and joined[3] == graphs[2] and joined[4] == graphs[0]
    restored = PackedGraphs.from_arrays(joined.to_arrays("x_"), "x_")
    assert all(restored[i] == joined[i] for i in range(5))
    assert packed.num_heavy_atoms.tolist() == [3, 6, 6]
    with pytest.raises(IndexError):
        packed[3]


def test_empty_file_gives_an_empty_dataset(tmp_path: Path) -> None:
    path = tmp_path / "empty.smi"
    path.write_text("")
    dataset = load_dataset(str(path))
    assert len(dataset) == 0 and dataset.report.records == 0
    assert len(dataset.graphs) == 0


def test_overlong_record_is_skipped_as_too_long_and_kept_short(tmp_path: Path) -> None:
    # Given a file with one line of a million characters between two molecules
    path = tmp_path / "long.smi"
    path.write_text("CCO\n" + "C" * 1_000_000 + "\nc1ccccc1\n")
    # When it is loaded
    dataset = load_dataset(str(path))
    # Then that line is skipped as too_long (RDKit never sees it), counted like the others
    assert dataset.smiles == ["CCO", "c1ccccc1"]
    assert dataset.report.skipped == {"too_long": 1}
    (example,) = dataset.report.examples
    assert (example.line, example.reason) == (2, "too_long")
    assert example.detail == "1,000,000 > 10,000 characters"
    # And the report keeps only its start, for the cache and JSON
    assert len(example.smiles) <= 1_003 and example.smiles.endswith("...")
    # And the limit is the config's
    config = GraphConfig(max_smiles_length=3)
    assert load_dataset(str(path), config=config).report.skipped == {"too_long": 2}


def test_check_source_lists_every_roundtrip_failure_before_the_skipped_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 30 unparsable lines, then 25 molecules whose round trip fails (a broken converter)
    path = tmp_path / "mols.smi"
    path.write_text("not_a_smiles\n" * 30 + "CCO\n" * 25 + "CCN\n")
    monkeypatch.setattr(
        dataset_module, "graph_to_smiles", lambda g: "CCN" if 7 in g.atomic_num else "C"
    )
    # When the source is checked
    report = check_source(resolve_one(str(path)))
    # Then all 25 round-trip failures come first, in file order, then the first skipped records
    assert report.roundtrip_failed == 25 and report.roundtrip_ok == 1
    assert [f.line for f in report.roundtrip_failures] == list(range(31, 56))
    assert [f.reason for f in report.failures[:25]] == ["roundtrip"] * 25
    assert [f.line for f in report.skip_examples] == list(range(1, 21))
    assert report.skipped == {"unparsable": 30}
    assert len(report.to_json()["failures"]) == 45
