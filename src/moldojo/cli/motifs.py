"""Motif trees: ``moldojo motifs check`` round-trips a dataset, ``moldojo motifs show`` draws one.

``check`` cuts every molecule into its motif tree and assembles it again, reporting how many
give the input's canonical SMILES back (stereo included, and stereo-blind from motif strings
alone), and, with ``--vocab``, how often the vocabulary's fallback was needed. ``show`` prints a
molecule's tree and draws the molecule coloured by motif next to its tree.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from dataclasses import asdict

from tqdm import tqdm

from moldojo.chem import parse_smiles
from moldojo.chem.motifs import decompose
from moldojo.chem.vocab import UNKNOWN_CAUSES, MotifCheckReport, MotifVocabulary, check_motifs
from moldojo.cli.common import (
    add_shared_flags,
    failure_lines,
    jobs_int,
    show_progress,
    write_json,
)
from moldojo.cli.output import OutputFile, output_file
from moldojo.data import resolve
from moldojo.evaluation.plots import draw_motif_tree, format_tree

HELP = "motif trees: round-trip check of a dataset, drawing of a molecule"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="motifs_command", metavar="ACTION", required=True)

    check = actions.add_parser(
        "check",
        help="cut every molecule into its motif tree and assemble it again",
        description="Decompose every record into its motif tree and assemble it again; report "
        "how many give the input's canonical SMILES back. Exit status 1 if any round trip fails.",
    )
    add_shared_flags(check, suppress_defaults=True)
    check.add_argument("source", metavar="NAME[:SPLIT]|FILE", help="dataset spec or file path")
    check.add_argument(
        "--vocab", metavar="VOCAB",
        help="decompose with this vocabulary, counting when its fallback is needed",
    )  # fmt: skip
    check.add_argument("--json", metavar="OUT", help="write the report as JSON ('-' = stdout)")
    check.add_argument(
        "--jobs", "-j", type=jobs_int, default=os.cpu_count() or 1, metavar="J",
        help="worker processes (default: all cores)",
    )  # fmt: skip
    check.add_argument("--smiles-column", metavar="NAME", help="SMILES column of a CSV/TSV file")

    show = actions.add_parser(
        "show",
        help="print a molecule's motif tree and draw it",
        description="Print the motif tree of one molecule and draw the molecule, coloured by "
        "motif, next to its tree (PNG).",
    )
    add_shared_flags(show, suppress_defaults=True)
    show.add_argument("smiles", metavar="SMILES", help="the molecule")
    show.add_argument("-o", "--output", required=True, metavar="PNG",
                      help="picture to write (the format from the extension: .png, .jpg, .pdf, "
                      "...)")  # fmt: skip
    show.add_argument("--vocab", metavar="VOCAB", help="decompose with this vocabulary")


def run(args: argparse.Namespace) -> int:
    if args.motifs_command == "show":
        output = output_file(args.output, "-o", image=True)
        vocab = MotifVocabulary.read(args.vocab) if args.vocab else None
        return _show(args, vocab, output)
    json_out = output_file(args.json, "--json", stdout=True)
    vocab = MotifVocabulary.read(args.vocab) if args.vocab else None
    return _check(args, vocab, json_out)


# -- check ---------------------------------------------------------------------------------------


def _check(
    args: argparse.Namespace, vocab: MotifVocabulary | None, json_out: OutputFile | None
) -> int:
    reports = []
    show = show_progress(args)
    for source in resolve(args.source, smiles_column=args.smiles_column):
        records = list(source.records())
        bar = tqdm(
            total=len(records), desc=f"checking {source.name}", unit="mol", file=sys.stderr,
            disable=not (sys.stderr.isatty() if show is None else show),
        )  # fmt: skip
        with bar:
            report = check_motifs(
                records, vocab=vocab, jobs=args.jobs, progress=bar.update, source=source.name
            )
        reports.append(report)
        print(_report_line(report))
        for line in failure_lines(report):
            print(line)
    if json_out is not None:
        write_json(_combine(reports), json_out)
    return 1 if any(r.roundtrip_failed for r in reports) else 0


def _report_line(report: MotifCheckReport) -> str:
    parsed = max(report.parsed, 1)
    line = (
        f"{report.source}: {report.molecules:,} molecules, {report.roundtrip_ok:,} of "
        f"{report.parsed:,} parsed round-trip exactly ({report.roundtrip_ok / parsed:.3%}), "
        f"{report.roundtrip_ok_stereo_blind:,} stereo-blind from motif strings"
    )
    if report.fallback_used or report.unknown_motifs:
        line += (
            f", fallback for {report.fallback_used:,} ({report.pieces_split:,} pieces split, "
            f"{report.unknown_motifs:,} motifs unknown in {report.molecules_with_unknown:,}"
        )
        if report.unknown_by_cause:
            causes = ", ".join(f"{cause.replace('_', ' ')} {count:,}"
                               for cause, count in report.unknown_by_cause.items())  # fmt: skip
            line += f": {causes}"
        line += ")"
    skipped = sum(report.skipped.values())
    if skipped:
        line += f", {skipped:,} skipped"
    return line + f", {report.molecules / max(report.seconds, 1e-9):,.0f} molecules/s"


def _combine(reports: list[MotifCheckReport]) -> dict:
    if len(reports) == 1:
        return reports[0].to_json()
    keys = ("molecules", "parsed", "roundtrip_ok", "roundtrip_ok_stereo_blind", "fallback_used",
            "pieces_split", "unknown_motifs", "molecules_with_unknown")  # fmt: skip
    data: dict = {key: sum(getattr(r, key) for r in reports) for key in keys}
    skipped: Counter[str] = Counter()
    causes: Counter[str] = Counter()
    for report in reports:
        skipped.update(report.skipped)
        causes.update(report.unknown_by_cause)
    data["unknown_by_cause"] = {c: causes[c] for c in UNKNOWN_CAUSES if causes[c]}
    data["skipped"] = dict(skipped)
    # Every failed round trip (they set the exit status), then the first skipped records.
    data["failures"] = [asdict(f) for r in reports for f in r.roundtrip_failures]
    data["failures"] += [asdict(f) for r in reports for f in r.skip_examples][:20]
    data["seconds"] = round(sum(r.seconds for r in reports), 2)
    data["splits"] = {r.source: r.to_json() for r in reports}
    return data


# -- show ----------------------------------------------------------------------------------------


def _show(args: argparse.Namespace, vocab: MotifVocabulary | None, output: OutputFile) -> int:
    mol = parse_smiles(args.smiles)
    tree = decompose(mol, vocab)
    image = draw_motif_tree(mol, tree)
    output.write_image(image)
    for line in format_tree(tree):
        print(line)
    print(f"wrote {output} ({image.width}x{image.height})")
    return 0
