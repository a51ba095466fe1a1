"""Which function answers which RPC.

Every implemented RPC is one line here; an RPC missing from these tables
answers UNIMPLEMENTED with its name (see server.py), never a fake success.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from servin_cri import (
    checkpoint,
    container_create,
    container_events,
    container_log,
    container_ops,
    container_update,
    exec_sync,
    image_pull,
    images,
    metrics,
    metrics_catalog,
    sandbox_ops,
    sandbox_run,
    stats,
    status,
    streams,
)
from servin_cri.node import Node
from servin_cri.streaming import rpcs as streaming

__all__ = [
    "IMAGE_ROUTES",
    "IMAGE_STREAMS",
    "RUNTIME_ROUTES",
    "RUNTIME_STREAMS",
    "Handler",
    "StreamHandler",
]

Handler = Callable[[Node, Any], Awaitable[Any]]
StreamHandler = Callable[[Node, Any], AsyncIterator[Any]]

RUNTIME_ROUTES: dict[str, Handler] = {
    "Version": status.version,
    "Status": status.status,
    "RuntimeConfig": status.runtime_config,
    "UpdateRuntimeConfig": status.update_runtime_config,
    "RunPodSandbox": sandbox_run.run_pod_sandbox,
    "StopPodSandbox": sandbox_ops.stop_pod_sandbox,
    "RemovePodSandbox": sandbox_ops.remove_pod_sandbox,
    "PodSandboxStatus": sandbox_ops.pod_sandbox_status,
    "ListPodSandbox": sandbox_ops.list_pod_sandbox,
    "UpdatePodSandboxResources": sandbox_ops.update_pod_sandbox_resources,
    "CreateContainer": container_create.create_container,
    "StartContainer": container_ops.start_container,
    "StopContainer": container_ops.stop_container,
    "RemoveContainer": container_ops.remove_container,
    "ContainerStatus": container_ops.container_status,
    "ListContainers": container_ops.list_containers,
    "ExecSync": exec_sync.exec_sync,
    "Exec": streaming.exec_,
    "Attach": streaming.attach,
    "PortForward": streaming.port_forward,
    "ReopenContainerLog": container_log.reopen_container_log,
    "UpdateContainerResources": container_update.update_container_resources,
    "ContainerStats": stats.container_stats,
    "ListContainerStats": stats.list_container_stats,
    "PodSandboxStats": stats.pod_sandbox_stats,
    "ListPodSandboxStats": stats.list_pod_sandbox_stats,
    "ListMetricDescriptors": metrics_catalog.list_metric_descriptors,
    "ListPodSandboxMetrics": metrics.list_pod_sandbox_metrics,
    "CheckpointContainer": checkpoint.checkpoint_container,
}

IMAGE_ROUTES: dict[str, Handler] = {
    "ListImages": images.list_images,
    "ImageStatus": images.image_status,
    "PullImage": image_pull.pull_image,
    "RemoveImage": images.remove_image,
    "ImageFsInfo": images.image_fs_info,
}

RUNTIME_STREAMS: dict[str, StreamHandler] = {
    "StreamPodSandboxes": streams.stream_pod_sandboxes,
    "StreamContainers": streams.stream_containers,
    "StreamContainerStats": streams.stream_container_stats,
    "StreamPodSandboxStats": streams.stream_pod_sandbox_stats,
    "GetContainerEvents": container_events.get_container_events,
    "StreamPodSandboxMetrics": metrics.stream_pod_sandbox_metrics,
}

IMAGE_STREAMS: dict[str, StreamHandler] = {
    "StreamImages": streams.stream_images,
}
