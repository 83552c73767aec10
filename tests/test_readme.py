"""The README's commands and code run as written, so the docs cannot drift from the code.

Every ``$ command`` line in a ``console`` block runs in the repository root (``# exits N`` at the
end of a line gives its expected exit status); every ``python`` block is executed. ``make test``
is this suite itself, so it is checked to be what ``.ci/run`` calls instead of being run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def _commands() -> list[tuple[str, int]]:
    commands = []
    for language, body in BLOCK.findall(README):
        if language != "console":
            continue
        for line in body.splitlines():
            if line.startswith("$ "):
                command, _, comment = line[2:].partition("#")
                match = re.search(r"exits (\d+)", comment)
                commands.append((command.strip(), int(match.group(1)) if match else 0))
    return commands


COMMANDS = _commands()


def test_readme_opens_with_the_two_setup_commands() -> None:
    assert COMMANDS[:2] == [("make demo", 0), ("make test", 0)]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize(
    ("command", "status"), [c for c in COMMANDS if c[0] != "make test"], ids=lambda v: str(v)
)
def test_readme_command_runs(command: str, status: int) -> None:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    (ROOT / "out").mkdir(exist_ok=True)
    result = subprocess.run(
        command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=540
    )
    assert result.returncode == status, f"{command}\n{result.stdout}\n{result.stderr}"
    if status == 0:
        assert result.stdout.strip(), f"{command} printed nothing"
    else:
        assert result.stderr.count("\n") == 1, result.stderr  # one-line error
    if "moses:test" in command:
        report = json.loads((ROOT / "out" / "moses_test.json").read_text())
        assert report["molecules"] == report["roundtrip_ok"] == 176_074


@pytest.mark.parametrize("index", range(README.count("```python")))
def test_readme_python_block_runs(
    index: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    (ROOT / "out").mkdir(exist_ok=True)
    blocks = [body for language, body in BLOCK.findall(README) if language == "python"]
    exec(compile(blocks[index], f"README.md python block {index}", "exec"), {})
    assert capsys.readouterr().out.strip()
