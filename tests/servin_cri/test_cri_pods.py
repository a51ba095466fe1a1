"""Pod sandboxes and their containers through the CRI, as kubelet drives
them: real namespaces, real containers, logs in the CRI format."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
from pathlib import Path

import grpc
import pytest
from cri_kit import Cri, eventually

from servin_core.containers.cgroups import cgroup_dirs
from servin_cri.pb import api_pb2 as pb

# A CRI log line: RFC 3339 time with nanoseconds, stream, P(artial) or
# F(ull), then the text.
CRI_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) (\S+) ([PF]) (.*)$"
)


@pytest.fixture
async def ready(cri: Cri, published: list[str]) -> tuple[Cri, str]:
    """The server with busybox pulled; its image reference."""
    image = published[0]
    await cri.images.PullImage(pb.PullImageRequest(image=pb.ImageSpec(image=image)))
    return cri, image


def pod_config(tmp_path: Path, name: str = "web") -> pb.PodSandboxConfig:
    meta = pb.PodSandboxMetadata(name=name, namespace="default", uid=f"uid-{name}")
    dns = pb.DNSConfig(
        servers=["10.96.0.10"],
        searches=["default.svc.cluster.local"],
        options=["ndots:5"],
    )
    return pb.PodSandboxConfig(
        metadata=meta,
        hostname=f"{name}-host",
        log_directory=str(tmp_path / "pod-logs" / name),
        dns_config=dns,
        labels={"app": name},
        annotations={"note": "servin test"},
    )


async def run_pod(cri: Cri, config: pb.PodSandboxConfig) -> str:
    answer = await cri.runtime.RunPodSandbox(pb.RunPodSandboxRequest(config=config))
    return answer.pod_sandbox_id


async def start_container(
    cri: Cri,
    pod: str,
    pod_config: pb.PodSandboxConfig,
    image: str,
    name: str,
    *command: str,
) -> str:
    config = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=name),
        image=pb.ImageSpec(image=image),
        command=list(command),
        log_path=f"{name}/0.log",
        labels={"container": name},
    )
    created = await cri.runtime.CreateContainer(
        pb.CreateContainerRequest(
            pod_sandbox_id=pod, config=config, sandbox_config=pod_config
        )
    )
    await cri.runtime.StartContainer(
        pb.StartContainerRequest(container_id=created.container_id)
    )
    return created.container_id


async def exec_sync(cri: Cri, container: str, *cmd: str) -> pb.ExecSyncResponse:
    return await cri.runtime.ExecSync(
        pb.ExecSyncRequest(container_id=container, cmd=list(cmd), timeout=60)
    )


async def test_a_container_echoes_into_its_cri_log(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    container = await start_container(cri, pod, config, image, "hello", "echo", "hi")

    async def exited() -> pb.ContainerStatus | None:
        answer = await cri.runtime.ContainerStatus(
            pb.ContainerStatusRequest(container_id=container)
        )
        return answer.status if answer.status.state == pb.CONTAINER_EXITED else None

    status = await eventually(exited, "the container to exit")
    assert (status.exit_code, status.reason) == (0, "Completed")
    assert status.log_path == str(tmp_path / "pod-logs/web/hello/0.log")
    assert status.metadata.name == "hello"

    lines = Path(status.log_path).read_text().splitlines()
    assert len(lines) == 1
    match = CRI_LINE.match(lines[0])
    assert match is not None, lines[0]
    assert match.group(2, 3, 4) == ("stdout", "F", "hi")


async def test_exec_sync_gives_output_and_exit_code(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    container = await start_container(cri, pod, config, image, "app", "sleep", "3600")

    answer = await exec_sync(
        cri, container, "sh", "-c", "echo out; echo err >&2; exit 3"
    )
    assert (answer.stdout, answer.stderr, answer.exit_code) == (b"out\n", b"err\n", 3)

    missing = await exec_sync(cri, container, "no-such-command")
    assert missing.exit_code == 127

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cri.runtime.ExecSync(
            pb.ExecSyncRequest(container_id=container, cmd=["sleep", "30"], timeout=1)
        )
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


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


async def test_unknown_ids_are_not_found_naming_them(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cri.runtime.ContainerStatus(
            pb.ContainerStatusRequest(container_id="no-such-container")
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "no-such-container" in (caught.value.details() or "")

    config = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name="x"), image=pb.ImageSpec(image=image)
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cri.runtime.CreateContainer(
            pb.CreateContainerRequest(pod_sandbox_id="feedbeef", config=config)
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "feedbeef" in (caught.value.details() or "")


async def test_a_pod_without_metadata_is_an_invalid_argument(cri: Cri) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cri.runtime.RunPodSandbox(
            pb.RunPodSandboxRequest(config=pb.PodSandboxConfig())
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "metadata.name" in (caught.value.details() or "")


async def test_reopen_log_after_kubelet_rotates_it(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    script = "while true; do echo tick; sleep 0.1; done"
    container = await start_container(cri, pod, config, image, "t", "sh", "-c", script)
    log = tmp_path / "pod-logs/web/t/0.log"
    await eventually(lambda: _has(log, "tick"), "the first ticks")

    log.rename(log.with_name("0.log.1"))
    await cri.runtime.ReopenContainerLog(
        pb.ReopenContainerLogRequest(container_id=container)
    )
    await eventually(lambda: _has(log, "tick"), "ticks in the new file")


async def _has(path: Path, text: str) -> bool:
    return path.exists() and text in path.read_text()


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


async def test_update_container_resources_changes_the_running_cgroup(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    container = await start_container(cri, pod, config, image, "u", "sleep", "3600")
    limit = 96 * 1024 * 1024

    await cri.runtime.UpdateContainerResources(
        pb.UpdateContainerResourcesRequest(
            container_id=container,
            linux=pb.LinuxContainerResources(memory_limit_in_bytes=limit),
        )
    )

    assert memory_limit(container) == limit
    status = await cri.runtime.ContainerStatus(
        pb.ContainerStatusRequest(container_id=container)
    )
    assert status.status.resources.linux.memory_limit_in_bytes == limit


def memory_limit(container_id: str) -> int:
    """The container's memory limit as its cgroup holds it (v2 or v1)."""
    for directory in cgroup_dirs(container_id):
        for name in ("memory.max", "memory.limit_in_bytes"):
            if (directory / name).exists():
                return int((directory / name).read_text())
    raise AssertionError(f"no memory cgroup for {container_id}")


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


async def test_security_context_groups_and_masked_and_readonly_paths(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    container_config = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name="sec"),
        image=pb.ImageSpec(image=image),
        command=["sleep", "3600"],
        linux=pb.LinuxContainerConfig(
            security_context=pb.LinuxContainerSecurityContext(
                run_as_user=pb.Int64Value(value=1000),
                run_as_group=pb.Int64Value(value=1000),
                supplemental_groups=[1234, 5678],
                masked_paths=["/etc/passwd"],
                readonly_paths=["/tmp"],
            )
        ),
    )
    created = await cri.runtime.CreateContainer(
        pb.CreateContainerRequest(pod_sandbox_id=pod, config=container_config)
    )
    container = created.container_id
    await cri.runtime.StartContainer(pb.StartContainerRequest(container_id=container))

    ids = await exec_sync(cri, container, "id")
    assert "uid=1000 gid=1000" in ids.stdout.decode()
    groups = (await exec_sync(cri, container, "id", "-G")).stdout.decode().split()
    assert {"1000", "1234", "5678"} <= set(groups)
    masked = await exec_sync(cri, container, "cat", "/etc/passwd")
    assert (masked.exit_code, masked.stdout) == (0, b"")
    readonly = await exec_sync(cri, container, "touch", "/tmp/x")
    assert readonly.exit_code != 0
    assert b"Read-only file system" in readonly.stderr


async def test_stop_signal_and_devices_from_the_config(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    script = "trap 'echo got-usr1; exit 7' USR1; while true; do sleep 0.1; done"
    container_config = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name="sig"),
        image=pb.ImageSpec(image=image),
        command=["sh", "-c", script],
        log_path="sig/0.log",
        stop_signal=pb.SIGNAL_SIGUSR1,
        devices=[pb.Device(host_path="/dev/zero", container_path="/dev/more-zero")],
    )
    created = await cri.runtime.CreateContainer(
        pb.CreateContainerRequest(pod_sandbox_id=pod, config=container_config)
    )
    container = created.container_id
    await cri.runtime.StartContainer(pb.StartContainerRequest(container_id=container))

    device = await exec_sync(cri, container, "sh", "-c", "test -c /dev/more-zero")
    assert device.exit_code == 0
    await cri.runtime.StopContainer(
        pb.StopContainerRequest(container_id=container, timeout=60)
    )
    status = await cri.runtime.ContainerStatus(
        pb.ContainerStatusRequest(container_id=container)
    )
    assert (status.status.exit_code, status.status.reason) == (7, "Error")
    assert "got-usr1" in Path(status.status.log_path).read_text()


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


async def test_bad_requests_get_the_right_codes(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)

    async def code_of(call: object) -> tuple[grpc.StatusCode, str]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call  # type: ignore[misc]
        return caught.value.code(), caught.value.details() or ""

    nameless = pb.ContainerConfig(image=pb.ImageSpec(image=image))
    code, text = await code_of(
        cri.runtime.CreateContainer(
            pb.CreateContainerRequest(pod_sandbox_id=pod, config=nameless)
        )
    )
    assert (code, "metadata.name is empty" in text) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        True,
    )

    imageless = pb.ContainerConfig(metadata=pb.ContainerMetadata(name="x"))
    code, text = await code_of(
        cri.runtime.CreateContainer(
            pb.CreateContainerRequest(pod_sandbox_id=pod, config=imageless)
        )
    )
    assert (code, "no image given" in text) == (grpc.StatusCode.INVALID_ARGUMENT, True)

    code, text = await code_of(
        cri.runtime.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id="abc123"))
    )
    assert (code, "abc123" in text) == (grpc.StatusCode.NOT_FOUND, True)

    exited = await start_container(cri, pod, config, image, "done", "true")

    async def is_exited() -> bool:
        answer = await cri.runtime.ContainerStatus(
            pb.ContainerStatusRequest(container_id=exited)
        )
        return answer.status.state == pb.CONTAINER_EXITED

    await eventually(is_exited, "the container to exit")
    code, text = await code_of(
        cri.runtime.ExecSync(pb.ExecSyncRequest(container_id=exited, cmd=["true"]))
    )
    assert (code, "is not running" in text) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        True,
    )
    # Removing what is gone is fine, for containers and pods alike.
    for _ in range(2):
        await cri.runtime.RemoveContainer(
            pb.RemoveContainerRequest(container_id=exited)
        )
    await cri.runtime.RemovePodSandbox(
        pb.RemovePodSandboxRequest(pod_sandbox_id="no-such-pod")
    )


async def test_host_to_container_propagation_shows_later_host_mounts(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    shared = tmp_path / "shared"
    (shared / "sub").mkdir(parents=True)
    subprocess.run(["mount", "--bind", str(shared), str(shared)], check=True)
    try:
        subprocess.run(["mount", "--make-shared", str(shared)], check=True)
        config = pod_config(tmp_path)
        pod = await run_pod(cri, config)
        container_config = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name="prop"),
            image=pb.ImageSpec(image=image),
            command=["sleep", "3600"],
            mounts=[
                pb.Mount(
                    container_path="/host",
                    host_path=str(shared),
                    propagation=pb.PROPAGATION_HOST_TO_CONTAINER,
                )
            ],
        )
        created = await cri.runtime.CreateContainer(
            pb.CreateContainerRequest(pod_sandbox_id=pod, config=container_config)
        )
        container = created.container_id
        await cri.runtime.StartContainer(
            pb.StartContainerRequest(container_id=container)
        )

        # Mounted on the host after the container started.
        subprocess.run(
            ["mount", "-t", "tmpfs", "later", str(shared / "sub")], check=True
        )
        seen = await exec_sync(cri, container, "cat", "/proc/mounts")
        assert "later /host/sub tmpfs" in seen.stdout.decode()
    finally:
        subprocess.run(["umount", "-R", str(shared)], check=False)


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
