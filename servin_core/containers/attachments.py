"""Whether a container needs the network and volume code at all.

Creating, starting and removing a container ask the network modules for
its endpoints and the volume modules for its volumes. Both sets of modules
cost a run's start-up more than their work does when the answer is "none"
(about a sixth of ``run --rm --network none busybox true``'s instructions,
most of it building their dataclasses). These predicates answer from the
container's configuration alone, conservatively: False only where the
network or volume code would find nothing to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from servin_core.containers.model import Container, ContainerConfig
from servin_core.images.inspect import config_of

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["image_config_of", "may_join_networks", "may_use_volumes"]


def image_config_of(core: Core, container: Container) -> dict[str, Any]:
    """The runtime configuration (``config``) of ``container``'s image."""
    image = core.images.get(container.image_id)
    runtime_config: dict[str, Any] = config_of(core, image).get("config") or {}
    return runtime_config


def may_join_networks(config: ContainerConfig) -> bool:
    """False for ``--network none`` with nothing that needs a network: such
    a container has no endpoints (``network connect`` refuses it) and gets
    a new namespace with loopback only."""
    return not (
        config.network == "none"
        and "network" not in config.namespaces
        and not config.publish
        and not config.publish_all
        and not config.ip
        and not config.network_aliases
    )


def may_use_volumes(config: ContainerConfig, image_config: dict[str, Any]) -> bool:
    """False when neither the configuration (mounts of any kind, volumes of
    other containers) nor the image (its declared ``Volumes``) asks for a
    mount: then there is no volume to record, make, fill or mount."""
    return bool(config.mounts or config.volumes_from or image_config.get("Volumes"))
