"""Motif vocabulary: extraction speed, side by side with the reference, and statistics.

    python benchmarks/vocab.py [--jobs 2] [--sources SPEC ...] [--stats]
                               [--reference PATH_TO_HGRAPH2GRAPH] [--reference-limit 2000]

Speed: molecules/s of :func:`moldojo.chem.vocab.build_vocabulary` (parse, decompose, canonical
motif and configuration strings, counting) on ``--jobs`` processes. With ``--reference``, the
reference implementation (hgraph2graph, MIT) does the same work on the same molecules and the
same number of processes: its ``get_vocab.py`` loop (``MolGraph(s)`` and the motif and
attachment labels of every tree node) for drug-like molecules, ``polymers/get_vocab.py`` (the
fragment counting pass, then the same loop) for files under a ``polymers`` folder. It runs from
a scratch directory outside this repository, importing the reference from ``PATH``; its
per-molecule errors (RDKit kekulisation errors with current RDKit) are counted, not fatal,
which its own script does not do.

Statistics (``--stats``): vocabulary size by minimum count, motifs per molecule against atoms
per molecule, atoms per motif and configurations per motif. Prints Markdown for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from moldojo.chem.vocab import build_vocabulary
from moldojo.data import resolve

ROOT = Path(__file__).resolve().parents[1]
POLYMERS = ROOT.parent / "shared" / "data" / "polymers"
DEFAULT_SOURCES = ["moses-mini:train", str(POLYMERS / "test.txt")]

# Runs in the reference's environment: imports its package and times the loop of its
# get_vocab.py on a Pool of processes, counting molecules it fails on.
_DRIVER = r"""
import json, sys, time
from collections import Counter
from multiprocessing import Pool

reference, kind, path, jobs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path.insert(0, reference + "/polymers" if kind == "poly" else reference)
if kind == "poly":
    import poly_hgraph as H
else:
    import hgraph as H


def labels(batch):
    vocab, failed = set(), 0
    for smiles in batch:
        try:
            tree = H.MolGraph(smiles).mol_tree
            for _, attr in tree.nodes(data=True):
                vocab.add(attr["label"])
                for _, label in attr["inter_label"]:
                    vocab.add((attr["smiles"], label))
        except Exception:
            failed += 1
    return vocab, failed


def fragments(batch):
    counter = Counter()
    for smiles in batch:
        try:
            counter.update(f for f, _ in H.find_fragments(H.get_mol(smiles)))
        except Exception:
            pass
    return counter


if __name__ == "__main__":
    data = [line.split()[0] for line in open(path) if line.strip()]
    start = time.perf_counter()
    size = len(data) // jobs + 1
    batches = [data[i : i + size] for i in range(0, len(data), size)]
    if kind == "poly":
        with Pool(jobs) as pool:
            counter = sum(pool.map(fragments, batches), Counter())
        H.MolGraph.load_fragments([f for f, n in counter.most_common() if n >= 100])
    with Pool(jobs) as pool:
        results = pool.map(labels, batches)
    seconds = time.perf_counter() - start
    print(json.dumps({"molecules": len(data), "failed": sum(f for _, f in results),
                      "seconds": seconds, "entries": len(set().union(*(v for v, _ in results)))}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sources", nargs="+", default=DEFAULT_SOURCES)
    parser.add_argument("--reference", type=Path, help="a checkout of hgraph2graph")
    parser.add_argument(
        "--reference-limit", type=int, default=2000,
        help="molecules of each source given to both implementations for the side-by-side "
        "timing (the reference is slow)",
    )  # fmt: skip
    parser.add_argument("--python", default=sys.executable, help="interpreter for the reference")
    parser.add_argument("--stats", action="store_true", help="full-source statistics too")
    args = parser.parse_args()

    print(f"machine: {platform.processor() or platform.machine()}, {args.jobs} processes, "
          f"Python {platform.python_version()}")  # fmt: skip
    speed_rows, stats_rows = [], []
    for spec in args.sources:
        records = [r for source in resolve(spec) for r in source.records()]
        name = spec.replace(str(ROOT.parent), "..")
        if args.stats:
            start = time.perf_counter()
            _, stats = build_vocabulary(records, jobs=args.jobs, source=name)
            seconds = time.perf_counter() - start
            stats_rows.append((name, stats, seconds))
        if args.reference:
            sample = list(itertools.islice(records, args.reference_limit))
            ours = _time_ours(sample, args.jobs)
            theirs = _time_reference(args, spec, [text for _, text in sample])
            speed_rows.append((name, len(sample), ours, theirs))
        elif not args.stats:
            speed_rows.append((name, len(records), _time_ours(records, args.jobs), None))

    if speed_rows:
        print("\n| source | molecules | moldojo mol/s | reference mol/s | speed-up "
              "| reference failures |")  # fmt: skip
        print("|---|---:|---:|---:|---:|---:|")
        for name, n, ours, theirs in speed_rows:
            if theirs is None:
                print(f"| {name} | {n:,} | {n / ours:,.0f} | - | - | - |")
                continue
            ref_rate = theirs["molecules"] / theirs["seconds"]
            print(f"| {name} | {n:,} | {n / ours:,.0f} | {ref_rate:,.1f} | "
                  f"{n / ours / ref_rate:.1f}x | {theirs['failed']:,} |")  # fmt: skip
    if stats_rows:
        _print_stats(stats_rows)
    return 0


def _time_ours(records: list[tuple[int, str]], jobs: int) -> float:
    start = time.perf_counter()
    build_vocabulary(records, jobs=jobs)
    return time.perf_counter() - start


def _time_reference(args: argparse.Namespace, spec: str, smiles: list[str]) -> dict:
    kind = "poly" if "polymers" in Path(spec).parts else "hgraph"
    with tempfile.TemporaryDirectory(prefix="hgraph-bench-") as scratch:
        driver = Path(scratch) / "driver.py"
        driver.write_text(_DRIVER)
        data = Path(scratch) / "molecules.txt"
        data.write_text("\n".join(smiles) + "\n")
        result = subprocess.run(
            [args.python, str(driver), str(args.reference.resolve()), kind, str(data),
             str(args.jobs)],
            cwd=scratch, capture_output=True, text=True, check=False,
        )  # fmt: skip
    if result.returncode != 0:
        sys.exit(f"the reference failed on {spec}:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _print_stats(rows: list) -> None:
    print("\n| source | molecules | atoms/molecule | motifs/molecule | atoms/motif "
          "| motifs | configurations | configurations/motif | mol/s |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, s, seconds in rows:
        print(f"| {name} | {s.molecules:,} | {s.atoms_per_molecule:.2f} | "
              f"{s.motifs_per_molecule:.2f} | {s.atoms_per_motif:.2f} | {s.motifs:,} | "
              f"{s.configurations:,} | {s.configurations_per_motif:.2f} | "
              f"{s.records / seconds:,.0f} |")  # fmt: skip
    print("\nVocabulary size by minimum count (motifs / configurations / molecules covered "
          "without fallback / with it):\n")  # fmt: skip
    counts = list(rows[0][1].by_min_count)
    print("| source | " + " | ".join(f"min-count {k}" for k in counts) + " |")
    print("|---|" + "---:|" * len(counts))
    for name, s, _ in rows:
        cells = [
            f"{c['motifs']:,} / {c['configurations']:,} / {c['coverage']:.1%} / "
            f"{c['coverage_with_fallback']:.1%}"
            for c in (s.by_min_count[k] for k in counts)
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    raise SystemExit(main())
