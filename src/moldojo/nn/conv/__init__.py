"""Graph convolutions, one per file (see :mod:`moldojo.nn.registry` for the list)."""
