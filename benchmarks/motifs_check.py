"""Motif tree round trip on full datasets: molecule -> motif tree -> molecule.

    python benchmarks/motifs_check.py [--jobs 2] [--vocab VOCAB]
                                      [--sources moses:test qm9 ../shared/data/polymers/test.txt]

For each source: molecules, exact round trips (assembled canonical SMILES equal to the input's,
stereo included), stereo-blind round trips from motif strings and attachment positions alone,
molecules that needed the vocabulary fallback (with ``--vocab``), and molecules/s (parse,
decompose, assemble, canonical SMILES) on ``--jobs`` processes. Prints a Markdown table for
BENCHMARKS.md and lists every failure.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

from moldojo.chem.vocab import MotifVocabulary, check_motifs
from moldojo.data import resolve

ROOT = Path(__file__).resolve().parents[1]
POLYMERS = ROOT.parent / "shared" / "data" / "polymers"
DEFAULT_SOURCES = ["moses:test", "qm9", str(POLYMERS / "valid.txt"), str(POLYMERS / "test.txt")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sources", nargs="+", default=DEFAULT_SOURCES)
    parser.add_argument("--vocab", type=Path, help="decompose with this vocabulary's fallback")
    args = parser.parse_args()
    vocab = MotifVocabulary.read(args.vocab) if args.vocab else None

    print(f"machine: {platform.processor() or platform.machine()}, {args.jobs} processes, "
          f"Python {platform.python_version()}")  # fmt: skip
    print("| source | molecules | round trip exact | stereo-blind | fallback used | mol/s |")
    print("|---|---:|---:|---:|---:|---:|")
    failures = []
    for spec in args.sources:
        reports = [
            check_motifs(list(s.records()), vocab=vocab, jobs=args.jobs, source=s.name)
            for s in resolve(spec)
        ]
        name = spec if len(reports) == 1 else f"{spec} (all splits)"
        name = name.replace(str(ROOT.parent), "..")
        molecules = sum(r.molecules for r in reports)
        ok = sum(r.roundtrip_ok for r in reports)
        blind = sum(r.roundtrip_ok_stereo_blind for r in reports)
        fallback = sum(r.fallback_used for r in reports)
        seconds = sum(r.seconds for r in reports)
        print(f"| {name} | {molecules:,} | {ok:,} | {blind:,} | {fallback:,} | "
              f"{molecules / seconds:,.0f} |")  # fmt: skip
        failures.extend(f for r in reports for f in r.failures)
    for failure in failures:
        print(f"failure: line {failure.line}: {failure.reason}: {failure.smiles} {failure.detail}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
