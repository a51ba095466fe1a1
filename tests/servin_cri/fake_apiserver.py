"""Just enough of a Kubernetes API server for kubectl's exec, attach and
port-forward to reach Servin's CRI streaming server, the way the API
server and kubelet would put them through.

kubectl first reads the pod (and, for port-forward, the discovery
documents); then it upgrades a request on the pod's ``exec``, ``attach``
or ``portforward`` subresource. Here that request gets a fresh URL from
the CRI (Exec, Attach or PortForward with the options of its query), and
the connection is spliced, bytes as they are, onto the streaming server
with the path of that URL: what kubectl speaks then reaches the streaming
server unchanged, as through kubelet's proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

NewUrl = Callable[[str, dict[str, list[str]]], Awaitable[str]]
"""Given the subresource and the query, a streaming URL from the CRI."""

_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0"}
_RESOURCES = {
    "kind": "APIResourceList",
    "groupVersion": "v1",
    "resources": [
        {
            "name": "pods",
            "singularName": "pod",
            "namespaced": True,
            "kind": "Pod",
            "verbs": ["get", "list"],
            "shortNames": ["po"],
        },
        {
            "name": "pods/exec",
            "namespaced": True,
            "kind": "PodExecOptions",
            "verbs": [],
        },
        {
            "name": "pods/portforward",
            "namespaced": True,
            "kind": "PodPortForwardOptions",
            "verbs": [],
        },
    ],
}


def _pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": "uid-" + name},
        "spec": {"containers": [{"name": "app", "image": "busybox", "stdin": True}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [{"name": "app", "ready": True}],
        },
    }


class FakeApiServer:
    def __init__(self, new_url: NewUrl) -> None:
        self._new_url = new_url
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        """Connections being served: Python 3.11's Server.wait_closed does
        not wait for them, so stop() ends them itself."""
        self.port = 0
        self.seen: list[str] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for handler in list(self._handlers):
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
                self.seen.append(f"{method} {target}")
                parts = urlsplit(target)
                sub = parts.path.rsplit("/", 1)[-1]
                if sub in ("exec", "attach", "portforward"):
                    url = await self._new_url(sub, parse_qs(parts.query))
                    await _splice(head, urlsplit(url), reader, writer)
                    return
                self._answer(writer, parts.path)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _answer(self, writer: asyncio.StreamWriter, path: str) -> None:
        status, body = 200, _document(path)
        if body is None:
            status = 404
            body = {"kind": "Status", "status": "Failure", "code": 404}
        data = json.dumps(body).encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )


def _document(path: str) -> Any:
    if path == "/version":
        return _VERSION
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"]}
    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}
    if path == "/api/v1":
        return _RESOURCES
    prefix = "/api/v1/namespaces/default/pods/"
    if path.startswith(prefix) and "/" not in path[len(prefix) :]:
        return _pod(path[len(prefix) :])
    return None


async def _splice(
    head: bytes,
    target: Any,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    """Send the request on to ``target`` with its path, then copy both ways."""
    request_line, rest = head.split(b"\r\n", 1)
    method = request_line.split(b" ", 1)[0]
    upstream_reader, upstream_writer = await asyncio.open_connection(
        target.hostname, target.port
    )
    upstream_writer.write(method + f" {target.path} HTTP/1.1\r\n".encode() + rest)

    async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
            if dst.can_write_eof():
                dst.write_eof()

    try:
        await asyncio.gather(
            copy(reader, upstream_writer),
            copy(upstream_reader, writer),
            return_exceptions=True,
        )
    finally:
        upstream_writer.close()
