"""The image service: pull (with credentials, through mirrors), list,
status, remove and filesystem usage, against real registries."""

import json
from pathlib import Path

import grpc
import pytest
from cri_kit import Cri, StartCri, publish_busybox
from registry_fixtures import PASSWORD, USER, RegistryServer, TokenIssuer, unique_repo

from servin_core.config import Config, RegistryConfig
from servin_core.registry.auth import Credentials
from servin_cri.pb import api_pb2 as pb

# The name critest's default image has, served by the test registry through
# a mirror of registry.k8s.io.
K8S_BUSYBOX = "registry.k8s.io/e2e-test-images/busybox:1.29-2"


def spec(name: str) -> pb.ImageSpec:
    return pb.ImageSpec(image=name)


async def test_pull_list_status_and_remove(cri: Cri, published: list[str]) -> None:
    name = published[0]
    pulled = await cri.images.PullImage(pb.PullImageRequest(image=spec(name)))
    assert pulled.image_ref.startswith("sha256:")

    listed = await cri.images.ListImages(pb.ListImagesRequest())
    assert [i.id for i in listed.images] == [pulled.image_ref]
    assert name in listed.images[0].repo_tags
    assert listed.images[0].size > 0

    status = await cri.images.ImageStatus(
        pb.ImageStatusRequest(image=spec(pulled.image_ref), verbose=True)
    )
    assert status.image.id == pulled.image_ref
    assert json.loads(status.info["info"])["imageSpec"]["os"] == "linux"

    await cri.images.RemoveImage(pb.RemoveImageRequest(image=spec(name)))
    gone = await cri.images.ImageStatus(pb.ImageStatusRequest(image=spec(name)))
    assert not gone.HasField("image")
    # Removing what is gone is not an error.
    await cri.images.RemoveImage(pb.RemoveImageRequest(image=spec(name)))


async def test_removing_by_one_tag_removes_every_tag(
    cri: Cri, published: list[str]
) -> None:
    for name in published:
        await cri.images.PullImage(pb.PullImageRequest(image=spec(name)))
    listed = await cri.images.ListImages(pb.ListImagesRequest())
    assert sorted(listed.images[0].repo_tags) == sorted(published)

    await cri.images.RemoveImage(pb.RemoveImageRequest(image=spec(published[1])))
    assert (await cri.images.ListImages(pb.ListImagesRequest())).images == []


async def test_list_filters_by_reference(cri: Cri, published: list[str]) -> None:
    await cri.images.PullImage(pb.PullImageRequest(image=spec(published[0])))

    hit = await cri.images.ListImages(
        pb.ListImagesRequest(filter=pb.ImageFilter(image=spec(published[0])))
    )
    miss = await cri.images.ListImages(
        pb.ListImagesRequest(filter=pb.ImageFilter(image=spec("nothing:here")))
    )
    assert len(hit.images) == 1
    assert miss.images == []


async def test_a_registry_mirror_serves_a_k8s_image(
    start_cri: StartCri, registry: RegistryServer, published: list[str]
) -> None:
    mirror = RegistryConfig(mirrors=[registry.host])
    cri = await start_cri(Config(registries={"registry.k8s.io": mirror}))

    await cri.images.PullImage(pb.PullImageRequest(image=spec(K8S_BUSYBOX)))

    status = await cri.images.ImageStatus(
        pb.ImageStatusRequest(image=spec(K8S_BUSYBOX))
    )
    assert K8S_BUSYBOX in status.image.repo_tags


async def test_pull_uses_the_auth_config_it_is_given(
    cri: Cri,
    registry_basic: RegistryServer,
    busybox_rootfs_tar: Path,
    tmp_path: Path,
) -> None:
    name = f"{registry_basic.host}/{unique_repo('cri-auth')}:1"
    await publish_busybox(
        tmp_path / "seed", busybox_rootfs_tar, [name], Credentials(USER, PASSWORD)
    )

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await cri.images.PullImage(pb.PullImageRequest(image=spec(name)))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

    auth = pb.AuthConfig(username=USER, password=PASSWORD)
    pulled = await cri.images.PullImage(
        pb.PullImageRequest(image=spec(name), auth=auth)
    )
    assert pulled.image_ref.startswith("sha256:")
    # The credentials served this pull only: nothing was stored.
    assert not (cri.core.config.data_dir / "auth.json").exists()


async def test_a_malformed_reference_is_an_invalid_argument(cri: Cri) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cri.images.PullImage(pb.PullImageRequest(image=spec("Bad//Name:?")))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Bad//Name:?" in (caught.value.details() or "")


async def test_image_fs_info_counts_the_pulled_layers(
    cri: Cri, published: list[str]
) -> None:
    before = await cri.images.ImageFsInfo(pb.ImageFsInfoRequest())
    await cri.images.PullImage(pb.PullImageRequest(image=spec(published[0])))
    after = await cri.images.ImageFsInfo(pb.ImageFsInfoRequest())

    used = after.image_filesystems[0].used_bytes.value
    assert used > before.image_filesystems[0].used_bytes.value
    assert after.image_filesystems[0].fs_id.mountpoint.endswith("snapshots")
    # Containers' layers on the same file system are not a split one.
    assert after.container_filesystems[0].fs_id == after.image_filesystems[0].fs_id
    # Asked again with nothing changed, the same measurement serves.
    again = await cri.images.ImageFsInfo(pb.ImageFsInfoRequest())
    assert again.image_filesystems[0].timestamp == (
        after.image_filesystems[0].timestamp
    )


async def test_stream_images_sends_what_list_images_lists(
    cri: Cri, published: list[str]
) -> None:
    await cri.images.PullImage(pb.PullImageRequest(image=spec(published[0])))

    sent = [m async for m in cri.images.StreamImages(pb.StreamImagesRequest())]
    listed = await cri.images.ListImages(pb.ListImagesRequest())
    assert [i.id for m in sent for i in m.images] == [i.id for i in listed.images]
    assert len(listed.images) == 1


async def test_pull_sends_a_registry_token_as_it_is(
    cri: Cri,
    registry_token: RegistryServer,
    token_issuer: TokenIssuer,
    busybox_rootfs_tar: Path,
    tmp_path: Path,
) -> None:
    repo = unique_repo("cri-token")
    name = f"{registry_token.host}/{repo}:1"
    await publish_busybox(
        tmp_path / "seed", busybox_rootfs_tar, [name], Credentials(USER, PASSWORD)
    )

    wrong = token_issuer.issue(USER, [f"repository:{repo}-other:pull"])
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await cri.images.PullImage(
            pb.PullImageRequest(
                image=spec(name), auth=pb.AuthConfig(registry_token=wrong)
            )
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED

    token = token_issuer.issue(USER, [f"repository:{repo}:pull"])
    pulled = await cri.images.PullImage(
        pb.PullImageRequest(image=spec(name), auth=pb.AuthConfig(registry_token=token))
    )
    assert pulled.image_ref.startswith("sha256:")
