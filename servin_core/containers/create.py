"""Creating a container: a row and its directories, nothing running yet.

Everything that can be refused is refused before anything is made: the
image must exist, the command must be known, limits and capabilities must
be valid, the name free. The row is written first, then the directories;
if making them fails, the row goes again. The new container's lock is held
throughout, so that no other process takes its directories for orphans.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from typing import TYPE_CHECKING

from servin_core import log
from servin_core.containers.attachments import may_join_networks, may_use_volumes
from servin_core.containers.model import Container, ContainerConfig, State
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.runtime import select_runtime
from servin_core.containers.spec import check_config, command_of
from servin_core.containers.store import check_name, new_container_id
from servin_core.errors import InvalidArgument, Unavailable
from servin_core.images.inspect import config_of
from servin_core.state.locks import object_lock

if TYPE_CHECKING:
    from servin_core.core import Core
    from servin_core.network.plan import EndpointPlan
    from servin_core.volumes.attach import VolumeRequest

__all__ = ["create_sync", "generate_name"]

_ADJECTIVES = (
    "brave", "calm", "eager", "fervent", "gentle", "happy", "jolly", "keen",
    "lucid", "merry", "nifty", "proud", "quirky", "sharp", "tender", "vivid",
)  # fmt: skip
_NOUNS = (
    "archimedes", "babbage", "curie", "darwin", "euler", "feynman", "gauss",
    "hopper", "kepler", "lovelace", "noether", "pascal", "ritchie", "turing",
)  # fmt: skip


def _pick(words: tuple[str, ...]) -> str:
    # Not ``secrets.choice``: importing secrets (with hmac, base64 and
    # random) costs about 2 ms of every run, and a name need not be secret.
    return words[int.from_bytes(os.urandom(4)) % len(words)]


def generate_name(core: Core) -> str:
    """docker-style ``adjective_scientist``, with a suffix if it is taken."""
    while True:
        name = f"{_pick(_ADJECTIVES)}_{_pick(_NOUNS)}"
        if core.db.query_one("SELECT 1 FROM containers WHERE name = ?", (name,)):
            name += f"_{os.urandom(2).hex()}"
        if not core.db.query_one("SELECT 1 FROM containers WHERE name = ?", (name,)):
            return name


def create_sync(core: Core, config: ContainerConfig, name: str | None) -> Container:
    name = check_name(name) if name else generate_name(core)
    image = core.images.resolve(config.image)
    image_config = config_of(core, image).get("config") or {}
    # The volume and network modules are imported only for a container
    # that may have some (see attachments.py).
    volumes: list[VolumeRequest] = []
    if may_use_volumes(config, image_config):
        from servin_core.volumes.attach import requests_of
        from servin_core.volumes.inherit import inherit_volumes

        config = inherit_volumes(core, config)
        volumes = requests_of(config, image_config)
    if not command_of(config, image_config):
        raise InvalidArgument("container", name, "no command specified")
    check_config(config, name)
    networks: list[EndpointPlan] = []
    if may_join_networks(config):
        from servin_core.network.plan import pin_shared_network, plan_networks

        config = pin_shared_network(core, config)
        networks = plan_networks(core, config, name)
    runtime = select_runtime(core.config, config.runtime)

    container = Container(
        id=new_container_id(),
        name=name,
        image_id=image.id,
        image_name=config.image,
        created=time.time(),
        config=config,
        lowers=tuple(layer.chain_id for layer in reversed(image.layers)),
        runtime=runtime.name,
        state=State.CREATED,
    )
    paths = ContainerPaths.of(core.config, container.id)
    with (
        object_lock(core.config.run_dir, "container", container.id) as held,
        _volume_locks(core, volumes),
    ):
        try:
            with core.db.write() as conn:
                core.containers.add(conn, container)
                made = _record_volumes(core, conn, container.id, volumes)
                if networks:
                    from servin_core.network.plan import add_endpoints

                    add_endpoints(core, conn, container.id, networks)
        except BaseException:
            held.forget()  # no row was written (a name taken): nothing to guard
            raise
        try:
            paths.data.mkdir(parents=True, mode=0o700)
            paths.upper.mkdir()
            paths.work.mkdir()
            paths.rootfs.mkdir()
            if made:
                from servin_core.volumes.attach import make_directories

                make_directories(core, made)
        except BaseException as e:
            shutil.rmtree(paths.data, ignore_errors=True)
            with core.db.write() as conn:
                core.containers.delete(conn, container)
            if made:
                from servin_core.volumes.attach import forget_made

                forget_made(core, made)
            # Still held here: the file goes with the row it guarded.
            held.forget()
            if isinstance(e, OSError):
                reason = f"cannot make its directories: {e}"
                raise Unavailable("container", name, reason) from e
            raise
    log.for_object(log.containers, "container", container.id).info(
        "created %s from %s", name, image.id
    )
    return container


def _volume_locks(
    core: Core, requests: list[VolumeRequest]
) -> contextlib.AbstractContextManager[None]:
    if not requests:
        return contextlib.nullcontext()
    from servin_core.volumes.attach import volume_locks

    return volume_locks(core, requests)


def _record_volumes(
    core: Core,
    conn: sqlite3.Connection,
    container_id: str,
    requests: list[VolumeRequest],
) -> list[str]:
    """The volumes' rows, in the caller's transaction; the names of the
    volumes made for them."""
    if not requests:
        return []
    from servin_core.volumes.attach import record

    return record(core, conn, container_id, requests)
