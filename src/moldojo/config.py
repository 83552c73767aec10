"""Configs on pydantic: the :class:`Config` base, TOML in and out, ``--set`` overrides.

Each component defines its config as a :class:`Config` subclass: frozen, strict, no unknown keys,
its constraints written as types (``Literal[...]``, ``PositiveInt``, ``Field(ge=0, lt=1)``) and a
``model_validator`` only for checks across fields. This module reads such a config from plain data
or a TOML file, applies ``--set section.key=value`` overrides, and writes it back to TOML so that
``load_config(cls, dump_config(cfg, path)) == cfg``. Every failure is a
:class:`~moldojo.errors.ConfigError` of one line naming the dotted key, where it came from (file
and line, or the override), the value given and what is allowed.

Imports nothing from moldojo but :mod:`moldojo.errors`.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union

import annotated_types
import tomli_w
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, model_validator

from moldojo.errors import ConfigError

__all__ = [
    "Config",
    "apply_overrides",
    "config_from_dict",
    "config_to_dict",
    "dump_config",
    "load_config",
    "replace_config",
]

C = TypeVar("C", bound="Config")

_OVERRIDE_FORM = "--set section.key=value"
_NONE_TOKEN = "none"


class Config(BaseModel):
    """Base of every moldojo config: frozen, hashable, strict, and no unknown keys.

    Strict means no silent conversion (``"3"`` is not an integer, ``1`` is not ``true``), with
    three exceptions for TOML: an integer is accepted for a float, an array (a list) for a tuple
    field, and, TOML having no null, the string ``"none"`` (any case) for ``None`` in a field that
    allows ``None``, unless ``"none"`` is itself a valid value of the field (``str | None``).
    Building one directly, ``TrainConfig(batch_size=0)``, raises :class:`ConfigError` too.
    """

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _config_error(exc, type(self), _Context(source=type(self).__name__)) from exc

    # Marks this __init__ as pydantic's own (as RootModel does), so that nested configs and
    # model_validate do not call it: they must raise ValidationError, whose locations we need.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def __setattr__(self, name: str, value: Any) -> None:
        # A frozen dataclass raises AttributeError here; pydantic's own error is a ValueError.
        raise AttributeError(f"{type(self).__name__} is frozen; use replace_config(cfg, {name}=...)")

    @model_validator(mode="before")
    @classmethod
    def _from_toml(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        for name, value in data.items():
            info = cls.model_fields.get(name)
            if info is None:
                continue
            if isinstance(value, list) and typing.get_origin(_optional(info.annotation)) is tuple:
                data[name] = tuple(value)
            elif _means_none(info.annotation, value):
                data[name] = None
        return data


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def config_from_dict(cls: type[C], data: Mapping[str, Any], *, source: str = "<dict>") -> C:
    """Build config ``cls`` from plain data: keys are field names, a nested config is a table.

    Missing keys take the defaults. ``source`` (e.g. a file name) is named in error messages.

    Raises:
        ConfigError: on an unknown key, a missing required key or an invalid value.
    """
    return _validate(cls, data, _Context(source=source))


def load_config(cls: type[C], path: str | Path | None = None, overrides: Sequence[str] = ()) -> C:
    """Read config ``cls`` from a TOML file (``None``: the defaults) and apply overrides.

    Args:
        cls: the :class:`Config` subclass to build.
        path: a TOML file, or ``None`` to start from the defaults.
        overrides: items ``"section.key=value"``; ``value`` is read as a TOML value (``3``,
            ``0.5``, ``true``, ``"x"``, ``[1, 2]``, ``{a = 1}``), else, or when the field refuses
            it, as a bare string (so ``model.norm=layer`` works). Later items win.

    Raises:
        ConfigError: the file cannot be read or is not TOML (with tomllib's line and column),
            an override is malformed or names an unknown key, or a value is invalid.
    """
    data: dict[str, Any] = {}
    ctx = _Context(source="<defaults>")
    if path is not None:
        path = Path(path)
        text = _read_text(path)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{path}: invalid TOML: {exc}; fix the syntax at that line "
                "(strings need quotes, tables are written [section])"
            ) from exc
        ctx = _Context(source=str(path), text=text)
    _merge_overrides(cls, data, overrides, ctx)
    return _validate(cls, data, ctx)


def apply_overrides(cfg: C, overrides: Sequence[str]) -> C:
    """A copy of ``cfg`` with ``--set``-style overrides applied (see :func:`load_config`)."""
    if not overrides:
        return cfg
    data = cfg.model_dump()
    ctx = _Context(source=f"<{type(cfg).__name__} instance>")
    _merge_overrides(type(cfg), data, overrides, ctx)
    return _validate(type(cfg), data, ctx)


def replace_config(cfg: C, **changes: Any) -> C:
    """``cfg`` with some fields replaced, validated (unlike ``cfg.model_copy(update=...)``)."""
    return type(cfg)(**{name: getattr(cfg, name) for name in type(cfg).model_fields} | changes)


def config_to_dict(cfg: Config) -> dict[str, Any]:
    """``cfg`` as plain, TOML-writable data: dicts, lists, str, int, float, bool.

    TOML has no null: a ``None`` is left out where it is the default, else written ``"none"``.

    Raises:
        ConfigError: a ``None`` that would read back as the string ``"none"`` (a ``str | None``
            field whose default is not ``None``).
    """
    out: dict[str, Any] = {}
    for name, info in type(cfg).model_fields.items():
        value = getattr(cfg, name)
        if value is None and info.get_default(call_default_factory=True) is None:
            continue
        if value is None and not _means_none(info.annotation, _NONE_TOKEN):
            raise ConfigError(
                f"cannot write {name} = None to TOML: TOML has no null, the field's default is "
                f"not None, and 'none' would read back as a string for {_type_name(info.annotation)}"
                "; make None the field's default, or use a Literal type"
            )
        out[name] = _NONE_TOKEN if value is None else _plain(value)
    return out


def dump_config(cfg: Config, path: str | Path) -> Path:
    """Write ``cfg`` to the TOML file ``path`` (parents created); returns ``path`` as a Path."""
    path = Path(path)
    text = tomli_w.dumps(config_to_dict(cfg))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, Config):
        return config_to_dict(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# Validation errors, in one line
# --------------------------------------------------------------------------------------------


def _validate(cls: type[C], data: Any, ctx: _Context) -> C:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        first = exc
    # An override's TOML value that the field refuses is retried as its raw text, so that
    # --set name=1e3 gives a str field "1e3"; if that fails too, the first error stands.
    failed = [_dotted(e["loc"]) for e in first.errors()]
    retry = [k for k in ctx.raw if any(p == k or p.startswith((k + ".", k + "[")) for p in failed)]
    if retry:
        for key in retry:
            _set(data, key.split("."), ctx.raw[key])
        try:
            return cls.model_validate(data)
        except ValidationError:
            pass
    raise _config_error(first, cls, ctx) from first


def _config_error(exc: ValidationError, cls: type[Config], ctx: _Context) -> ConfigError:
    """The first of pydantic's errors (unknown and missing keys first) as a one-line message."""
    error = min(exc.errors(), key=lambda e: {"extra_forbidden": 0, "missing": 1}.get(e["type"], 2))
    if error["type"] in ("extra_forbidden", "missing"):
        loc, model, _ = _resolve(cls, error["loc"][:-1])
        section, key = _dotted(loc), str(error["loc"][-1])
        path, fields = _join(section, key), list(model.model_fields)
        where = f"in [{section}]" if section else "at the top level"
        if error["type"] == "missing":
            return ConfigError(
                f"{ctx.where_section(section)}: missing required key {path!r} {where}; "
                f"add `{key} = ...` to the file or pass --set {path}=value"
            )
        close = difflib.get_close_matches(key, fields, n=1)
        hint = f" (did you mean {_join(section, close[0])!r}?)" if close else ""
        return ConfigError(
            f"{ctx.where(path)}: unknown key {path!r}{hint}; "
            f"allowed keys {where}: {', '.join(fields) or '(none)'}"
        )
    loc, tp, metadata = _resolve(cls, error["loc"])
    path = _dotted(loc)
    if error["type"] in ("value_error", "assertion_error"):
        reason = str(error.get("ctx", {}).get("error", error["msg"]))
        if _model_in(tp) is not None:  # a model_validator: a check across fields
            section = f"[{path}] ({tp.__name__})" if path else tp.__name__
            return ConfigError(f"{ctx.where_section(path)}: invalid {section}: {reason}")
    else:
        reason = "expected " + (error["msg"] if tp is None else _describe(tp, metadata))
    value = error["input"]
    return ConfigError(
        f"{ctx.where(path)}: {path or 'the configuration'} = {value!r} "
        f"({type(value).__name__}) is not allowed; {reason}"
    )


def _resolve(cls: type[Config], loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any, list[Any]]:
    """Follow ``loc`` from ``cls`` through fields, items and table values.

    Returns the part of ``loc`` that names keys (not pydantic's union tags), the annotation
    there, and the field's constraints (``Gt(0)``, ...).
    """
    tp: Any = cls
    metadata: list[Any] = []
    for i, part in enumerate(loc):
        inner, model = _optional(tp), _model_in(tp)
        origin, args = typing.get_origin(inner), typing.get_args(inner)
        if model is not None and part in model.model_fields:
            tp, metadata = model.model_fields[part].annotation, model.model_fields[part].metadata
        elif origin in (tuple, list) and isinstance(part, int) and args:
            tp = args[0] if origin is list or args[-1] is Ellipsis else args[min(part, len(args) - 1)]
            metadata = []
        elif origin is dict and args:
            tp, metadata = args[1], []
        else:
            return loc[:i], tp, metadata
    return loc, tp, metadata


_BOUNDS = ((annotated_types.Gt, ">", "gt"), (annotated_types.Ge, ">=", "ge"),
           (annotated_types.Lt, "<", "lt"), (annotated_types.Le, "<=", "le"))  # fmt: skip
_KINDS = {int: ("an integer", "3"), float: ("a number", "0.5"), bool: ("true or false", ""),
          str: ("a string", '"abc"')}  # fmt: skip


def _describe(tp: Any, metadata: Sequence[Any] = ()) -> str:
    """What annotation ``tp`` with constraints ``metadata`` allows, in words."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Annotated:
        return _describe(args[0], [*metadata, *tp.__metadata__])
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        text = " or ".join(_describe(a, metadata) for a in members)
        if len(members) < len(args):
            text += ' or "none"' if _means_none(tp, _NONE_TOKEN) else " or None"
        return text
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    bounds = [f"{op} {getattr(m, attr)}" for m in metadata for kind, op, attr in _BOUNDS
              if isinstance(m, kind)]  # fmt: skip
    if tp in _KINDS:
        kind, example = _KINDS[tp]
        if bounds:
            return f"{kind} {' and '.join(bounds)}"
        return f"{kind} (e.g. {example})" if example else kind
    if origin in (tuple, list, dict):
        noun = "a table" if origin is dict else "an array"
        at_least = [m.min_length for m in metadata if isinstance(m, annotated_types.MinLen)]
        return f"{noun} ({_type_name(tp)})" + "".join(f" of at least {n} item" for n in at_least)
    if _model_in(tp) is not None:
        return f"a table of {tp.__name__} settings"
    return _type_name(tp)


def _type_name(tp: Any) -> str:
    return tp.__name__ if isinstance(tp, type) else str(tp).replace("typing.", "")


def _optional(tp: Any) -> Any:
    """``X`` of ``X | None``; else ``tp``."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return tp


def _model_in(tp: Any) -> type[Config] | None:
    """The config class of ``tp`` or ``tp | None``; else ``None``."""
    tp = _optional(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _means_none(tp: Any, value: Any) -> bool:
    """Whether ``value`` is the "none" token that reads as ``None`` for annotation ``tp``."""
    args = typing.get_args(tp)
    if not (isinstance(value, str) and value.lower() == _NONE_TOKEN and type(None) in args):
        return False
    try:
        TypeAdapter(Union[tuple(a for a in args if a is not type(None))]).validate_python(  # noqa: UP007
            value, strict=True
        )
    except ValidationError:
        return True
    return False


def _dotted(loc: Sequence[Any]) -> str:
    """``("model", "dims", 1)`` -> ``"model.dims[1]"``."""
    path = ""
    for part in loc:
        path = f"{path}[{part}]" if isinstance(part, int) else _join(path, str(part))
    return path


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --------------------------------------------------------------------------------------------
# Where a value came from
# --------------------------------------------------------------------------------------------


@dataclass
class _Context:
    """What error messages need: the source, its text (for line numbers), the overrides."""

    source: str
    text: str | None = None
    #: dotted key -> the ``--set`` item that gave it.
    overrides: dict[str, str] = field(default_factory=dict)
    #: dotted key -> the override's raw text, tried as a bare string if the TOML value fails.
    raw: dict[str, str] = field(default_factory=dict)

    def where(self, path: str) -> str:
        """``--set a.b=c``, or ``file.toml, line 3``, or ``file.toml``."""
        keys = [k for k in self.overrides if path == k or path.startswith((k + ".", k + "["))]
        if keys:
            return f"--set {self.overrides[max(keys, key=len)]}"
        line = None if self.text is None else _find_line(self.text, path)
        return self.source if line is None else f"{self.source}, line {line}"

    def where_section(self, path: str) -> str:
        """The source, plus every ``--set`` item inside section ``path``."""
        items = [item for key, item in self.overrides.items()
                 if not path or key == path or key.startswith(path + ".")]  # fmt: skip
        return self.source + "".join(f" with --set {item}" for item in items)


_HEADER = re.compile(r"^\[\s*([^\[\]]+?)\s*\]")
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_KEY_LINE = re.compile(rf"^({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")
_INDEX = re.compile(r"\[\d+\]")


def _split_key(key: str) -> list[str]:
    return [part.strip().strip("\"'") for part in key.split(".")]


def _find_line(text: str, path: str) -> int | None:
    """Line number of ``key =`` (or ``[section]``) for dotted ``path`` in TOML ``text``.

    Scans line by line, tracking ``[table]`` headers. Prefers an exact match, then a line
    defining a prefix of the path (an inline table or array), then any line whose last key
    matches. Good enough for error messages; it never raises.
    """
    parts = _split_key(_INDEX.sub("", path)) if path else []
    if not parts:
        return None
    table: list[str] = []
    prefix_line: tuple[int, int] | None = None  # (prefix length, line)
    suffix_line: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[["):
            table = []
            continue
        header = _HEADER.match(stripped)
        if header:
            table = _split_key(header.group(1))
            if table == parts:
                return number
            continue
        key_line = _KEY_LINE.match(stripped)
        if not key_line:
            continue
        key = table + _split_key(key_line.group(1))
        if key == parts:
            return number
        if len(key) < len(parts) and parts[: len(key)] == key:
            if prefix_line is None or len(key) > prefix_line[0]:
                prefix_line = (len(key), number)
        elif key[-1] == parts[-1] and suffix_line is None:
            suffix_line = number
    return prefix_line[1] if prefix_line is not None else suffix_line


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such config file; check the path") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{path} is a directory; give the path of a .toml file") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a UTF-8 text file ({exc}); TOML must be UTF-8") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from exc


# --------------------------------------------------------------------------------------------
# Overrides
# --------------------------------------------------------------------------------------------


def _parse_override(item: str) -> tuple[str, Any, str]:
    """Split ``"a.b=value"`` into the key, the parsed value and the raw value text."""
    if not isinstance(item, str) or "=" not in item:
        raise ConfigError(
            f"override {item!r} has no '='; the accepted form is {_OVERRIDE_FORM} "
            "(e.g. --set model.hidden_dim=128)"
        )
    key, raw = (part.strip() for part in item.split("=", 1))
    if not key or any(not part.strip() for part in key.split(".")):
        raise ConfigError(
            f"override {item!r} has an empty key; the accepted form is {_OVERRIDE_FORM}"
        )
    try:
        parsed = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        return key, raw, raw
    if set(parsed) != {"v"}:  # e.g. a value holding a newline and another key
        return key, raw, raw
    return key, parsed["v"], raw


def _valid_keys(cls: type[Config], prefix: str = "") -> list[str]:
    """Every dotted leaf key of ``cls``: ``model.hidden_dim``, ``seed``, ..."""
    keys: list[str] = []
    for name, info in cls.model_fields.items():
        section = _model_in(info.annotation)
        keys += [_join(prefix, name)] if section is None else _valid_keys(section, _join(prefix, name))
    return keys


def _check_override_key(cls: type[Config], key: str, item: str) -> None:
    """Raise unless dotted ``key`` names a field (or a section, or a key of a table field)."""
    tp: Any = cls
    parts = key.split(".")
    for i, part in enumerate(parts):
        section = _model_in(tp)
        if section is not None and part in section.model_fields:
            tp = section.model_fields[part].annotation
            continue
        if section is None and typing.get_origin(_optional(tp)) is dict:
            tp = typing.get_args(_optional(tp))[1]
            continue
        done = ".".join(parts[:i])
        valid = _valid_keys(cls)
        close = difflib.get_close_matches(key, valid, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        what = f"{done!r} has no key {part!r}" if done else f"unknown key {part!r}"
        raise ConfigError(
            f"--set {item}: {what}.{hint} The accepted form is {_OVERRIDE_FORM}; "
            f"valid keys are: {', '.join(valid)}"
        )


def _merge_overrides(
    cls: type[Config], data: dict[str, Any], overrides: Sequence[str], ctx: _Context
) -> None:
    """Check each override's key against ``cls`` and write its value into ``data``."""
    if isinstance(overrides, str):
        raise TypeError("overrides must be a sequence of 'key=value' strings, not one string")
    for item in overrides:
        key, value, raw = _parse_override(item)
        _check_override_key(cls, key, item)
        _set(data, key.split("."), value)
        # A later override of the same key (or of a section containing it) wins.
        for old in [k for k in ctx.overrides if k == key or k.startswith(key + ".")]:
            del ctx.overrides[old]
            ctx.raw.pop(old, None)
        ctx.overrides[key] = item
        if not isinstance(value, str):
            ctx.raw[key] = raw


def _set(data: dict[str, Any], parts: list[str], value: Any) -> None:
    """``data[a][b] = value`` for ``parts == [a, b]``; a table is merged into a table."""
    for part in parts[:-1]:
        if not isinstance(data.get(part), dict):
            data[part] = {}
        data = data[part]
    if isinstance(value, Mapping) and isinstance(data.get(parts[-1]), dict):
        for key, item in value.items():
            _set(data[parts[-1]], [key], item)
    else:
        data[parts[-1]] = value
