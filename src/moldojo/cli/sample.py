"""``moldojo sample``: molecules from a trained model's prior, one SMILES per line.

A failed decoding is an empty line (so line k is always sample k); the count of failures and
their reasons go to stderr. With ``--scaffold SMILES`` every molecule contains the scaffold (a
hierarchical model decodes from the scaffold's motifs; a model kind that cannot says so in one
line), and the summary says how many kept it and how many are unique.
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
    parser.add_argument("--scaffold", metavar="SMILES",
                        help="every molecule contains this scaffold: decoding starts from its "
                        "motifs (hier models)")  # fmt: skip
    parser.add_argument("-o", "--output", metavar="FILE", help="write the SMILES here, not stdout")
    parser.add_argument("--grid", metavar="PNG",
                        help="also draw the first 24 valid molecules (the format from the "
                        "extension: .png, .jpg, .pdf, ...)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    import torch

    from moldojo.search.optimize import scaffold_molecule

    output = output_file(args.output, "-o", stdout=True)
    grid = output_file(args.grid, "--grid", image=True)
    model = load_model(args.run_dir, args.device)
    mode = decode_mode(model, args.mode)
    scaffold = None if args.scaffold is None else scaffold_molecule(model, args.scaffold)
    generator = torch.Generator().manual_seed(args.seed)
    smiles = model.sample(args.n, generator=generator, mode=mode, temperature=args.temperature,
                          scaffold=args.scaffold, progress=show_progress(args))  # fmt: skip
    what = f"sampled ({mode_label(model, mode)})"
    if scaffold is not None:
        from moldojo.chem.scaffold import keeps_scaffold

        valid = [s for s in smiles if s]
        kept = sum(keeps_scaffold(valid, scaffold))
        share = f"{100 * kept / len(valid):.1f}%" if valid else "n/a"
        what += (f", scaffold {args.scaffold}: kept by {kept} of {len(valid)} valid ({share}), "
                 f"{len(set(valid))} unique")  # fmt: skip
    write_smiles(smiles, output, what, smiles.failures)
    if grid is not None:
        from moldojo.evaluation.plots import molecule_grid_image

        valid = [s for s in smiles if s]
        if not valid:  # the SMILES are written; a grid of nothing is not
            raise MoldojoError(f"--grid {grid}: none of the {len(smiles)} samples is a molecule; "
                               "no picture written")  # fmt: skip
        grid.write_image(molecule_grid_image(valid))
    return 0
