"""``GET /events``: the events table as docker's JSON stream.

Every Servin process writes its events to the shared table, so the stream
shows what the CLI and the TUI do as well as what this daemon does. The
headers go out at once (clients block on them), then one JSON object per
event; with ``until`` the stream ends there, else it follows, waking when
the database's WAL is written and looking at least every second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from aiohttp import web

from servin_core._dataclass import replace
from servin_core.api import params
from servin_core.api.app import core_of
from servin_core.api.params import parse_time
from servin_core.containers.watch import IN_MODIFY, Watch
from servin_core.errors import InvalidArgument, NotFound
from servin_core.events import Event

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["docker_event", "event_rows", "events", "matches"]

_LOOK_AGAIN = 1.0
_TYPES = {"container", "image", "network", "volume", "daemon"}


def docker_event(event: Event) -> dict[str, Any]:
    attributes = dict(event.attributes)
    seconds = int(event.time)
    shaped: dict[str, Any] = {
        "Type": event.type,
        "Action": event.action,
        "Actor": {"ID": event.actor_id, "Attributes": attributes},
        "scope": "local",
        "time": seconds,
        "timeNano": int(event.time * 1e9),
    }
    if event.type == "container":
        # The fields of API 1.21 and before, which the CLI still prints.
        shaped["status"] = event.action
        shaped["id"] = event.actor_id
        shaped["from"] = attributes.get("image", "")
    return shaped


def matches(event: Event, wanted: dict[str, list[str]]) -> bool:
    attrs = event.attributes
    checks = {
        "type": event.type,
        "event": event.action,
        "container": event.actor_id if event.type == "container" else None,
        "image": event.actor_id if event.type == "image" else attrs.get("image"),
    }
    for key, values in wanted.items():
        if not values:
            continue
        if key == "label":
            if not params.labels_match(attrs, values):
                return False
            continue
        if key in ("container", "image"):
            subject = checks[key]
            names = {subject or "", attrs.get("name", "")}
            if not any(v in names or (subject or "").startswith(v) for v in values):
                return False
            continue
        value = checks.get(key)
        if key in checks and value not in values:
            return False
    return True


def _with_names(core: Core, event: Event, known: dict[str, dict[str, str]]) -> Event:
    """A container's event with its name, image and labels, as docker's
    carry them (the table records name and image at create; the rest is
    looked up, so the ``label`` filter matches a container's events).

    TODO: a removed container's events lose its labels: the table does not
    record them, and the row that had them is gone."""
    if event.type != "container":
        return event
    if event.actor_id not in known:
        try:
            container = core.containers.get(event.actor_id)
            known[event.actor_id] = {
                **container.config.labels,
                "name": container.name,
                "image": container.image_name,
            }
        except NotFound:
            known[event.actor_id] = {}
    names = known[event.actor_id]
    names.update({k: v for k, v in event.attributes.items() if k in ("name", "image")})
    return replace(event, attributes={**names, **event.attributes})


async def event_rows(
    request: web.Request,
    core: Core,
    *,
    since: float | None,
    until: float | None,
    after: int | None = None,
    follow: bool = True,
) -> AsyncGenerator[Event, None]:
    """The events table's rows, oldest first: after sequence number
    ``after``, else from time ``since``, else from now. The rows end at
    ``until``, once caught up when not ``follow``ing, or when the client
    goes; while following, it wakes when the database's WAL is written."""
    last = after or 0
    if after is None and since is None:
        row = core.db.query_one("SELECT MAX(seq) AS seq FROM events")
        last = int(row["seq"] or 0) if row else 0
    wal = core.db.path.with_name(core.db.path.name + "-wal")
    with Watch([(wal, IN_MODIFY)]) as changes:
        while True:
            found = core.events.since(last, since_time=since or 0.0, until_time=until)
            for event in found:
                last = event.seq
                yield event
            if until is not None and time.time() >= until:
                return
            transport = request.transport
            if not follow or transport is None or transport.is_closing():
                return
            wait = _LOOK_AGAIN
            if until is not None:
                wait = min(wait, max(0.0, until - time.time()))
            await changes.changed(wait)
            await asyncio.sleep(0)


async def events(request: web.Request) -> web.StreamResponse:
    core = core_of(request)
    since = parse_time(params.text(request, "since"), "since")
    until = parse_time(params.text(request, "until"), "until")
    wanted = params.filters_of(request)
    for kind in wanted.get("type", []):
        if kind not in _TYPES:
            raise InvalidArgument("filter", "type", f"unknown type {kind!r}")

    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)

    known: dict[str, dict[str, str]] = {}
    rows = event_rows(request, core, since=since, until=until)
    async with contextlib.aclosing(rows):
        async for event in rows:
            if event.type not in _TYPES:
                continue  # Servin's own (pods): the native API's /events has them
            event = _with_names(core, event, known)
            if matches(event, wanted):
                line = json.dumps(docker_event(event)) + "\n"
                await response.write(line.encode())
    transport = request.transport
    if transport is not None and not transport.is_closing():
        await response.write_eof()
    return response
