"""The Hamiltonian cycle decision problem: ``moldojo hamd generate`` writes random graphs,
``moldojo hamd solve`` labels them exactly; ``train`` fits the HAMD network on labelled graphs,
and ``predict``, ``eval`` and ``find`` use it (the model shipped in the package by default).

``generate`` writes graph6 (one graph a line): ``--count`` graphs of each ``--n``, in the
``critical``, ``hard`` or ``planted`` regime (see ``moldojo.hamd.generate``); the same
``--seed`` gives the same bytes. ``solve`` writes a JSON list with one object per graph, in input
order: ``n``, ``hamiltonian`` (true, false, or null when ``--time-limit`` ran out), ``cycle``
(the vertices in cycle order when true, checked), ``method`` (what decided it) and ``seconds``.
It is resumable: each label is appended to ``OUT.partial`` as it is found, and a run that stops
(Ctrl-C, a crash, a killed job) is continued by the same command, which solves only the rest;
the log is removed once ``OUT`` is written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from moldojo.cli.common import (
    add_shared_flags,
    jobs_int,
    positive_float,
    sample_count,
    show_progress,
)
from moldojo.cli.hamd_gnn import add_actions, run_action
from moldojo.cli.output import OutputFile, output_file
from moldojo.errors import MoldojoError
from moldojo.hamd import (
    DP_MAX_NODES,
    MAX_NODES,
    MIN_NODES,
    REGIMES,
    Graph,
    Label,
    cycle_problem,
    format_graph6,
    generate,
    labels_json,
    read_graph6_lines,
    solve_each,
)
from moldojo.progress import progress_bar

HELP = ("Hamiltonian cycles: generate graphs (graph6), label them exactly, train and use the "
        "HAMD network")

logger = logging.getLogger(__name__)

_PARTIAL_FORMAT = "moldojo-hamd-solve-partial"
_PARTIAL_VERSION = 1
# Messages name at most this many lines of one kind.
_SHOWN_LINES = 5
# Why a certificate that calls for a word in a note decided a graph.
_NOTES = {
    "too_small": "with fewer than 3 nodes, labelled not Hamiltonian (a cycle needs 3)",
    "disconnected": "disconnected, labelled not Hamiltonian",
}


def _nodes(text: str) -> int:
    """A number of vertices for ``generate --n``: :data:`MIN_NODES` to :data:`MAX_NODES`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if not MIN_NODES <= value <= MAX_NODES:
        raise argparse.ArgumentTypeError(
            f"must be from {MIN_NODES} to {MAX_NODES:,} nodes, got {value}"
        )
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="hamd_command", metavar="ACTION", required=True)

    gen = actions.add_parser(
        "generate",
        help="write random graphs in graph6, one a line",
        description="Write --count random graphs of each --n in graph6 (one graph a line). "
        "critical: G(n, p) at the Hamiltonicity threshold, about half Hamiltonian; hard: such "
        "graphs that no cheap certificate decides, half Hamiltonian by exact labels; planted: a "
        "random Hamiltonian cycle plus critical G(n, p) edges. The same --seed gives the same "
        "file.",
    )
    add_shared_flags(gen, suppress_defaults=True)
    gen.add_argument("--n", type=_nodes, nargs="+", required=True, metavar="N",
                     help=f"graph sizes, {MIN_NODES} to {MAX_NODES:,} nodes")  # fmt: skip
    gen.add_argument("--count", type=sample_count, required=True, metavar="K",
                     help="graphs of each size")  # fmt: skip
    gen.add_argument("--regime", choices=tuple(REGIMES), default="critical",
                     help="how graphs are drawn (default critical)")  # fmt: skip
    gen.add_argument("-o", "--output", required=True, metavar="FILE.g6",
                     help="graph6 file to write ('-' = stdout)")  # fmt: skip
    gen.add_argument(
        "--jobs", "-j", type=jobs_int, default=os.cpu_count() or 1, metavar="J",
        help="worker processes for the hard regime's exact labels (default: all cores)",
    )  # fmt: skip

    solve = actions.add_parser(
        "solve",
        help="label every graph of a graph6 file exactly, with a checked cycle when Hamiltonian",
        description="Decide for every graph of a graph6 file whether it has a Hamiltonian "
        f"cycle: cheap certificates first, then a dynamic programme (up to {DP_MAX_NODES} "
        "nodes) or a SAT solver. Writes a JSON list, one object per graph in input order. "
        "Resumable: labels go to OUT.partial as they are found, and the same command continues "
        "a stopped run.",
    )
    add_shared_flags(solve, suppress_defaults=True)
    solve.add_argument("source", metavar="FILE.g6", help="graph6 file, one graph a line")
    solve.add_argument("--json", required=True, metavar="OUT", help="labels to write (JSON)")
    solve.add_argument(
        "--time-limit", type=positive_float, default=None, metavar="S",
        help="seconds per graph; a graph not decided by then gets hamiltonian null "
        "(default: no limit)",
    )  # fmt: skip
    solve.add_argument(
        "--jobs", "-j", type=jobs_int, default=os.cpu_count() or 1, metavar="J",
        help="worker processes (default: all cores)",
    )  # fmt: skip
    add_actions(actions, lambda action: add_shared_flags(action, suppress_defaults=True))


def run(args: argparse.Namespace) -> int:
    if args.hamd_command == "generate":
        return _generate(args)
    if args.hamd_command == "solve":
        return _solve(args)
    return run_action(args)


# -- generate ------------------------------------------------------------------------------------


def _generate(args: argparse.Namespace) -> int:
    output = output_file(args.output, "-o", stdout=True)
    repeated = sorted({n for n in args.n if args.n.count(n) > 1})
    if repeated:
        raise MoldojoError(
            f"--n {repeated[0]} is given twice; each size gives its own stream of graphs"
        )
    graphs: list[Graph] = []
    for n in args.n:
        graphs += generate(
            args.regime, n, args.count, seed=args.seed, jobs=args.jobs,
            progress=show_progress(args),
        )  # fmt: skip
    output.write_text(format_graph6(graphs))
    sizes = ", ".join(str(n) for n in args.n)
    summary = (
        f"wrote {output}: {len(graphs):,} {args.regime} graphs ({args.count:,} of each n = "
        f"{sizes}; seed {args.seed})"
    )
    print(summary, file=sys.stderr if output.is_stdout else sys.stdout)
    return 0


# -- solve ---------------------------------------------------------------------------------------


def _solve(args: argparse.Namespace) -> int:
    output = output_file(args.json, "--json")
    records = read_graph6_lines(args.source)
    graphs = [graph for _, graph in records]
    digest = _sha256(args.source)
    log = _partial_path(output)
    labels: dict[int, Label] = {}
    if log is not None and log.exists():
        labels = _resume(log, digest, graphs, args.time_limit)
        if labels:
            print(f"{log}: resuming, {len(labels):,} of {len(graphs):,} graphs already labelled",
                  file=sys.stderr)  # fmt: skip
    todo = [i for i in range(len(graphs)) if i not in labels]
    stream = _open_log(log, digest, len(graphs), args.time_limit, labels)
    try:
        with progress_bar(len(todo), f"solving {args.source}", show_progress(args),
                          unit="graph") as bar:  # fmt: skip
            solved = solve_each(
                [graphs[i] for i in todo], time_limit=args.time_limit, jobs=args.jobs
            )
            for index, label in zip(todo, solved, strict=True):
                labels[index] = label
                if stream is not None:
                    stream.write(json.dumps({"index": index, **label.to_json()}) + "\n")
                    stream.flush()  # a killed run keeps every label written so far
                bar.update(1)
    except KeyboardInterrupt:
        if log is not None:
            print(f"{log}: {len(labels):,} of {len(graphs):,} graphs labelled; run the same "
                  "command again to go on", file=sys.stderr)  # fmt: skip
        raise
    finally:
        if stream is not None:
            stream.close()
    ordered = [labels[i] for i in range(len(graphs))]
    output.write_text(labels_json(ordered))
    if log is not None:
        log.unlink(missing_ok=True)
    if not args.quiet:
        for line in _notes(args.source, records, ordered):
            print(line, file=sys.stderr)
    print(_summary(args.source, ordered))
    print(f"wrote {output}")
    return 0


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _partial_path(output: OutputFile) -> Path | None:
    """Where the resumable log of ``output`` goes: ``OUT.partial`` beside a regular file; none
    for a device or an open descriptor (``/dev/stdout``), which cannot be resumed."""
    if output.path is None or output.descriptor is not None:
        return None
    if output.path.exists() and not output.path.is_file():
        return None
    return output.path.with_name(output.path.name + ".partial")


def _resume(
    log: Path, digest: str, graphs: list[Graph], time_limit: float | None
) -> dict[int, Label]:
    """The labels a stopped run left in ``log``.

    A run of another input is an error (its labels are not these graphs'). A label whose
    ``hamiltonian`` is null is dropped when the time limit changed, so that it is tried again;
    a line that cannot be read (the last one, cut by a kill) is dropped, and its graph solved
    again; a cycle is checked again before it is trusted.

    Raises:
        MoldojoError: ``log`` is not such a log, or was left by a run on a different input.
    """
    try:
        lines = log.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise MoldojoError(f"{log}: cannot read this resume log ({error}); delete it") from None
    header = _json_line(lines[0]) if lines else None
    if not isinstance(header, dict) or header.get("format") != _PARTIAL_FORMAT:
        raise MoldojoError(
            f"{log}: not a resume log of 'moldojo hamd solve'; delete it or write elsewhere"
        )
    if header.get("input_sha256") != digest or header.get("graphs") != len(graphs):
        raise MoldojoError(
            f"{log}: left by a run on a different input (its sha256 differs); delete it to "
            "start over, or write --json elsewhere"
        )
    same_limit = header.get("time_limit") == time_limit
    labels: dict[int, Label] = {}
    dropped = 0
    for text in lines[1:]:
        entry = _json_line(text)
        label = _entry_label(entry, graphs)
        if label is None:
            dropped += 1
        elif label.hamiltonian is not None or same_limit:
            labels[entry["index"]] = label  # type: ignore[index]
    if dropped:
        logger.warning("%s: %d unreadable line(s) dropped; their graphs are solved again",
                       log, dropped)  # fmt: skip
    return labels


def _json_line(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _entry_label(entry: Any, graphs: list[Graph]) -> Label | None:
    """The label of one log line, or ``None`` when it is not a valid one for ``graphs``."""
    if not isinstance(entry, dict):
        return None
    index = entry.get("index")
    if not isinstance(index, int) or not 0 <= index < len(graphs):
        return None
    try:
        label = Label.from_json(entry)
    except (KeyError, TypeError, ValueError):
        return None
    graph = graphs[index]
    if label.n != graph.n or label.hamiltonian not in (True, False, None):
        return None
    if label.hamiltonian is True and (label.cycle is None or cycle_problem(graph, label.cycle)):
        return None
    return label


def _open_log(
    log: Path | None,
    digest: str,
    count: int,
    time_limit: float | None,
    labels: dict[int, Label],
) -> TextIO | None:
    """Start the resume log afresh: its header, then the labels kept from a stopped run (so that
    a cut last line or a changed time limit leaves nothing behind), written whole and moved into
    place; then open it for appending."""
    if log is None:
        return None
    header = {
        "format": _PARTIAL_FORMAT,
        "version": _PARTIAL_VERSION,
        "input_sha256": digest,
        "graphs": count,
        "time_limit": time_limit,
    }
    lines = [json.dumps(header)]
    lines += [json.dumps({"index": i, **labels[i].to_json()}) for i in sorted(labels)]
    OutputFile(str(log), "--json", log).write_text("\n".join(lines) + "\n")
    return open(log, "a", encoding="utf-8")  # noqa: SIM115 (closed by the caller's finally)


def _notes(source: str, records: list[tuple[int, Graph]], labels: list[Label]) -> list[str]:
    """One line per kind of input that is legal graph6 but no real question (too few nodes,
    disconnected): how many, which lines."""
    out = []
    for method, why in _NOTES.items():
        lines = [line for (line, _), label in zip(records, labels, strict=True)
                 if label.method == method]  # fmt: skip
        if lines:
            shown = ", ".join(str(line) for line in lines[:_SHOWN_LINES])
            more = ", ..." if len(lines) > _SHOWN_LINES else ""
            out.append(f"{source}: {len(lines):,} graph(s) {why}: line {shown}{more}")
    return out


def _summary(source: str, labels: list[Label]) -> str:
    answers = Counter(label.hamiltonian for label in labels)
    methods = Counter(label.method for label in labels)
    by_method = ", ".join(f"{method} {count:,}" for method, count in methods.most_common())
    seconds = sum(label.seconds for label in labels)
    undecided = f", {answers[None]:,} undecided (time limit)" if answers[None] else ""
    return (
        f"{source}: {len(labels):,} graphs, {answers[True]:,} Hamiltonian, {answers[False]:,} "
        f"not{undecided}; by method: {by_method}; {seconds:.1f} s of solving"
    )
