"""The ``moldojo`` command: ``moldojo <verb> ...``.

One module per verb, each with ``add_arguments(parser)`` and ``run(args) -> int``; no modelling
logic lives here. Data goes to stdout, diagnostics to stderr. Usage errors exit 2 with one line;
a :class:`~moldojo.errors.MoldojoError`, or running out of memory (a model or batch too large
for the machine), prints one line and exits 1 (with its traceback under ``-v``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import sys
import traceback
from collections.abc import Iterator, Sequence

from moldojo._version import __version__
from moldojo.cli import (
    data,
    decode,
    dojo,
    encode,
    evaluate,
    hamd,
    interpolate,
    motifs,
    neighbours,
    optimize,
    reconstruct,
    sample,
    serve,
    train,
    vocab,
)
from moldojo.cli.common import OneLineErrorParser, add_shared_flags
from moldojo.errors import MoldojoError, printable

__all__ = ["build_parser", "main"]

_MESSAGE_CHARS = 2000  # longest error message printed; longer ones are cut

VERBS = {
    "data": data,
    "dojo": dojo,
    "hamd": hamd,
    "train": train,
    "sample": sample,
    "reconstruct": reconstruct,
    "encode": encode,
    "decode": decode,
    "evaluate": evaluate,
    "vocab": vocab,
    "motifs": motifs,
    "interpolate": interpolate,
    "neighbours": neighbours,
    "optimize": optimize,
    "serve": serve,
}


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to document the CLI)."""
    parser = OneLineErrorParser(
        prog="moldojo",
        description="Molecule generation with graph neural networks, from first principles.",
    )
    parser.add_argument("--version", action="version", version=f"moldojo {__version__}")
    add_shared_flags(parser, suppress_defaults=False)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    for name, module in VERBS.items():
        sub = verbs.add_parser(name, help=module.HELP, description=module.__doc__)
        add_shared_flags(sub, suppress_defaults=True)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb is None:
        parser.error("no command given")
    with _logging_to_stderr(args.verbose, args.quiet):
        try:
            return int(args.run(args) or 0)
        except MoldojoError as error:
            return _error(str(error), args.verbose)
        except (MemoryError, RuntimeError) as error:
            if not _out_of_memory(error):
                raise  # a bug: the traceback is what its report needs
            asked = re.search(r"tried to allocate ([\d.]+ ?\w+)", str(error), re.IGNORECASE)
            amount = f" (asked for {asked.group(1)})" if asked else ""
            message = f"out of memory{amount}; use a smaller model, batch size or -n"
            return _error(message, args.verbose)
        except KeyboardInterrupt:
            print("moldojo: interrupted", file=sys.stderr)
            return 130


def _error(message: str, verbose: int) -> int:
    """Print ``message`` as the one line of an error (with the traceback under ``-v``): the last
    guard on input text, so control characters are escaped and the line is bounded."""
    if verbose:
        traceback.print_exc()
    message = printable(" ".join(message.split()))
    if len(message) > _MESSAGE_CHARS:
        message = message[:_MESSAGE_CHARS] + "..."
    print(f"moldojo: error: {message}", file=sys.stderr)
    return 1


def _out_of_memory(error: BaseException) -> bool:
    """Memory ran out: Python's MemoryError, torch's OutOfMemoryError (CUDA), or its CPU
    allocator's failure, a plain RuntimeError that says so."""
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError":
        return True
    return "can't allocate memory" in str(error)


@contextlib.contextmanager
def _logging_to_stderr(verbose: int, quiet: bool) -> Iterator[None]:
    """Send moldojo's log records to stderr for one command, then restore the logger, so that
    ``main`` can be called in process (tests, notebooks) without changing global state."""
    if quiet:
        level = logging.ERROR
    else:
        level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("moldojo: %(message)s"))
    logger = logging.getLogger("moldojo")
    saved = logger.handlers[:], logger.level, logger.propagate
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
