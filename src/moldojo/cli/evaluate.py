"""``moldojo evaluate``: the MOSES and GuacaMol metrics of a file of generated SMILES.

Prints a table on stdout; notes (fallbacks, undefined metrics) and counts go to stderr. With
``--json`` the metrics are written with exactly the reference keys (``null`` where undefined).
"""

from __future__ import annotations

import argparse
import gzip
import logging
import math
import sys
import time
from pathlib import Path

from moldojo.chem.config import MAX_SMILES_LENGTH
from moldojo.cli.common import jobs_int, positive_int, resolve_device, show_progress, write_json
from moldojo.cli.output import output_dir, output_file
from moldojo.errors import DatasetError

HELP = "MOSES / GuacaMol metrics of generated SMILES"
logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "generated",
        metavar="GEN",
        help="generated SMILES, one per line "
        "(.smi/.txt, optionally .gz; an empty line is a failed sample)",
    )
    parser.add_argument(
        "--suite", choices=("moses", "guacamol", "all"), default="moses",
        help="which metrics (default moses)",
    )  # fmt: skip
    parser.add_argument(
        "--train", metavar="NAME|FILE", default="moses",
        help="training set for novelty (and GuacaMol's references); default MOSES train",
    )  # fmt: skip
    parser.add_argument(
        "--ref", metavar="moses|NAME|FILE", default="moses",
        help="reference for the /Test metrics: MOSES test (precomputed), or a dataset split or "
        "file whose statistics are computed once and cached; /TestSF stays MOSES scaffold-test",
    )  # fmt: skip
    parser.add_argument("--json", metavar="OUT", help="write the metrics as JSON ('-' = stdout)")
    parser.add_argument("--plots", metavar="DIR", help="write QED/logP/SA/weight histograms here")
    parser.add_argument(
        "--jobs", type=jobs_int, default=None, metavar="J",
        help="worker processes for the RDKit work (default: all cores)",
    )  # fmt: skip
    parser.add_argument(
        "--guacamol-samples", type=positive_int, default=10_000, metavar="N",
        help="GuacaMol's number of samples (default 10000, as in its benchmark)",
    )  # fmt: skip


def read_generated(path: str, max_length: int = MAX_SMILES_LENGTH) -> list[str]:
    """First whitespace-separated field of every line; an empty line is kept as ``""``, and so
    is a field longer than ``max_length`` characters: a failed sample, never given to RDKit,
    counted in a warning. A byte-order mark is dropped."""
    file = Path(path)
    if not path.strip():  # Path("") is the current directory
        raise DatasetError(f"{path!r} names no file; give a file of SMILES, one per line")
    if file.is_dir():
        raise DatasetError(f"{path} is a directory; give a file of SMILES, one per line")
    if not file.is_file():
        raise DatasetError(f"{path}: no such file")
    from moldojo.evaluation.reference import first_fields, some_lines

    opener = gzip.open if file.suffix == ".gz" else open
    try:
        with opener(file, "rt", encoding="utf-8-sig") as handle:
            smiles, too_long = first_fields(enumerate(handle, start=1), max_length)
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path} is not a UTF-8 text file of SMILES ({error.reason})") from error
    except (OSError, EOFError) as error:
        raise DatasetError(f"cannot read {path}: {error}") from error
    if too_long:
        logger.warning(
            "%s: %d lines longer than %s characters read as failed samples (line %s)",
            path, len(too_long), f"{max_length:,}", some_lines(too_long),
        )  # fmt: skip
    return smiles


def run(args: argparse.Namespace) -> int:
    import os

    import numpy as np
    import torch

    from moldojo.evaluation.moses import describe_all, moses_metrics
    from moldojo.evaluation.reference import moses_reference, reference_from_source
    from moldojo.evaluation.training import training_set

    def say(text: str) -> None:  # counts and notes on stderr; -q keeps it to errors
        if not args.quiet:
            print(f"moldojo: {text}", file=sys.stderr)

    json_out = output_file(args.json, "--json", stdout=True)
    plots = output_dir(args.plots, "--plots")
    jobs = args.jobs or os.cpu_count() or 1
    device = resolve_device(args.device)
    progress = show_progress(args)
    generated = read_generated(args.generated)
    if not generated:
        raise DatasetError(f"{args.generated} is empty: there is nothing to evaluate")
    torch.set_num_threads(jobs)
    start = time.perf_counter()
    results: dict[str, float] = {}
    notes: list[str] = []
    records = None
    if args.suite in ("moses", "all"):
        records = describe_all(generated, jobs=jobs, progress=progress)
        if args.ref == "moses":
            test = moses_reference("test")
        else:
            from moldojo.data.sources import resolve_one

            test = reference_from_source(
                resolve_one(args.ref), jobs=jobs, device=device, progress=progress
            )
        train = training_set(args.train, jobs=jobs, progress=progress)
        result = moses_metrics(
            generated, test=test, train=train, jobs=jobs, device=device, progress=progress,
            records=records,
        )  # fmt: skip
        results.update(result.metrics)
        notes.extend(result.notes)
        say(f"{result.n_input} lines, {result.n_valid} valid, "
            f"{result.n_distinct} distinct molecules")  # fmt: skip
        if plots is not None and result.n_valid:
            from moldojo.evaluation.plots import property_histogram_pngs

            values = {
                "QED": [r.qed for r in records if r.recanonical],
                "logP": [r.logp for r in records if r.recanonical],
                "SA": [r.sa for r in records if r.recanonical],
                "weight": [r.weight for r in records if r.recanonical],
            }
            arrays = {k: np.asarray(v, dtype=float) for k, v in values.items()}
            pngs = property_histogram_pngs(arrays, test.properties, reference_name=test.name)
            for key, png in pngs.items():
                plots.file(f"{key}.png").write_bytes(png)
            say(f"wrote {len(pngs)} plots to {plots}")
    if args.suite in ("guacamol", "all"):
        from moldojo.evaluation.guacamol import guacamol_metrics
        from moldojo.evaluation.training import training_smiles

        result_g = guacamol_metrics(
            generated, training_smiles(args.train), number_samples=args.guacamol_samples,
            n_jobs=jobs, device=device, progress=progress,
            training_stereo_blind=training_set(
                args.train, isomeric=False, jobs=jobs, progress=progress
            ),
        )  # fmt: skip
        prefix = "GuacaMol/" if args.suite == "all" else ""
        results.update({f"{prefix}{k}": v for k, v in result_g.scores().items()})
        notes.extend(result_g.notes)
    for note in notes:
        say(f"note: {note}")
    _print_table(results)
    logger.info("evaluated in %.1f s", time.perf_counter() - start)
    if json_out is not None:
        write_json(results, json_out)  # undefined (NaN) metrics are written as null
    return 0


def _undefined(value: float) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _print_table(results: dict[str, float]) -> None:
    width = max(len(k) for k in results)
    print(f"{'metric':<{width}}  value")
    for key, value in results.items():
        shown = "n/a" if _undefined(value) else f"{value:.4f}"
        print(f"{key:<{width}}  {shown}")
