"""Plain dataclasses to and from JSON-shaped data, checked against their hints.

The configuration and a container's configuration are read on every
command: as plain dataclasses they cost nothing to import or build, where a
validating model library costs tens of milliseconds before the first line of
work. What such a library gave them is done here, for the few shapes they
use: ``bool``, ``int``, ``float``, ``str``, ``Path``, ``Literal``, ``X | None``,
``list[X]``, ``tuple[X, ...]``, ``dict[str, X]`` and nested dataclasses.
Unknown keys are refused; bounds come from a field's metadata
(``field(default=3, metadata=bounds(1, 32))``).

``from_data`` raises ``RecordError`` with the dotted path of the first bad
value, which callers turn into the error kind of their edge.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["RecordError", "bounds", "from_data", "to_data"]

T = TypeVar("T")


class RecordError(ValueError):
    """A value does not fit its field; ``path`` is dotted (``registries.x``)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path or 'value'}: {reason}")
        self.path = path
        self.reason = reason


def bounds(low: int | None = None, high: int | None = None) -> dict[str, Any]:
    """Field metadata: the value must lie within ``low``..``high``."""
    return {"low": low, "high": high}


def to_data(value: Any) -> Any:
    """``value`` as JSON-shaped data (dicts, lists, strings, numbers)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
    if isinstance(value, (list, tuple)):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


def from_data(cls: type[T], data: Any, path: str = "") -> T:
    """An instance of the dataclass ``cls`` built from ``data``, checked."""
    if not isinstance(data, dict):
        raise RecordError(path, "expected a table of settings")
    hints, fields = _shape(cls)
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise RecordError(_join(path, unknown[0]), "unknown setting")
    values = {}
    for name, value in data.items():
        where = _join(path, name)
        values[name] = _convert(hints[name], value, where)
        _check_bounds(fields[name], values[name], where)
    try:
        return cls(**values)
    except TypeError as e:  # a field without a default is missing
        raise RecordError(path, str(e)) from None


_Shape = tuple[dict[str, Any], dict[str, "dataclasses.Field[Any]"]]
_shapes: dict[type, _Shape] = {}


def _shape(cls: type) -> _Shape:
    """The hints and init fields of ``cls``, resolved once per class."""
    shape = _shapes.get(cls)
    if shape is None:
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        shape = _shapes[cls] = (typing.get_type_hints(cls), fields)
    return shape


def _convert(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)

    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        return _convert(options[0], value, path)
    if origin is typing.Literal:
        if value not in args:
            allowed = ", ".join(repr(a) for a in args)
            raise RecordError(path, f"must be one of {allowed}")
        return value
    if origin is list or origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise RecordError(path, "expected a list")
        item = args[0]
        items = [_convert(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise RecordError(path, "expected a table")
        return {
            _convert(args[0], k, path): _convert(args[1], v, _join(path, str(k)))
            for k, v in value.items()
        }
    if dataclasses.is_dataclass(hint):
        return from_data(hint, value, path)  # type: ignore[arg-type]
    return _scalar(hint, value, path)


def _scalar(hint: Any, value: Any, path: str) -> Any:
    if hint is Any:
        return value
    if hint is Path:
        if not isinstance(value, (str, Path)):
            raise RecordError(path, "expected a path")
        return Path(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise RecordError(path, "expected true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecordError(path, "expected an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RecordError(path, "expected a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise RecordError(path, "expected a string")
        return value
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            raise RecordError(path, f"unknown value {value!r}") from None
    raise TypeError(f"{path}: no conversion for {hint!r}")


def _check_bounds(field: dataclasses.Field[Any], value: Any, path: str) -> None:
    low, high = field.metadata.get("low"), field.metadata.get("high")
    if low is not None and value < low:
        raise RecordError(path, f"must be at least {low}")
    if high is not None and value > high:
        raise RecordError(path, f"must be at most {high}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
