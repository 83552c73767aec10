"""Run the MOSES reference implementation (``molsets`` 0.3.1) on one file and print its metrics.

This script runs *inside a throw-away environment* that has molsets installed, never in
moldojo's own: ``benchmarks/metrics.py --reference-python ENV/bin/python`` calls it side by side
with ``moldojo.evaluation``. molsets 0.3.1 does not import on current RDKit and pandas; two
compatibility shims are installed before the import, and nothing else is changed:

* RDKit dropped ``rdkit.six``; molsets only uses its ``iteritems``.
* pandas dropped ``DataFrame.append``; molsets only uses it to stack two filter tables.

Prints one JSON object: the metrics, plus ``_seconds`` (wall clock of ``get_all_metrics``) and
``_peak_rss_mb`` (peak resident memory of this process and its worker processes).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import types


def _install_shims() -> None:
    import pandas as pd
    import rdkit

    six = types.ModuleType("rdkit.six")
    six.iteritems = lambda mapping: iter(mapping.items())
    sys.modules["rdkit.six"] = six
    rdkit.six = six
    if not hasattr(pd.DataFrame, "append"):

        def append(self, other, sort=False, ignore_index=False):
            return pd.concat([self, other], sort=sort, ignore_index=ignore_index)

        pd.DataFrame.append = append


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("smiles_file")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    _install_shims()
    import moses

    with open(args.smiles_file) as handle:
        gen = [line.split()[0] if line.split() else "" for line in handle]
    start = time.perf_counter()
    metrics = moses.get_all_metrics(gen, n_jobs=args.jobs, device="cpu")
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = {key: float(value) for key, value in metrics.items()}
    result["_seconds"] = seconds
    result["_peak_rss_mb"] = max(usage, children) / 1024
    json.dump(result, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
