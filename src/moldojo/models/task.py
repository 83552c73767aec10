"""What a model family's training task is built from, and what generator-backed tasks share.

:class:`TrainingInputs` is everything ``moldojo train`` hands a family's
``ModelKind.training_task``: its hyperparameters, the data settings, the training molecules and
the validation molecules. :class:`GeneratorTask` is the validation every family shares, through
the same generator users get from :func:`moldojo.load`.

Sits in the model layer (the training loop reads tasks through its ``Task`` protocol and is
never imported here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence, Sized
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch
from pydantic import PositiveInt
from rdkit import Chem
from torch import Tensor

from moldojo.chem import GraphConfig
from moldojo.chem.smiles import quiet_rdkit
from moldojo.config import Config
from moldojo.data import MolDataset, SmilesList
from moldojo.errors import DatasetError
from moldojo.models.generator import Generator

__all__ = ["EMPTY_BATCH_TRIES", "GeneratorTask", "TrainingInputs", "VocabularyConfig",
           "records_of_batch", "stereo_blind"]  # fmt: skip

T = TypeVar("T")


class VocabularyConfig(Config):
    """Data settings of a model's vocabulary (the run configuration's ``[vocabulary]``).

    Args:
        path: a vocabulary file to use (``moldojo vocab`` writes one for the hierarchical
            model) instead of building the vocabulary from the training molecules; empty for
            the latter.
        min_count: entries seen fewer times in the training set are left out (for the motif
            vocabulary: attachment configurations; acyclic pieces then fall back to their
            bonds, see :func:`~moldojo.chem.motifs.decompose`).
    """

    path: str = ""
    min_count: PositiveInt = 1


@dataclass(frozen=True)
class TrainingInputs:
    """What a family needs to build its training task.

    Attributes:
        config: the family's hyperparameters (its section of the run configuration).
        vocabulary: the data settings of the vocabulary (``RunConfig.vocabulary``).
        dataset: the training data set; ``rows`` are the molecules trained on.
        rows: ``[M]`` indices of the training molecules in ``dataset``.
        valid_smiles: molecules reconstructed after every epoch.
        saved_vocabulary: the vocabulary of the checkpoint being resumed (the model's output
            layers keep their meaning even if the data changed), or None for a fresh model.
        graph_config: how SMILES became molecules.
        source: the training data's name, for messages.
        seed: the run's seed.
        jobs: worker processes for data preparation.
        valid_samples: prior samples decoded after every epoch.
        device: where the model trains.
        progress: progress bars (None: when stderr is a terminal).
        stream: ``dataset`` is a :class:`~moldojo.data.SmilesList` (unparsed SMILES) and the
            task builds its records batch by batch (:attr:`ModelKind.streams`).
    """

    config: Any
    vocabulary: Any
    dataset: MolDataset | SmilesList
    rows: np.ndarray
    valid_smiles: list[str]
    saved_vocabulary: dict[str, Any] | None
    graph_config: GraphConfig
    source: str
    seed: int = 0
    jobs: int = 1
    valid_samples: int = 500
    device: str | torch.device = "cpu"
    progress: bool | None = None
    stream: bool = False

    @property
    def smiles(self) -> list[str]:
        """The training molecules' SMILES."""
        return [self.dataset.smiles[i] for i in self.rows]


#: Molecules tried to fill a streamed batch whose own molecules all failed.
EMPTY_BATCH_TRIES = 1000


def records_of_batch(build: Callable[[int], T | None], indices: np.ndarray, size: int,
                     what: str) -> list[T]:  # fmt: skip
    """``build(i)`` for the molecules ``indices`` of a streamed data set of ``size`` that have a
    record (``build`` returns None for one that has not); a batch left empty takes the next
    molecules, wrapping round, that have one, so that no step is empty.

    Raises:
        DatasetError: none of :data:`EMPTY_BATCH_TRIES` molecules in a row has ``what``.
    """
    kept = [r for r in map(build, indices) if r is not None]
    start = int(indices[-1]) + 1 if len(indices) else 0
    for k in range(min(size, EMPTY_BATCH_TRIES)):
        if kept:
            break
        record = build((start + k) % size)
        if record is not None:
            kept.append(record)
    if not kept:
        raise DatasetError(f"none of {EMPTY_BATCH_TRIES} training molecules in a row has {what}")
    return kept


def stereo_blind(smiles: str) -> str | None:
    """Canonical SMILES without stereo (and isotopes): what the decoders can give back."""
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles)
    return None if mol is None else Chem.MolToSmiles(mol, isomericSmiles=False)


class GeneratorTask:
    """A model trained through the generator users get (:func:`moldojo.load`), as a
    :class:`~moldojo.training.loop.Task`.

    Subclasses add ``batch(indices)``, the training batch of molecules ``indices`` of
    ``train``; :meth:`validate` reconstructs the validation molecules and decodes the same
    prior points every epoch.

    Args:
        generator: the model with its vocabulary (a fresh one to train from scratch).
        train: the training molecules as the family's records (anything with a length).
        valid_smiles: molecules reconstructed after every epoch.
        valid_samples: molecules sampled from the prior after every epoch.
        seed: seed of the validation samples (the same latent points every epoch).
    """

    def __init__(self, generator: Generator, train: Sized, valid_smiles: Sequence[str], *,
                 valid_samples: int = 500, seed: int = 0) -> None:  # fmt: skip
        self.generator = generator
        self.train = train
        self.num_train = len(train)
        self.model = generator.model
        self.model_kind = generator.kind
        self.valid_smiles = list(valid_smiles)
        self.valid_targets = [stereo_blind(s) for s in self.valid_smiles]
        self.valid_samples = valid_samples
        self.seed = seed

    def loss(self, batch: Any, beta: float, generator: torch.Generator) -> dict[str, Tensor]:
        return self.model.loss(batch, beta, generator)

    def vocabulary(self) -> object:
        return self.generator.checkpoint_vocabulary()

    def reconstruction(self) -> dict[str, float]:
        """``{"reconstruction": rate}`` of the validation molecules (stereo-blind, posterior
        mean, the generator's default decoding); empty without validation molecules."""
        if not self.valid_smiles:
            return {}
        decoded = self.generator.reconstruct(self.valid_smiles)
        pairs = zip(decoded, self.valid_targets, strict=True)
        hits = sum(d is not None and d == t for d, t in pairs)
        return {"reconstruction": hits / len(self.valid_smiles)}

    def prior_points(self) -> Tensor:
        """The validation samples' latent points: the same every epoch."""
        return torch.randn(self.valid_samples, self.generator.latent_dim,
                           generator=torch.Generator().manual_seed(self.seed))  # fmt: skip

    def validate(self) -> dict[str, float]:
        """Reconstruction of the validation molecules; validity and uniqueness of prior samples
        in each decoding mode (``validity_<mode>``; ``validity`` for a family with one)."""
        metrics = self.reconstruction()
        if not self.valid_samples:
            return metrics
        z = self.prior_points()
        modes = self.generator.decode_modes or (None,)
        for mode in reversed(modes):  # the default last: its uniqueness is reported
            samples = self.generator.decode(z, mode=mode)
            valid = [s for s in samples if s is not None]
            metrics["validity" if mode is None else f"validity_{mode}"] = len(valid) / len(z)
            metrics["uniqueness"] = len(set(valid)) / len(valid) if valid else 0.0
        return metrics
