"""Changing a container's limits and restart policy after create.

The stored configuration changes, so the next start writes them into the
spec; a running or paused container's cgroup changes at once through the
OCI runtime's ``update --resources``. The runtime goes first: if the kernel
refuses a limit (memory below what the container already uses), nothing
is stored and the container keeps what it had.

What a change leaves unset stays as it was. The merged limits are checked
by the same rules as at create (:func:`cgroup_limits`), so a value refused
at ``run`` is refused at ``update`` too, with the container's name.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servin_core import log
from servin_core._dataclass import dataclass, fields, replace
from servin_core.containers.locked import run_locked
from servin_core.containers.model import (
    Container,
    ContainerConfig,
    Resources,
    RestartPolicy,
    config_to_json,
)
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.reconcile import refresh
from servin_core.containers.resources import CPU_PERIOD, cgroup_limits
from servin_core.containers.runtime import runtime_of
from servin_core.errors import Conflict, InvalidArgument, ServinError

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["ResourceChange", "set_cgroup_limits", "update", "update_locked"]


@dataclass(frozen=True)
class ResourceChange:
    """New values for some limits. None, 0 or "" leaves a limit as it is,
    as in docker's ``update``, except ``pids_limit``, where 0 or -1 removes
    the limit (docker's ``--pids-limit``)."""

    memory: int | None = None
    memory_swap: int | None = None
    memory_reservation: int | None = None
    nano_cpus: int | None = None
    cpu_shares: int | None = None
    cpu_quota: int | None = None
    cpu_period: int | None = None
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    pids_limit: int | None = None
    blkio_weight: int | None = None
    restart: RestartPolicy | None = None

    def limits(self) -> dict[str, Any]:
        """The Resources fields this changes, with their new values."""
        return {
            field.name: value
            for field in fields(self)
            if field.name != "restart"
            and (value := getattr(self, field.name)) is not None
            and (value not in (0, "") or field.name == "pids_limit")
        }

    def is_empty(self) -> bool:
        return self.restart is None and not self.limits()


async def update(core: Core, text: str, change: ResourceChange) -> Container:
    """Apply ``change`` to the container ``text`` names; the container as
    stored afterwards."""
    return await run_locked(core, text, lambda c: update_locked(core, c, change))


def update_locked(
    core: Core, container: Container, change: ResourceChange
) -> Container:
    """:func:`update` for a container whose lock the caller holds."""
    container = refresh(core, container)
    container.state.require(container.state.can_update(), container.name, "update")
    config = _merged(container, change)
    try:
        limits = cgroup_limits(config)
    except InvalidArgument as e:
        raise InvalidArgument("container", container.name, str(e)) from None

    if container.state.is_active:
        if change.pids_limit is not None and change.pids_limit <= 0:
            limits["pids"] = {"limit": -1}  # "max": the old limit goes
        try:
            _run_update(core, container, limits)
        except ServinError:
            # The runtime writes one file after another: put back what it
            # changed before the kernel refused one.
            with contextlib.suppress(ServinError):
                before = _restoring(cgroup_limits(container.config), limits)
                _run_update(core, container, before)
            raise

    with core.db.write() as conn:
        # Only the configuration column: the state columns are the
        # lifecycle's, changed through ContainerStore.update.
        conn.execute(
            "UPDATE containers SET config = ? WHERE id = ?",
            (config_to_json(config), container.id),
        )
        core.events.record(
            conn, "container", "update", container.id, name=container.name
        )
    log.for_object(log.containers, "container", container.id).info(
        "limits updated: %s", limits
    )
    return core.containers.get(container.id)


def _merged(container: Container, change: ResourceChange) -> ContainerConfig:
    old = container.config.resources
    values = change.limits()
    if "pids_limit" in values and values["pids_limit"] <= 0:
        values["pids_limit"] = None
    memory = values.get("memory", old.memory)
    swap = values.get("memory_swap", old.memory_swap)
    swap_below = swap is not None and swap > 0 and swap < memory
    if "memory" in values and "memory_swap" not in values and swap_below:
        raise InvalidArgument(
            "container",
            container.name,
            f"the new memory limit {memory} is above its memory+swap limit "
            f"{swap}: change the memory swap limit with it",
        )
    if "memory_swap" in values and not memory:
        raise InvalidArgument(
            "container",
            container.name,
            "a memory swap limit needs a memory limit: give both",
        )
    resources: Resources = replace(old, **values)

    restart = change.restart or container.config.restart
    if change.restart and change.restart.name != "no" and container.config.auto_remove:
        raise Conflict(
            "container",
            container.name,
            "its restart policy cannot change: it is removed when it exits (--rm)",
        )
    return replace(container.config, resources=resources, restart=restart)


def _online(path: str) -> str:
    try:
        return Path(path).read_text().strip() or "0"
    except OSError:
        return "0"


def _restoring(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``old`` limits, with what ``new`` sets and ``old`` leaves unset back
    at the kernel's defaults (no limit, every CPU and memory node)."""
    unset: dict[tuple[str, str], Any] = {
        ("memory", "limit"): -1,
        ("memory", "swap"): -1,
        ("memory", "reservation"): -1,
        ("cpu", "quota"): -1,
        ("cpu", "period"): CPU_PERIOD,
        ("cpu", "shares"): 1024,
        ("cpu", "cpus"): _online("/sys/devices/system/cpu/online"),
        ("cpu", "mems"): _online("/sys/devices/system/node/online"),
        ("pids", "limit"): -1,
    }
    restored = {section: dict(values) for section, values in old.items()}
    for section, values in new.items():
        for key in values:
            if key not in restored.get(section, {}) and (section, key) in unset:
                restored.setdefault(section, {})[key] = unset[section, key]
    return restored


def _run_update(core: Core, container: Container, limits: dict[str, Any]) -> None:
    import tempfile  # only updates need it; lifecycle's importers do not

    runtime = runtime_of(core.config, container)
    directory = ContainerPaths.of(core.config, container.id).spec.parent
    fd, path = tempfile.mkstemp(prefix="resources-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w") as file:
            json.dump(limits, file)
        runtime.run_sync(container.id, "update", "--resources", path, container.id)
    finally:
        os.unlink(path)


async def set_cgroup_limits(
    core: Core, container: Container, limits: dict[str, Any]
) -> None:
    """Give a running or paused container's cgroup ``limits`` (the OCI
    spec's ``linux.resources``), leaving its stored configuration alone: for
    callers that keep limits of their own (the CRI). Nothing for a container
    without a process."""
    container = await asyncio.to_thread(refresh, core, container)
    if container.state.is_active:
        await asyncio.to_thread(_run_update, core, container, limits)
