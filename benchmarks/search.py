"""Searching the latent space: every optimisation method against random search at equal oracle
budgets, similarity-constrained improvement, rediscovery and interpolation smoothness.

    python benchmarks/search.py PART [--model PATH] [--seeds 3] [--budget 500] [--batch 10]
        [--methods bo cmaes ga random] [--json OUT]

PART is one of:

* ``plogp``, ``qed``: top-3 distinct molecules after ``--budget`` oracle calls, per method, mean
  and standard deviation over ``--seeds`` seeds (seeds 0, 1, ...), from the prior.
* ``rediscovery``: ``similarity:DRUG`` for drugs outside the model's training data; the best
  similarity reached.
* ``constrained``: the 800 molecules of MOSES test with the lowest penalised logP that the model
  can encode; one search per molecule (``--constrained-budget`` calls, started at the molecule)
  at similarity constraints 0.4 and 0.6, search scale ``--constrained-sigma``: success rate (a
  molecule other than the start, as similar as required, with higher penalised logP found) and
  improvement (mean and sd over successes, and over all with 0 for failures).
* ``smoothness``: interpolation between 100 random pairs of test molecules (8 steps, linear and
  slerp) for the shipped models: mean Tanimoto similarity of consecutive molecules.

Prints Markdown tables for BENCHMARKS.md; ``--json`` keeps every figure.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import statistics
import time
from pathlib import Path

import torch
from rdkit import Chem

import moldojo
from moldojo.chem.properties import penalized_logp_normalized
from moldojo.chem.smiles import quiet_rdkit
from moldojo.data import load_dataset
from moldojo.parallel import pmap
from moldojo.search import interpolate, optimize, optimize_each, tanimoto

# Oracle calls at which the best so far is reported.
CHECKPOINTS = (25, 50, 100, 200, 500)

# Drugs outside MOSES (heavier than its 250-350 Da window), for rediscovery.
DRUGS = {
    "celecoxib": "Cc1ccc(-c2cc(C(F)(F)F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1",
    "aripiprazole": "O=C1CCc2ccc(OCCCCN3CCN(c4cccc(Cl)c4Cl)CC3)cc2N1",
}


def mean_sd(values: list[float]) -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def top3(model: moldojo.Generator, objective: str, args: argparse.Namespace) -> dict:
    """Top-3 scores per method and seed."""
    out: dict = {}
    for method in args.methods:
        runs = []
        for seed in range(args.seeds):
            result = optimize(model, objective, method=method, budget=args.budget,
                              batch=args.batch, seed=seed)  # fmt: skip
            scores = [v for _, v in result.top(3)] + [math.nan] * 3
            curve = result.best_so_far()
            at = {k: curve[k - 1] for k in CHECKPOINTS if k <= len(curve)}
            runs.append({"seed": seed, "top3": result.top(3), "scores": scores[:3],
                         "valid_fraction": result.valid_fraction, "best_at": at,
                         "seconds": result.seconds})  # fmt: skip
            print(f"  {objective} {method} seed {seed}: {scores[:3]} ({result.seconds:.0f} s)",
                  flush=True)  # fmt: skip
        out[method] = runs
    print_top3(out)
    print_curve(out)
    return out


def print_curve(out: dict) -> None:
    """Best so far after 25, 50, ... oracle calls, mean ± sd over seeds (sample efficiency)."""
    calls = sorted({int(k) for runs in out.values() for r in runs for k in r.get("best_at", {})})
    if not calls:
        return
    print("\n| method | " + " | ".join(f"best after {k}" for k in calls) + " |")
    print("|---|" + "---|" * len(calls))
    for method, runs in out.items():
        cols = [mean_sd([r["best_at"].get(str(k), r["best_at"].get(k, math.nan)) for r in runs])
                for k in calls]  # fmt: skip
        print(f"| {method} | " + " | ".join(cols) + " |")


def _heavy_atoms(smiles: str) -> int:
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles)
    return mol.GetNumHeavyAtoms() if mol is not None else 0


def print_top3(out: dict) -> None:
    """The Markdown table of :func:`top3`'s runs: mean ± sd of each rank over seeds, the best
    molecule over all seeds, heavy atoms of each seed's best, validity and time."""
    print("\n| method | 1st | 2nd | 3rd | heavy atoms of the best (per seed) | best molecule | "
          "valid | s per run |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for method, runs in out.items():
        cols = [mean_sd([r["scores"][k] for r in runs]) for k in range(3)]
        best = max(runs, key=lambda r: r["scores"][0])
        valid = statistics.mean(r["valid_fraction"] for r in runs)
        seconds = statistics.mean(r["seconds"] for r in runs)
        smiles = best["top3"][0][0] if best["top3"] else ""
        sizes = ", ".join(str(_heavy_atoms(r["top3"][0][0])) if r["top3"] else "-" for r in runs)
        shown = smiles if len(smiles) <= 80 else smiles[:77] + "..."
        print(f"| {method} | {' | '.join(cols)} | {sizes} | `{shown}` | {100 * valid:.0f}% | "
              f"{seconds:.0f} |")  # fmt: skip


def rediscovery(model: moldojo.Generator, args: argparse.Namespace) -> dict:
    out = {}
    for name, smiles in DRUGS.items():
        print(f"\n{name}: `{smiles}`")
        out[name] = top3(model, f"similarity:{smiles}", args)
    return out


def _plogp(smiles: str) -> float:
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(smiles)
    return math.nan if mol is None else penalized_logp_normalized(mol)


def constrained(model: moldojo.Generator, args: argparse.Namespace) -> dict:
    test = load_dataset("moses:test").smiles
    began = time.perf_counter()
    scores = pmap(_plogp, test, jobs=args.jobs, chunk_size=2000, description="plogp")
    print(f"penalised logP of {len(test):,} MOSES test molecules: "
          f"{time.perf_counter() - began:.0f} s", flush=True)  # fmt: skip
    order = sorted((i for i in range(len(test)) if not math.isnan(scores[i])),
                   key=scores.__getitem__)  # fmt: skip
    candidates = [test[i] for i in order[: 2 * args.molecules]]
    reasons = model.encode_with_reasons(candidates).reasons
    starts = [s for s, r in zip(candidates, reasons, strict=True) if r is None][: args.molecules]
    skipped = sum(r is not None for r in reasons[: candidates.index(starts[-1]) + 1])
    print(
        f"{len(starts)} lowest-scoring encodable molecules ({skipped} lower ones have a motif "
        f"outside the vocabulary); their penalised logP "
        f"{mean_sd([scores[test.index(s)] for s in starts[:50]])} (first 50)",
        flush=True,
    )
    rebuilt = model.reconstruct(starts)
    near = [tanimoto(a, b) for a, b in zip(starts, rebuilt, strict=True)]
    print(f"their reconstructions: similarity to the molecule {mean_sd(near)}; at least 0.4 for "
          f"{sum(v >= 0.4 for v in near)}, at least 0.6 for {sum(v >= 0.6 for v in near)} of "
          f"{len(starts)}", flush=True)  # fmt: skip
    out: dict = {"skipped": skipped, "starts": starts, "reconstruction_similarity": near}
    print(
        "\n| method | D | success | improvement (successes) | improvement (all) | "
        "similarity of the best | s per molecule |"
    )
    print("|---|---|---|---|---|---|---|")
    for d in (0.4, 0.6):
        for method in args.constrained_methods:
            results = optimize_each(model, "plogp", starts, method=method,
                                    budget=args.constrained_budget, batch=args.batch,
                                    min_similarity=d, sigma=args.constrained_sigma,
                                    seed=0)  # fmt: skip
            gains, sims, success = [], [], 0
            for r in results:
                gain = r.best_score - r.start_scores[0] if r.best_smiles else math.nan
                if r.best_smiles and gain > 0 and r.best_smiles != r.start[0]:
                    success += 1
                    gains.append(gain)
                    sims.append(next(p.similarity for p in r.proposals
                                     if p.smiles == r.best_smiles))  # fmt: skip
            every = gains + [0.0] * (len(results) - len(gains))
            seconds = statistics.mean(r.seconds for r in results)
            out[f"{method}@{d}"] = {"success": success / len(results), "gains": gains,
                                    "similarities": sims, "seconds": seconds}  # fmt: skip
            print(
                f"| {method} | {d} | {100 * success / len(results):.1f}% | {mean_sd(gains)} | "
                f"{mean_sd(every)} | {mean_sd(sims)} | {seconds:.2f} |",
                flush=True,
            )
    return out


def smoothness(args: argparse.Namespace) -> dict:
    out = {}
    print(
        "\n| model | test pairs from | path | mean consecutive similarity | steps that "
        "changed the molecule | valid |"
    )
    print("|---|---|---|---|---|---|")
    for name, data in (("hier", "moses-mini:test"), ("two-step", "qm9:test")):
        model = moldojo.load(name)
        test = load_dataset(data).smiles
        encodable = [s for s, r in zip(test[:2000], model.encode_with_reasons(test[:2000]).reasons,
                                       strict=True) if r is None]  # fmt: skip
        rng = random.Random(0)
        pairs = [tuple(rng.sample(encodable, 2)) for _ in range(args.pairs)]
        for path in ("linear", "slerp"):
            sims, changes, valid, points = [], 0, 0, 0
            for a, b in pairs:
                result = interpolate(model, a, b, 8, path=path)
                sims.extend(result.similarities)
                changes += result.changes
                valid += result.valid
                points += len(result.smiles)
            out[f"{name}/{path}"] = {"similarity": statistics.mean(sims),
                                     "changed": changes / (len(pairs) * 9),
                                     "valid": valid / points}  # fmt: skip
            print(
                f"| {name} | {data} | {path} | {statistics.mean(sims):.3f} | "
                f"{100 * changes / (len(pairs) * 9):.0f}% | {100 * valid / points:.1f}% |"
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=("plogp", "qed", "rediscovery", "constrained",
                                         "smoothness"))  # fmt: skip
    parser.add_argument("--model", default=None, help="run directory (default: shipped hier)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--methods", nargs="+", default=["bo", "cmaes", "ga", "random"])
    parser.add_argument("--molecules", type=int, default=800)
    parser.add_argument("--constrained-budget", type=int, default=50)
    parser.add_argument("--constrained-methods", nargs="+", default=["cmaes", "ga", "random"])
    parser.add_argument(
        "--constrained-sigma",
        type=float,
        default=0.3,
        help="search scale around each molecule (optimize's default is 0.5)",
    )
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--report", type=Path, default=None,
                        help="print the tables of a saved --json of plogp, qed or rediscovery "
                        "instead of running")  # fmt: skip
    args = parser.parse_args()
    if args.report:
        saved = json.loads(args.report.read_text())
        for name, runs in saved.items() if args.part == "rediscovery" else [("", saved)]:
            print(f"\n{name}" if name else "")
            print_top3(runs)
            print_curve(runs)
        return
    torch.manual_seed(0)
    print(f"machine: {platform.processor() or platform.machine()}, torch threads "
          f"{torch.get_num_threads()}, moldojo {moldojo.__version__}")  # fmt: skip
    began = time.perf_counter()
    if args.part == "smoothness":
        result = smoothness(args)
    else:
        model = moldojo.load(args.model)
        if args.part in ("plogp", "qed"):
            result = top3(model, args.part, args)
        elif args.part == "rediscovery":
            result = rediscovery(model, args)
        else:
            result = constrained(model, args)
    print(f"\n{args.part}: {time.perf_counter() - began:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
