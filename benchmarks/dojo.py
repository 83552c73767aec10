"""The dojo benchmark: every graph layer on penalised logP, and its speed against PyG.

    python benchmarks/dojo.py [--minutes 3] [--layers gcn gat ...]

Same as ``moldojo dojo bench``: prints the Markdown table of BENCHMARKS.md (test MAE,
parameters, training molecules/s, forward+backward ms vs PyTorch Geometric).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import torch

from moldojo.nn.registry import LAYERS
from moldojo.training.dojo import DojoConfig, format_table, run_dojo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--layers", nargs="+", choices=list(LAYERS), default=[])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = DojoConfig(layers=tuple(args.layers), minutes=args.minutes)
    print(f"# {platform.machine()}, {torch.get_num_threads()} torch threads, torch "
          f"{torch.__version__}, {config.minutes:g} min per layer", file=sys.stderr)  # fmt: skip
    start = time.perf_counter()
    results = run_dojo(config, progress=lambda line: print(line, file=sys.stderr))
    print(format_table(results, config))
    print(f"# total {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
