"""Pod sandboxes through the CRI, as kubelet drives them: namespaces held
without a pause image, shared by the pod's containers, idempotent stop and
remove, sysctls, cgroup parent, reconciliation after a reboot."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
from pathlib import Path

import grpc
import pytest
from cri_kit import (
    Cri,
    eventually,
    exec_sync,
    pod_config,
    remove_every_pod,
    run_pod,
    start_container,
)

from servin_core.containers.cgroups import cgroup_dirs
from servin_cri.pb import api_pb2 as pb


async def test_containers_share_the_pods_network_hostname_and_dns(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    first = await start_container(cri, pod, config, image, "one", "sleep", "3600")
    second = await start_container(cri, pod, config, image, "two", "sleep", "3600")

    nets = [
        await exec_sync(cri, c, "readlink", "/proc/self/ns/net")
        for c in (first, second)
    ]
    ipcs = [
        await exec_sync(cri, c, "readlink", "/proc/self/ns/ipc")
        for c in (first, second)
    ]
    assert nets[0].stdout == nets[1].stdout != b""
    assert ipcs[0].stdout == ipcs[1].stdout != b""
    assert nets[0].stdout != os.readlink("/proc/self/ns/net").encode() + b"\n"

    # The pod shares one PID namespace (kubelet's POD mode): both sleeps
    # are seen from either container, under the pod's holder as PID 1.
    first_sees = await exec_sync(cri, first, "sh", "-c", "cat /proc/*/cmdline")
    assert first_sees.stdout.count(b"sleep\x003600") == 2
    init = await exec_sync(cri, second, "cat", "/proc/1/cmdline")
    assert b"catatonit" in init.stdout

    hostname = await exec_sync(cri, second, "hostname")
    assert hostname.stdout == b"web-host\n"
    resolv = (await exec_sync(cri, first, "cat", "/etc/resolv.conf")).stdout.decode()
    assert "nameserver 10.96.0.10" in resolv
    assert "search default.svc.cluster.local" in resolv

    listed = await cri.runtime.ListContainers(
        pb.ListContainersRequest(filter=pb.ContainerFilter(pod_sandbox_id=pod))
    )
    assert sorted(c.metadata.name for c in listed.containers) == ["one", "two"]
    only = await cri.runtime.ListContainers(
        pb.ListContainersRequest(
            filter=pb.ContainerFilter(label_selector={"container": "two"})
        )
    )
    assert [c.id for c in only.containers] == [second]


async def test_stop_and_remove_are_idempotent_and_leave_nothing(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    container = await start_container(cri, pod, config, image, "app", "sleep", "3600")

    status = await cri.runtime.PodSandboxStatus(
        pb.PodSandboxStatusRequest(pod_sandbox_id=pod)
    )
    assert status.status.state == pb.SANDBOX_READY
    assert status.status.labels["app"] == "web"
    # What kubelet's evented PLEG reads: the containers, and when it looked.
    assert [c.id for c in status.containers_statuses] == [container]
    assert status.timestamp > 0

    for _ in range(2):
        await cri.runtime.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod))
    stopped = await cri.runtime.ContainerStatus(
        pb.ContainerStatusRequest(container_id=container)
    )
    assert stopped.status.state == pb.CONTAINER_EXITED
    listed = await cri.runtime.ListPodSandbox(
        pb.ListPodSandboxRequest(
            filter=pb.PodSandboxFilter(
                state=pb.PodSandboxStateValue(state=pb.SANDBOX_NOTREADY)
            )
        )
    )
    assert [p.id for p in listed.items] == [pod]

    for _ in range(2):
        await cri.runtime.RemovePodSandbox(
            pb.RemovePodSandboxRequest(pod_sandbox_id=pod)
        )
    assert (await cri.runtime.ListPodSandbox(pb.ListPodSandboxRequest())).items == []
    assert (
        await cri.runtime.ListContainers(pb.ListContainersRequest())
    ).containers == []
    with open("/proc/mounts") as mounts:
        assert pod not in mounts.read()
    assert not (cri.core.config.run_dir / "pods" / pod).exists()
    # Each change of the pod is an event every Servin process can follow,
    # once: the second stop and remove changed nothing.
    events = [
        (e.action, e.attributes["name"])
        for e in cri.core.events.since()
        if e.type == "pod" and e.actor_id == pod
    ]
    name = config.metadata.name
    assert events == [
        ("create", name),
        ("start", name),
        ("stop", name),
        ("remove", name),
    ]


async def test_a_pod_without_metadata_is_an_invalid_argument(cri: Cri) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cri.runtime.RunPodSandbox(
            pb.RunPodSandboxRequest(config=pb.PodSandboxConfig())
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "metadata.name" in (caught.value.details() or "")


async def test_the_pods_sysctls_apply_in_its_namespaces(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    config.linux.sysctls["kernel.shm_rmid_forced"] = "1"
    config.linux.sysctls["net.ipv4.ip_unprivileged_port_start"] = "53"
    pod = await run_pod(cri, config)
    container = await start_container(cri, pod, config, image, "k", "sleep", "3600")

    shm = await exec_sync(cri, container, "cat", "/proc/sys/kernel/shm_rmid_forced")
    port = await exec_sync(
        cri, container, "cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"
    )
    assert (shm.stdout, port.stdout) == (b"1\n", b"53\n")


async def test_a_sysctl_of_the_whole_node_is_refused(cri: Cri, tmp_path: Path) -> None:
    config = pod_config(tmp_path)
    config.linux.sysctls["vm.swappiness"] = "10"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cri.runtime.RunPodSandbox(pb.RunPodSandboxRequest(config=config))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "vm.swappiness is not namespaced" in (caught.value.details() or "")
    assert (await cri.runtime.ListPodSandbox(pb.ListPodSandboxRequest())).items == []


async def test_a_pod_whose_namespaces_vanished_is_not_ready_after_a_restart(
    cri: Cri, tmp_path: Path
) -> None:
    pod = await run_pod(cri, pod_config(tmp_path))
    # What a reboot does to the pins (nothing of Servin's runs meanwhile).
    net = cri.core.config.run_dir / "pods" / pod / "ns" / "net"
    subprocess.run(["umount", str(net)], check=True)

    await cri.server.stop()
    await cri.server.start()

    status = await cri.runtime.PodSandboxStatus(
        pb.PodSandboxStatusRequest(pod_sandbox_id=pod)
    )
    assert status.status.state == pb.SANDBOX_NOTREADY
    await cri.runtime.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod))
    await cri.runtime.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod))
    assert not (cri.core.config.run_dir / "pods" / pod).exists()


async def test_update_pod_sandbox_resources_is_kept(cri: Cri, tmp_path: Path) -> None:
    pod = await run_pod(cri, pod_config(tmp_path))
    limits = pb.LinuxContainerResources(memory_limit_in_bytes=256 << 20)

    await cri.runtime.UpdatePodSandboxResources(
        pb.UpdatePodSandboxResourcesRequest(pod_sandbox_id=pod, resources=limits)
    )

    status = await cri.runtime.PodSandboxStatus(
        pb.PodSandboxStatusRequest(pod_sandbox_id=pod, verbose=True)
    )
    info = json.loads(status.info["info"])
    assert info["resources"] == {"memory_limit_in_bytes": str(256 << 20)}


async def test_containers_nest_in_the_pods_cgroup_parent(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    top = f"/servin-cri-test-{os.urandom(4).hex()}"
    parent = f"{top}/pod-a"
    config = pod_config(tmp_path)
    config.linux.cgroup_parent = parent
    try:
        pod = await run_pod(cri, config)
        container = await start_container(cri, pod, config, image, "n", "sleep", "3600")

        nested = cgroup_dirs(container, parent=parent)
        assert nested, "no cgroup under the pod's parent"
        assert all(str(d).endswith(f"{parent}/{container}") for d in nested)
        assert cgroup_dirs(container) == []  # not under /servin
        stats = await cri.runtime.ContainerStats(
            pb.ContainerStatsRequest(container_id=container)
        )
        assert stats.stats.memory.working_set_bytes.value > 0

        await cri.runtime.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod))
        await cri.runtime.RemovePodSandbox(
            pb.RemovePodSandboxRequest(pod_sandbox_id=pod)
        )
        assert cgroup_dirs(container, parent=parent) == []
    finally:
        # kubelet's own directories, made here by the runtime for the test:
        # in the unified root (v2) or in each hierarchy (v1).
        root = Path("/sys/fs/cgroup")
        for base in (root, *root.iterdir()):
            for directory in (base / parent.lstrip("/"), base / top.lstrip("/")):
                with contextlib.suppress(OSError):
                    directory.rmdir()


async def test_a_relative_cgroup_parent_is_refused(cri: Cri, tmp_path: Path) -> None:
    config = pod_config(tmp_path)
    config.linux.cgroup_parent = "../escape"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cri.runtime.RunPodSandbox(pb.RunPodSandboxRequest(config=config))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "cgroup parent ../escape" in (caught.value.details() or "")


async def test_a_container_made_while_its_pod_is_removed_does_not_outlive_it(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    container_config = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name="late"),
        image=pb.ImageSpec(image=image),
        command=["sleep", "3600"],
    )

    created, _ = await asyncio.gather(
        cri.runtime.CreateContainer(
            pb.CreateContainerRequest(pod_sandbox_id=pod, config=container_config)
        ),
        cri.runtime.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod)),
        return_exceptions=True,
    )

    # Either the container came first and went with the pod, or the pod
    # was gone when the container was asked for.
    if isinstance(created, grpc.aio.AioRpcError):
        assert created.code() == grpc.StatusCode.NOT_FOUND
    assert [c.name for c in cri.core.containers.list()] == []
    assert (await cri.runtime.ListPodSandbox(pb.ListPodSandboxRequest())).items == []


async def test_a_run_pod_sandbox_cut_short_by_its_deadline_leaves_nothing(
    cri: Cri, tmp_path: Path
) -> None:
    config = pod_config(tmp_path)
    # The pod's PID holder makes the start long enough to be cut short.
    for attempt in range(5):
        config.metadata.attempt = attempt
        with contextlib.suppress(grpc.aio.AioRpcError):
            await cri.runtime.RunPodSandbox(
                pb.RunPodSandboxRequest(config=config), timeout=0.005
            )

    async def settled() -> bool:
        listed = await cri.runtime.ListPodSandbox(pb.ListPodSandboxRequest())
        ready = [p for p in listed.items if p.state == pb.SANDBOX_READY]
        # What was answered stays; what was cut short is gone, files too.
        pods = cri.core.config.run_dir / "pods"
        on_disk = {p.name for p in pods.iterdir()} if pods.exists() else set()
        return on_disk == {p.id for p in ready} and len(listed.items) == len(ready)

    await eventually(settled, "cut-short pods to be undone")
    await remove_every_pod(cri)
    with open("/proc/mounts") as mounts:
        assert str(cri.core.config.run_dir / "pods") not in mounts.read()


async def test_pods_started_together_each_get_their_own_namespaces(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    configs = [pod_config(tmp_path, name=f"many{i}") for i in range(6)]

    pods = await asyncio.gather(*(run_pod(cri, c) for c in configs))
    containers = await asyncio.gather(
        *(
            start_container(cri, pod, config, image, "c", "sleep", "3600")
            for pod, config in zip(pods, configs, strict=True)
        )
    )

    nets = [
        (await exec_sync(cri, c, "readlink", "/proc/self/ns/net")).stdout
        for c in containers
    ]
    names = [(await exec_sync(cri, c, "hostname")).stdout for c in containers]
    assert len(set(nets)) == len(pods)
    assert names == [f"many{i}-host\n".encode() for i in range(6)]


async def test_the_same_pod_attempt_twice_is_already_there(
    cri: Cri, tmp_path: Path
) -> None:
    config = pod_config(tmp_path)
    await run_pod(cri, config)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await run_pod(cri, config)

    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "default/web" in (caught.value.details() or "")
    assert (
        len((await cri.runtime.ListPodSandbox(pb.ListPodSandboxRequest())).items) == 1
    )
