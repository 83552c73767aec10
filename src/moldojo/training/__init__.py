"""Training: the loop every model shares (:mod:`~moldojo.training.loop`), a run from its
configuration (:mod:`~moldojo.training.run`: data, the model kind's task from the registry, the
run directory) and the dojo benchmark of the graph layers.

The models' own training tasks live in their packages (``moldojo.models.<family>.task``).
Imports ``models``, ``nn``, ``data``, ``chem`` and the foundations, never ``evaluation``,
``search`` or ``cli``.
"""
