"""Image volumes: an image's file system mounted read-only in a container
(kubelet's ``image`` volume source), whole or one directory of it.

The image's layer snapshots become the lower directories of an overlay
that the runtime mounts in the container's own mount namespace: the mount
lives and dies with the container, and nothing is left on the host to
unmount. An overlay without an upper directory is read-only, and the
kernel wants two lower directories for one: an empty one lies at the
bottom. ``image_sub_path`` takes each layer's copy of that directory, top
first, down to the layer that hides what lies beneath it (a whiteout, an
opaque directory, a parent that is not a directory), as the image's own
overlay would show it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from servin_core.containers.model import Mount
from servin_core.errors import InvalidArgument
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb

__all__ = ["image_volume"]

_OPAQUE = "trusted.overlay.opaque"


def image_volume(node: Node, mount: pb.Mount, name: str) -> tuple[Mount, str]:
    """The core mount for the image volume ``mount`` of the container
    ``name``, and the ID of its image (the ``image_ref`` kubelet reads back
    from ContainerStatus). Refused: a writable one, a sub path that climbs
    out or that the image does not have as a directory, an image that is
    not here (NotFound, naming it)."""
    where = f"image volume at {mount.container_path}"
    if not mount.readonly:
        raise InvalidArgument("container", name, f"{where} must be read-only")
    sub = _sub_path(mount.image_sub_path, name, where)
    image = node.core.images.resolve(mount.image.image)
    layers = [
        node.core.snapshots.path(layer.chain_id) for layer in reversed(image.layers)
    ]
    lowers = _lower_dirs(layers, sub)
    if not lowers:
        raise InvalidArgument(
            "container",
            name,
            f"{where}: image {mount.image.image} has no directory /{sub}",
        )
    empty = node.core.config.data_dir / "cri" / "empty-layer"
    empty.mkdir(parents=True, exist_ok=True)
    # TODO: mount options fit in one page (4096 bytes), about 50 layers with
    # these paths, as for a container's root (containers/rootfs.py).
    lowerdir = ":".join(str(path) for path in [*lowers, empty])
    core_mount = Mount(
        type="overlay",
        target=mount.container_path,
        read_only=True,
        options=(f"lowerdir={lowerdir}",),
    )
    return core_mount, image.id


def _sub_path(text: str, name: str, where: str) -> str:
    """``text`` as a relative path inside the image ("" for its root)."""
    path = PurePosixPath(text)
    if path.is_absolute() or ".." in path.parts:
        raise InvalidArgument(
            "container", name, f"{where}: sub path {text} is not inside the image"
        )
    return "/".join(part for part in path.parts if part != ".")


def _lower_dirs(layers: list[Path], sub: str) -> list[Path]:
    """The directories ``sub`` of ``layers`` (top first) that the image's
    merged view of ``sub`` is made of; none if it has no such directory."""
    found: list[Path] = []
    for layer in layers:
        entry, hides_below = _entry(layer, sub)
        if entry is not None:
            if not stat.S_ISDIR(entry.st_mode):
                break  # a whiteout or a file: nothing below shows through
            found.append(layer / sub if sub else layer)
            hides_below = hides_below or _opaque(layer / sub)
        if hides_below:
            break
    return found


def _entry(layer: Path, sub: str) -> tuple[os.stat_result | None, bool]:
    """``sub``'s entry in one layer, and whether one of its parents there
    hides the layers below (an opaque directory, or no directory at all)."""
    hides_below = False
    current = layer
    for part in [part for part in sub.split("/") if part]:
        if current != layer:
            try:
                info = os.lstat(current)
            except OSError:
                return None, hides_below
            if not stat.S_ISDIR(info.st_mode):
                return None, True
            hides_below = hides_below or _opaque(current)
        current = current / part
    try:
        return os.lstat(current), hides_below
    except OSError:
        return None, hides_below


def _opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, _OPAQUE, follow_symlinks=False) == b"y"
    except OSError:
        return False
