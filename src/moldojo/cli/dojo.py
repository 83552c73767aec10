"""The graph layers of the dojo: ``moldojo dojo list`` and ``moldojo dojo bench``."""

from __future__ import annotations

import argparse
import sys

from moldojo.cli.common import (
    add_shared_flags,
    positive_float,
    positive_int,
    resolve_device,
    write_json,
)
from moldojo.cli.output import output_file

HELP = "list the graph layers, or benchmark them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="dojo_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the layers, each with one line")
    add_shared_flags(listing, suppress_defaults=True)
    bench = actions.add_parser(
        "bench",
        help="train each layer on penalised logP and time it against PyTorch Geometric",
        description="For each layer: a 4-layer residual model with sum readout learns penalised "
        "logP on moses-mini for a fixed budget; prints test MAE, parameters, training "
        "molecules/s, and forward+backward time vs the PyG counterpart.",
    )
    add_shared_flags(bench, suppress_defaults=True)
    # Names are checked by DojoConfig, so that building the parser does not import torch.
    bench.add_argument("--layers", nargs="+", metavar="LAYER",
                       help="layers to run (default: all; see 'moldojo dojo list')")  # fmt: skip
    bench.add_argument("--minutes", type=positive_float, default=3.0,
                       help="training minutes per layer (default 3)")  # fmt: skip
    bench.add_argument("--hidden-dim", type=positive_int, default=128)
    bench.add_argument("--json", metavar="OUT", help="also write the results as JSON")


def run(args: argparse.Namespace) -> int:
    from moldojo.nn.registry import LAYERS

    if args.dojo_command == "list":
        width = max(len(name) for name in LAYERS)
        for name, spec in LAYERS.items():
            print(f"{name:<{width}}  {spec.cls:<22} {spec.description}")
        return 0
    json_out = output_file(args.json, "--json", stdout=True)
    from moldojo.training.dojo import DojoConfig, format_table, run_dojo

    config = DojoConfig(
        layers=tuple(args.layers or ()), minutes=args.minutes, hidden_dim=args.hidden_dim,
        seed=args.seed,
    )  # fmt: skip
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr))
    results = run_dojo(config, device=resolve_device(args.device), progress=progress)
    print(format_table(results, config))
    if json_out is not None:
        write_json([r.__dict__ | {"speed_ratio": r.speed_ratio} for r in results], json_out)
    return 0
