"""Where SMILES come from: named datasets with splits, and files.

A *spec* names what to read: ``NAME[:SPLIT]`` for a dataset below, or a path to a file (one
SMILES per line, or CSV/TSV with a SMILES column, optionally gzipped).

========== ========================== ==================================================
name       splits                     origin
========== ========================== ==================================================
moses-mini train, valid, test         shipped inside moldojo: a fixed-seed sample of MOSES
                                      (50,000 / 5,000 from MOSES train, 5,000 from test)
moses      train, test, test-scaffolds the molsets 0.3.1 wheel (``make install`` adds it)
qm9        train, valid, test         the qm9pack wheel (``pip install 'moldojo[qm9]'``),
                                      split by a fixed-seed permutation
========== ========================== ==================================================

Reading only: no RDKit, no torch.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import importlib.util
import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from moldojo.errors import DatasetError

__all__ = ["DATASETS", "QM9_SPLIT_SEED", "DatasetInfo", "SmilesSource", "resolve"]

#: Seed of the permutation that splits QM9 into train / valid / test.
QM9_SPLIT_SEED = 0
QM9_HELD_OUT = 10_000  # molecules in each of QM9's valid and test splits

_EMBEDDED = Path(__file__).parent / "embedded"


@dataclass(frozen=True)
class DatasetInfo:
    """A named dataset: its splits and a sentence about it."""

    name: str
    splits: tuple[str, ...]
    description: str


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            "moses-mini",
            ("train", "valid", "test"),
            "embedded fixed-seed sample of MOSES: 50k train, 5k valid (from MOSES train), "
            "5k test (from MOSES test)",
        ),
        DatasetInfo(
            "moses",
            ("train", "test", "test-scaffolds"),
            "MOSES benchmark splits from the molsets 0.3.1 wheel (1.58M / 176k / 176k)",
        ),
        DatasetInfo(
            "qm9",
            ("train", "valid", "test"),
            "QM9 (130,831 molecules) from the qm9pack wheel, fixed-seed split 110,831 / 10k / 10k",
        ),
    )
}


@dataclass(frozen=True)
class SmilesSource:
    """One readable list of SMILES: a dataset split or a file.

    Attributes:
        name: what the user wrote, normalised (``"moses:test"``, ``"data/mols.csv"``).
        files: the files read, for content hashing.
        reader: yields ``(line_number, smiles_text)`` for every record, bad ones included.
        key: extra text that changes the content without changing the files (split, column).
    """

    name: str
    files: tuple[Path, ...]
    reader: Callable[[], Iterator[tuple[int, str]]]
    key: str = ""

    def records(self) -> Iterator[tuple[int, str]]:
        """``(line_number, text)`` for each record; line numbers are 1-based in the file."""
        return self.reader()

    def fingerprint(self) -> str:
        """SHA-256 of the files' bytes and :attr:`key`: changes whenever the content can."""
        digest = hashlib.sha256(self.key.encode())
        for path in self.files:
            digest.update(_file_digest(path, path.stat().st_size, path.stat().st_mtime_ns).encode())
        return digest.hexdigest()


def resolve(spec: str, *, smiles_column: str | None = None) -> list[SmilesSource]:
    """The sources a spec names: one per split (all splits when a dataset has no ``:SPLIT``).

    Raises:
        DatasetError: unknown name or split, missing file, or missing data package.
    """
    if not spec.strip():  # Path("") is the current directory
        raise DatasetError(f"{spec!r} names no data; give a dataset name or a file of SMILES")
    path = Path(spec).expanduser()
    if path.is_file():
        return [_file_source(path, smiles_column)]
    name, _, split = spec.partition(":")
    if name not in DATASETS:
        if path.is_dir():
            raise DatasetError(f"{spec} is a directory; give a file of SMILES or a dataset name")
        if path.suffix or "/" in spec or "\\" in spec:
            raise DatasetError(f"{spec}: no such file")
        known = ", ".join(DATASETS)
        raise DatasetError(f"{spec!r} is neither a file nor a dataset; datasets: {known}")
    info = DATASETS[name]
    if split and split not in info.splits:
        raise DatasetError(
            f"{name} has no split {split!r}; its splits are {', '.join(info.splits)}"
        )
    splits = [split] if split else list(info.splits)
    return [_DATASET_SOURCES[name](s) for s in splits]


def resolve_one(spec: str, *, smiles_column: str | None = None) -> SmilesSource:
    """Like :func:`resolve`, for a spec that must name exactly one split or file."""
    sources = resolve(spec, smiles_column=smiles_column)
    if len(sources) != 1:
        splits = ", ".join(s.name for s in sources)
        raise DatasetError(f"{spec!r} has several splits; name one of them: {splits}")
    return sources[0]


# -- datasets ------------------------------------------------------------------------------------


def _moses_mini(split: str) -> SmilesSource:
    path = _EMBEDDED / f"moses_mini_{split}.smi.gz"
    if not path.is_file():
        raise DatasetError(f"the embedded dataset file {path} is missing: reinstall moldojo")
    return SmilesSource(f"moses-mini:{split}", (path,), lambda: _read_lines(path), key=split)


def moses_data_dir() -> Path:
    """``moses/dataset/data`` inside the installed molsets wheel, found without importing it
    (``import moses`` fails on current RDKit and pandas)."""
    spec = importlib.util.find_spec("moses")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError(
            "the MOSES splits come from the molsets wheel, which is not installed; "
            "install it with: pip install --no-deps molsets==0.3.1 (make install does this)"
        )
    directory = Path(next(iter(spec.submodule_search_locations))) / "dataset" / "data"
    if not directory.is_dir():
        raise DatasetError(f"molsets is installed but {directory} is missing: reinstall molsets")
    return directory


def _moses(split: str) -> SmilesSource:
    path = moses_data_dir() / f"{split.replace('-', '_')}.csv.gz"
    if not path.is_file():
        raise DatasetError(f"{path} is missing from the molsets wheel: reinstall molsets==0.3.1")
    return SmilesSource(
        f"moses:{split}", (path,), lambda: _read_table(path, ",", "SMILES"), key=split
    )


def qm9_files() -> tuple[Path, ...]:
    """The CSV files of the qm9pack wheel, in QM9 index order."""
    spec = importlib.util.find_spec("qm9pack")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError(
            "QM9 comes from the qm9pack wheel, which is not installed; "
            "install it with: pip install 'moldojo[qm9]' (or pip install qm9pack)"
        )
    directory = Path(next(iter(spec.submodule_search_locations))) / "data"
    files = tuple(directory / f"qm9_part{k}.csv" for k in (1, 2, 3))
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise DatasetError(f"qm9pack is installed but {missing[0]} is missing: reinstall qm9pack")
    return files


def _qm9(split: str) -> SmilesSource:
    files = qm9_files()
    return SmilesSource(f"qm9:{split}", files, lambda: _qm9_records(files, split), key=split)


def _qm9_records(files: tuple[Path, ...], split: str) -> Iterator[tuple[int, str]]:
    """QM9 molecules of one split; the 'line number' is the molecule's QM9 index."""
    rows = _qm9_rows(files)
    order = np.random.default_rng(QM9_SPLIT_SEED).permutation(len(rows))
    chosen = {
        "test": order[:QM9_HELD_OUT],
        "valid": order[QM9_HELD_OUT : 2 * QM9_HELD_OUT],
        "train": order[2 * QM9_HELD_OUT :],
    }[split]
    for i in np.sort(chosen).tolist():
        yield rows[i]


@lru_cache(maxsize=1)
def _qm9_rows(files: tuple[Path, ...]) -> tuple[tuple[int, str], ...]:
    rows: list[tuple[int, str]] = []
    csv.field_size_limit(sys.maxsize)  # rows hold long coordinate strings
    for path in files:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            index_col, smiles_col = header.index("Index"), header.index("SMILES")
            rows.extend((int(row[index_col]), row[smiles_col]) for row in reader)
    return tuple(rows)


_DATASET_SOURCES: dict[str, Callable[[str], SmilesSource]] = {
    "moses-mini": _moses_mini,
    "moses": _moses,
    "qm9": _qm9,
}

# -- files ---------------------------------------------------------------------------------------


def _file_source(path: Path, smiles_column: str | None) -> SmilesSource:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    kind = suffixes[-1] if suffixes else ""
    if kind in (".csv", ".tsv") or smiles_column is not None:
        delimiter = "\t" if kind == ".tsv" else "," if kind == ".csv" else _sniff_delimiter(path)
        return SmilesSource(
            str(path),
            (path,),
            lambda: _read_table(path, delimiter, smiles_column),
            key=f"table:{delimiter}:{smiles_column}",
        )
    return SmilesSource(str(path), (path,), lambda: _read_lines(path), key="lines")


def _open_text(path: Path) -> io.TextIOBase:
    # Undecodable bytes become U+FFFD, so such a line is reported as unparsable, not a crash;
    # utf-8-sig drops a byte-order mark (Excel writes one), which would stick to the first
    # record or to the header's first column name.
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="replace", newline="")
    return path.open(encoding="utf-8-sig", errors="replace", newline="")


def _read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """One SMILES per line, first whitespace-separated token; a ``smiles`` header is skipped."""
    try:
        with _open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                text = line.split(maxsplit=1)[0] if line.strip() else ""
                if number == 1 and text.lower() == "smiles":
                    continue
                yield number, text
    except (OSError, EOFError) as error:  # e.g. a truncated .gz
        raise DatasetError(f"{path}: cannot read: {error}") from error


def _read_table(path: Path, delimiter: str, column: str | None) -> Iterator[tuple[int, str]]:
    try:
        with _open_text(path) as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                return
            index = _smiles_column(path, header, column)
            previous_line = reader.line_num
            for row in reader:
                line = previous_line + 1  # the row's first line (a quoted field may span several)
                previous_line = reader.line_num
                if not row:
                    yield line, ""
                    continue
                yield line, row[index].strip() if index < len(row) else ""
    except (OSError, EOFError, csv.Error) as error:
        raise DatasetError(f"{path}: cannot read: {error}") from error


def _smiles_column(path: Path, header: list[str], column: str | None) -> int:
    names = [h.strip() for h in header]
    if column is not None:
        if column in names:
            return names.index(column)
        raise DatasetError(
            f"{path}: no column {column!r}; its columns are {names}; pass --smiles-column NAME"
        )
    lowered = [n.lower() for n in names]
    if "smiles" in lowered:
        return lowered.index("smiles")
    if len(names) == 1:
        return 0
    raise DatasetError(
        f"{path}: no column named 'smiles' among {names}; say which with --smiles-column NAME"
    )


def _sniff_delimiter(path: Path) -> str:
    with _open_text(path) as handle:
        first = handle.readline()
    return "\t" if "\t" in first else ","


@lru_cache(maxsize=64)
def _file_digest(path: Path, size: int, mtime_ns: int) -> str:
    """SHA-256 of a file, remembered per (path, size, mtime) within the process."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
