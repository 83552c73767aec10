"""Order-preserving parallel maps over processes, correct under both the fork and spawn methods.

RDKit releases the GIL only in parts, so per-molecule work is spread over processes. Items travel
in chunks, so that the per-task overhead stays small next to the work, and results come back in
input order. With ``jobs <= 1``, or when everything fits in one chunk, the map runs in this
process. RDKit's own messages are blocked while a chunk runs: invalid molecules are expected, and
the callers count them.

Start method: fork on Linux (cheapest), spawn elsewhere (the only choice on Windows, the default
on macOS); ``method=`` or the environment variable ``MOLDOJO_START_METHOD`` overrides it, so that
tests can run the spawn path on Linux. A spawned worker starts from a fresh interpreter that has
only imported modules, so everything it needs must reach it by pickling:

- the calling script must be importable and guard its work with ``if __name__ == "__main__":``
  (spawned workers import it; code read from stdin cannot be spawned);
- the function must be defined at module level (it is pickled by reference);
- small arguments (a :class:`~moldojo.chem.GraphConfig`) travel with each task, bound with
  :func:`functools.partial`;
- large read-only state (vocabularies, motif tables) is handed over once per worker by an
  *initializer*. The module that owns the function keeps the state in a module global that only
  the initializer sets; never set it in the parent before the map, which works under fork only::

      _STATE: MotifVocabulary | None = None  # set by _set_state, in each worker


      def _set_state(vocab: MotifVocabulary) -> None:
          global _STATE
          _STATE = vocab


      def _work(chunk: list[tuple[int, str]]) -> Counts:
          vocab = _STATE
          ...


      for counts in imap_chunks(_work, records, jobs=jobs, initializer=_set_state,
                                initargs=(vocab,)):
          ...

  The in-process path calls the initializer too (in this process, where the state then stays
  until the next map replaces it), so the same code runs whatever ``jobs`` is.

Bottom layer: imports nothing from moldojo but :mod:`moldojo.errors` and :mod:`moldojo.progress`
(RDKit is imported directly, and only when a chunk runs), so that every layer may use it.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import multiprocessing.pool
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sized
from functools import partial
from itertools import chain, islice
from typing import Any, TypeVar

from moldojo.errors import ConfigError
from moldojo.progress import progress_bar

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["START_METHOD_ENV", "imap_chunks", "pmap", "start_method"]

#: Environment variable that overrides the default start method ("fork", "spawn", "forkserver").
START_METHOD_ENV = "MOLDOJO_START_METHOD"


def start_method(method: str | None = None) -> str:
    """The start method to use: ``method``, else ``$MOLDOJO_START_METHOD``, else fork on Linux
    and spawn elsewhere.

    Raises:
        ConfigError: the method is not one this platform offers.
    """
    chosen = (
        method
        or os.environ.get(START_METHOD_ENV)
        or ("fork" if sys.platform.startswith("linux") else "spawn")
    )
    allowed = multiprocessing.get_all_start_methods()
    if chosen not in allowed:
        where = f"{START_METHOD_ENV}={chosen!r}" if not method else f"method={chosen!r}"
        raise ConfigError(
            f"unknown process start method {where}; this platform offers {', '.join(allowed)}"
        )
    return chosen


def imap_chunks(
    func: Callable[[list[T]], R],
    items: Iterable[T],
    *,
    jobs: int = 1,
    chunk_size: int = 256,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[Any, ...] = (),
    method: str | None = None,
) -> Iterator[R]:
    """``func(chunk)`` for consecutive chunks of ``items``, in order, over ``jobs`` processes.

    For callers that reduce each chunk in the worker (counts, packed arrays), so that less comes
    back than went out. ``items`` is read lazily in this process; results are yielded as their
    chunks finish, in input order.

    Args:
        func: a module-level function of one chunk (a list of at most ``chunk_size`` items).
        items: the items; any iterable.
        jobs: worker processes; ``<= 1`` runs in this process.
        chunk_size: items per chunk (per task sent to a worker).
        initializer: called with ``*initargs`` once in each worker before any chunk (and once
            here on the in-process path); see the module docstring.
        initargs: the initializer's arguments, pickled once per worker under spawn.
        method: the start method; see :func:`start_method`.

    Raises:
        Whatever ``func`` or ``initializer`` raises, in this process.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size} must be at least 1")
    context = multiprocessing.get_context(start_method(method))
    processes = jobs
    if isinstance(items, Sized):
        processes = min(jobs, math.ceil(len(items) / chunk_size))
    return _imap_chunks(func, items, processes, chunk_size, initializer, initargs, context)


def pmap(
    func: Callable[[T], R],
    items: Iterable[T],
    *,
    jobs: int = 1,
    chunk_size: int = 256,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[Any, ...] = (),
    description: str = "",
    progress: bool | None = None,
    method: str | None = None,
) -> list[R]:
    """``[func(x) for x in items]``, over ``jobs`` processes when there is more than one chunk.

    Args:
        func: a module-level function of one item.
        items: the items; read into a list first when they have no length.
        jobs, chunk_size, initializer, initargs, method: as for :func:`imap_chunks`.
        description: the progress bar's text.
        progress: show a progress bar over items on stderr (``None``: when stderr is a TTY).

    Returns:
        ``func``'s results, in the order of ``items``.
    """
    if not isinstance(items, Sized):
        items = list(items)
    out: list[R] = []
    chunks = imap_chunks(
        partial(_apply_each, func),
        items,
        jobs=jobs,
        chunk_size=chunk_size,
        initializer=initializer,
        initargs=initargs,
        method=method,
    )
    with progress_bar(len(items), description, progress) as bar:
        for part in chunks:
            out.extend(part)
            bar.update(len(part))
    return out


# -- internals (module level so that they pickle) ------------------------------------------------


def _imap_chunks(
    func: Callable[[list[T]], R],
    items: Iterable[T],
    processes: int,
    chunk_size: int,
    initializer: Callable[..., object] | None,
    initargs: tuple[Any, ...],
    context: multiprocessing.context.BaseContext,
) -> Iterator[R]:
    chunks = _chunked(items, chunk_size)
    head = list(islice(chunks, 2))  # one chunk is not worth starting a pool for
    work = partial(_quietly, func)
    if processes <= 1 or len(head) <= 1:
        if initializer is not None:
            initializer(*initargs)
        for chunk in chain(head, chunks):
            yield work(chunk)
        return
    if initializer is not None:
        initargs = (initializer, *initargs)
        initializer = _initialize
    with _Pool(processes, initializer=initializer, initargs=initargs, context=context) as pool:
        yield from pool.imap(work, chain(head, chunks))


class _Pool(multiprocessing.pool.Pool):
    """A pool whose workers exit quietly when this process dies (see :func:`_pool_worker`)."""

    @staticmethod
    def Process(ctx: Any, *args: Any, **kwds: Any) -> Any:  # noqa: N802 (Pool's own name)
        kwds["target"] = partial(_pool_worker, kwds["target"])
        return ctx.Process(*args, **kwds)


def _pool_worker(target: Callable[..., object], *args: Any, **kwargs: Any) -> None:
    """The pool's worker loop, silent when its pipes break. They break when the parent dies (a
    ``kill -9``, an out-of-memory kill): the worker finishing its chunk then cannot send the
    result, and without this each worker would print a ``BrokenPipeError`` traceback over the
    terminal, though nobody is left to read a result or an error."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError, EOFError):
        target(*args, **kwargs)


# An initializer that raises would kill its worker, and the pool would start another forever;
# the error is kept instead and raised by the worker's first chunk, so that the caller sees it.
_INIT_ERROR: Exception | None = None


def _initialize(initializer: Callable[..., object], *initargs: Any) -> None:
    global _INIT_ERROR
    try:
        initializer(*initargs)
    except Exception as error:
        _INIT_ERROR = error


def _chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _quietly(func: Callable[[list[T]], R], chunk: list[T]) -> R:
    if _INIT_ERROR is not None:
        raise _INIT_ERROR
    from rdkit import rdBase  # here, not at the top: this module must stay light to import

    blocker = rdBase.BlockLogs()  # invalid inputs are expected here; callers count them
    try:
        return func(chunk)
    finally:
        del blocker


def _apply_each(func: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [func(item) for item in chunk]
