"""The two-step VAE as a molecule generator: SMILES in, SMILES out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from moldojo.chem import GraphConfig, graph_to_smiles, mol_to_graph, parse_smiles
from moldojo.chem.smiles import quiet_rdkit
from moldojo.config import config_from_dict
from moldojo.data.atom_types import AtomTypes, decoded_graph, ordered_graph, type_ranks
from moldojo.data.dataset import progress_bar
from moldojo.data.features import EDGE_DIM, FeatureSpec, featurize_batch, ranges
from moldojo.data.packed import PackedGraphs
from moldojo.errors import CheckpointError, InvalidMoleculeError, InvalidSmilesError
from moldojo.models.two_step import (
    BondProbabilities,
    TwoStepConfig,
    TwoStepVAE,
    constrained_graph,
    raw_graph,
)
from moldojo.nn.batch import GraphBatch
from moldojo.sampling.load import graph_config_data
from moldojo.training.checkpoint import Checkpoint

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


class TwoStepGenerator:
    """A trained :class:`TwoStepVAE` with the chemistry around it.

    Attributes:
        model: the network (in eval mode).
        atom_types: the atom types it predicts.
        graph_config: how SMILES become graphs.
        failures: why decodings of the last call failed, reason -> count.
    """

    kind = "two-step"

    def __init__(
        self,
        model: TwoStepVAE,
        atom_types: AtomTypes,
        graph_config: GraphConfig,
        *,
        batch_size: int = 500,
    ) -> None:
        self.model = model.eval()
        self.atom_types = atom_types
        self.graph_config = graph_config
        self.spec = FeatureSpec(graph_config)
        self.batch_size = batch_size
        self.failures: Counter[str] = Counter()

    @classmethod
    def from_checkpoint(
        cls, checkpoint: Checkpoint, *, device: str | torch.device = "cpu"
    ) -> TwoStepGenerator:
        try:
            config = config_from_dict(TwoStepConfig, checkpoint.config["two_step"])
            atom_types = AtomTypes.from_data(checkpoint.vocabulary["atom_types"])
            graph_config = GraphConfig(**checkpoint.vocabulary["graph"])
            model = build_two_step(config, atom_types, graph_config)
            model.load_state_dict(checkpoint.state_dict)
        except (KeyError, TypeError, RuntimeError) as error:
            raise CheckpointError(
                f"the two-step checkpoint does not fit the model: {error}"
            ) from error
        return cls(model.to(device), atom_types, graph_config)

    def vocabulary(self) -> dict[str, Any]:
        """What a checkpoint stores besides the weights."""
        return {
            "atom_types": self.atom_types.to_data(),
            "graph": graph_config_data(self.graph_config),
        }

    @property
    def device(self) -> torch.device:
        return self.model.class_weights.device

    @property
    def latent_dim(self) -> int:
        return self.model.config.latent_dim

    # ------------------------------------------------------------------------------ encode

    def encode(
        self,
        smiles: Sequence[str],
        *,
        sample: bool = False,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Latent points of molecules: the posterior mean, or a draw from it.

        Args:
            smiles: ``B`` SMILES.
            sample: draw ``z`` from the posterior instead of taking its mean.
            generator: random source when ``sample``.

        Returns:
            ``[B, latent_dim]`` float32 on the CPU; a row of NaN for a SMILES that cannot be
            read (counted in :attr:`failures` as ``invalid_input``).
        """
        self.failures = Counter()
        graphs, rows = [], []
        with quiet_rdkit():
            for i, text in enumerate(smiles):
                try:
                    graph = mol_to_graph(parse_smiles(text, self.graph_config))
                    graphs.append(ordered_graph(graph))
                    rows.append(i)
                except (InvalidSmilesError, InvalidMoleculeError):
                    self.failures["invalid_input"] += 1
        out = torch.full((len(smiles), self.latent_dim), float("nan"))
        if graphs:
            parts = []
            for start in range(0, len(graphs), self.batch_size):
                packed = PackedGraphs.from_graphs(graphs[start : start + self.batch_size])
                parts.append(self.encode_graphs(packed, np.arange(len(packed)), sample=sample,
                                                generator=generator))  # fmt: skip
            out[torch.as_tensor(rows)] = torch.cat(parts)
        return out

    @torch.no_grad()
    def encode_graphs(
        self,
        graphs: PackedGraphs,
        indices: np.ndarray,
        *,
        sample: bool = False,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``[len(indices), latent_dim]`` latent points of packed graphs in canonical order
        (:func:`~moldojo.data.atom_types.ordered_graph`), on the CPU. Ranks are computed over
        the whole pack, so keep packs batch-sized."""
        batch = GraphBatch.from_arrays(featurize_batch(graphs, indices, self.spec), self.device)
        starts, sizes = graphs.atom_ptr[indices], graphs.num_atoms[indices]
        rank = type_ranks(graphs)[ranges(starts, sizes)]
        mu, logvar = self.model.encode(batch, torch.from_numpy(rank).to(self.device))
        if sample:
            noise = torch.randn(mu.shape, generator=generator, device=mu.device)
            mu = mu + torch.exp(0.5 * logvar) * noise
        return mu.float().cpu()

    # ------------------------------------------------------------------------------ decode

    def decode(
        self,
        z: Tensor | np.ndarray,
        *,
        mode: str = "constrained",
        temperature: float = 0.0,
        generator: torch.Generator | None = None,
        progress: bool | None = False,
    ) -> list[str | None]:
        """Molecules of latent points, as canonical SMILES; None where decoding failed.

        Args:
            z: ``[B, latent_dim]``; rows holding NaN decode to None (``invalid_input``).
            mode: ``"constrained"`` (valence-constrained greedy, the default) or ``"raw"``.
            temperature: 0 for the most likely bag of atoms, ``> 0`` to sample it.
            generator: random source when ``temperature > 0``.
            progress: a progress bar on stderr (None: when stderr is a terminal).

        Failure reasons of this call are counted in :attr:`failures`.
        """
        if mode not in DECODE_MODES:
            raise ValueError(f"mode={mode!r} is not one of {DECODE_MODES}")
        z = torch.as_tensor(np.asarray(z), dtype=torch.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must be [B, {self.latent_dim}], got {list(z.shape)}")
        self.failures = Counter()
        finite = torch.isfinite(z).all(dim=1)
        if not finite.all():
            self.failures["invalid_input"] += int((~finite).sum())
        out: list[str | None] = [None] * z.shape[0]
        rows = torch.nonzero(finite).flatten().tolist()
        with progress_bar(len(rows), "decoding", progress) as bar:
            for start in range(0, len(rows), self.batch_size):
                chunk = rows[start : start + self.batch_size]
                decoded = self.model.decode(
                    z[chunk].to(self.device), temperature=temperature, generator=generator
                )
                for row, smiles in zip(chunk, self._to_smiles(decoded, mode), strict=True):
                    out[row] = smiles
                bar.update(len(chunk))
        return out

    def sample(
        self,
        n: int,
        *,
        generator: torch.Generator | None = None,
        mode: str = "constrained",
        temperature: float = 0.0,
        progress: bool | None = False,
    ) -> list[str | None]:
        """``n`` molecules decoded from ``z ~ N(0, I)`` (SMILES, or None where decoding failed).

        The latent points come from ``generator`` on the CPU, so that a seed gives the same
        molecules on any device.
        """
        z = torch.randn(n, self.latent_dim, generator=generator)
        return self.decode(z, mode=mode, temperature=temperature, generator=generator,
                           progress=progress)  # fmt: skip

    def reconstruct(self, smiles: Sequence[str], *, mode: str = "constrained",
                    progress: bool | None = False) -> list[str | None]:  # fmt: skip
        """Encode (posterior mean) and decode greedily: the reconstruction protocol."""
        return self.decode(self.encode(smiles), mode=mode, progress=progress)

    def _to_smiles(self, decoded: BondProbabilities, mode: str) -> list[str | None]:
        build = constrained_graph if mode == "constrained" else raw_graph
        valences = self.atom_types.valences
        out: list[str | None] = []
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
                if smiles is None:
                    self.failures[reason] += 1
                out.append(smiles)
        return out
