"""``moldojo reconstruct``: reconstruction accuracy of a trained model on a dataset.

Protocol: encode to the posterior mean, decode greedily, and compare canonical SMILES (without
stereo: the decoders produce no stereo).
"""

from __future__ import annotations

import argparse

from moldojo.cli.common import positive_int, show_progress, write_json
from moldojo.cli.generate_common import add_decode_flags, decode_mode, load_model, mode_label
from moldojo.cli.output import output_file
from moldojo.errors import DatasetError

HELP = "reconstruction accuracy of a trained model (default: the shipped one)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run_dir",
        nargs="?",
        metavar="RUN_DIR",
        help="run directory or checkpoint (default: the shipped model)",
    )
    parser.add_argument(
        "--data",
        required=True,
        metavar="NAME[:SPLIT]|FILE",
        help="molecules to reconstruct (a dataset name means its test split)",
    )
    parser.add_argument("-n", type=positive_int, default=None, metavar="N",
                        help="the first N molecules (default all)")  # fmt: skip
    add_decode_flags(parser)
    parser.add_argument("--json", metavar="OUT", help="write the result as JSON ('-' = stdout)")


def run(args: argparse.Namespace) -> int:
    from moldojo.data import DATASETS, load_dataset
    from moldojo.evaluation.reconstruction import reconstruction_accuracy

    json_out = output_file(args.json, "--json", stdout=True)
    spec = args.data
    if ":" not in spec and spec in DATASETS:
        spec = f"{spec}:test"
    model = load_model(args.run_dir, args.device)
    mode = decode_mode(model, args.mode)
    smiles = load_dataset(spec, progress=show_progress(args)).smiles
    if args.n is not None:
        smiles = smiles[: args.n]
    if not smiles:
        raise DatasetError(f"{args.data}: no molecules to reconstruct")
    decoded = model.reconstruct(smiles, mode=mode, progress=show_progress(args))
    result = reconstruction_accuracy(smiles, decoded, stereo=False)
    label = mode_label(model, mode)
    print(f"reconstruction accuracy: {100 * result.accuracy:.1f}% (n={result.n}, "
          f"{label} decoding, stereo-blind)")  # fmt: skip
    if json_out is not None:
        write_json({"data": spec, "mode": label, **result.__dict__}, json_out)
    return 0
