"""Order-preserving parallel map for per-molecule RDKit work, with a progress bar.

RDKit releases the GIL only in parts, so molecules are spread over processes: forked on Linux
(the workers inherit loaded tables such as the filter patterns), spawned elsewhere. Items travel
in chunks so that the per-task overhead stays small next to the work. RDKit's own messages are
blocked during the work: invalid molecules are expected, and the callers count them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from multiprocessing import get_context
from typing import TypeVar

from moldojo.chem.smiles import quiet_rdkit
from moldojo.data.dataset import progress_bar

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["pmap"]


def _apply(args: tuple[Callable[[T], R], Sequence[T]]) -> list[R]:
    func, chunk = args
    with quiet_rdkit():  # invalid inputs are expected here; callers count them
        return [func(item) for item in chunk]


def pmap(
    func: Callable[[T], R],
    items: Sequence[T],
    *,
    jobs: int = 1,
    chunk_size: int = 256,
    description: str = "",
    progress: bool | None = None,
) -> list[R]:
    """``[func(x) for x in items]``, over ``jobs`` processes when there is enough work.

    ``func`` must be a module-level function (it is pickled by reference).
    """
    out: list[R] = []
    with progress_bar(len(items), description, progress) as bar:
        chunks = [(func, items[i : i + chunk_size]) for i in range(0, len(items), chunk_size)]
        if jobs <= 1 or len(chunks) <= 1:
            for chunk in chunks:
                out.extend(_apply(chunk))
                bar.update(len(chunk[1]))
            return out
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        with get_context(method).Pool(min(jobs, len(chunks))) as pool:
            for result in pool.imap(_apply, chunks):
                out.extend(result)
                bar.update(len(result))
    return out
