"""Containers and images in the JSON shapes of docker's API.

The container's inspect shape and its listing's status words are the
CLI's own (``servin-tui inspect`` and ``ps`` print docker's shapes already),
so that both faces say the same thing.

TODO: container_details and status_text live in servin_tui/cli and are
imported from there, against the layering (the core should not know its
front ends); they move into servin_core/containers/ once the CLI's owners
take the move, with no change to the output.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from servin_core.containers.reconcile import refresh
from servin_core.images.inspect import config_of, familiar

if TYPE_CHECKING:
    from servin_core.containers.model import Container
    from servin_core.core import Core
    from servin_core.images.store import Image
    from servin_core.network.model import Endpoint

__all__ = [
    "container_inspect",
    "container_summary",
    "created_seconds",
    "go_time",
    "image_summary",
    "rfc3339_seconds",
]


def go_time(seconds: float | None) -> str:
    """RFC 3339 with nanoseconds as Go prints it; Go's zero time for None."""
    if not seconds:
        return "0001-01-01T00:00:00Z"
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def rfc3339_seconds(text: str | None) -> int | None:
    """Seconds since the epoch of an RFC 3339 time (nanoseconds allowed)."""
    if not text:
        return None
    stamp = text.replace("Z", "+00:00")
    head, dot, rest = stamp.partition(".")
    if dot:
        # Python reads microseconds at most: cut nanoseconds.
        digits = "".join(ch for ch in rest if ch.isdigit())
        stamp = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        return int(datetime.fromisoformat(stamp).timestamp())
    except ValueError:
        return None


def created_seconds(image: Image) -> int:
    seconds = rfc3339_seconds(image.created)
    return int(image.added_at) if seconds is None else seconds


def image_summary(image: Image) -> dict[str, Any]:
    return {
        "Id": image.id,
        "ParentId": "",
        "RepoTags": [familiar(tag) for tag in image.tags],
        "RepoDigests": [familiar(name) for name in image.repo_digests],
        "Created": created_seconds(image),
        "Size": image.size,
        "SharedSize": -1,
        "VirtualSize": image.size,
        "Labels": {},
        "Containers": -1,
    }


def _image_config(core: Core, container: Container) -> dict[str, Any]:
    from servin_core.errors import NotFound

    try:
        image = core.images.get(container.image_id)
    except NotFound:
        return {}
    config: dict[str, Any] = config_of(core, image).get("config") or {}
    return config


def container_inspect(core: Core, container: Container) -> dict[str, Any]:
    from servin_core.containers.paths import ContainerPaths
    from servin_core.network.describe import container_networks, host_network_config
    from servin_core.volumes.describe import container_mounts
    from servin_tui.cli.containers_inspect import container_details

    container = refresh(core, container) if container.state.is_active else container
    image_config = _image_config(core, container)
    details = container_details(container, image_config)
    details["HostConfig"] |= host_network_config(container)
    exposed = sorted(image_config.get("ExposedPorts") or {})
    details["NetworkSettings"] = container_networks(core, container, exposed)
    details["Mounts"] = container_mounts(core, container)
    paths = ContainerPaths.of(core.config, container.id)
    details["LogPath"] = str(paths.log)
    details["GraphDriver"] = {
        "Name": "overlay",
        "Data": {
            "UpperDir": str(paths.upper),
            "WorkDir": str(paths.work),
            "MergedDir": str(paths.rootfs),
        },
    }
    return details


def _ports(endpoints: list[Endpoint]) -> list[dict[str, Any]]:
    return [
        {
            "IP": port.host_ip or "0.0.0.0",
            "PrivatePort": port.container_port,
            "PublicPort": port.host_port,
            "Type": port.protocol,
        }
        for endpoint in endpoints
        for port in endpoint.ports
        if port.host_port
    ]


def _networks(
    core: Core, container: Container, endpoints: list[Endpoint]
) -> dict[str, Any]:
    found = {}
    for endpoint in endpoints:
        network = core.networks.get(endpoint.network_id)
        found[network.name] = {"NetworkID": network.id, "IPAddress": endpoint.ip}
    from servin_core.network.describe import networkless_mode

    mode = networkless_mode(container)
    if not found and mode:
        found[mode] = {"NetworkID": "", "IPAddress": ""}
    return found


def container_summary(core: Core, container: Container) -> dict[str, Any]:
    from servin_tui.cli.containers_list import command_text, status_text

    # One look at the endpoints for both the ports and the networks: the
    # listing does it for every container.
    endpoints = core.networks.endpoints_of(container.id)
    return {
        "Id": container.id,
        "Names": [f"/{container.name}"],
        "Image": container.image_name or container.image_id,
        "ImageID": container.image_id,
        "Command": command_text(container, no_trunc=True).strip('"'),
        "Created": int(container.created),
        "Ports": _ports(endpoints),
        "Labels": container.config.labels,
        "State": str(container.state),
        "Status": status_text(container),
        "HostConfig": {"NetworkMode": container.config.network or "bridge"},
        "NetworkSettings": {"Networks": _networks(core, container, endpoints)},
        "Mounts": [
            {
                "Type": m.type,
                "Source": m.source,
                "Destination": m.target,
                "Mode": "ro" if m.read_only else "",
                "RW": not m.read_only,
                "Propagation": "",
            }
            for m in container.config.mounts
        ],
    }
