"""Training: the checkpoint format, the shared training loop, and each model's training task.

Sits above the model layer and :mod:`moldojo.sampling` (validation samples and reconstructs
through the same generator users get from :func:`moldojo.load`): may import torch and moldojo's
``sampling``, ``models``, ``nn``, ``data`` and ``chem`` packages, never ``evaluation``,
``search`` or ``cli``. (:mod:`moldojo.checkpoint` imports nothing from moldojo but its
errors, so that ``sampling`` can read checkpoints without a cycle.)
"""
