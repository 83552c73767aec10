"""The process pool of :mod:`moldojo.parallel`: order, the in-process path, worker state handed
over by the initializer under both fork and spawn, errors, empty input.

The worker functions are defined at module level here so that spawned workers can import them
(this folder is on ``sys.path``, which spawned children inherit).
"""

from __future__ import annotations

import os

import pytest

from moldojo.errors import ConfigError
from moldojo.parallel import START_METHOD_ENV, imap_chunks, pmap, start_method

_STATE: dict[str, int] = {}  # set only by _set_state, in each worker


def _set_state(factor: int) -> None:
    _STATE["factor"] = factor


def _broken_initializer() -> None:
    raise RuntimeError("no state for you")


def _scaled(x: int) -> tuple[int, int]:
    return x * _STATE["factor"], os.getpid()


def _square(x: int) -> int:
    return x * x


def _chunk_sum(chunk: list[int]) -> int:
    return sum(chunk)


def _fail_on_13(x: int) -> int:
    if x == 13:
        raise ValueError(f"bad item {x}")
    return x


def test_order_is_preserved_over_processes() -> None:
    items = list(range(1000))[::-1]

    got = pmap(_square, items, jobs=3, chunk_size=7, progress=False)

    assert got == [x * x for x in items]


def test_in_process_equals_pool() -> None:
    items = list(range(500))

    serial = pmap(_square, items, jobs=1, chunk_size=16, progress=False)
    parallel = pmap(_square, items, jobs=2, chunk_size=16, progress=False)

    assert serial == parallel


def test_imap_chunks_reads_any_iterable_and_yields_one_result_per_chunk() -> None:
    got = list(imap_chunks(_chunk_sum, (x for x in range(10)), jobs=2, chunk_size=4))

    assert got == [0 + 1 + 2 + 3, 4 + 5 + 6 + 7, 8 + 9]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_initializer_state_reaches_the_workers(method: str) -> None:
    # Given state that exists only through the initializer (never set in this process)
    _STATE.clear()

    # When the map runs in worker processes
    got = pmap(
        _scaled,
        range(40),
        jobs=2,
        chunk_size=10,
        initializer=_set_state,
        initargs=(3,),
        method=method,
        progress=False,
    )

    # Then every worker saw it, and the work did not run here
    assert [value for value, _ in got] == [3 * x for x in range(40)]
    assert os.getpid() not in {pid for _, pid in got}
    assert _STATE == {}


def test_the_environment_variable_forces_spawn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(START_METHOD_ENV, "spawn")
    _STATE.clear()

    got = pmap(
        _scaled,
        range(8),
        jobs=2,
        chunk_size=2,
        initializer=_set_state,
        initargs=(5,),
        progress=False,
    )

    assert start_method() == "spawn"
    assert [value for value, _ in got] == [5 * x for x in range(8)]
    assert _STATE == {}


def test_the_in_process_path_calls_the_initializer_too() -> None:
    _STATE.clear()

    got = pmap(_scaled, range(5), jobs=1, initializer=_set_state, initargs=(2,), progress=False)

    assert got == [(2 * x, os.getpid()) for x in range(5)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_exception_in_a_worker_reaches_the_caller(jobs: int) -> None:
    with pytest.raises(ValueError, match="bad item 13"):
        pmap(_fail_on_13, range(100), jobs=jobs, chunk_size=5, progress=False)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_an_exception_in_the_initializer_reaches_the_caller(method: str) -> None:
    # a worker that dies in its initializer would otherwise be replaced forever: a hang
    with pytest.raises(RuntimeError, match="no state for you"):
        pmap(_square, range(10), jobs=2, initializer=_broken_initializer, method=method,
             chunk_size=2, progress=False)  # fmt: skip


def test_empty_input() -> None:
    assert pmap(_square, [], jobs=4, progress=False) == []
    assert list(imap_chunks(_chunk_sum, [], jobs=4)) == []


def test_an_unknown_start_method_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(START_METHOD_ENV, "teleport")

    with pytest.raises(ConfigError, match=f"{START_METHOD_ENV}='teleport'"):
        pmap(_square, range(3), progress=False)
