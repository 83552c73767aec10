"""Tests for moldojo.config: pydantic configs from TOML and overrides, errors, round trips."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field, PositiveInt, model_validator

from moldojo.config import (
    Config,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    dump_config,
    load_config,
    replace_config,
)
from moldojo.errors import ConfigError


class ModelConfig(Config):
    hidden_dim: PositiveInt = 64
    dropout: float = Field(0.1, ge=0, lt=1)
    norm: Literal["batch", "layer"] | None = "batch"
    readout: Literal["sum", "mean", "root"] = "sum"
    dims: tuple[int, ...] = (32, 16)
    label: str | None = None
    residual: bool = True

    @model_validator(mode="after")
    def _root_needs_residual(self) -> ModelConfig:
        if self.readout == "root" and not self.residual:
            raise ValueError("readout='root' needs residual = true")
        return self


class TrainConfig(Config):
    lr: float = 1e-3
    max_steps: int | None = None
    tags: list[str] = []
    loss_weights: dict[str, float] = {}


class RunConfig(Config):
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    seed: int = 0
    name: str = "run"


class Required(Config):
    size: int


def write(tmp_path: Path, text: str, name: str = "run.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


EXAMPLE = """\
seed = 7
name = "zinc"

[model]
hidden_dim = 128
dropout = 0
norm = "layer"
dims = [64, 32, 16]

[train]
lr = 0.0005
max_steps = 1000
tags = ["a", "b"]
loss_weights = { kl = 0.5, recon = 1 }
"""


# ----------------------------------------------------------------------------- building


def test_defaults_without_file() -> None:
    assert load_config(RunConfig) == RunConfig()
    assert config_from_dict(RunConfig, {}) == RunConfig()


def test_load_file_with_nested_tables(tmp_path: Path) -> None:
    cfg = load_config(RunConfig, write(tmp_path, EXAMPLE))
    assert cfg.seed == 7 and cfg.name == "zinc"
    assert cfg.model == ModelConfig(hidden_dim=128, dropout=0.0, norm="layer", dims=(64, 32, 16))
    assert cfg.train.lr == 0.0005 and cfg.train.max_steps == 1000
    assert cfg.train.tags == ["a", "b"]
    assert cfg.train.loss_weights == {"kl": 0.5, "recon": 1.0}


def test_values_are_converted_to_field_types(tmp_path: Path) -> None:
    cfg = load_config(RunConfig, write(tmp_path, EXAMPLE))
    assert isinstance(cfg.model.dropout, float)  # TOML 0 is an int
    assert isinstance(cfg.model.dims, tuple)  # TOML arrays are lists
    assert isinstance(cfg.train.loss_weights["recon"], float)


def test_missing_keys_take_defaults(tmp_path: Path) -> None:
    cfg = load_config(RunConfig, write(tmp_path, "[model]\nhidden_dim = 8\n"))
    assert cfg.model == ModelConfig(hidden_dim=8)
    assert cfg.train == TrainConfig() and cfg.seed == 0


def test_none_string_means_none_for_optional_fields(tmp_path: Path) -> None:
    text = '[model]\nnorm = "None"\n[train]\nmax_steps = "none"\n'
    cfg = load_config(RunConfig, write(tmp_path, text))
    assert cfg.model.norm is None and cfg.train.max_steps is None


def test_none_string_stays_a_string_where_strings_are_allowed(tmp_path: Path) -> None:
    cfg = load_config(RunConfig, write(tmp_path, '[model]\nlabel = "none"\n'))
    assert cfg.model.label == "none"


def test_missing_required_key() -> None:
    with pytest.raises(
        ConfigError, match=r"^<dict>: missing required key 'size'.*--set size=value"
    ):
        config_from_dict(Required, {})
    assert config_from_dict(Required, {"size": 3}) == Required(size=3)


# ----------------------------------------------------------------------------- file errors


def test_unknown_key_names_key_file_line_and_allowed_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "seed = 1\n\n[model]\nhidden_dim = 8\nhiden = 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(RunConfig, path)
    message = str(info.value)
    assert "'model.hiden'" in message
    assert f"{path}, line 5" in message
    assert "did you mean 'model.hidden_dim'" in message
    for key in ("hidden_dim", "dropout", "norm", "readout", "dims", "label", "residual"):
        assert key in message


def test_unknown_section_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "seed = 1\n[modle]\nhidden_dim = 8\n")
    with pytest.raises(ConfigError, match=r"line 2: unknown key 'modle'.*model, train, seed"):
        load_config(RunConfig, path)


@pytest.mark.parametrize(
    ("toml", "key", "line", "given", "allowed"),
    [
        ('[model]\nhidden_dim = "big"\n', "model.hidden_dim", 2, "'big' (str)", "an integer"),
        ("[model]\nhidden_dim = true\n", "model.hidden_dim", 2, "True (bool)", "an integer"),
        ("[model]\nhidden_dim = 1.5\n", "model.hidden_dim", 2, "1.5 (float)", "an integer"),
        ('[model]\n\ndropout = "x"\n', "model.dropout", 3, "'x' (str)", "a number"),
        ("[model]\ndropout = false\n", "model.dropout", 2, "False (bool)", "a number"),
        ("[model]\nresidual = 1\n", "model.residual", 2, "1 (int)", "true or false"),
        ("name = 3\n", "name", 1, "3 (int)", "a string"),
        (
            '[model]\nreadout = "max"\n',
            "model.readout",
            2,
            "'max' (str)",
            "one of 'sum', 'mean', 'root'",
        ),
        (
            '[model]\nnorm = "group"\n',
            "model.norm",
            2,
            "'group' (str)",
            "one of 'batch', 'layer' or \"none\"",
        ),
        ('[train]\nmax_steps = "lots"\n', "train.max_steps", 2, "'lots' (str)", "an integer"),
        ('[model]\ndims = "8"\n', "model.dims", 2, "'8' (str)", "an array"),
        ('[model]\ndims = [8, "x"]\n', "model.dims[1]", 2, "'x' (str)", "an integer"),
        ("[train]\ntags = [1]\n", "train.tags[0]", 2, "1 (int)", "a string"),
        ("[train]\nloss_weights = 1\n", "train.loss_weights", 2, "1 (int)", "a table"),
        (
            '[train]\nloss_weights = { kl = "x" }\n',
            "train.loss_weights.kl",
            2,
            "'x' (str)",
            "a number",
        ),
        ("model = 3\n", "model", 1, "3 (int)", "a table of ModelConfig settings"),
    ],
)
def test_type_errors_say_what_where_and_what_is_allowed(
    tmp_path: Path, toml: str, key: str, line: int, given: str, allowed: str
) -> None:
    path = write(tmp_path, toml)
    with pytest.raises(ConfigError) as info:
        load_config(RunConfig, path)
    message = str(info.value)
    assert f"{path}, line {line}: {key} = {given}" in message
    assert allowed in message


def test_dotted_keys_and_inline_tables_find_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'seed = 1\nmodel.hidden_dim = "x"\n')
    with pytest.raises(ConfigError, match=r"line 2: model\.hidden_dim"):
        load_config(RunConfig, path)
    path = write(tmp_path, 'seed = 1\nmodel = { dropout = 0.1, hidden_dim = "x" }\n')
    with pytest.raises(ConfigError, match=r"line 2: model\.hidden_dim"):
        load_config(RunConfig, path)


def test_errors_from_a_dict_name_the_source() -> None:
    with pytest.raises(ConfigError, match=r"^defaults\.toml: model\.dropout = 'x' \(str\)"):
        config_from_dict(RunConfig, {"model": {"dropout": "x"}}, source="defaults.toml")
    with pytest.raises(ConfigError, match=r"^<dict>: unknown key 'sed'"):
        config_from_dict(RunConfig, {"sed": 1})


def test_constraint_errors_name_key_file_line_and_bounds(tmp_path: Path) -> None:
    path = write(tmp_path, "[model]\ndropout = 1.5\n")
    with pytest.raises(ConfigError) as info:
        load_config(RunConfig, path)
    assert str(info.value) == (
        f"{path}, line 2: model.dropout = 1.5 (float) is not allowed; expected a value less than 1"
    )


def test_cross_field_errors_surface_with_section_and_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[model]\nreadout = "root"\nresidual = false\n')
    with pytest.raises(ConfigError) as info:
        load_config(RunConfig, path)
    assert str(info.value) == (
        f"{path}: invalid [model] (ModelConfig): readout='root' needs residual = true"
    )


def test_direct_construction_raises_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^ModelConfig: hidden_dim = 0 \(int\) is not allowed; "
                       r"expected a value greater than 0$"):  # fmt: skip
        ModelConfig(hidden_dim=0)
    with pytest.raises(ConfigError, match=r"^ModelConfig: invalid ModelConfig: readout='root'"):
        ModelConfig(readout="root", residual=False)
    with pytest.raises(ConfigError, match=r"^RunConfig: model\.norm = 'group'"):
        RunConfig(model={"norm": "group"})


def test_configs_are_frozen_and_hashable() -> None:
    cfg = ModelConfig()
    with pytest.raises(AttributeError, match="frozen"):
        cfg.hidden_dim = 3  # type: ignore[misc]
    assert hash(cfg) == hash(ModelConfig()) and cfg == ModelConfig()


def test_replace_config_validates() -> None:
    cfg = RunConfig()
    assert replace_config(cfg, seed=3) == RunConfig(seed=3)
    assert replace_config(cfg, model=replace_config(cfg.model, dims=[1])).model.dims == (1,)
    with pytest.raises(ConfigError, match=r"^ModelConfig: dropout = 2 \(int\) is not allowed"):
        replace_config(cfg.model, dropout=2)


def test_malformed_toml_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "seed = 1\n[model]\nhidden_dim = \n")
    with pytest.raises(ConfigError) as info:
        load_config(RunConfig, path)
    message = str(info.value)
    assert str(path) in message and "invalid TOML" in message
    assert re.search(r"line 3, column \d+", message)


def test_bare_string_in_file_is_a_syntax_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"invalid TOML.*line 2"):
        load_config(RunConfig, write(tmp_path, "[model]\nnorm = layer\n"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: no such config file"):
        load_config(RunConfig, tmp_path / "nope.toml")


# ----------------------------------------------------------------------------- overrides


@pytest.mark.parametrize(
    ("override", "get", "expected"),
    [
        ("seed=3", lambda c: c.seed, 3),
        ("model.dropout=0.5", lambda c: c.model.dropout, 0.5),
        ("model.dropout=0", lambda c: c.model.dropout, 0.0),
        ("model.residual=false", lambda c: c.model.residual, False),
        ('name="qm9"', lambda c: c.name, "qm9"),
        ("name=qm9", lambda c: c.name, "qm9"),  # bare string
        ("name=1e3", lambda c: c.name, "1e3"),  # TOML float, but the field is a str
        ("model.norm=layer", lambda c: c.model.norm, "layer"),
        ("model.norm=none", lambda c: c.model.norm, None),
        ("model.norm=NONE", lambda c: c.model.norm, None),
        ("train.max_steps=none", lambda c: c.train.max_steps, None),
        ("train.max_steps=5", lambda c: c.train.max_steps, 5),
        ("model.label=none", lambda c: c.model.label, "none"),
        ("model.dims=[1, 2]", lambda c: c.model.dims, (1, 2)),
        ("model.dims=[]", lambda c: c.model.dims, ()),
        ('train.tags=["x"]', lambda c: c.train.tags, ["x"]),
        ("train.loss_weights={kl=2}", lambda c: c.train.loss_weights, {"kl": 2.0}),
        ("train.loss_weights.kl=2", lambda c: c.train.loss_weights, {"kl": 2.0}),
        (" seed = 4 ", lambda c: c.seed, 4),
    ],
)
def test_override_of_each_type(
    override: str, get: Callable[[RunConfig], object], expected: object
) -> None:
    cfg = load_config(RunConfig, overrides=[override])
    value = get(cfg)
    assert value == expected and type(value) is type(expected)


def test_overrides_apply_on_top_of_file_and_later_ones_win(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    cfg = load_config(RunConfig, path, ["model.hidden_dim=9", "seed=1", "seed=2"])
    assert cfg.model.hidden_dim == 9 and cfg.seed == 2
    assert cfg.model.dims == (64, 32, 16)  # untouched file values stay


def test_override_of_a_section_merges_into_it(tmp_path: Path) -> None:
    cfg = load_config(RunConfig, write(tmp_path, EXAMPLE), ["model={hidden_dim=9}"])
    assert cfg.model.hidden_dim == 9 and cfg.model.norm == "layer"


def test_override_fixes_an_invalid_file_value(tmp_path: Path) -> None:
    path = write(tmp_path, "[model]\ndropout = 1.5\n")
    assert load_config(RunConfig, path, ["model.dropout=0.2"]).model.dropout == 0.2


def test_override_without_equals_sign() -> None:
    with pytest.raises(ConfigError, match=r"'model\.norm' has no '='.*--set section\.key=value"):
        load_config(RunConfig, overrides=["model.norm"])


@pytest.mark.parametrize("override", ["=3", "model.=3", ".x=1"])
def test_override_with_empty_key(override: str) -> None:
    with pytest.raises(ConfigError, match=r"empty key.*--set section\.key=value"):
        load_config(RunConfig, overrides=[override])


@pytest.mark.parametrize(
    ("override", "what"),
    [
        (
            "model.hiden_dim=3",
            "unknown key 'model.hiden_dim' (did you mean 'model.hidden_dim'?); "
            "allowed keys in [model]: hidden_dim, dropout, norm, readout, dims, label, residual",
        ),
        (
            "sed=3",
            "unknown key 'sed' (did you mean 'seed'?); "
            "allowed keys at the top level: model, train, seed, name",
        ),
        ("modle.norm=layer", "unknown key 'modle' (did you mean 'model'?)"),
        ("seed.x=3", "seed = {'x': 3} (dict) is not allowed; expected an integer"),
    ],
)
def test_override_of_unknown_key_says_what_is_allowed(override: str, what: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(RunConfig, overrides=[override])
    assert str(info.value).startswith(f"--set {override}: {what}")


@pytest.mark.parametrize(
    ("override", "given", "allowed"),
    [
        ("seed=abc", "seed = 'abc' (str)", "an integer"),
        ("seed=1.5", "seed = 1.5 (float)", "an integer"),
        ("model.residual=yes", "model.residual = 'yes' (str)", "true or false"),
        ("model.norm=group", "model.norm = 'group' (str)", "one of 'batch', 'layer'"),
        ("model.dims=[1, 'a']", "model.dims[1] = 'a' (str)", "an integer"),
        ("train.loss_weights.kl=big", "train.loss_weights.kl = 'big' (str)", "a number"),
    ],
)
def test_override_type_errors_name_the_override(
    tmp_path: Path, override: str, given: str, allowed: str
) -> None:
    path = write(tmp_path, EXAMPLE)
    with pytest.raises(ConfigError) as info:
        load_config(RunConfig, path, [override])
    message = str(info.value)
    assert message.startswith(f"--set {override}: {given} is not allowed")
    assert allowed in message


def test_cross_field_error_from_override_names_file_and_override(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE)
    with pytest.raises(ConfigError) as info:
        load_config(RunConfig, path, ["model.readout=root", "model.residual=false"])
    message = str(info.value)
    assert str(path) in message and "--set model.residual=false" in message
    assert "invalid [model] (ModelConfig): readout='root' needs residual = true" in message


def test_constraint_error_from_override_names_the_override(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--set model\.hidden_dim=0: model\.hidden_dim = 0 "):
        load_config(RunConfig, write(tmp_path, EXAMPLE), ["model.hidden_dim=0"])


def test_apply_overrides_returns_a_new_instance() -> None:
    cfg = RunConfig(model=ModelConfig(norm=None, label="x"))
    new = apply_overrides(cfg, ["model.hidden_dim=5", "train.tags=['t']"])
    assert new == cfg.model_copy(
        update={"model": cfg.model.model_copy(update={"hidden_dim": 5}),
                "train": TrainConfig(tags=["t"])}
    )  # fmt: skip
    assert cfg.model.hidden_dim == 64  # the original is unchanged
    assert apply_overrides(cfg, []) is cfg
    with pytest.raises(ConfigError, match=r"^--set model\.dropout=2: model\.dropout = 2 \(int\)"):
        apply_overrides(cfg, ["model.dropout=2"])


# ----------------------------------------------------------------------------- writing


def test_config_to_dict_is_plain_toml_data() -> None:
    cfg = RunConfig(model=ModelConfig(norm=None, dims=(4,)))
    data = config_to_dict(cfg)
    assert data["model"]["dims"] == [4]
    assert data["model"]["norm"] == "none"  # None where the default is not None
    assert "label" not in data["model"]  # None where the default is None: omitted
    assert "max_steps" not in data["train"]
    assert config_from_dict(RunConfig, data) == cfg


@pytest.mark.parametrize(
    "cfg",
    [
        RunConfig(),
        RunConfig(
            model=ModelConfig(hidden_dim=3, dropout=0.0, norm=None, dims=(), label="none"),
            train=TrainConfig(lr=2.0, max_steps=10, tags=["a"], loss_weights={"kl": 0.25}),
            seed=-1,
            name="x y",
        ),
    ],
)
def test_dump_then_load_round_trips(tmp_path: Path, cfg: RunConfig) -> None:
    path = dump_config(cfg, tmp_path / "sub" / "config.toml")
    assert path == tmp_path / "sub" / "config.toml"
    assert load_config(RunConfig, path) == cfg


def test_dump_refuses_a_none_that_would_read_back_as_a_string(tmp_path: Path) -> None:
    class Named(Config):
        label: str | None = "x"

    with pytest.raises(ConfigError, match=r"cannot write label = None"):
        dump_config(Named(label=None), tmp_path / "c.toml")
