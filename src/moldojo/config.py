"""Generic machinery for frozen dataclass configs: build from TOML, override, check, write back.

Each component defines its own ``@dataclass(frozen=True)`` config, validated in
``__post_init__`` (raising :class:`~moldojo.errors.ConfigError`). This module turns plain data,
as read from a TOML file or given as ``--set section.key=value`` overrides, into such a
dataclass, checking every value against the field's annotation, and writes a config back to
TOML so that ``load_config(cls, dump_config(cfg, path)) == cfg``.

Supported annotations: ``int`` (``bool`` is rejected), ``float`` (an ``int`` is converted),
``bool``, ``str``, ``Literal[...]``, ``X | None``, ``tuple[X, ...]``, fixed ``tuple[X, Y]``,
``list[X]``, ``dict[str, X]``, nested dataclasses (a TOML table) and ``Any``. TOML has no null,
so for a field that allows ``None`` the string ``"none"`` (any case) means ``None``, unless
``"none"`` is itself a valid value of the field's other type (as it is for ``str | None``).

Imports nothing from moldojo but :mod:`moldojo.errors`.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

import tomli_w

from moldojo.errors import ConfigError

__all__ = [
    "apply_overrides",
    "config_from_dict",
    "config_to_dict",
    "dump_config",
    "load_config",
]

T = TypeVar("T")

_OVERRIDE_FORM = "--set section.key=value"
_NONE_TOKEN = "none"
_MISSING = dataclasses.MISSING


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def config_from_dict(cls: type[T], data: Mapping[str, Any], *, source: str = "<dict>") -> T:
    """Build a (possibly nested) frozen dataclass config from plain data.

    Args:
        cls: the dataclass to build.
        data: plain data as read from TOML: keys are field names, a nested dataclass is a
            table (mapping). Missing keys take the dataclass defaults.
        source: where the data came from, named in error messages (e.g. a file name).

    Returns:
        An instance of ``cls``; its ``__post_init__`` validation has run.

    Raises:
        ConfigError: on an unknown key, a value of the wrong type, a missing required key, or
            a ``__post_init__`` validation failure. The message names the dotted key, the
            source, the value given and what is allowed.
    """
    return _build(cls, data, "", _Context(source=source))


def load_config(cls: type[T], path: str | Path | None = None, overrides: Sequence[str] = ()) -> T:
    """Read a config from a TOML file and apply ``--set``-style overrides.

    Args:
        cls: the dataclass to build.
        path: a TOML file, or ``None`` to start from the dataclass defaults.
        overrides: items of the form ``"section.key=value"``; ``value`` is parsed as a TOML
            value (``3``, ``0.5``, ``true``, ``"x"``, ``[1, 2]``, ``{a = 1}``) and, when it is not
            valid TOML, taken as a bare string (so ``model.norm=layer`` works). Later items win.

    Returns:
        An instance of ``cls`` holding the file's values with the overrides applied.

    Raises:
        ConfigError: if the file cannot be read or is not valid TOML (with tomllib's line and
            column), if an override is malformed or names an unknown key, or if any value is
            invalid (see :func:`config_from_dict`).
    """
    if path is None:
        data: dict[str, Any] = {}
        ctx = _Context(source="<defaults>")
    else:
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
    return _build(cls, data, "", ctx)


def apply_overrides(cfg: T, overrides: Sequence[str]) -> T:
    """Return a copy of ``cfg`` with ``--set``-style overrides applied.

    Args:
        cfg: a dataclass config instance.
        overrides: items of the form ``"section.key=value"`` (see :func:`load_config`).

    Returns:
        A new instance (the original is unchanged); ``__post_init__`` validation has run on it.

    Raises:
        ConfigError: if an override is malformed, names an unknown key, or gives an invalid
            value.
    """
    cls = type(cfg)
    _require_dataclass(cls)
    if not overrides:
        return cfg
    data = _to_data(cfg)
    ctx = _Context(source=f"<{cls.__name__} instance>")
    _merge_overrides(cls, data, overrides, ctx)
    return _build(cls, data, "", ctx)


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Turn a dataclass config into plain, TOML-writable data.

    Tuples become lists and nested dataclasses become dicts. TOML has no null, so a field
    holding ``None`` is omitted when ``None`` is also its default, and written as ``"none"``
    otherwise (which reads back as ``None``).

    Args:
        cfg: a dataclass config instance.

    Returns:
        A dict of plain data, such that ``config_from_dict(type(cfg), result) == cfg``.

    Raises:
        ConfigError: if a ``None`` cannot be written so that it reads back as ``None`` (a
            ``str | None`` field whose default is not ``None``).
    """
    _require_dataclass(type(cfg))
    return _encode_dataclass(cfg, "")


def dump_config(cfg: Any, path: str | Path) -> Path:
    """Write a dataclass config to a TOML file, creating parent directories.

    Args:
        cfg: a dataclass config instance.
        path: the file to write (overwritten if it exists).

    Returns:
        ``path``, as a :class:`~pathlib.Path`; ``load_config(type(cfg), path) == cfg``.

    Raises:
        ConfigError: see :func:`config_to_dict`.
    """
    path = Path(path)
    text = tomli_w.dumps(config_to_dict(cfg))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


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

    def override_for(self, path: str) -> str | None:
        """The ``--set`` item that gave ``path`` (or a section containing it), if any."""
        best: str | None = None
        for key in self.overrides:
            if (path == key or path.startswith(key + ".") or path.startswith(key + "[")) and (
                best is None or len(key) > len(best)
            ):
                best = key
        return None if best is None else self.overrides[best]

    def where(self, path: str) -> str:
        """``--set a.b=c``, or ``file.toml, line 3``, or ``file.toml``."""
        item = self.override_for(path)
        if item is not None:
            return f"--set {item}"
        if self.text is not None:
            line = _find_line(self.text, path)
            if line is not None:
                return f"{self.source}, line {line}"
        return self.source

    def where_section(self, path: str) -> str:
        """The source, plus every ``--set`` item inside section ``path``."""
        items = [
            item
            for key, item in self.overrides.items()
            if not path or key == path or key.startswith(path + ".")
        ]
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
    if prefix_line is not None:
        return prefix_line[1]
    return suffix_line


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
# Building a dataclass from plain data
# --------------------------------------------------------------------------------------------


def _require_dataclass(cls: Any) -> None:
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{cls!r} is not a dataclass type; configs must be dataclasses")


def _init_fields(cls: type) -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(cls) if f.init}


def _hints(cls: type) -> dict[str, Any]:
    # Annotations are strings under ``from __future__ import annotations``; resolve them.
    return typing.get_type_hints(cls)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _section_name(path: str) -> str:
    return f"in [{path}]" if path else "at the top level"


def _build(cls: type[T], data: Any, path: str, ctx: _Context) -> T:
    """Build dataclass ``cls`` at dotted ``path`` from mapping ``data``."""
    _require_dataclass(cls)
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{ctx.where(path)}: {path or 'the config'} = {data!r} "
            f"({type(data).__name__}) is not allowed; expected a table of "
            f"{cls.__name__} settings (keys: {', '.join(_init_fields(cls))})"
        )
    fields_ = _init_fields(cls)
    hints = _hints(cls)
    for key in data:
        if key not in fields_:
            raise _unknown_key_error(key, path, fields_, ctx)
    kwargs: dict[str, Any] = {}
    for name, f in fields_.items():
        key_path = _join(path, name)
        if name in data:
            kwargs[name] = _convert(data[name], hints[name], key_path, ctx)
        elif f.default is _MISSING and f.default_factory is _MISSING:
            raise ConfigError(
                f"{ctx.where_section(path)}: missing required key {key_path!r} "
                f"{_section_name(path)}; add `{name} = ...` to the file or pass "
                f"--set {key_path}=value"
            )
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        where = ctx.where_section(path)
        section = f"[{path}] ({cls.__name__})" if path else f"the configuration ({cls.__name__})"
        raise ConfigError(f"{where}: invalid {section}: {exc}") from exc


def _unknown_key_error(
    key: Any, path: str, fields_: Mapping[str, Any], ctx: _Context
) -> ConfigError:
    key_path = _join(path, str(key))
    allowed = ", ".join(fields_) or "(none)"
    close = difflib.get_close_matches(str(key), list(fields_), n=1)
    hint = f" (did you mean {_join(path, close[0])!r}?)" if close else ""
    return ConfigError(
        f"{ctx.where(key_path)}: unknown key {key_path!r}{hint}; "
        f"allowed keys {_section_name(path)}: {allowed}"
    )


def _type_name(tp: Any) -> str:
    """A readable name for an annotation: ``int``, ``tuple[str, ...]``, ``'a' | 'b' | None``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is type(None):
        return "None"
    if origin is Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is not None:
        inner = ", ".join("..." if a is Ellipsis else _type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    return getattr(tp, "__name__", str(tp))


def _describe(tp: Any) -> str:
    """What is allowed for ``tp``, in words for an error message."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is int:
        return "an integer (e.g. 3)"
    if tp is float:
        return "a number (e.g. 0.5)"
    if tp is bool:
        return "true or false"
    if tp is str:
        return 'a string (e.g. "abc")'
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        text = " or ".join(_describe(a) for a in non_none)
        if len(non_none) < len(args):
            text += ' or "none"' if _none_token_means_none(tp) else " or None"
        return text
    if origin in (tuple, list):
        return f"an array ({_type_name(tp)})"
    if origin is dict or tp is dict:
        return f"a table ({_type_name(tp)})"
    if dataclasses.is_dataclass(tp):
        return f"a table of {tp.__name__} settings"
    return _type_name(tp)


def _convert(value: Any, tp: Any, path: str, ctx: _Context) -> Any:
    """Check ``value`` against annotation ``tp`` and convert it (arrays to tuples, ...).

    An override's value that fails as TOML is retried as the raw string, so that
    ``--set name=1e3`` gives the string ``"1e3"`` to a ``str`` field.
    """
    try:
        return _convert_value(value, tp, path, ctx)
    except ConfigError:
        raw = ctx.raw.get(path)
        if raw is None or raw == value:
            raise
        try:
            return _convert_value(raw, tp, path, ctx)
        except ConfigError:
            pass
        raise


def _type_error(value: Any, tp: Any, path: str, ctx: _Context) -> ConfigError:
    return ConfigError(
        f"{ctx.where(path)}: {path} = {value!r} ({type(value).__name__}) is not allowed; "
        f"expected {_describe(tp)}"
    )


def _convert_value(value: Any, tp: Any, path: str, ctx: _Context) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)

    if tp is Any or tp is object:
        return value
    if tp is type(None):
        if value is None:
            return None
        raise _type_error(value, tp, path, ctx)
    if origin in (Union, types.UnionType):
        return _convert_union(value, tp, path, ctx)
    if origin is Literal:
        for allowed in args:
            if type(value) is type(allowed) and value == allowed:
                return value
        raise _type_error(value, tp, path, ctx)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _type_error(value, tp, path, ctx)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _type_error(value, tp, path, ctx)
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise _type_error(value, tp, path, ctx)
    if tp is str:
        if isinstance(value, str):
            return value
        raise _type_error(value, tp, path, ctx)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _build(tp, value, path, ctx)
    if origin is tuple or tp is tuple:
        if not isinstance(value, list | tuple):
            raise _type_error(value, tp, path, ctx)
        if not args:
            return tuple(value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], f"{path}[{i}]", ctx) for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(
                f"{ctx.where(path)}: {path} = {value!r} has {len(value)} items; "
                f"expected exactly {len(args)} ({_type_name(tp)})"
            )
        return tuple(
            _convert(v, a, f"{path}[{i}]", ctx)
            for i, (v, a) in enumerate(zip(value, args, strict=True))
        )
    if origin is list or tp is list:
        if not isinstance(value, list | tuple):
            raise _type_error(value, tp, path, ctx)
        item_tp = args[0] if args else Any
        return [_convert(v, item_tp, f"{path}[{i}]", ctx) for i, v in enumerate(value)]
    if origin is dict or tp is dict:
        if not isinstance(value, Mapping):
            raise _type_error(value, tp, path, ctx)
        key_tp, value_tp = args if args else (Any, Any)
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if key_tp is str and not isinstance(k, str):
                raise ConfigError(
                    f"{ctx.where(path)}: {path} has key {k!r} ({type(k).__name__}); "
                    "keys must be strings"
                )
            out[k] = _convert(v, value_tp, _join(path, str(k)), ctx)
        return out
    if isinstance(tp, type):
        if isinstance(value, tp):
            return value
        raise _type_error(value, tp, path, ctx)
    raise TypeError(f"moldojo.config cannot check a field annotated {tp!r} (at {path!r})")


def _convert_union(value: Any, tp: Any, path: str, ctx: _Context) -> Any:
    args = typing.get_args(tp)
    allows_none = type(None) in args
    members = [a for a in args if a is not type(None)]
    if value is None:
        if allows_none:
            return None
        raise _type_error(value, tp, path, ctx)
    first_error: ConfigError | None = None
    for member in members:
        try:
            return _convert_value(value, member, path, ctx)
        except ConfigError as exc:
            first_error = first_error or exc
    # "none" is None only when no other member accepts the string "none" itself.
    if allows_none and isinstance(value, str) and value.lower() == _NONE_TOKEN:
        return None
    if len(members) == 1 and isinstance(value, Mapping | list | tuple) and first_error:
        raise first_error  # the precise error from inside a table or array
    raise _type_error(value, tp, path, ctx)


def _none_token_means_none(tp: Any) -> bool:
    """Whether the string ``"none"`` reads back as ``None`` for annotation ``tp``."""
    if type(None) not in typing.get_args(tp):
        return False
    try:
        return _convert_union(_NONE_TOKEN, tp, "", _Context(source="")) is None
    except ConfigError:
        return False


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
    key, raw = item.split("=", 1)
    key, raw = key.strip(), raw.strip()
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


def _valid_keys(cls: type, prefix: str = "") -> list[str]:
    """Every dotted leaf key of dataclass ``cls``: ``model.hidden_dim``, ``seed``, ..."""
    keys: list[str] = []
    hints = _hints(cls)
    for name in _init_fields(cls):
        section = _dataclass_in(hints[name])
        if section is not None:
            keys.extend(_valid_keys(section, _join(prefix, name)))
        else:
            keys.append(_join(prefix, name))
    return keys


def _dataclass_in(tp: Any) -> type | None:
    """The dataclass of ``tp``, or of ``tp | None``; else ``None``."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        tp = members[0] if len(members) == 1 else None
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return tp
    return None


def _dict_value_type(tp: Any) -> Any | None:
    """The value type of ``dict[str, X]`` (or ``dict[str, X] | None``); else ``None``."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        tp = members[0] if len(members) == 1 else None
    if typing.get_origin(tp) is dict:
        args = typing.get_args(tp)
        return args[1] if args else Any
    if tp is dict:
        return Any
    return None


def _check_override_key(cls: type, key: str, item: str) -> None:
    """Raise unless dotted ``key`` names a field (or a section, or a key of a dict field)."""
    tp: Any = cls
    parts = key.split(".")
    for i, part in enumerate(parts):
        section = _dataclass_in(tp)
        if section is not None:
            fields_ = _init_fields(section)
            if part in fields_:
                tp = _hints(section)[part]
                continue
        elif _dict_value_type(tp) is not None:
            tp = _dict_value_type(tp)
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
    cls: type, data: dict[str, Any], overrides: Sequence[str], ctx: _Context
) -> None:
    """Check each override's key against ``cls`` and write its value into ``data``."""
    if isinstance(overrides, str):
        raise TypeError("overrides must be a sequence of 'key=value' strings, not one string")
    for item in overrides:
        key, value, raw = _parse_override(item)
        _check_override_key(cls, key, item)
        parts = key.split(".")
        node = data
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        last = parts[-1]
        if isinstance(value, dict) and isinstance(node.get(last), dict):
            _deep_merge(node[last], value)
        else:
            node[last] = value
        # A later override of the same key (or of a section containing it) wins.
        for old in [k for k in ctx.overrides if k == key or k.startswith(key + ".")]:
            del ctx.overrides[old]
            ctx.raw.pop(old, None)
        ctx.overrides[key] = item
        if not isinstance(value, str):
            ctx.raw[key] = raw


def _deep_merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


def _to_data(cfg: Any) -> Any:
    """Nested dicts of ``cfg``'s init fields, keeping ``None`` (for rebuilding, not TOML)."""
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        return {name: _to_data(getattr(cfg, name)) for name in _init_fields(type(cfg))}
    if isinstance(cfg, Mapping):
        return {k: _to_data(v) for k, v in cfg.items()}
    if isinstance(cfg, list | tuple):
        return [_to_data(v) for v in cfg]
    return cfg


# --------------------------------------------------------------------------------------------
# Writing plain data
# --------------------------------------------------------------------------------------------


def _encode_dataclass(cfg: Any, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    hints = _hints(type(cfg))
    for name, f in _init_fields(type(cfg)).items():
        value = getattr(cfg, name)
        key_path = _join(path, name)
        if value is None:
            default_is_none = f.default is None or (
                f.default_factory is not _MISSING and f.default_factory() is None
            )
            if default_is_none:
                continue
        out[name] = _encode(value, hints[name], key_path)
    return out


def _encode(value: Any, tp: Any, path: str) -> Any:
    if value is None:
        if _none_token_means_none(tp):
            return _NONE_TOKEN
        raise ConfigError(
            f"cannot write {path} = None to TOML: TOML has no null, the field's default is "
            f"not None, and the string 'none' would read back as a string for {_type_name(tp)}; "
            "make None the field's default, or use a Literal type"
        )
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _encode_dataclass(value, path)
    inner = _strip_optional(tp)
    origin = typing.get_origin(inner)
    args = typing.get_args(inner)
    if isinstance(value, Mapping):
        value_tp = args[1] if origin is dict and args else Any
        return {str(k): _encode(v, value_tp, _join(path, str(k))) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if origin in (tuple, list) and args and not (len(args) == 2 and args[1] is Ellipsis):
            item_tps: list[Any] = list(args) if origin is tuple else [args[0]] * len(value)
        else:
            item_tps = [args[0] if args else Any] * len(value)
        return [
            _encode(v, t, f"{path}[{i}]")
            for i, (v, t) in enumerate(zip(value, item_tps, strict=True))
        ]
    return value


def _strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return tp
