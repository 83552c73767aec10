"""``moldojo decode``: molecules of latent points stored as a ``[B, latent_dim]`` ``.npy`` array.

One SMILES per line, an empty line where decoding failed (counted on stderr).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from moldojo.cli.generate_common import add_decode_flags, load_model, report_failures
from moldojo.errors import MoldojoError

HELP = "decode latent points into SMILES (default model: the shipped one)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="[RUN_DIR] Z.npy",
        help="optional run directory, then a .npy file of latent points",
    )
    add_decode_flags(parser)
    parser.add_argument("-o", "--output", metavar="FILE", help="write the SMILES here, not stdout")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    if len(args.paths) > 2:
        raise MoldojoError("give at most a run directory and a .npy file")
    run_dir, file = (None, args.paths[0]) if len(args.paths) == 1 else args.paths
    try:
        z = np.load(file, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise MoldojoError(f"{file}: cannot read a .npy array: {error}") from error
    model = load_model(run_dir, args.device)
    if z.ndim != 2 or z.shape[1] != model.latent_dim:
        raise MoldojoError(f"{file}: expected shape [B, {model.latent_dim}], got {list(z.shape)}")
    smiles = model.decode(z, mode=args.mode)
    text = "".join((s or "") + "\n" for s in smiles)
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    where = f" -> {args.output}" if args.output else ""
    report_failures(f"decoded ({args.mode}){where}", len(smiles), model.failures,
                    to_stdout=bool(args.output))  # fmt: skip
    return 0
