"""``moldojo train``: train a generative model into a run directory.

The run directory receives the resolved ``config.toml``, ``metrics.jsonl`` (one line per step
and per validation), ``checkpoints/last.pt`` (every epoch and every ``train.checkpoint_minutes``
or ``train.checkpoint_steps``; what ``--resume`` reads), the final ``model.pt`` and
``curves.png``. A directory that already holds a run is continued with ``--resume``, replaced
with ``--overwrite``, and otherwise left alone.

``torchrun --nproc-per-node K -m moldojo train ...`` trains one run with K processes
(:mod:`moldojo.distributed`); process 0 writes the run directory and prints the summary.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from moldojo.cli.common import (
    add_run_flags,
    print_train_summary,
    resolve_device,
    show_progress,
)
from moldojo.errors import ConfigError

HELP = "train a generative model (two-step or hierarchical motif VAE) into a run directory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from moldojo.models.registry import kinds

    parser.add_argument("--model", choices=kinds(),
                        help=f"model to train (default {kinds()[0]})")  # fmt: skip
    parser.add_argument("--data", metavar="NAME|FILE",
                        help="training data: a dataset (its train/valid splits) or a SMILES file "
                        "(default moses-mini)")  # fmt: skip
    add_run_flags(
        parser, run="RUN_DIR", example="two_step.latent_dim=32",
        resume_help="continue the run in RUN_DIR from checkpoints/last.pt (only --epochs, "
        "--max-minutes and train settings such as lr may change)",
    )  # fmt: skip

def run(args: argparse.Namespace) -> int:
    from moldojo.cli.output import output_dir
    from moldojo.distributed import world
    from moldojo.training.run import load_run_config, train, with_epochs

    output_dir(args.out, "--out")  # one line, before any data is read, if RUN_DIR is unwritable
    out = Path(args.out)
    overrides = []
    if args.model:
        overrides.append(f"model={args.model}")
    if args.data is not None:  # --data "" is a (bad) data set, not the default one
        overrides.append(f"data={args.data}")
    if args.seed and not any(item.startswith("seed=") for item in args.set):
        overrides.append(f"seed={args.seed}")  # --seed S is --set seed=S
    if args.resume:
        if args.config:
            raise ConfigError("--resume reads RUN_DIR/config.toml; leave out --config")
        if not (out / "config.toml").exists():
            raise ConfigError(f"cannot resume: {out / 'config.toml'} does not exist")
        config = load_run_config(out / "config.toml", [*overrides, *args.set])
    else:
        config = load_run_config(args.config, [*overrides, *args.set])
    config = with_epochs(config, args.epochs)
    summary = train(
        config, out, resume=args.resume, overwrite=args.overwrite, max_minutes=args.max_minutes,
        device=resolve_device(args.device), progress=show_progress(args),
    )  # fmt: skip
    if world().main:  # under torchrun, one process reports
        print_train_summary(summary, out)
    return 0
