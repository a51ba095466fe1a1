"""The streaming server: the HTTP end of the URLs Exec, Attach and
PortForward hand out (``http://ADDR/exec/TOKEN`` and so on).

aiohttp on 127.0.0.1 and a free port unless told another address (and
with TLS beyond loopback: listener.py): kubelet reaches it, or proxies the
API server's requests to it, from the node itself. A request's token is
used up when it arrives, valid or not for its upgrade; an unknown, used or
expired token is 404. Both transports are served on every path: WebSocket
(``Upgrade: websocket``) and SPDY/3.1.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from servin_core import log
from servin_core.errors import Unavailable
from servin_cri.streaming.attach_run import run_attach
from servin_cri.streaming.exec_run import run_exec
from servin_cri.streaming.listener import StreamingListener
from servin_cri.streaming.remote_io import Options, RemoteIO
from servin_cri.streaming.spdy_portforward import serve_port_forward_spdy
from servin_cri.streaming.spdy_remote import REMOTE_PROTOCOLS, serve_remote_spdy
from servin_cri.streaming.spdy_session import SpdySession
from servin_cri.streaming.spdy_upgrade import is_spdy_upgrade, negotiate, upgrade
from servin_cri.streaming.status import failure
from servin_cri.streaming.tokens import TokenCache
from servin_cri.streaming.websocket import serve_remote_ws
from servin_cri.streaming.ws_portforward import (
    PORTFORWARD_PROTOCOL,
    serve_port_forward_ws,
)

if TYPE_CHECKING:
    from servin_cri.node import Node

__all__ = ["StreamingServer"]

KINDS = ("exec", "attach", "portforward")
_SHUTDOWN_TIMEOUT = 5.0
"""How long the open streams get to wind up once the server stops."""


class StreamingServer:
    """Serves the streams of one node's CRI."""

    def __init__(
        self,
        node: Node,
        listener: StreamingListener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.node = node
        self.listener = listener or StreamingListener()
        self.host, self.port = self.listener.host_port()
        self.tokens = TokenCache(clock)
        self._tls: ssl.SSLContext | None = None
        self._runner: web.AppRunner | None = None
        self._serving: set[asyncio.Task[Any]] = set()
        """The tasks serving a stream: ended first when the server stops."""
        self._log = log.for_object(log.cri, "streaming", self.listener.address)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://{host}:{self.port}"

    def url_for(self, kind: str, request: Any) -> str:
        """A URL that serves ``request`` once, for a minute."""
        return f"{self.base_url}/{kind}/{self.tokens.insert(kind, request)}"

    async def start(self) -> None:
        self._tls = self.listener.tls()
        app = web.Application()
        for kind in KINDS:
            app.router.add_route("*", f"/{kind}/{{token}}", self._handler(kind))
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=_SHUTDOWN_TIMEOUT,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, ssl_context=self._tls)
        try:
            await site.start()
        except OSError as e:
            await runner.cleanup()
            address = self.listener.address
            raise Unavailable("streaming address", address, str(e.strerror)) from e
        server: Any = site._server  # aiohttp names no public way to its port
        self.port = server.sockets[0].getsockname()[1]
        self._runner = runner
        self._log = log.for_object(log.cri, "streaming", self.base_url)
        self._log.info("serving exec, attach and port-forward")

    async def stop(self) -> None:
        """Stop listening and end the open streams (their commands too)."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        serving = list(self._serving)
        for task in serving:
            task.cancel()
        if serving:
            await asyncio.wait(serving, timeout=_SHUTDOWN_TIMEOUT)
        await runner.cleanup()
        self._log.info("stopped")

    def _handler(self, kind: str) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> Any:
            pending = self.tokens.consume(kind, request.match_info["token"])
            if pending is None:
                raise web.HTTPNotFound(text="unknown or expired token")

            task = asyncio.current_task()
            assert task is not None
            self._serving.add(task)
            try:
                if kind == "portforward":
                    return await self._port_forward(request, pending.request)
                return await self._remote(request, kind, pending.request)
            finally:
                self._serving.discard(task)

        return handle

    async def _remote(self, request: web.Request, kind: str, cri: Any) -> Any:
        options = Options(cri.stdin, cri.stdout, cri.stderr, cri.tty)
        core = self.node.core
        logger = log.for_object(log.cri, "container", cri.container_id)
        logger.info("%s from %s (%s)", kind, request.remote, options)

        async def run(io: RemoteIO) -> dict[str, Any]:
            try:
                if kind == "exec":
                    command = list(cri.cmd)
                    status = await run_exec(core, cri.container_id, command, io)
                else:
                    status = await run_attach(core, cri.container_id, io)
            except asyncio.CancelledError:
                # The server is stopping (stop() cancels the open streams).
                await io.output.finish(failure("the streaming server is stopping"))
                raise
            logger.info("%s ended: %s", kind, status.get("message", "Success"))
            return status

        if is_spdy_upgrade(request):
            conn = upgrade(request, negotiate(request, REMOTE_PROTOCOLS))
            session = SpdySession(conn, logger)
            session.start()
            await serve_remote_spdy(session, options, run)
            return web.Response()
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await serve_remote_ws(request, options, run)
        raise web.HTTPBadRequest(text="expected an upgrade to WebSocket or SPDY/3.1")

    async def _port_forward(self, request: web.Request, cri: Any) -> Any:
        pod_id: str = cri.pod_sandbox_id
        logger = log.for_object(log.cri, "pod", pod_id)
        logger.info("port-forward from %s", request.remote)
        if is_spdy_upgrade(request):
            conn = upgrade(request, negotiate(request, (PORTFORWARD_PROTOCOL,)))
            session = SpdySession(conn, logger)
            session.start()
            await serve_port_forward_spdy(session, self.node, pod_id)
            return web.Response()
        if request.headers.get("Upgrade", "").lower() == "websocket":
            ports = [int(p) for p in cri.port]
            return await serve_port_forward_ws(request, self.node, pod_id, ports)
        raise web.HTTPBadRequest(text="expected an upgrade to WebSocket or SPDY/3.1")
