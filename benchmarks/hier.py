"""Hierarchical motif VAE: reconstruction (overall and by size), sampling, MOSES suite, speed.

    python benchmarks/hier.py RUN_DIR --test NAME:SPLIT|FILE [--reconstruct 1000]
        [--samples 10000] [--train NAME:SPLIT|FILE] [--moses] [--compare RUN_DIR ...]
        [--plot SIZES.png] [--reference RESULT.json] [--seed 0] [--json OUT]

* Reconstruction: the first ``--reconstruct`` molecules of ``--test``, encoded to the posterior
  mean and decoded greedily; canonical SMILES compared without stereo (the decoder makes none).
  Molecules with a motif outside the model's vocabulary count as misses. Also by size: heavy-atom
  bins, as a table and (``--plot``) a PNG, with every ``--compare`` model on the same molecules.
* Sampling: ``--samples`` latent points from N(0, I), decoded greedily: validity, uniqueness,
  novelty against ``--train`` (stereo-blind), decoding speed. ``--moses``: the MOSES suite on
  them against MOSES test (for moses-mini or MOSES models).
* Speed: training molecules/s and peak memory from the run's ``metrics.jsonl``; reconstruction
  and sampling molecules/s; this process's peak memory.
* ``--reference``: the ``result.json`` of the hgraph2graph harness (run outside the repository,
  see BENCHMARKS.md), printed side by side with this run, with ratios.

Prints Markdown tables for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

import numpy as np
import torch
from rdkit import Chem

import moldojo
from moldojo.chem.smiles import quiet_rdkit
from moldojo.config import load_config
from moldojo.data import load_dataset
from moldojo.evaluation import moses_metrics
from moldojo.evaluation.reference import moses_reference
from moldojo.evaluation.training import training_set
from moldojo.models.task import stereo_blind
from moldojo.training.run import RunConfig

BINS = (0, 15, 20, 25, 30, 40, 50, 60, 80, 1000)


def run_figures(run_dir: Path) -> dict[str, float | int | str]:
    """Training molecules/s (steps only), steps, epochs and peak memory from ``metrics.jsonl``."""
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    steps = [r for r in rows if r["kind"] == "train"]
    valid = [r for r in rows if r["kind"] == "valid"]
    batch = load_config(RunConfig, run_dir / "config.toml").train.batch_size
    seconds = sum(r["seconds"] for r in steps)
    return {
        "training_molecules_per_s": len(steps) * batch / seconds if seconds else 0.0,
        "training_steps": len(steps),
        "training_epochs": max((r["epoch"] for r in valid), default=0),
        "training_seconds": seconds,
        "peak_rss_mb_training": max((r.get("peak_rss_mb", 0) for r in valid), default=0),
    }


def heavy_atoms(smiles: str) -> int:
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles)
    return 0 if mol is None else mol.GetNumHeavyAtoms()


def by_size(test: list[str], hits: dict[str, list[bool]]) -> list[dict]:
    sizes = np.asarray([heavy_atoms(s) for s in test])
    rows = []
    for lo, hi in zip(BINS[:-1], BINS[1:], strict=True):
        inside = (sizes >= lo) & (sizes < hi)
        if not inside.any():
            continue
        row = {"bin": f"{lo}-{hi - 1}" if hi < 1000 else f"{lo}+", "n": int(inside.sum())}
        for name, h in hits.items():
            row[name] = float(np.asarray(h)[inside].mean())
        rows.append(row)
    return rows


def plot(rows: list[dict], names: list[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    x = np.arange(len(rows))
    for name in names:
        ax.plot(x, [100 * r[name] for r in rows], marker="o", label=name)
    ax.set_xticks(x, [f"{r['bin']}\n(n={r['n']})" for r in rows], fontsize=8)
    ax.set_xlabel("heavy atoms")
    ax.set_ylabel("reconstruction accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def table(rows: list[dict]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        cells = [f"{100 * v:.1f}%" if isinstance(v, float) else str(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--test", required=True, help="molecules to reconstruct")
    parser.add_argument("--train", help="training molecules, for novelty")
    parser.add_argument("--reconstruct", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--moses", action="store_true", help="run the MOSES suite on the samples")
    parser.add_argument("--compare", type=Path, nargs="*", default=[],
                        help="other runs reconstructed on the same molecules")  # fmt: skip
    parser.add_argument("--plot", type=Path, help="PNG of reconstruction accuracy by size")
    parser.add_argument("--reference", type=Path, help="hgraph2graph harness result.json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.jobs)

    model = moldojo.load(args.run_dir)
    figures: dict = {"run": str(args.run_dir), "test": args.test}
    figures.update(run_figures(args.run_dir))
    test = load_dataset(args.test, progress=False).smiles[: args.reconstruct]
    targets = [stereo_blind(s) for s in test]

    tick = time.perf_counter()
    decoded = model.reconstruct(test)
    figures["reconstruction_molecules_per_s"] = len(test) / (time.perf_counter() - tick)
    hits = {"hier": [d is not None and d == t for d, t in zip(decoded, targets, strict=True)]}
    figures["reconstruction"] = float(np.mean(hits["hier"]))
    figures["reconstruction_n"] = len(test)
    figures["reconstruction_failures"] = dict(decoded.failures)
    for other in args.compare:
        name = f"{moldojo.load(other).kind} ({other.name})"
        out = moldojo.load(other).reconstruct(test)
        hits[name] = [d is not None and d == t for d, t in zip(out, targets, strict=True)]
        figures[f"reconstruction {name}"] = float(np.mean(hits[name]))
    size_rows = by_size(test, hits)
    figures["reconstruction_by_size"] = size_rows
    if args.plot:
        plot(size_rows, list(hits), args.plot, f"reconstruction of {args.test} by size")

    if args.samples:
        generator = torch.Generator().manual_seed(args.seed)
        tick = time.perf_counter()
        samples = model.sample(args.samples, generator=generator)
        figures["sampling_molecules_per_s"] = args.samples / (time.perf_counter() - tick)
        figures["sampling_failures"] = dict(samples.failures)
        valid = [s for s in samples if s is not None]
        unique = set(valid)
        figures["validity"] = len(valid) / len(samples)
        figures["uniqueness"] = len(unique) / len(valid) if valid else 0.0
        if args.train:
            train = training_set(args.train, isomeric=False, jobs=args.jobs, progress=False)
            figures["novelty"] = len(unique - train) / len(unique) if unique else 0.0
        if args.moses:
            train = training_set(args.train, jobs=args.jobs, progress=False) if args.train else None
            moses = moses_metrics([s or "" for s in samples], test=moses_reference("test"),
                                  train=train, jobs=args.jobs)  # fmt: skip
            keys = ("valid", "unique@1000", "unique@10000", "FCD/Test", "SNN/Test", "Frag/Test",
                    "Scaf/Test", "IntDiv", "IntDiv2", "Filters", "Novelty")  # fmt: skip
            figures.update({k: moses.metrics[k] for k in keys if k in moses.metrics})
    figures["peak_rss_mb_benchmark"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["machine"] = f"{platform.processor() or platform.machine()}, {args.jobs} threads"

    print("| figure | value |\n|---|---:|")
    for key, value in figures.items():
        if key == "reconstruction_by_size":
            continue
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        print(f"| {key} | {shown} |")
    print("\nReconstruction by heavy-atom count:\n")
    print(table(size_rows))
    if args.reference:
        ref = json.loads(args.reference.read_text())
        print("\nSide by side with the reference implementation:\n")
        print("| figure | hgraph2graph | moldojo hier | ratio |\n|---|---:|---:|---:|")
        pairs = [
            ("training molecules/s", ref.get("train_mol_per_s"),
             figures.get("training_molecules_per_s")),
            ("peak memory, training (MB)", ref.get("peak_rss_mb_train"),
             figures.get("peak_rss_mb_training")),
            ("sampling molecules/s", ref.get("sample_mol_per_s"),
             figures.get("sampling_molecules_per_s")),
            ("reconstruction molecules/s", ref.get("recon_n", 0) / ref["recon_seconds"]
             if ref.get("recon_seconds") else None, figures["reconstruction_molecules_per_s"]),
            ("reconstruction accuracy", ref.get("recon_accuracy"), figures["reconstruction"]),
        ]  # fmt: skip
        for name, a, b in pairs:
            ratio = f"{b / a:.2f}x" if a and b is not None else "n/a"
            print(f"| {name} | {a if a is not None else 'n/a'} | {b} | {ratio} |")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
