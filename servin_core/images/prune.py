"""Pruning images and collecting the content nothing references.

A blob is referenced when an image's manifest, config, layers or extra blobs
name it; a snapshot when an image's layers use it. What a live lease protects
is kept too: an operation in progress is writing it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from servin_core import log
from servin_core._dataclass import dataclass, field
from servin_core.errors import InvalidArgument
from servin_core.filters import PruneFilter, parse_time
from servin_core.images.inspect import config_of

if TYPE_CHECKING:
    from servin_core.core import Core
    from servin_core.images.store import Image

__all__ = ["PruneReport", "collect", "prune"]


@dataclass
class PruneReport:
    deleted: list[tuple[str, str]] = field(default_factory=list)
    """docker's ``("Untagged", name)`` and ``("Deleted", id)`` lines."""
    reclaimed: int = 0
    """Bytes freed in the content store and the snapshots."""


def referenced_blobs(core: Core) -> set[str]:
    rows = core.db.query(
        "SELECT id FROM images UNION SELECT manifest_digest FROM images"
        " UNION SELECT digest FROM image_layers UNION SELECT digest FROM image_blobs"
    )
    return {row[0] for row in rows}


def referenced_snapshots(core: Core) -> set[str]:
    """Snapshots of images, and those containers stack (even where their
    image was removed by force)."""
    rows = core.db.query("SELECT chain_id FROM image_layers")
    return {row[0] for row in rows} | core.containers.lowers_in_use()


def collect(
    core: Core,
    *,
    blobs: Iterable[str] | None = None,
    snapshots: Iterable[str] | None = None,
) -> int:
    """Remove the given blobs and snapshots (all, when None) that nothing
    references; returns the bytes freed."""
    freed = 0
    keep_blobs = referenced_blobs(core) | core.leases.protected("blob")
    candidates = core.content.digests() if blobs is None else blobs
    for digest in list(candidates):
        if digest in keep_blobs:
            continue
        path = core.content.path(digest)
        freed += _size(path)
        core.content.delete(digest)

    keep_snapshots = referenced_snapshots(core) | core.leases.protected("snapshot")
    chains = core.snapshots.chain_ids() if snapshots is None else snapshots
    for chain_id in list(chains):
        if chain_id in keep_snapshots:
            continue
        freed += core.snapshots.size(chain_id)
        core.snapshots.remove(chain_id)
    return freed


def prune(
    core: Core, *, all: bool = False, only: PruneFilter | None = None
) -> PruneReport:
    """Remove dangling images (no tag), or with ``all`` every image that no
    container uses, of those ``only`` selects (by the labels of the image's
    config and the time it was created); then collect the content they
    leave unreferenced."""
    report = PruneReport()
    for image in core.images.list():
        if image.tags and not all:
            continue
        if only is not None and not _selected(core, image, only):
            continue
        if core.images.holders(image.id):
            continue
        report.deleted += core.images.remove(image.id, force=True)
    report.reclaimed = collect(core)
    log.images.info(
        "pruned %d images, %d bytes",
        sum(1 for kind, _ in report.deleted if kind == "Deleted"),
        report.reclaimed,
    )
    return report


def _selected(core: Core, image: Image, only: PruneFilter) -> bool:
    labels: dict[str, str] = {}
    if only.reads_labels:
        labels = (config_of(core, image).get("config") or {}).get("Labels") or {}
    # An image whose config gives no time was created, for us, when added.
    try:
        created = parse_time(image.created or "", "created")
    except InvalidArgument:
        created = None
    return only.selects(labels, image.added_at if created is None else created)


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0
