"""``moldojo optimize``: search a trained model's latent space for molecules that maximise an
objective, within an oracle budget.

Writes ``DIR/results.csv`` (one row per oracle call: call, iteration, smiles, score, similarity,
status), ``DIR/summary.json`` (best_score, best_smiles, top3, oracle_calls, valid_fraction,
seconds, ...) and ``DIR/progress.png`` (best so far against oracle calls, with every other run
of the same objective found beside DIR), all at the end: a run that fails leaves no directory.
Prints the top 3 and one summary line. The same seed gives the same results.

Objectives (several are summed; ``WEIGHT*SPEC`` weights one): ``qed``, ``logp``, ``sa`` (minus
the SA score), ``plogp`` (penalised logP, JT-VAE's normalisation), ``similarity:SMILES``,
``python:MODULE:FUNCTION`` (a callable ``list[str] -> list[float]``).
Methods: ``bo`` (BoTorch, trust region), ``cmaes``, ``ga`` (genetic algorithm on latent
vectors), ``random`` (the baseline: prior draws, or draws around the start molecules).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from moldojo.cli.common import non_negative_float, positive_float, positive_int, show_progress
from moldojo.cli.generate_common import load_model, say
from moldojo.cli.output import output_dir
from moldojo.errors import MoldojoError, quote_input

HELP = "optimise a property in a model's latent space (BO, CMA-ES, GA, random)"

_MAX_BUDGET = 1_000_000


def _budget(text: str) -> int:
    value = positive_int(text)
    if value > _MAX_BUDGET:
        raise argparse.ArgumentTypeError(f"must be at most {_MAX_BUDGET:,}, got {text!r}")
    return value


def _similarity(text: str) -> float:
    value = non_negative_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", nargs="?", metavar="RUN_DIR",
                        help="run directory or checkpoint (default: the shipped one)")  # fmt: skip
    parser.add_argument("--objective", action="append", required=True, metavar="SPEC",
                        help="qed, logp, sa, plogp, similarity:SMILES, python:MODULE:FUNCTION; "
                        "WEIGHT*SPEC weights one; repeat to sum several")  # fmt: skip
    parser.add_argument("--method", choices=("bo", "cmaes", "ga", "random"), default="bo",
                        help="search method (default bo)")  # fmt: skip
    parser.add_argument("--budget", type=_budget, default=100, metavar="N",
                        help="oracle calls: decoded latent points, failures included "
                        "(default 100)")  # fmt: skip
    parser.add_argument("--batch", type=positive_int, default=10, metavar="B",
                        help="proposals per round (default 10)")  # fmt: skip
    parser.add_argument("--start", metavar="SMILES|FILE",
                        help="start molecule(s): a SMILES, or a file of them")  # fmt: skip
    parser.add_argument("--min-similarity", type=_similarity, default=None, metavar="D",
                        help="with --start: a proposal less similar than D to the start "
                        "molecules fails (Tanimoto, Morgan r=2, 2048 bits)")  # fmt: skip
    parser.add_argument("--scaffold", metavar="SMILES",
                        help="every proposal contains this scaffold (hier models: decoded "
                        "from it)")  # fmt: skip
    parser.add_argument("--sigma", type=positive_float, default=None, metavar="S",
                        help="search scale in latent space (default 1, the prior's; 0.5 "
                        "around --start)")  # fmt: skip
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="write results.csv, summary.json and progress.png here")  # fmt: skip


def _starts(text: str | None, progress: bool | None) -> list[str]:
    """The start molecules: the molecules of a file when ``text`` names one, else ``text``."""
    if text is None:
        return []
    path = Path(text)
    if text.strip() and path.is_file():
        from moldojo.data import load_dataset

        smiles = load_dataset(text, progress=progress).smiles
        if not smiles:
            raise MoldojoError(f"--start {quote_input(text)}: no molecule in the file")
        return list(smiles)
    return [text]


def run(args: argparse.Namespace) -> int:
    from moldojo.search.objectives import make_objective
    from moldojo.search.optimize import optimize
    from moldojo.search.report import progress_png, run_label, sibling_runs

    out = output_dir(args.out, "--out")
    objective = make_objective(args.objective)  # an unknown objective fails before the model
    if args.min_similarity is not None and args.start is None:
        raise MoldojoError("--min-similarity needs --start: the molecules to stay similar to")
    starts = _starts(args.start, show_progress(args))
    model = load_model(args.run_dir, args.device)
    result = optimize(model, objective, method=args.method, budget=args.budget,
                      batch=args.batch, start=starts or None, min_similarity=args.min_similarity,
                      scaffold=args.scaffold, seed=args.seed, sigma=args.sigma,
                      progress=show_progress(args))  # fmt: skip
    runs = [(run_label(result.method, out.path.name), result.method, result.best_so_far()),
            *sibling_runs(out.path, result.objective)]  # fmt: skip
    picture = progress_png(runs, result.objective)
    out.file("results.csv").write_text(result.to_csv())
    out.file("summary.json").write_json(result.summary())
    out.file("progress.png").write_bytes(picture)
    for rank, (smiles, score) in enumerate(result.top(3), start=1):
        print(f"{rank}\t{score:.4f}\t{smiles}")
    failed = result.failures()
    detail = ", ".join(f"{k} {v}" for k, v in sorted(failed.items(), key=lambda kv: -kv[1]))
    best = "none scored" if result.best_smiles is None else f"best {result.best_score:.4f}"
    say(f"{result.method} on {result.objective}: {best} after {result.oracle_calls} oracle "
        f"calls, {100 * result.valid_fraction:.0f}% valid, {sum(failed.values())} failed"
        + (f" ({detail})" if detail else "") + f", {result.seconds:.1f} s -> {out}",
        to_stdout=False)  # fmt: skip
    return 0
