"""The two-step VAE's hyperparameters."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from moldojo.config import Config, Size

__all__ = ["TwoStepConfig"]


class TwoStepConfig(Config):
    """Hyperparameters of :class:`TwoStepVAE`.

    Args:
        hidden_dim: node and edge state size of the encoder.
        decoder_dim: node and edge state size of step 2. It has a state for every pair of
            atoms, so this sets the decoder's cost: 64 trains ~4x faster than 128 on CPU.
        latent_dim: size of ``z``.
        encoder_layers: residual gated GCN blocks of the encoder.
        decoder_layers: residual gated GCN blocks on the fully connected graph of step 2.
        norm: ``"batch"``, ``"layer"`` or ``"none"`` in every block.
        dropout: dropout in every block.
        readout: ``"mean"`` or ``"sum"`` pooling of the encoder's node states.
        edge_weights: ``"balanced"`` (``n / (4 n_c)`` from the training set's bond classes)
            or ``"none"``.
    """

    hidden_dim: Size = 128
    decoder_dim: Size = 64
    latent_dim: Size = 64
    encoder_layers: Size = 4
    decoder_layers: Size = 4
    norm: Literal["batch", "layer", "none"] = "layer"
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    readout: Literal["mean", "sum"] = "mean"
    edge_weights: Literal["balanced", "none"] = "balanced"
