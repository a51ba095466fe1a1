"""Volumes and a container's mounts as docker's API describes them.

The CLI's ``volume inspect`` and ``inspect``'s ``Mounts``, and the Engine
API's replies, share these shapes (docker's field names), so that tools
reading docker's output read Servin's.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from servin_core.volumes.operations import driver_of, store_of

if TYPE_CHECKING:
    from servin_core.containers.model import Container, Mount
    from servin_core.core import Core
    from servin_core.volumes.model import Volume

__all__ = ["container_mounts", "volume_details"]


def volume_details(core: Core, volume: Volume) -> dict[str, Any]:
    """docker's ``volume inspect`` object."""
    created = datetime.fromtimestamp(int(volume.created)).astimezone()
    return {
        "CreatedAt": created.isoformat().replace("+00:00", "Z"),
        "Driver": volume.driver,
        "Labels": dict(volume.labels) or None,
        "Mountpoint": str(driver_of(core).data(volume.name)),
        "Name": volume.name,
        "Options": dict(volume.options) or None,
        "Scope": "local",
    }


def container_mounts(core: Core, container: Container) -> list[dict[str, Any]]:
    """docker's ``Mounts`` of a container: its binds, tmpfs mounts and
    volumes (named, anonymous and the image's), in the order given."""
    bindings = {b.target: b.volume for b in store_of(core).bindings(container.id)}
    described = [
        _mount(core, mount, bindings.pop(mount.target, ""))
        for mount in container.config.mounts
    ]
    # What is left: the image's VOLUMEs.
    for target, name in sorted(bindings.items()):
        described.append(_volume(core, name, target, read_only=False, propagation=""))
    return described


def _mount(core: Core, mount: Mount, volume: str) -> dict[str, Any]:
    propagation = next(
        (o for o in mount.options if o.lstrip("r") in ("shared", "slave", "private")),
        "rprivate" if mount.type == "bind" else "",
    )
    if mount.type == "volume" and volume:
        return _volume(core, volume, mount.target, mount.read_only, propagation)
    return {
        "Type": mount.type,
        "Source": mount.source,
        "Destination": mount.target,
        "Mode": "ro" if mount.read_only else "",
        "RW": not mount.read_only,
        "Propagation": propagation,
    }


def _volume(
    core: Core, name: str, target: str, read_only: bool, propagation: str
) -> dict[str, Any]:
    return {
        "Type": "volume",
        "Name": name,
        "Source": str(driver_of(core).data(name)),
        "Destination": target,
        "Driver": "local",
        "Mode": "ro" if read_only else "",
        "RW": not read_only,
        "Propagation": propagation,
    }
