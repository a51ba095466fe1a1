"""``inspect`` for containers and images, and ``container inspect``.

docker's ``inspect`` takes either kind of object: each name is tried as a
container, then as an image, unless ``--type`` says which. A container is
printed in docker's shape (``State``, ``Config``, ``HostConfig``,
``Mounts``...) so that ``--format '{{.State.Status}}'`` and tools reading
docker's JSON work unchanged.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from servin_core.errors import NotFound
from servin_tui.cli.command import Command, Session

if TYPE_CHECKING:
    from servin_core.containers.model import Container, Mount
    from servin_core.core import Core

__all__ = ["COMMANDS", "CONTAINER_INSPECT", "container_details", "go_timestamp"]

_ZERO_TIME = "0001-01-01T00:00:00Z"


def go_timestamp(timestamp: float | None) -> str:
    """A time as Go's RFC 3339 with nanoseconds, trailing zeros cut; an
    unknown time as Go's zero time."""
    if not timestamp:
        return _ZERO_TIME
    moment = datetime.fromtimestamp(timestamp, UTC)
    fraction = f"{moment.microsecond:06d}000".rstrip("0")
    return (
        moment.strftime("%Y-%m-%dT%H:%M:%S")
        + (f".{fraction}" if fraction else "")
        + "Z"
    )


def container_details(
    container: Container, image_config: dict[str, Any]
) -> dict[str, Any]:
    """docker's inspect JSON for ``container``; ``image_config`` is its image's
    ``config`` object, under which the container's own settings lie."""
    config = container.config
    entrypoint = (
        config.entrypoint
        if config.entrypoint is not None
        else image_config.get("Entrypoint")
    )
    # docker drops the image's command when --entrypoint replaces its entrypoint.
    cmd = config.cmd
    if cmd is None and config.entrypoint is None:
        cmd = image_config.get("Cmd")
    args = [*(entrypoint or []), *(cmd or [])]
    env = _merge_env(image_config.get("Env") or [], config.env)
    state = str(container.state)

    return {
        "Id": container.id,
        "Created": go_timestamp(container.created),
        "Path": args[0] if args else "",
        "Args": args[1:],
        "State": {
            "Status": state,
            "Running": state in ("running", "paused", "restarting"),
            "Paused": state == "paused",
            "Restarting": state == "restarting",
            "OOMKilled": container.oom_killed,
            "Dead": state == "dead",
            "Pid": container.pid if container.state.is_active else 0,
            "ExitCode": container.exit_code or 0,
            "Error": container.error,
            "StartedAt": go_timestamp(container.started_at),
            "FinishedAt": go_timestamp(container.finished_at),
        },
        "Image": container.image_id,
        "Name": f"/{container.name}",
        "RestartCount": container.restart_count,
        "Driver": "overlay",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": _host_config(container),
        "Mounts": [_mount(mount) for mount in config.mounts],
        "Config": {
            "Hostname": config.hostname or container.id[:12],
            "Domainname": "",
            "User": config.user
            if config.user is not None
            else image_config.get("User", ""),
            "AttachStdin": config.open_stdin,
            "AttachStdout": True,
            "AttachStderr": True,
            "Tty": config.tty,
            "OpenStdin": config.open_stdin,
            "StdinOnce": config.stdin_once,
            "Env": env,
            "Cmd": cmd,
            "Image": config.image,
            "Volumes": image_config.get("Volumes"),
            "WorkingDir": config.workdir or image_config.get("WorkingDir", ""),
            "Entrypoint": entrypoint or None,
            "OnBuild": None,
            "Labels": {**(image_config.get("Labels") or {}), **config.labels},
            "StopSignal": config.stop_signal or image_config.get("StopSignal"),
            "StopTimeout": config.stop_timeout,
        },
        "NetworkSettings": {
            "Bridge": "",
            "SandboxID": "",
            "Ports": {},
            "IPAddress": "",
            "Gateway": "",
            "MacAddress": "",
            "Networks": {},
        },
    }


def _merge_env(image_env: list[str], own: list[str]) -> list[str]:
    """The image's variables, each replaced by the container's of the same
    name, then the container's new ones, in order."""
    own_by_name = {item.partition("=")[0]: item for item in own}
    merged = [own_by_name.pop(e.partition("=")[0], e) for e in image_env]
    return merged + [item for item in own if item.partition("=")[0] in own_by_name]


def _host_config(container: Container) -> dict[str, Any]:
    config = container.config
    resources = config.resources
    return {
        "Binds": [
            f"{m.source}:{m.target}" + (":ro" if m.read_only else "")
            for m in config.mounts
            if m.type == "bind"
        ],
        "VolumesFrom": config.volumes_from or None,
        # conmon's one file, read through logs whatever its format; docker
        # SDK clients read logs only for some drivers, json-file among them.
        "LogConfig": {
            "Type": "json-file",
            "Config": (
                {"max-size": str(config.log_max_size)} if config.log_max_size else {}
            ),
        },
        "NetworkMode": "none",
        "PortBindings": {},
        "RestartPolicy": {
            "Name": config.restart.name,
            "MaximumRetryCount": config.restart.maximum_retry,
        },
        "AutoRemove": config.auto_remove,
        "GroupAdd": config.group_add or None,
        "CapAdd": config.cap_add or None,
        "CapDrop": config.cap_drop or None,
        "Privileged": config.privileged,
        "ReadonlyRootfs": config.read_only,
        "SecurityOpt": config.security_opt or None,
        "Tmpfs": {
            m.target: ",".join(m.options) for m in config.mounts if m.type == "tmpfs"
        },
        "ShmSize": resources.shm_size or 64 * 1024 * 1024,
        "Runtime": container.runtime,
        "Init": config.init or None,
        "Memory": resources.memory or 0,
        "MemorySwap": resources.memory_swap or 0,
        "MemoryReservation": resources.memory_reservation or 0,
        "NanoCpus": resources.nano_cpus or 0,
        "CpuShares": resources.cpu_shares or 0,
        "CpuQuota": resources.cpu_quota or 0,
        "CpuPeriod": resources.cpu_period or 0,
        "CpusetCpus": resources.cpuset_cpus or "",
        "CpusetMems": resources.cpuset_mems or "",
        "PidsLimit": resources.pids_limit,
        "BlkioWeight": resources.blkio_weight or 0,
        "Ulimits": [
            {"Name": u.name, "Soft": u.soft, "Hard": u.hard} for u in resources.ulimits
        ]
        or None,
        "Devices": [
            {
                "PathOnHost": d.host_path,
                "PathInContainer": d.container_path,
                "CgroupPermissions": d.permissions,
            }
            for d in resources.devices
        ],
        "Sysctls": resources.sysctls or None,
    }


def _mount(mount: Mount) -> dict[str, Any]:
    propagation = next(
        (o for o in mount.options if o.lstrip("r") in ("shared", "slave", "private")),
        "rprivate" if mount.type == "bind" else "",
    )
    described: dict[str, Any] = {
        "Type": mount.type,
        "Source": mount.source,
        "Destination": mount.target,
        "Mode": "ro" if mount.read_only else "",
        "RW": not mount.read_only,
        "Propagation": propagation,
    }
    if mount.type == "volume":
        described |= {"Name": mount.source, "Driver": "local"}
    return described


def _inspect_container(core: Core, text: str) -> dict[str, Any]:
    from servin_core.images.inspect import config_of
    from servin_core.network.describe import container_networks, host_network_config
    from servin_core.volumes.describe import container_mounts
    from servin_tui.cli.containers_state import refreshed

    container = refreshed(core, [core.containers.resolve(text)])[0]
    try:
        image_config = config_of(core, core.images.get(container.image_id))
    except NotFound:  # removed with --force: the container's own settings remain
        image_config = {}
    details = container_details(container, image_config.get("config") or {})
    details["HostConfig"] |= host_network_config(container)
    exposed = sorted((image_config.get("config") or {}).get("ExposedPorts") or {})
    details["NetworkSettings"] = container_networks(core, container, exposed)
    # The volumes' names and directories are the store's, not the config's.
    details["Mounts"] = container_mounts(core, container)
    return details | _files(core, container)


def _files(core: Core, container: Container) -> dict[str, Any]:
    """Where the container's files are on the host, as docker reports them."""
    from servin_core.containers.paths import ContainerPaths

    paths = ContainerPaths.of(core.config, container.id)
    lowers = [str(core.snapshots.path(chain_id)) for chain_id in container.lowers]
    return {
        "ResolvConfPath": str(paths.data / "resolv.conf"),
        "HostnamePath": str(paths.data / "hostname"),
        "HostsPath": str(paths.data / "hosts"),
        "LogPath": str(paths.log),
        "GraphDriver": {
            "Name": "overlay",
            "Data": {
                "LowerDir": ":".join(lowers),
                "UpperDir": str(paths.upper),
                "WorkDir": str(paths.work),
                "MergedDir": str(paths.rootfs),
            },
        },
    }


def _inspect_image(core: Core, text: str) -> dict[str, Any]:
    from servin_core.images.inspect import inspect

    return inspect(core, core.images.resolve(text))


def _inspect_any(core: Core, text: str) -> dict[str, Any]:
    """A container by that name or ID, else an image (whose error, if none,
    is the one reported: names given to inspect are mostly images')."""
    try:
        return _inspect_container(core, text)
    except NotFound:
        return _inspect_image(core, text)


def _configure(parser: argparse.ArgumentParser, *, typed: bool) -> None:
    parser.add_argument(
        "-f", "--format", metavar="TEMPLATE", help="print each through a Go template"
    )
    if typed:
        parser.add_argument(
            "--type", choices=("container", "image"), help="only this kind of object"
        )
    else:
        parser.set_defaults(type="container")
    parser.add_argument("names", nargs="+", metavar="NAME")


async def _run(session: Session, args: argparse.Namespace) -> int:
    """Print every object found, then one error line per name not found."""
    kind = args.type or "any"
    finder = {
        "container": _inspect_container,
        "image": _inspect_image,
        "any": _inspect_any,
    }[kind]
    from servin_tui.cli.inspect import print_inspected

    core = session.core()
    return print_inspected(
        session, args.names, lambda name: finder(core, name), args.format
    )


COMMANDS = [
    Command(
        "inspect",
        (),
        "show details of containers or images as JSON",
        lambda parser: _configure(parser, typed=True),
        _run,
    )
]
CONTAINER_INSPECT = Command(
    None,
    (),
    "show details of containers as JSON",
    lambda parser: _configure(parser, typed=False),
    _run,
)
"""``container inspect``: containers only."""
