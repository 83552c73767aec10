"""Round-trip rate and speed of the molecule graph on full datasets.

    python benchmarks/roundtrip.py [--jobs 2] [--aromaticity kekulize aromatic]
                                   [--sources moses:test qm9 ../shared/data/polymers/test.txt]

For each source: molecules, exact round trips (SMILES -> graph -> canonical SMILES equal to the
input's, stereo included), every failure, and molecules/s (parse + graph + rebuild + canonical
SMILES, both directions, on ``--jobs`` processes). Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

from moldojo.chem import GraphConfig
from moldojo.data import check_source, resolve

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCES = [
    "moses:test",
    "qm9",
    str(ROOT.parent / "shared" / "data" / "polymers" / "valid.txt"),
    str(ROOT.parent / "shared" / "data" / "polymers" / "test.txt"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sources", nargs="+", default=DEFAULT_SOURCES)
    parser.add_argument("--aromaticity", nargs="+", default=["kekulize"],
                        choices=["kekulize", "aromatic"])  # fmt: skip
    args = parser.parse_args()

    print(f"machine: {platform.processor() or platform.machine()}, {args.jobs} processes, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(
        "| source | aromaticity | molecules | parsed | round trip exact | rate | skipped | mol/s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    failed = 0
    for spec in args.sources:
        for mode in args.aromaticity:
            reports = [
                check_source(s, config=GraphConfig(aromaticity=mode), jobs=args.jobs)
                for s in resolve(spec)
            ]
            molecules = sum(r.molecules for r in reports)
            parsed = sum(r.parsed for r in reports)
            ok = sum(r.roundtrip_ok for r in reports)
            skipped = sum(sum(r.skipped.values()) for r in reports)
            seconds = sum(r.seconds for r in reports)
            name = spec if len(reports) == 1 else f"{spec} (all splits)"
            name = name.replace(str(ROOT.parent), "..")
            accepted = sum(r.accepted for r in reports)
            print(f"| {name} | {mode} | {molecules:,} | {parsed:,} | {ok:,} | "
                  f"{ok / max(accepted, 1):.4%} | {skipped:,} | "
                  f"{molecules / seconds:,.0f} |")  # fmt: skip
            for report in reports:
                for failure in report.failures:
                    print(f"    {report.source}:{failure.line}: {failure.reason}: "
                          f"{failure.smiles} {failure.detail}", file=sys.stderr)  # fmt: skip
            failed += accepted - ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
