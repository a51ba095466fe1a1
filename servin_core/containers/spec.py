"""The OCI runtime spec (config.json) of a container, as docker would write it.

What runs (entrypoint and cmd merged as docker merges them), as whom (from
the image's own /etc/passwd and /etc/group), where (working directory,
hostname, the generated /etc files), in which namespaces and cgroup, with
docker's default mounts. Confinement and limits are the security module's:
:func:`apply_security` and :func:`apply_resources` add them last.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servin_core.containers.etcfiles import write_etc_files
from servin_core.containers.model import Container, ContainerConfig
from servin_core.containers.namespaces import apply_namespaces
from servin_core.containers.paths import ContainerPaths, cgroup_path
from servin_core.containers.resources import apply_resources
from servin_core.containers.security import apply_security
from servin_core.containers.users import resolve_groups, resolve_user
from servin_core.errors import InvalidArgument

if TYPE_CHECKING:
    from servin_core.network.attach import Joined

__all__ = [
    "DEFAULT_PATH",
    "INIT_PATH",
    "build_spec",
    "check_config",
    "command_of",
    "environment_of",
]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_SHM_SIZE = 64 * 1024 * 1024
INIT_PATH = "/sbin/servin-init"
_INITS = ("catatonit", "tini")


def command_of(config: ContainerConfig, image: dict[str, Any]) -> list[str]:
    """docker's rule: an entrypoint given at create replaces the image's and
    drops its cmd; a cmd given replaces the image's cmd only."""
    if config.entrypoint is not None:
        entrypoint = [arg for arg in config.entrypoint if arg != ""]
        cmd = config.cmd or []
    else:
        entrypoint = list(image.get("Entrypoint") or [])
        cmd = config.cmd if config.cmd is not None else list(image.get("Cmd") or [])
    return entrypoint + cmd


def environment_of(
    config: ContainerConfig, image: dict[str, Any], hostname: str, home: str
) -> list[str]:
    """The image's variables, then the container's (which win), with PATH,
    HOSTNAME, HOME and (with a tty) TERM when nothing set them."""
    merged: dict[str, str] = {"HOSTNAME": hostname}
    for item in [*(image.get("Env") or []), *config.env]:
        key, _, value = item.partition("=")
        merged[key] = value
    merged.setdefault("PATH", DEFAULT_PATH)
    merged.setdefault("HOME", home)
    if config.tty:
        merged.setdefault("TERM", "xterm")
    return [f"{key}={value}" for key, value in merged.items()]


def check_config(config: ContainerConfig, container: str) -> None:
    """Refuse at create what would only fail at start: limits, capabilities,
    sysctls and mounts the security and resource rules reject."""
    scratch: dict[str, Any] = {"linux": {"namespaces": _namespaces()}}
    apply_security(scratch, config)
    apply_resources(scratch, config)
    for mount in config.mounts:
        missing = mount.type == "bind" and not os.path.exists(mount.source)
        if missing and not mount.create_source:
            raise InvalidArgument(
                "container", container, f"bind source {mount.source} does not exist"
            )
        if not mount.target.startswith("/"):
            raise InvalidArgument(
                "container", container, f"mount target {mount.target} is not absolute"
            )


def _namespaces(netns: str | None = "") -> list[dict[str, str]]:
    """``netns``: a pinned namespace to join (networks.attach), "" for a new
    one with loopback only, None to stay in the host's."""
    spaces = [{"type": kind} for kind in ("pid", "ipc", "uts", "mount")]
    if netns:
        spaces.append({"type": "network", "path": netns})
    elif netns is not None:
        spaces.append({"type": "network"})
    return spaces


def _default_mounts(config: ContainerConfig) -> list[dict[str, Any]]:
    shm = config.resources.shm_size or DEFAULT_SHM_SIZE
    cgroup_mode = "rw" if config.privileged else "ro"
    return [
        {"destination": "/proc", "type": "proc", "source": "proc",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
                     "mode=0620", "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", cgroup_mode]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", f"size={shm}"]},
    ]  # fmt: skip


_PROPAGATIONS = ("shared", "slave", "private", "rshared", "rslave", "rprivate")
_NOT_FOR_OCI = ("nocopy", "z", "Z", "consistent", "cached", "delegated")
"""Options of docker's syntax that are no mount(2) options."""


def _user_mounts(config: ContainerConfig) -> list[dict[str, Any]]:
    """Bind, tmpfs and overlay mounts; volumes come from
    :func:`volumes.attach.prepare`."""
    mounts = []
    for mount in config.mounts:
        options = [o for o in mount.options if o not in _NOT_FOR_OCI]
        if mount.type == "bind":
            # docker's default propagation: rprivate.
            if not any(o in _PROPAGATIONS for o in options):
                options.append("rprivate")
            options.insert(0, "rbind")
            source = mount.source
        elif mount.type == "tmpfs":
            # docker's defaults, first: what the user gives (exec...) wins.
            options = ["nosuid", "nodev", "noexec", *options]
            source = "tmpfs"
        elif mount.type == "overlay":
            # No upper directory: read-only whatever the flag says.
            options = ["nodev", *options]
            source = "overlay"
        else:
            continue
        if mount.read_only:
            options.append("ro")
        mounts.append(
            {
                "destination": mount.target,
                "type": "bind" if mount.type == "bind" else mount.type,
                "source": source,
                "options": options,
            }
        )
    return mounts


def _rootfs_propagation(mounts: list[dict[str, Any]]) -> str | None:
    """``rshared`` when a mount shares both ways, ``rslave`` when one only
    receives, as docker sets it: runc otherwise makes every mount a slave
    first, and a container's mounts never reach the host."""
    options = {o for m in mounts for o in m.get("options", ())}
    if options & {"shared", "rshared"}:
        return "rshared"
    if options & {"slave", "rslave"}:
        return "rslave"
    return None


def _depth(mount: dict[str, Any]) -> int:
    return len([part for part in mount["destination"].split("/") if part])


def _init_binary() -> str:
    for name in _INITS:
        path = shutil.which(name)
        if path:
            return path
    raise InvalidArgument("init", "", "neither catatonit nor tini is installed")


def _workdir(rootfs: Path, workdir: str, container: str) -> str:
    """The working directory, made if the image lacks it (as docker makes
    it), refusing one whose path leads out of the root through a symlink."""
    if not workdir.startswith("/"):
        raise InvalidArgument(
            "container", container, f"working directory {workdir} is not absolute"
        )
    target = rootfs / workdir.lstrip("/")
    real_root = os.path.realpath(rootfs)
    if os.path.commonpath([os.path.realpath(target), real_root]) != real_root:
        raise InvalidArgument(
            "container", container, f"working directory {workdir} leaves the root"
        )
    if not os.path.isdir(target):
        os.makedirs(target, mode=0o755, exist_ok=True)
    return workdir


def build_spec(
    container: Container,
    image: dict[str, Any],
    paths: ContainerPaths,
    volumes: list[dict[str, Any]] | None = None,
    network: Joined | None = None,
) -> dict[str, Any]:
    """The spec of ``container`` whose root is mounted at ``paths.rootfs``;
    ``image`` is the image's runtime config (the ``config`` of its blob),
    ``volumes`` the mounts of the container's volumes, ``network`` what
    joining its networks gave (None: a new namespace with loopback only)."""
    config = container.config
    name = container.name

    args = command_of(config, image)
    if not args:
        raise InvalidArgument("container", name, "no command specified")
    user = resolve_user(paths.rootfs, config.user or image.get("User") or "", name)
    added = resolve_groups(paths.rootfs, config.group_add, name)
    own = user.additional_gids if config.image_groups else []
    groups = own + [g for g in added if g not in own]
    if config.primary_in_groups and user.gid not in groups:
        groups.insert(0, user.gid)
    hostname = config.hostname or container.id[:12]
    workdir = _workdir(
        paths.rootfs, config.workdir or image.get("WorkingDir") or "/", name
    )

    # None: a new namespace with loopback only (networks.attach's Joined("")).
    etc = write_etc_files(
        paths.data,
        hostname,
        addresses=network.addresses if network else (),
        nameservers=network.nameservers if network else (),
        host=network.host if network else False,
    )
    mounts = [
        {"destination": target, "type": "bind", "source": str(source),
         "options": ["rbind", "rprivate"]}
        for target, source in etc.items()
    ]  # fmt: skip
    if config.init:
        mounts.append(
            {"destination": INIT_PATH, "type": "bind", "source": _init_binary(),
             "options": ["rbind", "ro", "rprivate"]}
        )  # fmt: skip
        args = [INIT_PATH, "--", *args]
    mounts += _user_mounts(config) + (volumes or [])
    # Shallower first (a stable sort, as docker sorts), so that a bind under
    # a volume, or a volume at /etc under the generated /etc files, is
    # mounted on top of what holds it.
    mounts = _default_mounts(config) + sorted(mounts, key=_depth)

    spec: dict[str, Any] = {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": config.tty,
            "user": {
                "uid": user.uid,
                "gid": user.gid,
                "additionalGids": groups,
            },
            "args": args,
            "env": environment_of(config, image, hostname, user.home),
            "cwd": workdir,
        },
        "root": {"path": str(paths.rootfs), "readonly": config.read_only},
        "hostname": hostname,
        "mounts": mounts,
        "linux": {
            "namespaces": _namespaces(network.netns if network else ""),
            "cgroupsPath": cgroup_path(container.id, config.cgroup_parent),
            "resources": {},
        },
    }
    if config.tty and config.console_size is not None:
        rows, columns = config.console_size
        spec["process"]["consoleSize"] = {"height": rows, "width": columns}
    propagation = _rootfs_propagation(mounts)
    if propagation:
        spec["linux"]["rootfsPropagation"] = propagation
    apply_security(spec, config)
    apply_resources(spec, config)
    apply_namespaces(spec, config, name)
    return spec
