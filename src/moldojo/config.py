"""Configs on pydantic: the :class:`Config` base, TOML in and out, ``--set`` overrides.

Each component's config is a :class:`Config` subclass whose constraints are types
(``Literal[...]``, ``PositiveInt``, ``Field(ge=0, lt=1)``), with a ``model_validator`` only for
checks across fields. This module builds one from plain data or a TOML file, applies
``--set section.key=value`` overrides, and writes it back so that
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
from typing import Annotated, Any, TypeVar, Union

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from moldojo.errors import ConfigError

__all__ = ["MAX_SIZE", "Config", "Size", "apply_overrides", "config_from_dict", "config_to_dict",
           "dump_config", "load_config", "replace_config"]  # fmt: skip

C = TypeVar("C", bound="Config")

#: Largest width, depth or batch a config accepts (2**20): far above any real model, and small
#: enough that sizes multiplied together stay within 64 bits, so that a mistyped
#: ``--set hidden_dim=99999999999`` is one line here, not an overflow deep inside torch.
MAX_SIZE = 2**20

#: A width, depth or batch size: an integer from 1 to :data:`MAX_SIZE`.
Size = Annotated[int, Field(gt=0, le=MAX_SIZE)]

_OVERRIDE_FORM = "--set section.key=value"
_NONE_TOKEN = "none"


class Config(BaseModel):
    """Base of every moldojo config: frozen, hashable, strict, and no unknown keys.

    Strict means no silent conversion (``"3"`` is not an integer, ``1`` is not ``true``), but
    for TOML an integer is a float, an array fills a tuple, and, TOML having no null, the string
    ``"none"`` (any case) is ``None`` in a field that allows ``None``, unless ``"none"`` is itself
    a valid value there (``str | None``). A float must be finite (``nan`` and ``inf`` pass
    pydantic's bounds: ``inf > 0``). ``TrainConfig(batch_size=0)`` raises ConfigError too.
    """

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid", allow_inf_nan=False)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _config_error(exc, type(self), _Context(type(self).__name__)) from exc

    # Marked as pydantic's own __init__ (as RootModel's is), so that nested configs and
    # model_validate do not call it: they must raise ValidationError, whose locations we need.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def __setattr__(self, name: str, value: Any) -> None:
        # As a frozen dataclass does; pydantic's own error would be a ValueError.
        raise AttributeError(f"{type(self).__name__} is frozen; use replace_config(cfg, {name}=)")

    @model_validator(mode="before")
    @classmethod
    def _from_toml(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        for name, value in data.items():
            tp = cls.model_fields[name].annotation if name in cls.model_fields else None
            if isinstance(value, list) and typing.get_origin(_optional(tp)) is tuple:
                data[name] = tuple(value)
            elif _means_none(tp, value):
                data[name] = None
        return data


def config_from_dict(cls: type[C], data: Mapping[str, Any], *, source: str = "<dict>") -> C:
    """Config ``cls`` from plain data: a nested config is a table, missing keys take defaults;
    a ConfigError names ``source`` (e.g. a file name)."""
    return _validate(cls, data, _Context(source))


def load_config(cls: type[C], path: str | Path | None = None, overrides: Sequence[str] = ()) -> C:
    """Config ``cls`` from a TOML file (``None``: the defaults) with ``overrides`` applied.

    Each override is ``"section.key=value"``; ``value`` is read as a TOML value (``3``, ``0.5``,
    ``true``, ``"x"``, ``[1, 2]``, ``{a = 1}``), else, or when the field refuses it, as a bare
    string (so ``model.norm=layer`` works). Later items win.
    """
    data: dict[str, Any] = {}
    ctx = _Context("<defaults>")
    if path is not None:
        path = Path(path)
        try:
            ctx = _Context(str(path), text=path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{path}: no such config file; check the path") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config file (UTF-8 TOML): {exc}") from exc
        try:
            data = tomllib.loads(ctx.text or "")
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{path}: invalid TOML: {exc}; fix the syntax at that line "
                "(strings need quotes, tables are written [section])"
            ) from exc
    _merge_overrides(data, overrides, ctx)
    return _validate(cls, data, ctx)


def apply_overrides(cfg: C, overrides: Sequence[str]) -> C:
    """A copy of ``cfg`` with ``--set``-style overrides applied (see :func:`load_config`)."""
    if not overrides:
        return cfg
    data = cfg.model_dump()
    ctx = _Context(f"<{type(cfg).__name__} instance>")
    _merge_overrides(data, overrides, ctx)
    return _validate(type(cfg), data, ctx)


def replace_config(cfg: C, **changes: Any) -> C:
    """``cfg`` with some fields replaced, validated (``cfg.model_copy(update=...)`` is not)."""
    return type(cfg)(**{name: getattr(cfg, name) for name in type(cfg).model_fields} | changes)


def config_to_dict(cfg: Config) -> dict[str, Any]:
    """``cfg`` as plain TOML data: dicts, lists (not tuples), str, int, float, bool. TOML has no
    null: a ``None`` is left out where it is the default, else written ``"none"`` (a ConfigError
    where that would read back as the string ``"none"``)."""
    out: dict[str, Any] = {}
    for name, info in type(cfg).model_fields.items():
        value = getattr(cfg, name)
        if value is None and info.get_default(call_default_factory=True) is None:
            continue
        if value is None and not _means_none(info.annotation, _NONE_TOKEN):
            raise ConfigError(
                f"cannot write {name} = None to TOML: TOML has no null, the default is not None, "
                "and 'none' would read back as a string; make None the field's default, or use "
                "a Literal type"
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


def _validate(cls: type[C], data: Any, ctx: _Context) -> C:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        first = exc
    # An override's TOML value that the field refuses is retried as its raw text, so that
    # --set name=1e3 gives a str field "1e3"; if that fails too, the first error stands.
    failed = [_dotted(e["loc"]) for e in first.errors()]
    retry = [k for k in ctx.raw if any(p.startswith(k) for p in failed)]
    for key in retry:
        _set(data, key.split("."), ctx.raw[key])
    if retry:
        try:
            return cls.model_validate(data)
        except ValidationError:
            pass
    raise _config_error(first, cls, ctx) from first


#: pydantic's error type -> what is allowed, in the words of TOML.
_EXPECTED = {
    "int_type": "an integer", "float_type": "a number", "bool_type": "true or false",
    "string_type": "a string", "tuple_type": "an array", "list_type": "an array",
    "dict_type": "a table", "model_type": "a table of {class_name} settings",
    "literal_error": "one of {expected}", "too_short": "{min_length} or more items",
    "finite_number": "a finite number",
}  # fmt: skip


def _config_error(exc: ValidationError, cls: type[Config], ctx: _Context) -> ConfigError:
    """The first of pydantic's errors (unknown and missing keys first) as one line."""
    error = min(exc.errors(), key=lambda e: {"extra_forbidden": 0, "missing": 1}.get(e["type"], 2))
    loc, kind, context = error["loc"], error["type"], error.get("ctx", {})
    path, section, parent = _dotted(loc), _dotted(loc[:-1]), _model_at(cls, loc[:-1])
    if kind in ("extra_forbidden", "missing") and parent is not None:
        key, fields = str(loc[-1]), list(parent.model_fields)
        where = f"in [{section}]" if section else "at the top level"
        if kind == "missing":
            return ConfigError(
                f"{ctx.where_section(section)}: missing required key {path!r} {where}; "
                f"add `{key} = ...` to the file or pass --set {path}=value"
            )
        close = difflib.get_close_matches(key, fields, n=1)
        hint = f" (did you mean {_join(section, close[0])!r}?)" if close else ""
        return ConfigError(
            f"{ctx.where(path)}: unknown key {path!r}{hint}; allowed keys {where}: "
            + ", ".join(fields)
        )
    model = _model_at(cls, loc)
    if kind in ("value_error", "assertion_error"):  # a validator's own message
        reason = str(context.get("error", error["msg"]))
        if model is not None:  # from a model_validator: a check across fields
            name = f"[{path}] ({model.__name__})" if path else model.__name__
            return ConfigError(f"{ctx.where_section(path)}: invalid {name}: {reason}")
    else:
        expected = context.get("expected", "").replace(" or ", ", ")  # 'a' or 'b': 'a', 'b'
        reason = (
            "expected " + _EXPECTED[kind].format(**context | {"expected": expected})
            if kind in _EXPECTED  # else a constraint: "Input should be greater than 0"
            else error["msg"].replace("Input should be", "expected a value")
        )
        info = parent.model_fields.get(loc[-1]) if parent is not None and loc else None
        if info is not None and _means_none(info.annotation, _NONE_TOKEN):
            reason += ' or "none"'
    value = error["input"]
    return ConfigError(
        f"{ctx.where(path)}: {path or 'the configuration'} = {value!r} "
        f"({type(value).__name__}) is not allowed; {reason}"
    )


def _model_at(cls: type[Config], loc: Sequence[Any]) -> type[Config] | None:
    """The config class found by following field names ``loc`` from ``cls``; else ``None``."""
    model: type[Config] | None = cls
    for part in loc:
        info = model.model_fields.get(part) if model is not None and isinstance(part, str) else None
        model = None if info is None else _model_in(info.annotation)
    return model


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
    """Whether ``value`` is the "none" token, read as ``None`` for annotation ``tp``."""
    allows_none = type(None) in typing.get_args(tp)
    if not (allows_none and isinstance(value, str) and value.lower() == _NONE_TOKEN):
        return False
    try:  # the None member refuses a string: did another member take "none" as it is?
        TypeAdapter(tp).validate_python(value, strict=True)
    except ValidationError:
        return True
    return False


def _dotted(loc: Sequence[Any]) -> str:
    """``("model", "dims", 1)`` -> ``"model.dims[1]"``."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


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
        # The override that gave path, or a section around it, or (a key made up) one inside it.
        keys = [k for k in self.overrides if path == k or path.startswith((k + ".", k + "["))]
        keys = keys or [k for k in self.overrides if k.startswith(path + ".")]
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


def _split_key(key: str) -> list[str]:
    return [part.strip().strip("\"'") for part in key.split(".")]


def _find_line(text: str, path: str) -> int | None:
    """Line of ``key =`` or ``[section]`` for dotted ``path`` in TOML ``text``: the exact one,
    else the one defining the longest prefix (an inline table), else the first with the same
    last key. Good enough for error messages; it never raises."""
    parts = _split_key(re.sub(r"\[\d+\]", "", path))
    table: list[str] = []
    prefix: tuple[int, int] | None = None  # (prefix length, line)
    suffix: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            header = _HEADER.match(stripped)  # None for an array of tables, [[...]]
            table = _split_key(header.group(1)) if header else []
            if table == parts:
                return number
            continue
        match = _KEY_LINE.match(stripped)
        if not match:
            continue
        key = table + _split_key(match.group(1))
        if key == parts:
            return number
        if key == parts[: len(key)] and (prefix is None or len(key) > prefix[0]):
            prefix = (len(key), number)
        elif key[-1] == parts[-1] and suffix is None:
            suffix = number
    return prefix[1] if prefix is not None else suffix


def _parse_override(item: str) -> tuple[str, Any, str]:
    """Split ``"a.b=value"`` into the key, the parsed value and the raw value text."""
    if not isinstance(item, str) or "=" not in item:
        raise ConfigError(f"override {item!r} has no '='; the accepted form is {_OVERRIDE_FORM} "
                          "(e.g. --set model.hidden_dim=128)")  # fmt: skip
    key, raw = (part.strip() for part in item.split("=", 1))
    if not key or any(not part.strip() for part in key.split(".")):
        raise ConfigError(f"override {item!r} has an empty key; the accepted form is "
                          f"{_OVERRIDE_FORM}")  # fmt: skip
    try:
        parsed = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        return key, raw, raw
    # A value holding a newline and another key is not one value either.
    return (key, parsed["v"], raw) if set(parsed) == {"v"} else (key, raw, raw)


def _merge_overrides(data: dict[str, Any], overrides: Sequence[str], ctx: _Context) -> None:
    """Write each override's value into ``data``; pydantic checks its key (extra="forbid")."""
    if isinstance(overrides, str):
        raise TypeError("overrides must be a sequence of 'key=value' strings, not one string")
    for item in overrides:
        key, value, raw = _parse_override(item)
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
