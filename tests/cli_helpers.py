"""Running the CLI in process, as the CLI tests of several files do."""

from __future__ import annotations

import pytest

from moldojo.cli import main


def run_cli(argv: list[str]) -> int:
    """``main(argv)``'s status, usage errors (argparse's ``SystemExit``) included."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``(status, stdout, stderr)`` of ``moldojo ARGV``."""
    code = run_cli(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
