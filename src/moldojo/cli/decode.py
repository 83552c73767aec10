"""``moldojo decode``: molecules of latent points stored as a ``[B, latent_dim]`` ``.npy`` array.

One SMILES per line, an empty line where decoding failed (counted on stderr).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from moldojo.cli.common import show_progress
from moldojo.cli.generate_common import (
    add_decode_flags,
    decode_mode,
    load_model,
    mode_label,
    run_dir_and_file,
    write_smiles,
)
from moldojo.cli.output import output_file
from moldojo.errors import MoldojoError

if TYPE_CHECKING:
    import numpy as np

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
    output = output_file(args.output, "-o", stdout=True)
    run_dir, file = run_dir_and_file(args.paths, "a .npy file")
    z = read_latent_points(file)
    model = load_model(run_dir, args.device)
    if z.shape[1] != model.latent_dim:
        raise MoldojoError(f"{file}: expected shape [B, {model.latent_dim}], got {list(z.shape)}")
    mode = decode_mode(model, args.mode)
    smiles = model.decode(z, mode=mode, progress=show_progress(args))
    write_smiles(smiles, output, f"decoded ({mode_label(model, mode)})", smiles.failures)
    return 0


def read_latent_points(file: str) -> np.ndarray:
    """The ``[B, D]`` float array of a ``.npy`` file.

    Raises:
        MoldojoError: the file is missing, is not a ``.npy`` array (an ``.npz`` archive, a
            damaged file, pickled objects), or holds no 2-D array of floats.
    """
    import zipfile

    import numpy as np

    how = "write one with 'moldojo encode'"
    if not file.strip():  # Path("") is the current directory
        raise MoldojoError(f"{file!r} names no file; give a .npy file of latent points ({how})")
    if Path(file).is_dir():
        raise MoldojoError(f"{file} is a directory; give a .npy file of latent points ({how})")
    if not Path(file).is_file():
        raise MoldojoError(f"{file}: no such file ({how})")
    try:
        # Mapped, not read: a header that claims more data than the file holds (a damaged or
        # forged file) is refused here instead of allocating terabytes.
        loaded = np.load(file, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise MoldojoError(f"{file}: not a NumPy .npy array of latent points ({how})") from error
    if not isinstance(loaded, np.ndarray):  # np.load opens an .npz archive whatever its name
        loaded.close()
        raise MoldojoError(f"{file}: an .npz archive, not a .npy array of latent points ({how})")
    if not np.issubdtype(loaded.dtype, np.floating):
        raise MoldojoError(
            f"{file}: latent points must be floating-point numbers, got dtype {loaded.dtype}"
        )
    if loaded.ndim != 2:
        raise MoldojoError(
            f"{file}: expected a 2-D array [B, latent_dim], got shape {list(loaded.shape)}"
        )
    return np.array(loaded)  # in memory, the file closed
