"""Models built from the dojo's layers: the property regressor, the VAE building blocks
(:mod:`~moldojo.models.vae`) and the two-step VAE (:mod:`~moldojo.models.two_step`).

Imports torch, NumPy and :mod:`moldojo.nn`; no RDKit.
"""
