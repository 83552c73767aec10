"""Featurised datasets: SMILES sources turned into packed molecular graphs, cached on disk.

Every record is accounted for: a molecule is kept, or skipped with a reason from
:data:`moldojo.chem.SKIP_REASONS` that is counted and reported with its first line numbers
(``strict=True`` makes the first bad record an error naming file and line). Featurisation runs
once per content: the result is cached under a key made of the source's content hash, the
featuriser version and the :class:`~moldojo.chem.GraphConfig`.

Imports RDKit through :mod:`moldojo.chem`; no torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from moldojo.chem import (
    FEATURIZER_VERSION,
    SKIP_REASONS,
    GraphConfig,
    MolGraph,
    canonical_smiles,
    graph_to_smiles,
    mol_to_graph,
    parse_smiles,
)
from moldojo.data.packed import PackedGraphs
from moldojo.data.sources import SmilesSource, resolve_one
from moldojo.errors import InvalidMoleculeError, InvalidSmilesError, clip_input, quote_input
from moldojo.parallel import imap_chunks
from moldojo.progress import progress_bar

__all__ = [
    "CheckReport",
    "LoadReport",
    "MolDataset",
    "SmilesList",
    "cache_dir",
    "check_source",
    "featurize",
    "load_dataset",
    "read_smiles",
]

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
_EXAMPLES = 20  # bad records remembered (line, text, reason) for reports and --strict
_LINES_PER_REASON = 5  # line numbers shown per skip reason
_CHUNK = 1000  # records per worker task
_NOT_PARSED = ("empty", "too_long", "unparsable")  # skip reasons of records RDKit did not read


@dataclass(frozen=True)
class Rejection:
    """A skipped record: where it was, what it said (cut to 1,000 characters by
    :func:`~moldojo.errors.clip_input`), and why."""

    line: int
    smiles: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class LoadReport:
    """What happened to every record of a source.

    Attributes:
        source: the source's name.
        records: records read (lines holding a record; a header is not one).
        kept: molecules kept.
        skipped: reason -> count.
        examples: the first bad records, in file order.
    """

    source: str
    records: int
    kept: int
    skipped: dict[str, int] = field(default_factory=dict)
    examples: tuple[Rejection, ...] = ()

    def summary(self) -> str:
        """One line for a log: how many were skipped, why, and where."""
        total = sum(self.skipped.values())
        if not total:
            return f"{self.source}: {self.kept} molecules, none skipped"
        parts = []
        for reason, count in sorted(self.skipped.items(), key=lambda kv: -kv[1]):
            lines = [str(r.line) for r in self.examples if r.reason == reason][:_LINES_PER_REASON]
            more = ", ..." if count > len(lines) else ""
            where = f" (line {', '.join(lines)}{more})" if lines else ""
            parts.append(f"{reason} {count}{where}")
        return (
            f"{self.source}: kept {self.kept} of {self.records} records, "
            f"skipped {total}: " + "; ".join(parts)
        )

    def to_json(self) -> dict:
        return {
            "source": self.source,
            "records": self.records,
            "kept": self.kept,
            "skipped": dict(self.skipped),
            "examples": [asdict(r) for r in self.examples],
        }

    @classmethod
    def from_json(cls, data: dict) -> LoadReport:
        return cls(
            source=data["source"],
            records=data["records"],
            kept=data["kept"],
            skipped=dict(data["skipped"]),
            examples=tuple(Rejection(**r) for r in data["examples"]),
        )


@dataclass(frozen=True, eq=False)
class MolDataset:
    """Kept molecules of one source, as canonical SMILES and packed graphs.

    Attributes:
        name: the source's name.
        smiles: ``M`` canonical (isomeric) SMILES.
        graphs: the ``M`` molecular graphs.
        lines: ``[M]`` int, each molecule's line number in the source.
        report: what was skipped and why.
        config: the graph configuration used.
    """

    name: str
    smiles: list[str]
    graphs: PackedGraphs
    lines: np.ndarray
    report: LoadReport
    config: GraphConfig

    def __len__(self) -> int:
        return len(self.smiles)

    def __getitem__(self, i: int) -> MolGraph:
        return self.graphs[i]


@dataclass(frozen=True, eq=False)
class SmilesList:
    """The records of one source as read, not yet parsed: what a streamed training run holds
    of its data (:class:`MolDataset`'s ``name``, ``smiles`` and ``lines``, without graphs).

    Attributes:
        name: the source's name.
        smiles: ``M`` SMILES as written (empty lines left out).
        lines: ``[M]`` int, each one's line number in the source.
    """

    name: str
    smiles: list[str]
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.smiles)


def read_smiles(spec: str | SmilesSource, *, smiles_column: str | None = None) -> SmilesList:
    """Every non-empty record of a source, unparsed: seconds for all of MOSES train, and memory
    for the strings only. Bad records are found later, by whoever parses them.

    Raises:
        DatasetError: the spec cannot be read.
    """
    source = (
        spec if isinstance(spec, SmilesSource) else resolve_one(spec, smiles_column=smiles_column)
    )
    smiles, lines = [], []
    for line, text in source.records():
        if text:
            smiles.append(text)
            lines.append(line)
    return SmilesList(source.name, smiles, np.asarray(lines, dtype=np.int64))


def cache_dir() -> Path:
    """Where featurised datasets are cached: ``$MOLDOJO_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/moldojo``, else ``~/.cache/moldojo``."""
    if os.environ.get("MOLDOJO_CACHE_DIR"):
        return Path(os.environ["MOLDOJO_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "moldojo"


def load_dataset(
    spec: str | SmilesSource,
    *,
    config: GraphConfig | None = None,
    strict: bool = False,
    smiles_column: str | None = None,
    use_cache: bool = True,
    jobs: int = 1,
    progress: bool | None = None,
) -> MolDataset:
    """Read, check and featurise one source (``NAME:SPLIT`` or a file), using the cache.

    Args:
        spec: a spec naming one split or file, or a resolved :class:`SmilesSource`.
        config: graph configuration; the default :class:`GraphConfig` if None.
        strict: raise on the first bad record instead of skipping it.
        smiles_column: the SMILES column of a CSV/TSV file (default: the one named 'smiles').
        use_cache: read and write the on-disk cache (:func:`cache_dir`).
        jobs: worker processes for featurisation.
        progress: show a progress bar; None shows one when stderr is a terminal.

    Raises:
        DatasetError: the spec cannot be read.
        InvalidSmilesError: ``strict`` and a record is bad; the message names file and line.
    """
    config = config or GraphConfig()
    source = (
        spec if isinstance(spec, SmilesSource) else resolve_one(spec, smiles_column=smiles_column)
    )
    path = _cache_path(source, config) if use_cache else None
    dataset = _read_cache(path, source, config) if path is not None else None
    if dataset is None:
        dataset = featurize(source, config=config, jobs=jobs, progress=progress)
        if path is not None:
            _write_cache(path, dataset)
    else:
        log.info(
            "%s: read %d featurised molecules from the cache %s", source.name, len(dataset), path
        )
    report = dataset.report
    if strict and report.examples:
        first = report.examples[0]
        raise InvalidSmilesError(
            f"{source.name}:{first.line}: {quote_input(first.smiles)}: "
            f"{SKIP_REASONS[first.reason]}{f' ({first.detail})' if first.detail else ''}; "
            "fix or remove the line, or leave out --strict to skip bad lines",
            first.reason,
        )
    if sum(report.skipped.values()):
        log.warning("%s", report.summary())
    return dataset


def featurize(
    source: SmilesSource,
    *,
    config: GraphConfig | None = None,
    jobs: int = 1,
    progress: bool | None = None,
) -> MolDataset:
    """Parse and convert every record of ``source`` (no cache)."""
    config = config or GraphConfig()
    records = list(source.records())
    lines: list[int] = []
    smiles: list[str] = []
    graphs: list[MolGraph] = []
    skipped: Counter[str] = Counter()
    examples: list[Rejection] = []
    bar = progress_bar(len(records), f"featurising {source.name}", progress)
    worker = partial(_featurize_chunk, config=config)
    for chunk in imap_chunks(worker, records, jobs=jobs, chunk_size=_CHUNK):
        for kept, rejected in chunk:
            if rejected is not None:
                skipped[rejected.reason] += 1
                if len(examples) < _EXAMPLES or _first_of_reason(examples, rejected.reason):
                    examples.append(rejected)
            else:
                line, canonical, graph = kept
                lines.append(line)
                smiles.append(canonical)
                graphs.append(graph)
        bar.update(len(chunk))
    bar.close()
    report = LoadReport(
        source=source.name,
        records=len(records),
        kept=len(smiles),
        skipped=dict(skipped),
        examples=tuple(sorted(examples, key=lambda r: r.line)),
    )
    return MolDataset(
        name=source.name,
        smiles=smiles,
        graphs=PackedGraphs.from_graphs(graphs),
        lines=np.asarray(lines, dtype=np.int64),
        report=report,
        config=config,
    )


@dataclass(frozen=True)
class CheckReport:
    """Result of :func:`check_source`: the graph round trip over every record.

    ``failures`` lists every round trip that did not give the input back (reason
    ``roundtrip``), in file order, then the first 20 skipped records and the first of each
    other skip reason, in file order: the round-trip failures, which make ``moldojo data
    check`` exit 1, cannot hide behind a file's unparsable lines.
    """

    source: str
    molecules: int
    parsed: int
    roundtrip_ok: int
    skipped: dict[str, int]
    failures: tuple[Rejection, ...]
    seconds: float

    @property
    def accepted(self) -> int:
        """Parsed molecules that passed the filters (fragments, elements, size, features),
        i.e. those whose round trip was checked."""
        filtered = sum(c for r, c in self.skipped.items() if r not in _NOT_PARSED)
        return self.parsed - filtered

    @property
    def roundtrip_failed(self) -> int:
        """Accepted molecules whose round trip did not give the input back."""
        return self.accepted - self.roundtrip_ok

    @property
    def roundtrip_failures(self) -> tuple[Rejection, ...]:
        """Every failed round trip, in file order."""
        return tuple(f for f in self.failures if f.reason == "roundtrip")

    @property
    def skip_examples(self) -> tuple[Rejection, ...]:
        """The first skipped records, in file order."""
        return tuple(f for f in self.failures if f.reason != "roundtrip")

    def to_json(self) -> dict:
        return {
            "source": self.source,
            "molecules": self.molecules,
            "parsed": self.parsed,
            "roundtrip_ok": self.roundtrip_ok,
            "skipped": dict(self.skipped),
            "failures": [asdict(f) for f in self.failures],
            "seconds": round(self.seconds, 2),
            "molecules_per_second": round(self.molecules / max(self.seconds, 1e-9), 1),
        }


def check_source(
    source: SmilesSource,
    *,
    config: GraphConfig | None = None,
    jobs: int = 1,
    progress: bool | None = None,
) -> CheckReport:
    """Parse every record and round-trip it through the graph: SMILES -> graph -> SMILES.

    A round trip is exact when the rebuilt molecule's canonical SMILES (stereo included)
    equals the input's. Never uses the cache.
    """
    config = config or GraphConfig()
    start = time.perf_counter()
    records = list(source.records())
    skipped: Counter[str] = Counter()
    roundtrip_failures: list[Rejection] = []
    examples: list[Rejection] = []
    parsed = ok = 0
    bar = progress_bar(len(records), f"checking {source.name}", progress)
    worker = partial(_check_chunk, config=config)
    for chunk in imap_chunks(worker, records, jobs=jobs, chunk_size=_CHUNK):
        for outcome in chunk:
            if outcome is None:
                parsed += 1
                ok += 1
            elif outcome.reason == "roundtrip":
                parsed += 1
                roundtrip_failures.append(outcome)
            else:
                skipped[outcome.reason] += 1
                parsed += outcome.reason not in _NOT_PARSED
                if len(examples) < _EXAMPLES or _first_of_reason(examples, outcome.reason):
                    examples.append(outcome)
        bar.update(len(chunk))
    bar.close()
    return CheckReport(
        source=source.name,
        molecules=len(records),
        parsed=parsed,
        roundtrip_ok=ok,
        skipped=dict(skipped),
        failures=(*roundtrip_failures, *examples),
        seconds=time.perf_counter() - start,
    )


# -- workers (module level so that they pickle) --------------------------------------------------


def _featurize_chunk(
    records: Sequence[tuple[int, str]], config: GraphConfig
) -> list[tuple[tuple[int, str, MolGraph] | None, Rejection | None]]:
    out: list[tuple[tuple[int, str, MolGraph] | None, Rejection | None]] = []
    for line, text in records:
        try:
            mol = parse_smiles(text, config)
            graph = mol_to_graph(mol, config)
        except InvalidSmilesError as error:
            out.append((None, Rejection(line, clip_input(text), error.reason, error.detail)))
            continue
        except InvalidMoleculeError as error:
            out.append((None, Rejection(line, clip_input(text), "unparsable", str(error))))
            continue
        out.append(((line, canonical_smiles(mol), graph), None))
    return out


def _check_chunk(records: Sequence[tuple[int, str]], config: GraphConfig) -> list[Rejection | None]:
    out: list[Rejection | None] = []
    for line, text in records:
        try:
            mol = parse_smiles(text, config)
        except InvalidSmilesError as error:
            out.append(Rejection(line, clip_input(text), error.reason, error.detail))
            continue
        expected = canonical_smiles(mol)
        try:
            got = graph_to_smiles(mol_to_graph(mol, config))
        except InvalidMoleculeError as error:
            got = f"<{error}>"
        if got == expected:
            out.append(None)
        else:
            out.append(Rejection(line, text, "roundtrip", f"expected {expected}, got {got}"))
    return out


def _first_of_reason(examples: list[Rejection], reason: str) -> bool:
    return all(r.reason != reason for r in examples)


# -- cache ---------------------------------------------------------------------------------------


def _cache_path(source: SmilesSource, config: GraphConfig) -> Path:
    key = json.dumps(
        {
            "cache_format": CACHE_FORMAT,
            "featurizer_version": FEATURIZER_VERSION,
            "config": config.model_dump(),
            "source": source.fingerprint(),
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in source.name)[-60:]
    return cache_dir() / "datasets" / f"{stem}-{digest}.npz"


def _write_cache(path: Path, dataset: MolDataset) -> None:
    arrays = dataset.graphs.to_arrays("graph_")
    arrays["lines"] = dataset.lines
    arrays["smiles"] = np.frombuffer("\n".join(dataset.smiles).encode(), dtype=np.uint8)
    arrays["report"] = np.frombuffer(json.dumps(dataset.report.to_json()).encode(), dtype=np.uint8)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
            np.savez(handle, **arrays)
        os.replace(handle.name, path)
    except OSError as error:  # a read-only or full disk costs speed, not the result
        log.warning("could not write the dataset cache %s: %s", path, error)


def _read_cache(path: Path, source: SmilesSource, config: GraphConfig) -> MolDataset | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        text = arrays["smiles"].tobytes().decode()
        smiles = text.split("\n") if text else []
        report = LoadReport.from_json(json.loads(arrays["report"].tobytes().decode()))
        graphs = PackedGraphs.from_arrays(arrays, "graph_")
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        log.warning("ignoring the unreadable cache file %s (%s); featurising again", path, error)
        return None
    if len(smiles) != len(graphs) or len(smiles) != report.kept:
        log.warning("ignoring the inconsistent cache file %s; featurising again", path)
        return None
    return MolDataset(source.name, smiles, graphs, arrays["lines"], report, config)
