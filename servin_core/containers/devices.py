"""Devices a container may use: docker's default cgroup rules, ``--device``
and, for ``--privileged``, every device of the host.

A device is two things in the OCI spec: a node the runtime creates in the
container's /dev (``linux.devices``, with the host node's type and numbers)
and a device cgroup rule allowing access to those numbers
(``linux.resources.devices``). The runtime adds the devices every container
gets (null, zero, full, random, urandom, tty, ptmx) by itself.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from servin_core.containers.model import Device
from servin_core.errors import InvalidArgument

__all__ = [
    "default_device_rules",
    "device_entries",
    "host_devices",
    "parse_device",
]

# Directories of /dev that hold no device of the host's own (runc skips them).
_SKIPPED_DIRS = frozenset({"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts"})


def _rule(allow: bool, kind: str, major: int, minor: int) -> dict[str, Any]:
    return {
        "allow": allow,
        "type": kind,
        "major": major,
        "minor": minor,
        "access": "rwm",
    }


def default_device_rules() -> list[dict[str, Any]]:
    """docker's rules: deny everything, then allow zero, null, urandom,
    random, tty and console, and deny fuse explicitly."""
    return [
        {"allow": False, "access": "rwm"},
        _rule(True, "c", 1, 5),
        _rule(True, "c", 1, 3),
        _rule(True, "c", 1, 9),
        _rule(True, "c", 1, 8),
        _rule(True, "c", 5, 0),
        _rule(True, "c", 5, 1),
        _rule(False, "c", 10, 229),
    ]


def _valid_mode(text: str) -> bool:
    return bool(text) and len(set(text)) == len(text) and set(text) <= set("rwm")


def parse_device(text: str) -> Device:
    """docker's ``--device`` syntax: ``HOST[:CONTAINER][:PERMISSIONS]``, where
    ``HOST:PERMISSIONS`` is also accepted when the second part is a mode."""
    parts = text.split(":")
    if not parts[0] or len(parts) > 3:
        raise InvalidArgument("device", text, "expected HOST[:CONTAINER[:rwm]]")
    host, container, mode = parts[0], parts[0], "rwm"
    if len(parts) == 3:
        container, mode = parts[1], parts[2]
    elif len(parts) == 2:
        if _valid_mode(parts[1]):
            mode = parts[1]
        else:
            container = parts[1]

    if not _valid_mode(mode):
        raise InvalidArgument("device", text, f"bad permissions {mode!r}: use r, w, m")
    if not container.startswith("/"):
        raise InvalidArgument(
            "device", text, f"container path {container!r} is not absolute"
        )
    return Device(host_path=host, container_path=container, permissions=mode)


def _node(path: Path, target: str) -> dict[str, Any] | None:
    info = os.stat(path)
    if stat.S_ISCHR(info.st_mode):
        kind = "c"
    elif stat.S_ISBLK(info.st_mode):
        kind = "b"
    else:
        return None
    return {
        "path": target,
        "type": kind,
        "major": os.major(info.st_rdev),
        "minor": os.minor(info.st_rdev),
        "fileMode": stat.S_IMODE(info.st_mode),
        "uid": info.st_uid,
        "gid": info.st_gid,
    }


def device_entries(
    device: Device,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The spec's device nodes and cgroup rules for one ``--device``; a
    directory brings every device under it, as docker does."""
    host = Path(device.host_path)
    if not host.exists():
        raise InvalidArgument("device", device.host_path, "no such device on the host")

    if host.is_dir():
        pairs = [
            (p, device.container_path.rstrip("/") + "/" + str(p.relative_to(host)))
            for p in sorted(host.rglob("*"))
            if not p.is_symlink()
        ]
    else:
        pairs = [(host, device.container_path)]

    nodes, rules = [], []
    for path, target in pairs:
        node = _node(path, target)
        if node is None:
            continue
        nodes.append(node)
        rules.append(
            {
                "allow": True,
                "type": node["type"],
                "major": node["major"],
                "minor": node["minor"],
                "access": device.permissions,
            }
        )
    if not nodes:
        raise InvalidArgument("device", device.host_path, "not a device node")
    return nodes, rules


def host_devices(root: Path = Path("/dev")) -> list[dict[str, Any]]:
    """Every character and block device under ``root``, for ``--privileged``."""
    found: list[dict[str, Any]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIPPED_DIRS]
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or str(path) == "/dev/console":
                continue
            try:
                node = _node(path, str(path))
            except OSError:
                continue  # gone while walking
            if node is not None:
                found.append(node)
    return found
