"""Strict JSON: NaN and infinities, which JSON has no words for, written as ``null``, so that
every JSON reader (Python's, a browser's) accepts what moldojo writes or sends. Bottom layer:
imports nothing from moldojo."""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["finite", "strict_json"]


def finite(data: Any) -> Any:
    """``data`` (dicts, lists, tuples, numbers, ...) with every non-finite float as None."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [finite(value) for value in data]
    return data


def strict_json(data: Any, *, indent: int | None = 2) -> str:
    """``data`` as standard JSON, non-finite numbers as ``null`` (:func:`finite`)."""
    return json.dumps(finite(data), indent=indent, allow_nan=False)
