"""GetContainerEvents: CRI containers' lifecycle, as kubelet's evented PLEG
reads it instead of listing every second.

The core records every change in its events table, whichever process made
it (a container's exit is recorded by conmon's exit command), so the
stream reads that table from the moment it was opened: woken at once by
this process's own changes, and every quarter second for other
processes'. Each event carries the pod's status and its containers'.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from servin_core.errors import NotFound
from servin_core.events import Event
from servin_cri import sandbox_ops
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb

__all__ = ["get_container_events"]

_KINDS = {
    "create": pb.CONTAINER_CREATED_EVENT,
    "start": pb.CONTAINER_STARTED_EVENT,
    "die": pb.CONTAINER_STOPPED_EVENT,
    "destroy": pb.CONTAINER_DELETED_EVENT,
}
_POLL = 0.25
_MEMBER_WAIT = 5.0


async def _message(node: Node, event: Event, pod_id: str) -> pb.ContainerEventResponse:
    answer = pb.ContainerEventResponse(
        container_id=event.actor_id,
        container_event_type=_KINDS[event.action],
        created_at=int(event.time * 1e9),
    )
    try:
        pod = await sandbox_ops.pod_sandbox_status(
            node, pb.PodSandboxStatusRequest(pod_sandbox_id=pod_id)
        )
    except NotFound:
        return answer  # the pod went with the container
    answer.pod_sandbox_status.CopyFrom(pod.status)
    answer.containers_statuses.extend(pod.containers_statuses)
    return answer


async def _learn(node: Node, event: Event, pods: dict[str, str]) -> None:
    """Learn whose ``event``'s container is. CreateContainer ties the
    container to its pod just after the core has made it (and recorded
    "create"), so a new CRI container (named k8s_...) is waited for."""
    deadline = asyncio.get_running_loop().time() + _MEMBER_WAIT
    while True:
        pods.update((m.container_id, m.pod_id) for m in node.pods.members())
        new = event.action == "create" and event.attributes.get("name", "")
        if event.actor_id in pods or not str(new).startswith("k8s_"):
            return
        if asyncio.get_running_loop().time() > deadline:
            return
        await asyncio.sleep(0.01)


def get_container_events(
    node: Node, request: pb.GetEventsRequest
) -> AsyncIterator[pb.ContainerEventResponse]:
    """The stream of events after this call (the point is taken now, not
    at the first read, so the server can tell the client it is listening)."""
    row = node.core.db.query_one("SELECT MAX(seq) AS seq FROM events")
    seen = int(row["seq"] or 0) if row else 0
    return _follow(node, seen)


async def _follow(node: Node, seen: int) -> AsyncIterator[pb.ContainerEventResponse]:
    core = node.core
    # A deleted container's row is gone: remember whose each one was.
    pods = {m.container_id: m.pod_id for m in node.pods.members()}

    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def woken(_: Event) -> None:
        loop.call_soon_threadsafe(wake.set)

    unsubscribe = core.events.subscribe(woken)
    try:
        while True:
            wake.clear()  # before reading: a change after it wakes us again
            for event in core.events.since(seen):
                seen = event.seq
                if event.type != "container" or event.action not in _KINDS:
                    continue
                if event.actor_id not in pods:
                    await _learn(node, event, pods)
                pod_id = pods.get(event.actor_id)
                if pod_id is None:
                    continue  # not a CRI container
                yield await _message(node, event, pod_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), _POLL)
    finally:
        unsubscribe()
