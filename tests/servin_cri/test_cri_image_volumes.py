"""Image volumes through the CRI: an image's files, or one directory of
them as the image shows it (whiteouts and opaque directories of upper
layers applied), read-only in a container, its image reported by
ContainerStatus and kept from removal; bad requests refused, leaving no
container."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import grpc
import pytest
from cri_kit import Cri, exec_sync, pod_config, run_pod
from imagekit import Entry, file, store_image, tar_of

from servin_cri.pb import api_pb2 as pb

TARGET = "/mnt/image-volume"


class Scene(NamedTuple):
    cri: Cri
    busybox: str
    """The image the containers run."""
    image_id: str
    """The layered image their volumes show."""
    pod: str


@pytest.fixture
async def scene(
    ready: tuple[Cri, str], busybox_rootfs_tar: Path, tmp_path: Path
) -> Scene:
    cri, busybox = ready
    image_id = await _layered_image(cri, busybox_rootfs_tar)
    return Scene(cri, busybox, image_id, await run_pod(cri, pod_config(tmp_path)))


async def _layered_image(cri: Cri, busybox_rootfs_tar: Path) -> str:
    """busybox, then /data with three files, then a layer that whites one
    of them out, then /opaque: a directory whose upper copy is opaque."""
    lower = tar_of(
        [
            Entry("data", "dir", mode=0o755),
            file("data/gone", b"whited out above\n"),
            file("data/kept", b"from the lower layer\n"),
            Entry("opaque", "dir", mode=0o755),
            file("opaque/hidden", b"under an opaque directory\n"),
        ]
    )
    upper = tar_of(
        [
            Entry("data", "dir", mode=0o755),
            file("data/.wh.gone"),
            file("data/new", b"from the upper layer\n"),
            Entry("opaque", "dir", mode=0o755),
            file("opaque/.wh..wh..opq"),
            file("opaque/shown", b"the opaque copy\n"),
        ]
    )
    image = await store_image(
        cri.core,
        [busybox_rootfs_tar.read_bytes(), lower, upper],
        tags=["servin-test/volume:1"],
        config={"Cmd": ["sh"]},
    )
    return image.id


def _container(
    image: str, *mounts: pb.Mount, name: str = "reader"
) -> pb.ContainerConfig:
    return pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=name),
        image=pb.ImageSpec(image=image),
        command=["sleep", "3600"],
        mounts=list(mounts),
    )


def _volume(image: str, sub_path: str = "", readonly: bool = True) -> pb.Mount:
    return pb.Mount(
        container_path=TARGET,
        readonly=readonly,
        image=pb.ImageSpec(image=image),
        image_sub_path=sub_path,
    )


async def _start(cri: Cri, pod: str, config: pb.ContainerConfig) -> str:
    created = await cri.runtime.CreateContainer(
        pb.CreateContainerRequest(pod_sandbox_id=pod, config=config)
    )
    await cri.runtime.StartContainer(
        pb.StartContainerRequest(container_id=created.container_id)
    )
    return created.container_id


async def test_an_image_volume_shows_the_image_read_only(scene: Scene) -> None:
    cri, busybox, image_id, pod = scene
    container = await _start(cri, pod, _container(busybox, _volume(image_id)))

    listed = await exec_sync(cri, container, "ls", f"{TARGET}/data")
    shown = await exec_sync(cri, container, "ls", f"{TARGET}/opaque")
    ran = await exec_sync(cri, container, f"{TARGET}/bin/busybox", "echo", "ran")
    written = await exec_sync(cri, container, "touch", f"{TARGET}/data/x")
    status = await cri.runtime.ContainerStatus(
        pb.ContainerStatusRequest(container_id=container)
    )
    with pytest.raises(grpc.aio.AioRpcError) as removal:
        await cri.images.RemoveImage(
            pb.RemoveImageRequest(image=pb.ImageSpec(image=image_id))
        )

    assert listed.stdout.decode().split() == ["kept", "new"]
    assert shown.stdout.decode().split() == ["shown"]
    assert (ran.exit_code, ran.stdout) == (0, b"ran\n")
    assert written.exit_code != 0
    assert b"Read-only file system" in written.stderr
    [volume] = [m for m in status.status.mounts if m.container_path == TARGET]
    assert volume.image.image_ref == image_id
    assert removal.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert container[:12] in (removal.value.details() or "")


async def test_a_sub_path_mounts_that_directory_as_the_image_shows_it(
    scene: Scene,
) -> None:
    cri, busybox, image_id, pod = scene
    data = await _start(cri, pod, _container(busybox, _volume(image_id, "data")))
    opaque = await _start(
        cri, pod, _container(busybox, _volume(image_id, "opaque"), name="opaque")
    )

    listed = await exec_sync(cri, data, "ls", TARGET)
    kept = await exec_sync(cri, data, "cat", f"{TARGET}/kept")
    shown = await exec_sync(cri, opaque, "ls", TARGET)

    assert listed.stdout.decode().split() == ["kept", "new"]
    assert kept.stdout == b"from the lower layer\n"
    assert shown.stdout.decode().split() == ["shown"]


@pytest.mark.parametrize(
    ("sub_path", "readonly", "code", "words"),
    [
        ("data", False, grpc.StatusCode.INVALID_ARGUMENT, "must be read-only"),
        (
            "data/gone",
            True,
            grpc.StatusCode.INVALID_ARGUMENT,
            "no directory /data/gone",
        ),
        (
            "data/kept",
            True,
            grpc.StatusCode.INVALID_ARGUMENT,
            "no directory /data/kept",
        ),
        ("opaque/hidden", True, grpc.StatusCode.INVALID_ARGUMENT, "no directory"),
        ("../etc", True, grpc.StatusCode.INVALID_ARGUMENT, "not inside the image"),
    ],
)
async def test_a_bad_image_volume_is_refused_and_leaves_no_container(
    scene: Scene,
    sub_path: str,
    readonly: bool,
    code: grpc.StatusCode,
    words: str,
) -> None:
    cri, busybox, image_id, pod = scene
    config = _container(busybox, _volume(image_id, sub_path, readonly))

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await cri.runtime.CreateContainer(
            pb.CreateContainerRequest(pod_sandbox_id=pod, config=config)
        )
    left = await cri.runtime.ListContainers(pb.ListContainersRequest())

    assert refused.value.code() == code
    assert "reader" in (refused.value.details() or "")
    assert words in (refused.value.details() or "")
    assert TARGET in (refused.value.details() or "")
    assert list(left.containers) == []


async def test_an_image_volume_of_a_missing_image_is_not_found(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, busybox = ready
    pod = await run_pod(cri, pod_config(tmp_path))
    config = _container(busybox, _volume("servin-test/absent:1"))

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await cri.runtime.CreateContainer(
            pb.CreateContainerRequest(pod_sandbox_id=pod, config=config)
        )

    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert "servin-test/absent:1" in (refused.value.details() or "")
