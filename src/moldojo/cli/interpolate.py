"""``moldojo interpolate``: molecules decoded along a path between two encoded molecules.

Prints ``steps + 2`` lines, the reconstructions of SMILES_A and SMILES_B first and last, an empty
line where decoding failed; then one line saying how many moves changed the molecule and the mean
Tanimoto similarity between consecutive molecules (on stderr, or on stdout when the SMILES went
to a file).
"""

from __future__ import annotations

import argparse

from moldojo.cli.common import sample_count
from moldojo.cli.generate_common import failure_summary, load_model, say, write_text
from moldojo.cli.output import output_file
from moldojo.errors import MoldojoError

HELP = "decode molecules between two encoded molecules (default model: the shipped one)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="[RUN_DIR] SMILES_A SMILES_B",
                        help="optional run directory, checkpoint or shipped model name, then "
                        "the two molecules")  # fmt: skip
    parser.add_argument("--steps", type=sample_count, required=True, metavar="K",
                        help="points strictly between the two molecules (K >= 1)")  # fmt: skip
    parser.add_argument("--path", choices=("linear", "slerp"), default="linear",
                        help="straight line, or great circle with the norm going linearly from "
                        "one end's to the other's (default linear)")  # fmt: skip
    parser.add_argument("-o", "--output", metavar="FILE", help="write the SMILES here, not stdout")
    parser.add_argument("--grid", metavar="PNG",
                        help="also draw the decoded molecules as a strip, failures left out "
                        "(the format from the extension: .png, .jpg, .pdf, ...)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from moldojo.search import interpolate

    if len(args.paths) not in (2, 3):
        raise MoldojoError(f"give an optional run directory and two SMILES, got "
                           f"{len(args.paths)} arguments")  # fmt: skip
    run_dir = args.paths[0] if len(args.paths) == 3 else None
    smiles_a, smiles_b = args.paths[-2:]
    output = output_file(args.output, "-o", stdout=True)
    grid = output_file(args.grid, "--grid", image=True)
    model = load_model(run_dir, args.device)
    result = interpolate(model, smiles_a, smiles_b, args.steps, path=args.path)
    valid = [s for s in result.smiles if s is not None]
    if grid is not None and not valid:  # checked before anything is written
        raise MoldojoError(f"--grid {grid}: none of the {len(result.smiles)} points decoded to "
                           "a molecule; nothing written")  # fmt: skip
    similarity = "n/a" if not result.similarities else f"{result.mean_similarity:.3f}"
    line = (f"{result.path} path, {result.steps} steps: {result.changes} of {result.steps + 1} "
            f"moves changed the molecule, mean consecutive similarity {similarity}, "
            f"{failure_summary(result.reasons)}")  # fmt: skip
    to_file = write_text("".join((s or "") + "\n" for s in result.smiles), output)
    say(f"{line} -> {output}" if to_file else line, to_stdout=to_file)
    if grid is not None:
        from moldojo.evaluation.plots import molecule_grid_image

        grid.write_image(molecule_grid_image(valid, n=len(valid), per_row=min(len(valid), 8)))
    return 0
