"""What the verbs that use a trained model share: the optional RUN_DIR, decoding flags."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moldojo.cli.output import OutputFile
    from moldojo.models.generator import Generator

__all__ = [
    "add_decode_flags",
    "decode_mode",
    "failure_summary",
    "load_model",
    "mode_label",
    "report_failures",
    "run_dir_and_file",
    "say",
    "write_smiles",
    "write_text",
]


def add_decode_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--constrained", dest="mode", action="store_const", const="constrained",
                       help="two-step model: valence-constrained greedy decoding (the default)"
                       )  # fmt: skip
    group.add_argument(
        "--raw",
        dest="mode",
        action="store_const",
        const="raw",
        help="two-step model: the decoder's most likely graph as is (validity without constraints)",
    )
    parser.set_defaults(mode=None)


def decode_mode(model: Generator, mode: str | None) -> str | None:
    """The ``mode`` argument of ``model.decode`` for ``--constrained`` / ``--raw`` (None:
    neither given, the family's default). A family with one way to decode refuses both."""
    from moldojo.errors import MoldojoError

    if mode is not None and mode not in model.decode_modes:
        raise MoldojoError(
            f"--{mode} chooses a decoding mode of the two-step model; the {model.kind} model "
            f"decodes {model.decoding}"
        )
    return mode


def mode_label(model: Generator, mode: str | None) -> str:
    """How ``model`` decodes with ``mode``, in words: ``constrained``, ``motif by motif``."""
    return mode or (model.decode_modes[0] if model.decode_modes else model.decoding)


def load_model(run_dir: str | None, device: str) -> Generator:
    """The model of ``run_dir``, or the one shipped in the package."""
    from moldojo.cli.common import resolve_device
    from moldojo.sampling import load

    return load(run_dir, device=resolve_device(device))


def failure_summary(reasons: list[str | None]) -> str:
    """``2 failed to decode (valence 2)``: how many rows failed, and why."""
    counts = Counter(r for r in reasons if r is not None)
    detail = ", ".join(f"{k} {v}" for k, v in counts.most_common())
    return f"{sum(counts.values())} failed to decode" + (f" ({detail})" if detail else "")


def report_failures(
    what: str, total: int, failures: Counter[str], *, to_stdout: bool = False
) -> None:
    """One line: how many of ``total`` failed, and why (see :func:`say`)."""
    failed = sum(failures.values())
    reasons = ", ".join(f"{k} {v}" for k, v in failures.most_common())
    detail = f" ({reasons})" if failed else ""
    say(f"{what}: {total - failed} of {total} ok, {failed} failed{detail}", to_stdout=to_stdout)


def say(line: str, *, to_stdout: bool) -> None:
    """A verb's one-line summary: on stderr, unless the data went to a file (``to_stdout``),
    when this line is the command's output."""
    if to_stdout:
        print(line)
    else:
        print(f"moldojo: {line}", file=sys.stderr)


def write_text(text: str, output: OutputFile | None) -> bool:
    """``text`` to ``output`` (checked by :func:`~moldojo.cli.output.output_file`) or stdout;
    whether it went to a file (the summary then goes to stdout, see :func:`say`)."""
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
    return output is not None and not output.is_stdout


def write_smiles(
    smiles: list[str | None], output: OutputFile | None, what: str, failures: Counter[str]
) -> None:
    """One SMILES per line (empty for a failure) to ``output`` or stdout, then the counts line:
    on stdout when the SMILES went to a file, else on stderr."""
    to_file = write_text("".join((s or "") + "\n" for s in smiles), output)
    if to_file:
        what = f"{what} -> {output}"
    report_failures(what, len(smiles), failures, to_stdout=to_file)


def run_dir_and_file(paths: list[str], what: str) -> tuple[str | None, str]:
    """``[RUN_DIR] FILE`` positionals: the run directory (None: the shipped model), the file."""
    from moldojo.errors import MoldojoError

    if len(paths) > 2:
        raise MoldojoError(f"give at most a run directory and {what}")
    return (None, paths[0]) if len(paths) == 1 else (paths[0], paths[1])
