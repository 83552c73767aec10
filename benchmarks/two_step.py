"""Two-step VAE: reconstruction, validity, uniqueness, novelty, FCD and speed of a trained run.

    python benchmarks/two_step.py RUN_DIR|MODEL.pt --data qm9|moses-mini [--reconstruct 1000]
                                  [--samples 10000] [--seed 0] [--json OUT]

* Reconstruction: the first ``--reconstruct`` molecules of the dataset's test split, encoded to
  the posterior mean and decoded greedily, constrained and raw; canonical SMILES compared without
  stereo (the decoder makes none).
* Sampling: ``--samples`` latent points from N(0, I), decoded raw ("validity without
  constraints") and constrained ("validity with constraints"); uniqueness and novelty of the
  constrained samples (novelty against the training split, stereo-blind), then the MOSES suite
  on them: FCD/SNN/Frag/Scaf against MOSES test for moses-mini, against QM9's test split (its
  statistics computed once) for QM9.
* Speed: training molecules/s from the run's ``metrics.jsonl`` (steps only), sampling
  molecules/s (decoding included) and this process's peak memory.

Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

import torch

import moldojo
from moldojo.config import load_config
from moldojo.data import load_dataset, resolve_one
from moldojo.evaluation import moses_metrics
from moldojo.evaluation.reconstruction import reconstruction_accuracy
from moldojo.evaluation.reference import moses_reference, reference_from_source
from moldojo.evaluation.training import training_set
from moldojo.training.run import RunConfig


def training_speed(run_dir: Path) -> tuple[float | str, int | str]:
    """Molecules/s over the logged steps, and the number of steps (n/a for a bare .pt file)."""
    if not (run_dir / "metrics.jsonl").exists():
        return "n/a", "n/a"
    config = load_config(RunConfig, run_dir / "config.toml")
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if r["kind"] == "train"]
    seconds = sum(r["seconds"] for r in steps)
    return len(steps) * config.train.batch_size / seconds, len(steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--data", choices=("qm9", "moses-mini"), required=True)
    parser.add_argument("--reconstruct", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.jobs)

    model = moldojo.load(args.run_dir)
    figures: dict[str, float | int | str] = {"data": args.data, "run": str(args.run_dir)}
    test = load_dataset(f"{args.data}:test", progress=False).smiles[: args.reconstruct]
    for mode in ("constrained", "raw"):
        result = reconstruction_accuracy(test, model.reconstruct(test, mode=mode), stereo=False)
        figures[f"reconstruction_{mode}"] = result.accuracy
    figures["reconstruction_n"] = len(test)

    generator = torch.Generator().manual_seed(args.seed)
    z = torch.randn(args.samples, model.latent_dim, generator=generator)
    raw = model.decode(z, mode="raw")
    tick = time.perf_counter()
    constrained = model.decode(z, mode="constrained")
    figures["sampling_molecules_per_s"] = args.samples / (time.perf_counter() - tick)
    figures["constrained_failures"] = dict(constrained.failures)
    valid = [s for s in constrained if s is not None]
    unique = set(valid)
    train = training_set(f"{args.data}:train", isomeric=False, jobs=args.jobs, progress=False)
    figures["validity_raw"] = sum(s is not None for s in raw) / len(raw)
    figures["validity_constrained"] = len(valid) / len(constrained)
    figures["uniqueness"] = len(unique) / len(valid) if valid else 0.0
    figures["novelty"] = len(unique - train) / len(unique) if unique else 0.0

    if args.data == "moses-mini":
        reference = moses_reference("test")
    else:
        reference = reference_from_source(resolve_one("qm9:test"), jobs=args.jobs)
    moses = moses_metrics([s or "" for s in constrained], test=reference, train=train,
                          jobs=args.jobs)  # fmt: skip
    for key in ("FCD/Test", "SNN/Test", "Frag/Test", "Scaf/Test", "IntDiv", "Filters"):
        figures[key] = moses.metrics[key]
    figures["training_molecules_per_s"], figures["training_steps"] = training_speed(args.run_dir)
    figures["peak_rss_mb_benchmark"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["machine"] = f"{platform.processor() or platform.machine()}, {args.jobs} threads"

    print("| figure | value |\n|---|---:|")
    for key, value in figures.items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        print(f"| {key} | {shown} |")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
