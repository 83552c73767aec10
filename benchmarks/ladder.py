"""The ladder from atoms to the full hierarchy, measured rung by rung (accuracy against size).

    python benchmarks/ladder.py train --data NAME|FILE --out DIR --epochs E
        [--rungs two-step,atom,...] [--cores 0,1] [--max-minutes M] [--seed 0] [--set K=V ...]
    python benchmarks/ladder.py eval --out DIR --test NAME:SPLIT|FILE [--reconstruct 1000]
        [--samples 1000] [--bits-only] [--train NAME:SPLIT|FILE] [--rungs atom,...]
        [--json OUT] [--plot OUT.png]

The argument the hierarchical model rests on: a decoder that adds one atom at a time faces more
bonding decisions as molecules grow; a tree of motifs (each new motif has one neighbour, its
parent) removes most of them; the atoms of each motif in its representation help; predicting
each motif's attachment configuration before the attachment atoms removes most of what is left.

``train`` trains every rung on the same data with the same seed, hidden and latent sizes and the
same number of epochs (so the same training molecules seen), two at a time by default, each on
one core with one thread (``taskset``). A rung already trained is skipped; one stopped by
``--max-minutes`` is resumed by the next call. Rungs:

========== ====================================================================
two-step   the one-shot VAE (bag of atoms, then every pair at once)
atom       the autoregressive atom-by-atom VAE
hier-00    motif tree: ``hier.atom_level=false``, ``hier.attachment_configs=false``
hier-10    + the atoms of each motif: ``hier.atom_level=true``
hier       + attachment configurations: today's model (root readout, ancestry edges)
hier-mean  the full model with ``hier.readout="mean"``
hier-tree  the full model with ``hier.motif_edges="tree"``
========== ====================================================================

``eval`` measures every trained rung with one protocol: reconstruction accuracy (posterior mean,
greedy, canonical SMILES without stereo) overall and by heavy-atom bins; validity of
``--samples`` prior samples, constrained and raw (for the models that decode both ways),
uniqueness and novelty; training molecules/s (steps only) and parameters; and the *decision
complexity*: the bits of the choices the decoder faces when it rebuilds each test molecule,
``sum(log2(options))`` over its teacher-forced decisions (valence masks applied where the model
applies them), by size:

* atom: each atom type or stop, each neighbour or stop, each bond order;
* hier: each stop-or-expand (1 bit), each motif (``log2`` of the vocabulary), each configuration
  among its motif's, each attachment pair among the candidates;
* two-step: the count of every atom type, and every pair of the bag's atoms (no bond or three
  orders: 2 bits).

and the *coding bits*: each model's own teacher-forced cost of the molecule, ``-log2 p(x | z)``
with ``z`` drawn from the posterior (its loss without the KL term), and the KL in bits beside it.
Decision bits count the options; coding bits say how well a trained decoder chooses among them,
and they keep measuring when reconstruction is still zero everywhere (see ``decisions``).

Several ``eval`` calls with ``--rungs`` may share one ``--json`` (two cores measure twice as
fast): each keeps the rungs the file already holds, and the plot and tables show them all.
``--bits-only`` skips reconstruction (it still counts the molecules that do not encode) and
``--samples 0`` the prior samples, for runs whose greedy decoding would take too long; a run
stopped before it wrote ``model.pt`` is measured from ``checkpoints/last.pt``.

Writes a JSON and a plot of accuracy and bits against size, one line per rung, and prints
Markdown tables for BENCHMARKS.md.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

import moldojo
from hier import BINS, heavy_atoms, run_figures, table
from moldojo.data import load_dataset
from moldojo.data.packed import PackedGraphs
from moldojo.evaluation.training import training_set
from moldojo.models.task import stereo_blind

RUNGS: dict[str, list[str]] = {
    "two-step": ["--model", "two-step", "--set", "two_step.hidden_dim=128",
                 "--set", "two_step.latent_dim=32"],
    "atom": ["--model", "atom", "--set", "atom.hidden_dim=128", "--set", "atom.latent_dim=32"],
    "hier-00": ["--model", "hier", "--set", "hier.atom_level=false",
                "--set", "hier.attachment_configs=false"],
    "hier-10": ["--model", "hier", "--set", "hier.atom_level=true",
                "--set", "hier.attachment_configs=false"],
    "hier": ["--model", "hier"],
    "hier-mean": ["--model", "hier", "--set", 'hier.readout="mean"'],
    "hier-tree": ["--model", "hier", "--set", 'hier.motif_edges="tree"'],
}  # fmt: skip


# -- train ---------------------------------------------------------------------------------------


def _claim(out: Path, rungs: list[str]) -> str | None:
    """The first rung neither done nor being trained by a live process (several ``train``
    calls may share ``out``), marked as ours; None when there is none."""
    for rung in rungs:
        lock = out / f"{rung}.lock"
        if (out / rung / "done").exists():
            continue
        if lock.exists():
            try:
                os.kill(int(lock.read_text()), 0)
                continue  # trained elsewhere right now
            except (ProcessLookupError, ValueError):
                pass  # a stale lock
        lock.write_text(str(os.getpid()))
        return rung
    return None


def train(args: argparse.Namespace) -> None:
    """Every rung, ``len(cores)`` at a time, each pinned to one core with one thread."""
    args.out.mkdir(parents=True, exist_ok=True)
    todo = list(args.rungs)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    running: dict[int, tuple[str, subprocess.Popen, float]] = {}
    while todo or running:
        for core in args.cores:
            if core in running or not todo:
                continue
            rung = _claim(args.out, todo)
            if rung is None:
                todo = []
                continue
            todo.remove(rung)
            run = args.out / rung
            budget = ["--epochs", str(args.epochs)]
            if args.max_minutes:
                budget += ["--max-minutes", str(args.max_minutes)]
            if (run / "config.toml").exists():
                command = ["train", "--out", str(run), "--resume", *budget]
            else:
                extra = [x for kv in args.set for x in ("--set", kv)]
                command = ["train", *RUNGS[rung], "--data", args.data, "--out", str(run),
                           "--set", f"seed={args.seed}", "--set", "train.jobs=1", *extra,
                           *budget]  # fmt: skip
            log = (args.out / f"{rung}.log").open("a")
            print(f"[{time.strftime('%H:%M:%S')}] {rung} on core {core}: moldojo "
                  + " ".join(command), flush=True)  # fmt: skip
            process = subprocess.Popen(
                ["taskset", "-c", str(core), sys.executable, "-m", "moldojo", "-q", *command],
                stdout=log, stderr=subprocess.STDOUT, env=env)  # fmt: skip
            running[core] = (rung, process, time.time())
        time.sleep(5)
        for core, (rung, process, start) in list(running.items()):
            if process.poll() is None:
                continue
            del running[core]
            (args.out / f"{rung}.lock").unlink(missing_ok=True)
            minutes = (time.time() - start) / 60
            epochs = run_figures(args.out / rung).get("training_epochs", 0)
            if process.returncode == 0 and epochs >= args.epochs:
                (args.out / rung / "done").write_text(f"{epochs} epochs\n")
            print(f"[{time.strftime('%H:%M:%S')}] {rung}: exit {process.returncode} after "
                  f"{minutes:.1f} min, {epochs} of {args.epochs} epochs", flush=True)  # fmt: skip


# -- decision complexity and coding cost ---------------------------------------------------------

CHUNK = 64  # molecules per teacher-forced batch (the atom model's polymers need the memory)


def _by_molecule(bits: torch.Tensor, molecule: torch.Tensor, num: int) -> np.ndarray:
    return torch.zeros(num, dtype=torch.float64).index_add_(0, molecule, bits.double()).numpy()


def atom_batches(model, smiles: list[str]) -> Iterator[tuple[list[str], Any]]:
    """The teacher-forced batches of the molecules the atom-by-atom decoder can build."""
    from moldojo.models.atom import collate, ordered

    alphabet, names, graphs = model.alphabet, [], []
    for s, record in zip(smiles, model._prepare(smiles, 1), strict=True):
        graph = None if isinstance(record, str) else ordered(record)
        if graph is None or graph.num_atoms > alphabet.max_atoms:
            continue
        if (alphabet.type_ids({"atomic_num": graph.atomic_num,
                               "formal_charge": graph.formal_charge}) < 0).any():  # fmt: skip
            continue
        names.append(s)
        graphs.append(graph)
    if not graphs:
        return
    packed = PackedGraphs.from_graphs(graphs)
    type_ids = alphabet.type_ids(packed.atoms)
    for start in range(0, len(graphs), CHUNK):
        rows = np.arange(start, min(start + CHUNK, len(graphs)))
        yield names[start : start + CHUNK], collate(packed, type_ids, rows, alphabet, model.spec)


def atom_bits(model, names: list[str], b) -> np.ndarray:
    """Bits of the atom-by-atom decoder's choices: each atom type or stop, each neighbour or
    stop, each bond order, among what its masks allow."""
    num = len(names)
    atom = torch.log2(b.atom_ok.sum(1).double())
    options = torch.zeros(len(b.nb_target), dtype=torch.float64)
    options.index_add_(0, b.cand_dec, b.cand_ok.double())
    neighbour = torch.log2(options + b.nb_stop_ok.double())
    bond = torch.log2(b.bond_ok.sum(1).double())
    return (_by_molecule(atom, b.atom_mol, num) + _by_molecule(neighbour, b.nb_mol, num)
            + _by_molecule(bond, b.nb_mol[b.bond_dec], num))  # fmt: skip


def hier_batches(model, smiles: list[str]) -> Iterator[tuple[list[str], Any]]:
    """The teacher-forced batches of the molecules the hierarchical model can encode."""
    from moldojo.models.hier import RecordPack, make_records, to_batch

    records = make_records(smiles, model.tables, model.graph_config, model.model.config)
    kept = [(s, r) for s, r in zip(smiles, records, strict=True) if not isinstance(r, str)]
    pack = RecordPack([r for _, r in kept])
    configs = model.model.config.attachment_configs
    for start in range(0, len(kept), CHUNK):
        rows = np.arange(start, min(start + CHUNK, len(kept)))
        yield [kept[i][0] for i in rows], to_batch(pack, rows, model.tables, configs)


def hier_bits(model, names: list[str], b) -> np.ndarray:
    """Bits of the hierarchical decoder's choices: each stop-or-expand, each motif, each
    configuration among its motif's, each attachment pair among the candidates."""
    num = len(names)
    ev_mol = b.pt_node_mol[b.ev_top]
    stop = torch.ones(len(ev_mol), dtype=torch.float64)
    motif_mol = torch.cat([torch.arange(num), b.ce_top_mol])
    motif = torch.full((len(motif_mol),), math.log2(model.tables.num_motifs))
    total = _by_molecule(stop, ev_mol, num) + _by_molecule(motif, motif_mol, num)
    if model.model.config.attachment_configs:
        count = torch.bincount(b.config_row, minlength=len(motif_mol)).double()
        total += _by_molecule(torch.log2(count.clamp(min=1)), motif_mol, num)
    pairs = torch.bincount(b.pair_event, minlength=len(b.ce_top)).double()
    return total + _by_molecule(torch.log2(pairs.clamp(min=1)), b.ce_top_mol, num)


def two_step_batches(model, smiles: list[str]) -> Iterator[tuple[list[str], Any]]:
    """The teacher-forced batches of the molecules of the one-shot model's atom types."""
    from moldojo.models.two_step.task import StreamedGraphs

    graphs = StreamedGraphs(smiles, model)
    names = [s for i, s in enumerate(smiles) if graphs.graph(i) is not None]
    for start in range(0, len(names), CHUNK):
        chunk = names[start : start + CHUNK]
        yield chunk, StreamedGraphs(chunk, model).batch(np.arange(len(chunk)))


def two_step_bits(model, names: list[str], b) -> np.ndarray:
    """Bits of the one-shot decoder's choices: every type's count, every pair's bond (no bond
    or three orders: 2 bits)."""
    types = model.atom_types
    bag = len(types) * math.log2(types.max_count + 1)
    n = np.asarray([heavy_atoms(s) for s in names], np.float64)
    return bag + 2.0 * n * (n - 1) / 2


FAMILIES = {"atom": (atom_batches, atom_bits), "hier": (hier_batches, hier_bits),
            "two-step": (two_step_batches, two_step_bits)}  # fmt: skip


@torch.no_grad()
def decisions(model, smiles: list[str], seed: int) -> dict[str, tuple[float, float, float]]:
    """``(decision bits, coding bits, KL bits)`` of each molecule the model can take.

    *Coding bits* are the model's own teacher-forced cost of the molecule, its training loss
    without the KL term, in bits: ``-log2 p(x | z)`` with ``z`` drawn from ``q(z | x)`` (one
    draw, seeded); adding the KL bits gives the negative ELBO, an upper bound on
    ``-log2 p(x)``. Every rung codes the same molecule in the same canonical order, so these
    compare across rungs where exact reconstruction is still zero. The losses are means over
    batches of ``CHUNK`` molecules, so each molecule gets its batch's mean: exact for the mean
    over any set of whole batches, and :func:`evaluate` batches each size bin apart. The
    one-shot model's bond loss is computed unweighted here (its training weights are a class
    balance, not a probability).
    """
    batches, bits_of = FAMILIES[model.kind]
    network = model.model
    weights = getattr(network, "class_weights", None)
    if weights is not None:
        saved = weights.clone()
        weights.fill_(1.0)
    out: dict[str, tuple[float, float, float]] = {}
    try:
        for names, batch in batches(model, smiles):
            bits = bits_of(model, names, batch)
            parts = network.loss(batch.to(model.device), 0.0,
                                 torch.Generator(model.device).manual_seed(seed))  # fmt: skip
            coding = float(parts["loss"]) / math.log(2)
            kl = float(parts["kl"]) / math.log(2)
            out.update((s, (float(b), coding, kl)) for s, b in zip(names, bits, strict=True))
    finally:
        if weights is not None:
            weights.copy_(saved)
    return out


# -- eval ----------------------------------------------------------------------------------------


def evaluate(args: argparse.Namespace) -> None:
    test = load_dataset(args.test, progress=False).smiles[: args.reconstruct]
    targets = [stereo_blind(s) for s in test]
    sizes = np.asarray([heavy_atoms(s) for s in test])
    train_set = training_set(args.train, isomeric=False, progress=False) if args.train else None
    rungs = [r for r in args.rungs if (args.out / r / "model.pt").exists()
             or (args.out / r / "checkpoints" / "last.pt").exists()]  # stopped: its last state
    results: dict[str, dict] = {}
    for rung in rungs:
        run = args.out / rung
        model = moldojo.load(run)
        figures: dict = {"kind": model.kind,
                         "parameters": sum(p.numel() for p in model.model.parameters()),
                         **run_figures(run)}  # fmt: skip
        hits = None  # with --bits-only
        if args.bits_only:
            reasons = model.encode_with_reasons(test).reasons
            figures["not_encoded"] = sum(r is not None for r in reasons)
        else:
            start = time.perf_counter()
            decoded = model.reconstruct(test)
            seconds = time.perf_counter() - start
            pairs = zip(decoded, targets, strict=True)
            hits = np.asarray([d is not None and d == t for d, t in pairs])
            figures["reconstruction"] = float(hits.mean())
            figures["not_encoded"] = sum(r in ("unknown_motif", "invalid_input")
                                         for r in decoded.reasons)  # fmt: skip
            figures["reconstruct_per_s"] = len(test) / seconds
        z = torch.randn(args.samples, model.latent_dim,
                        generator=torch.Generator().manual_seed(args.seed))  # fmt: skip
        for mode in (model.decode_modes or (None,)) if args.samples else ():
            samples = model.decode(z, mode=mode)
            valid = [s for s in samples if s is not None]
            figures["validity" if mode is None else f"validity_{mode}"] = len(valid) / len(z)
            if mode == (model.decode_modes or (None,))[0]:
                unique = set(valid)
                figures["uniqueness"] = len(unique) / len(valid) if valid else 0.0
                if train_set is not None:
                    figures["novelty"] = len(unique - train_set) / len(unique) if unique else 0.0
        measured: dict[str, tuple[float, float, float]] = {}
        bins = []
        for lo, hi in zip(BINS[:-1], BINS[1:], strict=True):
            inside = (sizes >= lo) & (sizes < hi)
            if not inside.any():
                continue
            chosen = [s for s, i in zip(test, inside, strict=True) if i]
            here = decisions(model, chosen, args.seed)  # one bin at a time: see decisions()
            measured.update(here)
            mean = np.mean(list(here.values()), axis=0) if here else np.full(3, np.nan)
            accuracy = None if hits is None else float(hits[inside].mean())
            bins.append({"bin": f"{lo}-{hi - 1}" if hi < 1000 else f"{lo}+",
                         "n": int(inside.sum()), "reconstruction": accuracy,
                         "bits": float(mean[0]), "coding_bits": float(mean[1]),
                         "kl_bits": float(mean[2])})  # fmt: skip
        figures["by_size"] = bins
        mean = np.mean(list(measured.values()), axis=0) if measured else np.full(3, np.nan)
        figures["bits"], figures["coding_bits"], figures["kl_bits"] = map(float, mean)
        results[rung] = figures
        print(f"{rung}: reconstruction {figures.get('reconstruction', float('nan')):.1%}, "
              f"decision bits {figures['bits']:.0f}, coding bits {figures['coding_bits']:.0f}",
              flush=True)  # fmt: skip
    machine = f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}"
    report = {"test": args.test, "n": len(test), "samples": args.samples, "machine": machine,
              "date": time.strftime("%Y-%m-%d"), "rungs": results}  # fmt: skip
    if args.json:
        if args.json.exists():  # other rungs measured by another call: kept, in ladder order
            earlier = json.loads(args.json.read_text())
            if (earlier["test"], earlier["n"], earlier["samples"]) != (args.test, len(test),
                                                                         args.samples):
                raise SystemExit(f"{args.json} holds another protocol's figures; move it first")
            merged = {**earlier["rungs"], **results}
            results = {r: merged[r] for r in RUNGS if r in merged}
            report["rungs"] = results
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))
    print_tables(results)
    if args.plot:
        plot(results, args.plot, f"{Path(args.test).name}, {len(test)} molecules")


def print_tables(results: dict[str, dict]) -> None:
    keys = ["reconstruction", "validity_constrained", "validity_raw", "validity", "uniqueness",
            "novelty", "bits", "coding_bits", "kl_bits", "training_molecules_per_s",
            "training_epochs", "parameters"]
    rows = []
    for rung, f in results.items():
        row: dict = {"rung": rung}
        for k in keys:
            v = f.get(k)
            row[k] = ("-" if v is None else f"{100 * v:.1f}%" if isinstance(v, float) and k in
                      ("reconstruction", "validity_constrained", "validity_raw", "validity",
                       "uniqueness", "novelty") else f"{v:.0f}" if isinstance(v, float)
                      else f"{v:,}" if isinstance(v, int) else str(v))  # fmt: skip
        rows.append(row)
    print(table(rows))
    print()
    for what in ("reconstruction", "bits", "coding_bits"):
        by_bin: dict[str, dict] = {}
        if all(b[what] is None for f in results.values() for b in f["by_size"]):
            continue  # --bits-only
        for rung, f in results.items():
            for b in f["by_size"]:
                by_bin.setdefault(b["bin"], {"bin": b["bin"], "n": b["n"]})[rung] = b[what]
        print(f"{what} by heavy atoms")
        print(table(list(by_bin.values())).replace("nan%", "-") if what == "reconstruction" else
              table([{k: (f"{v:.0f}" if isinstance(v, float) else v) for k, v in r.items()}
                     for r in by_bin.values()]))  # fmt: skip
        print()


def plot(results: dict[str, dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (acc, bits, coding) = plt.subplots(1, 3, figsize=(15, 4.2))
    for rung, f in results.items():
        rows = f["by_size"]
        x = np.arange(len(rows))
        if rows[0]["reconstruction"] is not None:
            acc.plot(x, [100 * r["reconstruction"] for r in rows], marker="o", label=rung)
        bits.plot(x, [r["bits"] for r in rows], marker="o", label=rung)
        coding.plot(x, [r["coding_bits"] for r in rows], marker="o", label=rung)
    for ax, label in ((acc, "reconstruction accuracy (%)"), (bits, "decision bits per molecule"),
                      (coding, "coding bits per molecule (teacher forced)")):  # fmt: skip
        ax.set_xticks(x, [f"{r['bin']}\n(n={r['n']})" for r in rows], fontsize=8)
        ax.set_xlabel("heavy atoms")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    bits.set_yscale("log")
    coding.set_yscale("log")
    acc.set_ylim(-2, 102)
    if acc.lines:
        acc.legend(fontsize=8)
    else:
        bits.legend(fontsize=8)
        acc.text(0.5, 0.5, "not measured (--bits-only)", ha="center", transform=acc.transAxes)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="part", required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", required=True)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--epochs", type=int, required=True)
    t.add_argument("--rungs", type=lambda s: s.split(","), default=list(RUNGS))
    t.add_argument("--cores", type=lambda s: [int(c) for c in s.split(",")], default=[0, 1])
    t.add_argument("--max-minutes", type=float, default=None)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--set", action="append", default=[], help="one more KEY=VALUE for all")
    e = sub.add_parser("eval")
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--test", required=True)
    e.add_argument("--rungs", type=lambda s: s.split(","), default=list(RUNGS),
                   help="the rungs to measure (default: every trained one); with --json, the "
                        "figures of rungs measured earlier into the same file are kept")
    e.add_argument("--reconstruct", type=int, default=1000,
                   help="test molecules reconstructed and measured for bits")
    e.add_argument("--bits-only", action="store_true",
                   help="no reconstruction (only which molecules encode, and their bits): for "
                        "runs whose greedy decoding is too slow to wait for")
    e.add_argument("--samples", type=int, default=1000)
    e.add_argument("--train", help="training molecules, for novelty")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--json", type=Path)
    e.add_argument("--plot", type=Path)
    args = parser.parse_args()
    unknown = [r for r in getattr(args, "rungs", []) if r not in RUNGS]
    if unknown:
        parser.error(f"unknown rungs {unknown}; rungs: {', '.join(RUNGS)}")
    train(args) if args.part == "train" else evaluate(args)


if __name__ == "__main__":
    main()
