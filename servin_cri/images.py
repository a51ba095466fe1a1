"""ListImages, ImageStatus, RemoveImage and ImageFsInfo on the core's
image store.

Images are named as the CRI expects: the ID is the config digest, tags and
digests in full (``docker.io/library/busybox:latest``), so that kubelet's
image garbage collector and its pull policy see the names it asked for.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from servin_core.errors import Conflict, InvalidArgument, NotFound
from servin_core.images.inspect import config_of
from servin_core.images.store import Image
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb

__all__ = [
    "filesystem_usage",
    "image_fs_info",
    "image_status",
    "list_images",
    "remove_image",
]

_FS_REUSE = 10.0
"""Seconds an ImageFsInfo answer is reused while no event was recorded."""


def _message(node: Node, image: Image) -> pb.Image:
    config = config_of(node.core, image).get("config") or {}
    user = str(config.get("User") or "").split(":", 1)[0]
    answer = pb.Image(
        id=image.id,
        repo_tags=list(image.tags),
        repo_digests=list(image.repo_digests),
        size=image.size,
        spec=pb.ImageSpec(image=image.id),
    )
    # kubelet checks runAsNonRoot against the image's user: a number goes
    # in uid, a name in username (it cannot resolve names itself).
    if user.isdigit():
        answer.uid.value = int(user)
    elif user:
        answer.username = user
    return answer


def _find(node: Node, text: str) -> Image | None:
    if not text:
        raise InvalidArgument("image", "", "no image reference given")
    try:
        return node.core.images.resolve(text)
    except NotFound:
        return None


async def list_images(
    node: Node, request: pb.ListImagesRequest
) -> pb.ListImagesResponse:
    wanted = request.filter.image.image
    if wanted:
        found = _find(node, wanted)
        images = [found] if found else []
    else:
        images = node.core.images.list()
    return pb.ListImagesResponse(images=[_message(node, i) for i in images])


async def image_status(
    node: Node, request: pb.ImageStatusRequest
) -> pb.ImageStatusResponse:
    image = _find(node, request.image.image)
    if image is None:
        # The CRI's answer for an absent image is an empty one, not an error.
        return pb.ImageStatusResponse()
    answer = pb.ImageStatusResponse(image=_message(node, image))
    if request.verbose:
        answer.info["info"] = json.dumps(
            {
                "imageSpec": config_of(node.core, image),
                "manifestDigest": image.manifest_digest,
                "manifestMediaType": image.manifest_media_type,
                "chainID": image.top_chain_id or "",
                "layers": [layer.digest for layer in image.layers],
            }
        )
    return answer


async def remove_image(
    node: Node, request: pb.RemoveImageRequest
) -> pb.RemoveImageResponse:
    image = _find(node, request.image.image)
    if image is None:
        return pb.RemoveImageResponse()  # already gone: removal is idempotent
    users = [c.id for c in node.core.containers.list() if c.image_id == image.id]
    users += [ident for _, ident in node.core.images.holders(image.id)]
    # An image volume's overlay stacks the image's own snapshots.
    users += [
        member.container_id
        for member in node.pods.members()
        if any(m.image.image_ref == image.id for m in member.config.mounts)
    ]
    if users:
        raise Conflict(
            "image", request.image.image, f"is in use by container {users[0][:12]}"
        )
    # By any of its names or its ID, the image goes with all its names.
    node.core.images.remove(image.id, force=True)
    return pb.RemoveImageResponse()


def _usage(root: Path) -> tuple[int, int]:
    """Bytes (allocated) and inodes under ``root``, each inode counted once."""
    seen: set[int] = set()
    used = 0
    for directory, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            try:
                info = os.lstat(os.path.join(directory, name))
            except OSError:
                continue  # removed while we walked
            if info.st_ino not in seen:
                seen.add(info.st_ino)
                used += info.st_blocks * 512
    return used, len(seen)


def filesystem_usage(root: Path) -> pb.FilesystemUsage:
    used, inodes = _usage(root)
    return pb.FilesystemUsage(
        timestamp=time.time_ns(),
        fs_id=pb.FilesystemIdentifier(mountpoint=str(root)),
        used_bytes=pb.UInt64Value(value=used),
        inodes_used=pb.UInt64Value(value=inodes),
    )


async def image_fs_info(
    node: Node, request: pb.ImageFsInfoRequest
) -> pb.ImageFsInfoResponse:
    # kubelet asks every few seconds and walking every layer costs: the last
    # answer serves while nothing was recorded since (no pull, removal or
    # container change) and it is younger than _FS_REUSE seconds, since
    # writable layers grow without events.
    row = node.core.db.query_one("SELECT MAX(seq) AS seq FROM events")
    seq = int(row["seq"] or 0) if row else 0
    cached = node.fs_info
    if cached and cached[0] == seq and time.monotonic() - cached[1] < _FS_REUSE:
        return cached[2]

    # Layers are unpacked once into snapshots; containers' writable layers
    # live under the containers directory.
    images = node.core.snapshots.root
    containers = node.core.config.data_dir / "containers"
    containers.mkdir(parents=True, exist_ok=True, mode=0o700)
    image_fs, container_fs = await asyncio.gather(
        asyncio.to_thread(filesystem_usage, images),
        asyncio.to_thread(filesystem_usage, containers),
    )
    if os.stat(images).st_dev == os.stat(containers).st_dev:
        # One file system: named alike, or kubelet takes it for a split
        # image file system (KubeletSeparateDiskGC) and its image GC fails.
        container_fs.fs_id.mountpoint = image_fs.fs_id.mountpoint
    answer = pb.ImageFsInfoResponse(
        image_filesystems=[image_fs], container_filesystems=[container_fs]
    )
    node.fs_info = (seq, time.monotonic(), answer)
    return answer
