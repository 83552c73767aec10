"""A real server on a free port (uvicorn in a thread) with the shipped model, for the browser and
the flood tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

import moldojo
from moldojo.sampling import DEFAULT_MODEL
from moldojo.serve import Limits, create_app


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The base URL of a running explorer of the shipped hier model."""
    if not DEFAULT_MODEL.exists():
        pytest.skip("no model shipped")
    port = _free_port()
    app = create_app(moldojo.load(), name="hier", limits=Limits(queue=8, seconds=60))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/api/info", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    else:
        pytest.fail("the server did not start")
    yield url
    running.should_exit = True
    thread.join(timeout=10)
