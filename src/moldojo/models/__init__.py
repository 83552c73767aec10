"""Models built from the dojo's layers, one package per generative model family.

* :mod:`~moldojo.models.registry`: the model kinds by name (the one list of families);
* :mod:`~moldojo.models.generator`: the interface every family's generator implements;
* :mod:`~moldojo.models.task`: what a family's training task is built from;
* :mod:`~moldojo.models.two_step`, :mod:`~moldojo.models.hier`: the families;
* :mod:`~moldojo.models.vae`: the VAE building blocks; :mod:`~moldojo.models.regressor`: the
  property regressor of the dojo benchmark.

Imports torch, :mod:`moldojo.nn`, :mod:`moldojo.data` and :mod:`moldojo.chem`; never
``sampling``, ``training``, ``evaluation`` or ``cli``.
"""
