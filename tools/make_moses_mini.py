"""Rebuild the embedded ``moses-mini`` dataset from the MOSES splits in the molsets wheel.

    python tools/make_moses_mini.py

Draws, with a fixed seed, 55,000 molecules from MOSES train (the first 50,000 become
``train``, the next 5,000 ``valid``) and 5,000 from MOSES test, and writes them, in the order
drawn, to ``src/moldojo/data/embedded/moses_mini_{train,valid,test}.smi.gz``. The output is
byte-for-byte reproducible (gzip without timestamps).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from moldojo.data.sources import resolve_one

SEED = 20_260_101
SIZES = {"train": 50_000, "valid": 5_000, "test": 5_000}
OUT = Path(__file__).resolve().parents[1] / "src" / "moldojo" / "data" / "embedded"


def main() -> None:
    rng = np.random.default_rng(SEED)
    train = [text for _, text in resolve_one("moses:train").records()]
    test = [text for _, text in resolve_one("moses:test").records()]
    drawn = rng.choice(len(train), SIZES["train"] + SIZES["valid"], replace=False)
    splits = {
        "train": [train[i] for i in drawn[: SIZES["train"]]],
        "valid": [train[i] for i in drawn[SIZES["train"] :]],
        "test": [test[i] for i in rng.choice(len(test), SIZES["test"], replace=False)],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    for name, smiles in splits.items():
        path = OUT / f"moses_mini_{name}.smi.gz"
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
            handle.write(("\n".join(smiles) + "\n").encode())
        print(f"{path.name}: {len(smiles)} molecules, {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
