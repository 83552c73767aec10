"""Run guacamol 0.5.5's own distribution-learning benchmarks on a file of samples; print JSON.

Runs *inside a throw-away environment* with guacamol installed next to RDKit, NumPy, SciPy, torch
and fcd_torch, never in moldojo's (guacamol pins nothing that moldojo uses, but it is not a
dependency of moldojo):

    python -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install rdkit numpy scipy torch \\
        fcd_torch && /tmp/refvenv/bin/pip install --no-deps guacamol==0.5.5
    /tmp/refvenv/bin/python benchmarks/guacamol_reference.py GEN.smi TRAIN.smi --samples 10000

The file plays the generator, as in :mod:`moldojo.evaluation.guacamol`: every benchmark gets a
fresh reader, and each request for k molecules returns its next k lines (the first
whitespace-separated field; an empty line is ``""``). The training file is one SMILES per line.

guacamol's ``ValidityBenchmark``, ``UniquenessBenchmark``, ``NoveltyBenchmark`` and
``KLDivBenchmark`` run unchanged. Two things are adapted:

* guacamol imports ``scipy.histogram``, which SciPy removed; it was NumPy's ``histogram``, so
  that is put back before guacamol is imported;
* guacamol's ``FrechetBenchmark`` needs the Keras ``fcd`` package. Its logic is replayed here:
  ``sample_valid_molecules(model, n)`` against ``get_random_subset(training, n, seed=42)``, both
  canonicalised by RDKit as ``fcd.canonical_smiles`` does, the activations of fcd_torch's ChemNet
  (the PyTorch port of the same ChemNet_v0.13 weights) without a second canonicalisation, and
  ``exp(-0.2 FCD)``.

Prints the scores, guacamol's metadata (``kl_divs``, counts) and the seconds each step took.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("generated", help="samples, one per line, in generation order")
    parser.add_argument("training", help="training SMILES, one per line")
    parser.add_argument("--samples", type=int, default=10_000, help="number_samples (10000)")
    parser.add_argument("--device", default="cpu", help="where fcd_torch runs ChemNet")
    args = parser.parse_args()

    import scipy

    scipy.histogram = np.histogram  # removed from SciPy; guacamol's chemistry module imports it
    from fcd_torch import FCD
    from guacamol.distribution_learning_benchmark import (
        KLDivBenchmark,
        NoveltyBenchmark,
        UniquenessBenchmark,
        ValidityBenchmark,
    )
    from guacamol.distribution_matching_generator import DistributionMatchingGenerator
    from guacamol.utils.data import get_random_subset
    from guacamol.utils.sampling_helpers import sample_valid_molecules
    from rdkit import Chem

    with open(args.generated) as handle:
        lines = [line.split()[0] if line.split() else "" for line in handle]
    with open(args.training) as handle:
        training = [line.split()[0] for line in handle if line.split()]

    class FileGenerator(DistributionMatchingGenerator):
        """The file as a generator: the next k lines for each request."""

        def __init__(self) -> None:
            self.position = 0

        def generate(self, number_samples: int) -> list[str]:
            chunk = lines[self.position : self.position + number_samples]
            self.position += number_samples
            return chunk

    n = args.samples
    out: dict = {"number_samples": n}
    seconds: dict[str, float] = {}
    metadata: dict[str, dict] = {}
    total = time.perf_counter()
    for key, make in (
        ("validity", lambda: ValidityBenchmark(n)),
        ("uniqueness", lambda: UniquenessBenchmark(n)),
        ("novelty", lambda: NoveltyBenchmark(n, training)),
        ("KL_divergence", lambda: KLDivBenchmark(n, training)),
    ):
        start = time.perf_counter()
        result = make().assess_model(FileGenerator())  # set-up (training set work) included
        seconds[key] = time.perf_counter() - start
        out[key] = float(result.score)
        metadata[key] = result.metadata

    # FrechetBenchmark.assess_model, with fcd_torch's ChemNet in place of Keras fcd's.
    start = time.perf_counter()

    def canonical_smiles(smiles: list[str]) -> list[str]:
        # fcd.canonical_smiles maps an unparsable string to None, which fcd then cannot encode.
        mols = (Chem.MolFromSmiles(s) for s in smiles)
        return [Chem.MolToSmiles(m) for m in mols if m is not None]

    reference = canonical_smiles(get_random_subset(training, n, seed=42))
    generated = canonical_smiles(sample_valid_molecules(model=FileGenerator(), number_molecules=n))
    chemnet = FCD(device=args.device, n_jobs=1, canonize=False)
    distance = float(chemnet(ref=reference, gen=generated))
    out["FCD_score"] = float(np.exp(-0.2 * distance))
    out["FCD"] = distance
    seconds["FCD"] = time.perf_counter() - start
    seconds["total"] = time.perf_counter() - total

    out["kl_divs"] = {k: float(v) for k, v in metadata["KL_divergence"]["kl_divs"].items()}
    out["number_valid"] = metadata["validity"]["number_valid"]
    out["number_unique"] = metadata["uniqueness"]["number_unique"]
    out["number_novel"] = metadata["novelty"]["number_novel"]
    out["fcd_reference"] = len(reference)
    out["fcd_generated"] = len(generated)
    out["seconds"] = seconds
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
