"""moldojo serve's command line: the address is checked before the model loads, a public
address warns, and the app is handed to uvicorn."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from cli_helpers import run_cli
from moldojo.cli import main


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    import uvicorn

    calls: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        calls.update(kwargs, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    return calls


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_hands_the_app_to_uvicorn_on_loopback(
    served: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()
    assert main(["serve", "--port", str(port)]) == 0
    assert served["host"] == "127.0.0.1" and served["port"] == port
    err = capsys.readouterr().err
    assert f"http://127.0.0.1:{port}/" in err and "warning" not in err


def test_a_public_address_warns(served: dict[str, Any], capsys: pytest.CaptureFixture[str]
                                ) -> None:  # fmt: skip
    assert main(["serve", "two-step", "--host", "0.0.0.0", "--port", str(_free_port())]) == 0
    assert "warning" in capsys.readouterr().err and served["host"] == "0.0.0.0"


def test_a_busy_port_or_bad_address_is_one_line(
    served: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert run_cli(["serve", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "in use" in err
    assert run_cli(["serve", "--host", "no.such.host.invalid", "--port", "8123"]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    for port in ("0", "70000", "http"):
        assert run_cli(["serve", "--port", port]) == 2
    assert served == {}
