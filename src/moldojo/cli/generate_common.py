"""What the verbs that use a trained model share: the optional RUN_DIR, decoding flags."""

from __future__ import annotations

import argparse
import sys
from collections import Counter

__all__ = ["add_decode_flags", "load_model", "report_failures"]


def add_decode_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--constrained", dest="mode", action="store_const", const="constrained",
                       help="valence-constrained greedy decoding (the default)")  # fmt: skip
    group.add_argument(
        "--raw",
        dest="mode",
        action="store_const",
        const="raw",
        help="the decoder's most likely graph as is (validity without constraints)",
    )
    parser.set_defaults(mode="constrained")


def load_model(run_dir: str | None, device: str):  # noqa: ANN201
    """The model of ``run_dir``, or the one shipped in the package."""
    from moldojo.cli.common import resolve_device
    from moldojo.sampling import load

    return load(run_dir, device=resolve_device(device))


def report_failures(
    what: str, total: int, failures: Counter[str], *, to_stdout: bool = False
) -> None:
    """One line: how many of ``total`` failed, and why. On stderr, unless the data went to a
    file (``to_stdout``), when this line is the command's output."""
    failed = sum(failures.values())
    reasons = ", ".join(f"{k} {v}" for k, v in failures.most_common())
    detail = f" ({reasons})" if failed else ""
    line = f"{what}: {total - failed} of {total} ok, {failed} failed{detail}"
    if to_stdout:
        print(line)
    else:
        print(f"moldojo: {line}", file=sys.stderr)
