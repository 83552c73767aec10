"""moldojo: molecule generation with graph neural networks, written from first principles."""

__version__ = "0.1.0"
