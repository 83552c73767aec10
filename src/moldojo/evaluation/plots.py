"""Pictures of molecules and of their properties: histograms of generated vs. reference
property distributions (PNG bytes, matplotlib), grids of drawn molecules and a molecule coloured
by motif beside its motif tree (RDKit); the CLI and the web explorer write or send them."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from rdkit import Chem

from moldojo.chem.motifs import MotifTree

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["draw_motif_tree", "format_tree", "molecule_grid_image", "property_histogram_pngs"]

# Motif colours (RGB, 0-1) of draw_motif_tree: distinct pastels, reused in order when a tree has
# more motifs.
PALETTE: tuple[tuple[float, float, float], ...] = (
    (0.55, 0.75, 0.95), (0.98, 0.70, 0.45), (0.60, 0.87, 0.55), (0.95, 0.55, 0.60),
    (0.78, 0.65, 0.92), (0.95, 0.85, 0.40), (0.50, 0.85, 0.85), (0.90, 0.62, 0.85),
    (0.75, 0.75, 0.60), (0.65, 0.80, 0.70), (0.98, 0.60, 0.35), (0.70, 0.70, 0.95),
)  # fmt: skip

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


def format_tree(tree: MotifTree) -> list[str]:
    """The tree as indented text: one line per motif, children under their parent."""
    lines = []

    def visit(i: int, depth: int) -> None:
        node = tree.nodes[i]
        where = ""
        if node.parent >= 0:
            where = f"  (atom {node.attach_atom} on parent atom {node.parent_atom})"
        unknown = "  [not in vocabulary]" if not node.known else ""
        lines.append(f"{'  ' * depth}#{i} {node.kind} {node.config}{where}{unknown}")
        for child in node.children:
            visit(child, depth + 1)

    visit(0, 0)
    if tree.fallback:
        lines.append(f"fallback: {tree.fallback} acyclic pieces split into bonds")
    return lines


def draw_motif_tree(
    mol: Chem.Mol, tree: MotifTree, *, mol_size: int = 520, cell: tuple[int, int] = (190, 150)
) -> Image.Image:
    """The molecule with each motif's atoms and bonds in its colour, next to its motif tree.

    Shared atoms take their parent motif's colour. Tree nodes are the motifs drawn alone, their
    attachment atoms highlighted, framed in their colour and joined parent to child.
    """
    from PIL import Image, ImageDraw  # drawing only: not paid for by the other commands
    from rdkit.Chem.Draw import rdMolDraw2D

    colour = [PALETTE[i % len(PALETTE)] for i in range(len(tree))]
    atom_colours: dict[int, tuple[float, float, float]] = {}
    bond_colours: dict[int, tuple[float, float, float]] = {}
    for i, node in enumerate(tree.nodes):
        atoms = set(node.atoms)
        for a in node.atoms:
            atom_colours.setdefault(a, colour[i])
        for bond in mol.GetBonds():
            if bond.GetBeginAtomIdx() in atoms and bond.GetEndAtomIdx() in atoms:
                bond_colours.setdefault(bond.GetIdx(), colour[i])
    drawer = rdMolDraw2D.MolDraw2DCairo(mol_size, mol_size)
    options = drawer.drawOptions()
    options.addAtomIndices = mol.GetNumAtoms() <= 60
    drawer.DrawMolecule(
        mol,
        highlightAtoms=list(atom_colours),
        highlightAtomColors=atom_colours,
        highlightBonds=list(bond_colours),
        highlightBondColors=bond_colours,
    )
    drawer.FinishDrawing()
    left = _png(drawer.GetDrawingText())

    # Tidy layout: leaves take consecutive columns, a parent sits above its children's middle.
    column: dict[int, float] = {}
    depth = {0: 0}
    next_leaf = [0]

    def place(i: int) -> None:
        for child in tree.nodes[i].children:
            depth[child] = depth[i] + 1
            place(child)
        children = tree.nodes[i].children
        if children:
            column[i] = (column[children[0]] + column[children[-1]]) / 2
        else:
            column[i] = next_leaf[0]
            next_leaf[0] += 1

    place(0)
    width, height = cell
    gap = 40
    tree_w = int(next_leaf[0] * width)
    tree_h = int((max(depth.values()) + 1) * (height + gap))
    right = Image.new("RGB", (tree_w, tree_h), "white")
    pen = ImageDraw.Draw(right)
    centre = {
        i: (int(column[i] * width + width / 2), int(depth[i] * (height + gap) + height / 2))
        for i in column
    }
    for parent, child in tree.edges:
        pen.line([centre[parent], centre[child]], fill=(90, 90, 90), width=3)
    for i, node in enumerate(tree.nodes):
        x, y = centre[i]
        box = (x - width // 2 + 6, y - height // 2, x + width // 2 - 6, y + height // 2)
        tile = _motif_tile(node.config, colour[i], (box[2] - box[0] - 8, box[3] - box[1] - 24))
        rgb = tuple(int(255 * c) for c in colour[i])
        pen.rectangle(box, fill="white", outline=rgb, width=4)
        right.paste(tile, (box[0] + 4, box[1] + 4))
        label = f"#{i} {node.smiles}" if len(node.smiles) <= 24 else f"#{i} {node.kind}"
        pen.text((box[0] + 6, box[3] - 18), label, fill=(0, 0, 0))

    canvas = Image.new("RGB", (left.width + right.width, max(left.height, right.height)), "white")
    canvas.paste(left, (0, (canvas.height - left.height) // 2))
    canvas.paste(right, (left.width, (canvas.height - right.height) // 2))
    return canvas


def _motif_tile(
    config: str, colour: tuple[float, float, float], size: tuple[int, int]
) -> Image.Image:
    from rdkit.Chem.Draw import rdMolDraw2D

    motif = Chem.MolFromSmiles(config)
    marked = [a.GetIdx() for a in motif.GetAtoms() if a.GetAtomMapNum()]
    for atom in motif.GetAtoms():
        atom.SetAtomMapNum(0)
    drawer = rdMolDraw2D.MolDraw2DCairo(max(size[0], 40), max(size[1], 40))
    drawer.DrawMolecule(
        motif, highlightAtoms=marked, highlightAtomColors=dict.fromkeys(marked, colour)
    )
    drawer.FinishDrawing()
    return _png(drawer.GetDrawingText())


def _png(data: bytes) -> Image.Image:
    from PIL import Image

    return Image.open(io.BytesIO(data)).convert("RGB")
