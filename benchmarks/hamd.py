"""HAMD: labelling speed, the network's decisions against the best cheap rule, cycle finding.

    python benchmarks/hamd.py PART [--data DIR] [--model RUN] [--json OUT] ...

PART is one of:

* ``data``: writes the benchmark's graphs into ``--data`` (``moldojo hamd generate`` and
  ``solve``): training graphs, n = 20, 25, ..., 50, ``--train-count`` of each n in the
  ``critical`` and ``hard`` regimes (seed 1); test graphs, n = 25, 50, 100, 200,
  ``--test-count`` of each in both regimes (seed 2).
* ``label``: labelling speed: ``--label-count`` critical graphs of each n (seed 3) labelled by
  ``solve`` on ``--jobs`` processes: graphs per second, and the share the certificates decide.
* ``layers``: the dojo's layers as the HAMD network's layer: each trained ``--minutes`` on the
  training graphs (one core each, two at a time), then validation accuracy and ROC AUC on the
  n = 50 test graphs of each regime. How the shipped model's layer was chosen.
* ``decide``: the model's decision accuracy by n and regime, with 95% Wilson intervals: the
  network alone, and behind the certificates (what ``moldojo hamd predict`` does), next to the
  best cheap rule fitted on the training graphs (:mod:`moldojo.hamd.rules`).
* ``find``: cycle finding on the Hamiltonian test graphs: the share found within
  ``--time-limit`` seconds by the search ordered by the network's edge scores, by Warnsdorff's
  rule and at random, and the exact solver's mean time on the same graphs.

Prints Markdown tables for BENCHMARKS.md; ``--json`` keeps every figure.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from moldojo.hamd import certified
from moldojo.hamd.find import ORDERS, find_each
from moldojo.hamd.rules import fit_cheap_rule
from moldojo.hamd.train import LabelledGraphs, load_model, roc_auc

TRAIN_SIZES = (20, 25, 30, 35, 40, 45, 50)
TEST_SIZES = (25, 50, 100, 200)
REGIMES = ("critical", "hard")
LAYERS = ("gated-gcn", "gine", "gat", "gcn")


def moldojo(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "moldojo", *args, "-q"], check=True)


def wilson(right: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion."""
    if total == 0:
        return math.nan, math.nan
    p = right / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return centre - half, centre + half


def share(right: int, total: int) -> str:
    low, high = wilson(right, total)
    return f"{right / total:.3f} [{low:.3f}, {high:.3f}]"


def test_file(data: Path, regime: str, n: int) -> tuple[Path, Path]:
    return data / f"test-{regime}-{n}.g6", data / f"test-{regime}-{n}.json"


def training_set(data: Path) -> LabelledGraphs:
    parts = [LabelledGraphs.read(data / f"train-{r}.g6", data / f"train-{r}.json")[0]
             for r in REGIMES]  # fmt: skip
    return LabelledGraphs.join(parts)


def part_data(args: argparse.Namespace) -> dict:
    data = args.data
    data.mkdir(parents=True, exist_ok=True)
    sizes = [str(n) for n in TRAIN_SIZES]
    for regime in REGIMES:
        g6, labels = data / f"train-{regime}.g6", data / f"train-{regime}.json"
        moldojo("hamd", "generate", "--n", *sizes, "--count", str(args.train_count),
                "--regime", regime, "--seed", "1", "-o", str(g6))  # fmt: skip
        moldojo("hamd", "solve", str(g6), "--json", str(labels))
        for n in TEST_SIZES:
            g6, labels = test_file(data, regime, n)
            moldojo("hamd", "generate", "--n", str(n), "--count", str(args.test_count),
                    "--regime", regime, "--seed", "2", "-o", str(g6))  # fmt: skip
            moldojo("hamd", "solve", str(g6), "--json", str(labels))
    print(f"wrote the benchmark's graphs to {data}")
    return {}


def part_label(args: argparse.Namespace) -> dict:
    from moldojo.hamd import generate
    from moldojo.hamd.solve import solve_each

    print("| n | graphs | seconds | graphs/s | decided by certificates | Hamiltonian |")
    print("|---:|---:|---:|---:|---:|---:|")
    out = {}
    for n in TEST_SIZES:
        graphs = generate("critical", n, args.label_count, seed=3)
        start = time.perf_counter()
        labels = list(solve_each(graphs, jobs=args.jobs))
        seconds = time.perf_counter() - start
        certified = sum(label.method not in ("dp", "sat") for label in labels)
        positive = sum(bool(label.hamiltonian) for label in labels)
        print(f"| {n} | {len(graphs):,} | {seconds:.1f} | {len(graphs) / seconds:,.0f} | "
              f"{certified / len(graphs):.1%} | {positive / len(graphs):.1%} |")  # fmt: skip
        out[n] = {"seconds": seconds, "certified": certified, "positive": positive}
    return out


def part_layers(args: argparse.Namespace) -> dict:
    runs = args.runs
    runs.mkdir(parents=True, exist_ok=True)
    jobs = []
    for i, layer in enumerate(LAYERS):
        run = runs / f"layer-{layer}"
        command = [sys.executable, "-m", "moldojo", "hamd", "train", "-q", "--overwrite",
                   "--data", *(str(args.data / f"train-{r}.g6") for r in REGIMES),
                   "--out", str(run), "--max-minutes", str(args.minutes),
                   "--set", f"hamd.layer={layer}", "--epochs", "1000"]  # fmt: skip
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        jobs.append(subprocess.Popen(["taskset", "-c", str(i % 2), *command], env=env))
        if len(jobs) == 2 or i == len(LAYERS) - 1:
            for job in jobs:
                if job.wait():
                    raise SystemExit(f"training failed: {job.args}")
            jobs = []
    print("| layer | parameters | epochs in budget | critical n=50 acc | AUC | hard n=50 acc "
          "| AUC |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    out = {}
    for layer in LAYERS:
        model = load_model(runs / f"layer-{layer}")
        rows = [r for r in map(json.loads, (runs / f"layer-{layer}" / "metrics.jsonl")
                               .read_text().splitlines()) if r["kind"] == "valid"]  # fmt: skip
        figures = {}
        for regime in REGIMES:
            test, _ = LabelledGraphs.read(*test_file(args.data, regime, 50))
            p, _ = model.predict(test.graphs, certificates=False)
            y = np.asarray(test.labels)
            figures[regime] = ((p >= 0.5) == y).mean(), roc_auc(y, p)
        size = sum(t.numel() for t in model.net.parameters())
        print(f"| {layer} | {size:,} | {rows[-1]['epoch'] if rows else 0} | "
              f"{figures['critical'][0]:.3f} | {figures['critical'][1]:.3f} | "
              f"{figures['hard'][0]:.3f} | {figures['hard'][1]:.3f} |")  # fmt: skip
        out[layer] = {"parameters": size, **{r: list(map(float, f)) for r, f in figures.items()}}
    return out


def part_decide(args: argparse.Namespace) -> dict:
    model = load_model(args.model)
    rule = fit_cheap_rule(*_graphs_labels(training_set(args.data)))
    print(f"best cheap rule on the training graphs: {rule.describe()} "
          f"(training accuracy {rule.train_accuracy:.3f})\n")
    print("| regime | n | graphs | Hamiltonian | network alone | certificates + network | "
          "best cheap rule | network AUC |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    out = {"rule": rule.to_json()}
    for regime in REGIMES:
        for n in TEST_SIZES:
            test, _ = LabelledGraphs.read(*test_file(args.data, regime, n))
            y = np.asarray(test.labels)
            alone, _ = model.predict(test.graphs, certificates=False)
            behind = np.where(certified(test.graphs), 0.0, alone)
            cheap = rule.predict(test.graphs)
            right = [int(((alone >= 0.5) == y).sum()), int(((behind >= 0.5) == y).sum()),
                     int((cheap == y).sum())]  # fmt: skip
            print(f"| {regime} | {n} | {len(y):,} | {y.mean():.0%} | " +
                  " | ".join(share(r, len(y)) for r in right) +
                  f" | {roc_auc(y, alone):.3f} |")  # fmt: skip
            out[f"{regime}-{n}"] = {"graphs": len(y), "right": right, "auc": roc_auc(y, alone)}
    return out


def part_find(args: argparse.Namespace) -> dict:
    model = load_model(args.model)
    print("| regime | n | Hamiltonian graphs | " +
          " | ".join(f"found, {o}" for o in ORDERS) + " | exact solver, mean s |")  # fmt: skip
    print("|---|---:|---:|" + "---:|" * (len(ORDERS) + 1))
    out = {}
    for regime in REGIMES:
        for n in TEST_SIZES:
            g6, labels = test_file(args.data, regime, n)
            test, _ = LabelledGraphs.read(g6, labels)
            raw = json.loads(labels.read_text())
            solver_seconds = [r["seconds"] for r in raw if r["hamiltonian"]]
            graphs = [g for g, y in zip(test.graphs, test.labels, strict=True) if y]
            graphs = graphs[: args.find_count]
            _, scores = model.predict(graphs, edges=True)
            found = {}
            for order in ORDERS:
                guided = scores if order.startswith("gnn") else None
                results = list(find_each(graphs, order, scores=guided,
                                         time_limit=args.time_limit, jobs=args.jobs))  # fmt: skip
                found[order] = [sum(r.cycle is not None for r in results),
                                float(np.mean([r.seconds for r in results]))]
            print(f"| {regime} | {n} | {len(graphs)} | " +
                  " | ".join(f"{share(found[o][0], len(graphs))} ({found[o][1]:.2f} s)"
                             for o in ORDERS) +
                  f" | {np.mean(solver_seconds):.3f} |")  # fmt: skip
            out[f"{regime}-{n}"] = {"graphs": len(graphs), "found": found,
                                    "solver_seconds": float(np.mean(solver_seconds))}
    return out


def _graphs_labels(data: LabelledGraphs) -> tuple[list, list]:
    return data.graphs, data.labels


PARTS = {"data": part_data, "label": part_label, "layers": part_layers, "decide": part_decide,
         "find": part_find}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=PARTS)
    parser.add_argument("--data", type=Path, default=Path("out/hamd"), help="graphs and labels")
    parser.add_argument("--runs", type=Path, default=Path("out/hamd/runs"),
                        help="where 'layers' trains")  # fmt: skip
    parser.add_argument("--model", default=None, help="HAMD run (default: the shipped model)")
    parser.add_argument("--train-count", type=int, default=1000)
    parser.add_argument("--test-count", type=int, default=500)
    parser.add_argument("--label-count", type=int, default=1000)
    parser.add_argument("--find-count", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=6.0)
    parser.add_argument("--time-limit", type=float, default=1.0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    print(f"<!-- {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d')} -->")
    figures = PARTS[args.part](args)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
