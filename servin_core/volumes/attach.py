"""A container's volumes: bound at create, prepared at start, released at
removal.

At create, every volume the container mounts is named: ``-v NAME:/path``
and ``--mount type=volume,source=NAME`` name theirs (made if missing),
``-v /path`` and the image's ``VOLUME`` declarations get new anonymous
ones. A ``container_volumes`` row per volume is written in the same
transaction as the container's row, so a failed create leaves neither.

At each start the volumes' directories are made if they went, and a volume
still marked for copy-up is filled from the image if it is empty (docker's
rule), under the volume's lock; then it is mounted by the runtime.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from servin_core import log
from servin_core._dataclass import dataclass, field
from servin_core.errors import NotFound
from servin_core.state.locks import object_lock
from servin_core.volumes.copyup import copy_up, is_empty
from servin_core.volumes.local import LocalDriver
from servin_core.volumes.model import (
    ANONYMOUS_LABEL,
    Volume,
    check_volume_name,
    new_anonymous_name,
)
from servin_core.volumes.operations import (
    driver_of,
    remove_locked,
    remove_sync,
    store_of,
)
from servin_core.volumes.store import Binding

if TYPE_CHECKING:
    from pathlib import Path

    from servin_core.containers.model import Container, ContainerConfig
    from servin_core.core import Core

__all__ = [
    "VolumeRequest",
    "anonymous_volumes",
    "fill",
    "forget_made",
    "make_directories",
    "prepare",
    "record",
    "requests_of",
    "volume_locks",
]


@dataclass(frozen=True, slots=True)
class VolumeRequest:
    """A volume a new container mounts."""

    name: str
    target: str
    anonymous: bool
    copy_up: bool
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    """Driver options, for a volume the create makes."""


def requests_of(config: ContainerConfig, image: dict[str, Any]) -> list[VolumeRequest]:
    """The volumes ``config`` mounts, with the image's declared ones that no
    mount of the config covers; names checked, anonymous ones named."""
    requests = []
    for mount in config.mounts:
        if mount.type != "volume":
            continue
        anonymous = not mount.source
        name = new_anonymous_name() if anonymous else check_volume_name(mount.source)
        options = _pairs(mount.volume_options)
        LocalDriver.check_options(mount.source or mount.target, options)
        requests.append(
            VolumeRequest(
                name,
                mount.target,
                anonymous,
                "nocopy" not in mount.options,
                _pairs(mount.volume_labels),
                options,
            )
        )

    taken = {mount.target for mount in config.mounts}
    for target in sorted(image.get("Volumes") or {}):
        normalized = "/" + target.strip("/")
        if normalized != "/" and normalized not in taken:
            taken.add(normalized)
            requests.append(VolumeRequest(new_anonymous_name(), normalized, True, True))
    return requests


def record(
    core: Core,
    conn: sqlite3.Connection,
    container_id: str,
    requests: list[VolumeRequest],
) -> list[str]:
    """Write the volumes and the container's bindings in the transaction
    ``conn``; the names of the volumes this made."""
    store = store_of(core)
    made = []
    now = time.time()
    for request in requests:
        if not store.exists(conn, request.name):
            labels = {ANONYMOUS_LABEL: ""} if request.anonymous else {}
            volume = Volume(
                request.name,
                now,
                labels=labels | request.labels,
                options=request.options,
                anonymous=request.anonymous,
            )
            store.add(conn, volume)
            made.append(request.name)
        store.bind(
            conn, Binding(container_id, request.name, request.target, request.copy_up)
        )
    return made


@contextlib.contextmanager
def volume_locks(core: Core, requests: list[VolumeRequest]) -> Iterator[None]:
    """Hold the locks of the named volumes a create mounts, in name order,
    from before their rows are written until their directories are made. A
    create that fails leaves no lock file of a volume it would have made."""
    with contextlib.ExitStack() as stack:
        held = {
            name: stack.enter_context(object_lock(core.config.run_dir, "volume", name))
            for name in sorted({r.name for r in requests if not r.anonymous})
        }
        try:
            yield
        except BaseException:
            store = store_of(core)
            for name, lock in held.items():
                try:
                    store.get(name)
                except NotFound:
                    lock.forget()
            raise


def make_directories(core: Core, names: list[str]) -> None:
    """Make the directories of the volumes a create made (the caller holds
    :func:`volume_locks`; anonymous names are new)."""
    driver = driver_of(core)
    for name in names:
        driver.make_new(name)


def forget_made(core: Core, names: list[str]) -> None:
    """Undo :func:`record` for a create that failed after it (the caller
    holds :func:`volume_locks`): the volumes it made go."""
    store = store_of(core)
    for name in names:
        try:
            anonymous = store.get(name).anonymous
        except NotFound:
            continue
        if anonymous:
            # Not among volume_locks (no one else knew its name), but only
            # a holder may delete its lock file, as the removal does.
            remove_sync(core, name, force=True)
        else:
            remove_locked(core, name, force=True)


def anonymous_volumes(core: Core, container_id: str) -> list[str]:
    """The anonymous volumes the container mounts (``rm -v`` removes them)."""
    store = store_of(core)
    return [
        binding.volume
        for binding in store.bindings(container_id)
        if store.get(binding.volume).anonymous
    ]


def fill(core: Core, container: Container, rootfs: Path) -> list[tuple[str, Volume]]:
    """Make the directories of the container's volumes and fill those still
    marked for copy-up, if empty, from the root at ``rootfs`` (at the first
    start, or a ``cp`` before it); (mount point, volume) of each."""
    store, driver = store_of(core), driver_of(core)
    logger = log.for_object(log.volumes, "container", container.id)
    found = []
    for binding in store.bindings(container.id):
        volume = store.get(binding.volume)
        found.append((binding.target, volume))
        if not driver.is_plain(volume):
            # TODO: a volume with driver options (a tmpfs, a device) is not
            # filled from the image: it is mounted only inside the container,
            # by the runtime; filling it needs a host mount of it first.
            continue
        with object_lock(core.config.run_dir, "volume", volume.name):
            data = driver.make(volume.name)
            if binding.copy_up:
                if is_empty(data) and copy_up(rootfs, binding.target, data):
                    logger.info("filled volume %s from the image", volume.name)
                store.copied(container.id, binding.target)
    return found


def prepare(core: Core, container: Container, rootfs: Path) -> list[dict[str, Any]]:
    """The runtime spec's mounts of the container's volumes, :func:`fill`ed;
    missing ``-v`` bind sources are made (as docker makes them)."""
    for bind in container.config.mounts:
        if bind.type == "bind" and bind.create_source:
            os.makedirs(bind.source, mode=0o755, exist_ok=True)
    own = {m.target: m for m in container.config.mounts if m.type == "volume"}

    driver = driver_of(core)
    mounts, events = [], []
    for target, volume in fill(core, container, rootfs):
        mount = own.get(target)
        propagation = _propagation(mount.options if mount else ())
        read_only = mount is not None and mount.read_only
        mounts.append(
            driver.oci_mount(
                volume, target, [propagation, *(["ro"] if read_only else [])]
            )
        )
        events.append(
            {"name": volume.name, "destination": target, "propagation": propagation,
             "read/write": str(not read_only).lower()}
        )  # fmt: skip
    if events:
        store_of(core).mounted(container.id, events)
    return mounts


def _pairs(texts: tuple[str, ...]) -> dict[str, str]:
    return {key: value for key, _, value in (t.partition("=") for t in texts)}


def _propagation(options: tuple[str, ...] | list[str]) -> str:
    for option in options:
        if option.lstrip("r") in ("shared", "slave", "private"):
            return option
    return "rprivate"
