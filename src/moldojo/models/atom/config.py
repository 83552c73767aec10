"""The atom-by-atom VAE's hyperparameters."""

from __future__ import annotations

from typing import Literal

from moldojo.config import Config, Size

__all__ = ["AtomConfig"]


class AtomConfig(Config):
    """Hyperparameters of :class:`~moldojo.models.atom.network.AtomVAE`.

    Args:
        hidden_dim: size of every state (atoms, bonds, decisions).
        latent_dim: size of ``z``.
        encoder_layers: residual gated GCN blocks of the encoder's AtomMPN.
        decoder_layers: residual gated GCN blocks of the decoder's AtomMPN, which runs over the
            partial molecule before every new atom.
        readout: ``"mean"`` or ``"sum"`` pooling of the encoder's atom states.
        norm: normalisation in the message-passing blocks.

    The defaults match the hierarchical model's sizes (hidden 128, latent 32, 4 encoder
    layers), so that the two can be compared at equal sizes.
    """

    hidden_dim: Size = 128
    latent_dim: Size = 32
    encoder_layers: Size = 4
    decoder_layers: Size = 3
    decoder_layer: str = "gated-gcn"
    readout: Literal["mean", "sum"] = "mean"
    norm: Literal["layer", "batch", "none"] = "layer"
