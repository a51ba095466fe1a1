"""Containers through the CRI: logs in the CRI format where kubelet asks,
ExecSync, security context, stop signal, devices, mounts, resources, and
bad requests answered with the right codes."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import tarfile
from pathlib import Path

import grpc
import pytest
from cri_kit import Cri, eventually, exec_sync, pod_config, run_pod, start_container

from servin_core.containers import lifecycle
from servin_core.containers.cgroups import cgroup_dirs
from servin_core.containers.model import ContainerConfig
from servin_core.images.importer import import_image
from servin_cri.pb import api_pb2 as pb

CRI_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) (\S+) ([PF]) (.*)$"
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
        # (Stopping an unknown pod succeeds: test_cri_conformance.py.)
        cri.runtime.PodSandboxStatus(
            pb.PodSandboxStatusRequest(pod_sandbox_id="abc123")
        )
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


@pytest.mark.parametrize(
    ("policy", "groups"),
    [
        (pb.Merge, {"1000", "1234", "50000"}),
        (pb.Strict, {"1000", "1234"}),
    ],
)
async def test_supplemental_groups_policy(
    cri: Cri,
    busybox_rootfs_tar: Path,
    tmp_path: Path,
    policy: pb.SupplementalGroupsPolicy,
    groups: set[str],
) -> None:
    # An image whose /etc/group puts its user alice in group 50000 as well.
    extra = tmp_path / "users.tar"
    with tarfile.open(extra, "w") as tar:
        for name, text in {
            "etc/passwd": "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/:/bin/sh\n",
            "etc/group": "root:x:0:\nalice:x:1000:\nextra:x:50000:alice\n",
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text.encode()))
    with busybox_rootfs_tar.open("rb") as base, extra.open("rb") as more:
        await import_image(cri.core, [base, more], "servin-test/alice:1")
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    container_config = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name="groups"),
        image=pb.ImageSpec(image="servin-test/alice:1"),
        command=["sleep", "3600"],
        linux=pb.LinuxContainerConfig(
            security_context=pb.LinuxContainerSecurityContext(
                run_as_user=pb.Int64Value(value=1000),
                supplemental_groups=[1234],
                supplemental_groups_policy=policy,
            )
        ),
    )
    created = await cri.runtime.CreateContainer(
        pb.CreateContainerRequest(pod_sandbox_id=pod, config=container_config)
    )
    container = created.container_id
    await cri.runtime.StartContainer(pb.StartContainerRequest(container_id=container))

    seen = (await exec_sync(cri, container, "id", "-G")).stdout.decode().split()
    assert set(seen) == groups
    status = await cri.runtime.ContainerStatus(
        pb.ContainerStatusRequest(container_id=container)
    )
    user = status.status.user.linux
    assert (user.uid, user.gid) == (1000, 1000)
    assert {str(g) for g in user.supplemental_groups} | {"1000"} == groups


async def test_create_container_cut_short_or_killed_leaves_no_orphan(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)

    def request(attempt: int) -> pb.CreateContainerRequest:
        return pb.CreateContainerRequest(
            pod_sandbox_id=pod,
            config=pb.ContainerConfig(
                metadata=pb.ContainerMetadata(name="c", attempt=attempt),
                image=pb.ImageSpec(image=image),
                command=["true"],
            ),
        )

    for attempt in range(3):
        with contextlib.suppress(grpc.aio.AioRpcError):
            await cri.runtime.CreateContainer(request(attempt), timeout=0.005)

    async def only_claimed() -> bool:
        listed = await cri.runtime.ListContainers(pb.ListContainersRequest())
        claimed = {c.id for c in listed.containers}
        return {c.id for c in cri.core.containers.list()} == claimed

    await eventually(only_claimed, "cut-short containers to be removed")

    # A container a killed CreateContainer left under kubelet's name (made
    # by the core, claimed by no pod) does not block the retry.
    name = "k8s_c_web_default_uid-web_7"
    await lifecycle.create(
        cri.core, ContainerConfig(image=image, cmd=["true"], network="none"), name=name
    )
    created = await cri.runtime.CreateContainer(request(7))
    assert [c.id for c in cri.core.containers.list() if c.name == name] == [
        created.container_id
    ]
