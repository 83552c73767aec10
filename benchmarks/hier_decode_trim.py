"""Greedy decoding of the hierarchical VAE with the decoder MotifMPN trimmed to the top motifs
(the default) against the whole network at every step: time and molecules, one model, one run.

    python benchmarks/hier_decode_trim.py RUN_DIR --test NAME:SPLIT|FILE [-n 100]

Reconstructs the first ``-n`` molecules of ``--test`` both ways, in alternating order (trimmed,
whole, trimmed, whole), and prints the best time of each, their ratio and whether every decoded
molecule is the same.
"""

from __future__ import annotations

import argparse
import time

import moldojo
from moldojo.data import load_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a hierarchical model's run folder")
    parser.add_argument("--test", required=True)
    parser.add_argument("-n", type=int, default=100)
    args = parser.parse_args()
    model = moldojo.load(args.run)
    smiles = load_dataset(args.test, progress=False).smiles[: args.n]
    seconds: dict[bool, list[float]] = {True: [], False: []}
    decoded: dict[bool, list] = {}
    for trim in (True, False, True, False):
        model.model.trim = trim
        start = time.perf_counter()
        decoded[trim] = list(model.reconstruct(smiles))
        seconds[trim].append(time.perf_counter() - start)
    model.model.trim = True
    cut, whole = min(seconds[True]), min(seconds[False])
    print(f"{len(smiles)} molecules of {args.test}, greedy reconstruction")
    print(f"| decoder MotifMPN | seconds | molecules/s |\n|---|---:|---:|\n"
          f"| whole, every step | {whole:.1f} | {len(smiles) / whole:.1f} |\n"
          f"| trimmed to the top motifs | {cut:.1f} | {len(smiles) / cut:.1f} |")  # fmt: skip
    print(f"speed-up {whole / cut:.2f}x; same molecules: {decoded[True] == decoded[False]}")


if __name__ == "__main__":
    main()
