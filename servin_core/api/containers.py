"""Container endpoints: create, inspect, list, and the lifecycle.

Each handler resolves the container as the core does (full ID, name,
unique prefix) and calls the same operation the CLI calls, so the two faces
share every rule. ``wait`` sends its headers at once and its body when the
condition holds: ``docker run`` calls it before ``start`` and blocks on the
headers. Starting a running container or stopping a stopped one answers
304, as docker does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from servin_core.api import params
from servin_core.api.app import Routes, core_of
from servin_core.api.container_config import config_from_docker
from servin_core.api.shapes import container_inspect, container_summary
from servin_core.containers import lifecycle
from servin_core.containers.model import State
from servin_core.containers.reconcile import refresh
from servin_core.errors import InvalidArgument, NotFound, ServinError

if TYPE_CHECKING:
    from servin_core.containers.model import Container
    from servin_core.core import Core

_FILTERS = frozenset(
    {"ancestor", "before", "exited", "id", "label", "name", "network", "since"}
    | {"status", "volume"}
)

__all__ = ["register", "until_disconnected"]

T = TypeVar("T")
_LOOK_AGAIN = 1.0
"""Seconds between looks at whether a waiting client went away."""


def _ident(request: web.Request) -> str:
    return request.match_info["id"]


def _current(core: Core, text: str) -> Container:
    return refresh(core, core.containers.resolve(text))


async def until_disconnected(request: web.Request, work: Awaitable[T]) -> T | None:
    """``work``'s result, or None once the client has gone (docker's CLI
    leaves ``wait`` behind after a detached run); the work is cancelled."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=_LOOK_AGAIN)
            if done:
                return task.result()
            transport = request.transport
            if transport is None or transport.is_closing():
                return None
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def create(request: web.Request) -> web.Response:
    core = core_of(request)
    body = await params.body_json(request, "container")
    config = config_from_docker(body)
    name = params.text(request, "name") or None
    container = await lifecycle.create(core, config, name=name)
    return web.json_response({"Id": container.id, "Warnings": []}, status=201)


async def inspect(request: web.Request) -> web.Response:
    core = core_of(request)
    container = core.containers.resolve(_ident(request))
    return web.json_response(container_inspect(core, container))


def _matches(core: Core, container: Container, wanted: dict[str, list[str]]) -> bool:
    checks: dict[str, Any] = {
        "id": lambda v: container.id.startswith(v),
        "name": lambda v: v.lstrip("/") in container.name,
        "status": lambda v: str(container.state) == v,
        "label": lambda v: params.labels_match(container.config.labels, [v]),
        "ancestor": lambda v: (
            container.image_name == v
            or container.image_id.removeprefix("sha256:").startswith(
                v.removeprefix("sha256:")
            )
            or _image_id(core, v) == container.image_id
        ),
        "exited": lambda v: (
            container.state is State.EXITED and str(container.exit_code or 0) == v
        ),
        "before": lambda v: container.created < _created(core, v),
        "since": lambda v: container.created > _created(core, v),
        "volume": lambda v: any(
            v in (m.source, m.target) for m in container.config.mounts
        ),
        "network": lambda v: v in _network_names(core, container),
    }
    for key, values in wanted.items():
        if values and not any(checks[key](v) for v in values):
            return False
    return True


def _created(core: Core, text: str) -> float:
    return core.containers.resolve(text).created


def _network_names(core: Core, container: Container) -> set[str]:
    names = set()
    for endpoint in core.networks.endpoints_of(container.id):
        network = core.networks.get(endpoint.network_id)
        names |= {network.name, network.id}
    return names


def _image_id(core: Core, text: str) -> str | None:
    try:
        return core.images.resolve_id(text)
    except (NotFound, InvalidArgument):
        return None


async def list_(request: web.Request) -> web.Response:
    core = core_of(request)
    wanted = params.filters_of(request)
    params.check_filters(wanted, _FILTERS, "containers")
    every = params.flag(request, "all")
    limit = params.integer(request, "limit")
    containers = sorted(
        (refresh(core, c) if c.state.is_active else c for c in core.containers.list()),
        key=lambda c: c.created,
        reverse=True,
    )
    if not every and not wanted.get("status") and not limit:
        containers = [c for c in containers if c.state.is_active]
    containers = [c for c in containers if _matches(core, c, wanted)]
    if limit and limit > 0:
        containers = containers[:limit]
    return web.json_response([container_summary(core, c) for c in containers])


async def start(request: web.Request) -> web.Response:
    core = core_of(request)
    container = _current(core, _ident(request))
    if container.state is State.RUNNING:
        return web.Response(status=304)
    try:
        await lifecycle.start(core, container.id)
    except ServinError:
        if container.config.auto_remove:
            # As dockerd does: ``run --rm`` waits for the removal.
            with contextlib.suppress(ServinError):
                await lifecycle.remove(core, container.id, force=True)
        raise
    return web.Response(status=204)


async def stop(request: web.Request) -> web.Response:
    core = core_of(request)
    if not _current(core, _ident(request)).state.can_stop():
        return web.Response(status=304)
    timeout, signal = _stop_options(request)
    await lifecycle.stop(core, _ident(request), timeout=timeout, signal=signal)
    return web.Response(status=204)


async def kill(request: web.Request) -> web.Response:
    signal = params.text(request, "signal") or "SIGKILL"
    await lifecycle.kill(core_of(request), _ident(request), signal=signal)
    return web.Response(status=204)


async def restart(request: web.Request) -> web.Response:
    timeout, signal = _stop_options(request)
    await lifecycle.restart(
        core_of(request), _ident(request), timeout=timeout, signal=signal
    )
    return web.Response(status=204)


def _stop_options(request: web.Request) -> tuple[int | None, str | None]:
    """``t``, the seconds before SIGKILL, and ``signal`` (API 1.42), sent
    instead of the container's stop signal; docker's CLI sends each only
    when given. Older versions never send ``signal``: it is taken from any."""
    return params.integer(request, "t"), params.text(request, "signal") or None


async def pause(request: web.Request) -> web.Response:
    await lifecycle.pause(core_of(request), _ident(request))
    return web.Response(status=204)


async def unpause(request: web.Request) -> web.Response:
    await lifecycle.unpause(core_of(request), _ident(request))
    return web.Response(status=204)


async def rename(request: web.Request) -> web.Response:
    name = params.text(request, "name")
    if not name:
        raise InvalidArgument("parameter", "name", "a new name is required")
    core = core_of(request)
    await asyncio.to_thread(lifecycle.rename, core, _ident(request), name)
    return web.Response(status=204)


def _last_exit(core: Core, container_id: str, since: float) -> int | None:
    """The status the container's last ``die`` event recorded: still there
    once ``--rm`` has removed the row."""
    for event in reversed(core.events.since(since_time=since)):
        if event.actor_id == container_id and event.action == "die":
            code = event.attributes.get("exitCode", "")
            return int(code) if code.lstrip("-").isdigit() else None
    return None


async def wait(request: web.Request) -> web.StreamResponse:
    core = core_of(request)
    condition = params.text(request, "condition") or "not-running"
    if condition not in ("not-running", "next-exit", "removed"):
        raise InvalidArgument("parameter", "condition", f"unknown {condition!r}")
    container = core.containers.resolve(_ident(request))
    since = container.started_at or container.created

    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    error = None
    try:
        status = await until_disconnected(
            request, lifecycle.wait(core, container.id, condition=condition)
        )
    except NotFound as e:
        status, error = None, {"Message": str(e)}
    if status is None and error is None:
        return response  # the client went away
    recorded = await asyncio.to_thread(_last_exit, core, container.id, since)
    if recorded is not None:
        status = recorded
    body = {"StatusCode": status if status is not None else -1, "Error": error}
    await response.write(json.dumps(body).encode() + b"\n")
    await response.write_eof()
    return response


async def remove(request: web.Request) -> web.Response:
    core = core_of(request)
    force = params.flag(request, "force")
    volumes = params.flag(request, "v")
    await lifecycle.remove(core, _ident(request), force=force, volumes=volumes)
    return web.Response(status=204)


async def prune(request: web.Request) -> web.Response:
    from servin_core.containers.prune_selected import prune_selected
    from servin_core.filters import prune_filter

    core = core_of(request)
    wanted = params.filters_of(request)
    only = prune_filter(wanted, "container prune")
    if wanted:
        removed = await prune_selected(core, only)
    else:
        removed = await lifecycle.prune(core)
    return web.json_response({"ContainersDeleted": removed, "SpaceReclaimed": 0})


async def commit(request: web.Request) -> web.Response:
    from servin_core.containers.commit import commit as commit_container

    target = params.text(request, "container")
    if not target:
        raise InvalidArgument("parameter", "container", "name the container")
    repo = params.text(request, "repo")
    tag = params.text(request, "tag")
    reference = f"{repo}:{tag or 'latest'}" if repo else None
    changes = [
        line
        for item in request.query.getall("changes", [])
        for line in item.splitlines()
        if line.strip()
    ]
    image = await commit_container(
        core_of(request),
        target,
        reference,
        changes=changes,
        message=params.text(request, "comment") or None,
        author=params.text(request, "author") or None,
        pause=params.flag(request, "pause", True),
    )
    return web.json_response({"Id": image.id}, status=201)


def register(app: web.Application, routes: Routes) -> None:
    from servin_core.api import container_io, container_update

    routes.add("POST", "/containers/create", create)
    routes.add("GET", "/containers/json", list_)
    routes.add("POST", "/containers/prune", prune)
    routes.add("GET", "/containers/{id}/json", inspect)
    for name, handler in (
        ("start", start),
        ("stop", stop),
        ("kill", kill),
        ("restart", restart),
        ("pause", pause),
        ("unpause", unpause),
        ("rename", rename),
        ("wait", wait),
    ):
        routes.add("POST", f"/containers/{{id}}/{name}", handler)
    routes.add("POST", "/containers/{id}/update", container_update.update)
    routes.add("DELETE", "/containers/{id}", remove)
    routes.add("POST", "/commit", commit)
    container_io.register(app, routes)
