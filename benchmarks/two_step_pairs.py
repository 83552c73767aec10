"""Two-step VAE: where step 2 goes wrong, pair by pair, on held-out molecules.

    python benchmarks/two_step_pairs.py RUN_DIR [RUN_DIR ...] [--data moses-mini:valid] [-n 300]

For each run, the first ``-n`` molecules of ``--data`` are encoded to the posterior mean and
decoded teacher-forced: step 1 from ``z`` (is the whole bag of atoms right?), step 2 given the
*true* bag (every pair of atoms classified none / single / double / triple, argmax, no valence
constraint). Prints, per run: bags right; molecules with every pair right; wrong pairs per
molecule, split into false bonds (a bond predicted where there is none), missed bonds and wrong
orders; the mean probability given to the true class of bonded and unbonded pairs. The split
says what holds reconstruction back: one wrong pair in ~230 is enough to miss a molecule.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import moldojo
from moldojo.data import load_dataset
from moldojo.models.two_step.atom_types import order_graphs, type_ranks
from moldojo.models.two_step.task import two_step_batch
from moldojo.nn.scatter import scatter_sum


@torch.no_grad()
def pair_figures(run: str, data: str, count: int) -> dict[str, float]:
    generator = moldojo.load(run)
    model = generator.model.eval()
    graphs = load_dataset(data).graphs
    graphs = graphs.select(np.arange(min(count, len(graphs))))
    ordered = order_graphs(graphs, generator.atom_types)
    rows = np.arange(len(ordered))
    batch = two_step_batch(ordered, type_ranks(ordered.graphs), rows, generator)
    mu, _ = model.encode(batch.graph, batch.rank)
    bag_right = (model.count_logits(mu).argmax(-1) == batch.counts).all(dim=1)
    logits, src, _, first = model.bond_logits(mu, batch.node_type, batch.graph.ptr)
    labels = torch.zeros_like(src)
    u, v = batch.bonds
    labels[first[u] + (v - u - 1)] = batch.bond_order
    pred = logits.argmax(-1)
    probability = logits.softmax(-1).gather(1, labels[:, None]).squeeze(1)
    molecule = batch.graph.batch.index_select(0, src)
    n = len(rows)

    def per_molecule(mask: torch.Tensor) -> torch.Tensor:
        return scatter_sum(mask.float(), molecule, n)

    false_bond = per_molecule((pred > 0) & (labels == 0))
    missed = per_molecule((pred == 0) & (labels > 0))
    wrong_order = per_molecule((pred > 0) & (labels > 0) & (pred != labels))
    wrong = false_bond + missed + wrong_order
    bonded = labels > 0
    return {
        "molecules": n,
        "pairs per molecule": float(len(src) / n),
        "bags right": float(bag_right.float().mean()),
        "every pair right": float((wrong == 0).float().mean()),
        "wrong pairs per molecule": float(wrong.mean()),
        "false bonds per molecule": float(false_bond.mean()),
        "missed bonds per molecule": float(missed.mean()),
        "wrong orders per molecule": float(wrong_order.mean()),
        "p(true class), bonded pairs": float(probability[bonded].mean()),
        "p(true class), unbonded pairs": float(probability[~bonded].mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--data", default="moses-mini:valid")
    parser.add_argument("-n", type=int, default=300)
    args = parser.parse_args()
    figures = {run: pair_figures(run, args.data, args.n) for run in args.runs}
    keys = list(next(iter(figures.values())))
    print("| figure | " + " | ".join(figures) + " |")
    print("|---|" + "---:|" * len(figures))
    for key in keys:
        cells = [f"{f[key]:.3f}" if isinstance(f[key], float) else f"{f[key]}"
                 for f in figures.values()]  # fmt: skip
        print(f"| {key} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
