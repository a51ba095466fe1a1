"""``--volumes-from``: a new container mounts another's volumes and binds.

docker resolves the other container once, at create: its volumes (named,
anonymous and its image's) and bind mounts become the new container's own
mounts, at the same mount points, read-only if the source's were or if
``:ro`` is given (``:rw`` makes them writable). Its tmpfs mounts are not
shared (they are the other container's memory). A mount point the new
container mounts itself keeps its own mount.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from servin_core._dataclass import replace
from servin_core.errors import InvalidArgument
from servin_core.volumes.operations import store_of

if TYPE_CHECKING:
    from servin_core.containers.model import ContainerConfig, Mount
    from servin_core.core import Core

__all__ = ["inherit_volumes"]


def inherit_volumes(core: Core, config: ContainerConfig) -> ContainerConfig:
    """``config`` with the mounts its ``volumes_from`` containers give."""
    from servin_core.containers.model import Mount

    if not config.volumes_from:
        return config
    mounts = list(config.mounts)
    taken = {mount.target for mount in mounts}
    for text in config.volumes_from:
        name, _, mode = text.partition(":")
        if mode not in ("", "ro", "rw"):
            raise InvalidArgument("--volumes-from", text, "the mode is ro or rw")
        source = core.containers.resolve(name)

        inherited: list[Mount] = []
        volumes = {b.target: b.volume for b in store_of(core).bindings(source.id)}
        for mount in source.config.mounts:
            if mount.type == "bind":
                inherited.append(mount)
            elif mount.type == "volume" and mount.target in volumes:
                volume = volumes.pop(mount.target)
                inherited.append(replace(mount, source=volume))
        inherited += [
            Mount(type="volume", source=volume, target=target)
            for target, volume in sorted(volumes.items())
        ]

        for mount in inherited:
            if mount.target in taken:
                continue
            taken.add(mount.target)
            read_only = mount.read_only if not mode else mode == "ro"
            options = mount.options
            if mount.type == "volume" and "nocopy" not in options:
                # The volume is the source's: filled from its image, if at all.
                options = (*options, "nocopy")
            mounts.append(replace(mount, read_only=read_only, options=options))
    return replace(config, mounts=mounts)
