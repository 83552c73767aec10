"""Pictures of molecules and of their properties: histograms of generated vs. reference
property distributions (PNG bytes, matplotlib) and grids of drawn molecules (RDKit); the CLI
writes them through its output helper."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["molecule_grid_image", "property_histogram_pngs"]

_TITLES = {"QED": "QED", "logP": "logP (Crippen)", "SA": "SA score", "weight": "molecular weight"}


def property_histogram_pngs(
    generated: Mapping[str, np.ndarray],
    reference: Mapping[str, np.ndarray],
    *,
    reference_name: str = "reference",
) -> dict[str, bytes]:
    """Overlaid density histograms (shared bins) of each property present in both mappings,
    as PNG bytes by property; the caller writes them (``evaluate --plots``)."""
    import io

    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    pngs = {}
    for key, title in _TITLES.items():
        if key not in generated or key not in reference:
            continue
        gen = np.asarray(generated[key], dtype=float)
        ref = np.asarray(reference[key], dtype=float)
        gen, ref = gen[np.isfinite(gen)], ref[np.isfinite(ref)]
        if len(gen) == 0 or len(ref) == 0:
            continue
        both = np.concatenate([gen, ref])
        bins = np.linspace(np.quantile(both, 0.001), np.quantile(both, 0.999), 60)
        figure, axes = plt.subplots(figsize=(5, 3.5), dpi=120)
        axes.hist(ref, bins=bins, density=True, alpha=0.5, label=f"{reference_name} (n={len(ref)})")
        axes.hist(gen, bins=bins, density=True, alpha=0.5, label=f"generated (n={len(gen)})")
        axes.set_xlabel(title)
        axes.set_ylabel("density")
        axes.legend(frameon=False, fontsize=8)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
        pngs[key] = buffer.getvalue()
    return pngs


def molecule_grid_image(smiles: list[str], *, n: int = 24, per_row: int = 6) -> Image.Image:
    """The first ``n`` parseable molecules of ``smiles`` in a grid, each under its SMILES."""
    from rdkit import Chem
    from rdkit.Chem import Draw

    from moldojo.chem.smiles import quiet_rdkit

    with quiet_rdkit():
        mols = [m for m in (Chem.MolFromSmiles(s) for s in smiles) if m is not None][:n]
    return Draw.MolsToGridImage(mols, molsPerRow=per_row, subImgSize=(250, 200),
                                legends=[Chem.MolToSmiles(m) for m in mols])  # fmt: skip
