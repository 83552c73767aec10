"""Where SMILES come from: dataset names, splits, files and their formats."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import pytest

from moldojo.data import DATASETS, resolve, resolve_one
from moldojo.data import sources as sources_module
from moldojo.errors import DatasetError


def records(spec: str, **kwargs) -> list[tuple[int, str]]:
    return list(resolve_one(spec, **kwargs).records())


def test_moses_mini_is_embedded_with_its_fixed_sizes() -> None:
    sizes = {s.name: sum(1 for _ in s.records()) for s in resolve("moses-mini")}
    assert sizes == {
        "moses-mini:train": 50_000,
        "moses-mini:valid": 5_000,
        "moses-mini:test": 5_000,
    }


def test_moses_mini_is_small_enough_to_ship() -> None:
    files = [f for s in resolve("moses-mini") for f in s.files]
    assert sum(f.stat().st_size for f in files) <= 2_000_000


@pytest.mark.skipif(importlib.util.find_spec("moses") is None, reason="molsets not installed")
def test_moses_test_split_has_the_published_size() -> None:
    assert len(records("moses:test")) == 176_074
    assert records("moses:test")[0][0] == 2  # line 1 is the CSV header


@pytest.mark.parametrize(
    ("package", "spec", "advice"),
    [
        ("moses", "moses:test", r"pip install --no-deps molsets==0\.3\.1"),
        ("qm9pack", "qm9:train", r"pip install 'moldojo\[qm9\]'"),
    ],
)
def test_missing_data_package_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, package: str, spec: str, advice: str
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == package else real(name, *a)
    )
    with pytest.raises(DatasetError, match=advice):
        resolve(spec)


@pytest.mark.skipif(importlib.util.find_spec("qm9pack") is None, reason="qm9pack not installed")
def test_qm9_splits_are_fixed_disjoint_and_complete() -> None:
    splits = {s.name: [line for line, _ in s.records()] for s in resolve("qm9")}
    sizes = {name: len(ids) for name, ids in splits.items()}
    assert sizes == {"qm9:train": 110_831, "qm9:valid": 10_000, "qm9:test": 10_000}
    all_ids = [i for ids in splits.values() for i in ids]
    assert len(set(all_ids)) == 130_831
    assert splits["qm9:test"] == [line for line, _ in resolve_one("qm9:test").records()]


def test_unknown_names_and_splits_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="datasets: moses-mini, moses, qm9"):
        resolve("zinc")
    with pytest.raises(DatasetError, match="its splits are train, valid, test"):
        resolve("moses-mini:training")
    with pytest.raises(DatasetError, match="no such file"):
        resolve(str(tmp_path / "missing.smi"))
    with pytest.raises(DatasetError, match="several splits"):
        resolve_one("moses-mini")
    assert set(DATASETS) == {"moses-mini", "moses", "qm9"}


def test_smi_file_takes_first_token_skips_header_and_keeps_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "mols.smi"
    path.write_text("SMILES\nCCO ethanol\n\n  c1ccccc1\tbenzene\n")
    assert records(str(path)) == [(2, "CCO"), (3, ""), (4, "c1ccccc1")]


def test_gzipped_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "mols.smi.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("CCO\nCCN\n")
    assert records(str(path)) == [(1, "CCO"), (2, "CCN")]


def test_csv_finds_the_smiles_column_and_counts_physical_lines(tmp_path: Path) -> None:
    path = tmp_path / "mols.csv"
    path.write_text('id,note,Smiles\n1,"two\nlines",CCO\n2,x,CCN\n')
    assert records(str(path)) == [(2, "CCO"), (4, "CCN")]


def test_tsv_and_named_column(tmp_path: Path) -> None:
    path = tmp_path / "mols.tsv"
    path.write_text("id\tstructure\n1\tCCO\n")
    assert records(str(path), smiles_column="structure") == [(2, "CCO")]
    with pytest.raises(DatasetError, match="--smiles-column"):
        records(str(path))
    with pytest.raises(DatasetError, match="no column 'smi'"):
        records(str(path), smiles_column="smi")


def test_smiles_column_on_a_txt_file_sniffs_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "mols.txt"
    path.write_text("name,smi\na,CCO\n")
    assert records(str(path), smiles_column="smi") == [(2, "CCO")]


def test_undecodable_bytes_become_an_unparsable_record_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "mols.smi"
    path.write_bytes(b"CCO\n\xff\xfe\n")
    assert records(str(path))[1] == (2, "\ufffd\ufffd")


def test_truncated_gzip_is_a_dataset_error(tmp_path: Path) -> None:
    path = tmp_path / "mols.smi.gz"
    path.write_bytes(gzip.compress(b"CCO\n" * 1000)[:40])
    with pytest.raises(DatasetError, match="cannot read"):
        records(str(path))


def test_fingerprint_follows_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "mols.smi"
    path.write_text("CCO\n")
    before = resolve_one(str(path)).fingerprint()
    path.write_text("CCN\n")
    sources_module._file_digest.cache_clear()
    assert resolve_one(str(path)).fingerprint() != before


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("mols.csv", "smiles,id\nCCO,1\nCCN,2\n", [(2, "CCO"), (3, "CCN")]),
        ("mols.tsv", "id\tSMILES\n1\tCCO\n", [(2, "CCO")]),
        ("mols.smi", "CCO\nCCN\n", [(1, "CCO"), (2, "CCN")]),
        ("mols.csv.gz", "smiles\nCCO\n", [(2, "CCO")]),
    ],
    ids=["csv", "tsv", "smi", "csv-gz"],
)
def test_byte_order_mark_is_dropped(tmp_path: Path, name: str, text: str, expected) -> None:
    # Given a file saved with a UTF-8 byte-order mark (as Excel does)
    path = tmp_path / name
    data = "\ufeff".encode() + text.encode()
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    # When it is read, Then the mark is not part of the header or of the first record
    assert records(str(path)) == expected


def test_directory_is_named_as_a_directory(tmp_path: Path) -> None:
    # Given a directory where a file is expected (with or without an extension)
    for directory in (tmp_path / "mols.smi", tmp_path / "runs"):
        directory.mkdir()
        # When it is resolved, Then the error says it is a directory, not that it is missing
        with pytest.raises(DatasetError, match="is a directory; give a file of SMILES"):
            resolve(str(directory))


def test_dataset_name_wins_over_a_directory_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a directory called like a dataset in the working directory
    monkeypatch.chdir(tmp_path)
    (tmp_path / "moses-mini").mkdir()
    # When the name is resolved, Then it is the dataset
    assert [s.name for s in resolve("moses-mini")][0] == "moses-mini:train"
