"""Reaching a port inside a pod, and relaying bytes to it.

The pod's network namespace is pinned to a file (servin_cri/sandbox.py).
A socket belongs to the namespace it was made in, whatever thread uses it
later: so a short-lived thread of its own joins the namespace (setns
moves only the calling thread), makes and connects the socket there, and
hands it back; the thread then ends, and no other thread ever changes
namespace. A host-network pod's ports are the node's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from servin_core.errors import Conflict, Unavailable
from servin_cri.node import Node
from servin_cri.pod_store import PodState
from servin_cri.sandbox import host_network, pod_dir

__all__ = ["dial", "relay"]

_CLONE_NEWNET = 0x40000000
_CONNECT_TIMEOUT = 10.0
_CHUNK = 1 << 16
# The C library the interpreter links (find_library would run ldconfig).
_libc = ctypes.CDLL(None, use_errno=True)


def _connect(port: int) -> socket.socket:
    """A connection to ``port`` on the loopback of this thread's namespace:
    IPv4 first, then IPv6."""
    failure: OSError | None = None
    for host in ("127.0.0.1", "::1"):
        try:
            return socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT)
        except OSError as e:
            failure = failure or e
    assert failure is not None
    raise failure


def _connect_in(netns: Path, port: int) -> socket.socket:
    """``_connect`` from inside ``netns``, in a thread made for it."""
    outcome: list[socket.socket | BaseException] = []

    def work() -> None:
        try:
            fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if _libc.setns(fd, _CLONE_NEWNET) != 0:
                    code = ctypes.get_errno()
                    raise OSError(code, f"setns: {os.strerror(code)}", str(netns))
            finally:
                os.close(fd)
            outcome.append(_connect(port))
        except BaseException as e:
            outcome.append(e)

    thread = threading.Thread(target=work, name=f"portforward-{port}")
    thread.start()
    thread.join()
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


async def dial(
    node: Node, pod_id: str, port: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to ``port`` in the pod; Conflict if the pod is not
    ready, Unavailable if nothing answers there."""
    pod = node.pods.get(pod_id)
    if pod.state is not PodState.READY:
        raise Conflict("pod sandbox", pod_id, "is not ready")
    try:
        if host_network(pod.config):
            sock = await asyncio.to_thread(_connect, port)
        else:
            netns = pod_dir(node, pod.id) / "ns" / "net"
            sock = await asyncio.to_thread(_connect_in, netns, port)
    except OSError as e:
        reason = f"port {port}: {e.strerror or e}"
        raise Unavailable("pod sandbox", pod_id, reason) from e
    sock.setblocking(False)
    return await asyncio.open_connection(sock=sock)


async def relay(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    incoming: AsyncIterator[bytes],
    send: Callable[[bytes], Awaitable[bool]],
) -> None:
    """Copy ``incoming`` to the connection (half-closing it when they end)
    and the connection's bytes to ``send``, until the connection's side
    ends; then close the connection."""

    async def upstream() -> None:
        async for data in incoming:
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    feeding = asyncio.ensure_future(upstream())
    try:
        while data := await reader.read(_CHUNK):
            if not await send(data):
                break
    except ConnectionError:
        pass
    finally:
        feeding.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await feeding
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
