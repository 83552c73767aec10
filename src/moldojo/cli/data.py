"""Inspect and check datasets: ``moldojo data info`` and ``moldojo data check``."""

from __future__ import annotations

import argparse
import os
from collections import Counter
from dataclasses import asdict

import numpy as np
from rdkit import Chem

from moldojo.chem import GraphConfig
from moldojo.cli.common import (
    add_shared_flags,
    failure_lines,
    jobs_int,
    show_progress,
    write_json,
)
from moldojo.cli.output import OutputFile, output_file
from moldojo.data import (
    DATASETS,
    CheckReport,
    MolDataset,
    SmilesSource,
    check_source,
    load_dataset,
    resolve,
)
from moldojo.errors import InvalidSmilesError, quote_input

HELP = "dataset summaries and round-trip checks"
_PERIODIC_TABLE = Chem.GetPeriodicTable()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    info = actions.add_parser(
        "info",
        help="counts, elements and sizes of a dataset",
        description="Counts, elements and heavy-atom size distribution of each split. "
        f"Datasets: {', '.join(DATASETS)}; or a file path.",
    )
    _add_source_arguments(info)
    info.add_argument("--json", metavar="OUT", help="also write the summary as JSON ('-' = stdout)")

    check = actions.add_parser(
        "check",
        help="parse every molecule and round-trip it through the graph",
        description="Parse every record, convert it to a molecular graph and back, and report "
        "how many give the input's canonical SMILES back. Exit status 1 if any round trip fails.",
    )
    _add_source_arguments(check)
    check.add_argument("--json", metavar="OUT", help="write the report as JSON ('-' = stdout)")


def _add_source_arguments(parser: argparse.ArgumentParser) -> None:
    add_shared_flags(parser, suppress_defaults=True)
    parser.add_argument("source", metavar="NAME[:SPLIT]|FILE", help="dataset spec or file path")
    parser.add_argument("--smiles-column", metavar="NAME", help="SMILES column of a CSV/TSV file")
    parser.add_argument(
        "--aromaticity", choices=("kekulize", "aromatic"), default="kekulize",
        help="bond representation (default kekulize)",
    )  # fmt: skip
    parser.add_argument("--strict", action="store_true", help="stop at the first bad record")
    parser.add_argument(
        "--jobs", "-j", type=jobs_int, default=os.cpu_count() or 1, metavar="J",
        help="worker processes (default: all cores)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    json_out = output_file(args.json, "--json", stdout=True)
    config = GraphConfig(aromaticity=args.aromaticity)
    sources = resolve(args.source, smiles_column=args.smiles_column)
    if args.data_command == "info":
        return _info(args, config, sources, json_out)
    return _check(args, config, sources, json_out)


def _info(
    args: argparse.Namespace, config: GraphConfig, sources: list[SmilesSource],
    json_out: OutputFile | None,
) -> int:  # fmt: skip
    summaries = []
    for source in sources:
        dataset = load_dataset(
            source, config=config, strict=args.strict, jobs=args.jobs, progress=show_progress(args)
        )
        summary = summarize(dataset)
        summaries.append(summary)
        print(format_summary(summary))
    if json_out is not None:
        write_json(summaries[0] if len(summaries) == 1 else {"splits": summaries}, json_out)
    return 0


def summarize(dataset: MolDataset) -> dict:
    """Counts, elements and heavy-atom sizes of a dataset, as plain data."""
    sizes = dataset.graphs.num_heavy_atoms
    atomic = dataset.graphs.atoms["atomic_num"]
    graph_of_atom = np.repeat(np.arange(len(dataset)), dataset.graphs.num_atoms)
    elements = {}
    for z in sorted(set(atomic.tolist()), key=lambda z: -int((atomic == z).sum())):
        mask = atomic == z
        elements[_PERIODIC_TABLE.GetElementSymbol(int(z))] = {
            "atoms": int(mask.sum()),
            "molecules": int(np.unique(graph_of_atom[mask]).size),
        }
    distribution = {}
    if len(sizes):
        distribution = {
            "min": int(sizes.min()),
            "p5": float(np.percentile(sizes, 5)),
            "median": float(np.median(sizes)),
            "mean": round(float(sizes.mean()), 2),
            "p95": float(np.percentile(sizes, 95)),
            "max": int(sizes.max()),
            "histogram": {str(k): v for k, v in sorted(Counter(sizes.tolist()).items())},
        }
    return {
        "source": dataset.name,
        "molecules": len(dataset),
        "records": dataset.report.records,
        "skipped": dict(dataset.report.skipped),
        "elements": elements,
        "heavy_atoms": distribution,
    }


def format_summary(summary: dict) -> str:
    """The text table ``moldojo data info`` prints."""
    skipped = sum(summary["skipped"].values())
    lines = [
        f"{summary['source']}: {summary['molecules']:,} molecules "
        f"({summary['records']:,} records, {skipped:,} skipped)"
    ]
    n = max(summary["molecules"], 1)
    elements = (
        ", ".join(f"{sym} {e['molecules'] / n:.1%}" for sym, e in summary["elements"].items())
        or "none"
    )
    lines.append(f"  elements (share of molecules): {elements}")
    dist = summary["heavy_atoms"]
    if dist:
        lines.append(
            f"  heavy atoms: min {dist['min']}, p5 {dist['p5']:g}, median {dist['median']:g}, "
            f"mean {dist['mean']:g}, p95 {dist['p95']:g}, max {dist['max']}"
        )
        lines.extend(_histogram(dist["histogram"], n))
    return "\n".join(lines)


def _histogram(counts: dict[str, int], total: int, bins: int = 8, width: int = 40) -> list[str]:
    sizes = np.repeat(np.array([int(k) for k in counts]), list(counts.values()))
    width_per_bin = -(-(int(sizes.max()) - int(sizes.min()) + 1) // bins)  # ceiling division
    edges = np.arange(sizes.min(), sizes.max() + width_per_bin + 1, width_per_bin)
    hist, _ = np.histogram(sizes, bins=edges)
    top = max(hist.max(), 1)
    out = []
    for lo, hi, count in zip(edges[:-1], edges[1:], hist, strict=True):
        bar = "#" * round(width * count / top)
        out.append(f"    {lo:>4}-{hi - 1:<4} {bar:<{width}} {count / total:6.1%}")
    return out


def _check(
    args: argparse.Namespace, config: GraphConfig, sources: list[SmilesSource],
    json_out: OutputFile | None,
) -> int:  # fmt: skip
    reports = []
    for source in sources:
        report = check_source(source, config=config, jobs=args.jobs, progress=show_progress(args))
        if args.strict and report.failures:
            first = min(report.failures, key=lambda f: f.line)  # the first bad line of the file
            detail = f" ({first.detail})" if first.detail else ""
            raise InvalidSmilesError(
                f"{source.name}:{first.line}: {quote_input(first.smiles)}: {first.reason}"
                f"{detail}; fix or remove the line, or leave out --strict",
                first.reason,
            )
        reports.append(report)
        skipped = sum(report.skipped.values())
        print(
            f"{report.source}: {report.molecules:,} molecules, {report.parsed:,} parsed, "
            f"{report.roundtrip_ok:,} of {report.accepted:,} accepted round-trip exactly "
            f"({report.roundtrip_ok / max(report.accepted, 1):.3%}), {skipped:,} skipped, "
            f"{report.molecules / max(report.seconds, 1e-9):,.0f} molecules/s"
        )
        for line in failure_lines(report):
            print(line)
    if json_out is not None:
        write_json(_combine(reports), json_out)
    return 1 if any(r.roundtrip_failed for r in reports) else 0


def _combine(reports: list[CheckReport]) -> dict:
    if len(reports) == 1:
        return reports[0].to_json()
    total = {
        key: sum(r.to_json()[key] for r in reports)
        for key in ("molecules", "parsed", "roundtrip_ok")
    }
    skipped: Counter[str] = Counter()
    for r in reports:
        skipped.update(r.skipped)
    # Every failed round trip (they set the exit status), then the first skipped records.
    failures = [asdict(f) for r in reports for f in r.roundtrip_failures]
    failures += [asdict(f) for r in reports for f in r.skip_examples][:20]
    return {**total, "skipped": dict(skipped), "failures": failures,
            "splits": {r.source: r.to_json() for r in reports}}  # fmt: skip
