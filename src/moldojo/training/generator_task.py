"""What the training tasks of generator-backed models share: the validation bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from rdkit import Chem
from torch import Tensor

from moldojo.chem.smiles import quiet_rdkit

__all__ = ["GeneratorTask", "stereo_blind"]


def stereo_blind(smiles: str) -> str | None:
    """Canonical SMILES without stereo (and isotopes): what the decoders can give back."""
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles)
    return None if mol is None else Chem.MolToSmiles(mol, isomericSmiles=False)


class GeneratorTask:
    """A model trained through the generator users get (:func:`moldojo.load`).

    Subclasses set ``model_kind`` and ``num_train`` and add ``batch`` and ``validate``.

    Args:
        generator: the model with its vocabulary (a fresh one to train from scratch).
        valid_smiles: molecules reconstructed after every epoch.
        valid_samples: molecules sampled from the prior after every epoch.
        seed: seed of the validation samples (the same latent points every epoch).
    """

    def __init__(self, generator: Any, valid_smiles: Sequence[str], *, valid_samples: int,
                 seed: int) -> None:  # fmt: skip
        self.generator = generator
        self.model = generator.model
        self.valid_smiles = list(valid_smiles)
        self.valid_targets = [stereo_blind(s) for s in self.valid_smiles]
        self.valid_samples = valid_samples
        self.seed = seed

    def loss(self, batch: Any, beta: float, generator: torch.Generator) -> dict[str, Tensor]:
        return self.model.loss(batch, beta, generator)

    def vocabulary(self) -> object:
        return self.generator.vocabulary()

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
