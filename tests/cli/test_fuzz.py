"""Fuzz: every verb through ``main([...])``, in process, with a few hundred hostile inputs drawn
from a fixed seed.

The inputs: files of random bytes, binary files, empty and blank files, lines over the length
limit, control characters and NUL bytes, invalid UTF-8, mutated SMILES, broken CSV and gzip
files, bad ``.npy`` arrays, vocabularies and checkpoints; flag values that are NaN, infinite,
negative, huge or not numbers; inputs that are missing or directories; outputs that cannot be
written (``/proc/...``, ``/dev/full``, a directory, a file as the parent). For each case:

* nothing escapes ``main`` but argparse's ``SystemExit`` of a usage error; the status is 0, 1 or
  2, and 0 only where the input is acceptable (a bad flag is 2, a bad path 1);
* stderr holds at most one line (``-q``, no ``-v``), with no raw control character, and so does
  stdout;
* after a non-zero status no output file and no temporary file is left, the input files are as
  they were, and a finished run directory is untouched.

Model verbs use the shipped model (loaded once for the module) with tiny ``-n``; ``train`` runs
once (a tiny two-step model), and otherwise only fails before training.
"""

from __future__ import annotations

import gzip
import io
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import moldojo.sampling
from moldojo.cli import main
from moldojo.sampling import DEFAULT_MODEL

SEED = 14  # the issue that asked for this test
CASES_PER_GROUP = 12  # random draws per group of cases below (the fixed ones come on top)

# -- what hostile values look like ---------------------------------------------------------------

BAD_COUNTS = ["0", "-1", "-3", "nan", "inf", "abc", "", "1.5", "1e3", "0x10", " ", "--1",
              "99999999999999999999999"]  # fmt: skip
BAD_FLOATS = ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e400", "-1", "-1e-300", "abc",
              "", "0x1p3", "1,5"]  # fmt: skip
BAD_SEEDS = ["-1", "99999999999999999999999", str(2**63), "nan", "1.0", "abc", "", "1e3"]
BAD_SETS = [
    "seed=99999999999999999999999", "seed=-1", "seed=abc", "train.lr=nan", "train.lr=inf",
    "train.lr=-1", "train.lr=1e400", "train.batch_size=0", "train.batch_size=-4",
    "train.epochs=0", "train.jobs=0", "train.kl.kind=nope", "train.kl.beta_max=nan",
    "train.checkpoint_minutes=-1", "two_step.hidden_dim=0", "two_step.hidden_dim=abc",
    "two_step.hidden_dim=99999999999", "two_step.encoder_layers=2000000",
    "train.batch_size=99999999999999999999",
    "nokey=1", "garbage", "=", "train=1", "two_step=1", "train.nokey=1", "model=nope",
    "valid={adir}", "data={missing}",
]  # fmt: skip
# Where no file can be written: a directory, a file or nothing as the parent, a read-only tree
UNWRITABLE = ["/proc/fuzz.out", "/dev/null/fuzz.out", "{adir}", "{adir}/", "{ok.smi}/fuzz.out",
              "/proc/self/fuzz.out"]  # fmt: skip
UNWRITABLE_IMAGES = ["/proc/fuzz.png", "/dev/null/fuzz.png", "{dir.png}", "{ok.smi}/fuzz.png",
                     "{adir}"]  # fmt: skip
UNWRITABLE_DIRS = ["/proc/fuzz", "/dev/null/fuzz", "{ok.smi}", "{ok.smi}/fuzz", "/proc/self/fuzz"]
BASE_SMILES = [
    "CC(=O)Nc1ccc(O)cc1", "C[C@@H](C(=O)O)c1ccc(CC(C)C)cc1", "c1ccc2[nH]ccc2c1",
    "O=C(O)c1ccccc1OC(C)=O", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "[NH4+].[Cl-]", "C1CC1",
    "F/C=C/F", "[2H]C([2H])([2H])O", "C#N", "c1ccccc1", "C[C@H]1CC[C@@H](O)CC1",
]  # fmt: skip
NOISE = list("CNOSPFIBrcln()[]=#@+-/\\.%0123456789*:$~H") + [
    "\x00", "\x1b", "\x07", "\x7f", "\u202e", "\ufeff", "\u00e9", " ", "\t", "\r", "\x0b",
]  # fmt: skip
RAW_CONTROLS = ("\x00", "\x1b", "\x07", "\x7f", "\u202e")


def mutate(rng: random.Random, smiles: str) -> str:
    """``smiles`` with one to four characters inserted, deleted, replaced or swapped."""
    chars = list(smiles)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(chars) + 1)
        operation = rng.choice("idrs") if chars else "i"
        if operation == "i":
            chars.insert(at, rng.choice(NOISE))
        elif operation == "d" and at < len(chars):
            del chars[at]
        elif operation == "r" and at < len(chars):
            chars[at] = rng.choice(NOISE)
        elif operation == "s" and at + 1 < len(chars):
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
    return "".join(chars)


# -- the hostile files ---------------------------------------------------------------------------


def _npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _npy_header(shape: tuple[int, ...]) -> bytes:
    """A ``.npy`` header claiming ``shape`` (float32), followed by almost no data."""
    buffer = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + b"\0" * 64


def write_files(root: Path) -> None:
    """Every hostile input file, from :data:`SEED`."""
    rng = random.Random(SEED)
    text: dict[str, str] = {
        "ok.smi": "CCO\nCCN\nCC(=O)O\nc1ccccc1O\n",
        "empty.smi": "",
        "blank.smi": "\n \n\t\n\n",
        "huge.smi": "CCO\n" + "C" * 12_000 + "\nc1ccccc1 " + "x" * 12_000 + "\n",
        "huge_last.smi": "CCO\n" + "C(" * 6_000,
        "controls.smi": "CCO\x1b]0;TITLE\x07\n\x1b[2J\nC\rC\nCC\u202eO\n\x7f\n\x00\nCCO\n",
        "bom.csv": "\ufeffsmiles,name\nCCO,a\n\ufeffc1ccccc1,b\n",
        "nocol.csv": "a,b\n1,2\n3,4\n",
        "badquote.csv": 'smiles,name\n"CCO,a\nCCN,b\n',
        "ragged.tsv": "smiles\tname\n\tx\nCCO\n\n\t\t\t\n",
        "header_only.csv": "smiles\n",
        "config_bad.toml": "[train]\nepochs = 'many'\n",
        "config_syntax.toml": "[train\nepochs = = 3\n",
        "vocab_header_only.vocab": "# moldojo motif vocabulary\n",
        "vocab_garbage.vocab": "# moldojo motif vocabulary v1\nc1ccccc1 x y z\n\x00\x1b\n",
    }
    for i in range(4):
        lines = [mutate(rng, rng.choice(BASE_SMILES)) for _ in range(12)]
        text[f"mutated{i}.smi"] = "\n".join([*lines, *BASE_SMILES[:3]]) + "\n"
    for name, content in text.items():
        (root / name).write_bytes(content.encode("utf-8", errors="surrogatepass"))
    binary: dict[str, bytes] = {
        "nul.smi": b"CCO\x00CCN\n\x00\x00\x00\nc1ccccc1\n",
        "badutf8.smi": b"CCO\n\xff\xfe\xc3\x28\n\xed\xa0\x80\nc1ccccc1\n",
        "elf.bin": b"\x7fELF\x02\x01\x01" + bytes(57) + rng.randbytes(512),
        "trunc.smi.gz": gzip.compress(b"CCO\nCCN\n" * 200)[:40],
        "fake.smi.gz": b"CCO\nCCN\n",
        "z_ok.npy": _npy(np.zeros((2, 32), np.float32)),
        "z_nan.npy": _npy(np.full((2, 32), np.nan, np.float32)),
        "z_inf.npy": _npy(np.full((2, 32), np.inf, np.float32)),
        "z_huge.npy": _npy(np.full((1, 32), 3e38, np.float32)),
        "z_empty.npy": _npy(np.zeros((0, 32), np.float32)),
        "z_wrongdim.npy": _npy(np.zeros((2, 5), np.float32)),
        "z_1d.npy": _npy(np.zeros(32, np.float32)),
        "z_3d.npy": _npy(np.zeros((1, 32, 1), np.float32)),
        "z_int.npy": _npy(np.zeros((2, 32), np.int64)),
        "z_complex.npy": _npy(np.zeros((2, 32), np.complex64)),
        "z_str.npy": _npy(np.array(["CCO", "CCN"])),
        "z_pickle.npy": _npy(np.array([{"a": 1}], dtype=object), allow_pickle=True),
        "z_claims_huge.npy": _npy_header((10**12, 32)),
        "z_claims_more.npy": _npy_header((1000, 32)),
    }
    archive = io.BytesIO()
    np.savez(archive, z=np.zeros((2, 32), np.float32))
    binary["z_npz.npy"] = archive.getvalue()
    binary["z_trunc.npy"] = archive.getvalue()[:50]
    binary["z_trunc_npy.npy"] = binary["z_ok.npy"][:100]
    for i in range(6):
        binary[f"rand{i}.bin"] = rng.randbytes(rng.randrange(1, 4000))
        binary[f"rand{i}.npy"] = b"\x93NUMPY" + rng.randbytes(rng.randrange(0, 300))
    if DEFAULT_MODEL.exists():  # a checkpoint cut short, and one with its middle overwritten
        shipped = DEFAULT_MODEL.read_bytes()
        binary["cut.pt"] = shipped[: len(shipped) // 3]
        middle = len(shipped) // 2
        binary["scribbled.pt"] = shipped[:middle] + rng.randbytes(4096) + shipped[middle + 4096 :]
    for name, content in binary.items():
        (root / name).write_bytes(content)
    (root / "adir").mkdir()
    (root / "dir.png").mkdir()
    (root / "adir" / "inside.smi").write_text("CCO\n")
    (root / "fake_run").mkdir()  # a directory holding something that looks like a run
    (root / "fake_run" / "metrics.jsonl").write_text('{"step": 1')
    (root / "fake_run" / "config.toml").write_bytes(rng.randbytes(200))


# -- the cases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One command line (``{name}`` stands for a hostile file, ``{out}`` for a fresh directory
    for the outputs) and the exit statuses it may end with."""

    argv: tuple[str, ...]
    allowed: frozenset[int]
    model: bool = False  # needs the shipped model

    def __str__(self) -> str:
        return " ".join(self.argv)[:120]


USAGE, FAIL, EITHER, OK = frozenset({2}), frozenset({1}), frozenset({0, 1}), frozenset({0})
SMILES_FILES = [
    "ok.smi", "empty.smi", "blank.smi", "huge.smi", "huge_last.smi", "controls.smi", "bom.csv",
    "nocol.csv", "badquote.csv", "ragged.tsv", "header_only.csv", "nul.smi", "badutf8.smi",
    "elf.bin", "trunc.smi.gz", "fake.smi.gz", "mutated0.smi", "mutated1.smi", "mutated2.smi",
    "mutated3.smi", *(f"rand{i}.bin" for i in range(6)),
]  # fmt: skip
NOT_FILES = ["{adir}", "{missing}", "{missing}/", "nosuchdataset", "moses-mini:nosplit", ""]
BAD_NPY = [
    "z_nan", "z_inf", "z_empty", "z_wrongdim", "z_1d", "z_3d", "z_int", "z_complex", "z_str",
    "z_pickle", "z_claims_huge", "z_claims_more", "z_npz", "z_trunc", "z_trunc_npy",
    *(f"rand{i}" for i in range(6)),
]  # fmt: skip
BAD_VOCABS = ["{rand0.bin}", "{elf.bin}", "{ok.smi}", "{adir}", "{missing}", "{empty.smi}",
              "{vocab_header_only.vocab}", "{vocab_garbage.vocab}"]  # fmt: skip
BAD_RUNS = ["{rand1.bin}", "{elf.bin}", "{adir}", "{missing}", "{z_npz.npy}", "{ok.smi}",
            "{cut.pt}", "{scribbled.pt}", "{fake_run}", "nosuchmodel"]  # fmt: skip
TINY_TRAIN = ("--epochs", "1", "--set", "two_step.hidden_dim=16", "--set", "train.batch_size=4",
              "--set", "train.jobs=1", "--set", "train.valid_molecules=4", "--set",
              "train.valid_samples=4")  # fmt: skip


def _cases() -> list[Case]:
    rng = random.Random(SEED)
    cases: list[Case] = []

    def add(allowed: frozenset[int], *argv: str, model: bool = False) -> None:
        cases.append(Case(("-q", *argv), allowed, model))

    def draw(population: list, k: int = CASES_PER_GROUP) -> list:
        return rng.sample(population, min(k, len(population)))

    def f(name: str) -> str:
        return name if name.startswith("{") or name in NOT_FILES else f"{{{name}}}"

    # Readers of SMILES files: any content is acceptable (bad records are skipped, counted)
    for name in SMILES_FILES:
        add(EITHER, "data", "check", f(name), "-j", "1")
        add(EITHER, "motifs", "check", f(name), "-j", "1", "--json", "{out}/check.json")
    for name in draw(SMILES_FILES, 16):
        add(EITHER, "data", "info", f(name), "-j", "1", "--json", "{out}/info.json")
        add(EITHER, "vocab", f(name), "-o", "{out}/v.vocab", "-j", "1")
        add(EITHER, "data", "info", f(name), "-j", "1", "--strict")
        add(EITHER, "data", "check", f(name), "-j", "1", "--smiles-column", "name")
    for name in draw(SMILES_FILES, 10):
        add(EITHER, "encode", f(name), "-o", "{out}/z.npy", model=True)
        add(EITHER, "reconstruct", "two-step", "--data", f(name), "-n", "3", "--json",
            "{out}/r.json", model=True)  # fmt: skip
    for name in draw(SMILES_FILES, 6):
        add(EITHER, "reconstruct", "--data", f(name), "-n", "2", model=True)
    for name in draw(SMILES_FILES, 4):  # the slowest verb: a few seconds when the file is read
        add(EITHER, "evaluate", f(name), "--train", "{ok.smi}", "--ref", "{ok.smi}", "--jobs",
            "1", "--json", "{out}/e.json", "--suite", rng.choice(["moses", "guacamol"]),
            "--guacamol-samples", "5")  # fmt: skip
    # Inputs that are not files: one line, exit 1
    for name in NOT_FILES:
        add(FAIL, "data", "check", name, "-j", "1")
        add(FAIL, "data", "info", name, "-j", "1")
        add(FAIL, "motifs", "check", name, "-j", "1")
        add(FAIL, "vocab", name, "-o", "{out}/v.vocab", "-j", "1")
        add(FAIL, "encode", name, "-o", "{out}/z.npy")
        add(FAIL, "decode", name, "-o", "{out}/s.smi")
        add(FAIL, "evaluate", name, "--train", "{ok.smi}", "--ref", "{ok.smi}", "--jobs", "1")
        add(FAIL, "reconstruct", "two-step", "--data", name, model=True)
        add(FAIL, "train", "--data", name, "--out", "{out}/run", *TINY_TRAIN)
    for flag in ("--train", "--ref"):
        for name in draw(NOT_FILES, 3):
            add(FAIL, "evaluate", "{ok.smi}", flag, f(name), "--jobs", "1")
    for name in ("empty.smi", "blank.smi", "rand3.bin"):  # no valid reference molecule
        add(FAIL, "evaluate", "{ok.smi}", "--ref", f(name), "--jobs", "1")
    # Bad latent points: exit 1 before or after loading the model; NaN rows decode to failures
    for name in BAD_NPY:
        allowed = EITHER if name in ("z_nan", "z_inf", "z_empty") else FAIL
        add(allowed, "decode", f"{{{name}.npy}}", "-o", "{out}/s.smi", model=True)
    add(EITHER, "decode", "{z_huge.npy}", model=True)
    # Bad vocabularies and checkpoints
    for vocab in BAD_VOCABS:
        add(FAIL, "motifs", "show", "CCO", "-o", "{out}/m.png", "--vocab", vocab)
        add(FAIL, "motifs", "check", "{ok.smi}", "-j", "1", "--vocab", vocab)
        add(FAIL, "train", "--model", "hier", "--data", "{ok.smi}", "--out", "{out}/run",
            *TINY_TRAIN, "--set", f"vocabulary.path={vocab}")  # fmt: skip
    for run_dir in BAD_RUNS:  # scribbled weights may still load: a model of noise is a model
        allowed = EITHER if run_dir == "{scribbled.pt}" else FAIL
        add(allowed, "sample", run_dir, "-n", "2", "-o", "{out}/s.smi")
        add(allowed, "encode", run_dir, "{ok.smi}", "-o", "{out}/z.npy")
        add(allowed, "decode", run_dir, "{z_ok.npy}")
        add(allowed, "reconstruct", run_dir, "--data", "{ok.smi}")
    # Hostile SMILES on the command line
    hostile = [mutate(rng, rng.choice(BASE_SMILES)) for _ in range(CASES_PER_GROUP)]
    hostile += ["", " ", "\x00", "C\x1b]0;TITLE\x07", "C" * 20_000, "C" * 300 + "(", "[Xx]",
                "C1CC", "c1cc#ncc1", "[NH4+].[Cl-]", "\ud800"]  # fmt: skip
    for smiles in hostile:
        add(EITHER, "motifs", "show", smiles, "-o", "{out}/m.png")
    # Bad numbers: usage errors at parse time
    for value in draw(BAD_COUNTS):
        add(USAGE, "sample", "-n", value, model=True)
        add(USAGE, "data", "check", "{ok.smi}", "--jobs", value)
        add(USAGE, "evaluate", "{ok.smi}", "--jobs", value)
        add(USAGE, "motifs", "check", "{ok.smi}", "-j", value)
        if value == "99999999999999999999999":  # too many workers or samples; over the largest
            add(FAIL, "dojo", "bench", "--hidden-dim", value)  # size a config takes; a count
            continue  # of anything else (--min-count, -n of a file, --epochs) may be that big
        add(USAGE, "vocab", "{ok.smi}", "-o", "{out}/v.vocab", "--min-count", value)
        add(USAGE, "evaluate", "{ok.smi}", "--guacamol-samples", value)
        add(USAGE, "dojo", "bench", "--hidden-dim", value)
        add(USAGE, "train", "--data", "{ok.smi}", "--out", "{out}/run", "--epochs", value)
        add(USAGE, "reconstruct", "--data", "{ok.smi}", "-n", value)
    for value in draw(BAD_FLOATS):
        add(USAGE, "sample", "-n", "1", "--temperature", value)
        add(USAGE, "train", "--data", "{ok.smi}", "--out", "{out}/run", "--max-minutes", value)
        add(USAGE, "dojo", "bench", "--minutes", value)
    for value in BAD_SEEDS:
        add(USAGE, *rng.choice([["sample"], ["motifs", "show", "CCO", "-o", "{out}/m.png"],
                                ["train", "--out", "{out}/run"]]), "--seed", value)  # fmt: skip
        cases.append(Case(("--seed", value, "-q", "data", "info", "{ok.smi}"), USAGE))
    for flag, value in [("--device", "gpu"), ("--suite", "x"), ("--aromaticity", "x"),
                        ("--model", "x")]:  # fmt: skip
        verb = {"--suite": ["evaluate", "{ok.smi}"], "--aromaticity": ["data", "info", "{ok.smi}"],
                "--model": ["train", "--out", "{out}/run"]}.get(flag, ["sample"])  # fmt: skip
        add(USAGE, *verb, flag, value)
    for extra in (["nope"], ["dojo", "nope"], ["data"], ["motifs"], ["sample", "--nope"],
                  ["train"], ["encode", "{ok.smi}"], ["decode"], ["sample", "-n"]):  # fmt: skip
        add(USAGE, *extra)
    # Temperatures at the ends of the range: tiny and huge are fine
    for value in ("0", "5e-324", "1e-300", "1e300", "1.7e308"):
        add(OK, "sample", rng.choice(["hier", "two-step"]), "-n", "2", "--temperature", value,
            model=True)  # fmt: skip
    # Outputs that cannot be written: one line, exit 1, nothing computed in vain or left behind
    for target in UNWRITABLE:
        add(FAIL, "sample", "two-step", "-n", "1", "-o", target, model=True)
        add(FAIL, "encode", "{ok.smi}", "-o", target)
        add(FAIL, "decode", "{z_ok.npy}", "-o", target)
        add(FAIL, "data", "check", "{ok.smi}", "-j", "1", "--json", target)
        add(FAIL, "data", "info", "{ok.smi}", "-j", "1", "--json", target)
        add(FAIL, "motifs", "check", "{ok.smi}", "-j", "1", "--json", target)
        add(FAIL, "vocab", "{ok.smi}", "-o", target, "-j", "1")
        add(FAIL, "reconstruct", "two-step", "--data", "{ok.smi}", "--json", target)
        add(FAIL, "evaluate", "{ok.smi}", "--jobs", "1", "--json", target)
        add(FAIL, "dojo", "bench", "--minutes", "0.01", "--json", target)
    for target in UNWRITABLE_IMAGES:
        add(FAIL, "sample", "two-step", "-n", "1", "--grid", target, model=True)
        add(FAIL, "motifs", "show", "CCO", "-o", target)
    for target in UNWRITABLE_DIRS:
        add(FAIL, "evaluate", "{ok.smi}", "--jobs", "1", "--plots", target)
        add(FAIL, "train", "--data", "{ok.smi}", "--out", target, *TINY_TRAIN)
    for target in ("/dev/full", "{out}/x.smi/"):
        add(FAIL, "sample", "two-step", "-n", "1", "-o", target, model=True)
        add(FAIL, "encode", "{ok.smi}", "-o", target, model=True)
        add(FAIL, "decode", "{z_ok.npy}", "-o", target, model=True)
        add(FAIL, "data", "check", "{ok.smi}", "-j", "1", "--json", target)
        add(FAIL, "vocab", "{ok.smi}", "-o", target, "-j", "1")
    for name in ("{out}/g.out", "{out}/noextension", "{out}/g.png.txt"):
        add(FAIL, "sample", "two-step", "-n", "1", "--grid", name)
        add(FAIL, "motifs", "show", "CCO", "-o", name)
    add(FAIL, "encode", "{ok.smi}", "-o", "-")
    add(FAIL, "vocab", "{ok.smi}", "-o", "-", "-j", "1")
    # Training: bad overrides and configs fail before the data is read
    for item in BAD_SETS:
        add(FAIL, "train", "--data", "{ok.smi}", "--out", "{out}/run", *TINY_TRAIN, "--set", item)
    for config in ("{rand2.bin}", "{elf.bin}", "{config_bad.toml}", "{config_syntax.toml}",
                   "{adir}", "{missing}", "{bom.csv}"):  # fmt: skip
        add(FAIL, "train", "--data", "{ok.smi}", "--out", "{out}/run", "--config", config)
    # A finished run: never replaced, never resumed with other settings
    add(FAIL, "train", "--out", "{run}", "--data", "{ok.smi}", *TINY_TRAIN)
    for extra in (
        ["--set", "two_step.hidden_dim=64"], ["--model", "hier"], ["--data", "{ok.smi}"],
        ["--set", "train.batch_size=8"], ["--seed", "5"], ["--config", "{ok.smi}"],
        ["--set", "seed=99999999999999999999999"], ["--set", "train.lr=nan"],
    ):  # fmt: skip
        add(FAIL, "train", "--out", "{run}", "--resume", *extra)
        add(FAIL, "train", "--out", "{run}", "--data", "{ok.smi}", *TINY_TRAIN, *extra)
    add(USAGE, "train", "--out", "{run}", "--resume", "--overwrite")
    for name in ("{fake_run}", "{adir}/"):
        add(FAIL, "train", "--out", name, "--resume")
    add(FAIL, "train", "--out", "{fake_run}", "--data", "{ok.smi}", *TINY_TRAIN)
    add(OK, "sample", "{run}", "-n", "2", "-o", "{out}/s.smi", "--temperature", "1e-300")
    add(OK, "dojo", "list")
    # Searching: hostile start molecules, scaffolds, objectives, budgets and destinations
    opt = ["optimize", "--method", "random", "--budget", "2", "--batch", "2"]
    for smiles in draw(hostile, 6):
        add(EITHER, *opt, "--objective", "qed", "--start", smiles, "--out", "{out}/o", model=True)
        add(EITHER, "sample", "-n", "2", "--scaffold", smiles, "-o", "{out}/s.smi", model=True)
    bad_objectives = ["", "nope", "similarity:", "similarity:\x1b[31m", "python:",
                      "python:os:", "python:{rand2.bin}:f", "python:{adir}:f", "nan*qed",
                      "1e400*qed"]  # fmt: skip
    for objective in bad_objectives:
        add(FAIL, *opt, "--objective", objective, "--out", "{out}/o")
    for value in draw(BAD_COUNTS, 4):
        add(USAGE, *opt, "--objective", "qed", "--budget", value, "--out", "{out}/o")
    for value in draw(BAD_FLOATS, 4):
        add(USAGE, *opt, "--objective", "qed", "--start", "CCO", "--min-similarity", value,
            "--out", "{out}/o")  # fmt: skip
    for target in UNWRITABLE_DIRS:
        add(FAIL, *opt, "--objective", "qed", "--out", target)
    add(FAIL, *opt, "--objective", "qed", "--start", "{rand2.bin}", "--out", "{out}/o")
    add(FAIL, *opt, "--objective", "qed", "--start", "{empty.smi}", "--out", "{out}/o")
    # The web explorer: bad ports and addresses, and models that do not load (never a server)
    for value in ("0", "-1", "65536", "http", "", "nan", "99999999999999999999999"):
        add(USAGE, "serve", "--port", value)
    for host in ("\x1b[31m", "no.such.host.invalid", "999.1.1.1", ""):
        add(FAIL, "serve", "--host", host, "--port", "8917")
    for run_dir in ("{rand2.bin}", "{missing}", "{adir}", "{fake_run}"):
        add(FAIL, "serve", run_dir, "--port", "8917")
    return cases


CASES = _cases()


# -- the test ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The hostile files, and one finished tiny run, by the names the cases use."""
    root = tmp_path_factory.mktemp("hostile")
    write_files(root)
    names = {p.name: str(p) for p in root.iterdir()}
    names |= {"missing": str(root / "missing.smi"), "run": str(root / "run")}
    mols = root / "mols.smi"
    mols.write_text("\n".join(BASE_SMILES * 2) + "\n")
    code = main(["-q", "train", "--model", "two-step", "--data", str(mols), "--out",
                 names["run"], *TINY_TRAIN])  # fmt: skip
    assert code == 0
    yield names


@pytest.fixture(scope="module")
def shipped_models_once() -> Iterator[None]:
    """The shipped models loaded once for the module (they keep no state between calls);
    every other path goes through the real loader."""
    real, cache = moldojo.sampling.load, {}

    def load(path: object = None, *, device: object = "cpu") -> object:
        if path not in (None, "hier", "two-step"):
            return real(path, device=device)
        if (path, device) not in cache:
            cache[path, device] = real(path, device=device)
        return cache[path, device]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(moldojo.sampling, "load", load)
        yield


def _snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every file under ``root`` with its size, inode and modification time: a file written,
    replaced (a new inode) or added shows."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _status(call: Callable[[], int]) -> int:
    try:
        code = call()
    except SystemExit as exit_:  # argparse's usage errors (and nothing else) exit this way
        code = exit_.code
    assert isinstance(code, int), f"status {code!r} is not an int"
    return code


@pytest.mark.usefixtures("shipped_models_once")
@pytest.mark.parametrize("case", CASES, ids=[f"{i:03d}" for i in range(len(CASES))])
def test_hostile_input_gives_a_status_one_line_and_no_leftovers(
    case: Case,
    hostile: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if case.model and not DEFAULT_MODEL.exists():
        pytest.skip("no model shipped")
    if "{cut.pt}" in case.argv and "cut.pt" not in hostile:
        pytest.skip("no model shipped to cut")
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(tmp_path)  # a stray relative write lands here, and is seen
    inputs = Path(hostile["ok.smi"]).parent
    before = _snapshot(inputs)
    names = hostile | {"out": str(out)}
    argv = [re.sub(r"\{([\w.]+)\}", lambda m: names[m.group(1)], arg) for arg in case.argv]
    # When the command runs
    code = _status(lambda: main(argv))
    captured = capsys.readouterr()
    # Then it exits with an allowed status, one line at most on stderr, nothing raw
    assert code in case.allowed, f"{case}: status {code}, stderr {captured.err!r}"
    assert captured.err.count("\n") <= 1, f"{case}: stderr {captured.err!r}"
    assert "Traceback" not in captured.err
    for stream in (captured.out, captured.err):
        assert not any(c in stream for c in RAW_CONTROLS), f"{case}: raw control in {stream!r}"
    # And a failure leaves nothing behind: no output, no temporary file, inputs unchanged
    if code != 0:
        left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
        assert left == [], f"{case}: left {left}"
        assert not Path("/dev/full.npy").exists()
    assert _snapshot(inputs) == before, f"{case}: the input files changed"
