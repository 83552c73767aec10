"""Models built from the dojo's layers: the property regressor now, the VAEs next.

Imports torch and :mod:`moldojo.nn`; no RDKit.
"""
