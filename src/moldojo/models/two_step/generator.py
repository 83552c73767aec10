"""The two-step VAE as a molecule generator: SMILES in, SMILES out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from moldojo.chem import GraphConfig, graph_to_smiles, mol_to_graph, parse_smiles
from moldojo.chem.smiles import quiet_rdkit
from moldojo.data.features import EDGE_DIM, FeatureSpec, featurize_batch, ranges
from moldojo.data.packed import PackedGraphs
from moldojo.errors import InvalidMoleculeError, InvalidSmilesError
from moldojo.models.generator import Generator
from moldojo.models.two_step.atom_types import AtomTypes, decoded_graph, ordered_graph, type_ranks
from moldojo.models.two_step.config import TwoStepConfig
from moldojo.models.two_step.decoding import constrained_graph, raw_graph
from moldojo.models.two_step.network import BondProbabilities, TwoStepVAE
from moldojo.nn.batch import GraphBatch

__all__ = ["DECODE_MODES", "TwoStepGenerator", "build_two_step"]

#: ``"constrained"``: greedy valence-constrained decoding; ``"raw"``: the argmax graph as is.
DECODE_MODES = ("constrained", "raw")


def build_two_step(
    config: TwoStepConfig, atom_types: AtomTypes, graph_config: GraphConfig
) -> TwoStepVAE:
    """A fresh :class:`TwoStepVAE` sized for ``atom_types`` and the graph features."""
    return TwoStepVAE(
        config,
        node_dim=FeatureSpec(graph_config).node_dim,
        edge_dim=EDGE_DIM,
        num_types=len(atom_types),
        max_count=atom_types.max_count,
        max_atoms=atom_types.max_atoms,
        class_weights=atom_types.class_weights(config.edge_weights).tolist(),
    )


class TwoStepGenerator(Generator):
    """A trained :class:`TwoStepVAE` with its atom types and the chemistry around it.

    Decoding modes: ``"constrained"`` (valence-constrained greedy, the default) or ``"raw"``
    (the decoder's most likely graph as is: validity without constraints).

    Attributes:
        model: the network (in eval mode).
        atom_types: the atom types it predicts.
        graph_config: how SMILES become graphs.
    """

    kind = "two-step"
    section = "two_step"
    config_class = TwoStepConfig
    decode_modes = DECODE_MODES
    decoding = "in two steps"

    def __init__(self, model: TwoStepVAE, atom_types: AtomTypes, graph_config: GraphConfig, *,
                 batch_size: int = 500) -> None:  # fmt: skip
        super().__init__(model, graph_config, batch_size=batch_size)
        self.atom_types = atom_types
        self.spec = FeatureSpec(graph_config)

    @classmethod
    def build(cls, config: TwoStepConfig, vocabulary: dict[str, Any],
              graph_config: GraphConfig) -> TwoStepGenerator:  # fmt: skip
        atom_types = AtomTypes.from_data(vocabulary["atom_types"])
        return cls(build_two_step(config, atom_types, graph_config), atom_types, graph_config)

    def vocabulary(self) -> dict[str, Any]:
        return {"atom_types": self.atom_types.to_data()}

    # ------------------------------------------------------------------------------ encode

    def _prepare(self, smiles: Sequence[str], jobs: int) -> list[Any]:
        out: list[Any] = []
        with quiet_rdkit():
            for text in smiles:
                try:
                    out.append(ordered_graph(mol_to_graph(parse_smiles(text, self.graph_config))))
                except (InvalidSmilesError, InvalidMoleculeError):
                    out.append("invalid_input")
        return out

    def _encode(self, records: list[Any]) -> tuple[Tensor, Tensor]:
        packed = PackedGraphs.from_graphs(records)
        return self.encode_graphs(packed, np.arange(len(packed)))

    @torch.no_grad()
    def encode_graphs(self, graphs: PackedGraphs, indices: np.ndarray) -> tuple[Tensor, Tensor]:
        """``(mu, logvar)``, each ``[len(indices), latent_dim]``, of packed graphs in canonical
        order (:func:`~moldojo.models.two_step.atom_types.ordered_graph`). Ranks are computed
        over the whole pack, so keep packs batch-sized."""
        batch = GraphBatch.from_arrays(featurize_batch(graphs, indices, self.spec), self.device)
        starts, sizes = graphs.atom_ptr[indices], graphs.num_atoms[indices]
        rank = type_ranks(graphs)[ranges(starts, sizes)]
        return self.model.encode(batch, torch.from_numpy(rank).to(self.device))

    # ------------------------------------------------------------------------------ decode

    def _decode(self, z: Tensor, temperature: float, generator: torch.Generator | None, *,
                mode: str) -> list[tuple[str | None, str | None]]:  # fmt: skip
        decoded = self.model.decode(z, temperature=temperature, generator=generator)
        return self._to_smiles(decoded, mode)

    def _to_smiles(self, decoded: BondProbabilities, mode: str
                   ) -> list[tuple[str | None, str | None]]:  # fmt: skip
        build = constrained_graph if mode == "constrained" else raw_graph
        valences = self.atom_types.valences
        out: list[tuple[str | None, str | None]] = []
        with quiet_rdkit():
            for b in range(decoded.counts.shape[0]):
                graph, reason = build(*decoded.molecule(b), valences)
                if decoded.too_large[b]:
                    reason = "too_large"
                smiles = None
                if graph is not None:
                    mol_graph = decoded_graph(
                        self.atom_types, graph.node_type, graph.edge_index, graph.bond_order,
                        graph.extra_hs,
                    )  # fmt: skip
                    smiles = graph_to_smiles(mol_graph)
                    reason = "" if smiles is not None else "rdkit"
                out.append((smiles, None if smiles is not None else reason))
        return out
