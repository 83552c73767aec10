"""``moldojo decode``: molecules of latent points stored as a ``[B, latent_dim]`` ``.npy`` array.

One SMILES per line, an empty line where decoding failed (counted on stderr).
"""

from __future__ import annotations

import argparse

from moldojo.cli.common import show_progress
from moldojo.cli.generate_common import (
    add_decode_flags,
    decode_mode,
    load_model,
    mode_label,
    run_dir_and_file,
    write_smiles,
)
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

    run_dir, file = run_dir_and_file(args.paths, "a .npy file")
    try:
        z = np.load(file, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise MoldojoError(
            f"{file}: not a NumPy .npy array of latent points (write one with 'moldojo encode')"
        ) from error
    model = load_model(run_dir, args.device)
    if z.ndim != 2 or z.shape[1] != model.latent_dim:
        raise MoldojoError(f"{file}: expected shape [B, {model.latent_dim}], got {list(z.shape)}")
    mode = decode_mode(model, args.mode)
    smiles = model.decode(z, mode=mode, progress=show_progress(args))
    write_smiles(smiles, args.output, f"decoded ({mode_label(model, mode)})", smiles.failures)
    return 0
