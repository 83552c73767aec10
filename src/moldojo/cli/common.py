"""What every verb shares: the parser class, the shared flags, output helpers."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from moldojo.cli.output import OutputFile
from moldojo.errors import MoldojoError, printable, quote_input

if TYPE_CHECKING:
    from moldojo.chem.vocab import MotifCheckReport
    from moldojo.data.dataset import CheckReport
    from moldojo.training.loop import TrainSummary

__all__ = [
    "MAX_JOBS",
    "MAX_SAMPLES",
    "MAX_SEED",
    "OneLineErrorParser",
    "add_run_flags",
    "add_shared_flags",
    "failure_lines",
    "jobs_int",
    "non_negative_float",
    "positive_float",
    "positive_int",
    "print_train_summary",
    "resolve_device",
    "sample_count",
    "seed_int",
    "show_progress",
    "write_json",
]


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        # printable(): "unrecognized arguments" echoes the argument as typed, escapes and all.
        self.exit(2, f"{self.prog}: error: {printable(message)} (see '{self.prog} --help')\n")


# -- argparse types: a bad number is a usage error (exit 2, one line), not a traceback later ---

#: Largest seed accepted: torch and NumPy take seeds of 64 bits, Python's int has no limit.
MAX_SEED = 2**63 - 1


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer of at least 1 (``--jobs``, ``-n``)."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


#: Most worker processes (and torch threads) a ``--jobs`` may ask for: far more than any machine
#: has cores, far fewer than the millions of threads that crash torch.
MAX_JOBS = 1024


def jobs_int(text: str) -> int:
    """A number of worker processes (``--jobs``): 1 to :data:`MAX_JOBS`."""
    return _at_most(positive_int(text), MAX_JOBS)


#: Most molecules one command samples: all their latent points and SMILES are held in memory.
MAX_SAMPLES = 10_000_000


def sample_count(text: str) -> int:
    """A number of samples (``sample -n``): 1 to :data:`MAX_SAMPLES`."""
    return _at_most(positive_int(text), MAX_SAMPLES)


def _at_most(value: int, maximum: int) -> int:
    if value > maximum:
        raise argparse.ArgumentTypeError(f"must be at most {maximum:,}, got {value}")
    return value


def seed_int(text: str) -> int:
    """A seed: an integer from 0 to :data:`MAX_SEED`."""
    value = _integer(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be from 0 to 2**63-1, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number above 0 (``--max-minutes``)."""
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number of at least 0 (``--temperature``)."""
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


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
    group.add_argument(
        "--seed", type=seed_int, default=default(0),
        help="random seed, 0 to 2**63-1 (default 0)",
    )  # fmt: skip
    group.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default=default("auto"),
        help="where models run: auto picks cuda when available (default auto)",
    )  # fmt: skip


def failure_lines(report: CheckReport | MotifCheckReport) -> list[str]:
    """What ``data check`` and ``motifs check`` print under a report's summary: every failed
    round trip (they set the exit status), one line each; then one line per skip reason: how
    many, their first lines, the first one's text. Input text is quoted and cut
    (:func:`~moldojo.errors.quote_input`)."""
    out = [
        f"  line {f.line}: roundtrip: {quote_input(f.smiles)}: {printable(f.detail)}"
        for f in report.roundtrip_failures
    ]
    examples = report.skip_examples
    for reason, count in sorted(report.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
        of_reason = [f for f in examples if f.reason == reason]
        shown = of_reason[:5]
        lines = ", ".join(str(f.line) for f in shown) + (", ..." if count > len(shown) else "")
        first = of_reason[0]
        detail = f" ({printable(first.detail)})" if first.detail else ""
        out.append(
            f"  skipped {reason} {count:,} (line {lines}), e.g. line {first.line}: "
            f"{quote_input(first.smiles)}{detail}"
        )
    return out


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


def add_run_flags(
    parser: argparse.ArgumentParser, *, run: str, example: str, resume_help: str
) -> None:
    """The flags every training verb shares: ``--out`` (metavar ``run``), ``--config``,
    ``--set`` (``example`` in its help), ``--epochs``, ``--max-minutes`` and the exclusive
    ``--resume`` (``resume_help``) / ``--overwrite``."""
    parser.add_argument("--out", required=True, metavar=run, help="the run directory")
    parser.add_argument("--config", metavar="FILE.toml", help="run configuration (TOML)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help=f"override a config value, e.g. --set {example} "
                        "(repeatable)")  # fmt: skip
    parser.add_argument("--epochs", type=positive_int, metavar="N",
                        help="epochs (overrides the config)")  # fmt: skip
    parser.add_argument("--max-minutes", type=positive_float, metavar="M",
                        help="stop after M minutes (checkpoint written; --resume continues)")
    again = parser.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help=resume_help)
    again.add_argument("--overwrite", action="store_true",
                       help=f"replace the run already in {run} (without it, or --resume, one is "
                       "never touched)")  # fmt: skip


def print_train_summary(summary: TrainSummary, run_dir: Path, *, unit: str = "molecules",
                        count: str = "") -> None:  # fmt: skip
    """What a training verb prints when it is done: how it stopped, steps, epochs, time and
    throughput (``unit``/s, after ``count``, e.g. "14,000 graphs, "), the last validation
    metrics and where the model is."""
    valid = ", ".join(f"{k} {v:.3f}" for k, v in summary.valid.items())
    how = "stopped at the time budget" if summary.stopped == "budget" else "done"
    print(f"{how}: {count}{summary.steps} steps, {summary.epochs} epochs, "
          f"{summary.seconds:.0f} s, {summary.molecules_per_second:.0f} {unit}/s")  # fmt: skip
    print(f"validation: {valid}")
    print(f"model: {run_dir / 'model.pt'}")


def write_json(data: Any, path: str | Path | OutputFile) -> None:
    """Write strict JSON (NaN and infinities as ``null``) to a file, or to stdout when ``path``
    is ``-``, atomically. Verbs pass the :class:`OutputFile` they checked before their work."""
    if not isinstance(path, OutputFile):
        path = OutputFile(str(path), "--json", None if str(path) == "-" else Path(path))
    path.write_json(data)
