"""``moldojo encode``: latent points (posterior means) of a SMILES file, as a ``.npy`` array.

Row k is line k's molecule; a line that cannot be read gives a row of NaN, counted on stderr.
"""

from __future__ import annotations

import argparse

from moldojo.cli.generate_common import load_model, report_failures, run_dir_and_file
from moldojo.cli.output import output_file

HELP = "encode SMILES into latent points (default model: the shipped one)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="[RUN_DIR] FILE",
        help="optional run directory, then a SMILES file",
    )
    parser.add_argument("-o", "--output", required=True, metavar="Z.npy",
                        help="where to write z (exactly this name)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from moldojo.cli.evaluate import read_generated

    output = output_file(args.output, "-o")
    run_dir, file = run_dir_and_file(args.paths, "a SMILES file")
    smiles = read_generated(file)
    model = load_model(run_dir, args.device)
    encoded = model.encode_with_reasons(smiles)
    z = encoded.z.numpy()
    with output.open() as handle:  # a file object: np.save given a name would append .npy
        np.save(handle, z)
    report_failures(f"encoded -> {output} {list(z.shape)}", len(smiles), encoded.failures,
                    to_stdout=True)  # fmt: skip
    return 0
