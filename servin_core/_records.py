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

import enum
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from servin_core._dataclass import fields, is_dataclass

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
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in fields(value)}
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
    result: T = _converter(cls)(data, path)
    return result


# Each hint is turned once into a function that converts a value: the
# records are read on every command, hundreds at a time in a listing, and
# taking the hint apart for every value cost ten times the JSON parsing.
_Converter = Callable[[Any, str], Any]
_converters: dict[Any, _Converter] = {}


def _converter(hint: Any) -> _Converter:
    convert = _converters.get(hint)
    if convert is None:
        convert = _converters[hint] = _make_converter(hint)
    return convert


def _make_converter(hint: Any) -> _Converter:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)

    if origin in (types.UnionType, typing.Union):
        options = [a for a in args if a is not type(None)]
        inner = _converter(options[0])
        if len(options) == len(args):
            return inner

        def optional(value: Any, path: str) -> Any:
            return None if value is None else inner(value, path)

        return optional
    if origin is typing.Literal:
        allowed = ", ".join(repr(a) for a in args)

        def literal(value: Any, path: str) -> Any:
            if value not in args:
                raise RecordError(path, f"must be one of {allowed}")
            return value

        return literal
    if origin is list or origin is tuple:
        return _sequence_converter(_converter(args[0]), origin)
    if origin is dict:
        return _dict_converter(_converter(args[0]), _converter(args[1]))
    if is_dataclass(hint):
        return _record_converter(hint)
    return _scalar_converter(hint)


def _sequence_converter(item: _Converter, kind: type) -> _Converter:
    def sequence(value: Any, path: str) -> Any:
        if not isinstance(value, (list, tuple)):
            raise RecordError(path, "expected a list")
        try:
            items = [item(v, path) for v in value]
        except RecordError:
            # Again, naming the element (paths are built only for errors).
            items = [item(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return items if kind is list else tuple(items)

    return sequence


def _dict_converter(key: _Converter, item: _Converter) -> _Converter:
    def table(value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise RecordError(path, "expected a table")
        return {key(k, path): item(v, _join(path, str(k))) for k, v in value.items()}

    return table


def _record_converter(cls: type) -> _Converter:
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}  # every field is an argument
    converters = {name: _converter(hints[name]) for name in known}
    bounded = {
        name: (f.metadata["low"], f.metadata["high"])
        for name, f in known.items()
        if "low" in f.metadata
    }

    def record(data: Any, path: str) -> Any:
        if not isinstance(data, dict):
            raise RecordError(path, "expected a table of settings")
        values = {}
        for name, value in data.items():
            convert = converters.get(name)
            if convert is None:
                unknown = sorted(set(data) - set(known))
                raise RecordError(_join(path, unknown[0]), "unknown setting")
            where = f"{path}.{name}" if path else name
            values[name] = converted = convert(value, where)
            if name in bounded:
                _check_bounds(*bounded[name], converted, where)
        try:
            return cls(**values)
        except TypeError as e:  # a field without a default is missing
            raise RecordError(path, str(e)) from None

    return record


def _scalar_converter(hint: Any) -> _Converter:
    if hint is Any:
        return lambda value, path: value
    if hint is Path:

        def path_(value: Any, path: str) -> Any:
            if not isinstance(value, (str, Path)):
                raise RecordError(path, "expected a path")
            return Path(value)

        return path_
    if hint in (bool, str):
        expected = "expected true or false" if hint is bool else "expected a string"

        def exact(value: Any, path: str) -> Any:
            if type(value) is not hint and not isinstance(value, hint):
                raise RecordError(path, expected)
            return value

        return exact
    if hint is int:

        def integer(value: Any, path: str) -> Any:
            if isinstance(value, bool) or not isinstance(value, int):
                raise RecordError(path, "expected an integer")
            return value

        return integer
    if hint is float:

        def number(value: Any, path: str) -> Any:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise RecordError(path, "expected a number")
            return float(value)

        return number
    if isinstance(hint, type) and issubclass(hint, enum.Enum):

        def member(value: Any, path: str) -> Any:
            try:
                return hint(value)
            except ValueError:
                raise RecordError(path, f"unknown value {value!r}") from None

        return member
    raise TypeError(f"no conversion for {hint!r}")


def _check_bounds(low: int | None, high: int | None, value: Any, path: str) -> None:
    if low is not None and value < low:
        raise RecordError(path, f"must be at least {low}")
    if high is not None and value > high:
        raise RecordError(path, f"must be at most {high}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
