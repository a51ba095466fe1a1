"""docker's request conventions: query booleans, numbers, filters, bodies.

Booleans are false when empty or ``0``, ``no``, ``false``, ``none`` in any
case, true otherwise (docker's ``boolValue``). ``filters`` is JSON in two
forms, ``{"name": ["web"]}`` (API 1.22 and later) and the older
``{"name": {"web": true}}``; both read as a map of lists. A bad value is an
InvalidArgument naming the parameter, so it answers 400.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import web

from servin_core.errors import InvalidArgument
from servin_core.filters import before_time, labels_match, parse_time

__all__ = [
    "MAX_BODY",
    "before_time",
    "body_json",
    "check_filters",
    "filters_of",
    "flag",
    "integer",
    "labels_match",
    "parse_time",
    "registry_auth",
    "text",
]

MAX_BODY = 4 << 20
"""Bytes of a JSON body read at most: docker's are a few kilobytes."""

_FALSE = frozenset({"", "0", "no", "false", "none"})


def flag(request: web.Request, name: str, default: bool = False) -> bool:
    value = request.query.get(name)
    if value is None:
        return default
    return value.strip().lower() not in _FALSE


def integer(request: web.Request, name: str, default: int | None = None) -> int | None:
    value = request.query.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidArgument("parameter", name, f"{value!r} is not a number") from None


def text(request: web.Request, name: str, default: str = "") -> str:
    return request.query.get(name, default)


def filters_of(request: web.Request) -> dict[str, list[str]]:
    raw = request.query.get("filters", "")
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as e:
        raise InvalidArgument("parameter", "filters", f"not valid JSON: {e}") from None
    if not isinstance(parsed, dict):
        raise InvalidArgument("parameter", "filters", "must be a JSON object")
    result: dict[str, list[str]] = {}
    for key, values in parsed.items():
        if isinstance(values, dict):
            result[key] = [str(k) for k, on in values.items() if on]
        elif isinstance(values, list):
            result[key] = [str(v) for v in values]
        else:
            raise InvalidArgument(
                "filter", key, "values must be a list or an object of booleans"
            )
    return result


def check_filters(
    wanted: dict[str, list[str]], allowed: frozenset[str], kind: str
) -> None:
    """InvalidArgument naming the first filter ``kind`` does not have."""
    for key in sorted(set(wanted) - allowed):
        raise InvalidArgument("filter", key, f"not supported for {kind}")


async def body_json(request: web.Request, what: str) -> dict[str, Any]:
    """The request's body as a JSON object; an empty body is ``{}``."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise InvalidArgument(what, "", f"request body over {MAX_BODY} bytes")
    raw = b""
    while chunk := await request.content.read(1 << 16):
        raw += chunk
        if len(raw) > MAX_BODY:
            raise InvalidArgument(what, "", f"request body over {MAX_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InvalidArgument(
            what, "", f"request body is not valid JSON: {e}"
        ) from None
    if not isinstance(value, dict):
        raise InvalidArgument(what, "", "request body must be a JSON object")
    return value


def registry_auth(request: web.Request) -> dict[str, Any]:
    """The ``X-Registry-Auth`` header: base64url JSON credentials, or ``{}``."""
    raw = request.headers.get("X-Registry-Auth", "")
    if not raw:
        return {}
    padded = raw + "=" * (-len(raw) % 4)
    try:
        value = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        raise InvalidArgument("header", "X-Registry-Auth", "not base64 JSON") from None
    return value if isinstance(value, dict) else {}
