"""Motif vocabularies: which motifs and attachment configurations a dataset uses, how often.

A :class:`MotifVocabulary` lists motif types (:func:`~moldojo.chem.motifs.decompose`'s canonical
motif SMILES) and, for each, its attachment configurations with their counts. It is built from
SMILES on several processes (:func:`build_vocabulary`), written as a deterministic text file
(sorted, versioned header; :meth:`MotifVocabulary.write`), and used to encode trees with the
documented fallback, so that a molecule outside it is still encodable and never a ``KeyError``.
:func:`check_motifs` runs the exact round trip molecule -> tree -> molecule over a dataset.

Counts: ``count`` is how often a configuration occurs in the decompositions; ``fallback_count``
how often it occurs as a bond of an acyclic piece split by the fallback, counted as if every
piece of two bonds or more were split. ``--min-count K`` keeps configurations with
``count + fallback_count >= K``, so the bonds the fallback needs stay when rare pieces go.

Imports RDKit through :mod:`moldojo.chem`; no torch, nothing from the data layer: callers pass
``(line, smiles)`` records and an optional progress callback.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import rdkit
from rdkit import Chem

from moldojo.chem.config import GraphConfig
from moldojo.chem.motifs import (
    MOTIF_KINDS,
    MotifNode,
    MotifTree,
    _motifs,
    assemble,
    decompose,
    motif_smiles,
    split_configuration,
)
from moldojo.chem.smiles import canonical_smiles, parse_smiles
from moldojo.errors import InvalidMoleculeError, InvalidSmilesError, VocabularyError, clip_input
from moldojo.parallel import imap_chunks

__all__ = [
    "UNKNOWN_CAUSES",
    "VOCAB_FORMAT",
    "ConfigEntry",
    "MotifCheckReport",
    "MotifEntry",
    "MotifVocabulary",
    "VocabularyStats",
    "build_vocabulary",
    "check_motifs",
    "unknown_cause",
]

log = logging.getLogger(__name__)

#: Version of the text format written by :meth:`MotifVocabulary.write`.
VOCAB_FORMAT = 1
_MAGIC = "# moldojo motif vocabulary"

#: Version of what :func:`build_vocabulary` counts (the motif decomposition, the attachment
#: configurations, the fallback): part of the key of cached vocabularies, so bump it whenever a
#: change would make the same molecules give another vocabulary.
DECOMPOSITION_VERSION = 1
_LINE_FORMAT = (
    "expected 'motif SMILES KIND COUNT FALLBACK' or, after one, "
    "'config CONFIGURATION COUNT FALLBACK' (tab-separated)"
)
_CHUNK = 1000  # molecules per worker task
_EXAMPLES = 20  # failures remembered for reports
#: Minimum counts tabulated in :class:`VocabularyStats`.
MIN_COUNTS: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100, 1000)

Progress = Callable[[int], object]


# -- the vocabulary ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigEntry:
    """One attachment configuration of a motif (canonical SMILES, attachment atoms ``:1``)."""

    config: str
    count: int
    fallback_count: int = 0

    @property
    def total(self) -> int:
        return self.count + self.fallback_count


@dataclass(frozen=True)
class MotifEntry:
    """One motif type and its configurations, most frequent first."""

    smiles: str
    kind: str
    configs: tuple[ConfigEntry, ...]

    @property
    def count(self) -> int:
        return sum(c.count for c in self.configs)

    @property
    def fallback_count(self) -> int:
        return sum(c.fallback_count for c in self.configs)

    @property
    def total(self) -> int:
        return self.count + self.fallback_count


@dataclass(frozen=True, eq=False)
class MotifVocabulary:
    """Motif types with their attachment configurations and counts.

    Ids are positions: motif ``i`` is ``motifs[i]``, its configuration ``j`` is
    ``motifs[i].configs[j]``; both lists are sorted most frequent first, ties by SMILES.
    Lookups never raise: a missing motif or configuration has id -1.

    Attributes:
        motifs: the motif types.
        molecules: molecules the counts come from.
        min_count: the smallest ``count + fallback_count`` kept.
        source: where the molecules came from (informative).
    """

    motifs: tuple[MotifEntry, ...]
    molecules: int = 0
    min_count: int = 1
    source: str = ""
    _motif_ids: dict[str, int] = field(init=False, repr=False)
    _config_ids: dict[tuple[str, str], tuple[int, int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_motif_ids", {m.smiles: i for i, m in enumerate(self.motifs)})
        object.__setattr__(
            self,
            "_config_ids",
            {
                (m.smiles, c.config): (i, j)
                for i, m in enumerate(self.motifs)
                for j, c in enumerate(m.configs)
            },
        )

    def __len__(self) -> int:
        return len(self.motifs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MotifVocabulary):
            return NotImplemented
        return (self.motifs, self.molecules, self.min_count, self.source) == (
            other.motifs, other.molecules, other.min_count, other.source,
        )  # fmt: skip

    def __contains__(self, item: object) -> bool:
        """``smiles in vocab`` for a motif, ``(smiles, config) in vocab`` for a configuration."""
        if isinstance(item, tuple):
            return item in self._config_ids
        return item in self._motif_ids

    @property
    def num_configurations(self) -> int:
        return len(self._config_ids)

    def motif_id(self, smiles: str) -> int:
        """Id of a motif type, -1 when missing."""
        return self._motif_ids.get(smiles, -1)

    def config_id(self, smiles: str, config: str) -> int:
        """Id of a configuration among its motif's, -1 when either is missing."""
        return self._config_ids.get((smiles, config), (-1, -1))[1]

    def encode(self, tree: MotifTree) -> list[tuple[int, int]]:
        """``(motif id, configuration id)`` of each node, -1 where missing.

        Decompose with ``decompose(mol, vocab)`` first so that the fallback has run; what is
        still -1 then is :attr:`MotifTree.unknown`.
        """
        return [self._config_ids.get((n.smiles, n.config), (-1, -1)) for n in tree.nodes]

    def filter(self, min_count: int) -> MotifVocabulary:
        """The configurations with ``count + fallback_count >= min_count``, and their motifs."""
        motifs = []
        for motif in self.motifs:
            configs = tuple(c for c in motif.configs if c.total >= min_count)
            if configs:
                motifs.append(MotifEntry(motif.smiles, motif.kind, configs))
        return MotifVocabulary(
            tuple(_sorted_motifs(motifs)),
            self.molecules,
            max(min_count, self.min_count),
            self.source,
        )

    # -- text format -----------------------------------------------------------------------------

    def to_text(self) -> str:
        """The vocabulary file's text: a versioned header, then one ``motif`` line per motif
        followed by one ``config`` line per configuration (tab-separated, sorted)."""
        lines = [
            _MAGIC,
            f"# format: {VOCAB_FORMAT}",
            f"# rdkit: {rdkit.__version__}",
            f"# source: {self.source}",
            f"# molecules: {self.molecules}",
            f"# min_count: {self.min_count}",
            f"# motifs: {len(self.motifs)}",
            f"# configurations: {self.num_configurations}",
            "# motif<TAB>smiles<TAB>kind<TAB>count<TAB>fallback_count",
            "# config<TAB>configuration<TAB>count<TAB>fallback_count",
        ]
        for motif in self.motifs:
            lines.append(
                f"motif\t{motif.smiles}\t{motif.kind}\t{motif.count}\t{motif.fallback_count}"
            )
            lines.extend(
                f"config\t{c.config}\t{c.count}\t{c.fallback_count}" for c in motif.configs
            )
        return "\n".join(lines) + "\n"

    def write(self, path: str | Path) -> None:
        """Write :meth:`to_text` to ``path``."""
        try:
            Path(path).write_text(self.to_text())
        except OSError as error:
            message = f"cannot write the vocabulary {path}: {error.strerror}"
            raise VocabularyError(message) from error

    @classmethod
    def from_text(cls, text: str, name: str = "<text>") -> MotifVocabulary:
        """Parse :meth:`to_text`'s format.

        Raises:
            VocabularyError: not a vocabulary, a newer format, or a malformed line (the message
                names ``name`` and the line).
        """
        lines = text.splitlines()
        if not lines or lines[0].strip() != _MAGIC:
            raise VocabularyError(
                f"{name}:1: not a moldojo motif vocabulary (it must start with {_MAGIC!r}); "
                "build one with: moldojo vocab SOURCE -o FILE"
            )
        header: dict[str, str] = {}
        motifs: list[MotifEntry] = []
        current: tuple[str, str] | None = None
        configs: list[ConfigEntry] = []

        def close() -> None:
            if current is not None:
                if not configs:
                    raise VocabularyError(f"{name}: motif {current[0]} has no configuration")
                motifs.append(MotifEntry(current[0], current[1], tuple(configs)))

        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            if line.startswith("#"):
                key, sep, value = line[1:].partition(":")
                if sep and "<TAB>" not in value:
                    header[key.strip()] = value.strip()
                continue
            fields = line.split("\t")
            try:
                if fields[0] == "motif" and len(fields) == 5:
                    if fields[2] not in MOTIF_KINDS:
                        raise ValueError(f"kind {fields[2]!r} is not one of {MOTIF_KINDS}")
                    close()
                    current, configs = (fields[1], fields[2]), []
                elif fields[0] == "config" and len(fields) == 4 and current is not None:
                    configs.append(ConfigEntry(fields[1], int(fields[2]), int(fields[3])))
                else:
                    raise ValueError(_LINE_FORMAT)
            except ValueError as error:
                raise VocabularyError(f"{name}:{number}: {error}") from error
        close()
        try:
            version = int(header.get("format", "0"))
            molecules = int(header.get("molecules", "0"))
            min_count = int(header.get("min_count", "1"))
        except ValueError as error:
            raise VocabularyError(f"{name}: malformed header: {error}") from error
        if version != VOCAB_FORMAT:
            raise VocabularyError(
                f"{name}: vocabulary format {version}, this moldojo reads format {VOCAB_FORMAT}; "
                "rebuild it with: moldojo vocab SOURCE -o FILE"
            )
        if header.get("rdkit", rdkit.__version__) != rdkit.__version__:
            log.info(
                "%s was written with RDKit %s, this is %s: canonical forms are checked, not "
                "assumed", name, header["rdkit"], rdkit.__version__,
            )  # fmt: skip
        return cls(tuple(motifs), molecules, min_count, header.get("source", ""))

    @classmethod
    def read(cls, path: str | Path) -> MotifVocabulary:
        """Read a file written by :meth:`write`.

        Raises:
            VocabularyError: the file cannot be read or is not a vocabulary.
        """
        try:
            text = Path(path).read_text()
        except OSError as error:
            raise VocabularyError(f"cannot read the vocabulary {path}: {error.strerror}") from error
        except UnicodeDecodeError as error:
            raise VocabularyError(
                f"{path} is not a moldojo motif vocabulary: it is not a text file (byte "
                f"{error.object[error.start]:#04x} at offset {error.start}); give a file "
                "written by: moldojo vocab SOURCE -o FILE"
            ) from error
        return cls.from_text(text, str(path))


def _sorted_motifs(motifs: Iterable[MotifEntry]) -> list[MotifEntry]:
    out = []
    for motif in motifs:
        configs = sorted(motif.configs, key=lambda c: (-c.total, -c.count, c.config))
        out.append(MotifEntry(motif.smiles, motif.kind, tuple(configs)))
    return sorted(out, key=lambda m: (-m.total, -m.count, m.smiles))


# -- building ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VocabularyStats:
    """What :func:`build_vocabulary` saw.

    Attributes:
        source: the molecules' source.
        records: records read.
        molecules: molecules decomposed (records less those skipped).
        skipped: reason -> count of records that are not molecules moldojo accepts
            (:data:`~moldojo.chem.SKIP_REASONS`), and ``decompose_failed`` for molecules that
            could not be decomposed (a bug, logged as a warning with the molecule).
        motifs: motif types kept (after ``min_count``).
        configurations: attachment configurations kept.
        motifs_by_kind: kind -> motif types kept.
        motifs_per_molecule: mean motifs in a molecule's tree.
        atoms_per_molecule: mean atoms of a molecule.
        atoms_per_motif: mean atoms of a motif occurrence (shared atoms counted in each motif).
        configurations_per_motif: mean configurations per kept motif type.
        coverage: share of molecules whose every motif and configuration is kept.
        coverage_with_fallback: share encodable once acyclic pieces are split into bonds.
        motif_coverage: share of motif occurrences whose configuration is kept.
        by_min_count: for each minimum count: motifs, configurations, coverage,
            coverage_with_fallback.
        seconds: wall time.
    """

    source: str
    records: int
    molecules: int
    skipped: dict[str, int]
    motifs: int
    configurations: int
    motifs_by_kind: dict[str, int]
    motifs_per_molecule: float
    atoms_per_molecule: float
    atoms_per_motif: float
    configurations_per_motif: float
    coverage: float
    coverage_with_fallback: float
    motif_coverage: float
    by_min_count: dict[str, dict[str, float]]
    seconds: float

    def to_json(self) -> dict:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 2)
        data["molecules_per_second"] = round(self.records / max(self.seconds, 1e-9), 1)
        return data

    def summary(self) -> str:
        """A few lines for the terminal."""
        skipped = sum(self.skipped.values())
        kinds = ", ".join(f"{k} {v:,}" for k, v in self.motifs_by_kind.items())
        return (
            f"{self.source}: {self.molecules:,} molecules ({skipped:,} skipped), "
            f"{self.motifs:,} motifs ({kinds}), {self.configurations:,} configurations\n"
            f"  {self.motifs_per_molecule:.2f} motifs per molecule for "
            f"{self.atoms_per_molecule:.2f} atoms, {self.atoms_per_motif:.2f} atoms per motif, "
            f"{self.configurations_per_motif:.2f} configurations per motif\n"
            f"  coverage: {self.coverage:.3%} of molecules without fallback, "
            f"{self.coverage_with_fallback:.3%} with it, {self.motif_coverage:.3%} of motifs; "
            f"{self.records / max(self.seconds, 1e-9):,.0f} molecules/s"
        )


def build_vocabulary(
    records: Iterable[tuple[int, str]],
    *,
    min_count: int = 1,
    jobs: int = 1,
    progress: Progress | None = None,
    source: str = "",
    config: GraphConfig | None = None,
) -> tuple[MotifVocabulary, VocabularyStats]:
    """Decompose every molecule and count its motifs and attachment configurations.

    Args:
        records: ``(line, smiles)`` pairs; records that :func:`~moldojo.chem.parse_smiles`
            rejects are counted by reason and skipped.
        min_count: keep configurations with ``count + fallback_count >= min_count``.
        jobs: worker processes.
        progress: called with the number of records done after each chunk.
        source: recorded in the vocabulary and the statistics.
        config: which molecules are accepted; the default :class:`GraphConfig` if None.

    Returns:
        The vocabulary and what was seen.
    """
    if min_count < 1:
        raise ValueError(f"min_count={min_count} must be at least 1")
    config = config or GraphConfig()
    start = time.perf_counter()
    config_ids: dict[str, int] = {}  # configuration -> global id
    kinds: list[str] = []
    atoms_of: list[int] = []
    count_list: list[int] = []
    flat: list[np.ndarray] = []  # per chunk: global id of each motif occurrence
    per_molecule: list[np.ndarray] = []
    atoms_total = records_total = 0
    skipped: Counter[str] = Counter()
    worker = partial(_count_chunk, config=config)
    for chunk in imap_chunks(worker, records, jobs=jobs, chunk_size=_CHUNK):
        local = []  # chunk's configuration index -> global id
        for kind, text, atoms in chunk.configs:
            gid = config_ids.get(text)
            if gid is None:
                gid = config_ids[text] = len(kinds)
                kinds.append(kind)
                atoms_of.append(atoms)
                count_list.append(0)
            local.append(gid)
        seen = np.bincount(chunk.ids, minlength=len(local)).tolist()
        for gid, c in zip(local, seen, strict=True):
            count_list[gid] += c
        flat.append(np.asarray(local, np.int64)[chunk.ids])
        per_molecule.append(chunk.motifs_per_molecule)
        atoms_total += chunk.atoms
        records_total += chunk.records
        skipped.update(chunk.skipped)
        for error in chunk.errors:
            log.warning("%s: cannot decompose %s (please report this bug)", source, error)
        if progress is not None:
            progress(chunk.records)

    # The fallback's bonds: split every distinct piece of two bonds or more once, and count
    # each of its bonds as often as the piece occurs. Bonds never seen alone are added.
    pieces: dict[int, list[int]] = {}
    for gid, text in enumerate(list(config_ids)):
        if kinds[gid] != "chain":
            continue
        bonds = split_configuration(text)
        if len(bonds) == 1:
            continue
        bond_ids = []
        for bond in bonds:
            bid = config_ids.get(bond)
            if bid is None:
                bid = config_ids[bond] = len(kinds)
                kinds.append("chain")
                atoms_of.append(2)
                count_list.append(0)
            bond_ids.append(bid)
        pieces[gid] = bond_ids
    texts = list(config_ids)
    count = np.asarray(count_list, np.int64)
    fallback = np.zeros(len(texts), np.int64)
    for gid, bond_ids in pieces.items():
        for bid in bond_ids:
            fallback[bid] += count[gid]
    total = count + fallback

    # A molecule is covered at K when its rarest configuration has total >= K; with the
    # fallback, a piece counts as its rarest bond when that is more frequent than itself.
    effective = total.copy()
    for gid, bond_ids in pieces.items():
        effective[gid] = max(total[gid], min(total[b] for b in bond_ids))
    sizes = np.concatenate(per_molecule) if per_molecule else np.zeros(0, np.int32)
    ids = np.concatenate(flat) if flat else np.zeros(0, np.int64)
    n = len(sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    rarest = np.minimum.reduceat(total[ids], starts) if n else np.zeros(0, np.int64)
    rarest_fallback = np.minimum.reduceat(effective[ids], starts) if n else rarest

    entries: dict[str, list[ConfigEntry]] = {}
    motif_kind: dict[str, str] = {}
    for gid in np.flatnonzero(total >= min_count).tolist():
        smiles = motif_smiles(texts[gid])
        motif_kind[smiles] = kinds[gid]
        entries.setdefault(smiles, []).append(
            ConfigEntry(texts[gid], int(count[gid]), int(fallback[gid]))
        )
    vocab = MotifVocabulary(
        tuple(_sorted_motifs(MotifEntry(s, motif_kind[s], tuple(c)) for s, c in entries.items())),
        molecules=n,
        min_count=min_count,
        source=source,
    )

    def coverage(at_least: int) -> tuple[float, float]:
        if not n:
            return 1.0, 1.0
        return float((rarest >= at_least).mean()), float((rarest_fallback >= at_least).mean())

    by_min_count = {}
    for k in sorted({*MIN_COUNTS, min_count}):
        kept = np.flatnonzero(total >= k).tolist()
        exact, with_fallback = coverage(k)
        by_min_count[str(k)] = {
            "motifs": len({motif_smiles(texts[gid]) for gid in kept}),
            "configurations": len(kept),
            "coverage": round(exact, 6),
            "coverage_with_fallback": round(with_fallback, 6),
        }
    occurrences = int(count.sum())
    by_kind = Counter(m.kind for m in vocab.motifs)
    exact, with_fallback = coverage(min_count)
    stats = VocabularyStats(
        source=source,
        records=records_total,
        molecules=n,
        skipped=dict(skipped),
        motifs=len(vocab),
        configurations=vocab.num_configurations,
        motifs_by_kind={kind: by_kind[kind] for kind in MOTIF_KINDS},
        motifs_per_molecule=_ratio(occurrences, n),
        atoms_per_molecule=_ratio(atoms_total, n),
        atoms_per_motif=_ratio(int((count * np.asarray(atoms_of)).sum()), occurrences),
        configurations_per_motif=_ratio(vocab.num_configurations, len(vocab)),
        coverage=round(exact, 6),
        coverage_with_fallback=round(with_fallback, 6),
        motif_coverage=_ratio(int(count[total >= min_count].sum()), occurrences),
        by_min_count=by_min_count,
        seconds=time.perf_counter() - start,
    )
    return vocab, stats


def _ratio(a: float, b: float) -> float:
    return round(a / b, 4) if b else 0.0


@dataclass
class _ChunkCounts:
    """One worker task's result: distinct configurations and, per motif, which one."""

    records: int
    configs: list[tuple[str, str, int]]  # (kind, config, atoms)
    ids: np.ndarray  # [motifs] int32, index into configs
    motifs_per_molecule: np.ndarray  # [molecules] int32
    atoms: int
    skipped: Counter[str]
    errors: list[str]  # the first molecules that could not be decomposed


def _count_chunk(records: Sequence[tuple[int, str]], config: GraphConfig) -> _ChunkCounts:
    index: dict[str, int] = {}
    configs: list[tuple[str, str, int]] = []
    ids: list[int] = []
    sizes: list[int] = []
    atoms = 0
    skipped: Counter[str] = Counter()
    errors: list[str] = []
    for line, text in records:
        try:
            mol = parse_smiles(text, config)
            motifs = _motifs(mol)
        except InvalidSmilesError as error:
            skipped[error.reason] += 1
            continue
        except InvalidMoleculeError as error:  # a bug to report, not a statistic
            skipped["decompose_failed"] += 1
            if len(errors) < _EXAMPLES:
                errors.append(f"line {line}: {text}: {error}")
            continue
        atoms += mol.GetNumAtoms()
        sizes.append(len(motifs))
        for motif in motifs:
            i = index.get(motif.config)
            if i is None:
                i = index[motif.config] = len(configs)
                configs.append((motif.kind, motif.config, len(motif.atoms)))
            ids.append(i)
    return _ChunkCounts(
        records=len(records),
        configs=configs,
        ids=np.asarray(ids, np.int32),
        motifs_per_molecule=np.asarray(sizes, np.int32),
        atoms=atoms,
        skipped=skipped,
        errors=errors,
    )


# -- checking ------------------------------------------------------------------------------------


#: Why a tree node is missing from a vocabulary (:func:`unknown_cause`).
UNKNOWN_CAUSES: tuple[str, ...] = (
    "ring_system", "ring_configuration", "chain_piece", "chain_configuration", "atom",
)  # fmt: skip


def unknown_cause(node: MotifNode, vocab: MotifVocabulary) -> str:
    """What ``vocab`` lacks for a node it does not know: its motif (``ring_system``,
    ``chain_piece``), or only this attachment configuration of it (``ring_configuration``,
    ``chain_configuration``); ``atom`` for the one atom of a molecule without bonds."""
    if node.kind == "atom":
        return "atom"
    kind = "ring" if node.kind == "ring" else "chain"
    if node.smiles in vocab:
        return f"{kind}_configuration"
    return "ring_system" if kind == "ring" else "chain_piece"


@dataclass(frozen=True)
class MotifFailure:
    """A record that did not round-trip: where, what, why."""

    line: int
    smiles: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class MotifCheckReport:
    """Result of :func:`check_motifs`.

    Attributes:
        source: the records' source.
        molecules: records read.
        parsed: records that are molecules moldojo accepts (the others are ``skipped``).
        roundtrip_ok: molecules whose assembled tree has the input's canonical SMILES, stereo
            included.
        roundtrip_ok_stereo_blind: the same, assembling from motif strings and attachment
            positions only and comparing without stereo.
        fallback_used: molecules that needed the vocabulary fallback (a piece split or a motif
            unknown); 0 without a vocabulary.
        pieces_split: acyclic pieces split into bonds by the fallback.
        unknown_motifs: tree nodes still missing from the vocabulary after the fallback.
        molecules_with_unknown: molecules with at least one such node.
        unknown_by_cause: those nodes by what is missing (:data:`UNKNOWN_CAUSES`): a ring
            system never seen (``ring_system``), an attachment configuration never seen of a
            ring system that was (``ring_configuration``), the same for acyclic pieces
            (``chain_piece``, ``chain_configuration``: what the bond fallback still lacks),
            and the one atom of a molecule without bonds (``atom``).
        skipped: reason -> count of records that are not accepted molecules.
        failures: every failed round trip (reason ``roundtrip``), in file order, then the first
            20 skipped records and the first of each other skip reason, in file order: the
            round-trip failures, which make ``moldojo motifs check`` exit 1, cannot hide
            behind a file's unparsable lines.
        seconds: wall time.
    """

    source: str
    molecules: int
    parsed: int
    roundtrip_ok: int
    roundtrip_ok_stereo_blind: int
    fallback_used: int
    pieces_split: int
    unknown_motifs: int
    molecules_with_unknown: int
    unknown_by_cause: dict[str, int]
    skipped: dict[str, int]
    failures: tuple[MotifFailure, ...]
    seconds: float

    @property
    def roundtrip_failed(self) -> int:
        return self.parsed - self.roundtrip_ok

    @property
    def roundtrip_failures(self) -> tuple[MotifFailure, ...]:
        """Every failed round trip, in file order."""
        return tuple(f for f in self.failures if f.reason == "roundtrip")

    @property
    def skip_examples(self) -> tuple[MotifFailure, ...]:
        """The first skipped records, in file order."""
        return tuple(f for f in self.failures if f.reason != "roundtrip")

    def to_json(self) -> dict:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 2)
        data["molecules_per_second"] = round(self.molecules / max(self.seconds, 1e-9), 1)
        return data


def check_motifs(
    records: Iterable[tuple[int, str]],
    *,
    vocab: MotifVocabulary | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    source: str = "",
    config: GraphConfig | None = None,
) -> MotifCheckReport:
    """Round-trip every molecule through its motif tree: molecule -> tree -> molecule.

    A round trip is exact when the assembled molecule's canonical SMILES (stereo included)
    equals the input's. With ``vocab`` the trees are decomposed with the fallback, and its use
    is counted.
    """
    config = config or GraphConfig()
    start = time.perf_counter()
    totals: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    roundtrip_failures: list[MotifFailure] = []
    examples: list[MotifFailure] = []
    chunks = imap_chunks(
        partial(_check_chunk, config=config),
        records,
        jobs=jobs,
        chunk_size=_CHUNK,
        initializer=_set_worker_vocab,
        initargs=(vocab,),
    )
    for chunk in chunks:
        counts, chunk_skipped, chunk_failures = chunk
        totals.update(counts)
        skipped.update(chunk_skipped)
        for failure in chunk_failures:
            if failure.reason == "roundtrip":
                roundtrip_failures.append(failure)
            elif len(examples) < _EXAMPLES or all(f.reason != failure.reason for f in examples):
                examples.append(failure)
        if progress is not None:
            progress(counts["records"])
    return MotifCheckReport(
        source=source,
        molecules=totals["records"],
        parsed=totals["parsed"],
        roundtrip_ok=totals["ok"],
        roundtrip_ok_stereo_blind=totals["ok_blind"],
        fallback_used=totals["fallback_used"],
        pieces_split=totals["split"],
        unknown_motifs=totals["unknown"],
        molecules_with_unknown=totals["with_unknown"],
        unknown_by_cause={cause: totals[cause] for cause in UNKNOWN_CAUSES if totals[cause]},
        skipped=dict(skipped),
        failures=(*roundtrip_failures, *examples),
        seconds=time.perf_counter() - start,
    )


# The vocabulary _check_chunk decomposes with; set only by _set_worker_vocab, the pool's
# initializer, in each worker (see moldojo.parallel), so that it works under spawn too.
_WORKER_VOCAB: MotifVocabulary | None = None


def _set_worker_vocab(vocab: MotifVocabulary | None) -> None:
    global _WORKER_VOCAB
    _WORKER_VOCAB = vocab


def _check_chunk(
    records: Sequence[tuple[int, str]], config: GraphConfig
) -> tuple[Counter[str], Counter[str], list[MotifFailure]]:
    vocab = _WORKER_VOCAB
    counts: Counter[str] = Counter(records=len(records))
    skipped: Counter[str] = Counter()
    # Every failed round trip; of the skipped records, the first 20 of each reason (enough for
    # check_motifs to keep the first 20 of the file and the first of every reason).
    failures: list[MotifFailure] = []
    for line, text in records:
        try:
            mol = parse_smiles(text, config)
        except InvalidSmilesError as error:
            skipped[error.reason] += 1
            if skipped[error.reason] <= _EXAMPLES:
                failures.append(MotifFailure(line, clip_input(text), error.reason, error.detail))
            continue
        counts["parsed"] += 1
        try:
            tree = decompose(mol, vocab)
            expected = canonical_smiles(mol)
            got = canonical_smiles(assemble(tree))
            if tree.chirality or tree.bond_stereo:
                blind_ok = _stereo_blind(assemble(tree, stereo=False)) == _stereo_blind(mol)
            else:
                blind_ok = got == expected
        except InvalidMoleculeError as error:
            got, blind_ok, tree = f"<{error}>", False, None
        counts["ok"] += got == expected
        counts["ok_blind"] += blind_ok
        if tree is not None and (tree.fallback or tree.unknown):
            counts["fallback_used"] += 1
            counts["split"] += tree.fallback
            counts["unknown"] += tree.unknown
            counts["with_unknown"] += tree.unknown > 0
            if tree.unknown:
                counts.update(unknown_cause(node, vocab) for node in tree.nodes if not node.known)
        if got != expected:
            detail = f"expected {expected}, got {got}"
            failures.append(MotifFailure(line, text, "roundtrip", detail))
    return counts, skipped, failures


def _stereo_blind(mol: Chem.Mol) -> str:
    copy = Chem.Mol(mol)
    Chem.RemoveStereochemistry(copy)
    return Chem.MolToSmiles(copy)
