"""A small subset of Go's text/template, enough for docker's ``--format``.

Supported: text with ``{{...}}`` actions; ``.`` and field paths
(``.Config.Cmd``); string and integer literals; the functions ``json``,
``index``, ``join``, ``lower``, ``upper``, ``len`` and ``truncate``;
pipelines with ``|``; ``{{-``/``-}}`` whitespace trimming. Values print as Go
prints them (``[a b]`` for lists, ``map[k:v]`` for maps, ``<no value>`` for
a missing key). Control structures (``if``, ``range``) are not supported.

TODO: ``{{if}}`` and ``{{range}}`` are missing; add them when a command's
users need them (docker's own docs use them rarely in image commands).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from servin_core._dataclass import dataclass
from servin_core.errors import InvalidArgument

__all__ = ["Template", "go_json", "go_string"]

_ACTION_RE = re.compile(r"{{(-\s)?(.*?)(\s-)?}}", re.DOTALL)
_TOKEN_RE = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<int>-?\d+)|(?P<pipe>\|)'
    r"|(?P<field>\.(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)?)|(?P<name>[A-Za-z_]\w*))"
)
_NO_VALUE = "<no value>"


class _Missing:
    """A key absent from a map: prints as Go prints it."""

    def __str__(self) -> str:
        return _NO_VALUE


_MISSING = _Missing()


def go_json(value: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """JSON as Go's encoder writes it: compact, with ``<``, ``>``, ``&`` escaped."""
    separators = (",", ":") if indent is None else (",", ": ")
    text = json.dumps(
        value,
        indent=indent,
        separators=separators,
        sort_keys=sort_keys,
        ensure_ascii=False,
        default=str,
    )
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def go_string(value: Any) -> str:
    """``value`` printed as a template prints a decoded JSON value."""
    if value is None or isinstance(value, _Missing):
        return _NO_VALUE
    return _fmt(value)


def _fmt(value: Any) -> str:
    # Inside a list or map, a null prints as fmt prints nil.
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        items = " ".join(f"{k}:{_fmt(value[k])}" for k in sorted(value))
        return f"map[{items}]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(_fmt(v) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class _Call:
    """One command of a pipeline: a function and its arguments, or one value."""

    function: str | None
    args: tuple[Any, ...]  # str literals, ints, or _Field


@dataclass(frozen=True)
class _Field:
    path: tuple[str, ...]


def _truncate(value: Any, length: int) -> str:
    return go_string(value)[:length]


def _index(value: Any, *keys: Any) -> Any:
    for key in keys:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            raise InvalidArgument("template", str(key), "index out of range") from None
    return value


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "json": go_json,
    "index": _index,
    "join": lambda items, sep: sep.join(go_string(i) for i in items or ()),
    "lower": lambda v: go_string(v).lower(),
    "upper": lambda v: go_string(v).upper(),
    "len": lambda v: len(v),
    "truncate": _truncate,
}


class Template:
    """A parsed template; ``strict`` makes an unknown field an error."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._parts: list[str | list[_Call]] = []
        position = 0
        for match in _ACTION_RE.finditer(text):
            literal = text[position : match.start()]
            if match.group(1):
                literal = literal.rstrip()
            self._parts.append(literal)
            self._parts.append(self._parse(match.group(2)))
            position = match.end()
            if match.group(3):
                rest = text[position:]
                position += len(rest) - len(rest.lstrip())
        self._parts.append(text[position:])

    def _parse(self, action: str) -> list[_Call]:
        tokens: list[tuple[str, str]] = []
        position = 0
        action = action.strip()
        while position < len(action):
            match = _TOKEN_RE.match(action, position)
            if not match or match.end() == position:
                raise InvalidArgument(
                    "template", self.text, f"cannot parse {action[position:]!r}"
                )
            kind = match.lastgroup
            assert kind is not None
            tokens.append((kind, match.group(kind)))
            position = match.end()
            while position < len(action) and action[position].isspace():
                position += 1

        pipeline: list[_Call] = []
        for command in _split_pipes(tokens):
            pipeline.append(self._command(command))
        if not pipeline:
            raise InvalidArgument("template", self.text, "empty action")
        return pipeline

    def _command(self, tokens: list[tuple[str, str]]) -> _Call:
        if not tokens:
            raise InvalidArgument("template", self.text, "empty command in pipeline")
        args = tuple(_operand(kind, value) for kind, value in tokens[1:])
        kind, value = tokens[0]
        if kind == "name":
            if value not in _FUNCTIONS:
                raise InvalidArgument(
                    "template", self.text, f"function {value!r} not supported"
                )
            return _Call(value, args)
        if args:
            raise InvalidArgument("template", self.text, f"{value} is not a function")
        return _Call(None, (_operand(kind, value),))

    def render(self, data: Any, *, strict: bool = False) -> str:
        """The text with every action replaced by its value for ``data``."""
        out: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
            else:
                out.append(go_string(self._run(part, data, strict)))
        return "".join(out)

    def header(self, labels: Mapping[str, str]) -> str:
        """The header line of a ``table`` template: each field's column label."""
        out: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
                continue
            first = part[0]
            field = first.args[0] if first.function is None else None
            if isinstance(field, _Field) and field.path:
                name = field.path[-1]
                out.append(labels.get(name, name.upper()))
        return "".join(out)

    def _run(self, pipeline: list[_Call], data: Any, strict: bool) -> Any:
        value: Any = _MISSING
        for number, call in enumerate(pipeline):
            args = [self._value(arg, data, strict) for arg in call.args]
            if number > 0:
                args.append(value)
            if call.function is None:
                value = args[0]
                continue
            try:
                value = _FUNCTIONS[call.function](*args)
            except TypeError as e:
                raise InvalidArgument(
                    "template", self.text, f"wrong arguments to {call.function}"
                ) from e
        return value

    def _value(self, arg: Any, data: Any, strict: bool) -> Any:
        if not isinstance(arg, _Field):
            return arg
        value = data
        for name in arg.path:
            if isinstance(value, Mapping) and name in value:
                value = value[name]
            elif strict or not isinstance(value, Mapping):
                raise InvalidArgument(
                    "template", self.text, f"no field {name!r} in this object"
                )
            else:
                return _MISSING
        return value


def _split_pipes(tokens: Sequence[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    commands: list[list[tuple[str, str]]] = [[]]
    for kind, value in tokens:
        if kind == "pipe":
            commands.append([])
        else:
            commands[-1].append((kind, value))
    return commands


def _operand(kind: str, value: str) -> Any:
    if kind == "string":
        return json.loads(value)
    if kind == "int":
        return int(value)
    if kind == "field":
        return _Field(tuple(p for p in value.split(".") if p))
    raise InvalidArgument("template", value, "functions cannot be arguments here")
