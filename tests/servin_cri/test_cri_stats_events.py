"""Container and pod stats, their streams, and the container events
stream, through the CRI."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from cri_kit import Cri, eventually, pod_config, run_pod, start_container

from servin_cri.pb import api_pb2 as pb


async def test_container_and_pod_stats(ready: tuple[Cri, str], tmp_path: Path) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    container = await start_container(cri, pod, config, image, "s", "sleep", "3600")

    first = await cri.runtime.ContainerStats(
        pb.ContainerStatsRequest(container_id=container)
    )
    second = await cri.runtime.ContainerStats(
        pb.ContainerStatsRequest(container_id=container)
    )
    assert first.stats.attributes.metadata.name == "s"
    assert first.stats.cpu.usage_core_nano_seconds.value > 0
    assert first.stats.memory.working_set_bytes.value > 0
    assert not first.stats.cpu.HasField("usage_nano_cores")
    assert second.stats.cpu.HasField("usage_nano_cores")
    assert second.stats.writable_layer.fs_id.mountpoint.endswith("/upper")

    listed = await cri.runtime.ListContainerStats(
        pb.ListContainerStatsRequest(filter=pb.ContainerStatsFilter(pod_sandbox_id=pod))
    )
    assert [s.attributes.id for s in listed.stats] == [container]

    answer = await cri.runtime.PodSandboxStats(
        pb.PodSandboxStatsRequest(pod_sandbox_id=pod)
    )
    linux = answer.stats.linux
    assert answer.stats.attributes.id == pod
    assert linux.process.process_count.value == 1
    assert [c.attributes.id for c in linux.containers] == [container]
    assert linux.memory.working_set_bytes.value > 0


async def test_stream_stats_send_what_the_lists_give(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    container = await start_container(cri, pod, config, image, "z", "sleep", "3600")

    containers = [
        s.attributes.id
        async for m in cri.runtime.StreamContainerStats(
            pb.StreamContainerStatsRequest()
        )
        for s in m.container_stats
    ]
    pods = [
        s.attributes.id
        async for m in cri.runtime.StreamPodSandboxStats(
            pb.StreamPodSandboxStatsRequest()
        )
        for s in m.pod_sandbox_stats
    ]
    assert (containers, pods) == ([container], [pod])


async def test_container_events_follow_the_lifecycle(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    events = cri.runtime.GetContainerEvents(pb.GetEventsRequest())
    received: list[pb.ContainerEventResponse] = []

    async def collect() -> None:
        async for event in events:
            received.append(event)

    await events.initial_metadata()  # the server listens from here
    collector = asyncio.create_task(collect())
    try:
        container = await start_container(cri, pod, config, image, "e", "true")

        async def kinds() -> list[int] | None:
            seen = [e.container_event_type for e in received]
            return seen if pb.CONTAINER_STOPPED_EVENT in seen else None

        await eventually(kinds, "the container's exit event")
        await cri.runtime.RemoveContainer(
            pb.RemoveContainerRequest(container_id=container)
        )
        seen = await eventually(
            lambda: _deleted(received), "the container's deletion event"
        )
    finally:
        events.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await collector

    assert seen == [
        pb.CONTAINER_CREATED_EVENT,
        pb.CONTAINER_STARTED_EVENT,
        pb.CONTAINER_STOPPED_EVENT,
        pb.CONTAINER_DELETED_EVENT,
    ]
    assert {e.container_id for e in received} == {container}
    assert received[0].pod_sandbox_status.id == pod
    assert [s.id for s in received[1].containers_statuses] == [container]


async def _deleted(received: list[pb.ContainerEventResponse]) -> list[int] | None:
    seen = [e.container_event_type for e in received]
    return seen if pb.CONTAINER_DELETED_EVENT in seen else None
