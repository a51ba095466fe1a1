"""ReopenContainerLog: kubelet has rotated a container's log (renamed the
file) and wants the container to write to a new one at the same path.

conmon writes the log; it reopens it when told so on its control FIFO in
the container's bundle directory (message type 2, as CRI-O sends it).
"""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path

from servin_core.containers import lifecycle
from servin_core.containers.paths import ContainerPaths
from servin_core.errors import Conflict, Unavailable
from servin_cri.container_create import member_or_not_found
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb

__all__ = ["reopen_container_log"]

_REOPEN = b"2 0 0\n"
_WAIT = 5.0


async def reopen_container_log(
    node: Node, request: pb.ReopenContainerLogRequest
) -> pb.ReopenContainerLogResponse:
    ident = request.container_id
    member_or_not_found(node, ident)
    container = node.core.containers.get(ident)
    container = await asyncio.to_thread(lifecycle.refresh, node.core, container)
    if not container.state.is_active:
        raise Conflict("container", ident, "is not running")
    log_path = container.config.log_path
    if not log_path:
        raise Conflict("container", ident, "has no log path")

    control = ContainerPaths.of(node.core.config, container.id).bundle / "ctl"
    try:
        fd = os.open(control, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        reason = "conmon is gone" if e.errno == errno.ENXIO else str(e)
        raise Unavailable("container", ident, f"cannot reach conmon: {reason}") from e
    try:
        os.write(fd, _REOPEN)
    finally:
        os.close(fd)

    # conmon reopens asynchronously; kubelet expects the file once we answer.
    deadline = asyncio.get_running_loop().time() + _WAIT
    while not Path(log_path).exists():
        if asyncio.get_running_loop().time() > deadline:
            raise Unavailable("container", ident, f"conmon did not reopen {log_path}")
        await asyncio.sleep(0.01)
    return pb.ReopenContainerLogResponse()
