"""Tests for moldojo.checkpoint: save/load equality, atomic writes, refusing bad files."""

from __future__ import annotations

import os
import pathlib
from pathlib import Path

import numpy as np
import pytest
import torch

import moldojo
from moldojo.checkpoint import (
    FORMAT_MARKER,
    FORMAT_VERSION,
    Checkpoint,
    load_checkpoint,
    save_checkpoint,
    upgrade_run_config,
)
from moldojo.errors import CheckpointError


def make_checkpoint(with_optimizer: bool = True) -> Checkpoint:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(5, 3)).sum().backward()
    optimizer.step()
    return Checkpoint(
        model_kind="toy",
        config={"model": {"hidden_dim": 4, "dims": [1, 2], "norm": "none"}, "seed": 0},
        state_dict=model.state_dict(),
        vocabulary={"atoms": ["C", "N", "O"], "motifs": [["c1ccccc1", 3]], "size": 3},
        optimizer_state=optimizer.state_dict() if with_optimizer else None,
        step=17,
        extra={"metrics": {"loss": 0.25, "valid": 1.0}, "note": None},
    )


def assert_same(a: object, b: object) -> None:
    """Deep equality where tensors are compared with torch.equal (and dtype)."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        assert a == b and type(a) is type(b)


def assert_checkpoints_equal(a: Checkpoint, b: Checkpoint) -> None:
    for name in Checkpoint.__dataclass_fields__:
        assert_same(getattr(a, name), getattr(b, name))


# ----------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("with_optimizer", [True, False])
def test_save_then_load_gives_an_equal_checkpoint(tmp_path: Path, with_optimizer: bool) -> None:
    ckpt = make_checkpoint(with_optimizer)
    path = save_checkpoint(tmp_path / "runs" / "a" / "step17.pt", ckpt)
    assert path == tmp_path / "runs" / "a" / "step17.pt" and path.is_file()
    loaded = load_checkpoint(path)
    assert_checkpoints_equal(ckpt, loaded)
    assert loaded.format_version == FORMAT_VERSION
    assert loaded.moldojo_version == moldojo.__version__


def test_loaded_state_dict_restores_the_model(tmp_path: Path) -> None:
    ckpt = make_checkpoint()
    loaded = load_checkpoint(save_checkpoint(tmp_path / "c.pt", ckpt))
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    model.load_state_dict(loaded.state_dict)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    optimizer.load_state_dict(loaded.optimizer_state)


def test_file_is_plain_data_readable_with_weights_only(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "c.pt", make_checkpoint())
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == FORMAT_MARKER and raw["model_kind"] == "toy"


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    save_checkpoint(path, make_checkpoint())
    save_checkpoint(path, make_checkpoint(with_optimizer=False))  # overwrite
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]
    assert load_checkpoint(path).optimizer_state is None


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_checkpoint(tmp_path / "c.pt", make_checkpoint())
    before = path.read_bytes()

    def broken_save(obj: object, f: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, make_checkpoint(with_optimizer=False))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("change", "key_path", "type_name"),
    [
        ({"extra": {"metrics": {"loss": np.float64(0.5)}}}, "extra['metrics']['loss']", "numpy"),
        ({"vocabulary": {"atoms": {"C", "N"}}}, "vocabulary['atoms']", "set"),
        ({"config": {"path": Path("x")}}, "config['path']", "Path"),
        ({"vocabulary": [1, object()]}, "vocabulary[1]", "object"),
    ],
)
def test_non_plain_data_is_refused_at_save(
    tmp_path: Path, change: dict[str, object], key_path: str, type_name: str
) -> None:
    ckpt = Checkpoint(model_kind="toy", config={}, state_dict={}, vocabulary=[])
    bad = Checkpoint(**{**ckpt.__dict__, **change})
    with pytest.raises(CheckpointError) as info:
        save_checkpoint(tmp_path / "c.pt", bad)
    message = str(info.value)
    assert key_path in message and type_name in message and "c.pt" in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"model_kind": 3}, "'model_kind' is int, expected str"),
        ({"model_kind": ""}, "'model_kind' is empty"),
        ({"step": True}, "'step' is bool, expected int"),
        ({"step": -1}, "'step' is -1"),
        ({"state_dict": {"w": [1.0]}}, "state_dict['w'] is list"),
        ({"config": None}, "'config' is NoneType, expected dict"),
    ],
)
def test_ill_typed_fields_are_refused_at_save(
    tmp_path: Path, change: dict[str, object], problem: str
) -> None:
    ckpt = Checkpoint(model_kind="toy", config={}, state_dict={}, vocabulary=[])
    with pytest.raises(CheckpointError, match="cannot save checkpoint") as info:
        save_checkpoint(tmp_path / "c.pt", Checkpoint(**{**ckpt.__dict__, **change}))
    assert problem in str(info.value)


# ----------------------------------------------------------------------------- bad files


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"nope\.pt: no such file"):
        load_checkpoint(tmp_path / "nope.pt")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="is a directory"):
        load_checkpoint(tmp_path)


def assert_corrupt(path: Path) -> None:
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert str(path) in message
    assert "corrupt or not a moldojo checkpoint" in message


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.99])
def test_truncated_file(tmp_path: Path, keep: float) -> None:
    path = save_checkpoint(tmp_path / "c.pt", make_checkpoint())
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    assert_corrupt(path)


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "random.pt"
    path.write_bytes(np.random.default_rng(seed).bytes(2048))
    assert_corrupt(path)


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.pt"
    path.write_text("model_kind = 'toy'\n")
    assert_corrupt(path)


def test_foreign_torch_file(tmp_path: Path) -> None:
    path = tmp_path / "foreign.pt"
    torch.save({"model": {"w": torch.zeros(2)}, "epoch": 3}, path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert f"{path} is not a moldojo checkpoint" in message
    assert "'model', 'epoch'" in message


def test_bare_state_dict_file(tmp_path: Path) -> None:
    path = tmp_path / "weights.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), path)
    with pytest.raises(CheckpointError, match=r"is not a moldojo checkpoint"):
        load_checkpoint(path)


def test_non_dict_torch_file(tmp_path: Path) -> None:
    path = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), path)
    with pytest.raises(CheckpointError, match=r"tensor\.pt is not a moldojo checkpoint.*Tensor"):
        load_checkpoint(path)


@pytest.mark.parametrize("missing", ["model_kind", "state_dict", "format_version"])
def test_marked_file_with_a_missing_field(tmp_path: Path, missing: str) -> None:
    path = save_checkpoint(tmp_path / "c.pt", make_checkpoint(with_optimizer=False))
    raw = torch.load(path, weights_only=True)
    del raw[missing]
    torch.save(raw, path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert f"{path} is not a moldojo checkpoint (missing '{missing}')" in str(info.value)


def test_marked_file_with_an_ill_typed_field(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "c.pt", make_checkpoint(with_optimizer=False))
    raw = torch.load(path, weights_only=True)
    raw["step"] = "17"
    torch.save(raw, path)
    with pytest.raises(CheckpointError, match=r"not a moldojo checkpoint \('step' is str"):
        load_checkpoint(path)


def test_newer_format_version(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "c.pt", make_checkpoint(with_optimizer=False))
    raw = torch.load(path, weights_only=True)
    raw["format_version"] = FORMAT_VERSION + 1
    raw["moldojo_version"] = "9.0.0"
    raw["new_field"] = {"anything": 1}
    torch.save(raw, path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert str(path) in message and "newer moldojo" in message and "9.0.0" in message
    assert f"format {FORMAT_VERSION + 1}" in message and f"up to {FORMAT_VERSION}" in message
    assert "Upgrade" in message


# ----------------------------------------------------------------------------- security


class _TouchOnUnpickle:
    """Unpickling this object (with plain pickle) would create ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


class _SystemOnUnpickle:
    """Unpickling this object (with plain pickle) would run a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (os.system, (f"touch '{self.marker}'",))


@pytest.mark.parametrize("payload_class", [_TouchOnUnpickle, _SystemOnUnpickle])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path: Path, payload_class: type) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    good = torch.load(save_checkpoint(tmp_path / "good.pt", make_checkpoint()), weights_only=True)
    torch.save({**good, "extra": {"payload": payload_class(marker)}}, path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert not marker.exists()
    message = str(info.value)
    assert str(path) in message and "corrupt or not a moldojo checkpoint" in message
    assert "global" in message.lower()  # torch's reason: a forbidden global


# ----------------------------------------------------------------------------- old formats


def test_a_format_1_checkpoint_is_read_in_todays_layout(tmp_path: Path) -> None:
    # Given a checkpoint of format 1, the motif vocabulary's settings among hier's
    ckpt = make_checkpoint()
    path = save_checkpoint(tmp_path / "old.pt", ckpt)
    raw = torch.load(path, weights_only=True)
    raw["format_version"] = 1
    raw["config"] = {"model": "hier", "hier": {"hidden_dim": 8, "min_count": 3,
                                              "vocabulary": "v.txt"}}  # fmt: skip
    torch.save(raw, path)
    # When it is loaded
    loaded = load_checkpoint(path)
    # Then the settings are in [vocabulary] and the rest is as written
    assert loaded.config == {"model": "hier", "hier": {"hidden_dim": 8},
                             "vocabulary": {"path": "v.txt", "min_count": 3}}  # fmt: skip
    assert loaded.format_version == 1 and loaded.step == ckpt.step


def test_upgrade_leaves_todays_layout_alone() -> None:
    config = {"model": "hier", "hier": {"hidden_dim": 8},
              "vocabulary": {"path": "", "min_count": 1}}  # fmt: skip
    assert upgrade_run_config(config) is config


def test_the_shipped_checkpoints_load_through_the_conversion() -> None:
    from moldojo.sampling import PRETRAINED

    hier = load_checkpoint(PRETRAINED["hier"])
    assert hier.format_version == 1  # written before format 2; converted on reading
    assert "min_count" not in hier.config["hier"] and "vocabulary" in hier.config
    assert moldojo.load("hier").kind == "hier"
