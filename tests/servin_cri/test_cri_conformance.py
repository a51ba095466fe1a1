"""What the CRI validation suite (critest) asks of a runtime beyond the
other CRI tests: each test here is a spec critest failed on Servin."""

from __future__ import annotations

import subprocess
from pathlib import Path

import grpc
import pytest
from cri_kit import Cri, exec_sync, pod_config, run_pod, start_container

from servin_cri.pb import api_pb2 as pb


async def test_a_pod_named_longer_than_a_hostname_gets_its_name_cut(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    name = "PodSandbox-for-test-" + "0123456789abcdef-" * 5
    config = pod_config(tmp_path, name)
    config.ClearField("hostname")

    pod = await run_pod(cri, config)
    container = await start_container(cri, pod, config, image, "c", "sleep", "60")

    hostname = (await exec_sync(cri, container, "hostname")).stdout.decode()
    assert hostname == name[:63].rstrip("-") + "\n"


async def test_stopping_what_does_not_exist_is_not_an_error(cri: Cri) -> None:
    # kubelet retries stops whose answers it missed; the object may be gone.
    await cri.runtime.StopPodSandbox(
        pb.StopPodSandboxRequest(pod_sandbox_id="0123456789abcdef")
    )
    await cri.runtime.StopContainer(
        pb.StopContainerRequest(container_id="0123456789abcdef", timeout=0)
    )

    # Without an ID there is nothing to be idempotent about.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cri.runtime.StopPodSandbox(pb.StopPodSandboxRequest())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_no_seccomp_profile_is_unconfined_and_runtime_default_filters(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)

    async def seccomp_mode(name: str, context: pb.LinuxContainerSecurityContext) -> str:
        created = await cri.runtime.CreateContainer(
            pb.CreateContainerRequest(
                pod_sandbox_id=pod,
                sandbox_config=config,
                config=pb.ContainerConfig(
                    metadata=pb.ContainerMetadata(name=name),
                    image=pb.ImageSpec(image=image),
                    command=["sleep", "60"],
                    linux=pb.LinuxContainerConfig(security_context=context),
                ),
            )
        )
        await cri.runtime.StartContainer(
            pb.StartContainerRequest(container_id=created.container_id)
        )
        status = await exec_sync(cri, created.container_id, "cat", "/proc/self/status")
        return next(
            line.split()[1]
            for line in status.stdout.decode().splitlines()
            if line.startswith("Seccomp:")
        )

    default = pb.SecurityProfile(profile_type=pb.SecurityProfile.RuntimeDefault)
    assert await seccomp_mode("none", pb.LinuxContainerSecurityContext()) == "0"
    filtered = pb.LinuxContainerSecurityContext(seccomp=default)
    assert await seccomp_mode("default", filtered) == "2"


async def test_a_group_without_a_user_is_refused_and_leaves_nothing(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    context = pb.LinuxContainerSecurityContext(run_as_group=pb.Int64Value(value=1002))
    request = pb.CreateContainerRequest(
        pod_sandbox_id=pod,
        sandbox_config=config,
        config=pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name="groupie"),
            image=pb.ImageSpec(image=image),
            linux=pb.LinuxContainerConfig(security_context=context),
        ),
    )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cri.runtime.CreateContainer(request)

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "groupie" in (caught.value.details() or "")
    assert "run_as_group" in (caught.value.details() or "")
    listed = await cri.runtime.ListContainers(pb.ListContainersRequest())
    assert list(listed.containers) == []


async def test_a_bidirectional_mount_shows_the_containers_mounts_on_the_host(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    shared = tmp_path / "shared"
    (shared / "inner").mkdir(parents=True)
    subprocess.run(["mount", "--bind", str(shared), str(shared)], check=True)
    try:
        subprocess.run(["mount", "--make-rshared", str(shared)], check=True)
        config = pod_config(tmp_path)
        config.linux.security_context.privileged = True
        pod = await run_pod(cri, config)
        privileged = pb.LinuxContainerSecurityContext(privileged=True)
        container_config = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name="both-ways"),
            image=pb.ImageSpec(image=image),
            command=["sleep", "3600"],
            mounts=[
                pb.Mount(
                    container_path="/host",
                    host_path=str(shared),
                    propagation=pb.PROPAGATION_BIDIRECTIONAL,
                )
            ],
            linux=pb.LinuxContainerConfig(security_context=privileged),
        )
        created = await cri.runtime.CreateContainer(
            pb.CreateContainerRequest(pod_sandbox_id=pod, config=container_config)
        )
        container = created.container_id
        await cri.runtime.StartContainer(
            pb.StartContainerRequest(container_id=container)
        )

        mounted = await exec_sync(
            cri, container, "mount", "-t", "tmpfs", "from-container", "/host/inner"
        )
        assert mounted.exit_code == 0, mounted.stderr

        host_mounts = Path("/proc/self/mountinfo").read_text()
        assert f"{shared / 'inner'} " in host_mounts
        assert "from-container" in host_mounts
    finally:
        subprocess.run(["umount", "-R", str(shared)], check=False)


@pytest.mark.parametrize("handler", ["", "runc"])
async def test_a_recursively_read_only_mount_keeps_its_submounts_read_only(
    ready: tuple[Cri, str], tmp_path: Path, handler: str
) -> None:
    cri, image = ready
    status = await cri.runtime.Status(pb.StatusRequest())
    said = {
        h.name: h.features.recursive_read_only_mounts for h in status.runtime_handlers
    }
    assert said[handler] is True
    host = tmp_path / "host"
    (host / "tmpfs").mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "sub", str(host / "tmpfs")], check=True)
    try:
        config = pod_config(tmp_path)
        answer = await cri.runtime.RunPodSandbox(
            pb.RunPodSandboxRequest(config=config, runtime_handler=handler)
        )
        pod = answer.pod_sandbox_id

        def container(name: str, **mount: object) -> pb.CreateContainerRequest:
            return pb.CreateContainerRequest(
                pod_sandbox_id=pod,
                sandbox_config=config,
                config=pb.ContainerConfig(
                    metadata=pb.ContainerMetadata(name=name),
                    image=pb.ImageSpec(image=image),
                    command=["sleep", "3600"],
                    mounts=[
                        pb.Mount(container_path="/mnt", host_path=str(host), **mount)
                    ],
                ),
            )

        created = await cri.runtime.CreateContainer(
            container("rro", readonly=True, recursive_read_only=True)
        )
        await cri.runtime.StartContainer(
            pb.StartContainerRequest(container_id=created.container_id)
        )
        touched = await exec_sync(cri, created.container_id, "touch", "/mnt/tmpfs/x")
        assert touched.exit_code != 0
        assert b"Read-only file system" in touched.stderr

        for name, mount in {
            "writable": {"recursive_read_only": True},
            "shared": {
                "readonly": True,
                "recursive_read_only": True,
                "propagation": pb.PROPAGATION_BIDIRECTIONAL,
            },
        }.items():
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await cri.runtime.CreateContainer(container(name, **mount))
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "recursively read-only" in (caught.value.details() or "")
    finally:
        subprocess.run(["umount", str(host / "tmpfs")], check=False)


async def test_the_primary_group_is_among_the_reported_groups(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    context = pb.LinuxContainerSecurityContext(
        run_as_user=pb.Int64Value(value=1000),
        run_as_group=pb.Int64Value(value=1000),
        supplemental_groups=[1234],
    )
    created = await cri.runtime.CreateContainer(
        pb.CreateContainerRequest(
            pod_sandbox_id=pod,
            sandbox_config=config,
            config=pb.ContainerConfig(
                metadata=pb.ContainerMetadata(name="grouped"),
                image=pb.ImageSpec(image=image),
                command=["sleep", "60"],
                linux=pb.LinuxContainerConfig(security_context=context),
            ),
        )
    )
    await cri.runtime.StartContainer(
        pb.StartContainerRequest(container_id=created.container_id)
    )

    status = await cri.runtime.ContainerStatus(
        pb.ContainerStatusRequest(container_id=created.container_id)
    )
    linux = status.status.user.linux
    assert (linux.uid, linux.gid) == (1000, 1000)
    assert sorted(linux.supplemental_groups) == [1000, 1234]
