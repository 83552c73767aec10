"""Progress bars over molecules (or graphs, or oracle calls), on stderr.

Bottom layer: imports nothing from moldojo, so that every layer (chemistry, data, the process
pool of :mod:`moldojo.parallel`, sampling) can show the same bar.
"""

from __future__ import annotations

import sys

from tqdm import tqdm

__all__ = ["progress_bar"]


def progress_bar(total: int, description: str, show: bool | None, *, unit: str = "mol") -> tqdm:
    """A tqdm bar over ``total`` items (molecules unless ``unit`` says otherwise) on stderr.

    Args:
        total: number of items the bar counts up to.
        description: the text in front of the bar.
        show: ``True`` or ``False`` to force the bar on or off; ``None`` shows it only when
            stderr is a terminal, so that logs and pipes stay clean.
        unit: what one item is, after the rate (``mol/s``, ``graph/s``, ``call/s``).
    """
    if show is None:
        show = sys.stderr.isatty()
    return tqdm(total=total, desc=description, unit=unit, disable=not show, file=sys.stderr)
