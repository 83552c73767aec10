"""Stereo stress test of the molecule graph: stereoisomers of MOSES molecules, randomised.

    python benchmarks/stereo_roundtrip.py [--molecules 1500] [--isomers 4] [--seed 0]

MOSES and QM9 carry no stereo, so this makes some: for a random sample of MOSES test molecules it
enumerates up to ``--isomers`` stereoisomers each (tetrahedral centres and double bonds), writes
each as a randomised SMILES, and checks in both aromaticity modes that (1) the round trip gives
the isomer's canonical SMILES back and (2) the graph renumbered by a random permutation
(``MolGraph.permute``) still does. Prints the counts and every failure.

Each isomer is re-parsed from its canonical SMILES before randomising: RDKit 2026.09's random
SMILES writer, applied directly to a molecule fresh from ``EnumerateStereoisomers``, can invert a
stereo centre written first with an implicit hydrogen (about 4% of such SMILES), which would be
RDKit's error, not the graph's. Inputs whose own parse disagrees with the isomer are counted
separately as ``bad inputs`` and not checked.

Some isomers (stereo labels on substituted adamantane cages, whose centres depend on each other)
have no unique canonical SMILES in RDKit: RDKit's own random SMILES of the same molecule parse
back to different canonical SMILES. No graph can be exact under renumbering there, so when a
permuted check fails, 200 of RDKit's own random SMILES of the isomer are tried: if they disagree
among themselves, the isomer is counted and listed as ``rdkit-ambiguous`` instead of a failure.
"""

from __future__ import annotations

import argparse
import random
import sys

import numpy as np
from rdkit import Chem
from rdkit.Chem.EnumerateStereoisomers import EnumerateStereoisomers, StereoEnumerationOptions

from moldojo.chem import GraphConfig, graph_to_smiles, mol_to_graph, parse_smiles
from moldojo.data import resolve_one


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecules", type=int, default=1500)
    parser.add_argument("--isomers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    smiles = [text for _, text in resolve_one("moses:test").records()]
    sample = random.Random(args.seed).sample(smiles, args.molecules)
    rng = np.random.default_rng(args.seed)
    options = StereoEnumerationOptions(onlyUnassigned=True, maxIsomers=args.isomers, unique=True)
    isomers = checks = failures = bad_inputs = rdkit_ambiguous = 0
    for text in sample:
        for isomer in EnumerateStereoisomers(Chem.MolFromSmiles(text), options=options):
            isomers += 1
            expected = Chem.MolToSmiles(isomer)
            isomer = Chem.MolFromSmiles(expected)
            randomised = Chem.MolToRandomSmilesVect(isomer, 1, randomSeed=args.seed + isomers)[0]
            if Chem.MolToSmiles(Chem.MolFromSmiles(randomised)) != expected:
                bad_inputs += 1
                continue
            ambiguous = False
            for mode in ("kekulize", "aromatic"):
                config = GraphConfig(aromaticity=mode)
                graph = mol_to_graph(parse_smiles(randomised, config), config)
                permuted = graph.permute(rng.permutation(graph.num_atoms))
                for label, got in (("roundtrip", graph_to_smiles(graph)),
                                   ("permuted", graph_to_smiles(permuted))):  # fmt: skip
                    if got == expected:
                        checks += 1
                        continue
                    if label == "permuted" and (ambiguous or _rdkit_ambiguous(isomer, expected)):
                        ambiguous = True
                        continue
                    checks += 1
                    failures += 1
                    print(f"{label} {mode}: {randomised} -> {got}, expected {expected}")
            if ambiguous:
                rdkit_ambiguous += 1
                print(f"rdkit-ambiguous: {expected}")
    print(f"{args.molecules} MOSES test molecules, {isomers} stereoisomers "
          f"({bad_inputs} bad inputs, {rdkit_ambiguous} rdkit-ambiguous), {checks} checks "
          f"(2 modes x round trip and permuted), {failures} failures")  # fmt: skip
    return 1 if failures else 0


def _rdkit_ambiguous(mol: Chem.Mol, expected: str, tries: int = 200) -> bool:
    """Whether RDKit's canonical SMILES of ``mol`` depends on the order it is written in."""
    variants = Chem.MolToRandomSmilesVect(mol, tries, randomSeed=1)
    return any(Chem.MolToSmiles(Chem.MolFromSmiles(v)) != expected for v in variants)


if __name__ == "__main__":
    sys.exit(main())
