"""Removing containers: one (``rm``, ``rm -f``) or every stopped one (prune).

A running container is removed only with force, which kills it first.
Everything the container had goes in reverse order of making it: its run
(runtime container, conmon, cgroups, mount), its row (and with it the hold
on its image), then its directories. The row goes before the directories:
a removal cut short leaves directories without a row, which the next
Servin process recognises as orphans and removes (:func:`remove_orphans`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
from typing import TYPE_CHECKING

from servin_core import log
from servin_core.containers.attachments import image_config_of, may_use_volumes
from servin_core.containers.model import Container, State
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.reconcile import (
    collect_exit,
    reconcile_locked,
    release_resources,
)
from servin_core.containers.rootfs import unmount_rootfs
from servin_core.containers.stop import kill_locked
from servin_core.errors import Conflict, ServinError
from servin_core.state.locks import forget_lock, try_object_lock

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["is_stopped", "remove_locked", "remove_orphans"]

_ID = r"[0-9a-f]{64}"  # compiled on first use (re caches it)


def remove_locked(
    core: Core, container: Container, *, force: bool, volumes: bool = False
) -> Container:
    """Remove ``container`` (its lock held); with ``volumes``, or for a
    ``--rm`` container, its anonymous volumes too (docker's ``rm -v``)."""
    container = reconcile_locked(core, container)
    if not container.state.can_remove(force=force):
        raise Conflict(
            "container",
            container.name,
            f"cannot remove a container that is {container.state}: stop the"
            " container before removing or force remove",
        )
    if container.state.is_active:
        container = kill_locked(core, container, signal.SIGKILL)
        if container.state.is_active:
            container = collect_exit(core, container)

    release_resources(core, container)
    paths = ContainerPaths.of(core.config, container.id)
    anonymous = []
    if (volumes or container.config.auto_remove) and _may_have_volumes(core, container):
        # Imported here: every command that opens a core with containers
        # imports this module for remove_orphans.
        from servin_core.volumes.attach import anonymous_volumes

        anonymous = anonymous_volumes(core, container.id)
    with core.db.write() as conn:
        core.containers.delete(conn, container)
    _remove_files(paths)
    forget_lock(core.config.run_dir, "container", container.id)
    if anonymous:
        from servin_core.volumes.operations import remove_unused

        remove_unused(core, anonymous)
    log.for_object(log.containers, "container", container.id).info("removed")
    return container


def _may_have_volumes(core: Core, container: Container) -> bool:
    """Whether ``container`` may hold anonymous volumes (see attachments.py);
    True when its image's configuration cannot be read."""
    if container.config.mounts or container.config.volumes_from:
        return True
    try:
        image_config = image_config_of(core, container)
    except (ServinError, OSError, ValueError):
        return True
    return may_use_volumes(container.config, image_config)


def _remove_files(paths: ContainerPaths) -> None:
    # Never remove through a mounted root: that would write whiteouts.
    unmount_rootfs(paths)
    shutil.rmtree(paths.run, ignore_errors=True)
    shutil.rmtree(paths.data, ignore_errors=True)


def remove_orphans(core: Core) -> int:
    """Remove container directories that no row owns (a removal cut short)."""
    removed = 0
    known = {row[0] for row in core.db.query("SELECT id FROM containers")}
    config = core.config
    for base in (config.data_dir / "containers", config.run_dir / "containers"):
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(base):
                if entry.name in known or not re.fullmatch(_ID, entry.name):
                    continue
                if _remove_orphan(core, entry.name):
                    removed += 1
    return removed


def _remove_orphan(core: Core, container_id: str) -> bool:
    # A create in progress holds the lock on its new ID until its row and
    # directories both exist.
    with try_object_lock(core.config.run_dir, "container", container_id) as locked:
        if not locked or core.db.query_one(
            "SELECT 1 FROM containers WHERE id = ?", (container_id,)
        ):
            return False
        _remove_files(ContainerPaths.of(core.config, container_id))
        forget_lock(core.config.run_dir, "container", container_id)
        return True


def is_stopped(container: Container) -> bool:
    return container.state in (State.CREATED, State.EXITED, State.DEAD)
