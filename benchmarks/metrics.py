"""The MOSES suite, moldojo side by side with the reference implementation (molsets 0.3.1).

    python benchmarks/metrics.py [FILE] [--jobs 2] [--reference-python /tmp/refvenv/bin/python]
                                 [--expected FILE.moses.json]

Runs ``moldojo evaluate FILE`` twice in fresh processes, first with an empty cache directory
(cold: the MOSES reference statistics are converted from the molsets wheel) and then with that
cache (warm, the everyday case), and, when ``--reference-python`` names an environment with
molsets installed, ``benchmarks/molsets_reference.py`` in it on the same file, one after the
other on the same cores. Prints each key side by side with the largest difference, wall-clock
seconds, peak resident memory (the largest single process, workers included) and the speed-up.

The reference environment (outside the repository, thrown away after)::

    python3.11 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install -c constraints.txt torch rdkit numpy pandas scipy \\
        fcd_torch==1.0.7 matplotlib
    /tmp/refvenv/bin/pip install --no-deps molsets==0.3.1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "metrics"


_MEASURE = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "sys.stderr.write('peak_kb=%d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
    "sys.exit(code)"
)


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB of the largest process of the run, and stdout.

    The command runs under a fresh launcher process, so that its children's peak is its own.
    """
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-3000:]}")
    peak_kb = int(done.stderr.rsplit("peak_kb=", 1)[1].split()[0])
    return seconds, peak_kb / 1024, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(FIXTURES / "gen_a.smi"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--reference-python", help="python of an environment with molsets")
    parser.add_argument("--expected", help="stored reference output (default FILE.moses.json)")
    args = parser.parse_args()

    file = Path(args.file)
    expected_path = Path(args.expected or file.with_suffix(".moses.json"))
    print(f"# {file.name}: {sum(1 for _ in file.open())} lines; {os.cpu_count()} cores "
          f"({platform.processor() or platform.machine()}), --jobs {args.jobs}")  # fmt: skip
    results: dict[str, dict[str, float]] = {}
    timings: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, MOLDOJO_CACHE_DIR=cache)
        for label in ("moldojo (cold cache)", "moldojo"):
            out = Path(cache) / "out.json"
            seconds, peak, _ = _run(
                [sys.executable, "-m", "moldojo", "evaluate", str(file), "--jobs",
                 str(args.jobs), "--json", str(out), "-q"], env,
            )  # fmt: skip
            results[label] = json.loads(out.read_text())
            timings[label] = (seconds, peak)
    if args.reference_python:
        seconds, peak, stdout = _run(
            [args.reference_python, str(ROOT / "benchmarks" / "molsets_reference.py"), str(file),
             "--jobs", str(args.jobs)], dict(os.environ),
        )  # fmt: skip
        reference = json.loads(stdout)
        results["molsets 0.3.1"] = {k: v for k, v in reference.items() if not k.startswith("_")}
        timings["molsets 0.3.1"] = (seconds, peak)
    if expected_path.is_file():
        stored = json.loads(expected_path.read_text())
        results["stored reference"] = {k: v for k, v in stored.items() if not k.startswith("_")}

    ours = results["moldojo"]
    others = [name for name in results if name not in ("moldojo", "moldojo (cold cache)")]
    print("\n| key | moldojo | " + " | ".join(others) + " | largest difference |")
    print("|---|---:|" + "---:|" * len(others) + "---:|")
    for key, value in ours.items():
        diffs = [abs(value - results[name][key]) for name in others]
        row = " | ".join(f"{results[name][key]:.6f}" for name in others)
        print(f"| {key} | {value:.6f} | {row} | {max(diffs, default=0):.1e} |")
    print("\n| run | seconds | peak RSS (MB) |")
    print("|---|---:|---:|")
    for name, (seconds, peak) in timings.items():
        print(f"| {name} | {seconds:.1f} | {peak:.0f} |")
    if "molsets 0.3.1" in timings:
        base = timings["molsets 0.3.1"][0]
        print(f"\nspeed-up: {base / timings['moldojo'][0]:.1f}x warm, "
              f"{base / timings['moldojo (cold cache)'][0]:.1f}x cold")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
