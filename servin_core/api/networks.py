"""Network endpoints: list, inspect, create, remove, prune, connect and
disconnect, on the core's networks (servin_core/network).

Shapes are the core's own (``network_details``, docker's ``network
inspect``); the listing is the same objects, as docker's is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from servin_core.api import params
from servin_core.api.app import Routes, core_of
from servin_core.errors import InvalidArgument

_FILTERS = frozenset({"driver", "id", "label", "name", "scope", "type"})

__all__ = ["register"]


def _named(request: web.Request) -> str:
    """docker's default network is ``bridge``; Servin's has its own name."""
    from servin_core.network.model import DEFAULT_NETWORK

    text = request.match_info["id"]
    if text == "bridge" and core_of(request).networks.find(text) is None:
        return DEFAULT_NETWORK
    return text


def _details(request: web.Request, network: Any) -> dict[str, Any]:
    from servin_core.network.describe import network_details

    return network_details(core_of(request), network)


def _matches(network: Any, wanted: dict[str, list[str]]) -> bool:
    checks: dict[str, Callable[[str], bool]] = {
        "name": lambda v: v in network.name,
        "id": lambda v: network.id.startswith(v),
        "driver": lambda v: network.driver == v,
        "label": lambda v: params.labels_match(network.labels, [v]),
        "type": lambda v: v == "custom",
        "scope": lambda v: v == "local",
    }
    for key, values in wanted.items():
        if values and not any(checks[key](v) for v in values):
            return False
    return True


async def list_(request: web.Request) -> web.Response:
    from servin_core.network.manage import ensure_default

    core = core_of(request)
    await asyncio.to_thread(ensure_default, core)
    wanted = params.filters_of(request)
    params.check_filters(wanted, _FILTERS, "networks")
    shown = [_details(request, n) for n in core.networks.list() if _matches(n, wanted)]
    return web.json_response(shown)


async def inspect(request: web.Request) -> web.Response:
    core = core_of(request)
    network = core.networks.resolve(_named(request))
    return web.json_response(_details(request, network))


def _ipam(body: dict[str, Any]) -> tuple[str | None, str | None]:
    ipam = body.get("IPAM") or {}
    configs = ipam.get("Config") or [] if isinstance(ipam, dict) else []
    if not isinstance(configs, list):
        raise InvalidArgument("field", "IPAM.Config", "expected a list")
    for config in configs:
        if isinstance(config, dict):
            return config.get("Subnet") or None, config.get("Gateway") or None
    return None, None


async def create(request: web.Request) -> web.Response:
    from servin_core.network.manage import create_network

    body = await params.body_json(request, "network")
    name = body.get("Name")
    if not isinstance(name, str) or not name:
        raise InvalidArgument("field", "Name", "a network needs a name")
    labels = body.get("Labels") or {}
    if not isinstance(labels, dict):
        raise InvalidArgument("field", "Labels", "expected an object")
    subnet, gateway = _ipam(body)
    network = await asyncio.to_thread(
        create_network,
        core_of(request),
        name,
        driver=str(body.get("Driver") or "bridge"),
        subnet=subnet,
        gateway=gateway,
        internal=bool(body.get("Internal")),
        labels={str(k): str(v) for k, v in labels.items()},
    )
    return web.json_response({"Id": network.id, "Warning": ""}, status=201)


async def remove(request: web.Request) -> web.Response:
    from servin_core.network.manage import remove_network

    await asyncio.to_thread(remove_network, core_of(request), _named(request))
    return web.Response(status=204)


async def prune(request: web.Request) -> web.Response:
    from servin_core.filters import prune_filter
    from servin_core.network.manage import prune_networks

    only = prune_filter(params.filters_of(request), "network prune")
    removed = await asyncio.to_thread(prune_networks, core_of(request), only)
    return web.json_response({"NetworksDeleted": [n.name for n in removed]})


async def connect(request: web.Request) -> web.Response:
    from servin_core.containers.locked import run_locked
    from servin_core.network.manage import connect_sync

    core = core_of(request)
    body = await params.body_json(request, "network connect")
    container = body.get("Container")
    if not isinstance(container, str) or not container:
        raise InvalidArgument("field", "Container", "name the container to connect")
    settings = body.get("EndpointConfig") or {}
    if not isinstance(settings, dict):
        raise InvalidArgument("field", "EndpointConfig", "expected an object")
    ipam = settings.get("IPAMConfig") or {}
    aliases = tuple(str(a) for a in settings.get("Aliases") or [])
    ip = str(ipam.get("IPv4Address") or "") if isinstance(ipam, dict) else ""
    network = _named(request)
    await run_locked(
        core,
        container,
        lambda c: connect_sync(core, c, network, aliases=aliases, ip=ip),
    )
    return web.Response(status=200)


async def disconnect(request: web.Request) -> web.Response:
    from servin_core.containers.locked import run_locked
    from servin_core.network.manage import disconnect_sync

    core = core_of(request)
    body = await params.body_json(request, "network disconnect")
    container = body.get("Container")
    if not isinstance(container, str) or not container:
        raise InvalidArgument("field", "Container", "name the container")
    network = _named(request)
    await run_locked(core, container, lambda c: disconnect_sync(core, c, network))
    return web.Response(status=200)


def register(app: web.Application, routes: Routes) -> None:
    routes.add("GET", "/networks", list_)
    routes.add("POST", "/networks/create", create)
    routes.add("POST", "/networks/prune", prune)
    routes.add("GET", "/networks/{id}", inspect)
    routes.add("DELETE", "/networks/{id}", remove)
    routes.add("POST", "/networks/{id}/connect", connect)
    routes.add("POST", "/networks/{id}/disconnect", disconnect)
