"""moldojo: molecule generation with graph neural networks, written from first principles.

``moldojo.load(run_dir)`` opens a trained model (the one shipped in the package when no
directory is given); it is imported on first use, so that ``import moldojo`` stays light.
"""

from __future__ import annotations

from typing import Any

from moldojo._version import __version__

__all__ = ["__version__", "load"]


def __getattr__(name: str) -> Any:
    if name == "load":
        from moldojo.sampling import load

        return load
    raise AttributeError(f"module 'moldojo' has no attribute {name!r}")
