"""Exec, Attach and PortForward: the RPCs that answer with a URL.

Each checks what it can before the client comes (the container or pod
exists and runs, the streams asked for make sense), then hands the
request to the streaming server under a single-use token. The streaming
itself happens when the client opens the URL.
"""

from __future__ import annotations

import asyncio

from servin_core.containers.reconcile import refresh
from servin_core.errors import Conflict, InvalidArgument, Unavailable
from servin_cri.container_create import member_or_not_found
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb
from servin_cri.pod_store import PodState
from servin_cri.streaming.http_server import StreamingServer

__all__ = ["attach", "exec_", "port_forward"]


def _server(node: Node) -> StreamingServer:
    if node.streaming is None:
        raise Unavailable("streaming server", "", "is not running")
    return node.streaming


def _check_streams(
    container_id: str, stdin: bool, stdout: bool, stderr: bool, tty: bool
) -> None:
    if not (stdin or stdout or stderr):
        raise InvalidArgument(
            "container", container_id, "one of stdin, stdout and stderr must be set"
        )
    if tty and stderr:
        raise InvalidArgument(
            "container", container_id, "a tty has no separate stderr: unset one"
        )


async def _running(node: Node, container_id: str) -> None:
    member_or_not_found(node, container_id)
    core = node.core
    container = await asyncio.to_thread(
        refresh, core, core.containers.get(container_id)
    )
    if not container.state.can_exec():
        raise Conflict("container", container_id, f"is {container.state}, not running")


async def exec_(node: Node, request: pb.ExecRequest) -> pb.ExecResponse:
    server = _server(node)
    if not request.cmd:
        raise InvalidArgument("container", request.container_id, "no command given")
    _check_streams(
        request.container_id, request.stdin, request.stdout, request.stderr, request.tty
    )
    await _running(node, request.container_id)
    return pb.ExecResponse(url=server.url_for("exec", request))


async def attach(node: Node, request: pb.AttachRequest) -> pb.AttachResponse:
    server = _server(node)
    _check_streams(
        request.container_id, request.stdin, request.stdout, request.stderr, request.tty
    )
    await _running(node, request.container_id)
    return pb.AttachResponse(url=server.url_for("attach", request))


async def port_forward(
    node: Node, request: pb.PortForwardRequest
) -> pb.PortForwardResponse:
    server = _server(node)
    pod_id = request.pod_sandbox_id
    if not pod_id:
        raise InvalidArgument("pod sandbox", "", "no pod sandbox ID given")
    for port in request.port:
        if not 0 < port < 65536:
            raise InvalidArgument("pod sandbox", pod_id, f"invalid port {port}")
    pod = node.pods.get(pod_id)
    if pod.state is not PodState.READY:
        raise Conflict("pod sandbox", pod_id, "is not ready")
    return pb.PortForwardResponse(url=server.url_for("portforward", request))
