"""StopPodSandbox, RemovePodSandbox, PodSandboxStatus and ListPodSandbox.

Stop and remove are idempotent, as kubelet expects: it stops a pod more
than once and removes it after stopping. Stopping kills the pod's
containers and gives up its network (CNI DEL, the namespace unpinned);
removing takes the containers, the other namespaces, the files and the
rows.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time

from google.protobuf import json_format

from servin_core import log
from servin_core.containers import lifecycle
from servin_core.errors import NotFound
from servin_cri import container_ops
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb
from servin_cri.pod_namespaces import unpin_namespaces
from servin_cri.pod_pid import release_pid_namespace
from servin_cri.pod_store import Pod, PodState
from servin_cri.sandbox import pod_dir, pod_message, pod_state
from servin_cri.sandbox_network import detach_pod

__all__ = [
    "list_pod_sandbox",
    "pod_sandbox_status",
    "remove_pod_sandbox",
    "stop_pod_sandbox",
    "update_pod_sandbox_resources",
]


def _pinned(node: Node, pod: Pod) -> dict[str, str]:
    ns = pod_dir(node, pod.id) / "ns"
    return {name: str(ns / name) for name in ("net", "ipc", "uts")}


async def _stop_containers(node: Node, pod: Pod) -> None:
    for member in node.pods.members(pod.id):
        try:
            container = await asyncio.to_thread(
                lifecycle.refresh,
                node.core,
                node.core.containers.get(member.container_id),
            )
            if container.state.can_stop():
                await lifecycle.stop(node.core, container.id, timeout=0)
        except NotFound:
            continue  # removed meanwhile


async def stop_pod_sandbox(
    node: Node, request: pb.StopPodSandboxRequest
) -> pb.StopPodSandboxResponse:
    try:
        pod = node.pods.resolve(request.pod_sandbox_id)
    except NotFound:
        # Stopping is idempotent: what is gone is as stopped as it gets
        # (kubelet retries a stop whose answer it missed).
        return pb.StopPodSandboxResponse()
    async with node.pod_lock(pod.id):
        await _stop_containers(node, pod)
        directory = pod_dir(node, pod.id)
        await asyncio.to_thread(detach_pod, node, pod.id, directory)
        net = {"network": _pinned(node, pod)["net"]}
        await asyncio.to_thread(unpin_namespaces, net)
        release_pid_namespace(pod_dir(node, pod.id))
        if node.pods.get(pod.id).state is not PodState.NOTREADY:
            node.pods.set_state(pod.id, PodState.NOTREADY, ip="")
            log.for_object(log.cri, "pod", pod.id).info("stopped")
    return pb.StopPodSandboxResponse()


async def remove_pod_sandbox(
    node: Node, request: pb.RemovePodSandboxRequest
) -> pb.RemovePodSandboxResponse:
    try:
        pod = node.pods.resolve(request.pod_sandbox_id)
    except NotFound:
        return pb.RemovePodSandboxResponse()  # removed already
    async with node.pod_lock(pod.id):
        for member in node.pods.members(pod.id):
            try:
                await lifecycle.remove(node.core, member.container_id, force=True)
            except NotFound:
                continue
        await asyncio.to_thread(detach_pod, node, pod.id, pod_dir(node, pod.id))
        await asyncio.to_thread(unpin_namespaces, _pinned(node, pod))
        release_pid_namespace(pod_dir(node, pod.id))
        shutil.rmtree(pod_dir(node, pod.id), ignore_errors=True)
        node.pods.delete(pod.id)
    node.forget_pod_lock(pod.id)
    log.for_object(log.cri, "pod", pod.id).info("removed")
    return pb.RemovePodSandboxResponse()


async def pod_sandbox_status(
    node: Node, request: pb.PodSandboxStatusRequest
) -> pb.PodSandboxStatusResponse:
    pod = node.pods.resolve(request.pod_sandbox_id)
    options = pod.config.linux.security_context.namespace_options
    status = pb.PodSandboxStatus(
        id=pod.id,
        metadata=pod.metadata,
        state=pod_state(pod),
        created_at=int(pod.created * 1e9),
        network=pb.PodSandboxNetworkStatus(ip=pod.ip),
        linux=pb.LinuxPodSandboxStatus(
            namespaces=pb.Namespace(options=options),
        ),
        labels=dict(pod.config.labels),
        annotations=dict(pod.config.annotations),
        runtime_handler=pod.runtime_handler,
    )
    answer = pb.PodSandboxStatusResponse(
        status=status,
        containers_statuses=await container_ops.container_statuses(node, pod.id),
        timestamp=time.time_ns(),
    )
    if request.verbose:
        answer.info["info"] = json.dumps(
            {
                "directory": str(pod_dir(node, pod.id)),
                "namespaces": _pinned(node, pod),
                "containers": [m.container_id for m in node.pods.members(pod.id)],
                "resources": json_format.MessageToDict(
                    pod.config.linux.resources, preserving_proto_field_name=True
                ),
            }
        )
    return answer


def _matches(pod: Pod, wanted: pb.PodSandboxFilter) -> bool:
    if wanted.id and not pod.id.startswith(wanted.id):
        return False
    if wanted.HasField("state") and pod_state(pod) != wanted.state.state:
        return False
    labels = pod.config.labels
    return all(labels.get(k) == v for k, v in wanted.label_selector.items())


async def list_pod_sandbox(
    node: Node, request: pb.ListPodSandboxRequest
) -> pb.ListPodSandboxResponse:
    pods = [p for p in node.pods.list() if _matches(p, request.filter)]
    return pb.ListPodSandboxResponse(items=[pod_message(p) for p in pods])


async def update_pod_sandbox_resources(
    node: Node, request: pb.UpdatePodSandboxResourcesRequest
) -> pb.UpdatePodSandboxResourcesResponse:
    """kubelet has resized the pod's cgroups itself and tells the runtime,
    which keeps the new figures in the pod's configuration (what
    PodSandboxStatus's verbose info and later resizes start from)."""
    pod = node.pods.resolve(request.pod_sandbox_id)
    config = pod.config
    if request.HasField("overhead"):
        config.linux.overhead.CopyFrom(request.overhead)
    if request.HasField("resources"):
        config.linux.resources.CopyFrom(request.resources)
    node.pods.set_config(pod.id, config)
    return pb.UpdatePodSandboxResourcesResponse()
