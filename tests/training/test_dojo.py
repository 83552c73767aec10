"""The dojo benchmark, run end to end on a tiny budget and a tiny dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from moldojo.errors import ConfigError
from moldojo.training.dojo import DojoConfig, format_table, run_dojo

MOLS = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "C1CCNCC1", "O=C(O)c1ccccc1", "CCN(CC)CC"] * 5


def test_run_dojo_reports_every_column(tmp_path: Path) -> None:
    path = tmp_path / "mols.smi"
    path.write_text("\n".join(MOLS) + "\n")
    config = DojoConfig(
        layers=("gated-gcn",), minutes=0.002, hidden_dim=16, num_layers=2, batch_size=8,
        train=str(path), test=str(path), timing_dim=16, timing_repeats=2,
    )  # fmt: skip
    (result,) = run_dojo(config)
    assert result.layer == "gated-gcn" and result.steps >= 1 and result.parameters > 0
    assert result.test_mae >= 0 and result.train_mol_per_s > 0
    assert result.forward_backward_ms > 0
    pytest.importorskip("torch_geometric")
    assert result.pyg_forward_backward_ms is not None and result.speed_ratio > 0
    table = format_table([result], config)
    assert table.splitlines()[2].startswith("| gated-gcn |")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"layers": ("resnet",)}, "unknown layers"), ({"minutes": 0}, "minutes"),
     ({"hidden_dim": 0}, "hidden_dim")],
)  # fmt: skip
def test_config_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DojoConfig(**kwargs)
