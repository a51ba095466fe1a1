"""Attach and resize: a container's own stdio over a hijacked connection.

``docker run`` attaches to the container it has just created, then calls
``wait`` and ``start``: the attach waits (through the core's attach API)
for that start, connected before the process runs, so no output is lost.
Without a tty the output is framed by stream; with one it goes raw. stdin
(when asked for and the container was created with it) comes on the same
connection; when the client half-closes it, the container's stdin closes
if the container was created with ``StdinOnce``, and the output goes on
until the container exits.

The 101 goes out once the attach has been called: the core registers for
the start before its first await, so a ``start`` the client sends after
reading the 101 is always seen.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import WSMsgType, web

from servin_core import log
from servin_core.api import params
from servin_core.api.app import Routes, core_of
from servin_core.api.frames import STDERR, STDOUT, frame
from servin_core.api.hijack import finished, take_over
from servin_core.containers.attach import (
    DEFAULT_DETACH_KEYS,
    Stopped,
    attach,
    resize,
)
from servin_core.containers.attach_keys import parse_detach_keys
from servin_core.containers.model import State
from servin_core.containers.reconcile import refresh
from servin_core.errors import Conflict, InvalidArgument, ServinError

__all__ = ["register"]


async def attach_handler(request: web.Request) -> web.StreamResponse:
    core = core_of(request)
    container = await asyncio.to_thread(
        refresh, core, core.containers.resolve(request.match_info["id"])
    )
    if container.state not in (State.RUNNING, State.CREATED):
        raise Conflict(
            "container",
            container.name,
            "You cannot attach to a stopped container, start it first",
        )
    wanted = {
        "stdout": params.flag(request, "stdout"),
        "stderr": params.flag(request, "stderr"),
    }
    keys_text = params.text(request, "detachKeys")
    keys = parse_detach_keys(keys_text) if keys_text else DEFAULT_DETACH_KEYS
    tty = container.config.tty
    logger = log.for_object(log.api, "container", container.id)

    kind = "raw-stream" if tty else "multiplexed-stream"
    client = take_over(request, f"application/vnd.docker.{kind}")

    async def on_output(stream: str, data: bytes) -> None:
        if not wanted.get(stream):
            return
        number = STDOUT if stream == "stdout" else STDERR
        await client.write(data if tty else frame(number, data))

    stdin = client.input() if params.flag(request, "stdin") else None
    stopped: Stopped = "wait" if container.state is State.CREATED else "error"
    work = attach(
        core,
        container.id,
        stdin=stdin,
        on_output=on_output,
        detach_keys=keys,
        stopped=stopped,
        size=container.config.console_size,
    )
    try:
        result = await client.unless_closed(work)
        logger.info("attach ended: %s", result.end)
    except asyncio.CancelledError:
        if not client.closed.is_set():
            raise
        logger.info("the client went away; the container runs on")
    except ServinError as e:
        logger.info("attach failed: %s", e)
        message = (str(e) + "\r\n").encode()
        with contextlib.suppress(ConnectionError):
            await client.write(message if tty else frame(STDERR, message))
    client.close()
    return finished()


async def attach_websocket(request: web.Request) -> web.StreamResponse:
    """``/attach/ws``: the same attach over a websocket, for browsers. Output
    goes as binary messages, unframed (docker sends it so); text or binary
    messages from the client are stdin; closing the socket ends the attach
    with the container left running."""
    core = core_of(request)
    container = await asyncio.to_thread(
        refresh, core, core.containers.resolve(request.match_info["id"])
    )
    if container.state not in (State.RUNNING, State.CREATED):
        raise Conflict(
            "container",
            container.name,
            "You cannot attach to a stopped container, start it first",
        )
    wanted = {
        "stdout": params.flag(request, "stdout"),
        "stderr": params.flag(request, "stderr"),
    }
    socket = web.WebSocketResponse()
    await socket.prepare(request)

    async def on_output(stream: str, data: bytes) -> None:
        if wanted.get(stream) and not socket.closed:
            await socket.send_bytes(data)

    inbox: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def read_socket() -> None:
        # Until the client closes it: then the attach ends.
        async for message in socket:
            if message.type == WSMsgType.BINARY:
                inbox.put_nowait(message.data)
            elif message.type == WSMsgType.TEXT:
                inbox.put_nowait(message.data.encode())
        inbox.put_nowait(None)

    async def messages() -> AsyncIterator[bytes]:
        while (data := await inbox.get()) is not None:
            yield data

    stdin = messages() if params.flag(request, "stdin") else None
    stopped: Stopped = "wait" if container.state is State.CREATED else "error"
    work = asyncio.ensure_future(
        attach(
            core,
            container.id,
            stdin=stdin,
            on_output=on_output,
            stopped=stopped,
            size=container.config.console_size,
        )
    )
    reading = asyncio.ensure_future(read_socket())
    try:
        await asyncio.wait({work, reading}, return_when=asyncio.FIRST_COMPLETED)
        if not work.done():
            work.cancel()  # the client closed: the container runs on
        with contextlib.suppress(asyncio.CancelledError):
            await work
    except ServinError as e:
        log.for_object(log.api, "container", container.id).info(
            "websocket attach failed: %s", e
        )
    finally:
        reading.cancel()
    await socket.close()
    return socket


async def resize_handler(request: web.Request) -> web.Response:
    height = params.integer(request, "h") or 0
    width = params.integer(request, "w") or 0
    if height <= 0 or width <= 0:
        raise InvalidArgument("parameter", "h/w", "height and width must be positive")
    await resize(core_of(request), request.match_info["id"], height, width)
    return web.Response(status=200)


def register(app: web.Application, routes: Routes) -> None:
    routes.add("POST", "/containers/{id}/attach", attach_handler)
    routes.add("POST", "/containers/{id}/resize", resize_handler)
    routes.add("GET", "/containers/{id}/attach/ws", attach_websocket)
