"""The version of moldojo, on its own so that any layer can read it without importing the package's
face (:mod:`moldojo`, which imports :func:`moldojo.load` on first use)."""

__version__ = "0.1.0"
