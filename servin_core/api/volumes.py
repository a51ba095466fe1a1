"""Volume endpoints: list, inspect, create, remove, prune, on the core's
volumes (servin_core/volumes), in docker's shapes (``volume_details``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from servin_core.api import params
from servin_core.api.app import Routes, core_of
from servin_core.errors import InvalidArgument

_FILTERS = frozenset({"dangling", "driver", "label", "name"})

__all__ = ["register"]


def _strings(body: dict[str, Any], key: str) -> dict[str, str]:
    value = body.get(key) or {}
    if not isinstance(value, dict):
        raise InvalidArgument("field", key, "expected an object")
    return {str(k): str(v) for k, v in value.items()}


async def list_(request: web.Request) -> web.Response:
    from servin_core.volumes.describe import volume_details
    from servin_core.volumes.operations import list_volumes, store_of

    core = core_of(request)
    wanted = params.filters_of(request)
    params.check_filters(wanted, _FILTERS, "volumes")
    used = store_of(core).used() if "dangling" in wanted else set()
    shown = []
    for volume in await asyncio.to_thread(list_volumes, core):
        if not _matches(volume, wanted, used):
            continue
        shown.append(volume_details(core, volume))
    return web.json_response({"Volumes": shown, "Warnings": []})


def _matches(volume: Any, wanted: dict[str, list[str]], used: set[str]) -> bool:
    checks: dict[str, Callable[[str], bool]] = {
        "name": lambda v: v in volume.name,
        "driver": lambda v: volume.driver == v,
        "label": lambda v: params.labels_match(volume.labels, [v]),
        "dangling": lambda v: (volume.name not in used) == (v.lower() in ("true", "1")),
    }
    for key, values in wanted.items():
        if values and not any(checks[key](v) for v in values):
            return False
    return True


async def inspect(request: web.Request) -> web.Response:
    from servin_core.volumes.describe import volume_details
    from servin_core.volumes.operations import get

    core = core_of(request)
    volume = get(core, request.match_info["name"])
    return web.json_response(volume_details(core, volume))


async def create(request: web.Request) -> web.Response:
    from servin_core.volumes.describe import volume_details
    from servin_core.volumes.operations import create as create_volume

    core = core_of(request)
    body = await params.body_json(request, "volume")
    name = body.get("Name") or None
    if name is not None and not isinstance(name, str):
        raise InvalidArgument("field", "Name", "expected a string")
    driver = body.get("Driver") or "local"
    if driver != "local":
        raise InvalidArgument("volume", name or "", f"unsupported driver {driver!r}")
    volume = await create_volume(
        core,
        name,
        labels=_strings(body, "Labels"),
        options=_strings(body, "DriverOpts"),
    )
    return web.json_response(volume_details(core, volume), status=201)


async def remove(request: web.Request) -> web.Response:
    from servin_core.volumes.operations import remove as remove_volume

    force = params.flag(request, "force")
    await remove_volume(core_of(request), request.match_info["name"], force=force)
    return web.Response(status=204)


async def prune(request: web.Request) -> web.Response:
    from servin_core.filters import filter_flag, prune_filter
    from servin_core.volumes.operations import prune as prune_volumes

    wanted = params.filters_of(request)
    only = prune_filter(wanted, "volume prune", until=False, extra={"all"})
    everything = filter_flag(wanted, "all", False)
    removed = await prune_volumes(core_of(request), everything=everything, only=only)
    return web.json_response(
        {
            "VolumesDeleted": [name for name, _ in removed],
            "SpaceReclaimed": sum(size for _, size in removed),
        }
    )


def register(app: web.Application, routes: Routes) -> None:
    routes.add("GET", "/volumes", list_)
    routes.add("POST", "/volumes/create", create)
    routes.add("POST", "/volumes/prune", prune)
    routes.add("GET", "/volumes/{name}", inspect)
    routes.add("DELETE", "/volumes/{name}", remove)
