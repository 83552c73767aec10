"""The checkpoint format: a dict of plain data and tensors, read with ``weights_only=True``.

A checkpoint holds everything needed to rebuild a model without the code that trained it: the
model kind, its config as plain data, the state dict, the vocabulary, and optionally the
optimiser state, the step and free-form extras (metrics). Only plain data (``dict``, ``list``,
``tuple``, ``str``, ``int``, ``float``, ``bool``, ``None``) and tensors are allowed, so that
:func:`load_checkpoint` can use ``torch.load(path, weights_only=True)`` and opening a file from
a stranger can never run code.

On disk a checkpoint is ``torch.save`` of a dict with the marker ``"format":
"moldojo-checkpoint"`` plus one key per :class:`Checkpoint` field. ``format_version`` is
bumped whenever that layout changes incompatibly.

Imports torch and :mod:`moldojo.errors`; nothing from the model, data or chemistry layers.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import struct
import uuid
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from moldojo._version import __version__
from moldojo.errors import CheckpointError

__all__ = [
    "FORMAT_MARKER",
    "FORMAT_VERSION",
    "Checkpoint",
    "load_checkpoint",
    "run_checkpoint",
    "save_checkpoint",
    "upgrade_run_config",
]

#: Version of the on-disk layout; files with a larger version are refused, older ones are
#: converted on reading (:func:`upgrade_run_config`).
#: 1: the first layout. 2: the motif vocabulary's settings left the hierarchical model's
#: hyperparameters for the run configuration's ``[vocabulary]`` section.
FORMAT_VERSION = 2

#: Value of the ``"format"`` key that marks a dict as a moldojo checkpoint.
FORMAT_MARKER = "moldojo-checkpoint"

# What torch.load(weights_only=True) raised for damaged or foreign files, found by feeding
# torch 2.13 random bytes, truncated files and files with flipped bytes (both the zip and the
# legacy format): the unpickler's UnpicklingError (also for forbidden globals), RuntimeError
# from the zip reader, EOFError, UnicodeDecodeError (a ValueError), struct.error, and, from
# deep in the legacy reader, IndexError, KeyError, TypeError, AttributeError, AssertionError;
# and OSError (EINVAL) when a zip truncated near its end makes the reader seek before the start.
_LOAD_ERRORS: tuple[type[BaseException], ...] = (
    pickle.UnpicklingError,
    RuntimeError,
    EOFError,
    ValueError,
    struct.error,
    zipfile.BadZipFile,
    IndexError,
    KeyError,
    TypeError,
    AttributeError,
    AssertionError,
    OverflowError,
)


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """Everything saved about a model at one training step.

    Equality is identity (``eq=False``): fields hold tensors, whose ``==`` is elementwise.

    Args:
        model_kind: which model class the state dict belongs to, e.g. ``"hiervae"``.
        config: the model's (or run's) config as plain data, e.g. from
            :func:`moldojo.config.config_to_dict`.
        state_dict: parameter and buffer tensors, ``model.state_dict()``.
        vocabulary: the vocabulary as plain data (nested dicts, lists, strings, numbers).
        optimizer_state: ``optimizer.state_dict()``, or ``None`` for an inference-only file.
        step: number of optimisation steps taken.
        format_version: on-disk layout version (:data:`FORMAT_VERSION` when written).
        moldojo_version: the moldojo version that wrote the file.
        extra: free-form plain data, e.g. the last validation metrics.
    """

    model_kind: str
    config: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    vocabulary: object
    optimizer_state: dict[Any, Any] | None = None
    step: int = 0
    format_version: int = FORMAT_VERSION
    moldojo_version: str = __version__
    extra: dict[str, Any] = field(default_factory=dict)


def save_checkpoint(path: str | Path, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` to ``path`` atomically, creating parent directories.

    The file is written to a temporary name in the same directory and then renamed over
    ``path``, so a crash mid-write never leaves a truncated checkpoint under the real name.

    Args:
        path: the file to write (overwritten if it exists); ``.pt`` by convention.
        checkpoint: what to save.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        CheckpointError: if a field has the wrong type, or anything in it is neither plain data
            nor a tensor (the message names the key path, e.g. ``extra['metrics'][0]``).
    """
    path = Path(path)
    payload: dict[str, Any] = {"format": FORMAT_MARKER}
    for f in dataclasses.fields(Checkpoint):
        payload[f.name] = getattr(checkpoint, f.name)
    problem = _field_problem(payload)
    if problem is not None:
        raise CheckpointError(f"cannot save checkpoint to {path}: {problem}")
    for name, value in payload.items():
        _check_plain(value, name, path)

    path.parent.mkdir(parents=True, exist_ok=True)
    # A unique name per writer; "xb" so an existing file is never clobbered, and the file
    # gets the usual umask permissions (tempfile.mkstemp would make it private).
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    done = False
    try:
        with tmp.open("xb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        done = True
    finally:
        if not done:
            tmp.unlink(missing_ok=True)
    return path


def run_checkpoint(path: str | Path, trainer: str = "moldojo train") -> Path:
    """The checkpoint file of ``path``: a file as given; in a run directory its final
    ``model.pt``, else the latest ``checkpoints/last.pt``.

    Args:
        path: a checkpoint file or a run directory.
        trainer: the command that writes such run directories, for the message.

    Raises:
        CheckpointError: nothing there, or a directory without either file.
    """
    path = Path(path)
    if path.is_dir():
        for candidate in (path / "model.pt", path / "checkpoints" / "last.pt"):
            if candidate.exists():
                return candidate
        raise CheckpointError(
            f"{path} holds neither model.pt nor checkpoints/last.pt; is it a run directory of "
            f"'{trainer}'?"
        )
    if not path.exists():
        raise CheckpointError(f"{path}: no such run directory or checkpoint file")
    return path


def load_checkpoint(
    path: str | Path, map_location: str | torch.device | None = "cpu"
) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`, never running code from the file.

    Args:
        path: the checkpoint file.
        map_location: where to put the tensors, as for :func:`torch.load`; ``"cpu"`` by default
            so that a GPU-trained file opens anywhere.

    Returns:
        The :class:`Checkpoint`.

    Raises:
        CheckpointError: if the file is missing; corrupt, truncated or not a torch file; holds
            anything but plain data and tensors (e.g. a pickled object, which is refused before
            it can run); is not a moldojo checkpoint; or was written by a newer moldojo.
    """
    path = Path(path)
    try:
        fh = path.open("rb")
    except FileNotFoundError as exc:
        raise CheckpointError(f"{path}: no such file; check the path of the checkpoint") from exc
    except IsADirectoryError as exc:
        raise CheckpointError(
            f"{path} is a directory, not a checkpoint file; give the path of the .pt file in it"
        ) from exc
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot open checkpoint: {exc}") from exc
    with fh:
        try:
            data = torch.load(fh, map_location=map_location, weights_only=True)
        except (*_LOAD_ERRORS, OSError) as exc:
            # The file opened, so an OSError here comes from torch's reader (a truncated zip
            # makes it seek before the start: EINVAL), i.e. the content is damaged.
            raise CheckpointError(
                f"{path} is corrupt or not a moldojo checkpoint: torch.load(weights_only=True) "
                f"failed with {type(exc).__name__}: {_first_line(exc)}. If the file was "
                "copied, copy it again; if it comes from elsewhere, it is not a moldojo "
                "checkpoint (these hold only plain data and tensors, and objects are never "
                "unpickled)"
            ) from exc

    if not isinstance(data, dict):
        raise CheckpointError(
            f"{path} is not a moldojo checkpoint (it holds a {type(data).__name__}, not a dict "
            "with 'format': 'moldojo-checkpoint'); checkpoints are written by save_checkpoint"
        )
    if data.get("format") != FORMAT_MARKER:
        keys = ", ".join(repr(k) for k in list(data)[:8])
        raise CheckpointError(
            f"{path} is not a moldojo checkpoint (missing 'format': {FORMAT_MARKER!r}; its keys "
            f"are {keys or 'none'}); checkpoints are written by save_checkpoint"
        )
    version = data.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} was written by a newer moldojo ({data.get('moldojo_version', '?')}, "
            f"checkpoint format {version}); this is moldojo {__version__}, which reads formats "
            f"up to {FORMAT_VERSION}. Upgrade moldojo: pip install -U moldojo"
        )
    problem = _field_problem(data)
    if problem is not None:
        raise CheckpointError(f"{path} is not a moldojo checkpoint ({problem})")
    if data["format_version"] < 2:
        data["config"] = upgrade_run_config(data["config"])
    return Checkpoint(**{f.name: data[f.name] for f in dataclasses.fields(Checkpoint)})


def upgrade_run_config(config: dict[str, Any]) -> dict[str, Any]:
    """A run configuration (plain data) of format 1 in today's layout: the motif vocabulary's
    settings ``hier.vocabulary`` and ``hier.min_count`` become ``vocabulary.path`` and
    ``vocabulary.min_count``. Anything else, and a configuration already in today's layout, is
    returned unchanged."""
    hier = config.get("hier")
    if not isinstance(hier, dict) or not {"vocabulary", "min_count"} & set(hier):
        return config
    hier = dict(hier)
    vocabulary = {"path": hier.pop("vocabulary", ""), "min_count": hier.pop("min_count", 1)}
    return {**config, "hier": hier, "vocabulary": {**vocabulary, **config.get("vocabulary", {})}}


def _field_problem(data: dict[str, Any]) -> str | None:
    """Why ``data`` does not hold well-typed :class:`Checkpoint` fields, or ``None``."""
    expected: dict[str, tuple[type, ...]] = {
        "model_kind": (str,),
        "config": (dict,),
        "state_dict": (dict,),
        "optimizer_state": (dict, type(None)),
        "step": (int,),
        "format_version": (int,),
        "moldojo_version": (str,),
        "extra": (dict,),
    }
    for f in dataclasses.fields(Checkpoint):
        if f.name not in data:
            return f"missing {f.name!r}"
        value = data[f.name]
        allowed = expected.get(f.name)
        if allowed is None:
            continue
        if not isinstance(value, allowed) or isinstance(value, bool):
            names = " or ".join("None" if t is type(None) else t.__name__ for t in allowed)
            return f"{f.name!r} is {type(value).__name__}, expected {names}"
    if not data["model_kind"]:
        return "'model_kind' is empty"
    if data["step"] < 0:
        return f"'step' is {data['step']}, expected a non-negative integer"
    for key, value in data["state_dict"].items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            return (
                f"state_dict[{key!r}] is {type(value).__name__} under a "
                f"{type(key).__name__} key, expected a tensor under a str key"
            )
    return None


# Exact types, not subclasses: NumPy's float64 is a float, a namedtuple a tuple, and neither
# loads with weights_only=True. OrderedDict is what Module.state_dict() returns, and is allowed.
_SCALARS = (str, int, float, bool, type(None), torch.Tensor, torch.nn.Parameter)
_MAPPINGS = (dict, OrderedDict)
_SEQUENCES = (list, tuple)


def _check_plain(value: Any, key_path: str, path: Path) -> None:
    """Raise unless ``value`` is plain data or tensors all the way down."""
    if type(value) in _SCALARS:
        return
    if type(value) in _MAPPINGS:
        for k, v in value.items():
            if type(k) not in (str, int):
                raise CheckpointError(
                    f"cannot save checkpoint to {path}: {key_path} has a key {k!r} of type "
                    f"{type(k).__name__}; only str and int keys are allowed"
                )
            _check_plain(v, f"{key_path}[{k!r}]", path)
        return
    if type(value) in _SEQUENCES:
        for i, v in enumerate(value):
            _check_plain(v, f"{key_path}[{i}]", path)
        return
    raise CheckpointError(
        f"cannot save checkpoint to {path}: {key_path} is a {type(value).__module__}."
        f"{type(value).__qualname__}, which is not plain data; convert it to dict, list, str, "
        "int, float, bool, None or a torch.Tensor (e.g. float(x) for a NumPy number, "
        "dataclasses.asdict for a dataclass, config_to_dict for a config)"
    )


def _first_line(exc: BaseException) -> str:
    """The informative line of a torch.load error (its first line is often boilerplate)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return "(no message)"
    for i, line in enumerate(lines):
        if "unsupported global" in line.lower():
            return line[:300]
        if "WeightsUnpickler error:" in line:
            rest = line.split("WeightsUnpickler error:", 1)[1].strip()
            if rest:
                return rest[:300]
            if i + 1 < len(lines):
                return lines[i + 1][:300]
    return lines[0][:300]
