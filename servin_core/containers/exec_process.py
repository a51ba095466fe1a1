"""The OCI process (runc's ``--process`` file) of a command run in a
running container.

It starts from the container's own process in its bundle's config.json, so
an exec'd command is confined exactly as the container is: the same
capabilities, no-new-privileges, AppArmor profile, rlimits and OOM score.
Only what ``exec`` may change is replaced: the arguments, the environment
(the container's, then ``-e``, which wins), the user (resolved from the
container's own /etc/passwd and /etc/group, as at create), the working
directory and whether a terminal is allocated.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from servin_core._dataclass import dataclass
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.users import resolve_user
from servin_core.errors import InvalidArgument, Unavailable

__all__ = ["ExecRequest", "exec_process"]

_KEPT = (
    "capabilities",
    "noNewPrivileges",
    "apparmorProfile",
    "selinuxLabel",
    "rlimits",
    "oomScoreAdj",
)
"""What the exec'd process inherits from the container's process as is."""


@dataclass(frozen=True)
class ExecRequest:
    """What to run in the container, and how (docker's ``exec`` flags)."""

    cmd: list[str]
    env: tuple[str, ...] = ()
    """``KEY=VALUE`` items; a bare ``KEY`` takes the value nothing (docker's
    ``-e KEY`` reads the caller's environment: the front end does that)."""
    user: str | None = None
    workdir: str | None = None
    tty: bool = False


def _merge_env(base: Iterable[str], overrides: Iterable[str]) -> list[str]:
    merged: dict[str, str] = {}
    for item in [*base, *overrides]:
        key, _, value = item.partition("=")
        merged[key] = value
    return [f"{key}={value}" for key, value in merged.items()]


def _container_process(paths: ContainerPaths, name: str) -> dict[str, Any]:
    try:
        spec = json.loads(paths.spec.read_text())
    except (OSError, ValueError) as e:
        raise Unavailable(
            "container", name, f"cannot read its runtime spec {paths.spec}: {e}"
        ) from e
    process: dict[str, Any] = spec.get("process") or {}
    return process


def exec_process(
    paths: ContainerPaths, name: str, request: ExecRequest
) -> dict[str, Any]:
    """The process of ``request`` in the container ``name`` (bundle at
    ``paths``); InvalidArgument for an empty command, a relative working
    directory or a user the container does not know."""
    if not request.cmd:
        raise InvalidArgument("container", name, "no command given to exec")
    if request.workdir is not None and not request.workdir.startswith("/"):
        raise InvalidArgument(
            "container", name, f"working directory {request.workdir} is not absolute"
        )
    base = _container_process(paths, name)

    process: dict[str, Any] = {key: base[key] for key in _KEPT if key in base}
    process["terminal"] = request.tty
    process["args"] = list(request.cmd)
    process["cwd"] = request.workdir or base.get("cwd") or "/"

    env = list(base.get("env") or [])
    if request.user is not None:
        user = resolve_user(paths.rootfs, request.user, name)
        process["user"] = {
            "uid": user.uid,
            "gid": user.gid,
            "additionalGids": user.additional_gids,
        }
        # The container's HOME belongs to its own user; the exec user gets
        # theirs unless -e says otherwise.
        env = _merge_env(env, [f"HOME={user.home}"])
    else:
        process["user"] = base.get("user") or {"uid": 0, "gid": 0}
    if request.tty:
        env = _merge_env([*env, "TERM=xterm"] if not _has(env, "TERM") else env, [])
    process["env"] = _merge_env(env, request.env)
    return process


def _has(env: Iterable[str], key: str) -> bool:
    return any(item.partition("=")[0] == key for item in env)
