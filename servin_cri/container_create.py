"""CreateContainer: kubelet's container as a core container in the pod.

The CRI configuration is translated into the core's ContainerConfig: the
pod's namespaces joined by file (or the host's), the pod's /etc files and
kubelet's mounts bound in (image volumes: image_volume.py), the log written
where kubelet reads it. What the core has no field for (labels,
annotations, metadata) is kept in the pod_containers row beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

from servin_core import log
from servin_core.containers import lifecycle
from servin_core.containers.model import ContainerConfig, Device, Mount, Resources
from servin_core.errors import Conflict, InvalidArgument, NotFound
from servin_cri.image_volume import image_volume
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb
from servin_cri.pod_store import Pod, PodState
from servin_cri.sandbox import (
    ETC_FILES,
    container_namespaces,
    host_network,
    pod_dir,
    pod_hostname,
)

__all__ = ["create_container"]

_CPU_PERIOD_DEFAULT = 100_000
_PROPAGATION = {
    pb.PROPAGATION_PRIVATE: "rprivate",
    pb.PROPAGATION_HOST_TO_CONTAINER: "rslave",
    pb.PROPAGATION_BIDIRECTIONAL: "rshared",
}


def _user(context: pb.LinuxContainerSecurityContext, name: str) -> str | None:
    """docker's ``user[:group]`` for the security context of the container
    ``name``. A group without a user is refused, as containerd and CRI-O
    refuse it (critest checks): which user it goes with would be a guess."""
    user = context.run_as_username
    if not user and context.HasField("run_as_user"):
        user = str(context.run_as_user.value)
    if context.HasField("run_as_group"):
        if not user:
            raise InvalidArgument(
                "container", name, "run_as_group is given without a user"
            )
        user = f"{user}:{context.run_as_group.value}"
    return user or None


def _stop_signal(config: pb.ContainerConfig) -> str | None:
    """``SIGTERM`` for SIGNAL_SIGTERM; None leaves the image's (or TERM)."""
    if config.stop_signal == pb.SIGNAL_RUNTIME_DEFAULT:
        return None
    return pb.Signal.Name(config.stop_signal).removeprefix("SIGNAL_")


def _devices(config: pb.ContainerConfig) -> tuple[Device, ...]:
    return tuple(
        Device(
            host_path=d.host_path,
            container_path=d.container_path or d.host_path,
            permissions=d.permissions or "rwm",
        )
        for d in config.devices
    )


def _resources(
    limits: pb.LinuxContainerResources, devices: tuple[Device, ...]
) -> Resources:
    nano_cpus = None
    if limits.cpu_quota > 0:
        period = limits.cpu_period or _CPU_PERIOD_DEFAULT
        nano_cpus = limits.cpu_quota * 1_000_000_000 // period
    return Resources(
        memory=limits.memory_limit_in_bytes or None,
        memory_swap=limits.memory_swap_limit_in_bytes or None,
        nano_cpus=nano_cpus,
        cpu_shares=limits.cpu_shares or None,
        devices=devices,
    )


def _security_opt(context: pb.LinuxContainerSecurityContext) -> list[str]:
    options = ["no-new-privileges"] if context.no_new_privs else []
    profile = context.seccomp
    if not context.HasField("seccomp"):
        # No profile at all is no filter, as in containerd and CRI-O;
        # kubelet always names one (RuntimeDefault when the pod asks).
        options.append("seccomp=unconfined")
    elif profile.profile_type == pb.SecurityProfile.Unconfined:
        options.append("seccomp=unconfined")
    elif profile.profile_type == pb.SecurityProfile.Localhost:
        options.append(f"seccomp={profile.localhost_ref}")
    # RuntimeDefault is the core's default profile.
    return options


def _mount_options(mount: pb.Mount, name: str) -> tuple[str, ...]:
    """Propagation and options of one of kubelet's mounts; ``rro`` for a
    recursively read-only one, which the CRI allows only read-only and
    private (a submount made later could not be kept read-only)."""
    where = f"mount at {mount.container_path}"
    options = (_PROPAGATION.get(mount.propagation, "rprivate"), *mount.mount_options)
    if not mount.recursive_read_only:
        return options
    if not mount.readonly:
        raise InvalidArgument(
            "container", name, f"{where} is recursively read-only but not read-only"
        )
    if mount.propagation != pb.PROPAGATION_PRIVATE:
        raise InvalidArgument(
            "container", name, f"{where} is recursively read-only but not private"
        )
    return (*options, "rro")


def _mounts(node: Node, pod: Pod, config: pb.ContainerConfig) -> list[Mount]:
    """kubelet's mounts and the pod's /etc files. An image volume's
    ``image_ref`` is filled in ``config`` with its image's ID, for
    ContainerStatus to report."""
    theirs = []
    for m in config.mounts:
        if m.image.image and not m.host_path:
            mount, m.image.image_ref = image_volume(node, m, config.metadata.name)
            theirs.append(mount)
            continue
        bind = Mount(
            type="bind",
            target=m.container_path,
            source=m.host_path,
            read_only=m.readonly,
            options=_mount_options(m, config.metadata.name),
            # containerd makes a missing host directory; kubelet relies on it.
            create_source=True,
        )
        theirs.append(bind)
    # The pod's shared /etc files, unless kubelet brings its own.
    taken = {m.target for m in theirs}
    ours = [
        Mount(
            type="bind", target=f"/etc/{name}", source=str(pod_dir(node, pod.id) / name)
        )
        for name in ETC_FILES
        if f"/etc/{name}" not in taken
    ]
    return ours + theirs


def _log_path(pod: Pod, config: pb.ContainerConfig) -> str | None:
    if not config.log_path:
        return None
    directory = pod.config.log_directory
    path = os.path.join(directory, config.log_path) if directory else config.log_path
    if not os.path.isabs(path):
        raise InvalidArgument(
            "container", config.metadata.name, f"log path {path} is not absolute"
        )
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


async def _target_pid(node: Node, options: pb.NamespaceOption) -> int:
    if options.pid != pb.TARGET:
        return 0
    target = node.core.containers.resolve(options.target_id)
    if not target.pid:
        raise Conflict("container", options.target_id, "is not running")
    return target.pid


def _cgroup_parent(pod: Pod) -> str | None:
    """kubelet's pod cgroup (cgroupfs driver: an absolute path such as
    /kubepods/burstable/podUID), refused if it could climb out."""
    parent = pod.config.linux.cgroup_parent
    if not parent:
        return None
    if not parent.startswith("/") or ".." in parent.split("/"):
        raise InvalidArgument(
            "pod sandbox", pod.id, f"cgroup parent {parent} is not an absolute path"
        )
    return parent


def _core_config(
    node: Node, pod: Pod, config: pb.ContainerConfig, namespaces: dict[str, str]
) -> ContainerConfig:
    context = config.linux.security_context
    host = host_network(pod.config)
    node.core.images.resolve(config.image.image)  # NotFound names the image
    return ContainerConfig(
        image=config.image.image,
        entrypoint=list(config.command) or None,
        cmd=list(config.args) or None,
        env=[f"{kv.key}={kv.value.decode(errors='replace')}" for kv in config.envs],
        user=_user(context, config.metadata.name),
        workdir=config.working_dir or None,
        hostname=None if host else pod_hostname(pod.config),
        labels=dict(config.labels),
        tty=config.tty,
        open_stdin=config.stdin,
        stdin_once=config.stdin_once,
        cap_add=list(context.capabilities.add_capabilities),
        cap_drop=list(context.capabilities.drop_capabilities),
        privileged=context.privileged,
        security_opt=_security_opt(context),
        read_only=context.readonly_rootfs,
        group_add=[str(gid) for gid in context.supplemental_groups],
        image_groups=context.supplemental_groups_policy != pb.Strict,
        # kubelet reads the groups back from ContainerStatus, as containerd
        # lists them: the primary one among them.
        primary_in_groups=True,
        # An empty list reads as unset over protobuf: the defaults then.
        masked_paths=list(context.masked_paths) or None,
        readonly_paths=list(context.readonly_paths) or None,
        resources=_resources(config.linux.resources, _devices(config)),
        stop_signal=_stop_signal(config),
        mounts=_mounts(node, pod, config),
        network="host" if host else "none",
        namespaces=namespaces,
        log_path=_log_path(pod, config),
        runtime=pod.runtime_handler or None,
        cgroup_parent=_cgroup_parent(pod),
    )


def _name(pod: Pod, meta: pb.ContainerMetadata) -> str:
    """A unique core name that says whose container it is, as dockershim's
    names did: k8s_CONTAINER_POD_NAMESPACE_UID_ATTEMPT."""
    pod_meta = pod.metadata
    return (
        f"k8s_{meta.name}_{pod_meta.name}_{pod_meta.namespace}_"
        f"{pod_meta.uid}_{meta.attempt}"
    )


async def create_container(
    node: Node, request: pb.CreateContainerRequest
) -> pb.CreateContainerResponse:
    config = request.config
    meta = config.metadata
    if not meta.name:
        raise InvalidArgument("container", "", "metadata.name is empty")
    if not config.image.image:
        raise InvalidArgument("container", meta.name, "no image given")
    pod_id = node.pods.resolve(request.pod_sandbox_id).id
    async with node.pod_lock(pod_id):
        # Read again under the lock: a stop or removal may have come first.
        pod = node.pods.get(pod_id)
        if pod.state is not PodState.READY:
            raise Conflict("pod sandbox", pod.id, "is not ready")

        options = config.linux.security_context.namespace_options
        target = await _target_pid(node, options)
        namespaces = container_namespaces(node, pod, options, target)
        core_config = await asyncio.to_thread(
            _core_config, node, pod, config, namespaces
        )
        name = _name(pod, meta)
        await _remove_orphan(node, name)
        making = asyncio.ensure_future(
            lifecycle.create(node.core, core_config, name=name)
        )
        try:
            container = await asyncio.shield(making)
            node.pods.add_member(container.id, pod.id, config)
        except BaseException:
            # Also for a call cut short by its deadline: the container the
            # worker thread goes on making is removed once it is made.
            with contextlib.suppress(BaseException):
                made = await asyncio.shield(making)
                await lifecycle.remove(node.core, made.id, force=True)
            raise
    log.for_object(log.cri, "container", container.id).info(
        "created %s in pod %s", meta.name, pod.id[:12]
    )
    return pb.CreateContainerResponse(container_id=container.id)


async def _remove_orphan(node: Node, name: str) -> None:
    """Remove a container of this name that no pod claims: one a killed or
    cut-short CreateContainer made, which would hold kubelet's retry off
    with its name."""
    try:
        found = node.core.containers.resolve(name)
    except NotFound:
        return
    if found.name != name:
        return  # an ID prefix matched, not the name
    try:
        node.pods.member(found.id)
    except NotFound:
        log.for_object(log.cri, "container", found.id).warning(
            "removing %s, which no pod claims", name
        )
        await lifecycle.remove(node.core, found.id, force=True)


def member_or_not_found(node: Node, container_id: str) -> None:
    """NotFound naming ``container_id`` unless it is a CRI container."""
    if not container_id:
        raise InvalidArgument("container", "", "no container ID given")
    try:
        node.pods.member(container_id)
    except NotFound:
        raise NotFound("container", container_id, "no such container") from None
