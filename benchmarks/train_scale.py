"""Training throughput and scale: the hierarchical step before and after, 1 and 2 processes, all
of MOSES streamed.

    python benchmarks/train_scale.py PART [--before COMMIT] [--molecules N] [--json OUT] ...

PART is one of:

* ``step``: ``moldojo train --model hier`` (default configuration, batch 128) on the first
  ``--molecules`` of moses-mini train, one epoch, one core and one thread, with the code of
  ``--before`` (its ``src/``, exported by ``git archive``) and with this checkout's, in turn
  (``--repeats`` times each, A B A B ...), and with this checkout's in bfloat16
  (``train.precision``). Training molecules per second from ``metrics.jsonl`` (step seconds,
  batch building included, steps after the 3rd), and the largest relative difference between
  each code's losses and the code before's, step by step.
* ``processes``: the same training with one process and with ``torchrun --nproc-per-node 2``
  (one thread each, the same global batch): molecules per second of the whole run.
* ``moses``: ``moldojo train --model hier --data moses --max-minutes M`` under
  ``/usr/bin/time -v``: seconds until the first training step is written, peak resident memory
  of the training process and of the largest worker, steps taken. Run it once before to build
  and cache MOSES train's vocabulary, or see that time in the first row.

Prints Markdown tables for BENCHMARKS.md; ``--json`` keeps every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ["--set", "train.valid_molecules=20", "--set", "train.valid_samples=20",
            "--set", "train.checkpoint_minutes=0", "--set", "train.jobs=1"]  # fmt: skip


def _env(src: Path, cache: Path, threads: int = 1) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": str(threads),
            "MOLDOJO_CACHE_DIR": str(cache)}  # fmt: skip


def _data(tmp: Path, count: int) -> Path:
    from moldojo.data.sources import resolve_one

    smiles = [s for _, s in resolve_one("moses-mini:train").records()][:count]
    path = tmp / f"moses-mini-{count}.smi"
    path.write_text("\n".join(smiles) + "\n")
    return path


def _step_figures(run_dir: Path, skip: int = 3) -> tuple[float, np.ndarray]:
    """Molecules per second over the steps after ``skip``, and every step's loss."""
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in rows if r["kind"] == "train"]
    seconds = sum(r["seconds"] for r in train[skip:-1])  # the last batch is smaller
    return 128 * (len(train) - skip - 1) / seconds, np.array([r["loss"] for r in train])


def _train(src: Path, data: Path, out: Path, cache: Path, *, processes: int = 1,
           core: str = "0", extra: tuple[str, ...] = ()) -> None:  # fmt: skip
    shutil.rmtree(out, ignore_errors=True)
    if processes == 1:
        command = ["taskset", "-c", core, sys.executable, "-m", "moldojo"]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node",
                   str(processes), "-m", "moldojo"]  # fmt: skip
    command += ["train", "--model", "hier", "--data", str(data), "--out", str(out), "--epochs",
                "1", *SETTINGS, *extra]  # fmt: skip
    subprocess.run(command, check=True, env=_env(src, cache), cwd=out.parent,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def step(args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="moldojo-step-"))
    before = tmp / "before"
    before.mkdir()
    archive = subprocess.run(["git", "archive", args.before, "src"], cwd=ROOT, check=True,
                             capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
    data = _data(tmp, args.molecules)
    codes = {"before": (before / "src", ()), "after": (ROOT / "src", ()),
             "after-bf16": (ROOT / "src", ("--set", "train.precision=bfloat16"))}  # fmt: skip
    speed: dict[str, list[float]] = {k: [] for k in codes}
    losses: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):
        for name, (src, extra) in codes.items():
            out = tmp / f"run-{name}"
            _train(src, data, out, tmp / f"cache-{name}", extra=extra)
            rate, loss = _step_figures(out)
            speed[name].append(rate)
            losses[name] = loss

    def rel_diff(name: str) -> float:
        return float(np.max(np.abs(losses[name] - losses["before"]) / np.abs(losses["before"])))

    b = np.median(speed["before"])
    print(f"\n{args.molecules} moses-mini molecules, batch 128, one core, one thread, "
          f"{args.repeats} runs each, medians; losses compared step by step with the code "
          f"before ({len(losses['after'])} steps)\n")
    print("| code | training molecules/s | runs | / before | largest relative loss difference "
          "|\n|---|---:|---|---:|---:|")
    figures = {}
    for name in codes:
        value = np.median(speed[name])
        runs = ", ".join(f"{x:.0f}" for x in speed[name])
        label = f"before ({args.before})" if name == "before" else name
        print(f"| {label} | {value:.0f} | {runs} | {value / b:.2f}x | {rel_diff(name):.1e} |")
        figures[name] = {"runs": speed[name], "ratio": value / b, "loss_diff": rel_diff(name)}
    return figures


def processes(args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="moldojo-procs-"))
    data = _data(tmp, args.molecules)
    figures: dict[str, list[float]] = {"1": [], "2": []}
    losses = {}
    for _ in range(args.repeats):
        for k in (1, 2):
            out = tmp / f"run-{k}"
            _train(ROOT / "src", data, out, tmp / "cache", processes=k)
            rate, losses[k] = _step_figures(out)
            figures[str(k)].append(rate)
    one, two = np.median(figures["1"]), np.median(figures["2"])
    diff = float(np.max(np.abs(losses[2] - losses[1]) / np.abs(losses[1])))
    print(f"\n{args.molecules} moses-mini molecules, global batch 128, one thread a process\n")
    print("| processes | training molecules/s | runs |\n|---:|---:|---|")
    for k, value in (("1", one), ("2", two)):
        print(f"| {k} | {value:.0f} | {', '.join(f'{x:.0f}' for x in figures[k])} |")
    print(f"\n2 / 1: {two / one:.2f}x; largest relative loss difference: {diff:.2e}")
    return {"one": figures["1"], "two": figures["2"], "ratio": two / one,
            "loss_max_rel_diff": diff}  # fmt: skip


def moses(args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="moldojo-moses-"))
    out = tmp / "run"
    metrics = out / "metrics.jsonl"
    first: list[float] = []
    started = time.monotonic()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if metrics.exists() and metrics.stat().st_size > 0:
                first.append(time.monotonic() - started)
                return
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    result = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-m", "moldojo", "train", "--model", "hier",
         "--data", "moses", "--out", str(out), "--max-minutes", str(args.minutes)],
        capture_output=True, text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "2"},
    )  # fmt: skip
    done.set()
    wall = time.monotonic() - started
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)[1])
    rows = [json.loads(x) for x in metrics.read_text().splitlines()]
    steps = sum(r["kind"] == "train" for r in rows)
    rss = [r["peak_rss_mb"] for r in rows if r["kind"] == "valid"]
    print(f"\nmoldojo train --model hier --data moses --max-minutes {args.minutes} (1,584,663 "
          "training molecules, streamed; 2 DataLoader workers)\n")
    print("| figure | value |\n|---|---:|")
    print(f"| first training step written after | {first[0] if first else float('nan'):.0f} s |")
    print(f"| whole run (validation and saving included) | {wall:.0f} s |")
    print(f"| steps of 128 molecules | {steps} |")
    print(f"| peak RSS, training process (metrics.jsonl) | {rss[-1] if rss else 0:,.0f} MiB |")
    print(f"| peak RSS, largest process (/usr/bin/time -v) | {peak / 1024:,.0f} MiB |")
    return {"first_step_s": first[0] if first else None, "wall_s": wall, "steps": steps,
            "peak_rss_train_mb": rss[-1] if rss else None,
            "peak_rss_time_v_mb": peak / 1024}  # fmt: skip


PARTS = {"step": step, "processes": processes, "moses": moses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=PARTS)
    parser.add_argument("--before", default="115725a", help="the code to compare with")
    parser.add_argument("--molecules", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import torch

    machine = f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}"
    print(f"machine: {machine}; {time.strftime('%Y-%m-%d %H:%M')}")
    figures = {"machine": machine, args.part: PARTS[args.part](args)}
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
