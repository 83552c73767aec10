"""The hierarchical motif VAE's hyperparameters."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from moldojo.config import Config, Size
from moldojo.nn.registry import LAYERS

__all__ = ["HierConfig"]


class HierConfig(Config):
    """Hyperparameters of :class:`HierVAE`.

    Args:
        hidden_dim: size of every state.
        latent_dim: size of ``z``.
        atom_layers: residual gated GCN layers of the encoder's AtomMPN.
        decoder_atom_layers: layers of the decoder's AtomMPN (None: ``atom_layers``); it reads
            partial molecules cut to this many bonds around the parent's attachment atoms.
        attachment_layers: layers of the attachment-level network.
        motif_layers: layers of each MotifMPN.
        motif_edges: ``"ancestry"`` (each motif to all its ancestors, distance-labelled) or
            ``"tree"`` (parent-child edges only, the paper's choice).
        max_distance: ancestry distances above this share one edge label.
        motif_layer: the layer of both MotifMPNs, any layer of :data:`moldojo.nn.LAYERS` that
            reads edge features. The gated GCN updates a state per edge; on deep trees, whose
            partial trees have many ancestry edges, a layer that reads edge labels without
            updating them, such as ``"gine"``, is several times faster (:class:`LabelMPN`).
        readout: ``"root"`` (the root motif's state) or ``"mean"`` (mean over motifs).
        norm: normalisation in the message-passing blocks (``"layer"``, ``"batch"`` or None).

    The motif vocabulary (a file, or the minimum count of a configuration) is a data setting:
    ``RunConfig.vocabulary`` (:class:`~moldojo.models.task.VocabularyConfig`).
    """

    hidden_dim: Size = 128
    latent_dim: Size = 32
    atom_layers: Size = 4
    decoder_atom_layers: Size | None = None
    attachment_layers: Size = 2
    motif_layers: Size = 3
    motif_edges: Literal["ancestry", "tree"] = "ancestry"
    max_distance: Size = 8
    motif_layer: str = "gated-gcn"
    readout: Literal["root", "mean"] = "root"
    norm: Literal["layer", "batch", "none"] = "layer"

    @property
    def radius(self) -> int:
        """Layers of the decoder's AtomMPN: how far around the parent its states see."""
        return self.atom_layers if self.decoder_atom_layers is None else self.decoder_atom_layers

    @field_validator("motif_layer")
    @classmethod
    def _reads_edges(cls, value: str) -> str:
        edge_layers = [name for name, spec in LAYERS.items() if spec.uses_edges]
        if value not in edge_layers:
            raise ValueError(f"must be a layer that reads edge features, one of {edge_layers}")
        return value
