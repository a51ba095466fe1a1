"""A new image from a container's changes (``docker commit``).

The container's upper directory becomes one more layer on top of its
image's layers, stored and unpacked through the same path as ``import``
(``store_layer`` then ``create_image``) under one lease: until the image's
rows are written nothing lists it, and a failure leaves no blob, snapshot or
row. The config is the image's, with the container's own settings (command,
environment, user, working directory, labels) as docker records them, then
``changes`` (Dockerfile instructions) applied last.

A running container is paused while its layer is written, as docker does by
default, so the layer is one consistent moment of its file system.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from servin_core import log
from servin_core.containers.commit_layer import mount_points, write_layer
from servin_core.containers.locked import run_locked
from servin_core.containers.model import Container, State
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.reconcile import reconcile_locked
from servin_core.containers.stop import pause_locked, unpause_locked
from servin_core.errors import InvalidArgument
from servin_core.images import mediatypes
from servin_core.images.changes import apply_changes
from servin_core.images.content import digest_of
from servin_core.images.create import create_image
from servin_core.images.importer import go_timestamp, store_layer
from servin_core.images.reference import parse_reference
from servin_core.images.store import Image

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["commit"]


async def commit(
    core: Core,
    text: str,
    reference: str | None = None,
    *,
    changes: Sequence[str] = (),
    message: str | None = None,
    author: str | None = None,
    pause: bool = True,
) -> Image:
    """Commit container ``text`` as an image, tagged ``reference`` if given."""
    tag = parse_reference(reference) if reference else None
    if tag is not None and tag.digest:
        raise InvalidArgument("reference", str(reference), "a commit is tagged")
    apply_changes(changes)  # bad instructions fail before any work

    with tempfile.TemporaryFile() as spool:
        container = await run_locked(
            core, text, lambda c: _write_layer(core, c, cast(BinaryIO, spool), pause)
        )
        spool.seek(0)
        base = core.images.get(container.image_id)
        base_config = json.loads(core.content.read(base.id))

        # A reader of its own: the layer store wraps anything else in one,
        # which would outlive this function unclosed.
        reader = open(spool.fileno(), "rb", closefd=False)  # noqa: SIM115
        with reader, core.leases.acquire() as lease:
            layer = await asyncio.to_thread(
                store_layer,
                core,
                lease,
                reader,
                f"container {container.short_id}",
                core.config.layer_compression_level,
            )
            config = _config(base_config, container, changes, message, author)
            config["rootfs"]["diff_ids"].append(layer.diff_id)
            config_bytes = json.dumps(config, separators=(",", ":")).encode()
            config_digest = digest_of(config_bytes)
            lease.add("blob", config_digest)
            core.content.put(config_bytes, config_digest)

            manifest = _manifest(base, layer, config_digest, len(config_bytes))
            image = await create_image(
                core,
                manifest,
                mediatypes.OCI_MANIFEST,
                lease=lease,
                tags=[tag] if tag else [],
                action="commit",
                reference=str(tag) if tag else "",
                unpacked=[lr.chain_id for lr in base.layers],
            )
    log.for_object(log.containers, "container", container.id).info(
        "committed as %s", image.id
    )
    return image


def _manifest(base: Image, layer: Any, config_digest: str, config_size: int) -> bytes:
    """An OCI manifest: the base image's layers, then the new one."""
    layers = [
        {"mediaType": lr.media_type, "digest": lr.digest, "size": lr.size}
        for lr in base.layers
    ]
    layers.append(
        {
            "mediaType": mediatypes.OCI_LAYER_GZIP,
            "digest": layer.digest,
            "size": layer.size,
        }
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {
            "mediaType": mediatypes.OCI_CONFIG,
            "digest": config_digest,
            "size": config_size,
        },
        "layers": layers,
    }
    return json.dumps(manifest, separators=(",", ":")).encode()


def _write_layer(
    core: Core, container: Container, out: BinaryIO, pause: bool
) -> Container:
    """The container's changes to ``out``, under its lock."""
    container = reconcile_locked(core, container)
    paths = ContainerPaths.of(core.config, container.id)
    paused = pause and container.state is State.RUNNING
    if paused:
        container = pause_locked(core, container)
    try:
        write_layer(paths.upper, out, mount_points(paths.spec))
    finally:
        if paused:
            container = unpause_locked(core, container)
    return container


def _config(
    base: dict[str, Any],
    container: Container,
    changes: Sequence[str],
    message: str | None,
    author: str | None,
) -> dict[str, Any]:
    """The image config: the base image's, the container's settings, then
    ``changes``; one more history entry for the new layer."""
    now = go_timestamp(datetime.now(UTC))
    settings = dict(base.get("config") or {})
    ours = container.config
    if ours.entrypoint is not None:
        settings["Entrypoint"] = ours.entrypoint or None
        settings["Cmd"] = ours.cmd
    elif ours.cmd is not None:
        settings["Cmd"] = ours.cmd
    if ours.env:
        names = {item.partition("=")[0] for item in ours.env}
        kept = [
            e for e in settings.get("Env") or [] if e.partition("=")[0] not in names
        ]
        settings["Env"] = kept + list(ours.env)
    if ours.user:
        settings["User"] = ours.user
    if ours.workdir:
        settings["WorkingDir"] = ours.workdir
    if ours.labels:
        settings["Labels"] = {**(settings.get("Labels") or {}), **ours.labels}

    config = {key: value for key, value in base.items() if key != "history"}
    config["created"] = now
    config["config"] = apply_changes(changes, settings)
    config["rootfs"] = {
        "type": "layers",
        "diff_ids": list(base.get("rootfs", {}).get("diff_ids") or []),
    }
    if author:
        config["author"] = author
    else:
        config.pop("author", None)
    entry: dict[str, Any] = {"created": now, "created_by": _command(container)}
    if message:
        entry["comment"] = message
    if author:
        entry["author"] = author
    config["history"] = [*(base.get("history") or []), entry]
    return config


def _command(container: Container) -> str:
    words = [*(container.config.entrypoint or []), *(container.config.cmd or [])]
    return " ".join(words)
