"""``moldojo sample``: molecules from a trained model's prior, one SMILES per line.

A failed decoding is an empty line (so line k is always sample k); the count of failures and
their reasons go to stderr.
"""

from __future__ import annotations

import argparse

from moldojo.cli.common import non_negative_float, sample_count, show_progress
from moldojo.cli.generate_common import (
    add_decode_flags,
    decode_mode,
    load_model,
    mode_label,
    write_smiles,
)
from moldojo.cli.output import output_file
from moldojo.errors import MoldojoError

HELP = "sample molecules from a trained model (default: the shipped one)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", nargs="?", metavar="RUN_DIR",
                        help="run directory or checkpoint (default: the model shipped in the "
                        "package)")  # fmt: skip
    parser.add_argument("-n", type=sample_count, default=100,
                        help="number of samples, at most 10,000,000 (default 100)")  # fmt: skip
    parser.add_argument("--temperature", type=non_negative_float, default=0.0, metavar="T",
                        help="0 takes the most likely bag of atoms for each z; T > 0 samples it "
                        "from softmax(logits / T) (default 0)")  # fmt: skip
    add_decode_flags(parser)
    parser.add_argument("-o", "--output", metavar="FILE", help="write the SMILES here, not stdout")
    parser.add_argument("--grid", metavar="PNG",
                        help="also draw the first 24 valid molecules (the format from the "
                        "extension: .png, .jpg, .pdf, ...)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    import torch

    output = output_file(args.output, "-o", stdout=True)
    grid = output_file(args.grid, "--grid", image=True)
    model = load_model(args.run_dir, args.device)
    mode = decode_mode(model, args.mode)
    generator = torch.Generator().manual_seed(args.seed)
    smiles = model.sample(args.n, generator=generator, mode=mode, temperature=args.temperature,
                          progress=show_progress(args))  # fmt: skip
    write_smiles(smiles, output, f"sampled ({mode_label(model, mode)})", smiles.failures)
    if grid is not None:
        from moldojo.evaluation.plots import molecule_grid_image

        valid = [s for s in smiles if s]
        if not valid:  # the SMILES are written; a grid of nothing is not
            raise MoldojoError(f"--grid {grid}: none of the {len(smiles)} samples is a molecule; "
                               "no picture written")  # fmt: skip
        grid.write_image(molecule_grid_image(valid))
    return 0
