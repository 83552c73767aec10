"""The HAMD network's actions of ``moldojo hamd``: ``train``, ``predict``, ``eval`` and ``find``.

``train`` reads graph6 files with the labels ``moldojo hamd solve`` wrote beside them
(``X.json`` for ``X.g6``, or ``--labels``; labelled first when missing or older than ``X.g6``)
and trains a run directory like ``moldojo train`` does. ``predict`` prints, for each graph in
input order, the probability that it is Hamiltonian and the decision; ``eval`` compares them with
exact labels, beside the best cheap rule of the model's training graphs; ``find`` searches for
cycles guided by the network's edge scores. Without a run directory, the model shipped in the
package is used.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

from moldojo.cli.common import (
    add_run_flags,
    jobs_int,
    non_negative_float,
    print_train_summary,
    resolve_device,
    show_progress,
)
from moldojo.cli.output import output_dir, output_file
from moldojo.errors import ConfigError, MoldojoError
from moldojo.hamd.find import ORDERS
from moldojo.progress import progress_bar

__all__ = ["add_actions", "run_action"]

#: The actions this module adds to ``moldojo hamd``.
ACTIONS = ("train", "predict", "eval", "find")


def _model_and_graphs(parser: argparse.ArgumentParser) -> None:
    """The arguments of the verbs that use a model on a graph file: ``[RUN] FILE.g6``."""
    parser.add_argument("model_path", nargs="?", default=None, metavar="RUN",
                        help="run directory or checkpoint of 'moldojo hamd train' "
                        "(default: the model shipped in the package)")  # fmt: skip
    parser.add_argument("source", metavar="FILE.g6", help="graph6 file, one graph a line")


def add_actions(actions: argparse._SubParsersAction, shared: object) -> None:
    """Add ``train``, ``predict``, ``eval`` and ``find`` to the subparsers of ``moldojo hamd``;
    ``shared(parser)`` adds the shared flags."""
    train = actions.add_parser(
        "train",
        help="train the HAMD network on labelled graph6 files",
        description="Train the HAMD network (decision and edge scores) on graph6 files labelled "
        "by 'moldojo hamd solve' (X.json beside X.g6, made first when missing or older than "
        "X.g6; or --labels). Writes a run directory as "
        "'moldojo train' does; --resume continues it, --overwrite replaces it.",
    )
    shared(train)
    train.add_argument("--data", nargs="+", required=True, metavar="FILE.g6",
                       help="training graphs, graph6")  # fmt: skip
    train.add_argument("--labels", nargs="+", metavar="FILE.json",
                       help="their labels, one file per --data file (default: X.json beside "
                       "X.g6, labelled first when missing or older than X.g6)")  # fmt: skip
    add_run_flags(train, run="RUN", example="hamd.layer=gine",
                  resume_help="continue the run in RUN (only --epochs may change)")

    predict = actions.add_parser(
        "predict",
        help="print, for each graph, the probability that it is Hamiltonian and the decision",
        description="One line per graph, in input order: the probability that it is Hamiltonian, "
        "then the decision (hamiltonian or not). A graph that a cheap certificate proves not "
        "Hamiltonian gets probability 0 (--network-only: the network's own answer).",
    )
    shared(predict)
    _model_and_graphs(predict)
    predict.add_argument("--network-only", action="store_true",
                         help="the network's answer even where a certificate decides")

    evaluate = actions.add_parser(
        "eval",
        help="accuracy and ROC AUC against exact labels, by n, beside the best cheap rule",
        description="Compare the model's decisions with exact labels (from 'moldojo hamd "
        "solve'): accuracy and ROC AUC, overall and by n, beside the best cheap rule fitted on "
        "the model's training graphs.",
    )
    shared(evaluate)
    _model_and_graphs(evaluate)
    evaluate.add_argument("--labels", required=True, metavar="OUT.json",
                          help="its labels, from 'moldojo hamd solve'")  # fmt: skip
    evaluate.add_argument("--json", metavar="FILE", help="also write the figures as JSON")

    find = actions.add_parser(
        "find",
        help="search every graph for a Hamiltonian cycle, guided by the network's edge scores",
        description="Depth-first search for a Hamiltonian cycle in each graph, extending a path "
        "by the edges --order puts first (warnsdorff and random run without the network). "
        "Prints one line per graph: found, none (no cycle exists) or time_limit, the seconds, "
        "and the cycle; every cycle is checked.",
    )
    shared(find)
    _model_and_graphs(find)
    find.add_argument("--time-limit", type=non_negative_float, default=10.0, metavar="S",
                      help="seconds per graph, 0 for no limit (default 10)")  # fmt: skip
    find.add_argument("--order", choices=ORDERS, default="gnn+warnsdorff",
                      help="which edges are tried first: gnn (the network's scores), "
                      "gnn+warnsdorff (fewest onward options, ties by the network's scores; the "
                      "default), warnsdorff (ties at random) or random")  # fmt: skip
    find.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    find.add_argument("--jobs", "-j", type=jobs_int, default=1, metavar="J",
                      help="worker processes (default 1)")  # fmt: skip


def run_action(args: argparse.Namespace) -> int:
    return {"train": _train, "predict": _predict, "eval": _eval, "find": _find}[
        args.hamd_command
    ](args)


# -- train ---------------------------------------------------------------------------------------


def _train(args: argparse.Namespace) -> int:
    from moldojo.config import load_config, replace_config
    from moldojo.hamd.train import HamdRunConfig, LabelledGraphs, train

    output_dir(args.out, "--out")
    out = Path(args.out)
    if args.labels is not None and len(args.labels) != len(args.data):
        raise MoldojoError(f"--labels names {len(args.labels)} file(s) for {len(args.data)} "
                           "--data file(s); give one labels file per data file")  # fmt: skip
    overrides = [f"data={json.dumps(args.data)}", *args.set]
    if args.seed and not any(item.startswith("seed=") for item in args.set):
        overrides.append(f"seed={args.seed}")
    if args.resume:
        if args.config:
            raise ConfigError("--resume reads RUN/config.toml; leave out --config")
        if not (out / "config.toml").exists():
            raise ConfigError(f"cannot resume: {out / 'config.toml'} does not exist")
        config = load_config(HamdRunConfig, out / "config.toml", overrides)
    else:
        config = load_config(HamdRunConfig, args.config, overrides)
    if args.epochs is not None:
        config = replace_config(config, train=replace_config(config.train, epochs=args.epochs))
    parts, undecided = [], 0
    for i, source in enumerate(args.data):
        labels = Path(args.labels[i]) if args.labels else Path(source).with_suffix(".json")
        if args.labels is None and _stale(labels, Path(source)):
            _label_now(source, labels, args)
        part, skipped = LabelledGraphs.read(source, labels)
        parts.append(part)
        undecided += skipped
    data = LabelledGraphs.join(parts)
    if undecided:
        print(f"left out {undecided:,} graph(s) whose label is null (the solver's time limit "
              "ran out)", file=sys.stderr)  # fmt: skip
    summary = train(
        data, out, config, resume=args.resume, overwrite=args.overwrite,
        max_minutes=args.max_minutes, device=resolve_device(args.device),
        progress=show_progress(args),
    )  # fmt: skip
    print_train_summary(summary, out, unit="graphs", count=f"{len(data):,} graphs, ")
    return 0


def _stale(labels: Path, source: Path) -> bool:
    """Whether the labels beside ``source`` must be (re)made: missing, or older than the graphs
    (the file was written again since, as make would see it; a label file holds no digest of its
    graphs, and the labels of other graphs of the same sizes would pass every check)."""
    try:
        return labels.stat().st_mtime < source.stat().st_mtime
    except FileNotFoundError:
        return True


def _label_now(source: str, labels: Path, args: argparse.Namespace) -> None:
    """Label ``source`` into ``labels`` (what ``moldojo hamd solve`` would write)."""
    from moldojo.hamd import labels_json, read_graph6, solve_each

    graphs = read_graph6(source)
    why = "older than the file" if labels.exists() else "none"
    print(f"{source}: labels beside it ({labels}): {why}; labelling its {len(graphs):,} graphs "
          "first", file=sys.stderr)  # fmt: skip
    output = output_file(str(labels), "--labels")
    with progress_bar(len(graphs), f"solving {source}", show_progress(args),
                      unit="graph") as bar:  # fmt: skip
        found = []
        for label in solve_each(graphs, jobs=os.cpu_count() or 1):
            found.append(label)
            bar.update(1)
    output.write_text(labels_json(found))


# -- predict -------------------------------------------------------------------------------------


def _predict(args: argparse.Namespace) -> int:
    from moldojo.hamd import read_graph6
    from moldojo.hamd.train import load_model

    graphs = read_graph6(args.source)
    model = load_model(args.model_path, device=resolve_device(args.device))
    p, _ = model.predict(graphs, certificates=not args.network_only)
    lines = [f"{q:.4f}\t{'hamiltonian' if q >= 0.5 else 'not'}" for q in p.tolist()]
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


# -- eval ----------------------------------------------------------------------------------------


def _eval(args: argparse.Namespace) -> int:
    import numpy as np

    from moldojo.hamd import certified
    from moldojo.hamd.train import LabelledGraphs, load_model, roc_auc

    output = None if args.json is None else output_file(args.json, "--json")
    data, undecided = LabelledGraphs.read(args.source, args.labels)
    if not data.graphs:
        raise MoldojoError(f"{args.labels}: no graph has a label (all null); nothing to compare")
    model = load_model(args.model_path, device=resolve_device(args.device))
    alone, _ = model.predict(data.graphs, certificates=False)
    p = np.where(certified(data.graphs), 0.0, alone)
    y = np.asarray(data.labels)
    rule = model.cheap_rule
    cheap = rule.predict(data.graphs) if rule is not None else None
    sizes = defaultdict(list)
    for i, graph in enumerate(data.graphs):
        sizes[graph.n].append(i)
    rows = [("all", np.arange(len(y)))] + [(str(n), np.array(sizes[n])) for n in sorted(sizes)]
    figures = []
    header = f"{'n':>5} {'graphs':>7} {'Ham.':>6} {'accuracy':>9} {'network':>8} {'AUC':>6}"
    print(header + (f" {'cheap rule':>10}" if cheap is not None else ""))
    for name, rows_at in rows:
        yy = y[rows_at]
        row = {
            "n": name, "graphs": int(len(rows_at)), "hamiltonian": float(yy.mean()),
            "accuracy": float(((p[rows_at] >= 0.5) == yy).mean()),
            "network_accuracy": float(((alone[rows_at] >= 0.5) == yy).mean()),
            "auc": roc_auc(yy, alone[rows_at]),
        }  # fmt: skip
        if cheap is not None:
            row["cheap_rule_accuracy"] = float((cheap[rows_at] == yy).mean())
        figures.append(row)
        auc = "n/a" if np.isnan(row["auc"]) else f"{row['auc']:.3f}"
        line = (f"{name:>5} {row['graphs']:>7,} {row['hamiltonian']:>6.0%} "
                f"{row['accuracy']:>9.3f} {row['network_accuracy']:>8.3f} {auc:>6}")  # fmt: skip
        if cheap is not None:
            line += f" {row['cheap_rule_accuracy']:>10.3f}"
        print(line)
    print("accuracy: certificates, then the network (what predict answers); network: the network "
          "alone; AUC: the network's probabilities", file=sys.stderr)  # fmt: skip
    if rule is not None:
        print(f"cheap rule: {rule.describe()}, the best on the model's training graphs",
              file=sys.stderr)  # fmt: skip
    if undecided:
        print(f"left out {undecided:,} graph(s) whose label is null", file=sys.stderr)
    if output is not None:
        output.write_json({"model": model.source, "rows": figures,
                           "cheap_rule": None if rule is None else rule.to_json()})  # fmt: skip
        print(f"wrote {output}", file=sys.stderr)
    return 0


# -- find ----------------------------------------------------------------------------------------


def _find(args: argparse.Namespace) -> int:
    from moldojo.hamd import read_graph6
    from moldojo.hamd.find import find_each

    output = None if args.json is None else output_file(args.json, "--json")
    graphs = read_graph6(args.source)
    scores = None
    if args.order.startswith("gnn"):
        from moldojo.hamd.train import load_model

        model = load_model(args.model_path, device=resolve_device(args.device))
        _, scores = model.predict(graphs, edges=True)
    elif args.model_path is not None:
        raise MoldojoError(f"--order {args.order} searches without a network; leave out RUN")
    results = []
    limit = args.time_limit or None  # 0: no limit
    with progress_bar(len(graphs), f"searching {args.source}", show_progress(args),
                      unit="graph") as bar:  # fmt: skip
        for found in find_each(graphs, args.order, scores=scores, time_limit=limit,
                               seed=args.seed, jobs=args.jobs):  # fmt: skip
            results.append(found)
            cycle = "" if found.cycle is None else " ".join(map(str, found.cycle))
            print(f"{found.outcome}\t{found.seconds:.3f}\t{cycle}".rstrip("\t"), flush=True)
            bar.update(1)
    counts = {o: sum(r.outcome == o for r in results) for o in ("found", "none", "time_limit")}
    print(f"{args.source}: {len(results):,} graphs: {counts['found']:,} cycles found, "
          f"{counts['none']:,} with none (search exhausted or a certificate), "
          f"{counts['time_limit']:,} stopped at the time limit", file=sys.stderr)  # fmt: skip
    if output is not None:
        output.write_json([r.to_json() for r in results])
        print(f"wrote {output}", file=sys.stderr)
    return 0
