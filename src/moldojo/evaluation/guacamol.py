"""GuacaMol's distribution-learning metrics (Brown et al. 2019, J. Chem. Inf. Model. 59, 1096),
with the definitions of guacamol 0.5.5.

GuacaMol assesses a *generator*: each benchmark asks it for molecules until it has enough. Here
the generator is a file of samples, read in order: a request for k molecules returns the next k
lines (fewer at the end of the file). Each benchmark's sampling loop is replayed exactly on that
stream, with guacamol's numbers of samples and tries:

* **validity**: of the first ``n`` lines, the fraction that RDKit parses into a non-empty molecule;
* **uniqueness**: the first ``n`` valid molecules (up to ``10 n`` lines read), distinct after
  stereo-blind canonicalisation, divided by ``n``;
* **novelty**: the first ``n`` distinct canonical molecules (up to ``2 n`` lines read), the
  stereo-blind ones absent from the stereo-blind training set, divided by ``n``;
* **KL divergence**: for nine physico-chemical descriptors and the nearest-neighbour ECFP4
  similarity within each set, the KL divergence between those same molecules and a fixed random
  subset of ``n`` training molecules (numpy seed 42, as guacamol), scored as the mean of
  ``exp(-KL)``;
* **FCD score**: ``exp(-0.2 FCD)`` between the first ``n`` valid molecules and that training
  subset. ChemNet comes from ``fcd_torch``, a port of the same ChemNet v0.13 weights that
  guacamol's Keras ``fcd`` package loads.

``n`` is guacamol's ``number_samples`` (10,000), or the file's length when it is shorter (noted).
Imports torch through :mod:`moldojo.evaluation.fcd`; nothing from ``moldojo.nn``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator
from rdkit.ML.Descriptors.MoleculeDescriptors import MolecularDescriptorCalculator
from scipy.stats import entropy, gaussian_kde

from moldojo.evaluation.fcd import fcd_stats, frechet_distance
from moldojo.evaluation.parallel import pmap
from moldojo.evaluation.similarity import max_similarity

logger = logging.getLogger(__name__)

__all__ = ["GUACAMOL_KEYS", "GuacamolResult", "guacamol_metrics"]

GUACAMOL_KEYS = ("validity", "uniqueness", "novelty", "KL_divergence", "FCD_score")
#: guacamol's KL benchmark descriptors: four continuous, then five integer-valued.
DESCRIPTORS = (
    "BertzCT", "MolLogP", "MolWt", "TPSA",
    "NumHAcceptors", "NumHDonors", "NumRotatableBonds", "NumAliphaticRings", "NumAromaticRings",
)  # fmt: skip
_ECFP4_BITS = 4096


@dataclass(frozen=True)
class GuacamolResult:
    """Attributes:
    scores: ``GUACAMOL_KEYS`` -> score in [0, 1] (NaN where undefined).
    fcd: the Fréchet ChemNet Distance behind ``FCD_score``.
    kl_divergences: descriptor -> KL divergence behind ``KL_divergence``.
    number_samples: the ``n`` used.
    notes: fallbacks and penalties, in words.
    """

    scores: dict[str, float]
    fcd: float
    kl_divergences: dict[str, float]
    number_samples: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, float]:
        """The scores, plus ``FCD`` (the distance itself)."""
        return {**self.scores, "FCD": self.fcd}


def _parse(smiles: str) -> tuple[bool, str | None, str | None]:
    """(guacamol's ``is_valid``, isomeric canonical SMILES, stereo-blind canonical SMILES)."""
    mol = Chem.MolFromSmiles(smiles) if smiles else None
    if mol is None:
        return False, None, None
    return (
        mol.GetNumAtoms() > 0,
        Chem.MolToSmiles(mol),
        Chem.MolToSmiles(mol, isomericSmiles=False),
    )


def _stereo_blind(smiles: str) -> str | None:
    mol = Chem.MolFromSmiles(smiles)
    return None if mol is None else Chem.MolToSmiles(mol, isomericSmiles=False)


def _descriptors(smiles: str) -> np.ndarray | None:
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return None
    values = np.array(MolecularDescriptorCalculator(DESCRIPTORS).CalcDescriptors(mol), float)
    values[~np.isfinite(values)] = 0.0  # guacamol replaces NaN descriptors by 0
    return values


def _ecfp4(smiles: str) -> np.ndarray:
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=_ECFP4_BITS)
    mol = Chem.MolFromSmiles(smiles)
    return np.fromiter(generator.GetFingerprint(mol).GetOnBits(), dtype=np.uint16)


class _Stream:
    """The file as a generator: ``generate(k)`` returns the next k parsed lines."""

    def __init__(self, parsed: Sequence[tuple[bool, str | None, str | None]]) -> None:
        self.parsed = parsed
        self.position = 0

    def generate(self, k: int) -> Sequence[tuple[bool, str | None, str | None]]:
        chunk = self.parsed[self.position : self.position + k]
        self.position += k
        return chunk


def _sample_valid(parsed, n: int, max_tries: int = 10) -> list[str]:
    """guacamol's ``sample_valid_molecules``: the valid lines (their isomeric canonical SMILES)."""
    stream, valid, drawn = _Stream(parsed), [], 0
    while len(valid) < n and drawn < max_tries * n and stream.position < len(parsed):
        remaining = n - len(valid)
        valid += [iso for ok, iso, _ in stream.generate(remaining) if ok]
        drawn += remaining
    return valid


def _sample_unique(parsed, n: int, max_tries: int = 2) -> list[tuple[str, str]]:
    """guacamol's ``sample_unique_molecules``: distinct isomeric canonical SMILES in order
    (with their stereo-blind forms)."""
    stream, unique, seen, drawn = _Stream(parsed), [], set(), 0
    while len(unique) < n and drawn < max_tries * n and stream.position < len(parsed):
        remaining = n - len(unique)
        for _, iso, blind in stream.generate(remaining):
            if iso is not None and iso not in seen:
                seen.add(iso)
                unique.append((iso, blind))
        drawn += remaining
    return unique


def _continuous_kl(baseline: np.ndarray, sampled: np.ndarray) -> float:
    """KL divergence of Gaussian kernel density estimates on 1,000 points; NaN when a side has
    no spread (a KDE needs a non-zero variance; guacamol raises there)."""
    both = np.concatenate([baseline, sampled])
    grid = np.linspace(both.min(), both.max(), num=1000)
    try:
        p = gaussian_kde(baseline)(grid) + 1e-10
        q = gaussian_kde(sampled)(grid) + 1e-10
    except np.linalg.LinAlgError:
        return math.nan
    return float(entropy(p, q))


def _discrete_kl(baseline: np.ndarray, sampled: np.ndarray) -> float:
    p, bins = np.histogram(baseline, bins=10, density=True)
    q, _ = np.histogram(sampled, bins=bins, density=True)
    return float(entropy(p + 1e-10, q + 1e-10))


def _nearest_neighbour_similarity(smiles: Sequence[str], jobs: int, device: str) -> np.ndarray:
    """For each molecule, the largest ECFP4 Tanimoto similarity to any *other* one in the set."""
    bits = pmap(_ecfp4, list(smiles), jobs=jobs, progress=False)
    dense = np.zeros((len(bits), _ECFP4_BITS), dtype=np.uint8)
    for i, row in enumerate(bits):
        dense[i, row.astype(np.int64)] = 1
    return max_similarity(dense, dense, device=device, exclude_self=True)


def guacamol_metrics(
    generated: Sequence[str],
    training: Sequence[str],
    *,
    number_samples: int = 10_000,
    n_jobs: int = 1,
    device: str | torch.device = "cpu",
    progress: bool | None = None,
    training_stereo_blind: Collection[str] | None = None,
) -> GuacamolResult:
    """GuacaMol's five distribution-learning scores for a file of samples.

    Args:
        generated: samples in the order the generator produced them (invalid ones included).
        training: the training SMILES, in file order (the random subset depends on the order).
        number_samples: guacamol's ``n`` (10,000 in its suite).
        training_stereo_blind: the stereo-blind canonical training set, if already computed
            (canonicalising a large training set is the slowest part; see
            :func:`moldojo.evaluation.training.training_set`).
    """
    notes: list[str] = []
    nan = {key: math.nan for key in GUACAMOL_KEYS}
    if not generated:
        notes.append("no samples given: every GuacaMol score is undefined")
        return GuacamolResult(nan, math.nan, {}, 0, notes)
    n = number_samples
    if len(generated) < n:
        notes.append(
            f"GuacaMol: only {len(generated)} samples, so number_samples = {len(generated)} "
            f"instead of {number_samples}"
        )
        n = len(generated)
    parsed = pmap(_parse, list(generated), jobs=n_jobs, description="GuacaMol", progress=progress)
    scores = dict(nan)
    scores["validity"] = sum(ok for ok, _, _ in parsed[:n]) / n

    valid = _sample_valid(parsed, n)
    if len(valid) < n:
        notes.append(f"GuacaMol: {len(valid)} valid molecules for {n} requested (penalised)")
    scores["uniqueness"] = len({_stereo_blind(s) for s in valid} - {None}) / n

    unique = _sample_unique(parsed, n)
    if len(unique) < n:
        notes.append(f"GuacaMol: {len(unique)} unique molecules for {n} requested (penalised)")
    unique_blind = {blind for _, blind in unique if blind is not None}
    if training_stereo_blind is None:
        blind = pmap(_stereo_blind, list(training), jobs=n_jobs, chunk_size=2048,
                     description="training set", progress=progress)  # fmt: skip
        training_stereo_blind = frozenset(s for s in blind if s is not None)
    scores["novelty"] = len(unique_blind - set(training_stereo_blind)) / n

    if len(training) >= n:
        indices = np.random.RandomState(42).permutation(len(training))[:n]
        subset = [training[i] for i in indices]
    else:
        notes.append(f"GuacaMol: the training set has {len(training)} molecules, fewer than "
                     f"{n}: its references use all of them")  # fmt: skip
        subset = list(training)
    subset_blind = list(dict.fromkeys(s for s in (_stereo_blind(t) for t in subset) if s))

    kl: dict[str, float] = {}
    if len(unique_blind) >= 2 and len(subset_blind) >= 2:
        sampled = sorted(unique_blind)
        d_sampled = np.array([d for d in pmap(_descriptors, sampled, jobs=n_jobs, progress=False)
                              if d is not None])  # fmt: skip
        d_train = np.array([d for d in pmap(_descriptors, subset_blind, jobs=n_jobs,
                                            progress=False) if d is not None])  # fmt: skip
        for i, name in enumerate(DESCRIPTORS):
            measure = _continuous_kl if i < 4 else _discrete_kl
            kl[name] = measure(d_train[:, i], d_sampled[:, i])
        kl["internal_similarity"] = _continuous_kl(
            _nearest_neighbour_similarity(subset_blind, n_jobs, device),
            _nearest_neighbour_similarity(sampled, n_jobs, device),
        )
        degenerate = [name for name, value in kl.items() if math.isnan(value)]
        if degenerate:
            notes.append("GuacaMol: KL divergence is undefined: no spread in "
                         + ", ".join(degenerate))  # fmt: skip
        else:
            scores["KL_divergence"] = float(np.mean([np.exp(-v) for v in kl.values()]))
    else:
        notes.append("GuacaMol: KL divergence needs two distinct molecules on each side")

    subset_canonical = [iso for _, iso, _ in pmap(_parse, subset, jobs=n_jobs, progress=False)
                        if iso is not None]  # fmt: skip
    fcd = frechet_distance(fcd_stats(subset_canonical, device=device),
                           fcd_stats(valid, device=device))  # fmt: skip
    scores["FCD_score"] = math.exp(-0.2 * fcd) if not math.isnan(fcd) else math.nan
    return GuacamolResult(scores, fcd, kl, n, notes)
