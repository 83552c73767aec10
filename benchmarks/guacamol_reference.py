"""Run guacamol 0.5.5's own distribution-learning benchmarks on a file of samples; print JSON.

Runs *inside a throw-away environment* with guacamol installed (``pip install --no-deps
guacamol==0.5.5`` next to RDKit, SciPy, torch and fcd_torch), never in moldojo's:

    ENV/bin/python benchmarks/guacamol_reference.py GEN.smi TRAIN.smi [--samples 10000]

The file plays the generator: each request for k molecules returns its next k lines. One shim:
guacamol imports ``scipy.histogram``, which SciPy removed (it was NumPy's ``histogram``). Its
Fréchet benchmark needs the Keras ``fcd`` package, so the FCD score is computed here as that
benchmark does (``exp(-0.2 FCD)`` of the first n valid samples against the seed-42 training
subset) with fcd_torch, the PyTorch port of the same ChemNet.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("generated")
    parser.add_argument("training")
    parser.add_argument("--samples", type=int, default=10_000)
    args = parser.parse_args()

    import scipy

    scipy.histogram = np.histogram
    from guacamol.distribution_learning_benchmark import (
        KLDivBenchmark,
        NoveltyBenchmark,
        UniquenessBenchmark,
        ValidityBenchmark,
    )
    from guacamol.distribution_matching_generator import DistributionMatchingGenerator
    from guacamol.utils.data import get_random_subset
    from guacamol.utils.sampling_helpers import sample_valid_molecules

    with open(args.generated) as handle:
        lines = [line.split()[0] if line.split() else "" for line in handle]
    with open(args.training) as handle:
        training = [line.strip() for line in handle if line.strip()]

    class FileGenerator(DistributionMatchingGenerator):
        def __init__(self) -> None:
            self.position = 0

        def generate(self, number_samples: int) -> list[str]:
            chunk = lines[self.position : self.position + number_samples]
            self.position += number_samples
            return chunk

    n = args.samples
    start = time.perf_counter()
    out: dict[str, float] = {}
    for key, benchmark in (
        ("validity", ValidityBenchmark(n)),
        ("uniqueness", UniquenessBenchmark(n)),
        ("novelty", NoveltyBenchmark(n, training)),
        ("KL_divergence", KLDivBenchmark(n, training)),
    ):
        out[key] = benchmark.assess_model(FileGenerator()).score

    from fcd_torch import FCD
    from rdkit import Chem

    def canonical(smiles: list[str]) -> list[str]:
        mols = (Chem.MolFromSmiles(s) for s in smiles)
        return [Chem.MolToSmiles(m) for m in mols if m is not None]

    reference = canonical(get_random_subset(training, n, seed=42))
    valid = canonical(sample_valid_molecules(FileGenerator(), n))
    fcd = FCD(device="cpu", n_jobs=1)
    distance = fcd(ref=reference, gen=valid)
    out["FCD_score"] = float(np.exp(-0.2 * distance))
    out["FCD"] = float(distance)
    out["_seconds"] = time.perf_counter() - start
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
