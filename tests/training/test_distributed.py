"""One run over two processes (gloo, as ``torchrun --nproc-per-node 2`` starts them): the same
loss curve as one process with the same global batch and seed, streamed or not, and a resume
with another count of processes."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import socket
from pathlib import Path

import numpy as np
import pytest
import torch

from moldojo.distributed import World, shard, world
from moldojo.training.run import load_run_config, train

SMILES = [
    "CCO", "CC(=O)Oc1ccccc1C(=O)O", "c1ccccc1", "CCN(CC)CC", "O=C(O)c1ccccc1", "CC(C)Cc1ccccc1",
    "c1ccc2ccccc2c1", "CCOC(=O)C", "Cc1ccncc1", "OCC(O)CO", "CC(=O)N", "C1CCCCC1", "CCCCCC=O",
    "c1ccoc1", "NC(=O)c1ccccc1", "CCS", "CC#N", "C1CCNCC1", "Oc1ccccc1", "CC(C)O",
]  # fmt: skip
SETTINGS = ["train.batch_size=8", "train.valid_molecules=2", "train.valid_samples=2",
            "train.jobs=1", "train.checkpoint_minutes=0"]  # fmt: skip
TINY = {"hier": ["hier.hidden_dim=16", "hier.atom_layers=2", "hier.motif_layers=1",
                 "hier.attachment_layers=1"],
        "two-step": ["two_step.hidden_dim=16", "two_step.encoder_layers=2",
                     "two_step.decoder_layers=2", "two_step.decoder_dim=16"]}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _process(rank: int, size: int, port: int, overrides: list[str], out: str,
             resume: bool) -> None:  # fmt: skip
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(size),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))  # fmt: skip
    torch.set_num_threads(1)
    train(load_run_config(None, overrides), out, resume=resume, progress=False)
    torch.distributed.destroy_process_group()


def _run(size: int, overrides: list[str], out: Path, *, resume: bool = False) -> None:
    """``train`` as ``size`` processes of one run (``torchrun``'s environment), or in this one."""
    if size == 1:
        train(load_run_config(None, overrides), out, resume=resume, progress=False)
        return
    port = _free_port()
    context = mp.get_context("fork")
    procs = [context.Process(target=_process, args=(r, size, port, overrides, str(out), resume))
             for r in range(size)]  # fmt: skip
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * size


def _losses(run_dir: Path) -> np.ndarray:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return np.array([r["loss"] for r in rows if r["kind"] == "train"])


@pytest.mark.parametrize("kind", ["hier", "two-step"])
def test_two_processes_follow_the_single_process_loss_curve(tmp_path: Path, kind: str) -> None:
    data = tmp_path / "mols.smi"
    data.write_text("\n".join(SMILES) + "\n")
    overrides = [f"model={kind}", f"data={data}", *SETTINGS, *TINY[kind]]
    # Given one process trained two epochs
    _run(1, [*overrides, "train.epochs=2"], tmp_path / "one")
    # When two processes train the first epoch (streamed: batches built by a DataLoader worker
    # of each process) and one process resumes for the second
    streamed = ["train.stream=true"]
    _run(2, [*overrides, *streamed, "train.epochs=1"], tmp_path / "two")
    _run(1, [*overrides, *streamed, "train.epochs=2"], tmp_path / "two", resume=True)
    # Then every step's loss (the global batch's, logged by process 0) is the same
    one, two = _losses(tmp_path / "one"), _losses(tmp_path / "two")
    assert len(one) == len(two) == 6  # 18 training molecules, batches of 8, 2 epochs
    np.testing.assert_allclose(two, one, rtol=1e-5)
    assert world() == World()  # the test process never joined a process group


def test_each_process_takes_a_contiguous_slice_of_the_global_batch() -> None:
    rows = np.arange(11)
    parts = [shard(rows, World(rank, 3)) for rank in range(3)]
    assert [p.tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]
    assert shard(rows, World()) is rows
