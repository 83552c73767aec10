"""Reconstruction accuracy: how many inputs come back exactly after encoding and decoding.

The protocol of the VAE papers (JT-VAE, HierVAE): an input counts as reconstructed when the
decoded molecule's canonical SMILES equals the input's. Two variants, always stated:
``stereo=True`` compares isomeric canonical SMILES (stereocentres and double-bond geometry must
come back); ``stereo=False`` compares them with stereo removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rdkit import Chem

from moldojo.chem.smiles import quiet_rdkit

__all__ = ["ReconstructionResult", "reconstruction_accuracy"]


@dataclass(frozen=True)
class ReconstructionResult:
    """Attributes:
    accuracy: ``matched / n`` (NaN when ``n`` is 0).
    n: valid inputs compared.
    matched: decoded molecules equal to their input.
    invalid_decoded: decodings that failed or gave an invalid molecule (counted as misses).
    invalid_inputs: inputs that did not parse (left out of ``n``).
    stereo: whether stereochemistry had to match.
    """

    accuracy: float
    n: int
    matched: int
    invalid_decoded: int
    invalid_inputs: int
    stereo: bool

    def summary(self) -> str:
        kind = "stereo-aware" if self.stereo else "stereo-blind"
        return f"reconstruction accuracy: {100 * self.accuracy:.1f}% (n={self.n}, {kind})"


def _canonical(smiles: str | None, stereo: bool) -> str | None:
    if not smiles:
        return None
    mol = Chem.MolFromSmiles(smiles)
    return None if mol is None else Chem.MolToSmiles(mol, isomericSmiles=stereo)


def reconstruction_accuracy(
    inputs: Sequence[str], decoded: Sequence[str | None], *, stereo: bool = True
) -> ReconstructionResult:
    """Fraction of valid inputs whose decoding has the same canonical SMILES.

    Args:
        inputs: the molecules that were encoded.
        decoded: what the model decoded for each, ``None`` where decoding failed.
        stereo: compare isomeric SMILES (True) or stereo-blind ones (False).
    """
    if len(inputs) != len(decoded):
        raise ValueError(f"{len(inputs)} inputs but {len(decoded)} decoded molecules")
    n = matched = invalid_decoded = invalid_inputs = 0
    with quiet_rdkit():
        for original, result in zip(inputs, decoded, strict=True):
            want = _canonical(original, stereo)
            if want is None:
                invalid_inputs += 1
                continue
            n += 1
            got = _canonical(result, stereo)
            if got is None:
                invalid_decoded += 1
            elif got == want:
                matched += 1
    accuracy = matched / n if n else float("nan")
    return ReconstructionResult(accuracy, n, matched, invalid_decoded, invalid_inputs, stereo)
