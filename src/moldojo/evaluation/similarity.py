"""Tanimoto similarity between sets of binary fingerprints, exactly and in blocks.

For 0/1 vectors the intersection counts are a matrix product, exact in float32 up to 2^24 bits.
Tanimoto is ``c / (a + b - c)``, with MOSES's convention that two empty fingerprints have
similarity 1. Two aggregations are needed:

* SNN: for each generated molecule, the largest similarity to any reference molecule;
* IntDiv: for each generated molecule, the power mean of its similarities to all of them.

Both take *weights* (how many times each distinct fingerprint occurs), so that repeated molecules
are computed once and still counted as often as they occur.

Imports torch and NumPy only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = ["dense_fingerprints", "max_similarity", "power_mean_similarity"]


def dense_fingerprints(bits: Sequence[np.ndarray], n_bits: int) -> np.ndarray:
    """``[N, n_bits]`` uint8 0/1 matrix from per-molecule lists of set-bit indices."""
    out = np.zeros((len(bits), n_bits), dtype=np.uint8)
    lengths = np.fromiter((len(b) for b in bits), dtype=np.int64, count=len(bits))
    if lengths.sum():
        rows = np.repeat(np.arange(len(bits)), lengths)
        out[rows, np.concatenate([np.asarray(b, dtype=np.int64) for b in bits])] = 1
    return out


def _tanimoto(c: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``[G, R]`` similarities from intersection counts ``c [G, R]`` and bit counts ``a [G]``,
    ``b [R]``; 0/0 (two empty fingerprints) is 1, as in MOSES."""
    union = a[:, None] + b[None, :] - c
    return torch.where(union > 0, c / union.clamp_min(1), torch.ones_like(c))


def max_similarity(
    reference: np.ndarray,
    generated: np.ndarray,
    *,
    device: str | torch.device = "cpu",
    block: int = 8192,
) -> np.ndarray:
    """``[G]`` largest Tanimoto similarity of each generated fingerprint to any reference one.

    Args:
        reference: ``[R, F]`` uint8 0/1 fingerprints.
        generated: ``[G, F]`` uint8 0/1 fingerprints.

    A generated fingerprint equal to a reference one has similarity 1, the maximum; those are
    found by hashing and skip the matrix product.
    """
    best = np.zeros(len(generated), dtype=np.float64)
    if len(generated) == 0 or len(reference) == 0:
        return best
    known = {row.tobytes() for row in np.packbits(reference, axis=1)}
    exact = np.fromiter(
        (row.tobytes() in known for row in np.packbits(generated, axis=1)),
        dtype=bool,
        count=len(generated),
    )
    best[exact] = 1.0
    todo = np.flatnonzero(~exact)
    if len(todo) == 0:
        return best
    gen = torch.from_numpy(generated[todo]).to(device=device, dtype=torch.float32)
    a = gen.sum(1)
    found = torch.zeros(len(todo), device=device)
    for start in range(0, len(reference), block):
        ref = torch.from_numpy(reference[start : start + block]).to(device, torch.float32)
        c = gen @ ref.T  # (G, block) intersection counts
        found = torch.maximum(found, _tanimoto(c, a, ref.sum(1)).amax(1))
    best[todo] = found.double().cpu().numpy()
    return best


def power_mean_similarity(
    fingerprints: np.ndarray,
    weights: np.ndarray,
    *,
    p: int = 1,
    device: str | torch.device = "cpu",
    block: int = 4096,
) -> np.ndarray:
    """``[N]`` for each fingerprint, ``(sum_j w_j T_ij^p / sum_j w_j)^(1/p)`` over all of them
    (itself included), i.e. the mean over the multiset the weights describe.

    Args:
        fingerprints: ``[N, F]`` uint8 0/1 distinct fingerprints.
        weights: ``[N]`` how many times each occurs.
    """
    fps = torch.from_numpy(fingerprints).to(device=device, dtype=torch.float32)
    w = torch.from_numpy(np.asarray(weights, dtype=np.float64)).to(device)
    bits = fps.sum(1)
    totals = torch.zeros(len(fps), dtype=torch.float64, device=device)
    for start in range(0, len(fps), block):
        other = fps[start : start + block]
        sim = _tanimoto(fps @ other.T, bits, other.sum(1))  # (N, block)
        if p != 1:
            sim = sim**p
        totals += sim.double() @ w[start : start + block]
    means = totals / w.sum()
    if p != 1:
        means = means ** (1.0 / p)
    return means.cpu().numpy()
