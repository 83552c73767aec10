"""One interface for every trained model: SMILES in, latent points, SMILES out.

:class:`Generator` writes ``encode``, ``decode``, ``sample``, ``reconstruct`` and
``from_checkpoint`` once; a model family (a package under :mod:`moldojo.models`) subclasses it
and fills in four hooks:

* ``build(config, vocabulary, graph_config)``: a fresh network for a vocabulary;
* ``_prepare(smiles, jobs)``: each SMILES as the family's input record, or the reason it has
  none (``"invalid_input"``, ``"unknown_motif"``, ...);
* ``_encode(records)``: ``(mu, logvar)`` of a batch of records;
* ``_decode(z, temperature, generator, **options)``: a ``(smiles, reason)`` per latent point.

A family that can start decoding from a scaffold also overrides ``_scaffold_plan(smiles)``.

Results are typed and per molecule: :class:`Decoded` is the list of SMILES (None where decoding
failed) with a reason for each failure, :class:`Encoded` the latent points with the reasons of
the rows that could not be encoded. Nothing is left behind on the generator between calls.

Sits in the model layer: imports torch, RDKit (through :mod:`moldojo.chem`), :mod:`moldojo.data`
and the checkpoint format; never ``sampling``, ``training``, ``evaluation`` or ``cli``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from moldojo.checkpoint import Checkpoint
from moldojo.chem import GraphConfig
from moldojo.config import config_from_dict, config_to_dict
from moldojo.errors import CheckpointError, ConfigError, ScaffoldError
from moldojo.progress import progress_bar

__all__ = ["Decoded", "Encoded", "Generator"]


class Decoded(list):
    """Decoded molecules: a list of canonical SMILES (None where decoding failed), row ``k`` for
    input ``k``, with :attr:`reasons` saying why each failed row failed.

    Attributes:
        reasons: per row, ``None`` when decoded, else the reason (``"invalid_input"``,
            ``"valence"``, ``"assembly"``, ...).
    """

    def __init__(self, smiles: Sequence[str | None], reasons: Sequence[str | None]) -> None:
        super().__init__(smiles)
        if len(reasons) != len(smiles):
            raise ValueError("Decoded needs one reason per SMILES")
        self.reasons: list[str | None] = list(reasons)

    @property
    def failures(self) -> Counter[str]:
        """Failure reason -> count."""
        return Counter(r for r in self.reasons if r is not None)


@dataclass(frozen=True)
class Encoded:
    """Latent points of molecules.

    Attributes:
        z: ``[B, latent_dim]`` float32 on the CPU; a row of NaN where encoding failed.
        reasons: per row, ``None`` when encoded, else the reason (``"invalid_input"``, ...).
    """

    z: Tensor
    reasons: tuple[str | None, ...]

    @property
    def failures(self) -> Counter[str]:
        """Failure reason -> count."""
        return Counter(r for r in self.reasons if r is not None)


class Generator(ABC):
    """A trained network with its vocabulary and the chemistry around it.

    Class attributes a family sets:
        kind: the model kind, as in checkpoints and ``moldojo train --model``.
        section: the run configuration's section holding its hyperparameters.
        config_class: the class of those hyperparameters.
        decode_modes: the decoding modes ``decode(mode=...)`` accepts, the default first;
            empty when the family has one way to decode.
        decoding: how the family decodes, in words (reports say "sampled (<decoding>)").

    Attributes:
        model: the network (in eval mode).
        graph_config: how SMILES become molecules.
        batch_size: molecules per forward pass when encoding and decoding.
    """

    kind: ClassVar[str]
    section: ClassVar[str]
    config_class: ClassVar[type]
    decode_modes: ClassVar[tuple[str, ...]] = ()
    decoding: ClassVar[str]

    def __init__(self, model: nn.Module, graph_config: GraphConfig, *,
                 batch_size: int = 250) -> None:  # fmt: skip
        self.model = model.eval()
        self.graph_config = graph_config
        self.batch_size = batch_size

    # ------------------------------------------------------------------ what a family provides

    @classmethod
    @abstractmethod
    def build(cls, config: Any, vocabulary: dict[str, Any], graph_config: GraphConfig
              ) -> Generator:  # fmt: skip
        """A generator with a fresh (untrained) network for ``vocabulary`` (as
        :meth:`vocabulary` writes it, without ``"graph"``)."""

    @abstractmethod
    def vocabulary(self) -> dict[str, Any]:
        """What a checkpoint stores besides the weights (plain data): the family's vocabulary;
        ``"graph"`` (how SMILES became molecules) is added by :meth:`checkpoint_vocabulary`."""

    @abstractmethod
    def _prepare(self, smiles: Sequence[str], jobs: int) -> list[Any]:
        """Each SMILES as the family's encoder input, or a ``str``: why it has none."""

    @abstractmethod
    def _encode(self, records: list[Any]) -> tuple[Tensor, Tensor]:
        """``(mu, logvar)``, each ``[len(records), latent_dim]``, of prepared records."""

    @abstractmethod
    def _decode(self, z: Tensor, temperature: float, generator: torch.Generator | None,
                **options: Any) -> list[tuple[str | None, str | None]]:  # fmt: skip
        """``(smiles, None)`` or ``(None, reason)`` for each row of ``z [B, latent_dim]``."""

    def _decode_options(self, mode: str | None) -> dict[str, Any]:
        """The family's own keyword arguments of :meth:`_decode` for ``mode``."""
        if mode is not None and mode not in self.decode_modes:
            allowed = ", ".join(self.decode_modes) or f"none: it decodes {self.decoding}"
            raise ValueError(f"mode={mode!r} is not a decoding mode of the {self.kind} model "
                             f"({allowed})")  # fmt: skip
        return {"mode": mode or self.decode_modes[0]} if self.decode_modes else {}

    def _scaffold_plan(self, scaffold: str) -> Any:
        """The family's ``scaffold`` keyword of :meth:`_decode`: how decoding starts from the
        scaffold ``scaffold`` (SMILES). A family that cannot decode from a scaffold keeps this.

        Raises:
            ScaffoldError: always here; in a family, the scaffold cannot be decoded from.
            InvalidSmilesError: the scaffold SMILES is not a molecule.
        """
        raise ScaffoldError(f"the {self.kind} model cannot decode from a scaffold: it decodes "
                            f"{self.decoding}, not part by part; use a hier model")  # fmt: skip

    # ------------------------------------------------------------------------- checkpoints

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint, *, device: str | torch.device = "cpu"
                        ) -> Generator:  # fmt: skip
        """The generator saved in ``checkpoint`` (its config, vocabulary and weights)."""
        try:
            config = config_from_dict(cls.config_class, checkpoint.config[cls.section],
                                      source="the checkpoint")  # fmt: skip
            vocabulary = dict(checkpoint.vocabulary)
            graph_config = config_from_dict(GraphConfig, vocabulary.pop("graph"),
                                            source="the checkpoint")  # fmt: skip
            generator = cls.build(config, vocabulary, graph_config)
            generator.model.load_state_dict(checkpoint.state_dict)
        except (KeyError, TypeError, RuntimeError, ValueError, ConfigError) as error:
            raise CheckpointError(
                f"the {cls.kind} checkpoint does not fit the model: {error}"
            ) from error
        generator.model.to(device)
        return generator

    def checkpoint_vocabulary(self) -> dict[str, Any]:
        """:meth:`vocabulary` and how SMILES became molecules: what checkpoints store."""
        return {**self.vocabulary(), "graph": config_to_dict(self.graph_config)}

    @property
    def supports_scaffold(self) -> bool:
        """Whether the family can decode from a scaffold (``decode(scaffold=...)``)."""
        return type(self)._scaffold_plan is not Generator._scaffold_plan

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def latent_dim(self) -> int:
        return self.model.config.latent_dim

    # ------------------------------------------------------------------------------ encode

    def encode(self, smiles: Sequence[str], *, sample: bool = False,
               generator: torch.Generator | None = None, jobs: int = 1) -> Tensor:  # fmt: skip
        """Latent points of molecules: ``[B, latent_dim]`` float32 on the CPU, a row of NaN
        where a SMILES cannot be encoded (:meth:`encode_with_reasons` says why)."""
        return self.encode_with_reasons(smiles, sample=sample, generator=generator, jobs=jobs).z

    def encode_with_reasons(self, smiles: Sequence[str], *, sample: bool = False,
                            generator: torch.Generator | None = None,
                            jobs: int = 1) -> Encoded:  # fmt: skip
        """Latent points of molecules, the posterior mean or (``sample``) a draw from the
        posterior with noise from ``generator`` on the CPU, and why rows failed."""
        records = self._prepare(list(smiles), jobs)
        reasons = tuple(r if isinstance(r, str) else None for r in records)
        rows = [i for i, r in enumerate(reasons) if r is None]
        out = torch.full((len(records), self.latent_dim), float("nan"))
        parts = []
        with torch.no_grad():
            for start in range(0, len(rows), self.batch_size):
                chunk = [records[i] for i in rows[start : start + self.batch_size]]
                mu, logvar = self._encode(chunk)
                if sample:
                    noise = torch.randn(mu.shape, generator=generator).to(mu.device)
                    mu = mu + torch.exp(0.5 * logvar) * noise
                parts.append(mu.float().cpu())
        if parts:
            out[torch.as_tensor(rows)] = torch.cat(parts)
        return Encoded(out, reasons)

    # ------------------------------------------------------------------------------ decode

    def decode(self, z: Tensor | np.ndarray, *, temperature: float = 0.0,
               generator: torch.Generator | None = None, mode: str | None = None,
               scaffold: str | None = None, progress: bool | None = False) -> Decoded:  # fmt: skip
        """Molecules of latent points, as canonical SMILES (None where decoding failed).

        Args:
            z: ``[B, latent_dim]``; rows holding NaN decode to None (``invalid_input``).
            temperature: 0 for greedy decoding (every choice its most likely option); ``> 0``
                samples every choice from ``softmax(logits / temperature)``.
            generator: random source when ``temperature > 0``.
            mode: one of :attr:`decode_modes` (None: the family's default); a family with one
                way to decode accepts only None.
            scaffold: a SMILES every molecule must contain; decoding starts from it (a family
                that cannot, raises :class:`~moldojo.errors.ScaffoldError`).
            progress: a progress bar on stderr (None: when stderr is a terminal).
        """
        options = self._decode_options(mode)
        if scaffold is not None:
            options["scaffold"] = self._scaffold_plan(scaffold)
        z = torch.as_tensor(np.asarray(z), dtype=torch.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must be [B, {self.latent_dim}], got {list(z.shape)}")
        smiles: list[str | None] = [None] * z.shape[0]
        reasons: list[str | None] = ["invalid_input"] * z.shape[0]
        rows = torch.nonzero(torch.isfinite(z).all(dim=1)).flatten().tolist()
        with progress_bar(len(rows), "decoding", progress) as bar, torch.no_grad():
            for start in range(0, len(rows), self.batch_size):
                chunk = rows[start : start + self.batch_size]
                decoded = self._decode(z[chunk].to(self.device), temperature, generator, **options)
                for row, (s, reason) in zip(chunk, decoded, strict=True):
                    smiles[row], reasons[row] = s, reason
                bar.update(len(chunk))
        return Decoded(smiles, reasons)

    def sample(self, n: int, *, generator: torch.Generator | None = None,
               temperature: float = 0.0, mode: str | None = None, scaffold: str | None = None,
               progress: bool | None = False) -> Decoded:  # fmt: skip
        """``n`` molecules decoded from ``z ~ N(0, I)``; the latent points come from
        ``generator`` on the CPU, so that a seed gives the same molecules on any device. With
        ``scaffold``, every molecule contains it (see :meth:`decode`)."""
        z = torch.randn(n, self.latent_dim, generator=generator)
        return self.decode(z, temperature=temperature, generator=generator, mode=mode,
                           scaffold=scaffold, progress=progress)  # fmt: skip

    def reconstruct(self, smiles: Sequence[str], *, mode: str | None = None, jobs: int = 1,
                    progress: bool | None = False) -> Decoded:  # fmt: skip
        """Encode (posterior mean) and decode greedily: the reconstruction protocol. A row that
        could not be encoded keeps the encoder's reason."""
        encoded = self.encode_with_reasons(smiles, jobs=jobs)
        decoded = self.decode(encoded.z, mode=mode, progress=progress)
        reasons = [e or d for e, d in zip(encoded.reasons, decoded.reasons, strict=True)]
        return Decoded(decoded, reasons)
