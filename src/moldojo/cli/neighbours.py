"""``moldojo neighbours``: molecules decoded around an encoded molecule, most similar first.

Prints N lines ``SMILES<TAB>similarity`` (Tanimoto to the query on Morgan fingerprints of
radius 2, 2,048 bits, 3 decimals), sorted by similarity, repeated molecules kept; a failed
decoding is an empty SMILES with similarity ``nan``, last. Then one line: valid, unique and mean
similarity (on stderr, or on stdout when the lines went to a file). The same seed gives the same
neighbours.
"""

from __future__ import annotations

import argparse

from moldojo.cli.common import non_negative_float, sample_count
from moldojo.cli.generate_common import (
    failure_summary,
    load_model,
    run_dir_and_file,
    say,
    write_text,
)
from moldojo.cli.output import output_file

HELP = "decode molecules around an encoded molecule (default model: the shipped one)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="[RUN_DIR] SMILES",
                        help="optional run directory, checkpoint or shipped model name, then "
                        "the query molecule")  # fmt: skip
    parser.add_argument("-n", type=sample_count, default=10,
                        help="number of neighbours, at least 1 (default 10)")  # fmt: skip
    parser.add_argument("--radius", type=non_negative_float, default=0.5, metavar="R",
                        help="latent points are z + R * N(0, I) around the query's posterior "
                        "mean z (default 0.5)")  # fmt: skip
    parser.add_argument("-o", "--output", metavar="FILE", help="write the lines here, not stdout")
    parser.add_argument("--grid", metavar="PNG",
                        help="also draw the query and the first 23 valid neighbours (the "
                        "format from the extension: .png, .jpg, .pdf, ...)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    import torch

    from moldojo.search import neighbours

    run_dir, smiles = run_dir_and_file(args.paths, "a SMILES")
    output = output_file(args.output, "-o", stdout=True)
    grid = output_file(args.grid, "--grid", image=True)
    model = load_model(run_dir, args.device)
    generator = torch.Generator().manual_seed(args.seed)
    result = neighbours(model, smiles, args.n, radius=args.radius, generator=generator)
    text = "".join(f"{s or ''}\t{v:.3f}\n" for s, v in zip(result.smiles, result.similarities,
                                                             strict=True))  # fmt: skip
    similarity = "n/a" if result.valid == 0 else f"{result.mean_similarity:.3f}"
    summary = (f"{len(result.smiles)} neighbours at radius {result.radius:g}: {result.valid} "
               f"valid, {result.unique} unique, mean similarity {similarity}, "
               f"{failure_summary(result.reasons)}")  # fmt: skip
    to_file = write_text(text, output)
    say(f"{summary} -> {output}" if to_file else summary, to_stdout=to_file)
    if grid is not None:
        from moldojo.evaluation.plots import molecule_grid_image

        valid = [s for s in result.smiles if s is not None]
        grid.write_image(molecule_grid_image([smiles, *valid], n=24))
    return 0
