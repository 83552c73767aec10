"""What every verb shares: the parser class, the shared flags, output helpers."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from moldojo.errors import MoldojoError

__all__ = [
    "OneLineErrorParser",
    "add_shared_flags",
    "resolve_device",
    "show_progress",
    "write_json",
]


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def add_shared_flags(parser: argparse.ArgumentParser, *, suppress_defaults: bool) -> None:
    """``-v/-q``, ``--seed``, ``--device``, accepted before or after the verb.

    The verb's copy has suppressed defaults, so that a flag given before the verb is not
    overwritten by the verb parser's default.
    """

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress_defaults else value

    group = parser.add_argument_group("shared options")
    group.add_argument(
        "-v", "--verbose", action="count", default=default(0),
        help="more messages on stderr (-vv for debug); tracebacks on errors",
    )  # fmt: skip
    group.add_argument(
        "-q", "--quiet", action="store_true", default=default(False),
        help="only errors on stderr, no progress bars",
    )  # fmt: skip
    group.add_argument("--seed", type=int, default=default(0), help="random seed (default 0)")
    group.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default=default("auto"),
        help="where models run: auto picks cuda when available (default auto)",
    )  # fmt: skip


def show_progress(args: argparse.Namespace) -> bool | None:
    """Progress bars: off with -q, else on when stderr is a terminal."""
    return False if args.quiet else None


def resolve_device(name: str) -> str:
    """``auto``: ``cuda`` when torch sees a GPU, else ``cpu``; ``cuda`` needs a GPU."""
    import torch  # only the verbs that run models pay for importing torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise MoldojoError("--device cuda was asked for but torch sees no CUDA device; use cpu")
    return name


def write_json(data: Any, path: str | Path) -> None:
    """Write JSON to a file, or to stdout when ``path`` is ``-``."""
    text = json.dumps(data, indent=2) + "\n"
    if str(path) == "-":
        sys.stdout.write(text)
        return
    try:
        Path(path).write_text(text)
    except OSError as error:
        raise MoldojoError(f"cannot write {path}: {error.strerror}") from error
