"""The atom-by-atom VAE as a molecule generator: SMILES in, SMILES out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from rdkit import Chem
from torch import Tensor

from moldojo.chem import GraphConfig, mol_to_graph, parse_smiles
from moldojo.chem.smiles import quiet_rdkit
from moldojo.data.features import EDGE_DIM, FeatureSpec, featurize_batch
from moldojo.data.packed import PackedGraphs
from moldojo.errors import InvalidMoleculeError, InvalidSmilesError
from moldojo.models.atom.config import AtomConfig
from moldojo.models.atom.network import AtomVAE, DecodedAtoms
from moldojo.models.atom.records import AtomAlphabet
from moldojo.models.generator import Generator
from moldojo.nn.batch import GraphBatch

__all__ = ["DECODE_MODES", "AtomGenerator", "build_atom", "molecule_smiles"]

#: ``"constrained"``: valence masks on (valid by construction); ``"raw"``: masks off.
DECODE_MODES = ("constrained", "raw")

_BOND = {1: Chem.BondType.SINGLE, 2: Chem.BondType.DOUBLE, 3: Chem.BondType.TRIPLE}


def build_atom(config: AtomConfig, alphabet: AtomAlphabet, graph_config: GraphConfig) -> AtomVAE:
    """A fresh :class:`AtomVAE` sized for ``alphabet`` and the graph features."""
    return AtomVAE(config, node_dim=FeatureSpec(graph_config).node_dim, edge_dim=EDGE_DIM,
                   capacity=list(alphabet.capacity), max_atoms=alphabet.max_atoms)  # fmt: skip


def molecule_smiles(alphabet: AtomAlphabet, types: Sequence[int],
                    bonds: Sequence[tuple[int, int, int]]
                    ) -> tuple[str | None, str | None]:  # fmt: skip
    """``(canonical SMILES, None)`` of decoded atoms and bonds (hydrogens implicit), or
    ``(None, reason)``: ``"empty"``, or ``"valence"`` when RDKit rejects the molecule."""
    if not types:
        return None, "empty"
    mol = Chem.RWMol()
    for t in types:
        atomic_num, charge = alphabet.types[t]
        atom = Chem.Atom(atomic_num)
        atom.SetFormalCharge(charge)
        mol.AddAtom(atom)
    for s, d, order in bonds:
        mol.AddBond(s, d, _BOND[order])
    with quiet_rdkit():
        try:
            Chem.SanitizeMol(mol)
        except (Chem.AtomValenceException, Chem.KekulizeException, ValueError):
            return None, "valence"
        return Chem.MolToSmiles(mol), None


class AtomGenerator(Generator):
    """A trained :class:`AtomVAE` with its atom types and the chemistry around it.

    Decoding modes: ``"constrained"`` (valence masks, the default) or ``"raw"`` (no valence
    masks: validity is the model's own).

    Attributes:
        model: the network (in eval mode).
        alphabet: the atom types it adds.
        graph_config: how SMILES become graphs.
    """

    kind = "atom"
    section = "atom"
    config_class = AtomConfig
    decode_modes = DECODE_MODES
    decoding = "atom by atom"

    def __init__(self, model: AtomVAE, alphabet: AtomAlphabet, graph_config: GraphConfig, *,
                 batch_size: int = 250) -> None:  # fmt: skip
        super().__init__(model, graph_config, batch_size=batch_size)
        self.alphabet = alphabet
        self.spec = FeatureSpec(graph_config)

    @classmethod
    def build(cls, config: AtomConfig, vocabulary: dict[str, Any],
              graph_config: GraphConfig) -> AtomGenerator:  # fmt: skip
        alphabet = AtomAlphabet.from_data(vocabulary["atoms"])
        return cls(build_atom(config, alphabet, graph_config), alphabet, graph_config)

    def vocabulary(self) -> dict[str, Any]:
        return {"atoms": self.alphabet.to_data()}

    def _prepare(self, smiles: Sequence[str], jobs: int) -> list[Any]:
        out: list[Any] = []
        with quiet_rdkit():
            for text in smiles:
                try:
                    out.append(mol_to_graph(parse_smiles(text, self.graph_config),
                                            self.graph_config))  # fmt: skip
                except (InvalidSmilesError, InvalidMoleculeError):
                    out.append("invalid_input")
        return out

    def _encode(self, records: list[Any]) -> tuple[Tensor, Tensor]:
        packed = PackedGraphs.from_graphs(records)
        arrays = featurize_batch(packed, range(len(packed)), self.spec)
        return self.model.encode(GraphBatch.from_arrays(arrays, self.device))

    def _decode(self, z: Tensor, temperature: float, generator: torch.Generator | None, *,
                mode: str) -> list[tuple[str | None, str | None]]:  # fmt: skip
        decoded = self.model.decode(z, temperature=temperature, generator=generator,
                                    constrained=mode == "constrained")  # fmt: skip
        return self.to_smiles(decoded)

    def to_smiles(self, decoded: DecodedAtoms) -> list[tuple[str | None, str | None]]:
        """``(smiles, reason)`` of each decoded molecule; too large ones are ``"too_large"``."""
        out = []
        for types, bonds, large in zip(decoded.types, decoded.bonds, decoded.too_large,
                                       strict=True):  # fmt: skip
            smiles, reason = molecule_smiles(self.alphabet, types, bonds)
            out.append((None, "too_large") if large else (smiles, reason))
        return out
