"""Moving through a trained model's latent space: interpolation between two molecules and the
neighbourhood of one.

Both use only the generator interface (:class:`~moldojo.models.generator.Generator`:
``encode_with_reasons``, ``decode``), so they work for every model kind. Latent points are the
posterior means of the inputs; decoding is greedy (temperature 0), so that a latent point always
gives the same molecule and the only randomness is the neighbourhood's noise, drawn from an
explicit ``torch.Generator`` on the CPU.

Similarity is Tanimoto on RDKit Morgan fingerprints of radius 2 folded to 2,048 bits (the
fingerprint of JT-VAE's and MoLeR's similarity constraints).

Sits in the search layer: imports torch, RDKit, :mod:`moldojo.chem` and the model interface;
never ``cli``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

import torch
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator
from torch import Tensor

from moldojo.chem.smiles import quiet_rdkit
from moldojo.errors import InvalidSmilesError, quote_input
from moldojo.models.generator import Generator

__all__ = [
    "FINGERPRINT_BITS",
    "FINGERPRINT_RADIUS",
    "Interpolation",
    "Neighbourhood",
    "PathKind",
    "encode_one",
    "interpolate",
    "lerp",
    "neighbours",
    "similarities_to",
    "slerp",
    "tanimoto",
]

#: Morgan fingerprint radius and size of every similarity here.
FINGERPRINT_RADIUS = 2
FINGERPRINT_BITS = 2048

# Below this angle (radians) two directions count as parallel and slerp falls back to lerp.
_PARALLEL = 1e-6

PathKind = Literal["linear", "slerp"]


# ----------------------------------------------------------------------------------- similarity


@cache
def _morgan() -> rdFingerprintGenerator.FingerprintGenerator64:
    return rdFingerprintGenerator.GetMorganGenerator(radius=FINGERPRINT_RADIUS,
                                                     fpSize=FINGERPRINT_BITS)  # fmt: skip


def _fingerprint(smiles: str | None) -> DataStructs.ExplicitBitVect | None:
    if not smiles:  # None, or "" (which RDKit would parse as a molecule of no atoms)
        return None
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles)
    return None if mol is None else _morgan().GetFingerprint(mol)


def tanimoto(a: str | None, b: str | None) -> float:
    """Tanimoto similarity of two molecules on Morgan fingerprints (radius 2, 2,048 bits); NaN
    when either is None or cannot be parsed."""
    fa, fb = _fingerprint(a), _fingerprint(b)
    if fa is None or fb is None:
        return math.nan
    return float(DataStructs.TanimotoSimilarity(fa, fb))


def similarities_to(query: str, smiles: Sequence[str | None]) -> list[float]:
    """Tanimoto similarity of each of ``smiles`` to ``query`` (NaN where one is missing or
    cannot be parsed); the query's fingerprint is computed once."""
    fq = _fingerprint(query)
    out = []
    for s in smiles:
        fs = _fingerprint(s)
        out.append(math.nan if fq is None or fs is None
                   else float(DataStructs.TanimotoSimilarity(fq, fs)))  # fmt: skip
    return out


# -------------------------------------------------------------------------------------- paths


def lerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Points on the straight line from ``a`` to ``b``.

    Args:
        a: ``[D]`` start.
        b: ``[D]`` end.
        t: ``[T]`` positions, 0 at ``a`` and 1 at ``b``.

    Returns:
        ``[T, D]``: ``(1 - t) a + t b``.
    """
    t = t.to(a.dtype)[:, None]
    return (1 - t) * a[None, :] + t * b[None, :]


def slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Points on the great circle from the direction of ``a`` to that of ``b``, their norm
    going linearly from ``|a|`` to ``|b|`` (White 2016, "Sampling Generative Networks").

    The direction is ``(sin((1 - t) w) â + sin(t w) b̂) / sin w``, with ``w`` the angle between
    ``â = a / |a|`` and ``b̂ = b / |b|``; for unit vectors this is the usual slerp and every point
    has norm 1. Scaling by ``(1 - t)|a| + t|b|`` keeps every norm between the endpoints' norms,
    whereas a straight line through a Gaussian latent space cuts through its low-norm interior,
    where no training molecule lies. When the directions are parallel (``w`` below 1e-6), or
    either vector is zero, the path is the straight line; for opposite directions the great
    circle is not unique and the one through the straight line's plane is not defined either,
    so the straight line is used there too.

    Args:
        a: ``[D]`` start.
        b: ``[D]`` end.
        t: ``[T]`` positions, 0 at ``a`` and 1 at ``b``.

    Returns:
        ``[T, D]`` points; exactly ``a`` at ``t = 0`` and ``b`` at ``t = 1``.
    """
    a64, b64 = a.double(), b.double()
    na, nb = a64.norm(), b64.norm()
    if na == 0 or nb == 0:
        return lerp(a, b, t)
    ua, ub = a64 / na, b64 / nb
    omega = torch.arccos(torch.clamp(ua @ ub, -1.0, 1.0))
    if omega < _PARALLEL or math.pi - omega < _PARALLEL:
        return lerp(a, b, t)
    t64 = t.double()[:, None]
    direction = (torch.sin((1 - t64) * omega) * ua + torch.sin(t64 * omega) * ub) / torch.sin(omega)
    points = (((1 - t64) * na + t64 * nb) * direction).to(a.dtype)
    points[t == 0] = a  # exact endpoints: they decode to the reconstructions
    points[t == 1] = b
    return points


# ------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class Interpolation:
    """Molecules decoded along a path between two encoded molecules.

    Attributes:
        start: the first input SMILES, as given.
        end: the second input SMILES, as given.
        path: ``"linear"`` or ``"slerp"``.
        t: ``[steps + 2]`` positions on the path, 0 (``start``) to 1 (``end``).
        points: ``[steps + 2, latent_dim]`` the latent points, the endpoints being the
            posterior means of ``start`` and ``end``.
        smiles: ``steps + 2`` decoded SMILES (None where decoding failed); the first and last
            are the reconstructions of ``start`` and ``end``.
        reasons: per point, None when decoded, else why decoding failed.
        changes: how many of the ``steps + 1`` moves between consecutive points changed the
            decoded SMILES (a failed decode counts as a molecule of its own).
        similarities: Tanimoto similarity of each pair of consecutive *valid* molecules (failed
            decodes skipped), ``valid - 1`` values.
    """

    start: str
    end: str
    path: str
    t: Tensor
    points: Tensor
    smiles: list[str | None]
    reasons: list[str | None]
    changes: int
    similarities: list[float]

    @property
    def steps(self) -> int:
        """Points strictly between the endpoints."""
        return len(self.smiles) - 2

    @property
    def valid(self) -> int:
        """Points that decoded to a molecule."""
        return sum(s is not None for s in self.smiles)

    @property
    def mean_similarity(self) -> float:
        """Mean Tanimoto similarity between consecutive valid molecules (NaN below two)."""
        return sum(self.similarities) / len(self.similarities) if self.similarities else math.nan


@dataclass(frozen=True)
class Neighbourhood:
    """Molecules decoded around an encoded molecule, most similar first.

    Attributes:
        query: the input SMILES, as given.
        radius: scale of the Gaussian noise added to the posterior mean.
        center: ``[latent_dim]`` the posterior mean of ``query``.
        points: ``[n, latent_dim]`` the latent points, in the order of ``smiles``.
        smiles: ``n`` decoded SMILES (None where decoding failed), sorted by similarity to the
            query, highest first, failures last; repeated molecules are kept.
        reasons: per row, None when decoded, else why decoding failed.
        similarities: ``n`` Tanimoto similarities to the query (NaN for a failure).
    """

    query: str
    radius: float
    center: Tensor
    points: Tensor
    smiles: list[str | None]
    reasons: list[str | None]
    similarities: list[float]

    @property
    def valid(self) -> int:
        """Rows that decoded to a molecule."""
        return sum(s is not None for s in self.smiles)

    @property
    def unique(self) -> int:
        """Distinct molecules among the valid rows."""
        return len({s for s in self.smiles if s is not None})

    @property
    def mean_similarity(self) -> float:
        """Mean similarity to the query over valid rows (NaN when none is valid)."""
        values = [v for v in self.similarities if not math.isnan(v)]
        return sum(values) / len(values) if values else math.nan


# ---------------------------------------------------------------------------------- searching


def encode_one(model: Generator, smiles: str, what: str = "SMILES") -> Tensor:
    """``[latent_dim]`` posterior mean of one molecule.

    Raises:
        InvalidSmilesError: the model cannot encode it (one line: the input and the reason
            :meth:`~moldojo.models.generator.Generator.encode_with_reasons` gives).
    """
    encoded = model.encode_with_reasons([smiles])
    reason = encoded.reasons[0]
    if reason is not None:
        raise InvalidSmilesError(
            f"cannot encode {what} {quote_input(smiles)} with the {model.kind} model: {reason}",
            reason=reason,
        )
    return encoded.z[0]


def interpolate(model: Generator, smiles_a: str, smiles_b: str, steps: int, *,
                path: PathKind = "linear") -> Interpolation:  # fmt: skip
    """Decode ``steps`` evenly spaced points between the posterior means of two molecules.

    Args:
        model: any trained generator.
        smiles_a: the start molecule.
        smiles_b: the end molecule.
        steps: points strictly between the endpoints, at least 1.
        path: ``"linear"`` (the straight line) or ``"slerp"`` (the great circle, see
            :func:`slerp`).

    Returns:
        The ``steps + 2`` points and molecules, endpoints included.

    Raises:
        InvalidSmilesError: either molecule cannot be encoded.
        ValueError: ``steps`` below 1 or an unknown ``path``.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer of at least 1, got {steps!r}")
    if path not in ("linear", "slerp"):
        raise ValueError(f"path must be 'linear' or 'slerp', got {path!r}")
    za = encode_one(model, smiles_a, "SMILES_A")
    zb = encode_one(model, smiles_b, "SMILES_B")
    t = torch.linspace(0.0, 1.0, steps + 2, dtype=torch.float64)
    t[0], t[-1] = 0.0, 1.0
    points = (lerp if path == "linear" else slerp)(za, zb, t)
    points[0], points[-1] = za, zb
    decoded = model.decode(points)
    smiles = list(decoded)
    changes = sum(x != y for x, y in zip(smiles, smiles[1:], strict=False))
    valid = [s for s in smiles if s is not None]
    similarities = [tanimoto(x, y) for x, y in zip(valid, valid[1:], strict=False)]
    return Interpolation(start=smiles_a, end=smiles_b, path=path, t=t, points=points,
                         smiles=smiles, reasons=list(decoded.reasons), changes=changes,
                         similarities=similarities)  # fmt: skip


def neighbours(model: Generator, smiles: str, n: int, *, radius: float = 0.5,
               generator: torch.Generator | None = None) -> Neighbourhood:  # fmt: skip
    """Decode ``n`` points ``z + radius * noise`` around the posterior mean ``z`` of a molecule,
    ``noise ~ N(0, I)``, and rank them by Tanimoto similarity to it.

    Args:
        model: any trained generator.
        smiles: the query molecule.
        n: how many points, at least 1.
        radius: the noise scale, finite and at least 0 (0 decodes ``n`` copies of the
            reconstruction).
        generator: random source of the noise (on the CPU, so that a seed gives the same
            neighbours on any device).

    Returns:
        The neighbourhood, most similar first; ties keep the order of drawing.

    Raises:
        InvalidSmilesError: the molecule cannot be encoded.
        ValueError: ``n`` below 1, or ``radius`` negative or not finite.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer of at least 1, got {n!r}")
    if not math.isfinite(radius) or radius < 0:
        raise ValueError(f"radius must be a finite number of at least 0, got {radius!r}")
    center = encode_one(model, smiles)
    noise = torch.randn(n, center.shape[0], generator=generator)
    points = center[None, :] + radius * noise
    decoded = model.decode(points)
    similarities = similarities_to(smiles, decoded)
    # Highest similarity first, failures (NaN) last; sorted() is stable, so ties keep their draw.
    rank = [math.inf if math.isnan(v) else -v for v in similarities]
    order = sorted(range(n), key=rank.__getitem__)
    return Neighbourhood(
        query=smiles,
        radius=float(radius),
        center=center,
        points=points[torch.as_tensor(order, dtype=torch.long)],
        smiles=[decoded[i] for i in order],
        reasons=[decoded.reasons[i] for i in order],
        similarities=[similarities[i] for i in order],
    )
