"""Tests of :mod:`moldojo.chem.vocab`: counting motifs, the vocabulary file, the fallback.

Counts are checked by hand on tiny sets; the file must round-trip and be byte-identical
whatever the record order, the SMILES writing or the number of processes.
"""

from __future__ import annotations

import itertools
import random

import pytest
from rdkit import Chem

from moldojo.chem import parse_smiles
from moldojo.chem import vocab as vocab_module
from moldojo.chem.motifs import decompose
from moldojo.chem.vocab import (
    UNKNOWN_CAUSES,
    VOCAB_FORMAT,
    ConfigEntry,
    MotifEntry,
    MotifVocabulary,
    build_vocabulary,
    check_motifs,
    unknown_cause,
)
from moldojo.data import resolve_one
from moldojo.errors import VocabularyError

TOLUENES = ["Cc1ccccc1", "CCc1ccccc1", "Cc1ccc(C)cc1", "Fc1ccccc1"]


def _records(smiles: list[str]) -> list[tuple[int, str]]:
    return list(enumerate(smiles, start=1))


@pytest.fixture(scope="module")
def mini() -> list[tuple[int, str]]:
    """600 molecules of moses-mini's validation split."""
    return list(itertools.islice(resolve_one("moses-mini:valid").records(), 600))


def test_counts_on_a_hand_made_set() -> None:
    # Given toluene, ethylbenzene, p-xylene and fluorobenzene
    # When their vocabulary is built
    vocab, stats = build_vocabulary(_records(TOLUENES))
    # Then benzene is seen 4 times, in two configurations (one or two para attachments)
    benzene = vocab.motifs[vocab.motif_id("c1ccccc1")]
    assert benzene.kind == "ring" and benzene.count == 4
    assert {c.config: c.count for c in benzene.configs} == {
        "c1cc[cH:1]cc1": 3,
        "c1c[cH:1]cc[cH:1]1": 1,
    }
    # and the pieces: a methyl 3 times (on toluene and twice on xylene), ethyl once, F once
    assert {c.config: c.count for m in vocab.motifs if m.kind == "chain" for c in m.configs} == {
        "C[CH3:1]": 3,
        "CC[CH3:1]": 1,
        "F[CH3:1]": 1,
        "[CH3:1][CH3:1]": 0,  # a bond of the split ethyl piece, kept for the fallback
    }
    ethyl_bonds = vocab.motifs[vocab.motif_id("CC")].configs
    assert ConfigEntry("[CH3:1][CH3:1]", 0, 1) in ethyl_bonds
    assert ConfigEntry("C[CH3:1]", 3, 1) in ethyl_bonds
    # and the statistics add up: 9 motifs for 4 molecules of 30 atoms in all
    assert stats.molecules == 4 and stats.records == 4
    assert stats.motifs_per_molecule == pytest.approx(9 / 4)
    assert stats.atoms_per_molecule == pytest.approx(30 / 4)
    assert stats.atoms_per_motif == pytest.approx((4 * 6 + 3 * 2 + 3 + 2) / 9, abs=1e-4)
    assert stats.coverage == stats.coverage_with_fallback == 1.0


def test_charges_added_by_sanitisation_are_read() -> None:
    # Given a nitro group written without brackets, which RDKit turns into [N+](=O)[O-]
    # When the vocabulary is built
    vocab, stats = build_vocabulary(_records(["O=N(=O)C1=CC=CN1"]))
    # Then the molecule is decomposed and its piece carries the charges
    assert stats.skipped == {} and stats.molecules == 1
    assert "O=[N+]([O-])[CH3:1]" in {c.config for m in vocab.motifs for c in m.configs}


def test_bad_records_are_counted_and_skipped() -> None:
    # Given records with an unparsable line, a salt and an empty line
    records = _records(["CCO", "C1CC", "CC(=O)[O-].[Na+]", "", "c1ccccc1"])
    # When the vocabulary is built
    vocab, stats = build_vocabulary(records)
    # Then the good molecules are counted and the others skipped with their reason
    assert stats.records == 5 and stats.molecules == 2
    assert stats.skipped == {"unparsable": 1, "multiple_fragments": 1, "empty": 1}
    assert "CCO" in vocab and "c1ccccc1" in vocab


def test_file_roundtrip_and_determinism(tmp_path, mini) -> None:
    # Given the vocabulary of 600 molecules
    vocab, _ = build_vocabulary(mini, source="moses-mini:valid")
    path = tmp_path / "mini.vocab"
    # When it is written and read back
    vocab.write(path)
    again = MotifVocabulary.read(path)
    # Then it is equal, and the file starts with its versioned header
    assert again == vocab
    text = path.read_text()
    assert text.startswith(f"# moldojo motif vocabulary\n# format: {VOCAB_FORMAT}\n")
    assert again.to_text() == text
    # and the same molecules in another order, written as other SMILES, on 2 processes, give
    # the same bytes
    shuffled = list(mini)
    random.Random(0).shuffle(shuffled)
    rewritten = [
        (line, Chem.MolToRandomSmilesVect(parse_smiles(s), 1, randomSeed=line)[0])
        for line, s in shuffled
    ]
    other, _ = build_vocabulary(rewritten, jobs=2, source="moses-mini:valid")
    assert other.to_text() == text


def test_min_count_keeps_frequent_configurations_and_the_fallback_bonds(mini) -> None:
    # Given the full vocabulary of 600 molecules
    full, _ = build_vocabulary(mini)
    # When it is built with --min-count 3
    vocab, stats = build_vocabulary(mini, min_count=3)
    # Then exactly the configurations with count + fallback_count >= 3 remain, as filter gives
    assert vocab == full.filter(3)
    kept = {(m.smiles, c.config) for m in vocab.motifs for c in m.configs}
    frequent = {(m.smiles, c.config) for m in full.motifs for c in m.configs if c.total >= 3}
    assert kept == frequent
    assert stats.by_min_count["3"]["configurations"] == len(kept)
    assert stats.by_min_count["1"]["configurations"] == full.num_configurations
    # and the fallback covers more molecules than the vocabulary alone
    assert stats.coverage < stats.coverage_with_fallback <= 1.0
    assert vocab.min_count == 3


def test_encoding_never_raises_for_missing_motifs() -> None:
    # Given a vocabulary of benzene rings with methyls only
    vocab, _ = build_vocabulary(_records(["Cc1ccccc1", "Cc1ccc(C)cc1"]))
    # When a molecule with an unknown ring system and an unknown piece is decomposed with it
    tree = decompose(parse_smiles("CC(=O)Nc1ccc2ccccc2c1"), vocab)
    # Then unknown nodes are encoded -1, and known ones by their ids
    ids = vocab.encode(tree)
    assert len(ids) == len(tree)
    assert (-1, -1) in ids and tree.unknown == sum(i == (-1, -1) for i in ids)
    assert vocab.motif_id("C1CC1") == -1 and vocab.config_id("c1ccccc1", "C") == -1
    assert "C1CC1" not in vocab and ("c1ccccc1", "c1cc[cH:1]cc1") in vocab


def test_check_report_counts_roundtrips_skips_and_fallback() -> None:
    # Given records with a bad line, and a vocabulary built from others
    records = _records(["CC(=O)Nc1ccc(O)cc1", "not_a_smiles", "C[C@H](N)C(=O)O", "c1ccccc1"])
    vocab, _ = build_vocabulary(_records(["c1ccccc1O", "CC(N)C(=O)O"]))
    # When the motif round trip is checked
    report = check_motifs(records, vocab=vocab, source="test")
    # Then every parsed molecule round-trips and the bad line is skipped
    assert report.molecules == 4 and report.parsed == 3
    assert report.roundtrip_ok == report.roundtrip_ok_stereo_blind == 3
    assert report.skipped == {"unparsable": 1}
    # and the fallback is counted: the acetamide piece is split, two of its N-C bonds, the
    # para-disubstituted ring and the bare benzene stay unknown
    assert report.fallback_used == 2 and report.pieces_split == 1
    assert report.unknown_motifs == 4 and report.molecules_with_unknown == 2
    # by cause: an N-C bond and benzene were seen, but never attached these ways
    assert report.unknown_by_cause == {"ring_configuration": 2, "chain_configuration": 2}
    assert [f.line for f in report.failures] == [2]
    assert report.to_json()["roundtrip_ok"] == 3


def test_spawned_workers_count_and_check_like_this_process(mini, monkeypatch) -> None:
    # Given records over several chunks, and worker processes that share nothing with this one
    monkeypatch.setattr(vocab_module, "_CHUNK", 100)
    monkeypatch.setenv("MOLDOJO_START_METHOD", "spawn")
    # When the vocabulary is built and the round trip checked, in them and here
    vocab, _ = build_vocabulary(mini[:300], min_count=2)
    spawned, _ = build_vocabulary(mini[:300], min_count=2, jobs=2)
    serial = check_motifs(mini, vocab=vocab, jobs=1)
    parallel = check_motifs(mini, vocab=vocab, jobs=2)
    # Then the results are the same: the vocabulary reached the workers (it is needed, since
    # some motifs fall back)
    assert spawned == vocab
    assert serial.fallback_used > 0
    assert {**parallel.to_json(), "seconds": 0, "molecules_per_second": 0} == {
        **serial.to_json(),
        "seconds": 0,
        "molecules_per_second": 0,
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello\n", r"x\.vocab:1: not a moldojo motif vocabulary"),
        ("# moldojo motif vocabulary\n# format: 99\n", "format 99"),
        ("# moldojo motif vocabulary\n# format: 1\nmotif\tC\tring\t1\n", r"x\.vocab:3"),
        ("# moldojo motif vocabulary\n# format: 1\nconfig\tC\t1\t0\n", r"x\.vocab:3"),
        ("# moldojo motif vocabulary\n# format: 1\nmotif\tC\tblob\t1\t0\n", "kind 'blob'"),
        ("# moldojo motif vocabulary\n# format: 1\nmotif\tC\tatom\t1\t0\n", "no configuration"),
    ],
    ids=["not-a-vocab", "newer-format", "short-line", "orphan-config", "bad-kind", "empty"],
)
def test_malformed_files_name_file_and_line(tmp_path, text: str, message: str) -> None:
    # Given a malformed vocabulary file
    path = tmp_path / "x.vocab"
    path.write_text(text)
    # When it is read, Then the error says where and what
    with pytest.raises(VocabularyError, match=message):
        MotifVocabulary.read(path)


def test_missing_file_is_a_vocabulary_error(tmp_path) -> None:
    with pytest.raises(VocabularyError, match="cannot read"):
        MotifVocabulary.read(tmp_path / "missing.vocab")


def test_entries_sort_most_frequent_first() -> None:
    # Given entries in no order
    vocab = MotifVocabulary(
        (MotifEntry("C", "atom", (ConfigEntry("C", 1),)),
         MotifEntry("CC", "chain", (ConfigEntry("CC", 1), ConfigEntry("C[CH3:1]", 5)))),
    ).filter(1)  # fmt: skip
    # Then motifs and configurations come most frequent first
    assert [m.smiles for m in vocab.motifs] == ["CC", "C"]
    assert [c.config for c in vocab.motifs[0].configs] == ["C[CH3:1]", "CC"]


def test_unknown_nodes_are_told_apart_by_what_the_vocabulary_lacks() -> None:
    # Given a vocabulary of phenols and ethanol
    vocab, _ = build_vocabulary(_records(["c1ccccc1O", "CCO"]))
    causes = {}
    # When molecules with an unseen ring system, an unseen substitution of a known ring, an
    # unseen acyclic bond and a lone atom are decomposed with it
    for smiles in ("c1ccc2ccccc2c1", "Oc1ccc(O)cc1", "CCN", "[Na+]"):
        tree = decompose(Chem.MolFromSmiles(smiles), vocab)
        causes[smiles] = sorted(unknown_cause(n, vocab) for n in tree.nodes if not n.known)
    # Then each unknown node names what is missing
    assert causes == {
        "c1ccc2ccccc2c1": ["ring_system"],
        "Oc1ccc(O)cc1": ["ring_configuration"],
        "CCN": ["chain_piece"],
        "[Na+]": ["atom"],
    }
    assert set(UNKNOWN_CAUSES) >= {c for v in causes.values() for c in v}
