"""Deprecated location of :func:`moldojo.parallel.pmap`, kept while callers move over.

Import from :mod:`moldojo.parallel` instead; this module will be removed.
"""

from __future__ import annotations

from moldojo.parallel import pmap

__all__ = ["pmap"]
