"""The application: routes under every version prefix, and negotiation.

docker clients call ``/v1.50/containers/json`` or, before negotiating,
``/containers/json``; both reach one handler. A prefix outside 1.24..1.50
is refused with docker's words. Every reply, streamed or not, carries
``Api-Version`` and ``Server`` (added as the reply is prepared, so that a
stream's headers have them when they go out at once).
"""

from __future__ import annotations

import platform
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from servin_core.api.errors import error_middleware, error_reply

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = [
    "API_VERSION",
    "CORE",
    "MIN_API_VERSION",
    "SERVER",
    "Handler",
    "Routes",
    "core_of",
    "make_app",
    "reply_headers",
]

API_VERSION = "1.50"
MIN_API_VERSION = "1.24"
SERVIN_VERSION = "0.1.0"
SERVER = f"Servin/{SERVIN_VERSION} ({platform.system().lower()})"
CORE = web.AppKey("core", object)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_PREFIX = r"/v{api_version:[0-9]+\.[0-9]+}"


def reply_headers() -> dict[str, str]:
    return {"Api-Version": API_VERSION, "Server": SERVER}


def core_of(request: web.Request) -> Core:
    from servin_core.core import Core

    core = request.app[CORE]
    assert isinstance(core, Core)
    return core


class Routes:
    """Adds each route twice: bare and under ``/vN.NN``."""

    def __init__(self, app: web.Application) -> None:
        self._router = app.router

    def add(self, method: str, path: str, handler: Handler) -> None:
        for each in (path, _PREFIX + path):
            if method == "GET":
                self._router.add_get(each, handler, allow_head=False)
            else:
                self._router.add_route(method, each, handler)


def _version_tuple(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    return int(major), int(minor)


@web.middleware
async def _negotiate(request: web.Request, handler: Handler) -> web.StreamResponse:
    asked = request.match_info.get("api_version")
    if asked is not None:
        version = _version_tuple(asked)
        if version > _version_tuple(API_VERSION):
            return error_reply(
                400,
                f"client version {asked} is too new."
                f" Maximum supported API version is {API_VERSION}",
            )
        if version < _version_tuple(MIN_API_VERSION):
            return error_reply(
                400,
                f"client version {asked} is too old."
                f" Minimum supported API version is {MIN_API_VERSION},"
                " please upgrade your client to a newer version",
            )
    return await handler(request)


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(reply_headers())


def make_app(core: Core) -> web.Application:
    """The Engine API over ``core``; the caller serves and closes it."""
    from servin_core.api import (
        attach_api,
        containers,
        exec_api,
        images,
        native,
        networks,
        system,
        volumes,
    )

    app = web.Application(middlewares=[error_middleware, _negotiate])
    app[CORE] = core
    app.on_response_prepare.append(_add_headers)
    routes = Routes(app)
    for module in (system, images, containers, exec_api, attach_api):
        module.register(app, routes)
    for module in (networks, volumes):
        module.register(app, routes)
    native.register(app)
    return app
