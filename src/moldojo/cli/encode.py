"""``moldojo encode``: latent points (posterior means) of a SMILES file, as a ``.npy`` array.

Row k is line k's molecule; a line that cannot be read gives a row of NaN, counted on stderr.
"""

from __future__ import annotations

import argparse

from moldojo.cli.generate_common import load_model, report_failures
from moldojo.errors import MoldojoError

HELP = "encode SMILES into latent points (default model: the shipped one)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="[RUN_DIR] FILE",
        help="optional run directory, then a SMILES file",
    )
    parser.add_argument("-o", "--output", required=True, metavar="Z.npy", help="where to write z")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from moldojo.cli.evaluate import read_generated

    if len(args.paths) > 2:
        raise MoldojoError("give at most a run directory and a SMILES file")
    run_dir, file = (None, args.paths[0]) if len(args.paths) == 1 else args.paths
    smiles = read_generated(file)
    model = load_model(run_dir, args.device)
    z = model.encode(smiles).numpy()
    np.save(args.output, z)
    report_failures(f"encoded -> {args.output} {list(z.shape)}", len(smiles), model.failures,
                    to_stdout=True)  # fmt: skip
    return 0
