"""The run configuration: one section per model kind, TOML round trip, files of older versions."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from moldojo.config import dump_config, load_config
from moldojo.errors import ConfigError, DatasetError
from moldojo.models.registry import model_kind
from moldojo.training.loop import TrainConfig
from moldojo.training.run import (
    RESUMABLE,
    RunConfig,
    _streamed,
    load_run_config,
    train,
    with_epochs,
)


def test_run_config_round_trips_through_toml(tmp_path: Path) -> None:
    config = load_run_config(None, ["model=hier", "hier.hidden_dim=64", "vocabulary.min_count=2",
                                    "train.kl.beta_max=0.5"])  # fmt: skip
    dump_config(config, tmp_path / "config.toml")
    assert load_config(RunConfig, tmp_path / "config.toml") == config
    shorter = with_epochs(config, 3)
    assert shorter.train.epochs == 3 and shorter.hier == config.hier
    assert with_epochs(config, None) is config


def test_a_config_file_of_an_older_moldojo_reads_in_todays_layout(tmp_path: Path) -> None:
    # Given a config.toml written when the vocabulary settings were hier's
    path = tmp_path / "config.toml"
    path.write_text('model = "hier"\n[hier]\nhidden_dim = 64\nmin_count = 3\n'
                    'vocabulary = "v.txt"\n')
    # When it is read (as --resume does)
    config = load_run_config(path, ["seed=4"])
    # Then they are the [vocabulary] section's
    assert config.vocabulary.min_count == 3 and config.vocabulary.path == "v.txt"
    assert config.hier.hidden_dim == 64 and config.seed == 4


def test_vocabulary_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="vocabulary.min_count"):
        load_run_config(None, ["vocabulary.min_count=0"])
    with pytest.raises(ConfigError, match="hier.min_count"):
        load_run_config(None, ["hier.min_count=2"])


def test_checkpoint_settings_and_what_a_resume_may_change() -> None:
    config = load_run_config(None, ["train.checkpoint_minutes=0.5", "train.checkpoint_steps=100"])
    assert (config.train.checkpoint_minutes, config.train.checkpoint_steps) == (0.5, 100)
    with pytest.raises(ConfigError, match="train.checkpoint_minutes"):
        load_run_config(None, ["train.checkpoint_minutes=-1"])
    # every setting a resumed run may change is one of the loop's, and the batch size is not
    assert all(key.split(".")[1] in TrainConfig.model_fields for key in RESUMABLE)
    assert "train.batch_size" not in RESUMABLE


def test_streaming_is_refused_for_a_model_that_prepares_its_data_up_front() -> None:
    config = load_run_config(None, ["model=two-step", "data=qm9", "train.stream=true"])
    up_front = dataclasses.replace(model_kind("two-step"), streams=False)
    with pytest.raises(ConfigError, match="--model two-step prepares its training data up front"):
        _streamed(config, up_front, "qm9:train")
    # by size when not set: moses-mini's 50,000 molecules are prepared up front
    assert _streamed(load_run_config(None, []), model_kind("hier"), "moses-mini:train") is None


@pytest.mark.parametrize("kind", ["hier", "two-step"])
def test_streamed_data_without_a_molecule_that_parses_is_a_clear_error(
    tmp_path: Path, kind: str
) -> None:
    data = tmp_path / "bad.smi"
    data.write_text("not_a_smiles\nC1CC\n")
    config = load_run_config(None, [f"model={kind}", f"data={data}", "train.stream=true"])
    with pytest.raises(DatasetError, match="bad.smi: no|bad.smi: none"):
        train(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()
