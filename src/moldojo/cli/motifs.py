"""Motif trees: ``moldojo motifs check`` round-trips a dataset, ``moldojo motifs show`` draws one.

``check`` cuts every molecule into its motif tree and assembles it again, reporting how many
give the input's canonical SMILES back (stereo included, and stereo-blind from motif strings
alone), and, with ``--vocab``, how often the vocabulary's fallback was needed. ``show`` prints a
molecule's tree and draws the molecule coloured by motif next to its tree.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections import Counter
from dataclasses import asdict
from typing import TYPE_CHECKING

from rdkit import Chem
from tqdm import tqdm

from moldojo.chem import parse_smiles
from moldojo.chem.motifs import MotifTree, decompose
from moldojo.chem.vocab import MotifCheckReport, MotifVocabulary, check_motifs
from moldojo.cli.common import (
    add_shared_flags,
    failure_lines,
    jobs_int,
    show_progress,
    write_json,
)
from moldojo.cli.output import OutputFile, output_file
from moldojo.data import resolve

if TYPE_CHECKING:
    from PIL import Image

HELP = "motif trees: round-trip check of a dataset, drawing of a molecule"

# Motif colours (RGB, 0-1): distinct pastels, reused in order when a tree has more motifs.
PALETTE: tuple[tuple[float, float, float], ...] = (
    (0.55, 0.75, 0.95), (0.98, 0.70, 0.45), (0.60, 0.87, 0.55), (0.95, 0.55, 0.60),
    (0.78, 0.65, 0.92), (0.95, 0.85, 0.40), (0.50, 0.85, 0.85), (0.90, 0.62, 0.85),
    (0.75, 0.75, 0.60), (0.65, 0.80, 0.70), (0.98, 0.60, 0.35), (0.70, 0.70, 0.95),
)  # fmt: skip


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
            f"{report.unknown_motifs:,} motifs unknown in {report.molecules_with_unknown:,})"
        )
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
    for report in reports:
        skipped.update(report.skipped)
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


def format_tree(tree: MotifTree) -> list[str]:
    """The tree as indented text: one line per motif, children under their parent."""
    lines = []

    def visit(i: int, depth: int) -> None:
        node = tree.nodes[i]
        where = ""
        if node.parent >= 0:
            where = f"  (atom {node.attach_atom} on parent atom {node.parent_atom})"
        unknown = "  [not in vocabulary]" if not node.known else ""
        lines.append(f"{'  ' * depth}#{i} {node.kind} {node.config}{where}{unknown}")
        for child in node.children:
            visit(child, depth + 1)

    visit(0, 0)
    if tree.fallback:
        lines.append(f"fallback: {tree.fallback} acyclic pieces split into bonds")
    return lines


def draw_motif_tree(
    mol: Chem.Mol, tree: MotifTree, *, mol_size: int = 520, cell: tuple[int, int] = (190, 150)
) -> Image.Image:
    """The molecule with each motif's atoms and bonds in its colour, next to its motif tree.

    Shared atoms take their parent motif's colour. Tree nodes are the motifs drawn alone, their
    attachment atoms highlighted, framed in their colour and joined parent to child.
    """
    from PIL import Image, ImageDraw  # drawing only: not paid for by the other commands
    from rdkit.Chem.Draw import rdMolDraw2D

    colour = [PALETTE[i % len(PALETTE)] for i in range(len(tree))]
    atom_colours: dict[int, tuple[float, float, float]] = {}
    bond_colours: dict[int, tuple[float, float, float]] = {}
    for i, node in enumerate(tree.nodes):
        atoms = set(node.atoms)
        for a in node.atoms:
            atom_colours.setdefault(a, colour[i])
        for bond in mol.GetBonds():
            if bond.GetBeginAtomIdx() in atoms and bond.GetEndAtomIdx() in atoms:
                bond_colours.setdefault(bond.GetIdx(), colour[i])
    drawer = rdMolDraw2D.MolDraw2DCairo(mol_size, mol_size)
    options = drawer.drawOptions()
    options.addAtomIndices = mol.GetNumAtoms() <= 60
    drawer.DrawMolecule(
        mol,
        highlightAtoms=list(atom_colours),
        highlightAtomColors=atom_colours,
        highlightBonds=list(bond_colours),
        highlightBondColors=bond_colours,
    )
    drawer.FinishDrawing()
    left = _png(drawer.GetDrawingText())

    # Tidy layout: leaves take consecutive columns, a parent sits above its children's middle.
    column: dict[int, float] = {}
    depth = {0: 0}
    next_leaf = [0]

    def place(i: int) -> None:
        for child in tree.nodes[i].children:
            depth[child] = depth[i] + 1
            place(child)
        children = tree.nodes[i].children
        if children:
            column[i] = (column[children[0]] + column[children[-1]]) / 2
        else:
            column[i] = next_leaf[0]
            next_leaf[0] += 1

    place(0)
    width, height = cell
    gap = 40
    tree_w = int(next_leaf[0] * width)
    tree_h = int((max(depth.values()) + 1) * (height + gap))
    right = Image.new("RGB", (tree_w, tree_h), "white")
    pen = ImageDraw.Draw(right)
    centre = {
        i: (int(column[i] * width + width / 2), int(depth[i] * (height + gap) + height / 2))
        for i in column
    }
    for parent, child in tree.edges:
        pen.line([centre[parent], centre[child]], fill=(90, 90, 90), width=3)
    for i, node in enumerate(tree.nodes):
        x, y = centre[i]
        box = (x - width // 2 + 6, y - height // 2, x + width // 2 - 6, y + height // 2)
        tile = _motif_tile(node.config, colour[i], (box[2] - box[0] - 8, box[3] - box[1] - 24))
        rgb = tuple(int(255 * c) for c in colour[i])
        pen.rectangle(box, fill="white", outline=rgb, width=4)
        right.paste(tile, (box[0] + 4, box[1] + 4))
        label = f"#{i} {node.smiles}" if len(node.smiles) <= 24 else f"#{i} {node.kind}"
        pen.text((box[0] + 6, box[3] - 18), label, fill=(0, 0, 0))

    canvas = Image.new("RGB", (left.width + right.width, max(left.height, right.height)), "white")
    canvas.paste(left, (0, (canvas.height - left.height) // 2))
    canvas.paste(right, (left.width, (canvas.height - right.height) // 2))
    return canvas


def _motif_tile(
    config: str, colour: tuple[float, float, float], size: tuple[int, int]
) -> Image.Image:
    from rdkit.Chem.Draw import rdMolDraw2D

    motif = Chem.MolFromSmiles(config)
    marked = [a.GetIdx() for a in motif.GetAtoms() if a.GetAtomMapNum()]
    for atom in motif.GetAtoms():
        atom.SetAtomMapNum(0)
    drawer = rdMolDraw2D.MolDraw2DCairo(max(size[0], 40), max(size[1], 40))
    drawer.DrawMolecule(
        motif, highlightAtoms=marked, highlightAtomColors=dict.fromkeys(marked, colour)
    )
    drawer.FinishDrawing()
    return _png(drawer.GetDrawingText())


def _png(data: bytes) -> Image.Image:
    from PIL import Image

    return Image.open(io.BytesIO(data)).convert("RGB")
