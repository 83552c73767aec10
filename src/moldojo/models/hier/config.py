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
        atom_level: False drops the encoder's atom level: no AtomMPN (``atom_mpn``), nothing
            pooled from atoms; a motif node's input is its motif embedding (plus its
            configuration's, through the attachment level, while ``attachment_configs``). The
            decoder keeps its AtomMPN (it scores attachment pairs).
        attachment_configs: False drops attachment configurations everywhere. Encoder: no
            attachment level (no ``config_embedding``, no ``attachment_mpn``); a motif node's
            input is its motif embedding (plus its pooled atoms, while ``atom_level``).
            Decoder: no AttachmentConfMLP (``config_head``), no configuration loss (the loss
            dict has no ``config`` or ``config_acc``), no configuration embedding in the
            MotifMPN's input; motifs are placed bare, the pair merged is chosen among every
            (atom of the top motif with hydrogens left, atom of the child motif) of the same
            type whose merge keeps valences, the child atom's state read on the bare motif's
            graph (no attachment marks, on any atom: the atom features' attachment flag is 0);
            popping is the stop head's choice whenever a motif can attach (forced when none
            can), no child is ever required. Such a model cannot decode from a scaffold.

    Both flags true is the full model (HierVAE); switching them off gives the lower rungs of a
    ladder of models, from the motif tree alone up.

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
    atom_level: bool = True
    attachment_configs: bool = True

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
