"""Pictures and files of a search: the best-so-far curve of one or several optimisation runs.

``moldojo optimize --out DIR`` writes ``DIR/results.csv``, ``DIR/summary.json`` and
``DIR/progress.png``; the picture draws every run found beside DIR (the directories under DIR's
parent holding both files, with the same objective), one line per run, coloured by method, so
that runs of several methods sent to ``runs/bo``, ``runs/cmaes``, ... compare on one plot.
Imports matplotlib (lazily) and :func:`~moldojo.search.optimize.running_best`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from moldojo.search.optimize import running_best

__all__ = ["best_so_far_from_csv", "progress_png", "run_label", "sibling_runs"]

_COLOURS = {"bo": "tab:blue", "cmaes": "tab:orange", "ga": "tab:green", "random": "tab:gray"}


def best_so_far_from_csv(text: str) -> list[float]:
    """Per call of a ``results.csv``, the best score so far (NaN until the first success)."""
    rows = csv.DictReader(io.StringIO(text))
    return running_best(float(row["score"]) if row.get("status") == "ok" and row.get("score")
                        else math.nan for row in rows)  # fmt: skip


def sibling_runs(directory: Path, objective: str) -> list[tuple[str, str, list[float]]]:
    """``(label, method, best so far)`` of every finished run with ``objective`` in the
    directories beside ``directory`` (itself excluded), sorted by name. Unreadable runs are
    skipped: they are someone else's files."""
    parent = directory.resolve().parent
    runs = []
    try:
        candidates = sorted(p for p in parent.iterdir() if p.is_dir())
    except OSError:
        return []
    for path in candidates:
        if path == directory.resolve():
            continue
        try:
            summary = json.loads((path / "summary.json").read_text())
            curve = best_so_far_from_csv((path / "results.csv").read_text())
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not isinstance(summary, dict) or summary.get("objective") != objective or not curve:
            continue
        method = str(summary.get("method", "?"))
        runs.append((run_label(method, path.name), method, curve))
    return runs


def run_label(method: str, name: str) -> str:
    """A run's name in the legend: the method, and the directory when it says more."""
    return method if name == method else f"{method} ({name})"


def progress_png(runs: list[tuple[str, str, list[float]]], objective: str) -> bytes:
    """PNG bytes: best score so far against oracle calls, one line per ``(label, method,
    curve)`` run."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4), dpi=120)
    for label, method, curve in runs:
        calls = range(1, len(curve) + 1)
        axes.plot(calls, curve, label=label, color=_COLOURS.get(method), linewidth=1.5,
                  alpha=0.9)  # fmt: skip
    axes.set_xlabel("oracle calls")
    axes.set_ylabel(f"best {objective} so far")
    axes.grid(alpha=0.3)
    if len(runs) <= 12:
        axes.legend(frameon=False, fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
