"""StartContainer, StopContainer, RemoveContainer, ContainerStatus and
ListContainers, on the core's lifecycle.

Only containers made through the CRI (those with a pod_containers row) are
seen here: a container made with the CLI is not kubelet's to manage.
Remove is idempotent (kubelet retries it); stop of a stopped container is
a success.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from servin_core.containers import lifecycle
from servin_core.containers.model import Container, State
from servin_core.errors import NotFound
from servin_cri.container_create import member_or_not_found
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb
from servin_cri.pod_store import PodContainer

__all__ = [
    "container_status",
    "container_statuses",
    "list_containers",
    "remove_container",
    "start_container",
    "stop_container",
]

_STATES = {
    State.CREATED: pb.CONTAINER_CREATED,
    State.RUNNING: pb.CONTAINER_RUNNING,
    State.PAUSED: pb.CONTAINER_RUNNING,
    State.RESTARTING: pb.CONTAINER_RUNNING,
    State.REMOVING: pb.CONTAINER_EXITED,
    State.EXITED: pb.CONTAINER_EXITED,
    State.DEAD: pb.CONTAINER_EXITED,
}


def _ns(seconds: float | None) -> int:
    return int(seconds * 1e9) if seconds else 0


async def _current(node: Node, container_id: str) -> Container:
    container = node.core.containers.get(container_id)
    return await asyncio.to_thread(lifecycle.refresh, node.core, container)


def _reason(container: Container) -> str:
    if _STATES[container.state] != pb.CONTAINER_EXITED:
        return ""
    if container.oom_killed:
        return "OOMKilled"
    return "Completed" if container.exit_code == 0 else "Error"


async def start_container(
    node: Node, request: pb.StartContainerRequest
) -> pb.StartContainerResponse:
    member_or_not_found(node, request.container_id)
    await lifecycle.start(node.core, request.container_id)
    return pb.StartContainerResponse()


async def stop_container(
    node: Node, request: pb.StopContainerRequest
) -> pb.StopContainerResponse:
    try:
        member_or_not_found(node, request.container_id)
        container = await _current(node, request.container_id)
    except NotFound:
        return pb.StopContainerResponse()  # gone: stopped, as kubelet counts
    if container.state.can_stop():
        await lifecycle.stop(
            node.core, container.id, timeout=max(int(request.timeout), 0)
        )
    return pb.StopContainerResponse()


async def remove_container(
    node: Node, request: pb.RemoveContainerRequest
) -> pb.RemoveContainerResponse:
    try:
        member_or_not_found(node, request.container_id)
        await lifecycle.remove(node.core, request.container_id, force=True)
    except NotFound:
        pass  # removed already: removal is idempotent
    return pb.RemoveContainerResponse()


def _status(container: Container, member: PodContainer) -> pb.ContainerStatus:
    config = member.config
    return pb.ContainerStatus(
        id=container.id,
        metadata=config.metadata,
        state=_STATES[container.state],
        created_at=_ns(container.created),
        started_at=_ns(container.started_at),
        finished_at=_ns(container.finished_at),
        exit_code=container.exit_code or 0,
        image=config.image,
        image_ref=container.image_id,
        image_id=container.image_id,
        reason=_reason(container),
        message=container.error,
        labels=dict(config.labels),
        annotations=dict(config.annotations),
        mounts=list(config.mounts),
        log_path=container.config.log_path or "",
        resources=pb.ContainerResources(linux=config.linux.resources),
        stop_signal=config.stop_signal,
    )


def _process_user(pid: int) -> pb.ContainerUser | None:
    """The IDs the container's process runs with, as the kernel has them
    (what kubelet reports for the supplemental groups policy)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    try:
        uid = int(fields["Uid"].split()[0])
        gid = int(fields["Gid"].split()[0])
        groups = [int(g) for g in fields.get("Groups", "").split()]
    except (KeyError, ValueError, IndexError):
        return None
    linux = pb.LinuxContainerUser(uid=uid, gid=gid, supplemental_groups=groups)
    return pb.ContainerUser(linux=linux)


async def container_status(
    node: Node, request: pb.ContainerStatusRequest
) -> pb.ContainerStatusResponse:
    member_or_not_found(node, request.container_id)
    member = node.pods.member(request.container_id)
    container = await _current(node, request.container_id)
    status = _status(container, member)
    user = _process_user(container.pid) if container.state.is_active else None
    if user is not None:
        status.user.CopyFrom(user)
    return pb.ContainerStatusResponse(status=status)


def _matches(
    container: Container, member: PodContainer, wanted: pb.ContainerFilter
) -> bool:
    if wanted.id and not container.id.startswith(wanted.id):
        return False
    if wanted.pod_sandbox_id and not member.pod_id.startswith(wanted.pod_sandbox_id):
        return False
    if wanted.HasField("state") and _STATES[container.state] != wanted.state.state:
        return False
    labels = member.config.labels
    return all(labels.get(k) == v for k, v in wanted.label_selector.items())


async def list_containers(
    node: Node, request: pb.ListContainersRequest
) -> pb.ListContainersResponse:
    found = []
    for member in node.pods.members():
        try:
            container = await _current(node, member.container_id)
        except NotFound:
            continue  # removed while we listed
        if not _matches(container, member, request.filter):
            continue
        found.append(
            pb.Container(
                id=container.id,
                pod_sandbox_id=member.pod_id,
                metadata=member.config.metadata,
                image=member.config.image,
                image_ref=container.image_id,
                image_id=container.image_id,
                state=_STATES[container.state],
                created_at=_ns(container.created),
                labels=dict(member.config.labels),
                annotations=dict(member.config.annotations),
            )
        )
    return pb.ListContainersResponse(containers=found)


async def container_statuses(node: Node, pod_id: str) -> list[pb.ContainerStatus]:
    """The statuses of a pod's containers (for PodSandboxStatus and events,
    as kubelet's evented PLEG reads them)."""
    found = []
    for member in node.pods.members(pod_id):
        try:
            answer = await container_status(
                node, pb.ContainerStatusRequest(container_id=member.container_id)
            )
        except NotFound:
            continue  # removed while we looked
        found.append(answer.status)
    return found
