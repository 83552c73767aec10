"""Build the motif vocabulary of a dataset: ``moldojo vocab NAME|FILE -o VOCAB``.

Every molecule is cut into its tree of motifs (:mod:`moldojo.chem.motifs`); the motif types and
their attachment configurations are counted and written as a sorted, versioned text file.
"""

from __future__ import annotations

import argparse
import os
import sys

from tqdm import tqdm

from moldojo.chem.vocab import build_vocabulary
from moldojo.cli.common import jobs_int, positive_int, show_progress, write_json
from moldojo.cli.output import output_file
from moldojo.data import DATASETS, resolve

HELP = "build the motif vocabulary of a dataset"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source", metavar="NAME[:SPLIT]|FILE",
        help=f"dataset spec (all splits when none is named; datasets: {', '.join(DATASETS)}) "
        "or file path",
    )  # fmt: skip
    parser.add_argument("-o", "--output", required=True, metavar="VOCAB", help="file to write")
    parser.add_argument(
        "--min-count", type=positive_int, default=1, metavar="K",
        help="keep configurations seen at least K times, counting the bonds of split acyclic "
        "pieces (default 1: all)",
    )  # fmt: skip
    parser.add_argument(
        "--jobs", "-j", type=jobs_int, default=os.cpu_count() or 1, metavar="J",
        help="worker processes (default: all cores)",
    )  # fmt: skip
    parser.add_argument("--json", metavar="STATS", help="write statistics as JSON ('-' = stdout)")
    parser.add_argument("--smiles-column", metavar="NAME", help="SMILES column of a CSV/TSV file")


def run(args: argparse.Namespace) -> int:
    output = output_file(args.output, "-o")
    json_out = output_file(args.json, "--json", stdout=True)
    sources = resolve(args.source, smiles_column=args.smiles_column)
    records = [record for source in sources for record in source.records()]
    name = sources[0].name if len(sources) == 1 else args.source
    show = show_progress(args)
    bar = tqdm(
        total=len(records), desc=f"motifs of {name}", unit="mol", file=sys.stderr,
        disable=not (sys.stderr.isatty() if show is None else show),
    )  # fmt: skip
    with bar:
        vocab, stats = build_vocabulary(
            records, min_count=args.min_count, jobs=args.jobs, progress=bar.update, source=name
        )
    output.write_text(vocab.to_text())
    print(stats.summary())
    print(f"wrote {output}: {len(vocab):,} motifs, {vocab.num_configurations:,} configurations")
    if json_out is not None:
        write_json(stats.to_json(), json_out)
    return 0
