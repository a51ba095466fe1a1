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
import re
import time
from datetime import datetime
from typing import Any

from aiohttp import web

from servin_core.errors import InvalidArgument

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


_DURATION_RE = re.compile(r"(?:\d+(?:\.\d+)?(?:h|m|s|ms))+")
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_time(value: str, name: str) -> float | None:
    """docker's ``since``/``until``: seconds (with a fraction), or RFC 3339."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidArgument(
            "parameter", name, f"{value!r} is neither a timestamp nor RFC 3339"
        ) from None


def before_time(value: str, name: str) -> float:
    """A prune's ``until``: a time (:func:`parse_time`) or a duration before
    now (``24h``, ``1h30m``, ``90s``), as seconds since the epoch."""
    if _DURATION_RE.fullmatch(value):
        parts = _DURATION_PART_RE.findall(value)
        return time.time() - sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    try:
        when = parse_time(value, name)
    except InvalidArgument:
        raise InvalidArgument(
            "filter", name, f"{value!r} is neither a time nor a duration such as 24h"
        ) from None
    return when if when is not None else time.time()


def labels_match(labels: dict[str, str], wanted: list[str]) -> bool:
    """docker's ``label`` filter: every ``key`` or ``key=value`` holds."""
    for item in wanted:
        key, sep, value = item.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


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
