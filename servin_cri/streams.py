"""StreamPodSandboxes, StreamContainers, StreamImages, StreamContainerStats
and StreamPodSandboxStats: the List RPCs' answers sent in several
messages, so that a node with many objects never meets gRPC's message size
limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TypeVar

from servin_cri import container_ops, images, sandbox_ops, stats
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb

__all__ = [
    "stream_container_stats",
    "stream_containers",
    "stream_images",
    "stream_pod_sandbox_stats",
    "stream_pod_sandboxes",
]

_CHUNK = 500
T = TypeVar("T")


def _chunks(items: Sequence[T]) -> list[list[T]]:
    return [list(items[i : i + _CHUNK]) for i in range(0, len(items), _CHUNK)]


async def stream_pod_sandboxes(
    node: Node, request: pb.StreamPodSandboxesRequest
) -> AsyncIterator[pb.StreamPodSandboxesResponse]:
    listed = await sandbox_ops.list_pod_sandbox(
        node, pb.ListPodSandboxRequest(filter=request.filter)
    )
    for chunk in _chunks(listed.items):
        yield pb.StreamPodSandboxesResponse(pod_sandboxes=chunk)


async def stream_containers(
    node: Node, request: pb.StreamContainersRequest
) -> AsyncIterator[pb.StreamContainersResponse]:
    listed = await container_ops.list_containers(
        node, pb.ListContainersRequest(filter=request.filter)
    )
    for chunk in _chunks(listed.containers):
        yield pb.StreamContainersResponse(containers=chunk)


async def stream_images(
    node: Node, request: pb.StreamImagesRequest
) -> AsyncIterator[pb.StreamImagesResponse]:
    listed = await images.list_images(node, pb.ListImagesRequest(filter=request.filter))
    for chunk in _chunks(listed.images):
        yield pb.StreamImagesResponse(images=chunk)


async def stream_container_stats(
    node: Node, request: pb.StreamContainerStatsRequest
) -> AsyncIterator[pb.StreamContainerStatsResponse]:
    listed = await stats.list_container_stats(
        node, pb.ListContainerStatsRequest(filter=request.filter)
    )
    for chunk in _chunks(listed.stats):
        yield pb.StreamContainerStatsResponse(container_stats=chunk)


async def stream_pod_sandbox_stats(
    node: Node, request: pb.StreamPodSandboxStatsRequest
) -> AsyncIterator[pb.StreamPodSandboxStatsResponse]:
    listed = await stats.list_pod_sandbox_stats(
        node, pb.ListPodSandboxStatsRequest(filter=request.filter)
    )
    for chunk in _chunks(listed.stats):
        yield pb.StreamPodSandboxStatsResponse(pod_sandbox_stats=chunk)
