"""GuacaMol's distribution-learning metrics (Brown et al. 2019, J. Chem. Inf. Model. 59, 1096)
with the definitions of guacamol 0.5.5: validity, uniqueness, novelty, KL divergence and FCD.

GuacaMol assesses a *generator*: each benchmark asks it for molecules until it has enough. Here
the generator is a file of samples. Each benchmark gets the file afresh and reads it in order:
``generate(k)`` returns the next k lines (fewer, then none, at the end of the file), and
guacamol's sampling loops (``sample_valid_molecules``, ``sample_unique_molecules``, with their
``max_tries``) are replayed exactly on that stream. With ``n`` = ``number_samples``:

* **validity**: the first ``n`` lines; a line is valid when it is not empty and RDKit parses it
  into a molecule with at least one atom; the count over ``n``;
* **uniqueness**: the valid lines sampled with ``max_tries=10`` (the first ``n`` valid ones, at
  most ``10 n`` lines read), distinct after stereo-blind canonicalisation, over ``n``;
* **novelty**: the distinct (isomeric) canonical SMILES sampled with ``max_tries=2``, made
  stereo-blind, and not in the stereo-blind canonical training set, over ``n``;
* **KL divergence**: the same molecules against a fixed random subset of ``n`` training molecules
  (numpy's legacy generator, seed 42, as guacamol's ``get_random_subset``): for nine
  physico-chemical descriptors and the within-set nearest-neighbour ECFP4 Tanimoto similarity,
  the KL divergence of the sample's distribution from the training subset's (Gaussian KDE for the
  continuous ones, 10-bin histograms for the integer ones); the score is the mean of ``exp(-KL)``;
* **FCD score**: ``exp(-0.2 FCD)``, the Fréchet ChemNet Distance between the valid molecules
  sampled as for uniqueness and the training subset, both canonicalised by RDKit. ChemNet comes
  from ``fcd_torch`` (through :mod:`moldojo.evaluation.fcd`), a PyTorch port of the same
  ChemNet_v0.13 weights that guacamol's Keras ``fcd`` package loads.

Where guacamol would fail, the scores are computed anyway and a warning says why: a file with
fewer than ``n`` lines (or too few valid or unique molecules) gets penalised ratios, as
guacamol penalises a generator that cannot deliver; a training set smaller than ``n`` is used
whole (guacamol raises). The slow part for a large training set is canonicalising all of it for
novelty: :func:`guacamol_reference` computes everything taken from the training set once, and the
caller may keep it (nothing is cached on disk here).

Imports RDKit, SciPy and torch (ChemNet, similarity products); nothing from ``moldojo.nn``.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator
from rdkit.ML.Descriptors.MoleculeDescriptors import MolecularDescriptorCalculator
from scipy.stats import entropy, gaussian_kde

from moldojo.errors import ConfigError
from moldojo.evaluation.fcd import FCDStats, fcd_stats, frechet_distance
from moldojo.parallel import pmap

logger = logging.getLogger(__name__)

__all__ = [
    "DESCRIPTORS",
    "GUACAMOL_KEYS",
    "GuacamolReference",
    "GuacamolResult",
    "guacamol_metrics",
    "guacamol_reference",
    "nearest_neighbour_similarity",
]

#: The keys of :meth:`GuacamolResult.to_dict` besides ``metadata``.
GUACAMOL_KEYS = ("validity", "uniqueness", "novelty", "KL_divergence", "FCD_score", "FCD")
#: guacamol's KL benchmark descriptors, in its order: four continuous, then five integer-valued.
DESCRIPTORS = (
    "BertzCT", "MolLogP", "MolWt", "TPSA",
    "NumHAcceptors", "NumHDonors", "NumRotatableBonds", "NumAliphaticRings", "NumAromaticRings",
)  # fmt: skip
_N_CONTINUOUS = 4
#: ECFP4 as guacamol computes it: Morgan radius 2 folded to 4,096 bits.
ECFP4_BITS = 4096
#: guacamol's seed for the training subset.
SUBSET_SEED = 42
_VALID_TRIES = 10  # sample_valid_molecules' default, used by uniqueness and FCD
_UNIQUE_TRIES = 2  # what NoveltyBenchmark and KLDivBenchmark pass to sample_unique_molecules


# -- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuacamolReference:
    """Everything the metrics take from a training set, for one ``number_samples``.

    Attributes:
        number_samples: the ``n`` the subset was drawn for.
        training_size: molecules (lines) in the training set.
        stereo_blind: the stereo-blind canonical SMILES of the whole training set (novelty).
        subset_size: molecules in the random subset (``n``, or all of a smaller training set).
        descriptors: ``[M, 9]`` float64 :data:`DESCRIPTORS` of the subset's distinct stereo-blind
            molecules.
        similarity: ``[M]`` float64 largest ECFP4 Tanimoto similarity of each of them to another.
        fcd: ChemNet statistics of the subset, or ``None`` with fewer than two molecules.
        notes: what was unusual about the training set, in words.
    """

    number_samples: int
    training_size: int
    stereo_blind: frozenset[str]
    subset_size: int
    descriptors: np.ndarray
    similarity: np.ndarray
    fcd: FCDStats | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuacamolResult:
    """GuacaMol's scores for one file of samples, and what a reader needs to trust them.

    Attributes:
        validity, uniqueness, novelty: ratios over ``number_samples`` (penalised when the file
            gives too few molecules).
        kl_divergence: the KL benchmark's score, mean of ``exp(-KL)`` over :attr:`kl_divs`.
        fcd_score: ``exp(-0.2 fcd)``.
        fcd: the Fréchet ChemNet Distance itself.
        number_samples: guacamol's ``n``.
        kl_divs: descriptor name (and ``internal_similarity``) -> KL divergence.
        counts: how many lines, valid, unique, novel... molecules each score was computed from.
        notes: fallbacks and penalties, in words (also logged as warnings).
    """

    validity: float
    uniqueness: float
    novelty: float
    kl_divergence: float
    fcd_score: float
    fcd: float
    number_samples: int
    kl_divs: dict[str, float]
    counts: dict[str, int]
    notes: tuple[str, ...] = ()

    def scores(self) -> dict[str, float]:
        """:data:`GUACAMOL_KEYS` -> value, guacamol's benchmark names shortened."""
        return {
            "validity": self.validity,
            "uniqueness": self.uniqueness,
            "novelty": self.novelty,
            "KL_divergence": self.kl_divergence,
            "FCD_score": self.fcd_score,
            "FCD": self.fcd,
        }

    def to_dict(self) -> dict[str, Any]:
        """:meth:`scores` plus ``metadata``: ``number_samples``, ``kl_divs`` and the counts."""
        metadata = {"number_samples": self.number_samples, "kl_divs": dict(self.kl_divs)}
        return {**self.scores(), "metadata": {**metadata, **self.counts}}


# -- per-molecule work (module level, so that worker processes can run it) -----------------------


def _read_sample(smiles: str) -> tuple[bool, str | None, str | None, str | None]:
    """One line as guacamol sees it: ``(is_valid, canonical, stereo_blind, blind_of_canonical)``.

    ``canonical`` is ``canonicalize(smiles)`` (isomeric; ``''`` for an empty string, which RDKit
    parses into an empty molecule), ``stereo_blind`` is ``canonicalize(smiles, False)`` and
    ``blind_of_canonical`` is ``canonicalize(canonical, False)``: the last two differ for the odd
    molecule whose canonical SMILES RDKit reads back differently.
    """
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return False, None, None, None
    valid = smiles != "" and mol.GetNumAtoms() > 0
    canonical = Chem.MolToSmiles(mol)
    blind = Chem.MolToSmiles(mol, isomericSmiles=False)
    if canonical == smiles:  # the same string parses into the same molecule
        return valid, canonical, blind, blind
    return valid, canonical, blind, _canonical(canonical, isomeric=False)


def _canonical(smiles: str, isomeric: bool = True) -> str | None:
    """guacamol's ``canonicalize``: RDKit canonical SMILES, or ``None`` when it does not parse."""
    mol = Chem.MolFromSmiles(smiles)
    return None if mol is None else Chem.MolToSmiles(mol, isomericSmiles=isomeric)


def _stereo_blind(smiles: str) -> str | None:
    return _canonical(smiles, isomeric=False)


@functools.cache
def _descriptor_calculator() -> MolecularDescriptorCalculator:
    return MolecularDescriptorCalculator(list(DESCRIPTORS))


@functools.cache
def _ecfp4_generator() -> rdFingerprintGenerator.FingerprintGenerator64:
    # The same bits as guacamol's AllChem.GetMorganFingerprintAsBitVect(mol, 2, 4096).
    return rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=ECFP4_BITS)


def _kl_features(smiles: str) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """``([9] descriptors, [K] ECFP4 set-bit indices, had_nan)`` of a stereo-blind SMILES, or
    ``None`` when it does not parse (guacamol then leaves it out of both)."""
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return None
    bits = np.fromiter(_ecfp4_generator().GetFingerprint(mol).GetOnBits(), dtype=np.uint16)
    values = np.array(_descriptor_calculator().CalcDescriptors(mol), dtype=np.float64)
    finite = np.isfinite(values)
    values[~finite] = 0.0  # guacamol replaces a NaN descriptor by 0 (and warns)
    return values, bits, not finite.all()


# -- the stream ----------------------------------------------------------------------------------


def _sample_valid(valid: Sequence[bool], n: int, max_tries: int = _VALID_TRIES) -> list[int]:
    """Line indices that guacamol's ``sample_valid_molecules`` keeps from the stream."""
    kept: list[int] = []
    position = drawn = 0
    while len(kept) < n and drawn < max_tries * n and position < len(valid):
        remaining = n - len(kept)
        kept.extend(i for i in range(position, min(position + remaining, len(valid))) if valid[i])
        position += remaining
        drawn += remaining
    return kept


def _sample_unique(
    canonical: Sequence[str | None], n: int, max_tries: int = _UNIQUE_TRIES
) -> list[int]:
    """Line indices whose canonical SMILES ``sample_unique_molecules`` keeps (first occurrences,
    in stream order)."""
    kept: list[int] = []
    seen: set[str] = set()
    position = drawn = 0
    while len(kept) < n and drawn < max_tries * n and position < len(canonical):
        remaining = n - len(kept)
        for i in range(position, min(position + remaining, len(canonical))):
            text = canonical[i]
            if text is not None and text not in seen:
                seen.add(text)
                kept.append(i)
        position += remaining
        drawn += remaining
    return kept


# -- KL divergence -------------------------------------------------------------------------------


def _continuous_kl(baseline: np.ndarray, sampled: np.ndarray) -> float:
    """guacamol's ``continuous_kldiv``: KL(P || Q) of Gaussian KDEs on 1,000 grid points."""
    both = np.hstack([baseline, sampled])
    grid = np.linspace(both.min(), both.max(), num=1000)
    p = gaussian_kde(baseline)(grid) + 1e-10
    q = gaussian_kde(sampled)(grid) + 1e-10
    return float(entropy(p, q))


def _discrete_kl(baseline: np.ndarray, sampled: np.ndarray) -> float:
    """guacamol's ``discrete_kldiv``: KL(P || Q) of 10-bin density histograms on the baseline's
    bins (``scipy.histogram`` there was NumPy's)."""
    p, bins = np.histogram(baseline, bins=10, density=True)
    with np.errstate(invalid="ignore"):  # no sampled value within the bins: 0 / 0, as guacamol
        q, _ = np.histogram(sampled, bins=bins, density=True)
    return float(entropy(p + 1e-10, q + 1e-10))


def _kl_term(name: str, baseline: np.ndarray, sampled: np.ndarray, continuous: bool) -> float:
    """One KL divergence, or NaN (with a warning) where guacamol would raise."""
    needed = 2 if continuous else 1  # a density estimate needs a spread, a histogram does not
    if len(baseline) < needed or len(sampled) < needed:
        logger.warning(
            "GuacaMol KL divergence of %s needs %d molecules on each side (%d training, "
            "%d sampled): undefined",
            name, needed, len(baseline), len(sampled),
        )  # fmt: skip
        return math.nan
    if not continuous:
        value = _discrete_kl(baseline, sampled)
        if math.isnan(value):
            logger.warning(
                "GuacaMol KL divergence of %s is undefined: no sampled value lies within the "
                "training values' range [%g, %g]",
                name, baseline.min(), baseline.max(),
            )  # fmt: skip
        return value
    try:
        return _continuous_kl(baseline, sampled)
    except (np.linalg.LinAlgError, ValueError) as error:
        # gaussian_kde needs a spread: all values equal make its covariance singular.
        logger.warning("GuacaMol KL divergence of %s is undefined: %s", name, error)
        return math.nan


def nearest_neighbour_similarity(
    bits: Sequence[np.ndarray],
    *,
    n_bits: int = ECFP4_BITS,
    device: str | torch.device = "cpu",
    block: int = 2048,
) -> np.ndarray:
    """``[N]`` for each fingerprint, the largest Tanimoto similarity to any *other* one (0 when
    there is none), as guacamol's ``calculate_internal_pairwise_similarities(...).max(axis=1)``.

    Args:
        bits: ``N`` arrays of set-bit indices.
        n_bits: fingerprint length.
        block: fingerprints per block of the ``[block, block]`` similarity tiles.

    Intersection counts come from summing, for each fingerprint, the columns of its few set bits
    (``embedding_bag``), exact in float32. The best neighbour is located on float32 ratios, which
    are correctly rounded and so ordered as the exact ones, and its value is recomputed from the
    integer counts in float64: RDKit's value (a near-tie closer than float32 round-off could
    give a neighbour worse by less than 6e-8). Two empty fingerprints have similarity 0, as in
    RDKit.
    """
    n = len(bits)
    best = np.zeros(n, dtype=np.float64)
    if n < 2:
        return best
    lengths = np.fromiter((len(b) for b in bits), dtype=np.int64, count=n)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    flat_np = np.concatenate([np.asarray(b, dtype=np.int64) for b in bits])
    owner = np.repeat(np.arange(n), lengths)  # the fingerprint each set bit belongs to
    flat = torch.from_numpy(flat_np).to(device)
    counts = torch.from_numpy(lengths).to(device, torch.float32)
    best_ratio = torch.full((n,), -1.0, device=device)
    best_inter = torch.zeros(n, device=device)
    best_union = torch.ones(n, device=device)
    for col in range(0, n, block):
        col_stop = min(col + block, n)
        # (n_bits, b) 0/1 columns of the fingerprints col:col_stop
        span = slice(starts[col], starts[col_stop])
        columns = torch.zeros(n_bits, col_stop - col, device=device)
        columns[flat[span], torch.from_numpy(owner[span] - col).to(device)] = 1.0
        for row in range(0, n, block):
            row_stop = min(row + block, n)
            bags = flat[starts[row] : starts[row_stop]]
            offsets = torch.from_numpy(starts[row:row_stop] - starts[row]).to(device)
            inter = F.embedding_bag(bags, columns, offsets, mode="sum")  # (r, b) counts
            union = counts[row:row_stop, None] + counts[None, col:col_stop] - inter
            ratio = inter / union.clamp_min(1.0)  # two empty fingerprints: 0 / 0 -> 0, as RDKit
            lo, hi = max(row, col), min(row_stop, col_stop)
            if lo < hi:  # the tile crosses the diagonal: not with itself
                self_rows = torch.arange(lo, hi, device=device)
                ratio[self_rows - row, self_rows - col] = -1.0
            value, where = ratio.max(1)
            mine = slice(row, row_stop)
            better = value > best_ratio[mine]
            best_ratio[mine] = torch.where(better, value, best_ratio[mine])
            picked_inter = inter.gather(1, where[:, None]).squeeze(1)
            picked_union = union.gather(1, where[:, None]).squeeze(1)
            best_inter[mine] = torch.where(better, picked_inter, best_inter[mine])
            best_union[mine] = torch.where(better, picked_union, best_union[mine])
    inter64 = best_inter.double().cpu().numpy()
    union64 = best_union.double().cpu().numpy()
    np.divide(inter64, union64, out=best, where=union64 > 0)
    return best


# -- the training side ---------------------------------------------------------------------------


def _random_subset_indices(size: int, n: int) -> np.ndarray:
    """The indices ``np.random.seed(42); np.random.choice(dataset, n, replace=False)`` picks,
    without touching NumPy's global generator."""
    return np.random.RandomState(SUBSET_SEED).choice(size, n, replace=False)


def _features(
    smiles: Sequence[str], jobs: int, progress: bool | None, description: str
) -> tuple[np.ndarray, list[np.ndarray], int]:
    """``([M, 9] descriptors, M fingerprints, molecules with a NaN descriptor)``, leaving out
    the strings that do not parse."""
    rows = pmap(_kl_features, list(smiles), jobs=jobs, description=description, progress=progress)
    kept = [row for row in rows if row is not None]
    descriptors = np.array([row[0] for row in kept], dtype=np.float64).reshape(-1, len(DESCRIPTORS))
    return descriptors, [row[1] for row in kept], sum(row[2] for row in kept)


def guacamol_reference(
    training: Sequence[str],
    *,
    number_samples: int = 10_000,
    n_jobs: int = 1,
    device: str | torch.device = "cpu",
    progress: bool | None = None,
    stereo_blind: Collection[str] | None = None,
) -> GuacamolReference:
    """What the metrics need from a training set: computed once, to keep or reuse.

    Args:
        training: the training SMILES in file order (the random subset depends on the order).
        number_samples: guacamol's ``n`` (the subset's size).
        n_jobs: worker processes for the RDKit work.
        device: where ChemNet and the similarity products run.
        stereo_blind: the stereo-blind canonical training set, if already computed (as
            :func:`moldojo.evaluation.training.training_set` with ``isomeric=False`` does).
    """
    _check_number_samples(number_samples)
    notes: list[str] = []
    training = list(training)
    if stereo_blind is None:
        distinct = list(dict.fromkeys(training))
        blind = pmap(_stereo_blind, distinct, jobs=n_jobs, chunk_size=1024,
                     description="training set", progress=progress)  # fmt: skip
        stereo_blind = frozenset(s for s in blind if s is not None)
    if len(training) >= number_samples:
        subset = [training[i] for i in _random_subset_indices(len(training), number_samples)]
    else:
        notes.append(
            f"the training set has {len(training)} molecules, fewer than number_samples = "
            f"{number_samples}: the KL and FCD references use all of them (guacamol would stop)"
        )
        subset = training
    # canonicalize_list(subset, include_stereocenters=False): distinct, in order, valid only.
    subset_blind = pmap(_stereo_blind, subset, jobs=n_jobs, progress=False)
    kl_molecules = list(dict.fromkeys(s for s in subset_blind if s is not None))
    descriptors, bits, with_nan = _features(kl_molecules, n_jobs, progress, "training subset")
    if with_nan:
        notes.append(f"{with_nan} training molecules have a NaN descriptor, taken as 0")
    canonical = pmap(_canonical, subset, jobs=n_jobs, progress=False)
    fcd_molecules = [s for s in canonical if s is not None]
    if len(fcd_molecules) < len(subset):
        notes.append(
            f"{len(subset) - len(fcd_molecules)} molecules of the training subset do not parse "
            "and are left out of the FCD reference (guacamol would stop)"
        )
    for note in notes:
        logger.warning("GuacaMol: %s", note)
    return GuacamolReference(
        number_samples=number_samples,
        training_size=len(training),
        stereo_blind=frozenset(stereo_blind),
        subset_size=len(subset),
        descriptors=descriptors,
        similarity=nearest_neighbour_similarity(bits, device=device),
        fcd=fcd_stats(fcd_molecules, device=device),
        notes=tuple(notes),
    )


def _check_number_samples(number_samples: int) -> None:
    if not isinstance(number_samples, int) or number_samples < 1:
        raise ConfigError(f"number_samples must be a positive integer, got {number_samples!r}")


# -- the metrics ---------------------------------------------------------------------------------


def guacamol_metrics(
    generated: Sequence[str],
    training: Sequence[str] | GuacamolReference,
    *,
    number_samples: int = 10_000,
    n_jobs: int = 1,
    device: str | torch.device = "cpu",
    progress: bool | None = None,
    training_stereo_blind: Collection[str] | None = None,
) -> GuacamolResult:
    """GuacaMol's distribution-learning scores for a file of samples read as a generator.

    Args:
        generated: the samples in the order the generator produced them, invalid ones and
            repeats included (one string per line; an empty line is ``""``).
        training: the training SMILES in file order, or its :func:`guacamol_reference` for the
            same ``number_samples``.
        number_samples: guacamol's ``n`` (10,000 in its benchmark suite).
        n_jobs: worker processes for the RDKit work.
        device: where ChemNet and the similarity products run.
        progress: progress bars on stderr; ``None`` shows them when stderr is a terminal.
        training_stereo_blind: the stereo-blind canonical training set, if already computed
            (ignored when ``training`` is a :class:`GuacamolReference`).

    Returns:
        The scores, the KL divergences per descriptor and the counts behind them.
    """
    _check_number_samples(number_samples)
    if isinstance(training, GuacamolReference):
        reference = training
        if reference.number_samples != number_samples:
            raise ConfigError(
                f"the training reference was computed for number_samples = "
                f"{reference.number_samples}, not {number_samples}; compute it again with "
                f"guacamol_reference(training, number_samples={number_samples})"
            )
    else:
        reference = guacamol_reference(
            training, number_samples=number_samples, n_jobs=n_jobs, device=device,
            progress=progress, stereo_blind=training_stereo_blind,
        )  # fmt: skip
    n = number_samples
    notes = list(reference.notes)
    lines = list(generated)
    counts = {"number_lines": len(lines), "training_size": reference.training_size,
              "training_subset": reference.subset_size}  # fmt: skip
    if not lines:
        notes.append("no samples given: validity, uniqueness and novelty are 0, the rest undefined")
        logger.warning("GuacaMol: %s", notes[-1])
        return GuacamolResult(0.0, 0.0, 0.0, math.nan, math.nan, math.nan, n, {}, counts,
                              tuple(notes))  # fmt: skip
    if len(lines) < n:
        _note(notes, f"{len(lines)} samples for number_samples = {n}: the scores are penalised "
                     "(guacamol would stop)")  # fmt: skip

    # No sampling loop reads beyond 11 n lines (10 n tries, and a last request of at most n).
    reachable = lines[: (_VALID_TRIES + 1) * n]
    distinct = list(dict.fromkeys(reachable))
    read = dict(zip(distinct, pmap(_read_sample, distinct, jobs=n_jobs, description="GuacaMol",
                                   progress=progress), strict=True))  # fmt: skip
    parsed = [read[s] for s in reachable]

    # Validity: the first n lines.
    counts["number_valid"] = sum(p[0] for p in parsed[:n])
    validity = counts["number_valid"] / n

    # Uniqueness: valid molecules, stereo-blind, distinct.
    valid = _sample_valid([p[0] for p in parsed], n)
    counts["number_valid_sampled"] = len(valid)
    if len(valid) < n:
        _note(notes, f"{len(valid)} valid molecules for {n} requested: uniqueness and FCD are "
                     "penalised")  # fmt: skip
    counts["number_unique"] = len({parsed[i][2] for i in valid} - {None})
    uniqueness = counts["number_unique"] / n

    # Novelty and KL divergence: distinct canonical molecules, then stereo-blind.
    unique = _sample_unique([p[1] for p in parsed], n)
    counts["number_unique_sampled"] = len(unique)
    if len(unique) < n:
        _note(notes, f"{len(unique)} unique molecules for {n} requested: novelty and KL "
                     "divergence are penalised")  # fmt: skip
    sampled = sorted({parsed[i][3] for i in unique} - {None})
    counts["number_novel"] = len(set(sampled) - reference.stereo_blind)
    novelty = counts["number_novel"] / n

    descriptors, bits, with_nan = _features(sampled, n_jobs, progress, "GuacaMol KL")
    if with_nan:
        _note(notes, f"{with_nan} sampled molecules have a NaN descriptor, taken as 0")
    counts["kl_sampled"] = len(descriptors)
    counts["kl_reference"] = len(reference.descriptors)
    kl_divs = {
        name: _kl_term(name, reference.descriptors[:, i], descriptors[:, i], i < _N_CONTINUOUS)
        for i, name in enumerate(DESCRIPTORS)
    }
    similarity = nearest_neighbour_similarity(bits, device=device)
    kl_divs["internal_similarity"] = _kl_term(
        "internal_similarity", reference.similarity, similarity, continuous=True
    )
    kl_divergence = float(np.mean([math.exp(-v) for v in kl_divs.values()]))
    if math.isnan(kl_divergence):
        _note(notes, "KL divergence is undefined: too few or too alike molecules")

    # FCD: valid molecules as sampled for uniqueness, RDKit-canonical, against the subset.
    fcd = frechet_distance(reference.fcd, fcd_stats([parsed[i][1] for i in valid], device=device))
    counts["fcd_generated"] = len(valid)
    counts["fcd_reference"] = 0 if reference.fcd is None else reference.fcd.count
    if math.isnan(fcd):
        _note(notes, "FCD needs at least two molecules on each side: undefined")
    fcd_score = math.exp(-0.2 * fcd) if not math.isnan(fcd) else math.nan
    return GuacamolResult(
        validity=validity,
        uniqueness=uniqueness,
        novelty=novelty,
        kl_divergence=kl_divergence,
        fcd_score=fcd_score,
        fcd=fcd,
        number_samples=n,
        kl_divs=kl_divs,
        counts=counts,
        notes=tuple(notes),
    )


def _note(notes: list[str], text: str) -> None:
    notes.append(text)
    logger.warning("GuacaMol: %s", text)
