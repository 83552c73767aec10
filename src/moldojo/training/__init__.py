"""Training: the checkpoint format now, the training loop later.

Sits above the model layer: may import torch and moldojo's ``models``, ``nn``, ``data`` and
``chem`` packages, never ``sampling``, ``evaluation``, ``search`` or ``cli``.
"""
