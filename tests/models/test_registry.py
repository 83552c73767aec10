"""The registry of model kinds and the one generator interface every family implements."""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor, nn

import moldojo
from moldojo.checkpoint import Checkpoint, save_checkpoint
from moldojo.chem import GraphConfig
from moldojo.config import Config, config_to_dict
from moldojo.errors import ConfigError
from moldojo.models.generator import Decoded, Generator
from moldojo.models.registry import FAMILIES, ModelKind, kinds, model_kind
from moldojo.training.run import RunConfig


@pytest.mark.parametrize("name", kinds())
def test_each_kind_names_its_generator_and_its_section(name: str) -> None:
    kind = model_kind(name)
    assert kind.name == kind.generator.kind == name
    assert kind.section in RunConfig.model_fields
    assert isinstance(getattr(RunConfig(), kind.section), kind.config_class)


def test_unknown_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not one of"):
        model_kind("gpt")
    with pytest.raises(ConfigError, match="model"):
        RunConfig(model="gpt")


def test_decode_modes_are_a_familys_own() -> None:
    # Given the two shipped models and NaN and finite latent points
    hier, two_step = moldojo.load("hier"), moldojo.load("two-step")
    # Then the hierarchical model refuses the two-step model's modes, and the two-step model
    # decodes in either
    with pytest.raises(ValueError, match="decoding mode"):
        hier.decode(torch.zeros(1, hier.latent_dim), mode="raw")
    z = torch.zeros(2, two_step.latent_dim)
    z[0, 0] = float("nan")
    for mode in (None, "raw", "constrained"):
        out = two_step.decode(z, mode=mode)
        assert isinstance(out, Decoded) and out[0] is None and out.reasons[0] == "invalid_input"


# -------------------------------------------------------------- a new family in one package


class ToyConfig(Config):
    latent_dim: int = 2


class ToyGenerator(Generator):
    """Encodes a SMILES as (length, ring closures); decodes a point as a carbon chain."""

    kind = "toy"
    section = "toy"
    config_class = ToyConfig
    decoding = "as a chain"

    @classmethod
    def build(cls, config: ToyConfig, vocabulary: dict[str, Any],
              graph_config: GraphConfig) -> ToyGenerator:  # fmt: skip
        model = nn.Linear(config.latent_dim, config.latent_dim)
        model.config = config
        return cls(model, graph_config)

    def vocabulary(self) -> dict[str, Any]:
        return {"alphabet": ["C"]}

    def _prepare(self, smiles: Sequence[str], jobs: int) -> list[Any]:
        return [float(len(s)) if s else "invalid_input" for s in smiles]

    def _encode(self, records: list[Any]) -> tuple[Tensor, Tensor]:
        mu = torch.tensor([[r, 0.0] for r in records])
        return mu, torch.zeros_like(mu)

    def _decode(self, z: Tensor, temperature: float, generator: torch.Generator | None
                ) -> list[tuple[str | None, str | None]]:  # fmt: skip
        out = []
        for n in z[:, 0].round().long().tolist():
            out.append(("C" * n, None) if n > 0 else (None, "empty"))
        return out


def test_a_new_family_is_one_package_and_one_registry_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a package that defines KIND, and one line in the registry
    package = types.ModuleType("toy_family")
    package.KIND = ModelKind("toy", ToyGenerator, training_task=lambda inputs: None,
                             description="a toy")  # fmt: skip
    monkeypatch.setitem(sys.modules, "toy_family", package)
    monkeypatch.setitem(FAMILIES, "toy", "toy_family")
    # And a checkpoint of that kind
    trained = ToyGenerator.build(ToyConfig(), {}, GraphConfig())
    save_checkpoint(tmp_path / "toy.pt", Checkpoint(
        model_kind="toy", config={"toy": config_to_dict(ToyConfig())},
        state_dict=trained.model.state_dict(), vocabulary=trained.checkpoint_vocabulary(),
    ))  # fmt: skip
    # When moldojo.load opens it
    model = moldojo.load(tmp_path / "toy.pt")
    # Then encode, decode, sample and reconstruct come from the one interface
    assert isinstance(model, ToyGenerator)
    encoded = model.encode_with_reasons(["CCC", ""])
    assert encoded.z[0].tolist() == [3.0, 0.0] and torch.isnan(encoded.z[1]).all()
    assert encoded.reasons == (None, "invalid_input")
    out = model.reconstruct(["CCC", "", "C"])
    assert out == ["CCC", None, "C"] and out.reasons == [None, "invalid_input", None]
    assert model.decode(torch.tensor([[0.0, 0.0]])).failures == {"empty": 1}
    sampled = model.sample(4, generator=torch.Generator().manual_seed(0))
    assert len(sampled) == len(sampled.reasons) == 4
