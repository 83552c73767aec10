"""Fréchet ChemNet Distance (Preuer et al. 2018, doi:10.1021/acs.jcim.8b00234).

ChemNet and its weights come from the ``fcd_torch`` package, as in MOSES; nothing of the network
is re-implemented here. What this module changes is the plumbing around it, so that the values are
the reference's and the work is done once:

* the one-hot encoding of a SMILES string is built for a whole batch with NumPy instead of one
  character at a time, with exactly fcd_torch's tokens, padding length and scaling;
* each distinct molecule goes through the network once, and duplicates enter the mean and the
  covariance through their counts (``np.cov(..., fweights=...)`` equals repeating the rows);
* the generated set's statistics are computed once and compared with any number of references
  (MOSES computes them again for every reference set).

Imports torch and RDKit; nothing from ``moldojo.nn``.
"""

from __future__ import annotations

import functools
import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

logger = logging.getLogger(__name__)

#: fcd_torch's ChemNet tokens, in its order; ``X`` is the unknown token and ``.`` ends a string.
_TOKENS = (
    "C", "N", "O", "H", "F", "Cl", "P", "B", "Br", "S", "I", "Si", "#", "(", ")", "+", "-",
    "1", "2", "3", "4", "5", "6", "7", "8", "=", "[", "]", "@", "c", "n", "o", "s", "X", ".",
)  # fmt: skip
_TOKEN_INDEX = {token: i for i, token in enumerate(_TOKENS)}
_UNKNOWN = _TOKEN_INDEX["X"]
_END = _TOKEN_INDEX["."]
_TWO_LETTER_SECOND = frozenset("ril")  # Cl, Br, Si (and any X followed by r, i or l)
#: fcd_torch pads every string to this many positions.
PAD_LENGTH = 350


@dataclass(frozen=True)
class FCDStats:
    """Mean and covariance of ChemNet's penultimate activations over a set of molecules.

    Attributes:
        mu: ``[512]`` mean activation.
        sigma: ``[512, 512]`` covariance (``np.cov`` convention, ``ddof=1``).
        count: number of molecules (with repeats) the statistics were computed from.
    """

    mu: np.ndarray
    sigma: np.ndarray
    count: int


def tokenize(smiles: str) -> list[int]:
    """Token indices of one SMILES string as fcd_torch reads it, end token included and
    truncated to :data:`PAD_LENGTH` positions the way fcd_torch truncates."""
    text = smiles + "."
    tokens: list[int] = []
    src = 0
    while True:
        if text[src + 1] in _TWO_LETTER_SECOND:
            symbol = text[src : src + 2]
            src += 2
        else:
            symbol = text[src]
            src += 1
        tokens.append(_TOKEN_INDEX.get(symbol, _UNKNOWN))
        if text[src] == "." or len(tokens) == PAD_LENGTH - 1:
            tokens.append(_END)
            return tokens


def one_hot(smiles: Sequence[str]) -> torch.Tensor:
    """``[B, 35, PAD_LENGTH]`` float32 network input for a batch, identical to fcd_torch's
    ``get_one_hot(smiles, 350) / 35`` transposed."""
    rows: list[int] = []
    cols: list[int] = []
    chans: list[int] = []
    for i, text in enumerate(smiles):
        tokens = tokenize(text)
        rows.extend([i] * len(tokens))
        cols.extend(range(len(tokens)))
        chans.extend(tokens)
    x = torch.zeros(len(smiles), len(_TOKENS), PAD_LENGTH)
    x[rows, chans, cols] = 1.0 / len(_TOKENS)
    return x


@functools.cache
def chemnet() -> torch.nn.Module:
    """The pretrained ChemNet from ``fcd_torch`` (loaded once per process, in eval mode)."""
    import fcd_torch
    from fcd_torch.utils import load_imported_model

    path = f"{fcd_torch.__path__[0]}/ChemNet_v0.13_pretrained.pt"
    # The file is a pickled list of layer specifications shipped inside the fcd_torch wheel.
    model = load_imported_model(torch.load(path, weights_only=False))
    return model.eval()


def activations(
    smiles: Sequence[str], *, device: str | torch.device = "cpu", batch_size: int = 1024
) -> np.ndarray:
    """``[N, 512]`` ChemNet activations (float32) of SMILES strings, taken as given (callers pass
    RDKit canonical SMILES, as fcd_torch does)."""
    model = chemnet().to(device)
    out = np.zeros((len(smiles), 512), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(smiles), batch_size):
            batch = one_hot(smiles[start : start + batch_size]).to(device)
            out[start : start + len(batch)] = model(batch).float().cpu().numpy()
    return out


def fcd_stats(
    smiles: Sequence[str], *, device: str | torch.device = "cpu", batch_size: int = 1024
) -> FCDStats | None:
    """ChemNet statistics of a list of canonical SMILES (repeats allowed), or ``None`` for fewer
    than two molecules (a covariance needs two)."""
    if len(smiles) < 2:
        return None
    counts = Counter(smiles)
    distinct = list(counts)
    weights = np.array([counts[s] for s in distinct], dtype=np.int64)
    acts = activations(distinct, device=device, batch_size=batch_size).astype(np.float64)
    mu = (acts * weights[:, None]).sum(0) / weights.sum()
    if len(distinct) == 1:
        sigma = np.zeros((acts.shape[1], acts.shape[1]))
    else:
        sigma = np.cov(acts.T, fweights=weights)
    return FCDStats(mu=mu, sigma=sigma, count=int(weights.sum()))


def frechet_distance(a: FCDStats | None, b: FCDStats | None) -> float:
    """Fréchet distance between two Gaussians, ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^½)``;
    NaN when either side has no statistics.

    fcd_torch (and so MOSES) takes the matrix square root of ``S_a S_b`` with ``scipy.linalg.sqrtm``
    (seconds for 512 x 512) to use only its trace. The trace is the sum of the square roots of
    the eigenvalues of ``S_a S_b``, which are those of the symmetric ``S_a^½ S_b S_a^½``: two
    symmetric eigendecompositions (milliseconds), and no complex round-off to discard.
    """
    if a is None or b is None:
        return math.nan
    diff = a.mu - b.mu
    # torch's LAPACK honours torch.set_num_threads, which NumPy's BLAS threads do not.
    sigma_a = torch.from_numpy(np.asarray(a.sigma, dtype=np.float64))
    sigma_b = torch.from_numpy(np.asarray(b.sigma, dtype=np.float64))
    root_a = _psd_sqrt(sigma_a)
    middle = root_a @ sigma_b @ root_a
    eigenvalues = torch.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = float(eigenvalues.clamp_min(0.0).sqrt().sum())
    return float(diff @ diff + np.trace(a.sigma) + np.trace(b.sigma) - 2.0 * trace_sqrt)


def _psd_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a covariance matrix (negative round-off eigenvalues set to 0)."""
    eigenvalues, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * eigenvalues.clamp_min(0.0).sqrt()) @ vectors.T
