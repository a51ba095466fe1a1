"""The volume operations every front end calls: create, get, list, remove,
prune.

A volume's row is written before its directory is made, and removed before
its directory goes, each under the volume's lock, so that a removal and a
container's first use of the same volume never interleave. A volume that
some container mounts (running or not) is not removed: the Conflict names
the container. The holder that removes a volume, or finds it missing,
deletes its lock file last (state/locks.py), so that run/locks does not keep
one file per volume ever made.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from servin_core import log
from servin_core.errors import Conflict, NotFound
from servin_core.filters import PruneFilter
from servin_core.state.locks import forget_lock, object_lock
from servin_core.volumes.local import LocalDriver
from servin_core.volumes.model import Volume, check_volume_name, new_anonymous_name
from servin_core.volumes.store import VolumeStore

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = [
    "create",
    "create_sync",
    "driver_of",
    "get",
    "list_volumes",
    "prune",
    "remove",
    "remove_locked",
    "remove_sync",
    "remove_unused",
    "store_of",
]


def store_of(core: Core) -> VolumeStore:
    return VolumeStore(core.db, core.events)


def driver_of(core: Core) -> LocalDriver:
    return LocalDriver(core.config.data_dir / "volumes")


def create_sync(
    core: Core,
    name: str | None = None,
    *,
    labels: dict[str, str] | None = None,
    options: dict[str, str] | None = None,
    driver: str = "local",
) -> Volume:
    """Make a volume; one that exists already is returned as it is, as
    docker does. Without a name, it gets a random one (but is not anonymous:
    only a container's own volumes are, as in docker)."""
    if driver != "local":
        raise NotFound("volume driver", driver, "only the local driver exists")
    name = new_anonymous_name() if name is None else check_volume_name(name)
    options = dict(options or {})
    LocalDriver.check_options(name, options)
    labels = dict(labels or {})

    store, local = store_of(core), driver_of(core)
    volume = Volume(name, time.time(), driver, labels, options)
    with object_lock(core.config.run_dir, "volume", name):
        with core.db.write() as conn:
            if store.exists(conn, name):
                existing = None
            else:
                store.add(conn, volume)
                existing = volume
        if existing is None:
            return store.get(name)
        try:
            local.make_new(name)
        except BaseException:
            with core.db.write() as conn:
                store.delete(conn, name)
            local.remove(name)
            forget_lock(core.config.run_dir, "volume", name)
            raise
    log.for_object(log.volumes, "volume", name).info("created")
    return volume


async def create(
    core: Core,
    name: str | None = None,
    *,
    labels: dict[str, str] | None = None,
    options: dict[str, str] | None = None,
) -> Volume:
    return await asyncio.to_thread(
        create_sync, core, name, labels=labels, options=options
    )


def get(core: Core, name: str) -> Volume:
    return store_of(core).get(name)


def list_volumes(core: Core) -> list[Volume]:
    return store_of(core).list()


def remove_sync(core: Core, name: str, *, force: bool = False) -> bool:
    """Remove volume ``name``; whether it existed (``force``: a missing
    volume is no error). A volume in use is never removed."""
    with object_lock(core.config.run_dir, "volume", name):
        return remove_locked(core, name, force=force)


def remove_locked(core: Core, name: str, *, force: bool = False) -> bool:
    """:func:`remove_sync` for a caller that holds the volume's lock. Once
    the volume is gone (or found missing) its lock file is deleted: the
    caller must do nothing more with the volume under that lock."""
    store = store_of(core)
    with core.db.write() as conn:
        exists = store.exists(conn, name)
        if exists:
            users = store.users(name, conn)
            if users:
                described = ", ".join(f"{n} ({i[:12]})" for i, n in users)
                raise Conflict(
                    "volume", name, f"volume is in use by container {described}"
                )
            store.delete(conn, name)
    if not exists:
        # Missing, or removed while we waited: the file is the one we made.
        forget_lock(core.config.run_dir, "volume", name)
        if force:
            return False
        raise NotFound("volume", name, "no such volume")
    driver_of(core).remove(name)
    forget_lock(core.config.run_dir, "volume", name)
    log.for_object(log.volumes, "volume", name).info("removed")
    return True


async def remove(core: Core, name: str, *, force: bool = False) -> bool:
    return await asyncio.to_thread(remove_sync, core, name, force=force)


def remove_unused(core: Core, names: list[str]) -> list[str]:
    """Remove those of ``names`` that exist and that no container uses
    (another container may share an anonymous volume: --volumes-from)."""
    removed = []
    for name in names:
        try:
            if remove_sync(core, name, force=True):
                removed.append(name)
        except Conflict:
            continue
    return removed


def _prune_sync(
    core: Core, everything: bool, only: PruneFilter | None
) -> list[tuple[str, int]]:
    store, local = store_of(core), driver_of(core)
    _remove_orphans(core)
    used = store.used()
    removed = []
    for volume in store.list():
        if volume.name in used or not (everything or volume.anonymous):
            continue
        if only is not None and not only.selects(volume.labels, volume.created):
            continue
        size = local.size(volume.name) if local.is_plain(volume) else 0
        try:
            if remove_sync(core, volume.name, force=True):
                removed.append((volume.name, size))
        except Conflict:
            continue  # taken into use since we looked
    return removed


def _remove_orphans(core: Core) -> None:
    """Remove directories that no volume row owns: a removal cut short
    between deleting the row and the directory."""
    store, local = store_of(core), driver_of(core)
    for name in local.names():
        with object_lock(core.config.run_dir, "volume", name):
            with core.db.read() as conn:
                orphan = not store.exists(conn, name)
            if orphan:
                local.remove(name)
                forget_lock(core.config.run_dir, "volume", name)
                log.for_object(log.volumes, "volume", name).info("removed orphan")


async def prune(
    core: Core, *, everything: bool = False, only: PruneFilter | None = None
) -> list[tuple[str, int]]:
    """Remove unused volumes: anonymous ones, or with ``everything`` named
    ones too (docker 23+), of those ``only`` selects by their labels;
    (name, bytes freed) of each."""
    return await asyncio.to_thread(_prune_sync, core, everything, only)
