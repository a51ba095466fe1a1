"""The CRI server: runtime.v1 RuntimeService and ImageService on a unix
socket, through grpc.aio on the caller's event loop.

The socket is made mode 0660 (root and the socket's group, as containerd's
is), in a run directory that is itself private.
"""

from __future__ import annotations

import asyncio
import os
import socket
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc

from servin_core import log
from servin_core.errors import Conflict
from servin_cri.cni import CniLocations
from servin_cri.instrument import Instrument
from servin_cri.node import Node
from servin_cri.pb import api_pb2, api_pb2_grpc
from servin_cri.pod_reconcile import reconcile_pods
from servin_cri.routes import (
    IMAGE_ROUTES,
    IMAGE_STREAMS,
    RUNTIME_ROUTES,
    RUNTIME_STREAMS,
    Handler,
    StreamHandler,
)
from servin_cri.streaming.http_server import StreamingServer
from servin_cri.streaming.listener import StreamingListener
from servin_cri.tcp import TcpListener, add_tcp_port, check_tcp

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["CriServer"]

_MESSAGE_LIMIT = 16 << 20
_STOP_GRACE = 5.0
_SOCKET_MODE = 0o660


def _unimplemented(
    service: str, name: str, streaming: bool
) -> Callable[[Any, Any], Any]:
    message = f"{service}/{name} is not implemented by Servin yet"

    async def answer(request: Any, context: Any) -> Any:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)

    async def refuse(request: Any, context: Any) -> AsyncIterator[Any]:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)
        yield  # never reached: makes this an async generator, as grpcio wants

    return refuse if streaming else answer


class _Servicer:
    """Gives grpcio a handler for every RPC of one service: the routed
    function, bound to the node, or an UNIMPLEMENTED answer naming it."""

    def __init__(
        self,
        node: Node,
        service: str,
        routes: dict[str, Handler],
        streams: dict[str, StreamHandler],
    ) -> None:
        descriptor = api_pb2.DESCRIPTOR.services_by_name[service]
        self._methods = {m.name: m.server_streaming for m in descriptor.methods}
        self._node = node
        self._service = service
        self._routes = routes
        self._streams = streams

    def __getattr__(self, name: str) -> Callable[[Any, Any], Any]:
        if name not in self._methods:
            raise AttributeError(name)
        node = self._node
        stream = self._streams.get(name)
        if stream is not None:

            async def send(request: Any, context: Any) -> AsyncIterator[Any]:
                responses = stream(node, request)
                # Headers go out before the first message, so a client knows
                # that a stream of events is listening.
                await context.send_initial_metadata(())
                async for response in responses:
                    yield response

            return send
        handler = self._routes.get(name)
        if handler is None:
            return _unimplemented(self._service, name, self._methods[name])

        async def answer(request: Any, context: Any) -> Any:
            return await handler(node, request)

        return answer


def _remove_stale_socket(path: Path) -> None:
    """Remove a socket left by a server that died; refuse to take over one
    that still answers, or a path that is not a socket."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise Conflict("socket", str(path), "the path exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        path.unlink(missing_ok=True)
        return
    finally:
        probe.close()
    raise Conflict("socket", str(path), "another server listens on it")


class CriServer:
    """Serves the CRI for ``core`` on the unix socket ``socket_path``, and
    on TCP as ``tcp`` says (not at all by default: see tcp.py)."""

    def __init__(
        self,
        core: Core,
        socket_path: Path | str,
        *,
        cni: CniLocations | None = None,
        tcp: TcpListener | None = None,
        streaming: StreamingListener | None = None,
    ) -> None:
        self.node = Node(core, cni or CniLocations())
        # Exec, Attach and PortForward answer with its URLs.
        self.streaming = StreamingServer(self.node, streaming)
        self.node.streaming = self.streaming
        self.socket_path = Path(socket_path)
        self.tcp = tcp
        self.tcp_port = 0
        """The TCP port bound (useful with port 0), once started."""
        self._server: Any = None
        self._log = log.for_object(log.cri, "socket", str(self.socket_path))

    async def start(self) -> None:
        if self.tcp is not None:
            check_tcp(self.tcp)  # before anything is bound
        self.socket_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _remove_stale_socket(self.socket_path)
        await asyncio.to_thread(reconcile_pods, self.node)
        await self.streaming.start()
        try:
            self._server = await self._serve()
        except BaseException:
            await self.streaming.stop()
            raise
        os.chmod(self.socket_path, _SOCKET_MODE)
        if self.tcp is not None:
            self._log.info("serving CRI v1, and on TCP port %d", self.tcp_port)
        else:
            self._log.info("serving CRI v1")

    async def _serve(self) -> Any:
        server = grpc.aio.server(
            interceptors=[Instrument()],
            options=[
                ("grpc.max_receive_message_length", _MESSAGE_LIMIT),
                ("grpc.max_send_message_length", _MESSAGE_LIMIT),
            ],
        )
        # The generated registration functions carry no annotations.
        add_runtime: Any = api_pb2_grpc.add_RuntimeServiceServicer_to_server
        add_image: Any = api_pb2_grpc.add_ImageServiceServicer_to_server
        runtime = _Servicer(
            self.node, "RuntimeService", RUNTIME_ROUTES, RUNTIME_STREAMS
        )
        add_runtime(runtime, server)
        add_image(
            _Servicer(self.node, "ImageService", IMAGE_ROUTES, IMAGE_STREAMS), server
        )
        server.add_insecure_port(f"unix:{self.socket_path}")
        if self.tcp is not None:
            self.tcp_port = add_tcp_port(server, self.tcp)
        await server.start()
        return server

    async def stop(self) -> None:
        await self.streaming.stop()
        server, self._server = self._server, None
        if server is None:
            return
        await server.stop(_STOP_GRACE)
        self.socket_path.unlink(missing_ok=True)
        self._log.info("stopped")
