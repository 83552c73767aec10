"""``moldojo serve``: a local web explorer of a trained model (:func:`create_app`).

One page (``static/``: plain HTML, CSS and JavaScript, shipped in the package, nothing fetched
from the internet) over a JSON API: sampling, interpolation, neighbourhoods, motif trees and
live optimisation, for every model kind. See :mod:`moldojo.serve.app`.
"""

from __future__ import annotations

from moldojo.serve.app import Limits, create_app

__all__ = ["Limits", "create_app"]
